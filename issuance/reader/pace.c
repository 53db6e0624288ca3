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
    int nid = param_id == 12 ? NID_X9_62_prime256v1 : param_id == 13 ? NID_brainpoolP256r1 : 0;
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

int pace_ec_map(struct pace_ec *p, const unsigned char *s, size_t slen,
                const unsigned char *pk_other, size_t pk_len, struct err *err)
{
    EC_POINT *peer = peer_point(p, pk_other, pk_len), *h = NULL, *g2 = NULL;
    BIGNUM *bs = BN_bin2bn(s, (int)slen, NULL);
    int rc = -1;

    if (peer == NULL) {
        err_set(err, "pace: the mapping public key is not a point of the curve");
        goto out;
    }
    h = EC_POINT_new(p->group);
    g2 = EC_POINT_new(p->group);
    if (!bs || !h || !g2 || !p->sk || EC_POINT_mul(p->group, h, NULL, peer, p->sk, p->bn) != 1 ||
        EC_POINT_is_at_infinity(p->group, h) ||
        EC_POINT_mul(p->group, g2, bs, h, BN_value_one(), p->bn) != 1 ||
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
    EC_POINT_free(peer);
    EC_POINT_free(h);
    EC_POINT_free(g2);
    BN_clear_free(bs);
    return rc;
}

int pace_ec_shared(struct pace_ec *p, const unsigned char *pk_other, size_t pk_len,
                   unsigned char *out, size_t *out_len, struct err *err)
{
    EC_POINT *peer = peer_point(p, pk_other, pk_len), *k = NULL;
    BIGNUM *x = BN_new();
    int rc = -1;

    if (peer == NULL) {
        err_set(err, "pace: the ephemeral public key is not a point of the curve");
        goto out;
    }
    k = EC_POINT_new(p->group);
    if (!x || !k || !p->sk || EC_POINT_mul(p->group, k, NULL, peer, p->sk, p->bn) != 1 ||
        EC_POINT_is_at_infinity(p->group, k) ||
        EC_POINT_get_affine_coordinates(p->group, k, x, NULL, p->bn) != 1 ||
        BN_bn2binpad(x, out, (int)p->flen) != (int)p->flen) {
        err_set(err, "pace: the key agreement failed");
        goto out;
    }
    *out_len = p->flen;
    rc = 0;
out:
    EC_POINT_free(peer);
    EC_POINT_free(k);
    BN_clear_free(x);
    return rc;
}

int pace_token(const unsigned char kmac[16], const unsigned char *pk_other, size_t pk_len,
               unsigned char token[8], struct err *err)
{
    struct buf t = BUF_INIT(512);
    struct sm_ctx c;
    unsigned char zero[16] = { 0 };
    int rc = -1;

    if (tlv_put(&t, 0x06, pace_oid_ecdh_gm_aes128, sizeof pace_oid_ecdh_gm_aes128, err) != 0 ||
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
    if (tlv_put(out, 0x06, pace_oid_ecdh_gm_aes128, sizeof pace_oid_ecdh_gm_aes128, err) != 0 ||
        tlv_put_uint(out, 2, err) != 0 || tlv_put_uint(out, (unsigned long)param_id, err) != 0 ||
        tlv_wrap(out, from, 0x30, err) != 0 || tlv_wrap(out, from, 0x31, err) != 0)
        return -1;
    return 0;
}

int pace_card_access_parse(const unsigned char *p, size_t len, int *param_id, struct err *err)
{
    struct tlv set, info;
    struct tlv_iter it;
    int r;

    if (tlv_decode_whole(p, len, &set, err) != 0 || set.tag != 0x31)
        return err_set(err, "pace: EF.CardAccess is not a SET of SecurityInfos");
    tlv_iter_init(&it, set.value, set.len);
    while ((r = tlv_iter_next(&it, &info, err)) == 1) {
        struct tlv_iter f;
        struct tlv oid, ver, pid;
        unsigned long v, id;
        if (info.tag != 0x30)
            continue;
        tlv_iter_init(&f, info.value, info.len);
        if (tlv_iter_next(&f, &oid, err) != 1 || oid.tag != 0x06 ||
            oid.len != sizeof pace_oid_ecdh_gm_aes128 ||
            memcmp(oid.value, pace_oid_ecdh_gm_aes128, oid.len) != 0)
            continue;
        if (tlv_iter_next(&f, &ver, err) != 1 || ver.tag != 0x02 || tlv_get_uint(&ver, &v, err) != 0 ||
            v != 2 || tlv_iter_next(&f, &pid, err) != 1 || pid.tag != 0x02 ||
            tlv_get_uint(&pid, &id, err) != 0)
            return err_set(err, "pace: malformed PACEInfo in EF.CardAccess");
        if (id == 12 || id == 13) {
            *param_id = (int)id;
            return 0;
        }
    }
    return r < 0 ? -1 : 1;
}

int rd_card_access_pace(int param_id, struct buf *out, struct err *err)
{
    if (param_id != 12 && param_id != 13)
        return err_set(err, "pace: parameter id %d is not supported (12 P-256, 13 "
                            "brainpoolP256r1)", param_id);
    return pace_card_access(param_id, out, err);
}
