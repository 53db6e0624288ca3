/* civreg issuance/reader: Chip Authentication with ECDH and AES-128 (ICAO
 * Doc 9303-11 §6.2). The chip holds a static ECDH key whose public half is
 * in DG14 (covered by EF.SOD); the inspection system sends an ephemeral
 * public key on the same curve, both sides compute K = x(SK * PK_other),
 * and secure messaging restarts with K_Enc = KDF(K, 1), K_MAC = KDF(K, 2)
 * and a zero send sequence counter. Only a chip that holds the private key
 * can derive the new keys: a clone with copied files cannot answer. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

#include "core/secret.h"
#include "issuance/icao/icao.h"
#include "reader_int.h"

int ca_keys(int param_id, const char *sk_hex, const unsigned char *peer, size_t peer_len,
            unsigned char *pub, size_t *pub_len, struct sm_ctx *sm, struct err *err)
{
    struct pace_ec *p = NULL;
    unsigned char k[66], kenc[16], kmac[16];
    size_t kl = 0;
    int rc = -1;

    if (pace_ec_new(param_id, &p, err) != 0 || pace_ec_keypair(p, sk_hex, pub, pub_len, err) != 0)
        goto out;
    if (peer_len == *pub_len && memcmp(peer, pub, peer_len) == 0) {
        err_set(err, "chip authentication: the other side's key is our own");
        goto out;
    }
    if (pace_ec_shared(p, peer, peer_len, k, &kl, err) != 0 ||
        sm_kdf(SM_AES128, k, kl, 1, kenc, err) != 0 || sm_kdf(SM_AES128, k, kl, 2, kmac, err) != 0)
        goto out;
    sm_init(sm, SM_AES128, kenc, kmac, NULL, 0); /* SSC starts again at zero */
    rc = 0;
out:
    if (rc != 0)
        err_prefix(err, "chip authentication");
    pace_ec_free(p);
    secret_wipe(k, sizeof k);
    secret_wipe(kenc, sizeof kenc);
    secret_wipe(kmac, sizeof kmac);
    return rc;
}

int ca_private_load(const unsigned char *p8, size_t len, int *param_id, char sk_hex[CA_HEX_MAX],
                    struct err *err)
{
    const unsigned char *q = p8;
    EVP_PKEY *k = len <= 0x7FFFFFFF ? d2i_AutoPrivateKey(NULL, &q, (long)len) : NULL;
    BIGNUM *d = NULL;
    char curve[64];
    char *hex = NULL;
    int rc = -1;

    if (k == NULL || !EVP_PKEY_is_a(k, "EC") ||
        EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve,
                                       NULL) != 1) {
        err_set(err, "chip authentication: the private key is not an EC key in PKCS#8");
        goto out;
    }
    if (strcmp(curve, "prime256v1") == 0 || strcmp(curve, "P-256") == 0)
        *param_id = 12;
    else if (strcmp(curve, "brainpoolP256r1") == 0)
        *param_id = 13;
    else {
        err_set(err, "chip authentication: curve %s is not supported", curve);
        goto out;
    }
    if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1 || (hex = BN_bn2hex(d)) == NULL ||
        strlen(hex) >= CA_HEX_MAX) {
        err_set(err, "chip authentication: the private key cannot be read");
        goto out;
    }
    memcpy(sk_hex, hex, strlen(hex) + 1);
    rc = 0;
out:
    if (hex)
        OPENSSL_clear_free(hex, strlen(hex));
    BN_clear_free(d);
    EVP_PKEY_free(k);
    return rc;
}
