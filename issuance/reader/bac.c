/* civreg issuance/reader: Basic Access Control (ICAO Doc 9303-11 §4.3,
 * worked example in Appendix D): keys from the MRZ, mutual authentication
 * with 3DES and the retail MAC, session keys and send sequence counter. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "core/secret.h"
#include "issuance/icao/icao.h"
#include "reader_int.h"

static int cd_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return c == '<' ? 0 : -1;
}

static int check_digit(const char *s, size_t n)
{
    static const int w[3] = { 7, 3, 1 };
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        int v = cd_value(s[i]);
        if (v < 0)
            return -1;
        sum += v * w[i % 3];
    }
    return sum % 10;
}

/* Check that FIELD (N chars) has the check digit CD. */
static int check_field(const char *what, const char *field, size_t n, char cd, struct err *err)
{
    int d = check_digit(field, n);
    if (d < 0 || cd != '0' + d)
        return err_set(err, "bac: the check digit of the %s in the MRZ is wrong (%.*s%c)", what,
                       (int)n, field, cd);
    return 0;
}

int bac_mrz_info(const char *mrz, char out[BAC_MRZ_INFO_MAX + 1], struct err *err)
{
    char m[LDS_MRZ_MAX + 1];
    char doc[32];
    size_t n, dl;
    const char *dob, *doe, *opt;
    char dcd;

    if (lds_mrz_normalize(mrz, strlen(mrz), m, &n, err) != 0)
        return err_prefix(err, "bac");
    if (n == 90) { /* TD1: line 1 holds the document number, line 2 the dates */
        memcpy(doc, m + 5, 9);
        dcd = m[14];
        opt = m + 15;
        dob = m + 30;
        doe = m + 38;
    } else { /* TD2 (72) and TD3 (88): line 2 */
        size_t l2 = n / 2;
        memcpy(doc, m + l2, 9);
        dcd = m[l2 + 9];
        opt = n == 72 ? m + l2 + 28 : NULL;
        dob = m + l2 + 13;
        doe = m + l2 + 21;
    }
    dl = 9;
    if (dcd == '<' && opt != NULL) {
        /* Doc 9303-5/-6: a longer number goes on in the optional data,
         * followed by its check digit and a filler */
        size_t k = 0;
        while (k < 6 && opt[k] != '<')
            k++;
        if (k < 2)
            return err_set(err, "bac: the document number continuation in the MRZ is malformed");
        memcpy(doc + 9, opt, k - 1);
        dl = 9 + k - 1;
        dcd = opt[k - 1];
    }
    if (check_field("document number", doc, dl, dcd, err) != 0 ||
        check_field("date of birth", dob, 6, dob[6], err) != 0 ||
        check_field("date of expiry", doe, 6, doe[6], err) != 0)
        return -1;
    memcpy(out, doc, dl);
    out[dl] = dcd;
    memcpy(out + dl + 1, dob, 7);
    memcpy(out + dl + 8, doe, 7);
    out[dl + 15] = '\0';
    return 0;
}

int bac_keys(const char *mrz_info, unsigned char kseed[16], unsigned char kenc[16],
             unsigned char kmac[16], struct err *err)
{
    unsigned char h[20];
    size_t n = strlen(mrz_info);

    if (n < 16 || n > BAC_MRZ_INFO_MAX)
        return err_set(err, "bac: MRZ information of %zu characters", n);
    if (EVP_Digest(mrz_info, n, h, NULL, EVP_sha1(), NULL) != 1)
        return err_set(err, "bac: SHA-1 failed");
    memcpy(kseed, h, 16);
    secret_wipe(h, sizeof h);
    if (sm_kdf(SM_3DES, kseed, 16, 1, kenc, err) != 0 ||
        sm_kdf(SM_3DES, kseed, 16, 2, kmac, err) != 0)
        return -1;
    return 0;
}

/* E = 3DES-CBC(K_enc, IV 0, 32 bytes) || M = MAC(K_mac, pad(E)). */
static int enc_mac(const unsigned char kenc[16], const unsigned char kmac[16],
                   const unsigned char in[32], unsigned char out[40], struct err *err)
{
    struct sm_ctx c;
    unsigned char padded[40];
    int rc;

    sm_init(&c, SM_3DES, kenc, kmac, NULL, 0);
    rc = sm_cbc(&c, true, true, in, 32, out, err);
    if (rc == 0) {
        memcpy(padded, out, 32);
        padded[32] = 0x80;
        memset(padded + 33, 0, 7);
        rc = sm_mac(&c, padded, 40, out + 32, err);
    }
    sm_wipe(&c);
    return rc;
}

/* Check M and decrypt E of IN (40 bytes) into OUT (32 bytes). */
static int mac_dec(const unsigned char kenc[16], const unsigned char kmac[16],
                   const unsigned char in[40], unsigned char out[32], struct err *err)
{
    struct sm_ctx c;
    unsigned char padded[40], mac[8];
    int rc;

    sm_init(&c, SM_3DES, kenc, kmac, NULL, 0);
    memcpy(padded, in, 32);
    padded[32] = 0x80;
    memset(padded + 33, 0, 7);
    rc = sm_mac(&c, padded, 40, mac, err);
    if (rc == 0 && CRYPTO_memcmp(mac, in + 32, 8) != 0)
        rc = err_set(err, "bac: wrong MAC in the mutual authentication");
    if (rc == 0)
        rc = sm_cbc(&c, false, true, in, 32, out, err);
    sm_wipe(&c);
    return rc;
}

/* Session keys from K_IFD xor K_ICC; SSC = RND.ICC[4..7] || RND.IFD[4..7]. */
static int session(const unsigned char k_ifd[16], const unsigned char k_icc[16],
                   const unsigned char rnd_icc[8], const unsigned char rnd_ifd[8],
                   struct sm_ctx *sm, struct err *err)
{
    unsigned char seed[16], ksenc[16], ksmac[16], ssc[8];
    int rc;

    for (int i = 0; i < 16; i++)
        seed[i] = k_ifd[i] ^ k_icc[i];
    rc = sm_kdf(SM_3DES, seed, 16, 1, ksenc, err) == 0 &&
                 sm_kdf(SM_3DES, seed, 16, 2, ksmac, err) == 0
             ? 0
             : -1;
    memcpy(ssc, rnd_icc + 4, 4);
    memcpy(ssc + 4, rnd_ifd + 4, 4);
    if (rc == 0)
        sm_init(sm, SM_3DES, ksenc, ksmac, ssc, 8);
    secret_wipe(seed, sizeof seed);
    secret_wipe(ksenc, sizeof ksenc);
    secret_wipe(ksmac, sizeof ksmac);
    return rc;
}

int bac_ifd_command(const unsigned char kenc[16], const unsigned char kmac[16],
                    const unsigned char rnd_icc[8], const unsigned char rnd_ifd[8],
                    const unsigned char k_ifd[16], unsigned char out[40], struct err *err)
{
    unsigned char s[32];
    int rc;

    memcpy(s, rnd_ifd, 8);
    memcpy(s + 8, rnd_icc, 8);
    memcpy(s + 16, k_ifd, 16);
    rc = enc_mac(kenc, kmac, s, out, err);
    secret_wipe(s, sizeof s);
    return rc;
}

int bac_ifd_finish(const unsigned char kenc[16], const unsigned char kmac[16],
                   const unsigned char rnd_icc[8], const unsigned char rnd_ifd[8],
                   const unsigned char k_ifd[16], const unsigned char resp[40],
                   struct sm_ctx *sm, struct err *err)
{
    unsigned char r[32];
    int rc = mac_dec(kenc, kmac, resp, r, err);

    if (rc == 0 && (CRYPTO_memcmp(r, rnd_icc, 8) != 0 || CRYPTO_memcmp(r + 8, rnd_ifd, 8) != 0))
        rc = err_set(err, "bac: the chip's answer does not hold our challenges");
    if (rc == 0)
        rc = session(k_ifd, r + 16, rnd_icc, rnd_ifd, sm, err);
    secret_wipe(r, sizeof r);
    return rc;
}

int bac_icc_answer(const unsigned char kenc[16], const unsigned char kmac[16],
                   const unsigned char rnd_icc[8], const unsigned char k_icc[16],
                   const unsigned char cmd[40], unsigned char resp[40], struct sm_ctx *sm,
                   struct err *err)
{
    unsigned char s[32], r[32];
    int rc = mac_dec(kenc, kmac, cmd, s, err);

    if (rc == 0 && CRYPTO_memcmp(s + 8, rnd_icc, 8) != 0)
        rc = err_set(err, "bac: the challenge in the command is not ours");
    if (rc == 0) {
        memcpy(r, rnd_icc, 8);
        memcpy(r + 8, s, 8);
        memcpy(r + 16, k_icc, 16);
        rc = enc_mac(kenc, kmac, r, resp, err);
    }
    if (rc == 0)
        rc = session(s + 16, k_icc, rnd_icc, s, sm, err);
    secret_wipe(s, sizeof s);
    secret_wipe(r, sizeof r);
    return rc;
}
