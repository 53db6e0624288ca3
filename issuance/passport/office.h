/* civreg issuance: the passport office's store. Document numbers (a
 * configurable series valid for the MRZ, unique, never reused), blank
 * booklet stock (ranges received, one reserved per approved application,
 * personalized or spoiled with a reason, a stock report), and the
 * applications workflow built on them (office_app.h).
 *
 * Every change runs in one transaction (a savepoint inside the caller's) and
 * appends a signed event to the provenance log through the actor's LOG
 * function; when that fails, nothing changes. json_t results are new
 * references the caller json_decref()s. Nothing here prints.
 */
#ifndef CIVREG_ISSUANCE_OFFICE_H
#define CIVREG_ISSUANCE_OFFICE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct db;

/* Roles, with the same bits as the registry's users (registry.h). */
enum {
    OFFICE_ROLE_ENROLMENT_OFFICER = 1 << 2,
    OFFICE_ROLE_APPROVER = 1 << 3,
    OFFICE_ROLE_ISSUANCE_OPERATOR = 1 << 4,
    OFFICE_ROLE_AUDITOR = 1 << 5,
    OFFICE_ROLE_ADMIN = 1 << 6,
};

/* Who acts, and how their events are signed and logged: LOG appends one
 * event (TYPE, OBJECTS array of {kind,id,hash}, DATA object) to the
 * provenance log inside the current transaction, signed by this actor, with
 * TIME (the transaction's, which its rows carry) as the event's time
 * (office_env_init wires it to registry_event_append_at: version 2). */
struct office_actor {
    const char *username;
    const char *office;
    unsigned roles;
    int (*log)(void *ctx, struct db *db, const char *type, const json_t *objects,
               const json_t *data, const char *time, struct err *err);
    void *log_ctx;
};

/* ---- document numbers (numbers.c) ---- */

/* Document types: "TD3" (passport booklet), "TD1" (identity card). */
int office_doc_type_check(const char *doc_type, struct err *err)
    __attribute__((warn_unused_result));

/* Check a number pattern: literal A-Z and 0-9, {seq:N} exactly once (N 3..9
 * digits, zero-padded), optional {office} and {yy} (two-digit year of
 * allocation). Every number it can produce must fit the MRZ document number
 * field of DOC_TYPE: 9 characters for TD3 (Doc 9303-4), at most 22 for TD1
 * (Doc 9303-5, the overflow into the optional data) -- and so that readers
 * never see a filler inside a number, only A-Z and 0-9. OFFICE may be NULL
 * when the pattern has no {office}. */
int office_number_pattern_check(const char *pattern, const char *doc_type, const char *office,
                                struct err *err) __attribute__((warn_unused_result));

/* Expand PATTERN for sequence SEQ (OFFICE, YEAR as above) into OUT
 * (32 bytes). Fails when SEQ does not fit {seq:N}. */
int office_number_format(const char *pattern, const char *office, int year, uint64_t seq,
                         char out[32], struct err *err) __attribute__((warn_unused_result));

/* Set DOC_TYPE's pattern (admin). The sequence carries on: a new pattern
 * never restarts it, and any number already allocated is skipped. */
int office_number_series_set(struct db *db, const struct office_actor *actor,
                             const char *doc_type, const char *pattern, struct err *err)
    __attribute__((warn_unused_result));

/* The series of every type: [{doc_type, pattern, next_seq, configured}]
 * (an unconfigured type shows its default pattern). */
int office_number_series_list(struct db *db, const char *office, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* Allocate the next number of DOC_TYPE inside the caller's transaction
 * (BEGIN IMMEDIATE serializes concurrent allocations: no two callers ever
 * get the same number, and a number once allocated is never given again).
 * OUT gets the number. Used by approval; exposed for tests and benchmarks. */
int office_number_allocate(struct db *db, const struct office_actor *actor,
                           const char *doc_type, char out[32], struct err *err)
    __attribute__((warn_unused_result));

/* ---- booklet stock (booklets.c) ---- */

/* Receive the range FIRST..LAST of blank serials (same prefix of letters,
 * same number of digits, FIRST <= LAST, at most 100000) for DOC_TYPE, with a
 * delivery REFERENCE. Refuses, changing nothing, when any serial is already
 * in stock. *BATCH (may be NULL): {id, doc_type, first, last, count}. */
int office_booklets_receive(struct db *db, const struct office_actor *actor,
                            const char *doc_type, const char *first, const char *last,
                            const char *reference, json_t **batch, struct err *err)
    __attribute__((warn_unused_result));

/* Reserve the lowest blank serial of DOC_TYPE for APPLICATION_ID inside the
 * caller's transaction. Fails with "no blank TD3 booklets in stock". */
int office_booklet_reserve(struct db *db, const struct office_actor *actor,
                           const char *doc_type, const char *application_id, char out[32],
                           struct err *err) __attribute__((warn_unused_result));

/* Mark SERIAL (reserved for APPLICATION_ID) personalized. */
int office_booklet_personalize(struct db *db, const struct office_actor *actor,
                               const char *serial, const char *application_id,
                               struct err *err) __attribute__((warn_unused_result));

/* Record SERIAL as spoiled (blank or reserved: misprint, damage, loss in
 * the office) with a REASON. A spoiled booklet never returns to stock. */
int office_booklet_spoil(struct db *db, const struct office_actor *actor, const char *serial,
                         const char *reason, struct err *err) __attribute__((warn_unused_result));

/* Stock report: {types: {TD3: {blank, reserved, personalized, spoiled,
 * total}, TD1: {...}}, batches: [...], spoiled: [{serial, reason, at, by}]}. */
int office_booklet_report(struct db *db, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* One booklet: {serial, doc_type, batch_id, status, application_id, reason,
 * movements: [...]}. */
int office_booklet_show(struct db *db, const char *serial, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* ---- audit (office_projection.c) ---- */

/* The office's tables as `audit verify` rebuilds them from the log: give
 * it to registry_audit_register (registry/projection.h) at start-up. */
struct proj_module;
const struct proj_module *office_projection(void);

#endif
