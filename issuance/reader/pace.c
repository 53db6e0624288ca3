/* civreg issuance/reader: PACE with the generic mapping over ECDH (ICAO Doc
 * 9303-11 §4.4): password key, nonce, mapping G' = s*G + H, ephemeral
 * key agreement on G', session keys and authentication tokens. The elliptic
 * curve arithmetic is OpenSSL's; the worked example of Appendix G.1 is
 * reproduced by tests/unit/test_reader.c. */
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <string.h>

#include "core/secret.h"
#include "issuance/icao/icao.h"
#include "reader.h"
#include "reader_int.h"

/* id-PACE-ECDH-GM-AES-CBC-CMAC-128: 0.4.0.127.0.7.2.2.4.2.2 */
const unsigned char pace_oid_ecdh_gm_aes128[PACE_OID_ECDH_GM_AES128_LEN] = {
    0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, 0x02, 0x02
};
/* id-PACE-ECDH-IM-AES-CBC-CMAC-128: 0.4.0.127.0.7.2.2.4.4.2 */
const unsigned char pace_oid_ecdh_im_aes128[PACE_OID_ECDH_GM_AES128_LEN] = {
    0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, 0x04, 0x02
};

struct pace_ec {
    EC_GROUP *group;
    EC_POINT *gen; /* G, then G' after the mapping */
    BIGNUM *sk;    /* the current private key */
    BN_CTX *bn;
    size_t flen;   /* field size in bytes */
};

int pace_kpi(const char *password, bool mrz, unsigned char kpi[16], struct err *err)
{
    unsigned char k[20];
    const unsigned char *sec = (const unsigned char *)password;
    size_t len = strlen(password);
    int rc;

    if (mrz) { /* K = SHA-1(MRZ information) */
        if (EVP_Digest(password, len, k, NULL, EVP_sha1(), NULL) != 1)
            return err_set(err, "pace: SHA-1 failed");
        sec = k;
        len = 20;
    }
    rc = sm_kdf(SM_AES128, sec, len, 3, kpi, err);
    secret_wipe(k, sizeof k);
    return rc;
}

int pace_ec_new(int param_id, struct pace_ec **out, struct err *err)
{
    int nid;

    param_id &= ~RD_PACE_IM;
    nid = param_id == 12 ? NID_X9_62_prime256v1 : param_id == 13 ? NID_brainpoolP256r1 : 0;
    struct pace_ec *p;

    *out = NULL;
    if (nid == 0)
        return err_set(err, "pace: standardized domain parameter %d is not supported (12 P-256, "
                            "13 brainpoolP256r1)", param_id);
    p = calloc(1, sizeof *p);
    if (p == NULL || (p->group = EC_GROUP_new_by_curve_name(nid)) == NULL ||
        (p->gen = EC_POINT_dup(EC_GROUP_get0_generator(p->group), p->group)) == NULL ||
        (p->bn = BN_CTX_new()) == NULL) {
        pace_ec_free(p);
        return err_set(err, "pace: out of memory");
    }
    p->flen = ((size_t)EC_GROUP_get_degree(p->group) + 7) / 8;
    *out = p;
    return 0;
}

void pace_ec_free(struct pace_ec *p)
{
    if (p == NULL)
        return;
    EC_POINT_free(p->gen);
    EC_GROUP_free(p->group);
    BN_clear_free(p->sk);
    BN_CTX_free(p->bn);
    free(p);
}

int pace_ec_keypair(struct pace_ec *p, const char *sk_hex, unsigned char *pub, size_t *pub_len,
                    struct err *err)
{
    const BIGNUM *order = EC_GROUP_get0_order(p->group);
    EC_POINT *q = EC_POINT_new(p->group);
    size_t n;
    int rc = -1;

    BN_clear_free(p->sk);
    p->sk = BN_new();
    if (q == NULL || p->sk == NULL)
        goto out;
    if (sk_hex) {
        if (BN_hex2bn(&p->sk, sk_hex) == 0)
            goto out;
    } else {
        do {
            if (BN_priv_rand_range(p->sk, order) != 1)
                goto out;
        } while (BN_is_zero(p->sk));
    }
    if (EC_POINT_mul(p->group, q, NULL, p->gen, p->sk, p->bn) != 1)
        goto out;
    n = EC_POINT_point2oct(p->group, q, POINT_CONVERSION_UNCOMPRESSED, pub, PACE_PT_MAX, p->bn);
    if (n == 0)
        goto out;
    *pub_len = n;
    rc = 0;
out:
    EC_POINT_free(q);
    return rc == 0 ? 0 : err_set(err, "pace: generating a key pair failed");
}

/* Decode a peer's point: on the curve, not infinity, uncompressed. */
static EC_POINT *peer_point(struct pace_ec *p, const unsigned char *pk, size_t len)
{
    EC_POINT *q;
    if (len != 1 + 2 * p->flen || pk[0] != 0x04)
        return NULL;
    q = EC_POINT_new(p->group);
    if (q && (EC_POINT_oct2point(p->group, q, pk, len, p->bn) != 1 ||
              EC_POINT_is_at_infinity(p->group, q) || EC_POINT_is_on_curve(p->group, q, p->bn) != 1)) {
        EC_POINT_free(q);
        return NULL;
    }
    return q;
}

/* Our secret key times the peer's public point PK_OTHER (the product both
 * sides of a Diffie-Hellman exchange compute): 0 with *OUT a new point, or
 * -1 with "pace: the WHAT public key is not a point of the curve" or
 * "pace: FAILED" in ERR (also when the product is the point at infinity). */
static int times_secret(struct pace_ec *p, const unsigned char *pk_other, size_t pk_len,
                        const char *what, const char *failed, EC_POINT **out, struct err *err)
{
    EC_POINT *peer = peer_point(p, pk_other, pk_len), *k;

    *out = NULL;
    if (peer == NULL)
        return err_set(err, "pace: the %s public key is not a point of the curve", what);
    k = EC_POINT_new(p->group);
    if (!k || !p->sk || EC_POINT_mul(p->group, k, NULL, peer, p->sk, p->bn) != 1 ||
        EC_POINT_is_at_infinity(p->group, k)) {
        EC_POINT_free(k);
        k = NULL;
    }
    EC_POINT_free(peer);
    if (k == NULL)
        return err_set(err, "pace: %s", failed);
    *out = k;
    return 0;
}

int pace_ec_map(struct pace_ec *p, const unsigned char *s, size_t slen,
                const unsigned char *pk_other, size_t pk_len, struct err *err)
{
    EC_POINT *h = NULL, *g2 = NULL;
    BIGNUM *bs = NULL;
    int rc = -1;

    if (times_secret(p, pk_other, pk_len, "mapping", "the generic mapping failed", &h, err) != 0)
        return -1;
    bs = BN_bin2bn(s, (int)slen, NULL);
    g2 = EC_POINT_new(p->group);
    if (!bs || !g2 || EC_POINT_mul(p->group, g2, bs, h, BN_value_one(), p->bn) != 1 ||
        EC_POINT_is_at_infinity(p->group, g2)) {
        err_set(err, "pace: the generic mapping failed");
        goto out;
    }
    /* G' = s*G + H: EC_POINT_mul(g2, bs, h, 1) computes bs*G + 1*H */
    EC_POINT_free(p->gen);
    p->gen = g2;
    g2 = NULL;
    rc = 0;
out:
    EC_POINT_free(h);
    EC_POINT_free(g2);
    BN_clear_free(bs);
    return rc;
}

int pace_ec_shared(struct pace_ec *p, const unsigned char *pk_other, size_t pk_len,
                   unsigned char *out, size_t *out_len, struct err *err)
{
    EC_POINT *k = NULL;
    BIGNUM *x = NULL;
    int rc;

    if (times_secret(p, pk_other, pk_len, "ephemeral", "the key agreement failed", &k, err) != 0)
        return -1;
    x = BN_new();
    rc = x && EC_POINT_get_affine_coordinates(p->group, k, x, NULL, p->bn) == 1 &&
                 BN_bn2binpad(x, out, (int)p->flen) == (int)p->flen
             ? 0
             : err_set(err, "pace: the key agreement failed");
    if (rc == 0)
        *out_len = p->flen;
    EC_POINT_free(k);
    BN_clear_free(x);
    return rc;
}

int pace_token(bool im, const unsigned char kmac[16], const unsigned char *pk_other, size_t pk_len,
               unsigned char token[8], struct err *err)
{
    struct buf t = BUF_INIT(512);
    struct sm_ctx c;
    unsigned char zero[16] = { 0 };
    int rc = -1;

    if (tlv_put(&t, 0x06, im ? pace_oid_ecdh_im_aes128 : pace_oid_ecdh_gm_aes128,
                sizeof pace_oid_ecdh_gm_aes128, err) != 0 ||
        tlv_put(&t, 0x86, pk_other, pk_len, err) != 0 || tlv_wrap(&t, 0, 0x7F49, err) != 0)
        goto out;
    sm_init(&c, SM_AES128, zero, kmac, NULL, 0);
    rc = sm_mac(&c, t.data, t.len, token, err);
    sm_wipe(&c);
out:
    buf_release(&t);
    return rc;
}

int pace_card_access(int param_id, struct buf *out, struct err *err)
{
    size_t from = out->len;
    bool im = (param_id & RD_PACE_IM) != 0;
    param_id &= ~RD_PACE_IM;
    if (tlv_put(out, 0x06, im ? pace_oid_ecdh_im_aes128 : pace_oid_ecdh_gm_aes128,
                sizeof pace_oid_ecdh_gm_aes128, err) != 0 ||
        tlv_put_uint(out, 2, err) != 0 || tlv_put_uint(out, (unsigned long)param_id, err) != 0 ||
        tlv_wrap(out, from, 0x30, err) != 0 || tlv_wrap(out, from, 0x31, err) != 0)
        return -1;
    return 0;
}

int pace_card_access_parse(const unsigned char *p, size_t len, int *param_id, struct err *err)
{
    struct tlv set, info;
    struct tlv_iter it;
    int r, im_found = 0;

    if (tlv_decode_whole(p, len, &set, err) != 0 || set.tag != 0x31)
        return err_set(err, "pace: EF.CardAccess is not a SET of SecurityInfos");
    tlv_iter_init(&it, set.value, set.len);
    while ((r = tlv_iter_next(&it, &info, err)) == 1) {
        struct tlv_iter f;
        struct tlv oid, ver, pid;
        unsigned long v, id;
        bool gm, im;
        if (info.tag != 0x30)
            continue;
        tlv_iter_init(&f, info.value, info.len);
        if (tlv_iter_next(&f, &oid, err) != 1 || oid.tag != 0x06 ||
            oid.len != sizeof pace_oid_ecdh_gm_aes128)
            continue;
        gm = memcmp(oid.value, pace_oid_ecdh_gm_aes128, oid.len) == 0;
        im = memcmp(oid.value, pace_oid_ecdh_im_aes128, oid.len) == 0;
        if (!gm && !im)
            continue;
        if (tlv_iter_next(&f, &ver, err) != 1 || ver.tag != 0x02 || tlv_get_uint(&ver, &v, err) != 0 ||
            v != 2 || tlv_iter_next(&f, &pid, err) != 1 || pid.tag != 0x02 ||
            tlv_get_uint(&pid, &id, err) != 0)
            return err_set(err, "pace: malformed PACEInfo in EF.CardAccess");
        if (id != 12 && id != 13)
            continue;
        if (gm) { /* the generic mapping when offered */
            *param_id = (int)id;
            return 0;
        }
        if (im_found == 0)
            im_found = (int)id | RD_PACE_IM;
    }
    if (r < 0)
        return -1;
    if (im_found) {
        *param_id = im_found;
        return 0;
    }
    return 1;
}

int rd_card_access_pace(int param_id, struct buf *out, struct err *err)
{
    int id = param_id & ~RD_PACE_IM;
    if ((id != 12 && id != 13) || (param_id & ~(RD_PACE_IM | 0xFF)) != 0)
        return err_set(err, "pace: parameter id %d is not supported (12 P-256, 13 "
                            "brainpoolP256r1)", param_id);
    return pace_card_access(param_id, out, err);
}

/* One AES-128 block: OUT = E_KEY(IN). */
static int aes_block(const unsigned char key[16], const unsigned char in[16], unsigned char out[16])
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int l1 = 0, l2 = 0, ok;
    ok = x != NULL && EVP_EncryptInit_ex(x, EVP_aes_128_ecb(), NULL, key, NULL) == 1 &&
         EVP_CIPHER_CTX_set_padding(x, 0) == 1 && EVP_EncryptUpdate(x, out, &l1, in, 16) == 1 &&
         EVP_EncryptFinal_ex(x, out + l1, &l2) == 1 && l1 + l2 == 16;
    EVP_CIPHER_CTX_free(x);
    return ok ? 0 : -1;
}

int pace_im_prf(const unsigned char s[16], const unsigned char t[16], size_t n,
                unsigned char *out, struct err *err)
{
    /* the constants c0 and c1 for a 128-bit block (Doc 9303-11 §4.4.3.3.2) */
    static const unsigned char c0[16] = { 0xa6, 0x68, 0x89, 0x2a, 0x7c, 0x41, 0xe3, 0xca,
                                          0x73, 0x9f, 0x40, 0xb0, 0x57, 0xd8, 0x59, 0x04 };
    static const unsigned char c1[16] = { 0xa4, 0xe1, 0x36, 0xac, 0x72, 0x5f, 0x73, 0x8b,
                                          0x01, 0xc1, 0xf6, 0x02, 0x17, 0xc1, 0x88, 0xad };
    unsigned char key[16], next[16];
    size_t i;
    int rc = 0;

    /* key_1 = E(t, s); key_{i+1} = E(key_i, c0); x_i = E(key_i, c1) */
    if (aes_block(t, s, key) != 0)
        rc = -1;
    for (i = 0; rc == 0 && i < n; i++) {
        if (aes_block(key, c0, next) != 0 || aes_block(key, c1, out + 16 * i) != 0)
            rc = -1;
        memcpy(key, next, sizeof key);
    }
    secret_wipe(key, sizeof key);
    secret_wipe(next, sizeof next);
    return rc == 0 ? 0 : err_set(err, "pace: AES failed in the integrated mapping");
}

/* f_G: the point encoding of Doc 9303-11 Appendix B (simplified SWU for
 * p = 3 mod 4; cofactor 1 on the curves supported here). */
static EC_POINT *point_encode(struct pace_ec *p, const BIGNUM *t)
{
    BN_CTX *c = p->bn;
    BIGNUM *pr, *a, *b, *alpha, *w, *tmp, *x2, *x3, *h2, *u, *e, *A, *y;
    EC_POINT *g = NULL;
    bool ok = false;

    BN_CTX_start(c);
    pr = BN_CTX_get(c), a = BN_CTX_get(c), b = BN_CTX_get(c), alpha = BN_CTX_get(c);
    w = BN_CTX_get(c), tmp = BN_CTX_get(c), x2 = BN_CTX_get(c), x3 = BN_CTX_get(c);
    h2 = BN_CTX_get(c), u = BN_CTX_get(c), e = BN_CTX_get(c), A = BN_CTX_get(c);
    y = BN_CTX_get(c);
    if (y == NULL || EC_GROUP_get_curve(p->group, pr, a, b, c) != 1 || BN_mod_word(pr, 4) != 3 ||
        !BN_is_one(EC_GROUP_get0_cofactor(p->group)))
        goto out;
    /* alpha = -t^2; w = alpha^2 + alpha */
    if (BN_mod_sqr(tmp, t, pr, c) != 1 || BN_mod_sub(alpha, pr, tmp, pr, c) != 1 ||
        BN_mod_sqr(w, alpha, pr, c) != 1 || BN_mod_add(w, w, alpha, pr, c) != 1 || BN_is_zero(w))
        goto out;
    /* X2 = -b (1 + w) / (a w); X3 = alpha X2 */
    if (BN_mod_mul(tmp, a, w, pr, c) != 1 || BN_mod_inverse(tmp, tmp, pr, c) == NULL ||
        BN_add_word(w, 1) != 1 || BN_mod_mul(tmp, tmp, w, pr, c) != 1 ||
        BN_mod_mul(tmp, tmp, b, pr, c) != 1 || BN_mod_sub(x2, pr, tmp, pr, c) != 1 ||
        BN_mod_mul(x3, alpha, x2, pr, c) != 1)
        goto out;
    /* h2 = X2^3 + a X2 + b; U = t^3 h2 */
    if (BN_mod_sqr(tmp, x2, pr, c) != 1 || BN_mod_add(tmp, tmp, a, pr, c) != 1 ||
        BN_mod_mul(tmp, tmp, x2, pr, c) != 1 || BN_mod_add(h2, tmp, b, pr, c) != 1 ||
        BN_mod_sqr(tmp, t, pr, c) != 1 || BN_mod_mul(tmp, tmp, t, pr, c) != 1 ||
        BN_mod_mul(u, tmp, h2, pr, c) != 1)
        goto out;
    /* A = h2^(p - 1 - (p + 1)/4) */
    if (BN_copy(tmp, pr) == NULL || BN_add_word(tmp, 1) != 1 || BN_rshift(tmp, tmp, 2) != 1 ||
        BN_sub(e, pr, tmp) != 1 || BN_sub_word(e, 1) != 1 || BN_mod_exp(A, h2, e, pr, c) != 1)
        goto out;
    /* A^2 h2 = 1: (X2, A h2), otherwise (X3, A U) */
    if (BN_mod_sqr(tmp, A, pr, c) != 1 || BN_mod_mul(tmp, tmp, h2, pr, c) != 1)
        goto out;
    if (BN_is_one(tmp)) {
        if (BN_mod_mul(y, A, h2, pr, c) != 1)
            goto out;
    } else {
        if (BN_mod_mul(y, A, u, pr, c) != 1 || BN_copy(x2, x3) == NULL)
            goto out;
    }
    g = EC_POINT_new(p->group);
    ok = g != NULL && EC_POINT_set_affine_coordinates(p->group, g, x2, y, c) == 1 &&
         EC_POINT_is_on_curve(p->group, g, c) == 1 && !EC_POINT_is_at_infinity(p->group, g);
out:
    BN_CTX_end(c);
    if (!ok) {
        EC_POINT_free(g);
        g = NULL;
    }
    return g;
}

int pace_ec_map_im(struct pace_ec *p, const unsigned char s[16], const unsigned char t[16],
                   struct err *err)
{
    unsigned char x[16 * 6]; /* up to a 512-bit field */
    size_t n = ((size_t)EC_GROUP_get_degree(p->group) + 64 + 127) / 128;
    BIGNUM *r = NULL, *pr = BN_new();
    EC_POINT *g = NULL;
    int rc = -1;

    if (n > sizeof x / 16 || pr == NULL) {
        err_set(err, "pace: the integrated mapping does not support this curve");
        goto out;
    }
    if (pace_im_prf(s, t, n, x, err) != 0)
        goto out;
    if ((r = BN_bin2bn(x, (int)(16 * n), NULL)) == NULL ||
        EC_GROUP_get_curve(p->group, pr, NULL, NULL, p->bn) != 1 ||
        BN_nnmod(r, r, pr, p->bn) != 1 || (g = point_encode(p, r)) == NULL) {
        err_set(err, "pace: the integrated mapping failed");
        goto out;
    }
    EC_POINT_free(p->gen);
    p->gen = g;
    rc = 0;
out:
    secret_wipe(x, sizeof x);
    BN_clear_free(r);
    BN_free(pr);
    return rc;
}

int pace_ec_generator(struct pace_ec *p, unsigned char *out, size_t *out_len, struct err *err)
{
    size_t n = EC_POINT_point2oct(p->group, p->gen, POINT_CONVERSION_UNCOMPRESSED, out,
                                  PACE_PT_MAX, p->bn);
    if (n == 0)
        return err_set(err, "pace: encoding the generator failed");
    *out_len = n;
    return 0;
}
