/* civreg issuance: certificate fields and OpenSSL errors, shared by the
 * Doc 9303 library (EF.SOD, passive authentication, VDS-NC) and the PKI.
 * Not API outside issuance/. */
#ifndef CIVREG_ISSUANCE_CERT_H
#define CIVREG_ISSUANCE_CERT_H

#include <openssl/x509.h>
#include <time.h>

#include "core/err.h"

#define ICAO_SERIAL_MAX 48 /* upper-case hex serial numbers, NUL-terminated */

/* Upper-case hex of a certificate's serial number into OUT. */
int pki_cert_serial(const X509 *x, char out[ICAO_SERIAL_MAX], struct err *err);

/* Append OpenSSL's error queue to ERR's message (and clear the queue). */
int pki_ossl_err(struct err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The private key usage period of X: 0 when present (times set), 1 absent. */
int pki_cert_pkup(const X509 *x, time_t *not_before, time_t *not_after);

/* ASN1_TIME to time_t; -1 on failure. */
int pki_asn1_time(const ASN1_TIME *t, time_t *out);

#endif
