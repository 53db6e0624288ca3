/* civreg issuance: the passport office's applications and documents.
 *
 *   enrol (enrolment officer) -> submitted
 *   approve (approver, not the enrolling officer) -> approved: a document
 *       number is allocated and a blank booklet reserved
 *   reject (approver, not the enrolling officer, with a reason) -> rejected
 *   personalize (issuance operator) -> personalized: data page PDF and chip
 *       package from the same holder data and MRZ
 *   qc pass -> qc_passed | qc fail (reason) -> qc_failed, booklet spoiled,
 *       personalize again on a fresh booklet
 *   issue (issuance operator) -> issued: the document becomes valid; a
 *       renewal or replacement cancels the document it replaces
 *   collect (issuance operator, the holder at the counter) -> collected
 *
 * Document status afterwards: lost, stolen, revoked, cancelled, expired,
 * each with a reason and evidence (blob hashes). Every step is one
 * transaction and one or more signed events whose objects name the
 * application, the document number, the person (UIN), the birth record and
 * the blobs, so the audit trace runs from a document number back to the
 * scanned register page.
 */
#ifndef CIVREG_ISSUANCE_OFFICE_APP_H
#define CIVREG_ISSUANCE_OFFICE_APP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "office.h"

struct registry_actor;
struct pki;

/* The national tier an office_national_fetch asks (its CTX). */
struct office_national {
    const char *url; /* national_url */
    const char *ca;  /* CA certificates verifying https (national_ca); NULL: the system's */
    int timeout_s;   /* each request, connect to answer; 0: the client's default */
};

/* Asks the national tier (CTX: a struct office_national) for the person
 * UIN this office does not hold, signing as the office of DB with the key
 * in KEYS_DIR: *ANSWER (new reference) is its answer, unverified
 * (office_app_enrol verifies it); -1 with ERR when the nation cannot be
 * asked or says no. */
struct db;
typedef int (*office_national_fetch)(void *ctx, struct db *db, const char *keys_dir,
                                     const char *uin, json_t **answer, struct err *err);

/* The office context of a command or web request. */
struct office_env {
    struct db *db;
    const char *blobs_dir;               /* the data directory's blobs/ */
    const char *keys_dir;                /* the data directory's keys/ (PKI) */
    const struct registry_actor *reg;    /* the signed-in user */
    struct pki *pki;                     /* document signer for chips; NULL = none */
    struct office_actor actor;           /* filled by office_env_init */
    office_national_fetch national;      /* NULL: no national tier configured */
    void *national_ctx;
};

/* Fill ENV->actor from ENV->reg: username, office, roles, and a log that
 * appends to the registry's provenance log signed by that user. */
void office_env_init(struct office_env *env);

struct office_enrolment {
    const char *uin;          /* the person (required) */
    const char *doc_type;     /* "TD3" (default) or "TD1" */
    const char *kind;         /* "new" (default), "renewal", "replacement" */
    const char *replaces;     /* document number; required for renewal/replacement */
    const char *primary_identifier;   /* names as presented; NULL = from the record */
    const char *secondary_identifier;
    const unsigned char *photo;       /* JPEG, 35:45 (photo_check_portrait) */
    size_t photo_len;
    const unsigned char *signature;   /* JPEG or PNG, optional */
    size_t signature_len;
    const json_t *contact;            /* {"phone","email","address"}, optional */
};

/* Enrol: checks and stores each evidence check (record registered, person
 * not deceased, no other valid or pending document of the type unless a
 * renewal/replacement of it, names consistent with the record). Refuses
 * with the failed check's message. *OUT (may be NULL): the application.
 * A person this office does not hold is asked of ENV->national; the answer
 * is verified (registry_national_person) and stored as an evidence blob the
 * application.enrol event cites ("national_evidence"), so the provenance
 * verifies offline with `civreg audit verify-bundle`. */
int office_app_enrol(struct office_env *env, const struct office_enrolment *e, json_t **out,
                     struct err *err) __attribute__((warn_unused_result));

/* Approve (allocating the number and reserving a booklet) or reject with a
 * reason. Four eyes: refused for the officer who enrolled it. */
int office_app_approve(struct office_env *env, const char *id, json_t **out, struct err *err)
    __attribute__((warn_unused_result));
int office_app_reject(struct office_env *env, const char *id, const char *reason,
                      struct err *err) __attribute__((warn_unused_result));

/* Personalize: MRZ, data page PDF and (when a document signer exists) the
 * chip package, stored as blobs. Refused unless approved (or qc_failed).
 * *OUT (may be NULL): {application, document_number, mrz, datapage, chip}. */
int office_app_personalize(struct office_env *env, const char *id, json_t **out,
                           struct err *err) __attribute__((warn_unused_result));

/* Quality control of the personalized document: PASS, or not with REASON
 * (the booklet is spoiled with it). */
int office_app_qc(struct office_env *env, const char *id, bool pass, const char *reason,
                  struct err *err) __attribute__((warn_unused_result));

int office_app_issue(struct office_env *env, const char *id, struct err *err)
    __attribute__((warn_unused_result));
int office_app_collect(struct office_env *env, const char *id, struct err *err)
    __attribute__((warn_unused_result));

/* One application, with its checks and document. */
int office_app_show(struct office_env *env, const char *id, json_t **out, struct err *err)
    __attribute__((warn_unused_result));
/* Applications in STATUS (NULL = all), newest first, at most LIMIT (0 = 100). */
int office_app_list(struct office_env *env, const char *status, int limit, json_t **out,
                    struct err *err) __attribute__((warn_unused_result));

/* The stored data page PDF / chip package manifest of an application. */
int office_app_datapage(struct office_env *env, const char *id, unsigned char **pdf,
                        size_t *len, struct err *err) __attribute__((warn_unused_result));

/* Write the application's chip package (one file per elementary file,
 * named by FID, and manifest.json) into DIR, which must not exist or be
 * empty. Fails when the application has none. */
/* Quality control with the chip read-back REPORT (may be NULL): the report
 * is stored as an evidence blob and cited (hash) by the signed
 * application.qc.pass / application.qc.fail event; REPORT_HASH (65 bytes,
 * may be NULL) gets its hash. */
int office_app_qc_report(struct office_env *env, const char *id, bool pass, const char *reason,
                         const json_t *report, char *report_hash, struct err *err) __attribute__((warn_unused_result));

/* Chip-loading only: unseal the chip's private keys of application ID (AA
 * and CA, sealed under keys/chip.key at personalization) into DIR as
 * aa-private-key.p8 / ca-private-key.p8, mode 0600. 0 when it has none. */
int office_app_chip_keys(struct office_env *env, const char *id, const char *dir,
                         struct err *err) __attribute__((warn_unused_result));
int office_app_chip_package(struct office_env *env, const char *id, const char *dir,
                            struct err *err) __attribute__((warn_unused_result));

/* ---- documents (documents.c) ---- */

/* Set a document's status: "lost", "stolen", "revoked", "cancelled" or
 * "expired", with REASON and EVIDENCE (array of blob hashes, may be NULL). */
int office_document_set_status(struct office_env *env, const char *number, const char *status,
                               const char *reason, const json_t *evidence, struct err *err)
    __attribute__((warn_unused_result));

/* A document: {number, doc_type, status, uin, application_id, ...}. */
int office_document_show(struct office_env *env, const char *number, json_t **out,
                         struct err *err) __attribute__((warn_unused_result));

/* Mark valid documents whose expiry date has passed as expired (one event
 * each). *COUNT receives how many. */
int office_documents_expire(struct office_env *env, int *count, struct err *err)
    __attribute__((warn_unused_result));

/* Lost, stolen and revoked document numbers for alert lists, in the
 * fields of INTERPOL's SLTD database: document number, document type
 * (passport / identity card), issuing country, status (lost / stolen /
 * revoked), date of the report, date of issue and expiry, blank or
 * personalized. FORMAT "csv" (RFC 4180, header row) or "json". */
int office_documents_alerts(struct office_env *env, const char *format, struct buf *out,
                            struct err *err) __attribute__((warn_unused_result));

/* The provenance of a document number: the document, its application and
 * their events, then the registry's trace of the person (record versions,
 * link statements, scans). */
int office_document_trace(struct office_env *env, const char *number, json_t **out,
                          struct err *err) __attribute__((warn_unused_result));

#endif
