#include "secret.h"

#include <sodium.h>
#include <string.h>

int secret_init(struct err *err)
{
    if (sodium_init() < 0)
        return err_set(err, "libsodium: initialisation failed");
    return 0;
}

void secret_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0)
        sodium_memzero(p, len);
}

bool secret_equal(const void *a, const void *b, size_t len)
{
    return sodium_memcmp(a, b, len) == 0;
}

bool secret_equal_str(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char ha[crypto_generichash_BYTES], hb[crypto_generichash_BYTES];
    bool same;

    /* Compare fixed-size digests so the comparison time does not reveal the
     * position of the first difference; the length check is folded in. */
    crypto_generichash(ha, sizeof ha, (const unsigned char *)a, la, NULL, 0);
    crypto_generichash(hb, sizeof hb, (const unsigned char *)b, lb, NULL, 0);
    same = sodium_memcmp(ha, hb, sizeof ha) == 0;
    return same && la == lb;
}

void secret_random(void *p, size_t len)
{
    randombytes_buf(p, len);
}

unsigned secret_random_below(unsigned upper)
{
    return upper ? randombytes_uniform(upper) : 0;
}
