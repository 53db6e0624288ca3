/* Visible digital seals in the ICAO VDS-NC form: build, parse, verify.
 * ICAO "Visible Digital Seals for Non-Constrained Environments" (VDS-NC):
 * JSON with data.hdr {t, v, is}, data.msg, sig {alg, cer, sigvl}; the
 * signature covers the JCS (RFC 8785) canonical form of "data". */
#include "vds.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/encode.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "cert.h"

#define CERT_MAX 4096 /* a P-256 signer certificate is about 600 bytes */

static bool is_state(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    /* Doc 9303-3 codes: three letters, or D for Germany */
    if (n < 1 || n > 3)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'A' || s[i] > 'Z')
            return false;
    return true;
}

/* data = {"hdr":{"t","v","is"},"msg":{...}} */
static int check_data(const json_t *data, struct err *err)
{
    static const char *const data_keys[] = { "hdr", "msg", NULL };
    static const char *const hdr_keys[] = { "t", "v", "is", NULL };
    const json_t *hdr = json_object_get(data, "hdr"), *v;
    const char *t;

    if (!json_is_object(data))
        return err_set(err, "seal: \"data\" must be an object");
    if (json_check_keys(data, data_keys, err) != 0)
        return err_prefix(err, "seal: data");
    if (!json_is_object(hdr))
        return err_set(err, "seal: data.hdr missing or not an object");
    if (json_check_keys(hdr, hdr_keys, err) != 0)
        return err_prefix(err, "seal: data.hdr");
    t = json_string_value(json_object_get(hdr, "t"));
    if (t == NULL || *t == '\0' || strlen(t) > 64)
        return err_set(err, "seal: data.hdr.t (document type) missing or not a short string");
    v = json_object_get(hdr, "v");
    if (!json_is_integer(v) || json_integer_value(v) != 1)
        return err_set(err, "seal: data.hdr.v must be the integer 1 (VDS-NC version)");
    if (!is_state(json_string_value(json_object_get(hdr, "is"))))
        return err_set(err, "seal: data.hdr.is must be the issuing state's Doc 9303 code (capital letters, e.g. UTO)");
    if (!json_is_object(json_object_get(data, "msg")))
        return err_set(err, "seal: data.msg missing or not an object");
    return 0;
}

int vds_seal(const json_t *data, vds_sign_fn sign, void *ctx, json_t **seal, struct err *err)
{
    struct buf body = BUF_INIT(VDS_PAYLOAD_MAX), cert = BUF_INIT(CERT_MAX);
    unsigned char sig[VDS_SIG_BYTES];
    char *cer = NULL, *sigvl = NULL;
    int rc = -1;

    *seal = NULL;
    if (check_data(data, err) != 0)
        return -1;
    if (json_canonical(data, &body, err) != 0)
        goto out;
    if (sign(ctx, body.data, body.len, sig, &cert, err) != 0)
        goto out;
    if (cert.len == 0) {
        err_set(err, "seal: the signer returned no certificate");
        goto out;
    }
    if ((cer = b64url_encode(cert.data, cert.len)) == NULL ||
        (sigvl = b64url_encode(sig, sizeof sig)) == NULL) {
        err_oom(err);
        goto out;
    }
    rc = json_out(seal, json_pack("{s:O, s:{s:s, s:s, s:s}}", "data", data, "sig", "alg", "ES256",
                                  "cer", cer, "sigvl", sigvl), err);
out:
    buf_release(&body);
    buf_release(&cert);
    free(cer);
    free(sigvl);
    return rc;
}

int vds_payload(const json_t *seal, struct buf *out, struct err *err)
{
    return json_dump_ascii(seal, out, err);
}

/* Decode sig.cer / sig.sigvl. */
static int sig_parts(const json_t *seal, unsigned char **cer, size_t *cer_len,
                     unsigned char sig[VDS_SIG_BYTES], struct err *err)
{
    const json_t *sobj = json_object_get(seal, "sig");
    const char *c = json_string_value(json_object_get(sobj, "cer"));
    const char *s = json_string_value(json_object_get(sobj, "sigvl"));
    unsigned char *raw = NULL;
    size_t n = 0;

    *cer = NULL;
    if (c == NULL || *c == '\0')
        return err_set(err, "seal: sig.cer (signer certificate) missing or not a string");
    if (s == NULL || *s == '\0')
        return err_set(err, "seal: sig.sigvl (signature value) missing or not a string");
    if (b64url_decode(s, strlen(s), 2 * VDS_SIG_BYTES, &raw, &n, err) != 0)
        return err_prefix(err, "seal: sig.sigvl");
    if (n != VDS_SIG_BYTES) {
        free(raw);
        return err_set(err, "seal: sig.sigvl is %zu bytes; ES256 needs r||s of 64", n);
    }
    memcpy(sig, raw, VDS_SIG_BYTES);
    free(raw);
    if (b64url_decode(c, strlen(c), CERT_MAX, cer, cer_len, err) != 0)
        return err_prefix(err, "seal: sig.cer");
    return 0;
}

static int cert_parse(const unsigned char *der, size_t len, X509 **out, struct err *err)
{
    const unsigned char *p = der;

    *out = d2i_X509(NULL, &p, (long)len);
    if (*out == NULL)
        return pki_ossl_err(err, "seal: sig.cer is not an X.509 certificate in DER");
    if ((size_t)(p - der) != len) {
        X509_free(*out);
        *out = NULL;
        return err_set(err, "seal: sig.cer has %zu bytes after the certificate",
                       len - (size_t)(p - der));
    }
    return 0;
}

/* V must be an object (else NOT_OBJECT is the error) with no keys but
 * KEYS (else json_check_keys' message after WHERE). */
static int object_of(const json_t *v, const char *const keys[], const char *not_object,
                     const char *where, struct err *err)
{
    if (!json_is_object(v))
        return err_set(err, "%s", not_object);
    if (json_check_keys(v, keys, err) != 0)
        return err_prefix(err, "%s", where);
    return 0;
}

/* vds_parse, also handing out the signature value SIGV and the signer's
 * certificate *X (the caller frees it). */
static int seal_read(const char *payload, size_t len, json_t **seal,
                     unsigned char sigv[VDS_SIG_BYTES], X509 **x, struct err *err)
{
    static const char *const top_keys[] = { "data", "sig", NULL };
    static const char *const sig_keys[] = { "alg", "cer", "sigvl", NULL };
    json_t *s = NULL;
    const json_t *sig;
    const char *alg;
    unsigned char *cer = NULL;
    size_t cer_len = 0;
    int rc = -1;

    *seal = NULL;
    *x = NULL;
    if (payload == NULL || len == 0)
        return err_set(err, "seal: empty payload");
    if (len > VDS_PAYLOAD_MAX)
        return err_set(err, "seal: payload of %zu bytes is larger than %d", len,
                       VDS_PAYLOAD_MAX);
    if (json_parse(payload, len, &s, err) != 0)
        return err_prefix(err, "seal: not JSON");
    if (object_of(s, top_keys, "seal: the payload must be a JSON object {\"data\", \"sig\"}",
                  "seal", err) != 0)
        goto out;
    if (json_object_get(s, "data") == NULL) {
        err_set(err, "seal: \"data\" missing");
        goto out;
    }
    if (check_data(json_object_get(s, "data"), err) != 0)
        goto out;
    sig = json_object_get(s, "sig");
    if (object_of(sig, sig_keys, "seal: \"sig\" missing or not an object", "seal: sig", err) != 0)
        goto out;
    alg = json_string_value(json_object_get(sig, "alg"));
    if (alg == NULL || strcmp(alg, "ES256") != 0) {
        err_set(err, "seal: sig.alg must be \"ES256\" (ECDSA P-256 with SHA-256)");
        goto out;
    }
    if (sig_parts(s, &cer, &cer_len, sigv, err) != 0 || cert_parse(cer, cer_len, x, err) != 0)
        goto out;
    *seal = s;
    s = NULL;
    rc = 0;
out:
    json_decref(s);
    free(cer);
    return rc;
}

int vds_parse(const char *payload, size_t len, json_t **seal, struct err *err)
{
    unsigned char sig[VDS_SIG_BYTES];
    X509 *x = NULL;
    int rc = seal_read(payload, len, seal, sig, &x, err);

    X509_free(x);
    return rc;
}

/* The trusted CSCA certificates: PEM blocks, or one DER certificate. */
static int load_cscas(const unsigned char *p, size_t len, X509_STORE *store, struct err *err)
{
    BIO *bio = NULL;
    X509 *x = NULL;
    int n = 0, rc = -1;

    if (p == NULL || len == 0 || len > ((size_t)4 << 20))
        return err_set(err, "csca: empty or larger than 4 MiB");
    if ((bio = BIO_new_mem_buf(p, (int)len)) == NULL)
        return pki_ossl_err(err, "csca: out of memory");
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (X509_STORE_add_cert(store, x) != 1) {
            X509_free(x);
            pki_ossl_err(err, "csca: adding a certificate failed");
            goto out;
        }
        X509_free(x);
        n++;
    }
    ERR_clear_error();
    if (n == 0) {
        const unsigned char *q = p;
        x = d2i_X509(NULL, &q, (long)len);
        if (x == NULL) {
            pki_ossl_err(err, "csca: neither PEM certificates nor a DER certificate");
            goto out;
        }
        if (X509_STORE_add_cert(store, x) != 1) {
            X509_free(x);
            pki_ossl_err(err, "csca: adding the certificate failed");
            goto out;
        }
        X509_free(x);
    }
    rc = 0;
out:
    BIO_free(bio);
    return rc;
}

static int name_text(const X509_NAME *n, char *out, size_t size)
{
    BIO *b = BIO_new(BIO_s_mem());
    int len;

    out[0] = '\0';
    if (b == NULL)
        return -1;
    (void)X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    len = BIO_read(b, out, (int)size - 1);
    out[len > 0 ? len : 0] = '\0';
    BIO_free(b);
    return 0;
}

static json_t *signer_json(X509 *x)
{
    char subject[512], issuer[512], serial[ICAO_SERIAL_MAX] = "", nb[TIME_ISO8601_LEN + 1] = "",
                                                              na[TIME_ISO8601_LEN + 1] = "";
    struct err e = ERR_INIT;
    time_t t;

    name_text(X509_get_subject_name(x), subject, sizeof subject);
    name_text(X509_get_issuer_name(x), issuer, sizeof issuer);
    (void)pki_cert_serial(x, serial, &e);
    if (pki_asn1_time(X509_get0_notBefore(x), &t) == 0)
        (void)time_iso8601(t, nb);
    if (pki_asn1_time(X509_get0_notAfter(x), &t) == 0)
        (void)time_iso8601(t, na);
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "subject", subject, "issuer", issuer, "serial",
                     serial, "not_before", nb, "not_after", na);
}

/* r||s -> DER ECDSA-Sig-Value, then EVP verification over SHA-256. */
static int check_signature(X509 *x, const struct buf *body, const unsigned char sig[VDS_SIG_BYTES],
                           struct err *err)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    EVP_MD_CTX *md = NULL;
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL, *s = NULL;
    unsigned char *der = NULL;
    char group[64] = "";
    size_t glen = 0;
    int der_len, v, rc = -1;

    if (pk == NULL || !EVP_PKEY_is_a(pk, "EC") ||
        EVP_PKEY_get_group_name(pk, group, sizeof group, &glen) != 1 ||
        strcmp(group, "prime256v1") != 0)
        return err_set(err, "seal: the signer certificate's key is not ECDSA P-256, as ES256 "
                            "requires");
    if ((es = ECDSA_SIG_new()) == NULL ||
        (r = BN_bin2bn(sig, VDS_SIG_BYTES / 2, NULL)) == NULL ||
        (s = BN_bin2bn(sig + VDS_SIG_BYTES / 2, VDS_SIG_BYTES / 2, NULL)) == NULL) {
        pki_ossl_err(err, "seal: out of memory");
        goto out;
    }
    if (ECDSA_SIG_set0(es, r, s) != 1) {
        pki_ossl_err(err, "seal: out of memory");
        goto out;
    }
    r = s = NULL;
    if ((der_len = i2d_ECDSA_SIG(es, &der)) <= 0) {
        pki_ossl_err(err, "seal: encoding the signature failed");
        goto out;
    }
    if ((md = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, pk, NULL) != 1) {
        pki_ossl_err(err, "seal: setting up verification failed");
        goto out;
    }
    v = EVP_DigestVerify(md, der, (size_t)der_len, body->data, body->len);
    ERR_clear_error();
    if (v != 1) {
        err_set(err, "seal: signature does not verify: the sealed data was changed after "
                     "signing, or was not signed by the certificate in the seal");
        goto out;
    }
    rc = 0;
out:
    EVP_MD_CTX_free(md);
    ECDSA_SIG_free(es);
    BN_free(r);
    BN_free(s);
    OPENSSL_free(der);
    return rc;
}

static int check_chain(X509 *x, const unsigned char *csca, size_t csca_len, time_t now,
                       struct err *err)
{
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    char subject[512];
    int rc = -1;

    if ((store = X509_STORE_new()) == NULL)
        return pki_ossl_err(err, "seal: out of memory");
    if (load_cscas(csca, csca_len, store, err) != 0)
        goto out;
    if ((ctx = X509_STORE_CTX_new()) == NULL || X509_STORE_CTX_init(ctx, store, x, NULL) != 1) {
        pki_ossl_err(err, "seal: setting up the chain check failed");
        goto out;
    }
    X509_STORE_CTX_set_time(ctx, 0, now);
    if (X509_verify_cert(ctx) != 1) {
        int e = X509_STORE_CTX_get_error(ctx);
        name_text(X509_get_subject_name(x), subject, sizeof subject);
        ERR_clear_error();
        err_set(err, "seal: signer certificate '%s' is not trusted: %s%s", subject,
                X509_verify_cert_error_string(e),
                e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
                        e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
                    ? " (it was not issued by a CSCA in the file given)"
                    : "");
        goto out;
    }
    /* Doc 9303-12 / VDS-NC: a seal signer's key is for digital signatures. */
    if ((X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE) == 0 ||
        (X509_get_extension_flags(x) & EXFLAG_CA) != 0) {
        err_set(err, "seal: signer certificate is not a signer (key usage must be "
                     "digitalSignature, not a CA)");
        goto out;
    }
    rc = 0;
out:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}

int vds_verify(const char *payload, size_t len, const unsigned char *csca, size_t csca_len,
               time_t now, json_t **result, struct err *err)
{
    json_t *seal = NULL, *signer = NULL;
    struct buf body = BUF_INIT(VDS_PAYLOAD_MAX);
    unsigned char sig[VDS_SIG_BYTES];
    X509 *x = NULL;
    int rc = -1;

    *result = NULL;
    if (now == 0)
        now = time(NULL);
    if (seal_read(payload, len, &seal, sig, &x, err) != 0)
        return -1;
    if (json_canonical(json_object_get(seal, "data"), &body, err) != 0)
        goto out;
    if (check_signature(x, &body, sig, err) != 0 || check_chain(x, csca, csca_len, now, err) != 0)
        goto out;
    if ((signer = signer_json(x)) == NULL) {
        err_oom(err);
        goto out;
    }
    rc = json_out(result, json_pack("{s:b, s:O, s:O}", "valid", 1, "data",
                                    json_object_get(seal, "data"), "signer", signer), err);
out:
    json_decref(seal);
    json_decref(signer);
    buf_release(&body);
    X509_free(x);
    return rc;
}
