#include "encode.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char hexdigits[] = "0123456789abcdef";

char *hex_encode(const void *p, size_t len, char *out)
{
    const unsigned char *in = p;

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hexdigits[in[i] >> 4];
        out[2 * i + 1] = hexdigits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
    return out;
}

char *hex_encode_alloc(const void *p, size_t len)
{
    char *out;

    if (len > (SIZE_MAX - 1) / 2)
        return NULL;
    out = malloc(2 * len + 1);
    if (out == NULL)
        return NULL;
    return hex_encode(p, len, out);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hex_decode(const char *s, size_t slen, unsigned char *out, size_t outmax, size_t *outlen,
               struct err *err)
{
    if (slen % 2 != 0)
        return err_set(err, "hex: odd number of digits (%zu)", slen);
    if (slen / 2 > outmax)
        return err_set(err, "hex: value longer than %zu bytes", outmax);
    for (size_t i = 0; i < slen; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            return err_set(err, "hex: invalid digit at position %zu", hi < 0 ? i : i + 1);
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    if (outlen)
        *outlen = slen / 2;
    return 0;
}

static char *b64_encode_variant(const void *p, size_t len, int variant)
{
    size_t n;
    char *out;

    if (len > SIZE_MAX / 2)
        return NULL;
    n = sodium_base64_encoded_len(len, variant);
    out = malloc(n);
    if (out == NULL)
        return NULL;
    sodium_bin2base64(out, n, p, len, variant);
    return out;
}

static int b64_decode_variant(const char *s, size_t slen, size_t max, unsigned char **out,
                              size_t *outlen, struct err *err, int variant, const char *name)
{
    size_t cap = slen / 4 * 3 + 3, got = 0;
    const char *end = NULL;
    unsigned char *p;

    *out = NULL;
    if (cap > max + 3)
        return err_set(err, "%s: value longer than %zu bytes", name, max);
    p = malloc(cap ? cap : 1);
    if (p == NULL)
        return err_set(err, "%s: out of memory", name);
    if (sodium_base642bin(p, cap, s, slen, NULL, &got, &end, variant) != 0 || end != s + slen) {
        free(p);
        return err_set(err, "%s: invalid encoding at position %zu", name,
                       end ? (size_t)(end - s) : (size_t)0);
    }
    if (got > max) {
        free(p);
        return err_set(err, "%s: value longer than %zu bytes", name, max);
    }
    *out = p;
    *outlen = got;
    return 0;
}

char *b64url_encode(const void *p, size_t len)
{
    return b64_encode_variant(p, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int b64url_decode(const char *s, size_t slen, size_t max, unsigned char **out, size_t *outlen,
                  struct err *err)
{
    /* Padding is optional in base64url (RFC 4648 §5); strip it. */
    while (slen > 0 && s[slen - 1] == '=')
        slen--;
    return b64_decode_variant(s, slen, max, out, outlen, err,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING, "base64url");
}

char *b64_encode(const void *p, size_t len)
{
    return b64_encode_variant(p, len, sodium_base64_VARIANT_ORIGINAL);
}

int b64_decode(const char *s, size_t slen, size_t max, unsigned char **out, size_t *outlen,
               struct err *err)
{
    return b64_decode_variant(s, slen, max, out, outlen, err, sodium_base64_VARIANT_ORIGINAL,
                              "base64");
}
