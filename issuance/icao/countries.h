/* civreg issuance: codes of issuing states, nationalities and organizations
 * that an MRZ may carry (ISO 3166-1 alpha-3 plus ICAO Doc 9303 Part 3's own
 * codes; the table and its sources are in countries.c). All returned
 * pointers are to static data and never freed. */
#ifndef CIVREG_ISSUANCE_COUNTRIES_H
#define CIVREG_ISSUANCE_COUNTRIES_H

#include <stddef.h>

enum mrz_code_kind {
    MRZ_CODE_ISO,      /* ISO 3166-1 alpha-3 */
    MRZ_CODE_ICAO,     /* Doc 9303 Part 3 code outside ISO 3166 (D, GBD, UNO, XXA, ...) */
    MRZ_CODE_SPECIMEN, /* UTO, the fictitious state of the Doc 9303 specimens */
};

struct mrz_country {
    const char *code; /* "UTO", "D", "GBD": without MRZ filler */
    enum mrz_code_kind kind;
    const char *name;
};

/* The entry for CODE (1 to 3 letters, no filler), or NULL when unknown. */
const struct mrz_country *mrz_country_find(const char *code);

/* Walk the whole table (sorted by code): entries 0 .. mrz_country_count()-1;
 * NULL past the end. */
size_t mrz_country_count(void);
const struct mrz_country *mrz_country_at(size_t i);

#endif
