/* civreg issuance: the issuing state's ICAO PKI (Doc 9303-12).
 *
 * A country signing CA (CSCA, self-signed) issues Document Signers (DS, sign
 * EF.SOD), barcode signers (visible digital seals) and a master list signer;
 * it signs CRLs and, on key rollover, a link certificate from the old key to
 * the new one. Certificates live in the database (pki_certs, pki_crls); private
 * keys are sealed with core/seal.h under DIR/keys/pki.key.
 *
 * Every function returns 0 or -1 with a message in ERR. This is the one
 * header other modules include for issuance/pki/.
 */
#ifndef CIVREG_ISSUANCE_PKI_H
#define CIVREG_ISSUANCE_PKI_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"

#define PKI_SERIAL_MAX 48 /* upper-case hex serial numbers, NUL-terminated */

enum pki_alg { PKI_ALG_ECDSA_P256, PKI_ALG_ECDSA_BP256, PKI_ALG_RSA3072 };
enum pki_kind { PKI_KIND_CSCA, PKI_KIND_LINK, PKI_KIND_DS, PKI_KIND_BARCODE, PKI_KIND_MLS };

/* "ecdsa-p256", "ecdsa-brainpoolP256r1", "rsa-3072". */
int pki_alg_parse(const char *name, enum pki_alg *out, struct err *err);
const char *pki_alg_name(enum pki_alg a);
const char *pki_kind_name(enum pki_kind k);

/* pki_certs and pki_crls as `audit verify` rebuilds them from the log
 * (pki_projection.c): give it to registry_audit_register at start-up. */
struct proj_module;
const struct proj_module *pki_projection(void);

struct pki;
struct db;

/* Open the PKI of the data directory DIR (database and sealing key file;
 * the key file is created when CREATE_KEY). Free with pki_close (NULL ok). */
int pki_open(const char *dir, bool create_key, struct pki **out, struct err *err)
    __attribute__((warn_unused_result));
void pki_close(struct pki *p);

/* The PKI of the data directory DIR on the caller's connection DB (borrowed:
 * it must outlive the handle, and the PKI's changes and events join the
 * caller's transactions). The sealing key file is read only when a private
 * key is first sealed or opened, so exports and verifications never touch
 * it. Free with pki_close, which leaves DB open. */
int pki_open_db(struct db *db, const char *dir, struct pki **out, struct err *err)
    __attribute__((warn_unused_result));

/* A short text that changes whenever the CSCA and link certificates in DB
 * change (a certificate added or removed, another CSCA made current), so a
 * cache of trust anchors knows when to reload. 0 or -1. */
#define PKI_TRUST_GEN_MAX 80
int pki_trust_generation(struct db *db, char out[PKI_TRUST_GEN_MAX], struct err *err)
    __attribute__((warn_unused_result));

/* Provenance: every PKI action (and every chip signed) is handed to SINK
 * inside the same database transaction as the change itself, so the two
 * commit or roll back together. TYPE is a dotted name ("pki.csca.create",
 * "pki.link.create", "pki.ds.issue", "pki.barcode.issue", "pki.mls.issue",
 * "pki.revoke", "pki.crl.issue", "chip.personalize"); OBJECTS an array of
 * {"kind", "id", "hash"} (hash: SHA-256 hex of the DER); DATA an object.
 * Both are borrowed. A failing sink fails the action. DB is the PKI's own
 * connection. The CLI connects this to the registry's signed event log;
 * without a sink nothing is recorded beyond the PKI tables. */
struct db;
typedef int (*pki_event_sink)(void *ctx, struct db *db, const char *type, const json_t *objects,
                              const json_t *data, struct err *err);
void pki_set_event_sink(struct pki *p, pki_event_sink sink, void *ctx);
/* When REQUIRED, an action that would emit an event without a sink fails
 * ("sign in with --user") instead of going unrecorded. */
void pki_require_events(struct pki *p, bool required);

/* The PKI's database connection (borrowed), e.g. to authenticate the actor
 * the event sink signs with. */
struct db *pki_db(struct pki *p);

struct pki_init_opts {
    const char *country;  /* ISO 3166-1 alpha-2 country code, as X.509 countryName */
    const char *org;      /* organization name (UTF-8); NULL = office name from civreg.conf */
    const char *crl_url;  /* CRL distribution point for DS certs; NULL = default */
    enum pki_alg alg;
    int pkup_years;       /* CSCA private key usage period; 0 = 5 */
    time_t now;
};

/* Create the first CSCA. Refuses when one exists (use pki_rollover). */
int pki_init(struct pki *p, const struct pki_init_opts *o, char serial[PKI_SERIAL_MAX],
             struct err *err) __attribute__((warn_unused_result));

/* CSCA key rollover: a new self-signed CSCA plus a link certificate (new
 * public key, issued and signed by the old CSCA). The old CSCA is retired: it
 * stays a trust anchor for what it issued but signs nothing new but CRLs. */
int pki_rollover(struct pki *p, enum pki_alg alg, time_t now, char serial[PKI_SERIAL_MAX],
                 char link_serial[PKI_SERIAL_MAX], struct err *err)
    __attribute__((warn_unused_result));

struct pki_issue_opts {
    enum pki_kind kind;  /* PKI_KIND_DS, PKI_KIND_BARCODE or PKI_KIND_MLS */
    enum pki_alg alg;
    int pkup_days;       /* private key usage period; 0 = 92 (about three months) */
    int doc_years;       /* validity of documents signed; 0 = 10 */
    const char *doc_types; /* DS document type list, e.g. "P" or "P,ID"; NULL = "P" */
    time_t now;
};
/* Issue a signer certificate under the current CSCA. */
int pki_issue(struct pki *p, const struct pki_issue_opts *o, char serial[PKI_SERIAL_MAX],
              struct err *err) __attribute__((warn_unused_result));

/* Mark a certificate the CSCA issued as revoked (the next CRL lists it).
 * REASON is an RFC 5280 reason name (keyCompromise, superseded,
 * cessationOfOperation, unspecified, ...) or NULL. */
int pki_revoke(struct pki *p, const char *serial, const char *reason, time_t now,
               struct err *err) __attribute__((warn_unused_result));

/* Sign a new CRL with the current CSCA (cRLNumber one more than the last,
 * thisUpdate NOW, nextUpdate NOW + DAYS) and store it. *DER (may be NULL)
 * receives its DER. */
int pki_crl_issue(struct pki *p, int days, time_t now, struct buf *der, struct err *err)
    __attribute__((warn_unused_result));

/* Every certificate as a JSON array of objects (serial, kind, subject,
 * issuer_serial, algorithm, validity, pkup, status). *OUT is a new reference. */
int pki_list(struct pki *p, json_t **out, struct err *err) __attribute__((warn_unused_result));

/* Sign MSG (LEN bytes) for a visible digital seal with the current barcode
 * signer (Doc 9303-13 / VDS-NC ES256): ECDSA P-256 over SHA-256, SIG receives
 * the raw r||s (64 bytes) and CERT_DER (appended to) the signer's
 * certificate. Refused when no barcode signer is active at NOW, when it is
 * revoked or outside its private key usage period, or when its key is not
 * P-256. Signing is not a PKI change: nothing is logged here (the caller
 * logs what it sealed). */
int pki_barcode_sign(struct pki *p, const void *msg, size_t len, time_t now,
                     unsigned char sig[64], struct buf *cert_der, struct err *err)
    __attribute__((warn_unused_result));

enum pki_export_what {
    PKI_EXPORT_CSCA,       /* every CSCA certificate and link certificate */
    PKI_EXPORT_DS,         /* the current document signer */
    PKI_EXPORT_CRL,        /* the newest CRL */
    PKI_EXPORT_MASTERLIST, /* ICAO master list (CMS, 2.23.136.1.1.2) */
};
/* Append the export to OUT: PEM (several blocks for several certificates) or,
 * with DER, the DER of the first object (the master list is always DER/CMS;
 * PEM wraps it as "CMS"). A master list signer is issued when none is valid. */
int pki_export(struct pki *p, enum pki_export_what what, bool der, time_t now, struct buf *out,
               struct err *err) __attribute__((warn_unused_result));

/* Chip personalization packages signed by the document signer are part of
 * this API (issuance/pki/chip.h). */
#include "issuance/pki/chip.h"

#endif
