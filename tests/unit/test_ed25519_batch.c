/* Unit tests for core/ed25519_batch.c: RFC 8032's test vectors, agreement
 * with libsodium on valid and altered signatures, batches of every size and
 * key mix, the encodings libsodium refuses, and the one documented
 * difference (RFC 8032's cofactored check). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/ed25519_batch.h"
#include "core/encode.h"
#include "support/cmocka_main.h"

/* Signed messages: N items over KEYS keys, messages of varied lengths. */
struct signed_set {
    size_t n;
    unsigned char pk[8][32];
    unsigned char (*sig)[64];
    unsigned char (*msg)[200];
    struct ed_batch_item *items;
    bool *ok;
};

static void set_make(struct signed_set *s, size_t n, unsigned keys)
{
    unsigned char sk[8][64];

    s->n = n;
    s->sig = calloc(n ? n : 1, sizeof *s->sig);
    s->msg = calloc(n ? n : 1, sizeof *s->msg);
    s->items = calloc(n ? n : 1, sizeof *s->items);
    s->ok = calloc(n ? n : 1, sizeof *s->ok);
    assert_non_null(s->sig);
    assert_non_null(s->msg);
    assert_non_null(s->items);
    assert_non_null(s->ok);
    for (unsigned k = 0; k < keys; k++)
        crypto_sign_keypair(s->pk[k], sk[k]);
    for (size_t i = 0; i < n; i++) {
        const unsigned k = (unsigned)(i * 7 % keys);
        const size_t len = i * 37 % sizeof s->msg[i];
        randombytes_buf(s->msg[i], len);
        crypto_sign_detached(s->sig[i], NULL, s->msg[i], len, sk[k]);
        s->items[i] = (struct ed_batch_item){ s->pk[k], s->sig[i], s->msg[i], len };
    }
    sodium_memzero(sk, sizeof sk);
}

static void set_free(struct signed_set *s)
{
    free(s->sig);
    free(s->msg);
    free(s->items);
    free(s->ok);
}

static void hex_to(const char *hex, unsigned char *out, size_t n)
{
    size_t got = 0;

    assert_int_equal(hex_decode(hex, strlen(hex), out, n, &got, NULL), 0);
    assert_int_equal(got, n);
}

/* RFC 8032 section 7.1, tests 1-3: libsodium derives the same keys and
 * signatures from the secret keys, and the verifier accepts them alone and
 * together, and refuses each with its message changed. */
static void test_rfc8032_vectors(void **state)
{
    static const char *const v[3][4] = {
        { "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
          "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
          "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
          "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
        { "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
          "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
          "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
          "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
        { "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
          "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
          "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
          "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a" },
    };
    unsigned char seed[32], pk[3][32], sk[64], mine_pk[32], sig[3][64], mine_sig[64], msg[3][2];
    struct ed_batch_item items[3];
    bool ok[3];

    (void)state;
    for (int i = 0; i < 3; i++) {
        const size_t len = strlen(v[i][2]) / 2;
        hex_to(v[i][0], seed, 32);
        hex_to(v[i][1], pk[i], 32);
        if (len)
            hex_to(v[i][2], msg[i], len);
        hex_to(v[i][3], sig[i], 64);
        crypto_sign_seed_keypair(mine_pk, sk, seed);
        assert_memory_equal(mine_pk, pk[i], 32);
        crypto_sign_detached(mine_sig, NULL, msg[i], len, sk);
        assert_memory_equal(mine_sig, sig[i], 64);
        assert_true(ed25519_verify_one(pk[i], sig[i], msg[i], len));
        items[i] = (struct ed_batch_item){ pk[i], sig[i], msg[i], len };
    }
    assert_true(ed25519_batch_verify(items, 3, ok));
    assert_true(ok[0] && ok[1] && ok[2]);
    msg[2][1] ^= 1;
    assert_false(ed25519_verify_one(pk[2], sig[2], msg[2], 2));
    assert_false(ed25519_batch_verify(items, 3, ok));
    assert_true(ok[0] && ok[1]);
    assert_false(ok[2]);
    sodium_memzero(sk, sizeof sk);
}

/* Batches of every size around ED_BATCH_MAX, one key or several: all valid. */
static void test_batches_valid(void **state)
{
    static const size_t sizes[] = { 0, 1, 2, 3, 63, 64, 65, 128, 150 };
    static const unsigned keys[] = { 1, 2, 5, 8 };

    (void)state;
    for (size_t a = 0; a < sizeof sizes / sizeof sizes[0]; a++)
        for (size_t b = 0; b < sizeof keys / sizeof keys[0]; b++) {
            struct signed_set s;
            set_make(&s, sizes[a], keys[b]);
            assert_true(ed25519_batch_verify(s.items, s.n, s.ok));
            for (size_t i = 0; i < s.n; i++)
                assert_true(s.ok[i]);
            assert_true(ed25519_batch_verify(s.items, s.n, NULL));
            set_free(&s);
        }
}

/* One byte changed anywhere (message, R, S, key) in one item of a full batch:
 * the batch fails and names exactly that item, as libsodium judges it. */
static void test_batch_names_the_altered(void **state)
{
    struct signed_set s;
    unsigned char other_pk[32];

    (void)state;
    set_make(&s, 150, 3);
    for (int round = 0; round < 40; round++) {
        const size_t i = (size_t)randombytes_uniform((uint32_t)s.n);
        const int where = round % 4;
        unsigned char *byte;
        if (where == 0 && s.items[i].len == 0)
            continue;
        if (where == 0)
            byte = &s.msg[i][randombytes_uniform((uint32_t)s.items[i].len)];
        else if (where == 1)
            byte = &s.sig[i][randombytes_uniform(32)];
        else if (where == 2)
            byte = &s.sig[i][32 + randombytes_uniform(32)];
        else {
            memcpy(other_pk, s.items[i].pk, 32);
            other_pk[randombytes_uniform(32)] ^= 0x20;
            s.items[i].pk = other_pk;
            byte = NULL;
        }
        if (byte)
            *byte ^= (unsigned char)(1u << randombytes_uniform(8));
        assert_false(ed25519_batch_verify(s.items, s.n, s.ok));
        for (size_t j = 0; j < s.n; j++) {
            const bool sodium = crypto_sign_verify_detached(s.items[j].sig, s.items[j].msg,
                                                            s.items[j].len, s.items[j].pk) == 0;
            assert_int_equal(s.ok[j], j != i);
            assert_int_equal(s.ok[j], sodium);
        }
        set_free(&s); /* a fresh set for the next round */
        set_make(&s, 150, 3);
    }
    set_free(&s);
}

/* Encodings libsodium refuses are refused here too: S not below L, R or the
 * key of small order, a y coordinate not below p, no point at all. */
static void test_encodings_refused(void **state)
{
    /* L, little-endian */
    static const unsigned char L[32] = { 0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
                                         0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                                         [31] = 0x10 };
    unsigned char pk[32], sk[64], sig[64], bad[64], bad_pk[32], msg[10] = "civreg";
    unsigned carry = 0;
    struct ed_batch_item items[2];
    bool ok[2];

    (void)state;
    crypto_sign_keypair(pk, sk);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
    assert_true(ed25519_verify_one(pk, sig, msg, sizeof msg));
    /* S + L: the same point, a non-canonical scalar */
    memcpy(bad, sig, 64);
    for (int i = 0; i < 32; i++) {
        unsigned t = bad[32 + i] + L[i] + carry;
        bad[32 + i] = (unsigned char)t;
        carry = t >> 8;
    }
    assert_int_not_equal(crypto_sign_verify_detached(bad, msg, sizeof msg, pk), 0);
    assert_false(ed25519_verify_one(pk, bad, msg, sizeof msg));
    /* R the identity (small order), S = k * a would be needed: any S */
    memcpy(bad, sig, 64);
    memset(bad, 0, 32);
    bad[0] = 1;
    assert_false(ed25519_verify_one(pk, bad, msg, sizeof msg));
    /* R with y = p + 1 (non-canonical identity) */
    memset(bad, 0xff, 32);
    bad[0] = 0xee;
    bad[31] = 0x7f;
    assert_false(ed25519_verify_one(pk, bad, msg, sizeof msg));
    /* a key of small order (the identity), and one with y = p */
    memset(bad_pk, 0, 32);
    bad_pk[0] = 1;
    assert_false(ed25519_verify_one(bad_pk, sig, msg, sizeof msg));
    memset(bad_pk, 0xff, 32);
    bad_pk[0] = 0xed;
    bad_pk[31] = 0x7f;
    assert_false(ed25519_verify_one(bad_pk, sig, msg, sizeof msg));
    /* y = 2 is on no point of the curve (checked against libsodium) */
    memset(bad_pk, 0, 32);
    bad_pk[0] = 2;
    assert_int_equal(crypto_core_ed25519_is_valid_point(bad_pk), 0);
    assert_false(ed25519_verify_one(bad_pk, sig, msg, sizeof msg));
    /* in a batch: the malformed item refused, the other accepted */
    items[0] = (struct ed_batch_item){ pk, sig, msg, sizeof msg };
    items[1] = (struct ed_batch_item){ bad_pk, sig, msg, sizeof msg };
    assert_false(ed25519_batch_verify(items, 2, ok));
    assert_true(ok[0]);
    assert_false(ok[1]);
    sodium_memzero(sk, sizeof sk);
}

/* Random bytes as signatures and keys: the verdicts match libsodium's (none
 * valid), and a valid one among them is still found. */
static void test_random_agrees(void **state)
{
    unsigned char pk[32], sig[64], msg[32];

    (void)state;
    for (int i = 0; i < 300; i++) {
        randombytes_buf(pk, sizeof pk);
        randombytes_buf(sig, sizeof sig);
        randombytes_buf(msg, sizeof msg);
        if (i % 2)
            sig[63] &= 0x0f; /* S below L: the point checks are reached */
        assert_int_equal(ed25519_verify_one(pk, sig, msg, sizeof msg),
                         crypto_sign_verify_detached(sig, msg, sizeof msg, pk) == 0);
    }
}

/* The one difference from libsodium, as documented: R' = R + T with T of
 * order 8 and S computed for R' ([S]B - [k]A - R' = -T). Only the key's
 * holder can make it; libsodium refuses it, RFC 8032's cofactored check
 * (this one) accepts it. With T the identity both accept (the construction
 * itself is right). */
static void test_cofactored_difference(void **state)
{
    static const char order8[] =
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a";
    unsigned char pk[32], sk[64], h[64], a[32], r[32], R[32], T[32], sig[64], k[32], ka[32];
    const unsigned char msg[] = "birth record";
    crypto_hash_sha512_state hs;

    (void)state;
    crypto_sign_keypair(pk, sk);
    crypto_hash_sha512(h, sk, 32); /* the secret scalar: SHA-512 of the seed, clamped */
    h[0] &= 248;
    h[31] &= 127;
    h[31] |= 64;
    memcpy(a, h, 32);
    crypto_core_ed25519_scalar_random(r);
    assert_int_equal(crypto_scalarmult_ed25519_base_noclamp(R, r), 0);
    hex_to(order8, T, 32);
    for (int with_t = 0; with_t < 2; with_t++) {
        if (with_t)
            assert_int_equal(crypto_core_ed25519_add(sig, R, T), 0);
        else
            memcpy(sig, R, 32);
        crypto_hash_sha512_init(&hs);
        crypto_hash_sha512_update(&hs, sig, 32);
        crypto_hash_sha512_update(&hs, pk, 32);
        crypto_hash_sha512_update(&hs, msg, sizeof msg);
        crypto_hash_sha512_final(&hs, h);
        crypto_core_ed25519_scalar_reduce(k, h);
        crypto_core_ed25519_scalar_mul(ka, k, a);
        crypto_core_ed25519_scalar_add(sig + 32, r, ka);
        assert_int_equal(crypto_sign_verify_detached(sig, msg, sizeof msg, pk) == 0, !with_t);
        assert_true(ed25519_verify_one(pk, sig, msg, sizeof msg));
    }
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(a, sizeof a);
    sodium_memzero(r, sizeof r);
}

CMOCKA_MAIN_WITH((.group = "ed25519_batch", .secret = 1), test_rfc8032_vectors,
                 test_batches_valid, test_batch_names_the_altered, test_encodings_refused,
                 test_random_agrees, test_cofactored_difference)
