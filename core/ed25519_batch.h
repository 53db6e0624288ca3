/* civreg core: Ed25519 signatures verified in batches.
 *
 * RFC 8032 section 5.1.7 accepts a signature (R, S) of message M under key A
 * when [8][S]B = [8]R + [8][k]A, k = SHA-512(R || A || M) mod L, and notes
 * that the check without the factor 8 is "sufficient, but not required". A
 * batch of N signatures is checked at once with random 128-bit weights z_i:
 *
 *     [8]( sum z_i R_i  +  sum_A (sum_{i signed by A} z_i k_i) A
 *          - (sum z_i S_i) B ) = identity
 *
 * one multi-scalar multiplication instead of N double multiplications. A
 * batch with one invalid signature passes with probability below 2^-128.
 * When a batch fails, every item is checked alone (the same equation with
 * z = 1) so that the caller learns which ones are valid.
 *
 * The encodings are checked as libsodium's crypto_sign_verify_detached
 * checks them: S below L; R and A canonical and not of small order. The one
 * difference from libsodium is the factor 8 (RFC 8032's cofactored check):
 * a signature for which [S]B - [k]A - R is a non-zero point of small order
 * passes here and fails there. No signer following RFC 8032 makes one; only
 * the holder of the private key of A could (see docs/architecture.md). */
#ifndef CIVREG_CORE_ED25519_BATCH_H
#define CIVREG_CORE_ED25519_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#define ED_BATCH_PK_BYTES 32
#define ED_BATCH_SIG_BYTES 64
/* Items checked in one equation; a longer array is cut into batches of this. */
#define ED_BATCH_MAX 64

struct ed_batch_item {
    const unsigned char *pk;  /* ED_BATCH_PK_BYTES */
    const unsigned char *sig; /* ED_BATCH_SIG_BYTES: R || S */
    const void *msg;
    size_t len;
};

/* Check the signatures of ITEMS[0..N). Returns true when every one is valid.
 * OK, when not NULL, receives N verdicts (all true when the result is true).
 * Never fails for lack of memory (without its 200 KiB of heap every item is
 * checked alone, on the stack). Thread-safe. */
bool ed25519_batch_verify(const struct ed_batch_item *items, size_t n, bool *ok);

/* One signature, by the same equation (a batch of one). */
bool ed25519_verify_one(const unsigned char *pk, const unsigned char *sig, const void *msg,
                        size_t len);

#endif
