/* civreg registry: signature checks of `audit verify` in worker threads
 * (see audit_par.h for the contract). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_par.h"
#include "core/ed25519_batch.h"
#include "core/encode.h"
#include "core/json.h"
#include "db/rows.h"
#include "merkle.h"
#include "projection_int.h"
#include "registry_int.h"

#define AUDIT_PAR_WINDOW 4096 /* entries of one kind a worker may run ahead */
/* A worker publishes its checks a batch at a time (ED_BATCH_MAX signatures):
 * when the audit must wait for one, it sleeps until the batch holding the
 * entry it asked about is published; a worker stopped at the window sleeps
 * until the audit has moved this far: one wake-up for that many entries
 * instead of one or two per entry (well below AUDIT_PAR_WINDOW, so neither
 * waits for what the other cannot reach). */
#define AUDIT_PAR_BATCH 64
#define AUDIT_PAR_PER_KIND_MAX 4
#define AUDIT_PAR_KINDS 3

/* What a worker checked: the key, the signature and the message, one copy
 * (checked = key || signature || message), which the audit compares byte for
 * byte with what it asks about (cheaper than a digest on both sides). The
 * slot owns the copy until the audit takes it. */
struct par_slot {
    uint64_t seq;
    unsigned char *checked;
    size_t checked_len;
    bool ok, set;
    bool have_leaf;   /* an event's: leaf is merkle_event_leaf of its message and signature */
    merkle_hash leaf;
};

struct par_key {
    uint64_t seq;
    char *username;
    unsigned char pk[REG_PK_BYTES];
};

struct par_worker {
    struct audit_par *p;
    pthread_t th;
    enum audit_par_kind kind;
    unsigned index;
    bool started;
};

struct audit_par {
    char *path;
    unsigned n; /* workers per kind */
    struct par_worker w[AUDIT_PAR_KINDS * AUDIT_PAR_PER_KIND_MAX];
    unsigned char office_pk[REG_PK_BYTES];
    bool have_office_pk;
    struct par_key *keys;
    size_t nkeys;
    pthread_mutex_t mu;
    pthread_cond_t progress, advance;
    uint64_t main_pos[AUDIT_PAR_KINDS];
    /* the audit sleeps until done[k][want_idx[k]] > want[k] (waiting[k]) */
    uint64_t want[AUDIT_PAR_KINDS];
    unsigned want_idx[AUDIT_PAR_KINDS];
    bool waiting[AUDIT_PAR_KINDS];
    /* worker (k, i) sleeps at the window until main_pos[k] >= resume[k][i] */
    uint64_t resume[AUDIT_PAR_KINDS][AUDIT_PAR_PER_KIND_MAX];
    bool stalled[AUDIT_PAR_KINDS][AUDIT_PAR_PER_KIND_MAX];
    /* every seq of the class below is handled */
    uint64_t done[AUDIT_PAR_KINDS][AUDIT_PAR_PER_KIND_MAX];
    bool finished[AUDIT_PAR_KINDS][AUDIT_PAR_PER_KIND_MAX];
    bool stop;
    struct par_slot *ring[AUDIT_PAR_KINDS];
};

/* Into S: a copy of the key PK, the signature SIG and the message MSG a
 * worker checks (the verdict comes with its batch; out of memory: S stays
 * unset and the audit checks itself). */
static void slot_fill(struct par_slot *s, const unsigned char *pk, const void *msg, size_t len,
                      const unsigned char *sig)
{
    s->checked = malloc(REG_PK_BYTES + REG_SIG_BYTES + len);
    s->set = s->checked != NULL;
    s->ok = false;
    if (!s->set)
        return;
    memcpy(s->checked, pk, REG_PK_BYTES);
    memcpy(s->checked + REG_PK_BYTES, sig, REG_SIG_BYTES);
    memcpy(s->checked + REG_PK_BYTES + REG_SIG_BYTES, msg, len);
    s->checked_len = REG_PK_BYTES + REG_SIG_BYTES + len;
}

/* Whether slot S checked exactly PK, SIG (REG_SIG_BYTES) and MSG. */
static bool slot_same(const struct par_slot *s, const unsigned char *pk, const void *msg,
                      size_t len, const unsigned char *sig)
{
    return s->checked_len == REG_PK_BYTES + REG_SIG_BYTES + len &&
           memcmp(s->checked, pk, REG_PK_BYTES) == 0 &&
           memcmp(s->checked + REG_PK_BYTES, sig, REG_SIG_BYTES) == 0 &&
           memcmp(s->checked + REG_PK_BYTES + REG_SIG_BYTES, msg, len) == 0;
}

/* The key the log published for ACTOR before event SEQ (a first admin's own
 * user.add carries the key that signs it), or NULL. */
static const unsigned char *guess_key(const struct audit_par *p, const char *actor, uint64_t seq)
{
    if (strncmp(actor, "office:", 7) == 0)
        return p->have_office_pk ? p->office_pk : NULL;
    for (size_t i = p->nkeys; i-- > 0;)
        if (p->keys[i].seq < seq && strcmp(p->keys[i].username, actor) == 0)
            return p->keys[i].pk;
    for (size_t i = 0; i < p->nkeys; i++)
        if (p->keys[i].seq == seq && strcmp(p->keys[i].username, actor) == 0)
            return p->keys[i].pk;
    return NULL;
}

static void link_check_parsed(const struct audit_par *p, uint64_t seq, const char *body,
                              size_t len, struct par_slot *s);

/* The end of the JSON value at S (before END): the byte after it, or NULL.
 * Enough for canonical JSON (strings with escapes, nested objects and
 * arrays); anything else it cannot follow gives NULL. */
static const char *value_end(const char *s, const char *end)
{
    int depth = 0;

    do {
        if (s >= end)
            return NULL;
        if (*s == '"') {
            for (s++; s < end && *s != '"'; s++)
                if (*s == '\\')
                    s++;
            if (s >= end)
                return NULL;
        } else if (*s == '{' || *s == '[') {
            depth++;
        } else if (*s == '}' || *s == ']') {
            if (--depth < 0)
                return NULL;
        } else if (depth == 0) {
            while (s + 1 < end && s[1] != ',' && s[1] != '}' && s[1] != ']')
                s++;
        }
        s++;
    } while (depth > 0);
    return s;
}

/* In a canonical body the canonical statement of data.link is the bytes
 * between "statement": and the link's closing brace: found without parsing
 * the body. A body this misreads (not canonical, a "link" elsewhere) only
 * makes the worker check other bytes than the audit asks about: the copies
 * differ and the audit checks the link itself. Returns false when the body
 * has no link of that shape. */
static bool link_in_body(const char *body, size_t len, const char **stmt, size_t *stmt_len,
                         const char **sig_hex, char *signer, size_t signer_size)
{
    static const char k_link[] = "\"link\":{\"signature\":\"", k_signer[] = "\",\"signer\":\"",
                      k_stmt[] = "\",\"statement\":";
    const char *end = body + len, *at = body, *q;

    /* the first "link":{"signature":" of the body */
    while ((at = memchr(at, '"', (size_t)(end - at))) != NULL &&
           ((size_t)(end - at) < sizeof k_link - 1 || memcmp(at, k_link, sizeof k_link - 1) != 0))
        at++;
    if (at == NULL)
        return false;
    *sig_hex = at + sizeof k_link - 1;
    if ((size_t)(end - *sig_hex) < 2 * REG_SIG_BYTES + sizeof k_signer - 1)
        return false;
    q = *sig_hex + 2 * REG_SIG_BYTES;
    if (memcmp(q, k_signer, sizeof k_signer - 1) != 0)
        return false;
    q += sizeof k_signer - 1;
    at = memchr(q, '"', (size_t)(end - q));
    if (at == NULL || (size_t)(at - q) >= signer_size || memchr(q, '\\', (size_t)(at - q)))
        return false;
    memcpy(signer, q, (size_t)(at - q));
    signer[at - q] = '\0';
    if ((size_t)(end - at) < sizeof k_stmt - 1 || memcmp(at, k_stmt, sizeof k_stmt - 1) != 0)
        return false;
    *stmt = at + sizeof k_stmt - 1;
    if (*stmt >= end || **stmt != '{' || (q = value_end(*stmt, end)) == NULL)
        return false;
    *stmt_len = (size_t)(q - *stmt);
    return true;
}

/* The link statement event SEQ carries in BODY (data.link): its canonical
 * statement, signature and the signer's key, copied into S for checking. S->set stays
 * false when the event has no readable link (the audit judges those). */
static void link_check(const struct audit_par *p, uint64_t seq, const char *body, size_t len,
                       struct par_slot *s)
{
    const char *stmt, *hex;
    char who[256];
    size_t stmt_len, got = 0;
    unsigned char raw[REG_SIG_BYTES];
    const unsigned char *key;

    if (link_in_body(body, len, &stmt, &stmt_len, &hex, who, sizeof who) &&
        (key = guess_key(p, who, seq)) != NULL &&
        hex_decode(hex, 2 * REG_SIG_BYTES, raw, sizeof raw, &got, NULL) == 0 &&
        got == REG_SIG_BYTES) {
        slot_fill(s, key, stmt, stmt_len, raw);
        return;
    }
    link_check_parsed(p, seq, body, len, s);
}

/* link_check by parsing the body (what link_in_body cannot read). */
static void link_check_parsed(const struct audit_par *p, uint64_t seq, const char *body,
                              size_t len, struct par_slot *s)
{
    json_t *b = NULL;
    const json_t *link;
    const char *signer, *sig_hex;
    const unsigned char *pk;
    struct buf canon = BUF_INIT(64 * 1024);
    unsigned char sig[REG_SIG_BYTES];
    size_t n = 0;

    s->set = false;
    if (json_parse(body, len, &b, NULL) != 0)
        return;
    link = json_object_get(json_object_get(b, "data"), "link");
    signer = json_string_value(json_object_get(link, "signer"));
    sig_hex = json_string_value(json_object_get(link, "signature"));
    pk = signer ? guess_key(p, signer, seq) : NULL;
    if (pk && sig_hex && strlen(sig_hex) == 2 * REG_SIG_BYTES &&
        hex_decode(sig_hex, strlen(sig_hex), sig, sizeof sig, &n, NULL) == 0 &&
        n == REG_SIG_BYTES && json_canonical(json_object_get(link, "statement"), &canon, NULL) == 0) {
        slot_fill(s, pk, canon.data, canon.len, sig);
    }
    buf_release(&canon);
    json_decref(b);
}

/* Wake the audit (under P->mu) when it sleeps for worker IDX of kind K and
 * that worker got where the audit wants it. */
static void progress_wake(struct audit_par *p, int k, unsigned idx)
{
    if (p->waiting[k] && p->want_idx[k] == idx &&
        (p->done[k][idx] > p->want[k] || p->finished[k][idx]))
        pthread_cond_broadcast(&p->progress);
}

/* A worker's rows copied and not yet verified: their slots are published,
 * with their verdicts, all at once when the batch is verified. */
struct par_batch {
    size_t n;
    struct par_slot slot[ED_BATCH_MAX];
    struct ed_batch_item item[ED_BATCH_MAX];
};

/* Verify worker (K, IDX)'s batch B in one call, then publish its slots and
 * DONE (every seq of the class below it handled) under P->mu at once: the
 * audit never sees an entry as done before its slot is there. */
static void batch_flush(struct audit_par *p, int k, unsigned idx, struct par_batch *b,
                        uint64_t done)
{
    bool ok[ED_BATCH_MAX];
    unsigned char *old[ED_BATCH_MAX];

    if (b->n > 0)
        (void)ed25519_batch_verify(b->item, b->n, ok);
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < b->n; i++) {
        struct par_slot *r = &p->ring[k][b->slot[i].seq % AUDIT_PAR_WINDOW];
        /* a copy the audit never asked for (an event it judged without a
         * worker) is dropped when its slot is reused */
        old[i] = r->checked;
        *r = b->slot[i];
        r->ok = ok[i];
    }
    if (done > p->done[k][idx])
        p->done[k][idx] = done;
    progress_wake(p, k, idx);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < b->n; i++)
        free(old[i]);
    b->n = 0;
}

/* Into B: the copy S made of the row SEQ (when S is set), its item pointing
 * into the copy. */
static void batch_add(struct par_batch *b, const struct par_slot *s)
{
    struct ed_batch_item *it = &b->item[b->n];

    if (!s->set)
        return;
    b->slot[b->n] = *s;
    it->pk = s->checked;
    it->sig = s->checked + REG_PK_BYTES;
    it->msg = s->checked + REG_PK_BYTES + REG_SIG_BYTES;
    it->len = s->checked_len - REG_PK_BYTES - REG_SIG_BYTES;
    b->n++;
}

static const char *const worker_sql[AUDIT_PAR_KINDS] = {
    "SELECT seq, actor, body, signature FROM events ORDER BY seq",
    "SELECT tree_size, office, body, signature FROM tree_heads ORDER BY tree_size",
    /* only events that may carry a link statement (canonical JSON names it
     * "link":); any other the audit asks about it verifies itself */
    "SELECT seq, actor, body, NULL FROM events WHERE instr(body, '\"link\":') > 0 ORDER BY seq",
};

/* Worker (K, IDX) copies its rows (seq % n == IDX) into batches of up to
 * ED_BATCH_MAX and verifies each batch in one call. A batch is published
 * when full, before the worker sleeps at its window and after its last
 * row: an entry the audit waits for is published at the latest when the
 * worker reaches the window's end, which it does without the audit. Not
 * when the audit waits: a worker the audit caught up with would then
 * publish batches of one, each a slower check than its share of a full one,
 * and fall further behind. */
static void *worker_main(void *arg)
{
    struct par_worker *w = arg;
    struct audit_par *p = w->p;
    struct db *db = NULL;
    struct err err = ERR_INIT;
    sqlite3_stmt *st = NULL;
    const int k = (int)w->kind;
    const unsigned idx = w->index;
    struct par_batch *b = calloc(1, sizeof *b);
    uint64_t handled = 0; /* every seq of the class below it is in B or published */

    if (b == NULL || db_open(p->path, DB_OPEN_CHECK, &db, &err) != 0 ||
        sqlite3_prepare_v2(db_handle(db), worker_sql[k], -1, &st, NULL) != SQLITE_OK)
        goto out;
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
        const char *actor = (const char *)sqlite3_column_text(st, 1);
        const void *body = sqlite3_column_blob(st, 2);
        size_t len = (size_t)sqlite3_column_bytes(st, 2);
        const unsigned char *sig = sqlite3_column_blob(st, 3);
        const unsigned char *pk;
        struct par_slot s = { .seq = seq };
        uint64_t reach; /* the last entry this row may put in the window */
        bool stop, stall;

        if (__atomic_load_n(&p->stop, __ATOMIC_RELAXED))
            break;
        if (seq % p->n != idx)
            continue;
        if (seq > handled)
            handled = seq; /* rows come in order: everything below is handled */
        pthread_mutex_lock(&p->mu);
        if (b->n == 0 && handled > p->done[k][idx]) {
            p->done[k][idx] = handled;
            progress_wake(p, k, idx);
        }
        /* a new batch starts only when the whole of it (ED_BATCH_MAX of the
         * class's entries) fits in the window: it would otherwise stop at
         * the window's end and publish part of a batch each time the audit
         * lets it on */
        reach = b->n == 0 ? seq + (uint64_t)ED_BATCH_MAX * p->n - 1 : seq;
        stall = !p->stop && reach >= p->main_pos[k] + AUDIT_PAR_WINDOW;
        pthread_mutex_unlock(&p->mu);
        if (stall) {
            if (b->n > 0)
                batch_flush(p, k, idx, b, handled);
            pthread_mutex_lock(&p->mu);
            if (!p->stop && reach >= p->main_pos[k] + AUDIT_PAR_WINDOW) {
                p->resume[k][idx] = reach - AUDIT_PAR_WINDOW + AUDIT_PAR_BATCH;
                p->stalled[k][idx] = true;
                while (!p->stop && p->main_pos[k] < p->resume[k][idx])
                    pthread_cond_wait(&p->advance, &p->mu);
                p->stalled[k][idx] = false;
            }
            stop = p->stop;
            pthread_mutex_unlock(&p->mu);
            if (stop)
                break;
        }
        if (w->kind == AUDIT_PAR_LINK) {
            if (body)
                link_check(p, seq, body, len, &s);
        } else {
            pk = w->kind == AUDIT_PAR_HEAD ? (p->have_office_pk ? p->office_pk : NULL)
                                           : (actor ? guess_key(p, actor, seq) : NULL);
            if (pk != NULL && sig != NULL && sqlite3_column_bytes(st, 3) == REG_SIG_BYTES &&
                body != NULL)
                slot_fill(&s, pk, body, len, sig);
            if (s.set && w->kind == AUDIT_PAR_EVENT) {
                /* the event's leaf hash, off the audit's thread */
                merkle_event_leaf(body, len, sig, REG_SIG_BYTES, s.leaf);
                s.have_leaf = true;
            }
        }
        batch_add(b, &s);
        handled = seq + 1;
        if (b->n == ED_BATCH_MAX)
            batch_flush(p, k, idx, b, handled);
    }
    if (!__atomic_load_n(&p->stop, __ATOMIC_RELAXED))
        batch_flush(p, k, idx, b, handled);
out:
    for (size_t i = 0; b && i < b->n; i++) /* stopped: never published */
        free(b->slot[i].checked);
    free(b);
    sqlite3_finalize(st);
    db_close(db);
    pthread_mutex_lock(&p->mu);
    p->finished[k][idx] = true;
    pthread_cond_broadcast(&p->progress);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static int load_keys(struct audit_par *p, struct db *db)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, s;

    if (sqlite3_prepare_v2(db_handle(db),
                           "SELECT seq, body FROM events WHERE type IN ('user.add', 'user.key')"
                           " ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *b = NULL, *d;
        const char *user, *hex;
        struct par_key key;
        if (db_column_parse(st, 1, &b, NULL) != 0)
            continue; /* the audit reports it */
        d = json_object_get(b, "data");
        user = json_string_value(json_object_get(d, "username"));
        hex = json_string_value(json_object_get(d, "public_key"));
        key.seq = (uint64_t)sqlite3_column_int64(st, 0);
        if (user && hex && reg_hex32(hex, key.pk, "key", NULL) == 0 &&
            (key.username = strdup(user)) != NULL) {
            struct par_key *grown = realloc(p->keys, (p->nkeys + 1) * sizeof *grown);
            if (grown == NULL) {
                free(key.username);
                rc = -1;
            } else {
                p->keys = grown;
                p->keys[p->nkeys++] = key;
            }
        }
        json_decref(b);
        if (rc != 0)
            break;
    }
    if (s != SQLITE_DONE && s != SQLITE_ROW)
        rc = -1;
    sqlite3_finalize(st);
    return rc;
}

static unsigned threads_wanted(void)
{
    const char *env = getenv("CIVREG_AUDIT_THREADS");
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end == '\0' && v >= 1 && v <= 64)
            n = v;
    }
    return n < 1 ? 1u : (unsigned)n;
}

struct audit_par *audit_par_start(struct db *db, const unsigned char *office_pk)
{
    unsigned cpus = threads_wanted();
    struct audit_par *p;

    if (cpus < 2 || strcmp(db_path(db), ":memory:") == 0 || db_path(db)[0] == '\0')
        return NULL;
    p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->n = cpus / 2 < 1 ? 1 : cpus / 2;
    if (p->n > AUDIT_PAR_PER_KIND_MAX)
        p->n = AUDIT_PAR_PER_KIND_MAX;
    if (office_pk) {
        memcpy(p->office_pk, office_pk, REG_PK_BYTES);
        p->have_office_pk = true;
    }
    p->path = strdup(db_path(db));
    for (unsigned k = 0; k < AUDIT_PAR_KINDS; k++)
        p->ring[k] = calloc(AUDIT_PAR_WINDOW, sizeof *p->ring[k]);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->progress, NULL);
    pthread_cond_init(&p->advance, NULL);
    if (p->path == NULL || p->ring[0] == NULL || p->ring[1] == NULL || p->ring[2] == NULL ||
        load_keys(p, db) != 0) {
        audit_par_stop(p);
        return NULL;
    }
    for (unsigned k = 0; k < AUDIT_PAR_KINDS; k++)
        for (unsigned i = 0; i < p->n; i++) {
            struct par_worker *w = &p->w[k * p->n + i];
            w->p = p;
            w->kind = (enum audit_par_kind)k;
            w->index = i;
            w->started = pthread_create(&w->th, NULL, worker_main, w) == 0;
            if (!w->started)
                p->finished[k][i] = true;
        }
    return p;
}

bool audit_par_sig_ok(struct audit_par *p, enum audit_par_kind kind, uint64_t seq,
                      const unsigned char *pk, const void *msg, size_t len,
                      const unsigned char *sig, size_t sig_len, unsigned char *leaf,
                      bool *have_leaf)
{
    struct par_slot s = { .seq = 0 };
    const int k = (int)kind;
    unsigned idx;
    bool same;

    if (p == NULL || sig == NULL || sig_len != REG_SIG_BYTES)
        return reg_sig_ok(pk, msg, len, sig, sig_len);
    idx = (unsigned)(seq % p->n);
    pthread_mutex_lock(&p->mu);
    if (seq > p->main_pos[k]) {
        p->main_pos[k] = seq;
        for (unsigned i = 0; i < p->n; i++)
            if (p->stalled[k][i] && seq >= p->resume[k][i]) {
                pthread_cond_broadcast(&p->advance);
                break;
            }
    }
    if (!p->finished[k][idx] && p->done[k][idx] <= seq) {
        p->want[k] = seq; /* until the worker publishes the batch holding it */
        p->want_idx[k] = idx;
        p->waiting[k] = true;
        while (!p->finished[k][idx] && p->done[k][idx] <= p->want[k])
            pthread_cond_wait(&p->progress, &p->mu);
        p->waiting[k] = false;
    }
    if (p->ring[k][seq % AUDIT_PAR_WINDOW].set && p->ring[k][seq % AUDIT_PAR_WINDOW].seq == seq) {
        s = p->ring[k][seq % AUDIT_PAR_WINDOW]; /* the audit takes the copy */
        p->ring[k][seq % AUDIT_PAR_WINDOW].set = false;
        p->ring[k][seq % AUDIT_PAR_WINDOW].checked = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    same = s.set && slot_same(&s, pk, msg, len, sig);
    free(s.checked);
    if (same && leaf && have_leaf && s.have_leaf) {
        memcpy(leaf, s.leaf, MERKLE_HASH_BYTES);
        *have_leaf = true;
    }
    if (same)
        return s.ok;
    return reg_sig_ok(pk, msg, len, sig, sig_len);
}

void audit_par_stop(struct audit_par *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    __atomic_store_n(&p->stop, true, __ATOMIC_RELAXED);
    pthread_cond_broadcast(&p->advance);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < sizeof p->w / sizeof p->w[0]; i++)
        if (p->w[i].started)
            pthread_join(p->w[i].th, NULL);
    for (size_t i = 0; i < p->nkeys; i++)
        free(p->keys[i].username);
    free(p->keys);
    for (unsigned k = 0; k < AUDIT_PAR_KINDS; k++) {
        for (size_t i = 0; p->ring[k] && i < AUDIT_PAR_WINDOW; i++)
            free(p->ring[k][i].checked);
        free(p->ring[k]);
    }
    free(p->path);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->progress);
    pthread_cond_destroy(&p->advance);
    free(p);
}

/* ---- the search index recomputation beside the event loop ---- */

#define AUDIT_SEARCH_LINES_MAX (1u << 20) /* reg_audit_search reports a few dozen lines */

struct audit_search_job {
    char *path;
    pthread_t th;
    struct buf lines; /* the problems, each NUL-terminated, in order */
    bool lost;        /* a line did not fit: reported at finish */
    int rc;
    struct err err;
};

static void hold_line(void *ctx, const char *line)
{
    struct audit_search_job *j = ctx;

    if (buf_append(&j->lines, line, strlen(line) + 1) != 0)
        j->lost = true;
}

static void *search_main(void *arg)
{
    struct audit_search_job *j = arg;
    struct db *db = NULL;

    j->rc = db_open(j->path, DB_OPEN_CHECK, &db, &j->err);
    if (j->rc == 0)
        j->rc = reg_audit_search(db, hold_line, j, &j->err);
    db_close(db);
    return NULL;
}

struct audit_search_job *audit_search_start(struct db *db)
{
    struct audit_search_job *j;

    if (threads_wanted() < 2 || strcmp(db_path(db), ":memory:") == 0 || db_path(db)[0] == '\0' ||
        !sqlite3_get_autocommit(db_handle(db)))
        return NULL;
    j = calloc(1, sizeof *j);
    if (j == NULL)
        return NULL;
    j->lines = (struct buf)BUF_INIT(AUDIT_SEARCH_LINES_MAX);
    j->err = (struct err)ERR_INIT;
    j->path = strdup(db_path(db));
    if (j->path == NULL || pthread_create(&j->th, NULL, search_main, j) != 0) {
        free(j->path);
        free(j);
        return NULL;
    }
    return j;
}

static void search_free(struct audit_search_job *j)
{
    buf_release(&j->lines);
    free(j->path);
    free(j);
}

int audit_search_finish(struct audit_search_job *j, struct db *db,
                        void (*problem)(void *, const char *), void *ctx, struct err *err)
{
    int rc;

    if (j == NULL)
        return reg_audit_search(db, problem, ctx, err);
    pthread_join(j->th, NULL);
    for (size_t at = 0; at < j->lines.len; at += strlen((const char *)j->lines.data + at) + 1)
        problem(ctx, (const char *)j->lines.data + at);
    if (j->lost)
        problem(ctx, "search index: more differences than the audit holds (out of memory)");
    rc = j->rc;
    if (rc != 0 && err)
        *err = j->err;
    search_free(j);
    return rc;
}

void audit_search_drop(struct audit_search_job *j)
{
    if (j == NULL)
        return;
    pthread_join(j->th, NULL);
    search_free(j);
}
