/* civreg issuance: helpers shared between the MRZ files (not API). */
#ifndef CIVREG_ISSUANCE_MRZ_INT_H
#define CIVREG_ISSUANCE_MRZ_INT_H

#include "core/buf.h"
#include "core/err.h"

/* mrz_transliterate with every warning line starting "PREFIX: " (PREFIX may
 * be NULL). */
int mrz_translit_field(const char *utf8, size_t len, const char *prefix, struct buf *out,
                       struct buf *warnings, struct err *err) __attribute__((warn_unused_result));

/* 1 when the transliteration table is strictly sorted (for the tests). */
int mrz_translit_table_sorted(void);

#endif
