/* civreg issuance: visible digital seals, ICAO VDS-NC form (JSON in a QR).
 *
 *   {"data":{"hdr":{"t":TYPE,"v":1,"is":STATE},"msg":{...}},
 *    "sig":{"alg":"ES256","cer":<signer certificate DER, base64url>,
 *           "sigvl":<r||s, base64url>}}
 *
 * The signature is ECDSA P-256 with SHA-256 over the RFC 8785 (JCS) canonical
 * form of "data", encoded as the raw 64-byte r||s (not DER), as in ICAO's
 * VDS-NC technical report. Verification needs no database: the signer's
 * certificate travels in the seal and is checked against CSCA certificates
 * the verifier trusts.
 *
 * Signing (vds_seal) takes a callback so the key can stay wherever it lives
 * (the PKI: pki_barcode_sign); the CLI connects the two.
 */
#ifndef CIVREG_ISSUANCE_VDS_H
#define CIVREG_ISSUANCE_VDS_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"

#define VDS_PAYLOAD_MAX 8192 /* a QR code holds at most 2953 bytes; generous */
#define VDS_SIG_BYTES 64     /* ES256: r || s, 32 bytes each */

/* Sign MSG (LEN bytes) with ECDSA P-256 / SHA-256: SIG receives r||s and
 * CERT_DER (appended to) the signer's certificate. */
typedef int (*vds_sign_fn)(void *ctx, const void *msg, size_t len,
                           unsigned char sig[VDS_SIG_BYTES], struct buf *cert_der,
                           struct err *err);

/* Seal DATA ({"hdr":{t,v,is},"msg":{...}}, checked like vds_parse does):
 * canonicalize it, have SIGN sign it, and build the whole seal. *SEAL is a
 * new reference; vds_payload() gives the bytes to put in the QR code. */
int vds_seal(const json_t *data, vds_sign_fn sign, void *ctx, json_t **seal, struct err *err)
    __attribute__((warn_unused_result));

/* The compact JSON of a seal (what the QR carries), appended to OUT. It is
 * pure ASCII: non-ASCII text is written as \uXXXX escapes, because QR
 * readers guess the character set of 8-bit data (ZBar reads UTF-8 "é" as
 * Shift-JIS); the signature covers the canonical form of the parsed data,
 * which the escapes do not change. */
int vds_payload(const json_t *seal, struct buf *out, struct err *err)
    __attribute__((warn_unused_result));

/* Parse and check the structure of a payload without verifying anything:
 * exactly the members above, v = 1, "is" a Doc 9303 state code (1-3 capitals), alg ES256,
 * "cer" a base64url X.509 certificate in DER, "sigvl" 64 bytes. *SEAL is a
 * new reference. Messages say "seal: ..." and name the member. */
int vds_parse(const char *payload, size_t len, json_t **seal, struct err *err)
    __attribute__((warn_unused_result));

/* Verify a payload: structure (vds_parse), the ES256 signature of the
 * canonical "data" under the certificate's P-256 key, and the certificate's
 * chain to one of the CSCA certificates in CSCA (PEM, one or more blocks, or
 * a single DER certificate) at time NOW (0 = now), key usage
 * digitalSignature. *RESULT (new reference) on success: {"valid":true,
 * "data":{...}, "signer":{subject, issuer, serial, not_before, not_after}}.
 * On failure -1 and ERR says which check failed. */
int vds_verify(const char *payload, size_t len, const unsigned char *csca, size_t csca_len,
               time_t now, json_t **result, struct err *err) __attribute__((warn_unused_result));

struct scan_limits;

/* What vds_verify_image returns when the picture itself is refused (the
 * seal was not looked at): VDS_E_PICTURE it cannot be decoded (corrupt,
 * truncated, not an image); SCAN_E_LIMIT (scanner/image.h) it claims more
 * pixels or pages than LIMITS allow; SCAN_E_DEADLINE reading it went past
 * LIMITS->deadline_ms. */
#define VDS_E_PICTURE (-4)

/* Find the QR codes in a picture (PNG, JPEG, TIFF or PNM, LEN bytes; NAME
 * only for messages) with the scanner module and verify the seal of the
 * first that holds, as vds_verify does. LIMITS (NULL: the scanner's
 * defaults) bound the decoding and, through deadline_ms, the barcode
 * retries. Fails with -1 and "no QR code found in NAME" when there is none,
 * else with the first QR code's failure; or with one of the codes above. */
int vds_verify_image(const unsigned char *img, size_t len, const char *name,
                     const struct scan_limits *limits, const unsigned char *csca,
                     size_t csca_len, time_t now, json_t **result, struct err *err)
    __attribute__((warn_unused_result));

#endif
