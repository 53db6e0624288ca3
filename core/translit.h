/* civreg core: transliteration of names into Latin A-Z, per ICAO Doc 9303
 * Part 3 section 6 ("Transliterations recommended for use by States"). One
 * table for the whole program: the MRZ (issuance/icao/mrz.c), the registry's
 * name keys and search, and the data page all fold names through it. */
#ifndef CIVREG_CORE_TRANSLIT_H
#define CIVREG_CORE_TRANSLIT_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

/* The MRZ form of one name (primary or secondary identifier): A-Z with '<'
 * between name components, per Doc 9303-3 section 6 (Latin multi-letter
 * forms, other accented letters to their base letter through Unicode
 * decomposition, Cyrillic and Arabic tables; apostrophes dropped; spaces and
 * hyphens to '<'). Appends to OUT (possibly nothing, when the name has no
 * letters); WARNINGS (may be NULL) gets one line per transliterated or
 * replaced character. Fails on invalid UTF-8. No truncation here. */
int translit_mrz(const char *utf8, size_t len, struct buf *out, struct buf *warnings,
                 struct err *err) __attribute__((warn_unused_result));

/* translit_mrz with every warning line starting "PREFIX: " (PREFIX may be
 * NULL). */
int translit_mrz_field(const char *utf8, size_t len, const char *prefix, struct buf *out,
                       struct buf *warnings, struct err *err) __attribute__((warn_unused_result));

/* 1 when the transliteration table is strictly sorted (for the tests). */
int translit_table_sorted(void);

#endif
