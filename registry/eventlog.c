/* civreg registry: the provenance log. Every state change is an event whose
 * canonical JSON the actor signs; the event (body || signature) is a leaf of
 * an RFC 6962 Merkle tree whose complete subtrees are kept in merkle_nodes,
 * and the office key signs one tree head per committed transaction that
 * appended events (civreg.tree_head.v2, signed just before it commits). */
#define _GNU_SOURCE /* pthread_setname_np */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/encode.h"
#include "core/json.h"
#include "core/log.h"
#include "core/utf8.h"
#include "db/rows.h"
#include "registry_int.h"

#define EVENT_BODY_MAX (4 << 20)

static int db_node(void *ctx, unsigned level, uint64_t index, merkle_hash out, struct err *err)
{
    struct reg_merkle_db *m = ctx;
    int rc;

    if (m->st == NULL &&
        reg_prepare_cached(m->db, &m->st, "SELECT hash FROM merkle_nodes WHERE level=?1 AND idx=?2",
                    err) != 0)
        return -1;
    sqlite3_reset(m->st);
    rc = db_bind(m->db, m->st, err, "iI", (int)level, (long long)index);
    if (rc == 0)
        rc = db_step_row(m->db, m->st, "reading merkle_nodes", err);
    if (rc == 1 && sqlite3_column_bytes(m->st, 0) == MERKLE_HASH_BYTES) {
        memcpy(out, sqlite3_column_blob(m->st, 0), MERKLE_HASH_BYTES);
        sqlite3_reset(m->st);
        return 0;
    }
    sqlite3_reset(m->st);
    if (rc < 0)
        return -1;
    return err_set(err, "merkle_nodes: subtree level %u index %llu is missing or damaged", level,
                   (unsigned long long)index);
}

void reg_merkle_db_source(struct reg_merkle_db *m, struct db *db, struct merkle_source *out)
{
    m->db = db;
    m->st = NULL;
    out->node = db_node;
    out->ctx = m;
}

void reg_merkle_db_release(struct reg_merkle_db *m)
{
    reg_release(m->db, m->st);
    m->st = NULL;
}

/* The one integer SQL (a cached statement without parameters) gives, into
 * *OUT; WHAT names it in an error. */
static int size_query(struct db *db, const char *sql, const char *what, uint64_t *out,
                      struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (reg_prepare_cached(db, &st, sql, err) != 0)
        return -1;
    rc = db_step_row(db, st, what, err);
    if (rc == 1)
        *out = (uint64_t)sqlite3_column_int64(st, 0);
    else if (rc == 0)
        db_sql_fail(db, what, err);
    reg_release(db, st);
    return rc == 1 ? 0 : -1;
}

int reg_log_size(struct db *db, uint64_t *size, struct err *err)
{
    return size_query(db, "SELECT coalesce(max(seq) + 1, 0) FROM events", "reading the log size",
                      size, err);
}

static int head_body(json_t *o, struct buf *out, struct err *err)
{
    int rc;

    if (o == NULL)
        return err_oom(err);
    rc = json_canonical(o, out, err);
    json_decref(o);
    return rc;
}

int reg_tree_head_body(const char *office, uint64_t size, const char *root_hex, const char *time,
                       struct buf *out, struct err *err)
{
    return head_body(json_pack("{s:s, s:s, s:I, s:s, s:s}", "type", REG_TREE_HEAD_V1, "office",
                               office, "tree_size", (json_int_t)size, "root_hash", root_hex,
                               "time", time),
                     out, err);
}

int reg_tree_head_body_v2(const char *office, uint64_t size, uint64_t previous,
                          const char *root_hex, const char *time, struct buf *out,
                          struct err *err)
{
    return head_body(json_pack("{s:s, s:s, s:I, s:I, s:s, s:s}", "type", REG_TREE_HEAD_V2,
                               "office", office, "tree_size", (json_int_t)size, "previous_size",
                               (json_int_t)previous, "root_hash", root_hex, "time", time),
                     out, err);
}

int reg_tree_head_body_of(const json_t *head, const char *office, struct buf *out,
                          struct err *err)
{
    const json_t *prev = json_object_get(head, "previous_size");
    const char *time = json_string_value(json_object_get(head, "time"));
    const char *root = json_string_value(json_object_get(head, "root_hash"));
    json_int_t size = json_integer_value(json_object_get(head, "tree_size"));

    if (time == NULL)
        time = json_string_value(json_object_get(head, "signed_at"));
    if (office == NULL)
        office = json_string_value(json_object_get(head, "office"));
    if (office == NULL || time == NULL || root == NULL || size <= 0 ||
        (prev != NULL && (!json_is_integer(prev) || json_integer_value(prev) < 0)))
        return err_set(err, "tree head: malformed (needs office, tree_size, root_hash, time)");
    if (prev == NULL)
        return reg_tree_head_body(office, (uint64_t)size, root, time, out, err);
    return reg_tree_head_body_v2(office, (uint64_t)size, (uint64_t)json_integer_value(prev), root,
                                 time, out, err);
}

int reg_tree_head_previous_of(const json_t *b, uint64_t size, uint64_t *previous)
{
    const char *type = json_string_value(json_object_get(b, "type"));
    const json_t *p = json_object_get(b, "previous_size");

    if (type && strcmp(type, REG_TREE_HEAD_V1) == 0 && p == NULL && size > 0) {
        *previous = size - 1;
        return 0;
    }
    if (type && strcmp(type, REG_TREE_HEAD_V2) == 0 && json_is_integer(p) &&
        json_integer_value(p) >= 0) {
        *previous = (uint64_t)json_integer_value(p);
        return 1;
    }
    return -1;
}

int reg_tree_head_previous(const char *body, uint64_t size, uint64_t *previous)
{
    json_t *b = NULL;
    int rc;

    if (body == NULL || json_parse(body, strlen(body), &b, NULL) != 0)
        return -1;
    rc = reg_tree_head_previous_of(b, size, previous);
    json_decref(b);
    return rc;
}

static json_t *head_json(const char *office, uint64_t size, const uint64_t *previous,
                         const char *root_hex, const char *time,
                         const unsigned char sig[REG_SIG_BYTES])
{
    char sig_hex[2 * REG_SIG_BYTES + 1];
    json_t *o;

    hex_encode(sig, REG_SIG_BYTES, sig_hex);
    o = json_pack("{s:I, s:s, s:s, s:s, s:s}", "tree_size", (json_int_t)size, "root_hash",
                  root_hex, "office", office, "signed_at", time, "signature", sig_hex);
    if (o && previous &&
        json_object_set_new(o, "previous_size", json_integer((json_int_t)*previous)) != 0) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

static int store_node(void *ctx, unsigned level, uint64_t index, const merkle_hash hash,
                      struct err *err)
{
    sqlite3_stmt *st = ctx;

    sqlite3_reset(st);
    sqlite3_bind_int(st, 1, (int)level);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
    sqlite3_bind_blob(st, 3, hash, MERKLE_HASH_BYTES, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return err_setk(err, ERR_INTERNAL, "db: storing merkle node: %s",
                        sqlite3_errmsg(sqlite3_db_handle(st)));
    return 0;
}

/* Load the right edge of the tree of SIZE leaves: for each set bit l of
 * SIZE, the complete subtree (l, (SIZE >> l) - 1). */
static int load_frontier(struct db *db, uint64_t size, struct merkle_frontier *f, struct err *err)
{
    struct reg_merkle_db m;
    struct merkle_source src;
    int rc = 0;

    reg_merkle_db_source(&m, db, &src);
    f->size = size;
    for (unsigned l = 0; l < 64 && rc == 0; l++)
        if ((size >> l) & 1)
            rc = src.node(src.ctx, l, (size >> l) - 1, f->nodes[l], err);
    reg_merkle_db_release(&m);
    return rc;
}

/* LEAF appended to the frontier F, its completed subtrees stored. */
static int append_leaf(struct db *db, struct merkle_frontier *f, const merkle_hash leaf,
                       struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = reg_prepare_cached(db, &st,
                                "INSERT INTO merkle_nodes(level, idx, hash) VALUES (?1, ?2, ?3)",
                                err);

    if (rc == 0)
        rc = merkle_frontier_append(f, leaf, store_node, st, err);
    reg_release(db, st);
    return rc;
}

/* The connection's tree-head signer: the node office and a copy of its key,
 * taken at each append (the actor that appended may be gone by the time
 * its transaction commits, as in a group commit). */
struct head_signer {
    char office[REG_OFFICE_MAX + 1];
    unsigned char *sk; /* sodium_malloc'd, REG_SK_BYTES */
};

static void head_signer_free(void *ctx)
{
    struct head_signer *s = ctx;

    if (s == NULL)
        return;
    sodium_free(s->sk);
    free(s);
}

static int last_head_size(struct db *db, uint64_t *size, struct err *err)
{
    return size_query(db, "SELECT coalesce(max(tree_size), 0) FROM tree_heads",
                      "reading the last tree head", size, err);
}

/* The pre-commit step of a transaction that appended events: one head
 * (civreg.tree_head.v2) over the log as the transaction leaves it, naming
 * the size of the head before it, signed by the office and stored in the
 * transaction. Sizes and root come from the tables, not from the appends:
 * events a rolled-back savepoint took away are not in them, and when all
 * were taken away there is nothing to sign. */
static int head_precommit(struct db *db, void *ctx, struct err *err)
{
    struct head_signer *s = ctx;
    struct merkle_frontier f = MERKLE_FRONTIER_INIT;
    struct buf body = BUF_INIT(4096);
    unsigned char sig[REG_SIG_BYTES];
    merkle_hash root;
    char root_hex[65], now[TIME_ISO8601_LEN + 1];
    uint64_t size, previous;
    int rc = -1;

    if (reg_log_size(db, &size, err) != 0 || last_head_size(db, &previous, err) != 0)
        return -1;
    if (size == previous)
        return 0;
    if (size < previous)
        return err_set(err, "tree heads: the last signed head covers %llu events but the log "
                            "holds %llu (log truncated?)",
                       (unsigned long long)previous, (unsigned long long)size);
    if (load_frontier(db, size, &f, err) != 0 || reg_now(now, err) != 0)
        goto out;
    merkle_frontier_root(&f, root);
    hex_encode(root, 32, root_hex);
    if (reg_tree_head_body_v2(s->office, size, previous, root_hex, now, &body, err) != 0)
        goto out;
    reg_sign(s->sk, body.data, body.len, sig);
    rc = db_run(db,
                "INSERT INTO tree_heads(tree_size, root_hash, office, signed_at, body, signature)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                "storing the tree head", err, "Ibsssb", (long long)size, root, (size_t)32,
                s->office, now, buf_str(&body), sig, (size_t)REG_SIG_BYTES);
out:
    buf_release(&body);
    return rc;
}

/* Inside the transaction of an append: have its outermost commit sign the
 * tree head with ACTOR's office key (head_precommit). */
static int head_arm(struct db *db, const struct registry_actor *actor, struct err *err)
{
    struct head_signer *s = db_tx_precommit_ctx(db, head_precommit);

    if (s == NULL) {
        if ((s = calloc(1, sizeof *s)) == NULL || (s->sk = sodium_malloc(REG_SK_BYTES)) == NULL) {
            free(s);
            return err_oom(err);
        }
        if (db_tx_precommit_set(db, head_precommit, s, head_signer_free, err) != 0) {
            head_signer_free(s);
            return -1;
        }
    }
    (void)snprintf(s->office, sizeof s->office, "%s", actor->node_office);
    memcpy(s->sk, actor->office_sk, REG_SK_BYTES);
    return db_tx_precommit_arm(db, err);
}

/* ---- the signing line (reg_sign_line_start) ---- */

/* Appends whose signature is pending at once; the oldest is written before
 * a new one is taken when the ring is full. */
#define SIGN_LINE_CAP 64
/* The thread is woken when this many bodies wait for it (or when the
 * transaction waits for a signature): a wake-up per event cost both cores
 * more than the signature's hand-over saved. */
#define SIGN_LINE_WAKE 8

struct sign_job {
    uint64_t seq;
    const unsigned char *sk; /* the actor's, alive for the transaction */
    struct buf body;         /* owned */
    unsigned char sig[REG_SIG_BYTES];
    merkle_hash leaf; /* its leaf, made with the signature */
    /* LINK.STATEMENT not empty: a link statement signed first (LINK_SIG) by
     * the same key, its hex written into BODY at LINK_AT (reg_line_link);
     * its record id owned, its signer the actor's name */
    struct reg_line_link link;
    char link_uin[REGISTRY_UIN_LEN + 1];
    size_t link_at;
    const char *signer;
    unsigned char link_sig[REG_SIG_BYTES];
};

static void sign_job_release(struct sign_job *j)
{
    buf_release(&j->body);
    buf_release(&j->link.statement);
    free((char *)j->link.record_id);
    j->link.record_id = NULL;
}

/* The job's signatures: its link statement's first, written into its body
 * over the placeholder, then the body's; then its leaf hash. */
static void sign_job_sign(struct sign_job *j)
{
    if (j->link.statement.len > 0) {
        char hex[2 * REG_SIG_BYTES + 1];
        reg_sign(j->sk, j->link.statement.data, j->link.statement.len, j->link_sig);
        hex_encode(j->link_sig, sizeof j->link_sig, hex);
        memcpy(j->body.data + j->link_at, hex, 2 * REG_SIG_BYTES);
    }
    reg_sign(j->sk, j->body.data, j->body.len, j->sig);
    merkle_event_leaf(j->body.data, j->body.len, j->sig, sizeof j->sig, j->leaf);
}

struct reg_sign_line {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* the thread waits for a job */
    pthread_cond_t done_cv; /* the transaction waits for a signature */
    struct sign_job jobs[SIGN_LINE_CAP];
    /* counters, jobs[c % CAP]: OLDEST <= SIGNED <= TAKEN; written by the
     * transaction's thread (OLDEST, TAKEN) or the line's (SIGNED), read
     * under MU */
    uint64_t oldest, signed_n, taken;
    bool stop;
    bool waiting; /* the transaction waits on DONE_CV */
};

static void *sign_line_main(void *arg)
{
    struct reg_sign_line *l = arg;

    (void)pthread_setname_np(pthread_self(), "civreg-sign"); /* for top and perf */
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (l->signed_n == l->taken && !l->stop)
            pthread_cond_wait(&l->work_cv, &l->mu);
        if (l->signed_n == l->taken)
            break;
        struct sign_job *j = &l->jobs[l->signed_n % SIGN_LINE_CAP];
        pthread_mutex_unlock(&l->mu);
        sign_job_sign(j);
        pthread_mutex_lock(&l->mu);
        l->signed_n++;
        if (l->waiting)
            pthread_cond_signal(&l->done_cv);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

struct reg_sign_line *reg_sign_line_start(void)
{
    struct reg_sign_line *l = calloc(1, sizeof *l);

    if (l == NULL)
        return NULL;
    for (size_t i = 0; i < SIGN_LINE_CAP; i++) {
        l->jobs[i].body = (struct buf)BUF_INIT(EVENT_BODY_MAX);
        l->jobs[i].link.statement = (struct buf)BUF_INIT(EVENT_BODY_MAX);
    }
    if (pthread_mutex_init(&l->mu, NULL) != 0) {
        free(l);
        return NULL;
    }
    if (pthread_cond_init(&l->work_cv, NULL) != 0) {
        pthread_mutex_destroy(&l->mu);
        free(l);
        return NULL;
    }
    if (pthread_cond_init(&l->done_cv, NULL) != 0) {
        pthread_cond_destroy(&l->work_cv);
        pthread_mutex_destroy(&l->mu);
        free(l);
        return NULL;
    }
    if (pthread_create(&l->th, NULL, sign_line_main, l) != 0) {
        pthread_cond_destroy(&l->done_cv);
        pthread_cond_destroy(&l->work_cv);
        pthread_mutex_destroy(&l->mu);
        free(l);
        return NULL;
    }
    return l;
}

/* Appends taken whose row still has no signature. */
static uint64_t sign_line_pending(struct reg_sign_line *l)
{
    return l->taken - l->oldest; /* both written by this thread only */
}

void reg_sign_line_reset(struct reg_sign_line *l)
{
    if (l == NULL)
        return;
    pthread_mutex_lock(&l->mu);
    l->waiting = true;
    pthread_cond_signal(&l->work_cv);
    while (l->signed_n != l->taken)
        pthread_cond_wait(&l->done_cv, &l->mu);
    l->waiting = false;
    pthread_mutex_unlock(&l->mu);
    for (; l->oldest != l->taken; l->oldest++)
        sign_job_release(&l->jobs[l->oldest % SIGN_LINE_CAP]);
}

void reg_sign_line_end(struct reg_sign_line *l)
{
    if (l == NULL)
        return;
    reg_sign_line_reset(l);
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_signal(&l->work_cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->th, NULL);
    pthread_cond_destroy(&l->done_cv);
    pthread_cond_destroy(&l->work_cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

/* The row of the oldest pending append, once signed (WAIT: waiting for the
 * thread; else returns 1 when it is not signed yet): its signature and
 * leaf hash stored, its leaf appended to the frontier of CACHE. */
static int sign_line_write_oldest(struct db *db, struct reg_frontier_cache *cache, bool wait,
                                  struct err *err)
{
    struct reg_sign_line *l = cache->signer;
    struct sign_job *j = &l->jobs[l->oldest % SIGN_LINE_CAP];
    int rc;

    pthread_mutex_lock(&l->mu);
    /* the thread woken only when the oldest is not signed yet: a wake-up
     * for a signature already made woke it for nothing at every append */
    if (l->signed_n == l->oldest) {
        if (!wait) {
            pthread_mutex_unlock(&l->mu);
            return 1;
        }
        l->waiting = true;
        pthread_cond_signal(&l->work_cv);
        while (l->signed_n == l->oldest)
            pthread_cond_wait(&l->done_cv, &l->mu);
        l->waiting = false;
    }
    pthread_mutex_unlock(&l->mu);

    /* the leaf of the serial append, made on the line (sign_job_sign) */
    cache->valid = false;
    rc = cache->f.size == j->seq ? 0
                                 : err_setk(err, ERR_INTERNAL,
                                            "event %llu: signed out of the log's order",
                                            (unsigned long long)j->seq);
    if (rc == 0 && j->link.statement.len == 0)
        rc = db_run(db, "UPDATE events SET signature = ?1, leaf_hash = ?2 WHERE seq = ?3",
                    "storing the event's signature", err, "bbI", j->sig, sizeof j->sig, j->leaf,
                    sizeof j->leaf, (long long)j->seq);
    /* its body now carries the link statement's signature */
    else if (rc == 0)
        rc = db_run(db,
                    "UPDATE events SET signature = ?1, leaf_hash = ?2, body = ?4 WHERE seq = ?3",
                    "storing the event's signature", err, "bbIs", j->sig, sizeof j->sig, j->leaf,
                    sizeof j->leaf, (long long)j->seq, buf_str(&j->body));
    if (rc == 0 && j->link.statement.len > 0)
        rc = reg_link_store_signed(db, j->link.uin, j->link.record_id, j->link.version,
                                   buf_str(&j->link.statement), j->link_sig, j->signer, j->seq,
                                   err);
    if (rc == 0)
        rc = append_leaf(db, &cache->f, j->leaf, err);
    if (rc != 0)
        return -1;
    cache->valid = true;
    sign_job_release(j);
    l->oldest++;
    return 0;
}

int reg_sign_line_flush(struct db *db, struct reg_frontier_cache *cache, struct err *err)
{
    if (cache == NULL || cache->signer == NULL)
        return 0;
    while (sign_line_pending(cache->signer) > 0)
        if (sign_line_write_oldest(db, cache, true, err) != 0)
            return -1;
    return 0;
}

/* Hand the body of the event SEQ, its row written, to the line of CACHE:
 * the signatures made so far written first (the oldest waited for when
 * the ring is full). BODY is taken (left empty); LINK (or NULL) too, its
 * placeholder at LINK_AT in BODY. */
static int sign_line_take(struct db *db, struct reg_frontier_cache *cache, uint64_t seq,
                          const struct registry_actor *actor, struct buf *body,
                          struct reg_line_link *link, size_t link_at, struct err *err)
{
    struct reg_sign_line *l = cache->signer;
    struct sign_job *j;
    int rc;

    while (sign_line_pending(l) > 0) {
        rc = sign_line_write_oldest(db, cache, sign_line_pending(l) == SIGN_LINE_CAP, err);
        if (rc < 0)
            return -1;
        if (rc == 1)
            break;
    }
    j = &l->jobs[l->taken % SIGN_LINE_CAP];
    if (link) {
        char *record_id = strdup(link->record_id);
        if (record_id == NULL)
            return err_oom(err);
        j->link = *link;
        j->link.record_id = record_id;
        (void)snprintf(j->link_uin, sizeof j->link_uin, "%s", link->uin);
        j->link.uin = j->link_uin;
        j->link_at = link_at;
        link->statement = (struct buf)BUF_INIT(EVENT_BODY_MAX);
    }
    j->seq = seq;
    j->sk = actor->sk;
    j->signer = actor->username;
    j->body = *body;
    *body = (struct buf)BUF_INIT(EVENT_BODY_MAX);
    pthread_mutex_lock(&l->mu);
    l->taken++;
    if (l->taken - l->signed_n >= SIGN_LINE_WAKE)
        pthread_cond_signal(&l->work_cv);
    pthread_mutex_unlock(&l->mu);
    return 0;
}

struct append {
    const struct registry_actor *actor;
    const char *type;
    const json_t *objects;
    const json_t *data;
    const char *time; /* the rows' time (version 2), NULL: now (version 1) */
    struct reg_frontier_cache *cache; /* or NULL: read from merkle_nodes */
    struct reg_line_link *link; /* or NULL: reg_event_append_linked's */
    uint64_t seq;
};

/* reg_actor_check_current, once per actor in the transaction CACHE
 * belongs to (NULL: every time). */
static int actor_current(struct db *db, struct reg_frontier_cache *cache,
                         const struct registry_actor *actor, struct err *err)
{
    size_t i, n = cache ? cache->n_checked : 0;

    for (i = 0; i < n; i++)
        if (cache->checked[i] == actor)
            return 0;
    if (reg_actor_check_current(db, actor, err) != 0)
        return -1;
    if (cache && n < sizeof cache->checked / sizeof cache->checked[0])
        cache->checked[cache->n_checked++] = actor;
    return 0;
}

/* The event's body: the canonical JSON of
 * {"v", "seq", "type", "actor", "office", "time", "objects", "data"} (v 2
 * when the rows carry the caller's time), written member by member in
 * RFC 8785 order instead of built as a jansson object and sorted: the same
 * bytes as json_canonical of that object (tests/unit/test_registry.c
 * test_event_body_canonical compares them). */
static int event_body(const struct append *a, uint64_t seq, const char *now, struct buf *out,
                      struct err *err)
{
    const struct registry_actor *actor = a->actor;

    if (buf_append_byte(out, '{') != 0)
        return err_set(err, "json: output too large");
    if (json_canonical_member_string(out, "actor", actor->username, err) != 0 ||
        json_canonical_member_value(out, "data", a->data, err) != 0 ||
        json_canonical_member_value(out, "objects", a->objects, err) != 0 ||
        json_canonical_member_string(out, "office", actor->office, err) != 0 ||
        json_canonical_member_integer(out, "seq", (json_int_t)seq, err) != 0 ||
        json_canonical_member_string(out, "time", now, err) != 0 ||
        json_canonical_member_string(out, "type", a->type, err) != 0 ||
        json_canonical_member_integer(out, "v", a->time ? 2 : 1, err) != 0)
        return -1;
    return buf_append_byte(out, '}') ? err_set(err, "json: output too large") : 0;
}

/* Where the placeholder signature of the link statement the event's data
 * carries starts in its canonical BODY (reg_line_link): "data"'s first
 * member is "link" (its other members sort after it), whose first is
 * "signature". Outside a string every '"' is unescaped and inside one
 * every '"' is escaped, so {" occurs only where an object starts. */
static int link_placeholder(const struct buf *body, size_t *at)
{
    static const char key[] = "\"data\":{\"link\":{\"signature\":\"";
    /* canonical JSON has no NUL byte (escaped as \u0000) */
    const char *text = buf_str(body), *p = strstr(text, key);
    size_t off;

    if (p == NULL)
        return -1;
    off = (size_t)(p - text) + sizeof key - 1;
    if (body->len - off < 2 * REG_SIG_BYTES + 1 || text[off + 2 * REG_SIG_BYTES] != '"' ||
        strspn(text + off, "0") < 2 * REG_SIG_BYTES)
        return -1;
    *at = off;
    return 0;
}

static int append_tx(struct db *db, void *arg, struct err *err)
{
    struct append *a = arg;
    const struct registry_actor *actor = a->actor;
    struct buf body = BUF_INIT(EVENT_BODY_MAX);
    unsigned char sig[REG_SIG_BYTES];
    merkle_hash leaf;
    struct merkle_frontier f = MERKLE_FRONTIER_INIT;
    char now[TIME_ISO8601_LEN + 1];
    uint64_t seq;
    size_t i, link_at = 0;
    json_t *o;
    int rc = -1;
    /* signed on the transaction's line (reg_sign_line_start) */
    bool deferred = a->cache && a->cache->signer;

    /* Checked in the same transaction as the append: an account disabled or
     * changed by another process after this actor signed in signs nothing
     * more, so the audit never meets an event signed after a disable. */
    if (actor_current(db, a->cache, actor, err) != 0)
        goto out;
    /* The log's size: the frontier the previous append of this transaction
     * left describes it (no other connection appends while the transaction
     * holds the write lock, and a failed append leaves the cache invalid);
     * else read. A stale size could only collide with a stored seq, which
     * the events table's key refuses. */
    if (deferred && a->cache->valid)
        seq = a->cache->f.size + sign_line_pending(a->cache->signer);
    else if (deferred && sign_line_pending(a->cache->signer) > 0) {
        err_setk(err, ERR_INTERNAL, "event %s: signatures pending after a failed append", a->type);
        goto out;
    } else if (a->cache && a->cache->valid)
        seq = a->cache->f.size;
    else if (reg_log_size(db, &seq, err) != 0)
        goto out;
    /* Version 2: the rows written with this event carry exactly its time,
     * so `audit verify` can rebuild their time columns from the log. */
    if (a->time)
        (void)snprintf(now, sizeof now, "%s", a->time);
    else if (reg_now(now, err) != 0)
        goto out;
    if (event_body(a, seq, now, &body, err) != 0) {
        err_prefix(err, "event %s", a->type);
        goto out;
    }
    if (a->link && (!deferred || link_placeholder(&body, &link_at) != 0)) {
        err_setk(err, ERR_INTERNAL, "event %s: no link statement to sign on the line", a->type);
        goto out;
    }
    if (deferred) {
        /* written when the line has signed (sign_line_write_oldest) */
        memset(sig, 0, sizeof sig);
        memset(leaf, 0, sizeof leaf);
    } else {
        reg_sign(actor->sk, body.data, body.len, sig);
        merkle_event_leaf(body.data, body.len, sig, sizeof sig, leaf);
    }

    if (db_run(db,
               "INSERT INTO events(seq, type, actor, office, created_at, body, signature,"
               " leaf_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
               "appending the event", err, "Isssssbb", (long long)seq, a->type, actor->username,
               actor->office, now, buf_str(&body), sig, sizeof sig, leaf, sizeof leaf) != 0)
        goto out;
    json_array_foreach(a->objects, i, o) {
        if (db_run(db,
                   "INSERT OR IGNORE INTO event_objects(kind, object_id, seq) VALUES (?1, ?2, ?3)",
                   "indexing the event's objects", err, "ssI",
                   json_string_value(json_object_get(o, "kind")),
                   json_string_value(json_object_get(o, "id")), (long long)seq) != 0)
            goto out;
    }

    if (deferred) {
        /* the frontier stays at the oldest pending append's seq; read
         * from the stored subtrees when this is the first */
        if (!a->cache->valid) {
            if (load_frontier(db, seq, &a->cache->f, err) != 0)
                goto out;
            a->cache->valid = true;
        }
        if (sign_line_take(db, a->cache, seq, actor, &body, a->link, link_at, err) != 0)
            goto out;
    } else {
        /* the frontier the previous append of this transaction left, if
         * it describes exactly this log; else the stored subtrees */
        if (a->cache && a->cache->valid)
            f = a->cache->f;
        else if (load_frontier(db, seq, &f, err) != 0)
            goto out;
        if (a->cache)
            a->cache->valid = false;
        if (append_leaf(db, &f, leaf, err) != 0)
            goto out;
    }
    /* the transaction's one tree head is signed when it commits */
    if (head_arm(db, actor, err) != 0)
        goto out;
    if (a->cache && !deferred) {
        a->cache->f = f;
        a->cache->valid = true;
    }
    a->seq = seq;
    rc = 0;
out:
    buf_release(&body);
    return rc;
}

static int check_objects(const json_t *objects, struct err *err)
{
    size_t i;
    json_t *o;

    if (!json_is_array(objects))
        return err_set(err, "event: objects must be an array");
    json_array_foreach(objects, i, o) {
        if (!json_is_object(o) || !json_is_string(json_object_get(o, "kind")) ||
            !json_is_string(json_object_get(o, "id")))
            return err_set(err, "event: objects[%zu] needs string kind and id", i);
    }
    return 0;
}

int registry_event_append(struct db *db, const struct registry_actor *actor, const char *type,
                          const json_t *objects, const json_t *data, uint64_t *seq,
                          struct err *err)
{
    return registry_event_append_at(db, actor, type, objects, data, NULL, seq, err);
}

/* DIRECT: append inside the caller's transaction without a savepoint of
 * its own (see reg_event_append_one_direct), with the frontier CACHE (or
 * NULL) of that transaction. */
static int event_append(struct db *db, const struct registry_actor *actor, const char *type,
                        const json_t *objects, const json_t *data, const char *time, bool direct,
                        struct reg_frontier_cache *cache, struct reg_line_link *link,
                        uint64_t *seq, struct err *err)
{
    struct append a = { actor, type, objects, data, time, direct ? cache : NULL, link, 0 };
    json_t *empty_objects = NULL, *empty_data = NULL;
    int rc;

    if (actor == NULL || actor->sk == NULL || actor->office_sk == NULL)
        return err_set(err, "event: no signing actor");
    if (type == NULL || *type == '\0' || strlen(type) > 64)
        return err_set(err, "event: type must be 1 to 64 characters");
    /* before the body's own check, whose message would name the type */
    if (!utf8_valid(type, strlen(type)))
        return err_set(err, "event: type is not valid UTF-8");
    if (time && strlen(time) != TIME_ISO8601_LEN)
        return err_set(err, "event: time must be YYYY-MM-DDTHH:MM:SSZ");
    if (objects == NULL)
        a.objects = empty_objects = json_array();
    if (data == NULL)
        a.data = empty_data = json_object();
    else if (!json_is_object(data))
        return err_set(err, "event: data must be an object");
    if (a.objects == NULL || a.data == NULL) {
        json_decref(empty_objects);
        json_decref(empty_data);
        return err_setk(err, ERR_INTERNAL, "event: out of memory");
    }
    rc = check_objects(a.objects, err);
    if (rc == 0 && direct && sqlite3_get_autocommit(db_handle(db)))
        rc = err_setk(err, ERR_INTERNAL, "event: a direct append needs a transaction");
    else if (rc == 0)
        rc = direct ? append_tx(db, &a, err) : db_tx_run(db, append_tx, &a, err);
    json_decref(empty_objects);
    json_decref(empty_data);
    if (rc != 0)
        return -1;
    if (seq)
        *seq = a.seq;
    reg_after_commit(db, actor);
    return 0;
}

int registry_event_append_at(struct db *db, const struct registry_actor *actor, const char *type,
                             const json_t *objects, const json_t *data, const char *time,
                             uint64_t *seq, struct err *err)
{
    return event_append(db, actor, type, objects, data, time, false, NULL, NULL, seq, err);
}

int reg_event_append_at_direct(struct db *db, const struct registry_actor *actor,
                               const char *type, const json_t *objects, const json_t *data,
                               const char *time, struct reg_frontier_cache *cache,
                               uint64_t *seq, struct err *err)
{
    return event_append(db, actor, type, objects, data, time, true, cache, NULL, seq, err);
}

int reg_event_append_linked(struct db *db, const struct registry_actor *actor, const char *type,
                            const json_t *objects, const json_t *data, const char *time,
                            struct reg_frontier_cache *cache, struct reg_line_link *link,
                            uint64_t *seq, struct err *err)
{
    return event_append(db, actor, type, objects, data, time, true, cache, link, seq, err);
}

int registry_log_head(struct db *db, json_t **out, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = -1, step;

    *out = NULL;
    step = db_query_row(db, &st,
                        "SELECT tree_size, root_hash, office, signed_at, signature, body"
                        " FROM tree_heads ORDER BY tree_size DESC LIMIT 1",
                        "reading tree heads", err, "");
    if (step == 1) {
        char root_hex[65];
        unsigned char sig[REG_SIG_BYTES] = { 0 };
        uint64_t size = (uint64_t)sqlite3_column_int64(st, 0), previous = 0;
        /* a v2 head names the size before it: the witness carries it */
        int v = reg_tree_head_previous((const char *)sqlite3_column_text(st, 5), size, &previous);
        if (v < 0 || sqlite3_column_bytes(st, 1) != 32 ||
            sqlite3_column_bytes(st, 4) != REG_SIG_BYTES) {
            err_set(err, "tree_heads: latest row is damaged");
            goto out;
        }
        hex_encode(sqlite3_column_blob(st, 1), 32, root_hex);
        memcpy(sig, sqlite3_column_blob(st, 4), sizeof sig);
        *out = head_json((const char *)sqlite3_column_text(st, 2), size, v == 1 ? &previous : NULL,
                         root_hex, (const char *)sqlite3_column_text(st, 3), sig);
        rc = *out ? 0 : err_oom(err);
    } else if (step == 0) {
        err_set(err, "the log is empty (no signed tree head yet)");
    }
out:
    sqlite3_finalize(st);
    return rc;
}

void reg_witness_write(const char *keys_dir, const json_t *head)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    struct buf b = BUF_INIT(4096);
    struct err err = ERR_INIT;
    int fd = -1;

    if (keys_dir == NULL || head == NULL)
        return;
    if (snprintf(path, sizeof path, "%s/tree-head.json", keys_dir) >= (int)sizeof path ||
        snprintf(tmp, sizeof tmp, "%s/.tree-head.XXXXXX", keys_dir) >= (int)sizeof tmp)
        return;
    if (json_dump_compact(head, &b, &err) != 0 || buf_append_byte(&b, '\n') != 0)
        goto out;
    fd = mkstemp(tmp);
    if (fd < 0) {
        log_warn("registry: cannot write the tree-head witness in %s: %s", keys_dir,
                 strerror(errno));
        goto out;
    }
    errno = 0;
    if (write(fd, b.data, b.len) != (ssize_t)b.len) {
        log_warn("registry: cannot write the tree-head witness %s: %s", tmp,
                 errno ? strerror(errno) : "short write");
        goto out; /* closes and removes the temporary file */
    }
    /* close() releases the descriptor even when it reports an error */
    if (close(fd) != 0) {
        fd = -1;
        (void)unlink(tmp);
        goto out;
    }
    fd = -1;
    /* Readers only ever see a whole file. Several writers may race; any of
     * their heads is a true head no larger than the log. */
    if (rename(tmp, path) != 0)
        (void)unlink(tmp);
out:
    if (fd >= 0) {
        close(fd);
        (void)unlink(tmp);
    }
    buf_release(&b);
}

void reg_after_commit(struct db *db, const struct registry_actor *actor)
{
    json_t *head = NULL;

    /* Inside a caller's transaction the head is not durable yet: the next
     * committed operation refreshes the witness. */
    if (actor == NULL || actor->keys_dir == NULL || !sqlite3_get_autocommit(db_handle(db)))
        return;
    if (registry_log_head(db, &head, NULL) == 0)
        reg_witness_write(actor->keys_dir, head);
    json_decref(head);
}

void registry_witness_refresh(struct db *db, const struct registry_actor *actor)
{
    reg_after_commit(db, actor);
}

int reg_tx_run(struct db *db, const struct registry_actor *actor,
               int (*tx)(struct db *db, void *arg, struct err *err), void *arg, struct err *err)
{
    if (db_tx_run(db, tx, arg, err) != 0)
        return -1;
    reg_after_commit(db, actor);
    return 0;
}

/* Append event TYPE about OBJECTS (a new reference, taken; NULL is out of
 * memory). DIRECT: no savepoint of its own (see event_append). */
static int append_objects(struct db *db, const struct registry_actor *actor, const char *type,
                          json_t *objects, const json_t *data, const char *time, bool direct,
                          struct reg_frontier_cache *cache, uint64_t *seq, struct err *err)
{
    int rc;

    if (objects == NULL)
        return err_oom(err);
    rc = event_append(db, actor, type, objects, data, time, direct, cache, NULL, seq, err);
    json_decref(objects);
    return rc;
}

int reg_event_append_one(struct db *db, const struct registry_actor *actor, const char *type,
                         const char *kind, const char *id, const char *hash, const char *prev,
                         const json_t *data, const char *time, uint64_t *seq, struct err *err)
{
    return append_objects(db, actor, type,
                          json_pack("[o]", registry_object_ref(kind, id, hash, prev)), data, time,
                          false, NULL, seq, err);
}

int reg_event_append_one_direct(struct db *db, const struct registry_actor *actor,
                                const char *type, const char *kind, const char *id,
                                const char *hash, const char *prev, const json_t *data,
                                const char *time, uint64_t *seq, struct err *err)
{
    return reg_event_append_one_cached(db, actor, type, kind, id, hash, prev, data, time, NULL,
                                       seq, err);
}

int reg_event_append_one_cached(struct db *db, const struct registry_actor *actor,
                                const char *type, const char *kind, const char *id,
                                const char *hash, const char *prev, const json_t *data,
                                const char *time, struct reg_frontier_cache *cache,
                                uint64_t *seq, struct err *err)
{
    return append_objects(db, actor, type,
                          json_pack("[o]", registry_object_ref(kind, id, hash, prev)), data, time,
                          true, cache, seq, err);
}

int reg_event_append_two(struct db *db, const struct registry_actor *actor, const char *type,
                         const char *kind_a, const char *id_a, const char *hash_a,
                         const char *kind_b, const char *id_b, const char *hash_b,
                         const json_t *data, const char *time, uint64_t *seq, struct err *err)
{
    return append_objects(db, actor, type,
                          json_pack("[o, o]", registry_object_ref(kind_a, id_a, hash_a, NULL),
                                    registry_object_ref(kind_b, id_b, hash_b, NULL)),
                          data, time, false, NULL, seq, err);
}
