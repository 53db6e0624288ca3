/* civreg core: hex and base64url (RFC 4648 §5, no padding) codecs. */
#ifndef CIVREG_CORE_ENCODE_H
#define CIVREG_CORE_ENCODE_H

#include <stddef.h>

#include "err.h"

/* Lowercase hex of LEN bytes into OUT, which must hold 2*LEN+1 bytes.
 * Returns OUT. */
char *hex_encode(const void *p, size_t len, char *out);

/* Same, newly allocated (free() it); NULL when out of memory. */
char *hex_encode_alloc(const void *p, size_t len);

/* Decode SLEN hex characters (either case) into OUT (at most OUTMAX bytes).
 * Returns 0 and sets *OUTLEN, or -1 on odd length, bad digit or overflow. */
int hex_decode(const char *s, size_t slen, unsigned char *out, size_t outmax, size_t *outlen,
               struct err *err);

/* base64url without padding; returns a malloc'd NUL-terminated string or NULL. */
char *b64url_encode(const void *p, size_t len);

/* Decode base64url (padding tolerated) into a malloc'd buffer of at most MAX
 * bytes. Returns 0, or -1 with a message. */
int b64url_decode(const char *s, size_t slen, size_t max, unsigned char **out, size_t *outlen,
                  struct err *err);

/* Standard base64 (RFC 4648 §4, padded), for PEM-like and MIME uses. */
char *b64_encode(const void *p, size_t len);
int b64_decode(const char *s, size_t slen, size_t max, unsigned char **out, size_t *outlen,
               struct err *err);

#endif
