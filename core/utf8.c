#include "utf8.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unictype.h>
#include <uniname.h>
#include <uninorm.h>
#include <unistr.h>

bool utf8_valid(const char *s, size_t len)
{
    return u8_check((const uint8_t *)s, len) == NULL;
}

int utf8_normalize(const char *s, size_t len, enum utf8_form form, char **out, size_t *outlen,
                   struct err *err)
{
    uninorm_t nf;
    uint8_t *r, *z;
    size_t rlen = 0;

    *out = NULL;
    if (!utf8_valid(s, len))
        return err_set(err, "utf-8: invalid byte sequence");
    if (memchr(s, '\0', len) != NULL)
        return err_set(err, "utf-8: embedded NUL character");
    switch (form) {
    case UTF8_NFC: nf = UNINORM_NFC; break;
    case UTF8_NFD: nf = UNINORM_NFD; break;
    case UTF8_NFKC: nf = UNINORM_NFKC; break;
    case UTF8_NFKD: nf = UNINORM_NFKD; break;
    default: return err_set(err, "utf-8: unknown normalization form");
    }
    r = u8_normalize(nf, (const uint8_t *)s, len, NULL, &rlen);
    if (r == NULL && len > 0)
        return err_set(err, "utf-8: normalization failed (%s)", strerror(errno));
    z = realloc(r, rlen + 1);
    if (z == NULL) {
        free(r);
        return err_set(err, "utf-8: out of memory");
    }
    z[rlen] = '\0';
    *out = (char *)z;
    if (outlen)
        *outlen = rlen;
    return 0;
}

int utf8_decode(const char *s, size_t len, uint32_t *cp)
{
    ucs4_t uc;
    int n;

    if (len == 0)
        return -1;
    n = u8_mbtoucr(&uc, (const uint8_t *)s, len);
    if (n < 0)
        return -1;
    *cp = uc;
    return n;
}

int utf8_encode(uint32_t cp, char out[4])
{
    return u8_uctomb((uint8_t *)out, cp, 4);
}

size_t utf8_length(const char *s, size_t len)
{
    return u8_mbsnlen((const uint8_t *)s, len);
}

int utf8_check_printable(const char *s, size_t len, struct err *err)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + len;
    char name[UNINAME_MAX];
    ucs4_t cp;
    int n;

    if (!utf8_valid(s, len))
        return err_set(err, "utf-8: invalid byte sequence");
    while (p < end) {
        n = u8_mbtouc(&cp, p, (size_t)(end - p));
        if (n <= 0)
            return err_set(err, "utf-8: invalid byte sequence");
        p += n;
        if (cp == 0x200c || cp == 0x200d)
            continue;
        if (uc_is_general_category(cp, UC_CONTROL)) /* C0, DEL, C1 */
            return err_set(err, "U+%04X: a control character, not allowed in text",
                           (unsigned)cp);
        if (uc_is_general_category(cp, UC_FORMAT) ||
            uc_is_general_category(cp, UC_LINE_SEPARATOR) ||
            uc_is_general_category(cp, UC_PARAGRAPH_SEPARATOR))
            return err_set(err, "U+%04X %s: an invisible formatting character, not allowed in "
                                "text",
                           (unsigned)cp, unicode_character_name(cp, name) ? name : "");
    }
    return 0;
}
