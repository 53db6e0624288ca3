/* Fuzz target: Ed25519 batch verification (core/ed25519_batch.c) on a
 * hostile key, signature and message (input: key (32) || signature (64) ||
 * message). Whatever libsodium accepts must be accepted, alone and inside a
 * batch beside a valid signature, whose verdict must not change; a batch's
 * verdict on the item must be its verdict alone. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/ed25519_batch.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned char good_pk[32], good_sig[64];
    static const unsigned char good_msg[] = "civreg fuzz";
    static int ready;
    struct ed_batch_item items[2];
    bool ok[2], alone;

    if (!ready) {
        unsigned char seed[32] = { 1 }, sk[64];
        if (sodium_init() < 0)
            abort();
        crypto_sign_seed_keypair(good_pk, sk, seed);
        crypto_sign_detached(good_sig, NULL, good_msg, sizeof good_msg, sk);
        ready = 1;
    }
    if (size < 96 || size > 4096)
        return 0;
    alone = ed25519_verify_one(data, data + 32, data + 96, size - 96);
    if (crypto_sign_verify_detached(data + 32, data + 96, size - 96, data) == 0 && !alone)
        abort();
    items[0] = (struct ed_batch_item){ data, data + 32, data + 96, size - 96 };
    items[1] = (struct ed_batch_item){ good_pk, good_sig, good_msg, sizeof good_msg };
    if (ed25519_batch_verify(items, 2, ok) != alone || ok[0] != alone || !ok[1])
        abort();
    return 0;
}
