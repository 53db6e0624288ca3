/* civreg issuance: machine-readable zones of ICAO Doc 9303 travel documents
 * (Parts 3-7): TD1, TD2, TD3 (passports), MRV-A and MRV-B (visas).
 *
 * Generation builds the MRZ lines from a holder's data (names in UTF-8 are
 * transliterated per Part 3 section 6 and truncated per Part 3 section 4.6);
 * the strict parser reads MRZ lines back into fields and reports every
 * problem per field with its line and column. Results go into the caller's
 * struct buf / json_t / structs (struct mrz_result is fixed-size, nothing to
 * free); temporary allocations are freed before returning. Thread-safe: no
 * global mutable state.
 */
#ifndef CIVREG_ISSUANCE_MRZ_H
#define CIVREG_ISSUANCE_MRZ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

enum mrz_format { MRZ_TD1, MRZ_TD2, MRZ_TD3, MRZ_MRVA, MRZ_MRVB };

/* "TD1", "TD2", "TD3", "MRV-A", "MRV-B". */
const char *mrz_format_name(enum mrz_format f);
/* Parse one of those names. Returns 0, or -1 with a message. */
int mrz_format_parse(const char *name, enum mrz_format *f, struct err *err);
/* Lines and characters per line of a format (3 x 30, 2 x 36, 2 x 44). */
int mrz_format_lines(enum mrz_format f);
int mrz_format_width(enum mrz_format f);

/* Longest MRZ text: TD1, 3 x 30 characters and 2 line breaks. */
#define MRZ_TEXT_MAX 92

struct mrz_date {
    int year, month, day; /* all 0 when absent or unreadable */
};

/* Doc 9303-3 section 4.9: the check digit of LEN characters of [0-9A-Z<]
 * (weights 7, 3, 1; '<' = 0, A-Z = 10-35; sum mod 10). Returns '0'..'9', or
 * -1 when S holds any other character. */
int mrz_check_digit(const char *s, size_t len);

/* What to generate. Strings are UTF-8 owned by the caller; NULL = absent.
 * Names may use any script the transliteration covers; codes, numbers and
 * optional data must already be MRZ characters ([A-Z0-9], '<' as filler). */
struct mrz_input {
    enum mrz_format format;
    const char *document_code;        /* "P", "PO", "I", "ID", "V", ... */
    const char *issuing_state;        /* "UTO", "D", ... (no filler needed) */
    const char *primary_identifier;   /* required */
    const char *secondary_identifier; /* may be NULL or "" */
    const char *document_number;      /* up to 9, longer only in TD1/TD2 */
    const char *nationality;
    struct mrz_date date_of_birth;
    char sex;                         /* 'F', 'M', 'X' or '<' (unspecified) */
    struct mrz_date date_of_expiry;
    const char *optional_data;        /* TD3: personal number */
    const char *optional_data_2;      /* TD1 line 2 only */
};

/* Generate the MRZ of IN. LINES gets the lines joined by '\n' (no trailing
 * newline); WARNINGS (may be NULL) gets one line per warning
 * ("secondary_identifier: transliterated 'í' (U+00ED) as I", "...: truncated
 * ..."). TODAY (may be NULL = today UTC) is the reference for the birth date
 * (never in the future) and the century windows. Returns 0, or -1 with a
 * message naming the field ("document_number: ..."); nothing is then
 * appended to LINES (LINES is only written once every field is valid). */
int mrz_generate(const struct mrz_input *in, const struct mrz_date *today, struct buf *lines,
                 struct buf *warnings, struct err *err) __attribute__((warn_unused_result));

/* The same from the JSON object of `civreg mrz generate`:
 * {"format","document_code","issuing_state","primary_identifier",
 *  "secondary_identifier","document_number","nationality","date_of_birth"
 *  (YYYY-MM-DD),"sex","date_of_expiry","optional_data","optional_data_2"}.
 * Unknown members are an error. INPUT is borrowed. */
int mrz_generate_json(const json_t *input, struct buf *lines, struct buf *warnings,
                      struct err *err) __attribute__((warn_unused_result));

/* Fields read from an MRZ: fixed-size values, fillers removed (names with
 * spaces between components). A check digit is '\0' when the format has no
 * such digit. */
struct mrz_fields {
    char document_code[3];
    char issuing_state[4];
    char primary_identifier[45];
    char secondary_identifier[45];
    char document_number[32];
    char nationality[4];
    struct mrz_date date_of_birth;
    char sex; /* 'F', 'M', 'X', '<' */
    struct mrz_date date_of_expiry;
    char optional_data[32];
    char optional_data_2[16];
    char document_number_check, date_of_birth_check, date_of_expiry_check;
    char optional_data_check; /* TD3 only */
    char composite_check;     /* TD1, TD2, TD3 */
};

/* One check digit as read and as computed. */
struct mrz_check {
    const char *field; /* "document_number", ..., "composite" (static) */
    char expected;     /* computed ('0'..'9', or '<' for an empty TD3
                          personal number); '?' when not computable */
    char found;
    bool valid;
};

/* One problem, located: LINE and COLUMN are 1-based. */
struct mrz_error {
    const char *field; /* "document_number", "line", ... (static) */
    int line, column;
    char message[128];
};

#define MRZ_ERRORS_MAX 48

struct mrz_result {
    enum mrz_format format;
    bool valid; /* no errors at all */
    struct mrz_fields fields;
    struct mrz_check checks[5];
    size_t nchecks;
    struct mrz_error errors[MRZ_ERRORS_MAX];
    size_t nerrors;      /* errors kept in ERRORS */
    size_t nerrors_lost; /* further errors past MRZ_ERRORS_MAX */
};

/* Parse MRZ text (lines separated by '\n' or "\r\n", surrounding white
 * space and blank lines ignored; one line holding all characters, as in
 * DG1, is also accepted). Returns 0 when the text has the shape of an MRZ:
 * RES is filled and RES->valid tells whether it passed every check. Returns
 * -1 when it is not an MRZ at all (ERR says why). TODAY may be NULL (today
 * UTC): birth dates take the century that keeps them in the past, expiry
 * dates the one within 50 years of TODAY's year. Never reads past LEN. */
int mrz_parse(const char *text, size_t len, const struct mrz_date *today, struct mrz_result *res,
              struct err *err) __attribute__((warn_unused_result));

/* RES as the JSON of `civreg mrz parse`: {"format","valid","fields",
 * "checks","errors"}. *OUT is a new reference. */
int mrz_result_json(const struct mrz_result *res, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

#endif
