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

/* Whether the LEN bytes of valid UTF-8 are text a person's name, a place
 * or an address may hold when printed on a certificate or a data page:
 * no control characters (C0, DEL, C1), no line or paragraph separators,
 * and no invisible format characters (general category Cf), among them the
 * bidirectional controls U+061C, U+200E-U+200F, U+202A-U+202E and
 * U+2066-U+2069 that reorder what is displayed (Unicode TR #36 §2.1; the
 * "Trojan Source" trick), zero-width spaces and tags. ZERO WIDTH NON-JOINER
 * and ZERO WIDTH JOINER (U+200C, U+200D) stay: Persian and Indic spellings
 * need them. Fails naming the character: "U+202E RIGHT-TO-LEFT OVERRIDE: an
 * invisible formatting character, not allowed in text". */
int utf8_check_printable(const char *s, size_t len, struct err *err)
    __attribute__((warn_unused_result));

/* Decode one code point at S (LEN bytes left). Returns the number of bytes
 * consumed (1-4), or -1 on malformed input. */
int utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Encode CP into OUT (4 bytes). Returns the byte count, or -1. */
int utf8_encode(uint32_t cp, char out[4]);

/* Number of code points in a valid UTF-8 string. */
size_t utf8_length(const char *s, size_t len);

#endif
