/* civreg issuance: PKI internals shared by pki*.c, sod.c and chip.c
 * (OpenSSL types). Not API outside issuance/. */
#ifndef CIVREG_ISSUANCE_PKI_INT_H
#define CIVREG_ISSUANCE_PKI_INT_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "issuance/icao/cert.h"
#include "core/seal.h"
#include "db/db.h"
#include "pki.h"

_Static_assert(PKI_SERIAL_MAX == ICAO_SERIAL_MAX, "one serial number size");

struct pki {
    struct db *db;
    bool own_db;                       /* pki_open's own connection, closed with it */
    char *key_path;                    /* DIR/keys/pki.key */
    bool key_loaded;                   /* the sealing key is read only when first needed */
    unsigned char key[SEAL_KEY_BYTES]; /* seals private keys; wiped on close */
    char *org;                         /* office name from civreg.conf */
    pki_event_sink sink;
    void *sink_ctx;
    bool events_required;
    /* the last signer opened: its key (decoding a PKCS#8 key through
     * OpenSSL 3's decoders costs milliseconds, more than the signature
     * itself), its certificate and the private key usage period in it
     * (decoding the certificate cost as much as the rest of a chip). A
     * serial's certificate and key never change; its status is still read
     * from the database every time, and the period checked against it. */
    char cached_serial[PKI_SERIAL_MAX];
    EVP_PKEY *cached_key;
    X509 *cached_cert;
    time_t cached_pkup_nb, cached_pkup_na;
};

/* One row of pki_certs, with the parsed certificate. Release with
 * pki_row_release. */
struct pki_row {
    char serial[PKI_SERIAL_MAX];
    enum pki_kind kind;
    char issuer_serial[PKI_SERIAL_MAX];
    char status[16];
    X509 *cert;
    unsigned char *key_sealed;
    size_t key_sealed_len;
};
void pki_row_release(struct pki_row *r);

/* Store helpers (pki_store.c). */
int pki_store_insert(struct pki *p, enum pki_kind kind, const char *issuer_serial, X509 *cert,
                     const char *alg, EVP_PKEY *key, time_t now, struct err *err);
/* The newest row of KIND with status 'active' whose private key usage
 * period contains AT (AT = 0: any period). 0 found, 1 none, -1 error. */
int pki_store_current(struct pki *p, enum pki_kind kind, time_t at, struct pki_row *out,
                      struct err *err);
/* 0 found, 1 unknown serial, -1 error. */
int pki_store_get(struct pki *p, const char *serial, struct pki_row *out, struct err *err);
/* pki_store_get (SERIAL non-NULL) or pki_store_current (SERIAL NULL): when
 * the row found has the serial KNOWN (a certificate the caller already
 * holds; NULL: none), its certificate is not decoded nor its sealed key
 * copied (OUT->cert stays NULL). */
int pki_store_signer_row(struct pki *p, enum pki_kind kind, const char *serial, time_t at,
                         const char *known, struct pki_row *out, struct err *err);
int pki_store_set_status(struct pki *p, const char *serial, const char *status,
                         const char *reason, time_t now, struct err *err);
/* Revoked serials issued by ISSUER: called once per serial. */
int pki_store_revoked(struct pki *p, const char *issuer,
                      int (*fn)(void *ctx, const char *serial, const char *revoked_at,
                                const char *reason, struct err *err),
                      void *ctx, struct err *err);
int pki_store_crl_last(struct pki *p, const char *csca, long *number, unsigned char **der,
                       size_t *len, struct err *err);
int pki_store_crl_insert(struct pki *p, const char *csca, long number, X509_CRL *crl,
                         struct err *err);
#define PKI_MAX_CSCA 32
/* Serials of the CSCAs (active first, then retired, newest first) whose
 * certificates are still valid at NOW. */
int pki_store_csca_serials(struct pki *p, time_t now, char (*out)[PKI_SERIAL_MAX], size_t max,
                           size_t *n, struct err *err);
/* Every certificate DER of the given kinds (bit mask 1 << kind). */
int pki_store_certs(struct pki *p, unsigned kinds, STACK_OF(X509) *out, struct err *err);
int pki_store_list(struct pki *p, json_t *arr, struct err *err);

/* Read the sealing key file (once per handle) before sealing or opening a
 * private key. */
int pki_key_ready(struct pki *p, struct err *err);

/* Open the sealed private key of ROW (caller EVP_PKEY_free()s it). */
int pki_row_key(struct pki *p, const struct pki_row *row, EVP_PKEY **key, struct err *err);

/* The current signer of KIND valid for signing at AT (or the given SERIAL),
 * with its private key. Refuses a revoked signer or one outside its private
 * key usage period. Caller frees both. */
int pki_signer_load(struct pki *p, enum pki_kind kind, const char *serial, time_t at,
                    X509 **cert, EVP_PKEY **key, struct err *err);

/* Hand an event to the sink (no-op without one). Steals OBJECTS and DATA
 * (either may be NULL only when out of memory, which fails). */
int pki_emit(struct pki *p, const char *type, json_t *objects, json_t *data, struct err *err);
/* {"kind": KIND, "id": SERIAL, "hash": sha256(DER)} for a certificate. New
 * reference or NULL. */
json_t *pki_cert_object(const char *kind, X509 *x);

#endif
