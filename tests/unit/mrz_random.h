/* civreg tests: random valid MRZ records (names in several scripts, real
 * codes, random dates and numbers), shared by the property test and the
 * check against the npm mrz package. Deterministic for a given seed. */
#ifndef CIVREG_TEST_MRZ_RANDOM_H
#define CIVREG_TEST_MRZ_RANDOM_H

#include <stdbool.h>
#include <stdint.h>

#include "issuance/icao/mrz.h"

struct mrz_random {
    struct mrz_input in;
    char document_code[3], issuing_state[4], nationality[4];
    char primary[256], secondary[256];
    char document_number[32], optional_data[32], optional_data_2[16];
    char sex;
};

/* Only what the npm mrz package understands: TD1/TD2/TD3, ISO 3166 codes,
 * sex M/F/<. */
#define MRZ_RANDOM_NPM 1

/* Fill R with a random valid record for TODAY; *SEED is a xorshift state. */
void mrz_random_record(struct mrz_random *r, uint64_t *seed, const struct mrz_date *today, int flags);

/* The date DAYS after 1970-01-01. */
void mrz_days_to_date(long days, struct mrz_date *d);

#endif
