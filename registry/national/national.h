/* civreg national tier: district logs synced into PostgreSQL.
 *
 * Each district keeps its own signed, append-only log (registry/); it pushes
 * new events to the national tier with their signatures, the record versions
 * they sign, the latest signed tree head and an RFC 6962 consistency proof
 * from the last head the national tier accepted. The national tier checks
 * every signature and the proof before storing anything, keeps the accepted
 * head per office, refuses and flags a district whose log forked, and
 * projects the events into national tables (persons, birth records, deaths)
 * searched across offices. See docs/national.md.
 *
 * Conventions as registry.h: 0 success, -1 with a message in ERR; json_t
 * results are new references.
 */
#ifndef CIVREG_REGISTRY_NATIONAL_H
#define CIVREG_REGISTRY_NATIONAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct db;
struct pg;

/* Why a push or request was refused: the transport maps it to a status. */
enum national_refusal {
    NATIONAL_OK = 0,
    NATIONAL_BAD_REQUEST = 1, /* malformed, 400 */
    NATIONAL_UNAUTHORIZED,    /* unknown office, bad signature, replay: 401 */
    NATIONAL_STALE,           /* push not from the accepted size: 409, retry */
    NATIONAL_FORK,            /* the district's log forked: 409, alarm raised */
    NATIONAL_REFUSED,         /* a check failed (signature, proof, UIN): 422 */
    NATIONAL_NOT_FOUND,       /* 404 */
    NATIONAL_INTERNAL,        /* database failure: 500 */
};

/* ---- the national store (store.c) ---- */

/* Create or upgrade the national schema (db/national migrations). */
int national_init(const char *pg_url, int *version, struct err *err)
    __attribute__((warn_unused_result));

/* Register office OFFICE with its log public key (64 hex). Refuses a
 * different key for an office already registered. */
int national_office_add(struct pg *pg, const char *office, const char *key_hex, struct err *err)
    __attribute__((warn_unused_result));

/* Every office: {office, tree_size, root_hash, last_push_at, lag_seconds,
 * fork_alarm, forks[{position, accepted_size, district_size, detail, detected_at,
 * cleared_at, cleared_by, clear_reason}]}, and
 * totals. */
int national_status(struct pg *pg, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* Clear OFFICE's fork alarm: BY (the operator, 1-64 bytes) and REASON
 * (1-500 bytes, UTF-8) are kept with every fork row not cleared yet
 * (*CLEARED: how many), in one transaction. The accepted head is unchanged:
 * a district still on the rewritten history is refused again. Fails when
 * the office has no alarm. */
int national_fork_clear(struct pg *pg, const char *office, const char *by, const char *reason,
                        long *cleared, struct err *err) __attribute__((warn_unused_result));

/* ---- requests (accept.c, query.c), each a JSON body from office OFFICE
 * already authenticated by national_auth_check ---- */

/* {tree_size, root_hash, fork_alarm} of OFFICE. */
int national_head(struct pg *pg, const char *office, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* Verify and store one push (see docs/national.md for the message).
 * Returns NATIONAL_OK with *OUT {tree_size, root_hash}, or a refusal with
 * ERR naming what failed and *OUT (may be NULL) details. */
enum national_refusal national_push(struct pg *pg, const char *office, const json_t *req,
                                    json_t **out, struct err *err);

/* Threads national_push verifies event signatures on (0, the default: the
 * processors online, at most 8; 1: the calling thread only). Process-wide;
 * set before serving. */
void national_set_verify_threads(unsigned n);

/* The person UIN from any office as an offline-verifiable bundle
 * (civreg.bundle.v1: signed tree head, events with inclusion proofs,
 * record versions, link statements) plus {office, office_key, uin,
 * deceased, death?}. */
enum national_refusal national_person(struct pg *pg, const char *uin, json_t **out,
                                      struct err *err);

/* National search on the district name keys (pg_trgm): QUERY folded as
 * the district folds names. [{office, record_id, uin, registration_number,
 * name, birth_date, score, deceased}] best first. */
int national_search(struct pg *pg, const char *query, int limit, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* Cross-district duplicate cases. */
int national_duplicates(struct pg *pg, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* The cases OFFICE is party to (NULL: all): [{id, office_a, record_a,
 * office_b, record_b, why, status open|same|distinct, opened_at, name,
 * birth_date, uin_a, uin_b, resolutions[{office, seq}]}]; a resolution is a
 * signed national.duplicate event of that office's log naming the case
 * "OFFICE_A/RECORD_A|OFFICE_B/RECORD_B". */
int national_duplicates_of(struct pg *pg, const char *office, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* Deaths of every office after CURSORS ({office: last event seq the
 * asking district holds}, NULL = none), ordered by office and event, at
 * most LIMIT (0: 5000): {deaths[{office, uin, registration_number,
 * date_of_death, event_seq}]}. */
int national_deaths_since(struct pg *pg, const json_t *cursors, int limit, json_t **out,
                          struct err *err) __attribute__((warn_unused_result));

/* Reserve COUNT fresh random Verhoeff-valid UINs for OFFICE nationally. */
enum national_refusal national_uin_block(struct pg *pg, const char *office, int count,
                                         json_t **out, struct err *err);

/* ---- request authentication (auth.c) ---- */

#define NATIONAL_CLOCK_SKEW 300 /* seconds a request's time may differ */

/* The string an office signs for a request: method, path, office, time,
 * nonce and the SHA-256 of the body. OUT is at least 512 bytes. */
int national_auth_string(const char *method, const char *path, const char *office,
                         const char *time, const char *nonce, const void *body, size_t len,
                         char *out, size_t size, struct err *err);

/* Check a request: OFFICE is registered, TIME within the skew, SIG_HEX
 * the office key's Ed25519 signature of the auth string, NONCE never seen
 * (recorded, committed, before the request runs). */
enum national_refusal national_auth_check(struct pg *pg, const char *method, const char *path,
                                          const char *office, const char *time,
                                          const char *nonce, const char *sig_hex,
                                          const void *body, size_t len, struct err *err);

/* ---- the district side (push.c) ---- */

/* A client of the national tier at URL signing requests as the office of
 * the data directory (its log key). An https:// server is verified against
 * the CA certificates in the PEM file CA instead of the system's (NULL: the
 * system's). Each request is bounded to TIMEOUT_S seconds, from connect to
 * the end of the answer (0: the default, 600 s); the connection and TLS
 * handshake take at most 10 s or TIMEOUT_S when shorter. Every client is
 * bounded: a refused connection fails at once naming the address. A bound
 * passed has error code national_timeout; a tier refused, unreachable or
 * closing early national_unreachable (kind busy, both). */
struct national_client;
int national_client_open(const char *url, const char *ca, int timeout_s, struct db *db,
                         const char *keys_dir, struct national_client **out, struct err *err)
    __attribute__((warn_unused_result));
void national_client_free(struct national_client *c);

/* One signed POST of BODY to PATH: *STATUS and *RESPONSE (parsed JSON). */
int national_client_post(struct national_client *c, const char *path, const json_t *body,
                         int *status, json_t **response, struct err *err)
    __attribute__((warn_unused_result));

/* The national answer for person UIN (civreg.bundle.v1 with "national"),
 * unverified: registry_national_person checks it. -1 with ERR (the
 * service's message) unless the service answered 200. */
int national_fetch_person(struct national_client *c, const char *uin, json_t **answer,
                          struct err *err) __attribute__((warn_unused_result));

/* Pull the deaths every other office registered that this district does
 * not hold yet into its national_deaths (registry_national_death_add);
 * *COUNT how many arrived. Idempotent: resumes from the highest event of
 * each office it holds. */
int national_sync_deaths(struct national_client *c, struct db *db, long *count,
                         struct err *err) __attribute__((warn_unused_result));

struct national_push_stats {
    uint64_t from, to;  /* national size before and after */
    uint64_t batches;
};

/* Push every event the national tier does not hold, BATCH events per
 * request (0: 2000). Idempotent: asks the national head first and resumes
 * from it. A fork is reported with the district's signed head and its leaf
 * hashes up to the accepted size, so the national tier names the first
 * rewritten position. */
int national_sync_push(struct national_client *c, struct db *db, unsigned batch,
                       struct national_push_stats *stats, struct err *err)
    __attribute__((warn_unused_result));

/* ---- cross-district duplicate cases, the district side (cases.c) ---- */

struct registry_actor;

/* The cases this office is party to, as the national tier lists them
 * (`duplicates`): *CASES an array of {id, office_a, record_a, office_b,
 * record_b, why, status, opened_at, name, birth_date, uin_a, uin_b, a, b,
 * resolutions}, a and b each record's summary. A refusal of the service has
 * error code national_refused. */
int national_dup_cases(struct national_client *c, json_t **cases, struct err *err)
    __attribute__((warn_unused_result));

/* Resolve case ID of this office as the registrar ACTOR: SAME (one birth
 * registered twice) or not, with REASON. The case as the national tier
 * lists it now (not found: kind not_found, code national_case_unknown),
 * the signed national.duplicate event (registry_national_dup_resolve) in
 * *SEQ, then a push so the nation records it: *HELD the national size of
 * this office's log after it. -1 with *SEQ >= 0 when the event was
 * appended but the push failed (the next push, or the background sync,
 * carries it). */
int national_dup_resolve_case(struct national_client *c, struct db *db,
                              const struct registry_actor *actor, long long id, bool same,
                              const char *reason, long long *seq, uint64_t *held,
                              struct err *err) __attribute__((warn_unused_result));

/* ---- the district's national UIN blocks (uin_pool.c) ---- */

#define NATIONAL_UIN_LOW 200    /* ask for a new block below this many unused */
#define NATIONAL_UIN_BLOCK 1000 /* UINs per block */

/* Unused and total UINs the district holds from national blocks. */
int national_uin_pool_count(struct db *db, uint64_t *unused, uint64_t *total, struct err *err)
    __attribute__((warn_unused_result));

/* Ask the national tier for a block of COUNT UINs reserved for this office
 * and store it in the district (all or none); *RECEIVED new UINs. */
int national_uin_block_fetch(struct national_client *c, struct db *db, int count, int *received,
                             struct err *err) __attribute__((warn_unused_result));

/* When the district holds national UINs and fewer than LOW are unused,
 * fetch a block of COUNT. An office that never fetched a block is left
 * alone (*RECEIVED 0). */
int national_uin_topup(struct national_client *c, struct db *db, int low, int count,
                       int *received, struct err *err) __attribute__((warn_unused_result));

/* ---- background sync from `civreg serve` (bgsync.c) ---- */

#define NATIONAL_SYNC_INTERVAL 60 /* seconds between pushes when nothing changed */
#define NATIONAL_SYNC_TIMEOUT 600 /* s: a request of the CLI or background sync */

struct datadir;
struct national_bgsync;
struct national_bgsync_opts {
    struct datadir *dd;      /* the district; outlives the thread */
    const char *keys_dir;    /* its office key */
    const char *url, *ca;    /* national_url, national_ca (NULL: system CAs) */
    const char *status_path; /* JSON status written after every attempt */
    unsigned interval_s;     /* 0: NATIONAL_SYNC_INTERVAL */
    unsigned poll_ms;        /* how often the log size is looked at; 0: 1000 */
    int uin_low, uin_block;  /* 0: NATIONAL_UIN_LOW, NATIONAL_UIN_BLOCK */
    int timeout_s;           /* each request (national_client_open); 0: 600 */
};

/* Start the thread that pushes the district log whenever it grows (and
 * every interval), tops the UIN block up, and backs off (2 s doubling to
 * 300 s) while the national tier is unreachable or refuses. It has its own
 * database connection; nothing it does waits on a web worker or makes one
 * wait. Refuses a malformed URL. */
int national_bgsync_start(const struct national_bgsync_opts *o, struct national_bgsync **out,
                          struct err *err) __attribute__((warn_unused_result));
/* Push now (after a backoff has passed). */
void national_bgsync_kick(struct national_bgsync *s);
/* Stop and join the thread (an attempt in flight completes). NULL: no-op. */
void national_bgsync_stop(struct national_bgsync *s);

/* ---- the service (serve.c) ---- */

struct national_serve_opts {
    const char *pg_url;
    const char *listen; /* ADDR:PORT, port 0 picks one */
    const char *tls_cert, *tls_key; /* PEM files: serve HTTPS */
    /* without TLS, plain HTTP only on a loopback address and only when set */
    bool insecure_loopback;
    /* whether CivetWeb can do TLS here (web_tls_usable); required with TLS */
    int (*tls_check)(struct err *err);
    int threads;
    /* called once listening, with the port */
    void (*ready)(void *ctx, int port);
    void *ctx;
};
/* Run until SIGINT/SIGTERM. */
int national_serve(const struct national_serve_opts *o, struct err *err)
    __attribute__((warn_unused_result));

#endif
