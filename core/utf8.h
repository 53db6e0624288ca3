/* civreg core: UTF-8 validation and Unicode normalization (through
 * libunistring; no hand-written tables). */
#ifndef CIVREG_CORE_UTF8_H
#define CIVREG_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum utf8_form { UTF8_NFC, UTF8_NFD, UTF8_NFKC, UTF8_NFKD };

/* True when the LEN bytes are well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF). */
bool utf8_valid(const char *s, size_t len);

/* Normalize LEN bytes of UTF-8 into FORM. *OUT is a malloc'd NUL-terminated
 * string the caller frees; *OUTLEN (may be NULL) its length. Fails on invalid
 * UTF-8 or embedded NUL. */
int utf8_normalize(const char *s, size_t len, enum utf8_form form, char **out, size_t *outlen,
                   struct err *err) __attribute__((warn_unused_result));

/* Decode one code point at S (LEN bytes left). Returns the number of bytes
 * consumed (1-4), or -1 on malformed input. */
int utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Encode CP into OUT (4 bytes). Returns the byte count, or -1. */
int utf8_encode(uint32_t cp, char out[4]);

/* Number of code points in a valid UTF-8 string. */
size_t utf8_length(const char *s, size_t len);

#endif
