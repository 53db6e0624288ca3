/* civreg issuance/reader: Active Authentication (ICAO Doc 9303-11 §6.1):
 * the chip signs a challenge with the private key behind DG15, proving that
 * it is not a copy of the signed data groups. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <string.h>

#include "core/secret.h"
#include "issuance/icao/icao.h"
#include "reader.h"

#define AA_MAX_SIG 1024 /* RSA-8192 */

/* The digest matching an EC key's field size (BSI TR-03111 plain ECDSA). */
static const EVP_MD *ec_digest(const EVP_PKEY *k)
{
    int bits = EVP_PKEY_get_bits(k);
    if (bits > 384)
        return EVP_sha512();
    if (bits > 256)
        return EVP_sha384();
    return EVP_sha256();
}

static int rsa_raw(EVP_PKEY *k, bool priv, const unsigned char *in, size_t len,
                   unsigned char *out, size_t *outlen)
{
    EVP_PKEY_CTX *x = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
    int ok = x && (priv ? EVP_PKEY_decrypt_init(x) : EVP_PKEY_encrypt_init(x)) > 0 &&
             EVP_PKEY_CTX_set_rsa_padding(x, RSA_NO_PADDING) > 0 &&
             (priv ? EVP_PKEY_decrypt(x, out, outlen, in, len)
                   : EVP_PKEY_encrypt(x, out, outlen, in, len)) > 0;
    EVP_PKEY_CTX_free(x);
    return ok ? 0 : -1;
}

int aa_sign(const unsigned char *p8, size_t p8_len, const unsigned char *challenge, size_t clen,
            struct buf *sig, struct err *err)
{
    const unsigned char *pp = p8;
    EVP_PKEY *k = d2i_AutoPrivateKey(NULL, &pp, (long)p8_len);
    unsigned char out[AA_MAX_SIG], f[AA_MAX_SIG];
    size_t outl = sizeof out;
    int rc = -1;

    if (k == NULL || pp != p8 + p8_len)
        goto bad;
    if (EVP_PKEY_is_a(k, "RSA")) {
        /* ISO/IEC 9796-2 scheme 1, partial recovery: 6A || M1 || SHA-1(M1 || M2) || BC
         * with M1 random and M2 the challenge */
        size_t kl = (size_t)EVP_PKEY_get_size(k), m1 = kl - 22;
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        unsigned hl = 0;
        int ok;
        if (kl < 64 || kl > sizeof f) {
            EVP_MD_CTX_free(m);
            goto bad;
        }
        f[0] = 0x6A;
        secret_random(f + 1, m1);
        ok = m && EVP_DigestInit_ex(m, EVP_sha1(), NULL) && EVP_DigestUpdate(m, f + 1, m1) &&
             EVP_DigestUpdate(m, challenge, clen) && EVP_DigestFinal_ex(m, f + 1 + m1, &hl);
        EVP_MD_CTX_free(m);
        f[kl - 1] = 0xBC;
        if (!ok || rsa_raw(k, true, f, kl, out, &outl) != 0 || buf_append(sig, out, outl) != 0)
            goto bad;
    } else if (EVP_PKEY_is_a(k, "EC")) {
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        const unsigned char *dp = out;
        ECDSA_SIG *es = NULL;
        size_t fl = ((size_t)EVP_PKEY_get_bits(k) + 7) / 8;
        int ok = m && EVP_DigestSignInit(m, NULL, ec_digest(k), NULL, k) > 0 &&
                 EVP_DigestSign(m, out, &outl, challenge, clen) > 0 &&
                 (es = d2i_ECDSA_SIG(NULL, &dp, (long)outl)) != NULL &&
                 BN_bn2binpad(ECDSA_SIG_get0_r(es), f, (int)fl) == (int)fl &&
                 BN_bn2binpad(ECDSA_SIG_get0_s(es), f + fl, (int)fl) == (int)fl &&
                 buf_append(sig, f, 2 * fl) == 0;
        ECDSA_SIG_free(es);
        EVP_MD_CTX_free(m);
        if (!ok)
            goto bad;
    } else
        goto bad;
    rc = 0;
    goto out;
bad:
    err_set(err, "aa: cannot sign with the Active Authentication key");
out:
    secret_wipe(f, sizeof f);
    EVP_PKEY_free(k);
    return rc;
}

int aa_verify(const unsigned char *dg15, size_t dg15_len, const unsigned char *challenge,
              size_t clen, const unsigned char *sig, size_t sig_len, const char **alg,
              struct err *err)
{
    struct tlv t;
    const unsigned char *pp;
    EVP_PKEY *k = NULL;
    int rc = -1;

    *alg = "unknown";
    if (tlv_decode_whole(dg15, dg15_len, &t, err) != 0 || t.tag != 0x6F)
        return err_set(err, "aa: DG15 is not a 6F template");
    pp = t.value;
    k = d2i_PUBKEY(NULL, &pp, (long)t.len);
    if (k == NULL || pp != t.value + t.len) {
        err_set(err, "aa: DG15 does not hold a SubjectPublicKeyInfo");
        goto out;
    }
    if (EVP_PKEY_is_a(k, "RSA")) {
        unsigned char f[AA_MAX_SIG], h[20];
        size_t kl = (size_t)EVP_PKEY_get_size(k), fl = sizeof f;
        EVP_MD_CTX *m;
        unsigned hl = 0;
        int ok;
        *alg = "rsa-iso9796-2-sha1";
        if (EVP_PKEY_get_bits(k) < 1024 || kl > sizeof f) {
            err_set(err, "aa: the DG15 RSA key has %d bits", EVP_PKEY_get_bits(k));
            goto out;
        }
        if (sig_len != kl || rsa_raw(k, false, sig, sig_len, f, &fl) != 0 || fl != kl ||
            f[0] != 0x6A || f[kl - 1] != 0xBC) {
            rc = 1;
            goto out;
        }
        m = EVP_MD_CTX_new();
        ok = m && EVP_DigestInit_ex(m, EVP_sha1(), NULL) && EVP_DigestUpdate(m, f + 1, kl - 22) &&
             EVP_DigestUpdate(m, challenge, clen) && EVP_DigestFinal_ex(m, h, &hl);
        EVP_MD_CTX_free(m);
        rc = ok && CRYPTO_memcmp(h, f + kl - 21, 20) == 0 ? 0 : 1;
    } else if (EVP_PKEY_is_a(k, "EC")) {
        size_t fl = ((size_t)EVP_PKEY_get_bits(k) + 7) / 8;
        const EVP_MD *md = ec_digest(k);
        ECDSA_SIG *es = NULL;
        BIGNUM *r = NULL, *s = NULL;
        unsigned char *der = NULL;
        EVP_MD_CTX *m = NULL;
        int dl;
        *alg = md == EVP_sha256() ? "ecdsa-plain-sha256"
               : md == EVP_sha384() ? "ecdsa-plain-sha384" : "ecdsa-plain-sha512";
        if (sig_len != 2 * fl) {
            rc = 1;
            goto out;
        }
        rc = 1;
        if ((es = ECDSA_SIG_new()) != NULL && (r = BN_bin2bn(sig, (int)fl, NULL)) != NULL &&
            (s = BN_bin2bn(sig + fl, (int)fl, NULL)) != NULL && ECDSA_SIG_set0(es, r, s) == 1) {
            r = s = NULL;
            dl = i2d_ECDSA_SIG(es, &der);
            m = EVP_MD_CTX_new();
            if (dl > 0 && m && EVP_DigestVerifyInit(m, NULL, md, NULL, k) > 0 &&
                EVP_DigestVerify(m, der, (size_t)dl, challenge, clen) == 1)
                rc = 0;
        }
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        OPENSSL_free(der);
        EVP_MD_CTX_free(m);
    } else
        err_set(err, "aa: DG15 holds neither an RSA nor an EC key");
out:
    EVP_PKEY_free(k);
    return rc;
}
