/* civreg registry: signature checks of `audit verify` on every core (not API).
 *
 * Worker threads, each on its own read-only connection, walk the events and
 * the signed tree heads ahead of the audit and verify their Ed25519
 * signatures: a tree head under the office key, an event under the key the
 * log published for its actor before it (read from the user.add / user.key
 * events up front). The audit itself still decides, in log order, which key
 * must verify each signature; audit_par_sig_ok hands it a worker's result
 * only when the worker checked exactly those bytes under exactly that key
 * (the worker's copy of key, signature and message, compared byte for
 * byte), and verifies the signature itself otherwise. So the report is the
 * same with or without workers; only the time differs (a worker verifies in
 * batches, core/ed25519_batch.h, whose cofactored equation also accepts a
 * signature only the key's holder could make and libsodium refuses: see
 * docs/architecture.md). Memory is bounded: the workers stay at most
 * AUDIT_PAR_WINDOW entries ahead of the audit. */
#ifndef CIVREG_REGISTRY_AUDIT_PAR_H
#define CIVREG_REGISTRY_AUDIT_PAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

struct audit_par;

/* What is signed: an event's body (by its actor), a tree head's body (by
 * the office), or the canonical link statement an event carries in
 * data.link (by data.link.signer). */
enum audit_par_kind { AUDIT_PAR_EVENT, AUDIT_PAR_HEAD, AUDIT_PAR_LINK };

/* Start the workers for the log in DB (OFFICE_PK: the office key the audit
 * trusts, or NULL). Returns NULL (check serially) on one CPU, when
 * CIVREG_AUDIT_THREADS=1, or when a worker cannot start. */
struct audit_par *audit_par_start(struct db *db, const unsigned char *office_pk);

/* Whether SIG is PK's Ed25519 signature of MSG: event SEQ, the tree head
 * of size SEQ, or the link statement of event SEQ. Calls for one kind come
 * in increasing SEQ order. P may be NULL (then it verifies inline). For an
 * event, LEAF (MERKLE_HASH_BYTES) and HAVE_LEAF, when not NULL: when the
 * worker's copy was exactly MSG and SIG, LEAF receives the event's leaf
 * hash the worker computed from it (merkle_event_leaf) and *HAVE_LEAF is
 * set; otherwise both are left as they are. */
bool audit_par_sig_ok(struct audit_par *p, enum audit_par_kind kind, uint64_t seq,
                      const unsigned char *pk, const void *msg, size_t len,
                      const unsigned char *sig, size_t sig_len, unsigned char *leaf,
                      bool *have_leaf);

/* Stop and join the workers; NULL is a no-op. */
void audit_par_stop(struct audit_par *p);

/* The search index recomputation (reg_audit_search) on its own thread and
 * connection, beside the event loop: it reads only the stored tables and
 * writes only its connection's TEMP tables, so it does not wait for the
 * replay. Its problems are held and reported, in their order, by
 * audit_search_finish, at the point of the audit where the serial audit
 * reports them. Returns NULL (the recomputation runs inline in
 * audit_search_finish) on one CPU, with CIVREG_AUDIT_THREADS=1, for an
 * in-memory database, inside a transaction (another connection would not
 * see its writes) or when the thread cannot start. */
struct audit_search_job *audit_search_start(struct db *db);

/* Wait for J (or run the recomputation on DB when J is NULL), report its
 * problems through PROBLEM and free J. Returns what reg_audit_search
 * returned, its error in ERR. */
int audit_search_finish(struct audit_search_job *j, struct db *db,
                        void (*problem)(void *, const char *), void *ctx, struct err *err);

/* Wait for J and free it, reporting nothing (an audit that failed before
 * its search comparison). NULL is a no-op. */
void audit_search_drop(struct audit_search_job *j);

#endif
