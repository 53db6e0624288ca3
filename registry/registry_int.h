/* civreg registry: internals shared by the registry's files (not API). */
#ifndef CIVREG_REGISTRY_INT_H
#define CIVREG_REGISTRY_INT_H

#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "db/rows.h"
#include "db/sql.h"
#include "merkle.h"
#include "registry.h"

#define REG_USERNAME_MAX 32
#define REG_OFFICE_MAX 8
#define REG_SIG_BYTES crypto_sign_BYTES          /* 64 */
#define REG_PK_BYTES crypto_sign_PUBLICKEYBYTES  /* 32 */
#define REG_SK_BYTES crypto_sign_SECRETKEYBYTES  /* 64 */

struct registry_actor {
    char username[REG_USERNAME_MAX + 1];
    char office[REG_OFFICE_MAX + 1];      /* the user's office */
    char node_office[REG_OFFICE_MAX + 1]; /* the office running this log */
    unsigned roles;
    unsigned char pk[REG_PK_BYTES];
    unsigned char *sk; /* sodium_malloc'd, REG_SK_BYTES */
    unsigned char office_pk[REG_PK_BYTES];
    unsigned char *office_sk; /* sodium_malloc'd, REG_SK_BYTES */
    char *keys_dir;           /* where the tree-head witness is written */
    int64_t epoch;            /* users.epoch when authenticated (0: not from users) */
};

/* Current UTC time, ISO 8601. */
int reg_now(char out[TIME_ISO8601_LEN + 1], struct err *err);

/* SHA-256 as lowercase hex. */
void reg_sha256_hex(const void *p, size_t len, char out[65]);

/* A new globally unique id (db_id_new, db/sql.h), malloc'd. */
char *reg_new_id(const char *office, char kind);

/* A statement from the connection's statement cache (db_stmt_cached): constant
 * SQL on hot paths; give the statement back with reg_release, never
 * sqlite3_finalize. reg_release also finalizes a statement from db_prepare. */
int reg_prepare_cached(struct db *db, sqlite3_stmt **st, const char *sql, struct err *err);
void reg_release(struct db *db, sqlite3_stmt *st);

/* Office log key: load (or with CREATE make) the Ed25519 key of OFFICE,
 * sealed in table office_keys under keys/office-<OFFICE>.key. *SK is
 * sodium_malloc'd (free with sodium_free). */
int reg_office_key_load(struct db *db, const char *keys_dir, const char *office, bool create,
                        unsigned char pk[REG_PK_BYTES], unsigned char **sk, struct err *err);

#define REG_TREE_HEAD_V1 "civreg.tree_head.v1"
#define REG_TREE_HEAD_V2 "civreg.tree_head.v2"

/* The canonical body a tree head signature covers: version 1 (one head per
 * event, older logs) and version 2 (one head per committed transaction that
 * appended events, naming PREVIOUS, the size of the head before it, 0 for
 * the first). */
int reg_tree_head_body(const char *office, uint64_t size, const char *root_hex,
                       const char *time, struct buf *out, struct err *err);
int reg_tree_head_body_v2(const char *office, uint64_t size, uint64_t previous,
                          const char *root_hex, const char *time, struct buf *out,
                          struct err *err);
/* The body of a head given as JSON {tree_size, root_hash, time (or
 * signed_at), office, previous_size (version 2 only)}; OFFICE, when not
 * NULL, replaces the head's office. */
int reg_tree_head_body_of(const json_t *head, const char *office, struct buf *out,
                          struct err *err);
/* From a stored head's BODY at SIZE, the size of the head before it: SIZE-1
 * for version 1 (returns 0), previous_size for version 2 (returns 1); -1
 * when BODY is neither. */
int reg_tree_head_previous(const char *body, uint64_t size, uint64_t *previous);
/* The same from the head's body already parsed (B, NULL: -1). */
int reg_tree_head_previous_of(const json_t *b, uint64_t size, uint64_t *previous);

/* The log as a Merkle source over table merkle_nodes (one prepared
 * statement, released with reg_merkle_db_release). */
struct reg_merkle_db {
    struct db *db;
    sqlite3_stmt *st;
};
void reg_merkle_db_source(struct reg_merkle_db *m, struct db *db, struct merkle_source *out);
void reg_merkle_db_release(struct reg_merkle_db *m);

/* After a registry operation committed (no transaction left open on DB),
 * refresh the tree-head witness in the actor's keys folder. */
void reg_after_commit(struct db *db, const struct registry_actor *actor);

/* A registry write: run TX(DB, ARG) in a write transaction (db_tx_run:
 * retried when busy, rolled back on failure) and, once it committed,
 * refresh ACTOR's witness (reg_after_commit). Returns db_tx_run's result. */
int reg_tx_run(struct db *db, const struct registry_actor *actor,
               int (*tx)(struct db *db, void *arg, struct err *err), void *arg, struct err *err)
    __attribute__((warn_unused_result));

/* Inside a transaction: fail unless ACTOR's account is as it was when ACTOR
 * authenticated (not disabled, same epoch and roles). Actors that are not
 * rows of users (the office key, a first admin signing their own creation)
 * pass. The log calls this before every append. */
int reg_actor_check_current(struct db *db, const struct registry_actor *actor, struct err *err);

/* registry_event_append_at for an event touching one object, KIND/ID
 * (HASH and PREV may be NULL, see registry_object_ref). DATA is borrowed. */
int reg_event_append_one(struct db *db, const struct registry_actor *actor, const char *type,
                         const char *kind, const char *id, const char *hash, const char *prev,
                         const json_t *data, const char *time, uint64_t *seq, struct err *err)
    __attribute__((warn_unused_result));
/* The same for an event about two objects (A, then B; no previous hashes). */
int reg_event_append_two(struct db *db, const struct registry_actor *actor, const char *type,
                         const char *kind_a, const char *id_a, const char *hash_a,
                         const char *kind_b, const char *id_b, const char *hash_b,
                         const json_t *data, const char *time, uint64_t *seq, struct err *err)
    __attribute__((warn_unused_result));

/* reg_event_append_one inside the caller's open transaction, without a
 * savepoint of its own: the same checks, signature, leaf, subtrees and
 * signed tree head, but a failure may leave part of the event written, so
 * the caller must then roll back its whole transaction. Bulk paths use it
 * so that a savepoint per event does not flush the FTS5 tables' pending
 * terms into a new index segment per record. */
int reg_event_append_one_direct(struct db *db, const struct registry_actor *actor,
                                const char *type, const char *kind, const char *id,
                                const char *hash, const char *prev, const json_t *data,
                                const char *time, uint64_t *seq, struct err *err)
    __attribute__((warn_unused_result));

/* The log's right edge (its complete subtrees) kept in memory from one
 * direct append to the next of the same transaction, so that an append
 * does not read it back from merkle_nodes. Valid only inside the
 * transaction that filled it: a batch starts every attempt with
 * REG_FRONTIER_CACHE_INIT, and a rolled-back transaction drops it with its
 * context. An append uses it only when its size is the log's size. */
struct reg_sign_line;
struct reg_frontier_cache {
    bool valid;
    struct merkle_frontier f;
    /* the actors whose account an append of this transaction found current
     * (reg_actor_check_current): no other connection writes users while the
     * transaction holds the write lock, so the answer stands until it ends */
    const struct registry_actor *checked[4];
    size_t n_checked;
    /* or NULL: the events' signatures made on this line's thread (see
     * reg_sign_line_start); F then lags the log by the appends whose
     * signatures are pending */
    struct reg_sign_line *signer;
};
#define REG_FRONTIER_CACHE_INIT { false, MERKLE_FRONTIER_INIT, { NULL }, 0, NULL }

/* A transaction's event signatures made on a thread of their own. An append
 * with a frontier cache whose SIGNER is set writes its event row with a
 * zero signature and leaf hash and hands the body to the line's thread; a
 * later append of the transaction (or reg_sign_line_flush) takes the
 * signatures made, in log order, writes each into its row
 * (`UPDATE events SET signature, leaf_hash`) and appends the leaf to the
 * Merkle tree. The bytes signed and stored are those of the serial append;
 * nothing of the transaction may read events' signatures, leaf hashes or
 * merkle_nodes before the flush, and the transaction must not commit
 * before it. NULL when no thread starts (the appends then sign inline). */
struct reg_sign_line *reg_sign_line_start(void);
/* Every pending signature written (waiting for the thread as needed):
 * before the transaction of CACHE commits. */
int reg_sign_line_flush(struct db *db, struct reg_frontier_cache *cache, struct err *err)
    __attribute__((warn_unused_result));
/* Drop the pending appends (their transaction rolled back), waiting for
 * the thread to leave them. */
void reg_sign_line_reset(struct reg_sign_line *l);
void reg_sign_line_end(struct reg_sign_line *l);

/* reg_event_append_one_direct with the transaction's frontier CACHE (NULL:
 * none), which it reads when valid and leaves describing the new log. */
int reg_event_append_one_cached(struct db *db, const struct registry_actor *actor,
                                const char *type, const char *kind, const char *id,
                                const char *hash, const char *prev, const json_t *data,
                                const char *time, struct reg_frontier_cache *cache,
                                uint64_t *seq, struct err *err)
    __attribute__((warn_unused_result));

/* registry_event_append_at inside the caller's open transaction, without a
 * savepoint of its own (as reg_event_append_one_direct). */
int reg_event_append_at_direct(struct db *db, const struct registry_actor *actor,
                               const char *type, const json_t *objects, const json_t *data,
                               const char *time, struct reg_frontier_cache *cache,
                               uint64_t *seq, struct err *err)
    __attribute__((warn_unused_result));

/* A link statement (reg_link_sign with UNSIGNED_BODY) signed on the
 * signing line with the event whose data carries it: the line signs the
 * statement first with the event's actor's key, writes the signature's hex
 * over the placeholder in the event's body (its "data" object's first
 * member, "link", first member "signature"), then signs the body; the
 * completion writes the body with the signature into the event's row and
 * stores the person_links row (reg_link_store_signed). The bytes signed
 * and stored are those of reg_link_sign and the inline append. */
struct reg_line_link {
    struct buf statement; /* taken by the append (left empty) */
    const char *uin, *record_id;
    int version;
};
/* reg_event_append_at_direct of an event whose DATA carries LINK's
 * statement with the placeholder signature; CACHE must have a line. */
int reg_event_append_linked(struct db *db, const struct registry_actor *actor, const char *type,
                            const json_t *objects, const json_t *data, const char *time,
                            struct reg_frontier_cache *cache, struct reg_line_link *link,
                            uint64_t *seq, struct err *err)
    __attribute__((warn_unused_result));

/* What a verifier (the audit, the bundle check) found wrong: each problem
 * is formatted into one line (cut at 1023 bytes), counted in COUNT and
 * handed to REPORT when it is set. */
struct reg_problems {
    void (*report)(void *ctx, const char *problem);
    void *ctx;
    int count;
};
void reg_problem(struct reg_problems *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void reg_problemv(struct reg_problems *p, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* The number of events in the log. */
int reg_log_size(struct db *db, uint64_t *size, struct err *err);

/* Write the latest signed tree head to KEYS_DIR/tree-head.json (a witness
 * outside the database, so a truncated log is noticed). Best effort. */
void reg_witness_write(const char *keys_dir, const json_t *head);

/* Look up a user's public key / office / roles. Returns 1 when absent. */
int reg_user_lookup(struct db *db, const char *username, unsigned char pk[REG_PK_BYTES],
                    unsigned *roles, int *disabled, struct err *err);

/* Ed25519 over a canonical body. */
void reg_sign(const unsigned char *sk, const void *msg, size_t len,
              unsigned char sig[REG_SIG_BYTES]);
/* Ed25519 verification: RFC 8032's cofactored check, as the batch verifier
 * judges (core/ed25519_batch.h). */
bool reg_sig_ok(const unsigned char pk[REG_PK_BYTES], const void *msg, size_t len,
                const unsigned char *sig, size_t sig_len);

/* Resolve a record reference (record id or registration number) to the
 * record id (malloc'd). Returns 1 when not found. */
int reg_record_resolve(struct db *db, const char *ref, char **id, struct err *err);

/* Refuse (-1, "USER (office A) may not act on record ID of office B") unless
 * OFFICE is ACTOR's office; a NULL actor (the local operator) may act on all. */
int reg_record_office_check(const struct registry_actor *actor, const char *id,
                            const char *office, struct err *err);
/* reg_record_resolve, then reg_record_office_check: 0 found and allowed, 1
 * not found, -1 refused or failed (message in ERR). */
int reg_record_resolve_as(struct db *db, const struct registry_actor *actor, const char *ref,
                          char **id, struct err *err);

/* reg_record_resolve_as, with "no record 'REF'" (ERR_NOT_FOUND) when it
 * finds nothing: 0 found and allowed, -1 otherwise (message in ERR). */
int reg_record_find(struct db *db, const struct registry_actor *actor, const char *ref,
                    char **id, struct err *err);

/* registry_record_history of the record ID (an id, not a reference) with
 * no role or office check: for callers that made them already. */
int reg_record_history(struct db *db, const char *id, json_t **out, struct err *err);

/* A UIN no person holds yet (call inside the write transaction). POOLED:
 * whether the office has national UIN blocks (uin_pool has a row),
 * REG_UIN_POOL_UNKNOWN until read here, kept by a caller that registers
 * many records in one transaction (no registration adds a block; a block
 * stays once received); NULL: read each time. */
#define REG_UIN_POOL_UNKNOWN (-1)
int reg_uin_allocate(struct db *db, int *pooled, char uin[REGISTRY_UIN_LEN + 1],
                     struct err *err);
/* Store a person created by event SEQ. */
int reg_person_store(struct db *db, const char *uin, const char *record_id, const char *by,
                     const char *now, uint64_t seq, struct err *err);

/* The link statement {type, uin, record_id, record_version, record_hash,
 * person_hash, evidence[], registrar, time}, signed by ACTOR. *LINK =
 * {statement, signature (hex), signer}; LINK_HASH = SHA-256 of the
 * statement's canonical JSON (what the signature covers). UNSIGNED_BODY
 * (or NULL): the statement is not signed here; its canonical bytes go
 * there and *LINK's signature is 128 '0's, the placeholder
 * reg_event_append_linked fills in on the signing line. */
int reg_link_sign(const struct registry_actor *actor, const char *uin, const char *record_id,
                  int version, const char *record_hash, const json_t *evidence, const char *now,
                  struct buf *unsigned_body, json_t **link, char link_hash[65], struct err *err);
/* Store a link created by event SEQ. */
int reg_link_store(struct db *db, const json_t *link, uint64_t seq, struct err *err);
/* The same from its parts: STATEMENT its canonical JSON, signed SIG. */
int reg_link_store_signed(struct db *db, const char *uin, const char *record_id, int version,
                          const char *statement, const unsigned char sig[REG_SIG_BYTES],
                          const char *signer, uint64_t seq, struct err *err);
/* Check a link's signature against PK. */
bool reg_link_signature_ok(const json_t *link, const unsigned char pk[REG_PK_BYTES]);
/* The content hash of a person {uin, record_id}. */
int reg_person_hash(const char *uin, const char *record_id, char out[65], struct err *err);

/* The content hash of a user as logged: SHA-256 of the canonical JSON
 * {username, office, roles[], public_key}. */
int reg_user_hash(const char *username, const char *office, unsigned roles,
                  const unsigned char pk[REG_PK_BYTES], char out[65], json_t **content,
                  struct err *err);

/* BLOBS_DIR/ab/cd/<hash> into OUT. */
int reg_blob_path(const char *blobs_dir, const char *hash, char *out, size_t size,
                  struct err *err);
/* Re-read a blob file and check its hash and size (SIZE < 0: any). */
int reg_blob_check_file(const char *blobs_dir, const char *hash, int64_t size, struct err *err);
/* Whether S is 64 lowercase hex digits. */
bool reg_is_hash(const char *s);

/* Field-by-field differences of two normalized records (evidence aside):
 * *MISMATCHES = [{field, draft, verify}] sorted by field, [] when equal. */
int reg_record_compare(const json_t *draft, const json_t *verify, json_t **mismatches,
                       struct err *err);

/* The blind verifications of record ID's VERSION that disagreed: *ROUNDS
 * their number, *FIELDS (may be NULL; new reference or NULL) the names of
 * the fields the last one found different. */
int reg_mismatch_state(struct db *db, const char *id, int version, int *rounds, json_t **fields,
                       struct err *err);

/* Append to OUT the events touching object KIND/ID: [{seq, type, actor,
 * time, data}], oldest first. */
int reg_object_events(struct db *db, const char *kind, const char *id, json_t *out,
                      struct err *err);

/* A text field: a JSON string, NFC-normalized, no control characters, no
 * blanks at either end, at most MAX bytes; messages name PATH. New reference. */
int reg_norm_text(const char *path, const json_t *v, int max, json_t **out, struct err *err);

/* Set "deceased" (and "death" when deceased) on OBJ for person UIN (NULL:
 * nothing to add). */
int reg_death_annotate(struct db *db, const char *uin, json_t *obj, struct err *err);

/* Hex helpers that fail with a message naming WHAT. */
int reg_hex32(const char *hex, unsigned char out[32], const char *what, struct err *err);

#endif
