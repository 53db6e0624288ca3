/* civreg issuance: certificate fields and OpenSSL errors, shared by the
 * Doc 9303 library (EF.SOD, passive authentication, VDS-NC) and the PKI. */
#include "cert.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int pki_ossl_err(struct err *err, const char *fmt, ...)
{
    char msg[ERR_MSG_MAX], ebuf[256];
    unsigned long e;
    size_t n;
    va_list ap;

    /* a message cut at ERR_MSG_MAX is still the message: truncation is
     * accepted here */
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    n = strlen(msg);
    /* the first (deepest) error says most */
    if ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, ebuf, sizeof ebuf);
        (void)snprintf(msg + n, sizeof msg - n, " (%s)", ebuf);
    }
    ERR_clear_error();
    return err_set(err, "%s", msg);
}

int pki_asn1_time(const ASN1_TIME *t, time_t *out)
{
    struct tm tm;

    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return -1;
    *out = timegm(&tm);
    return 0;
}

int pki_cert_pkup(const X509 *x, time_t *not_before, time_t *not_after)
{
    PKEY_USAGE_PERIOD *pk = X509_get_ext_d2i(x, NID_private_key_usage_period, NULL, NULL);
    int rc = 1;

    *not_before = 0;
    *not_after = 0;
    if (pk == NULL)
        return 1;
    if (pk->notBefore && pki_asn1_time(pk->notBefore, not_before) != 0)
        goto out;
    if (pk->notAfter && pki_asn1_time(pk->notAfter, not_after) != 0)
        goto out;
    rc = 0;
out:
    PKEY_USAGE_PERIOD_free(pk);
    return rc;
}

int pki_cert_serial(const X509 *x, char out[ICAO_SERIAL_MAX], struct err *err)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *h = bn ? BN_bn2hex(bn) : NULL;
    int rc = -1;

    if (h == NULL || strlen(h) >= ICAO_SERIAL_MAX || h[0] == '-')
        pki_ossl_err(err, "certificate serial number unreadable or too long");
    else {
        memcpy(out, h, strlen(h) + 1);
        rc = 0;
    }
    OPENSSL_free(h);
    BN_free(bn);
    return rc;
}
