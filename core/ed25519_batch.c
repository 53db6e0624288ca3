/* civreg core: Ed25519 batch verification (see ed25519_batch.h).
 * Placeholder: each item checked alone with libsodium until the batch
 * equation lands. */
#include <sodium.h>

#include "ed25519_batch.h"

bool ed25519_verify_one(const unsigned char *pk, const unsigned char *sig, const void *msg,
                        size_t len)
{
    return crypto_sign_verify_detached(sig, msg, len, pk) == 0;
}

bool ed25519_batch_verify(const struct ed_batch_item *items, size_t n, bool *ok)
{
    bool all = true;

    for (size_t i = 0; i < n; i++) {
        bool v = ed25519_verify_one(items[i].pk, items[i].sig, items[i].msg, items[i].len);
        if (ok)
            ok[i] = v;
        all = all && v;
    }
    return all;
}
