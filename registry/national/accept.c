/* civreg national tier: accepting a district's push.
 *
 * Nothing is stored before everything is checked: the tree head's office
 * signature, the RFC 6962 consistency proof from the head accepted last,
 * every event (canonical body, position, signature under the key the
 * district's own log published for its signer), the Merkle root the events
 * rebuild, and every record version against the hash an event signed. Then
 * one transaction stores the events (COPY), the head, the cited evidence,
 * the projection rows and the office's new head; the office row is locked
 * and the push must start exactly at the accepted size, so a push repeated
 * after a crash on either side stores nothing twice. The event signatures
 * are verified on threads while that transaction receives its rows: it
 * commits only when every signature holds and is rolled back otherwise, so
 * nothing of a push is visible or durable before all of it is verified.
 *
 * A signed head that does not extend the accepted one is a fork: the push is
 * refused, both heads are kept in table forks and the office is flagged
 * until an operator clears it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/ed25519_batch.h"
#include "core/encode.h"
#include "core/fanout.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/log.h"
#include "national_int.h"

#define PUSH_MAX_EVENTS REGISTRY_PUSH_MAX_EVENTS

struct office_state {
    unsigned char pk[REG_PK_BYTES];
    uint64_t size;
    merkle_hash root;
    char root_hex[65];
    struct merkle_frontier frontier;
    json_t *keys; /* username -> public key hex */
    bool fork_alarm;
    char *head_body, *head_sig;
};

/* The versions of a push by their hash (versions_check): open addressing
 * over indexes into the push's vh, SIZE_MAX an empty slot. */
struct version_index {
    size_t *slot;
    size_t mask; /* slots - 1 */
};

struct checked_event {
    json_t *body; /* parsed, in the push's arenas (never json_decref'd) */
    const char *text, *sig_hex;
    size_t len;         /* of text */
    const char *type;   /* the body's type ("" until parsed canonical) */
    const json_t *rec;  /* its object of kind "record", NULL when none */
    const json_t *data; /* the body's data, NULL when none */
    const char *actor;  /* the body's actor ("" when none) */
    const char *rec_id; /* rec's id ("" when none) */
    char *link_text;    /* a record.register's link statement, canonical (malloc'd) */
    merkle_hash leaf; /* when sig_form */
    char leaf_hex[65];
    uint64_t seq;
    unsigned char pk[REG_PK_BYTES], sig[REG_SIG_BYTES]; /* signer's key, signature */
    bool canonical; /* body parsed and in canonical form (parse_range) */
    bool sig_form;  /* sig_hex is a well-formed signature, in sig (parse_range) */
    bool cites;     /* has a blob object or an evidence list (parse_range) */
};

struct push {
    struct pg *pg;
    const char *office;
    const json_t *req;
    struct office_state st;
    struct checked_event *ev;
    size_t n;
    struct version_index versions; /* a version's hash -> its index in vh */
    json_t *prereg;   /* record id -> index of the record.register written with its draft */
    json_t *prekeys;  /* record id (of prereg) -> [name key, date of birth] of its draft */
    json_t *newkeys;  /* name keys this push added to name_words (no record held them) */
    struct version_hash *vh; /* the request's versions hashed, in its order (parse_range) */
    size_t nv;
    unsigned jobs;           /* parse jobs run */
    struct buf rows[2 * FANOUT_MAX]; /* job k's events rows [2k], objects rows [2k + 1] */
    bool rows_oom;                   /* a job could not build its rows */
    uint64_t new_size;
    char new_root_hex[65];
    const char *head_time, *head_sig_hex;
    struct buf head_body;
    char collided_uin[16], collided_holder[64], collided_record[128];
    struct json_arena arenas[FANOUT_MAX]; /* the parsed bodies, one per parse job */
};

static void state_release(struct office_state *s)
{
    json_decref(s->keys);
    free(s->head_body);
    free(s->head_sig);
}

static int frontier_parse(const char *text, uint64_t size, struct merkle_frontier *f,
                          struct err *err)
{
    json_t *a = NULL;
    int rc = -1;

    *f = (struct merkle_frontier)MERKLE_FRONTIER_INIT;
    f->size = size;
    if (json_parse(text, strlen(text), &a, err) != 0 || !json_is_array(a) ||
        json_array_size(a) > 64) {
        err_set(err, "national: stored frontier malformed");
        goto out;
    }
    for (unsigned l = 0; l < 64; l++) {
        if (!(size >> l & 1))
            continue;
        if (reg_hex32(json_string_value(json_array_get(a, l)), f->nodes[l], "frontier", err) != 0)
            goto out;
    }
    rc = 0;
out:
    json_decref(a);
    return rc;
}

static char *frontier_text(const struct merkle_frontier *f)
{
    json_t *a = json_array();
    struct buf b = BUF_INIT(8192);
    char *s = NULL;

    if (a == NULL)
        return NULL;
    for (unsigned l = 0; l < 64 && (f->size >> l) != 0; l++) {
        char h[65];
        if (f->size >> l & 1) {
            hex_encode(f->nodes[l], 32, h);
            (void)json_array_append_new(a, json_string(h));
        } else {
            (void)json_array_append_new(a, json_null());
        }
    }
    if (json_dump_compact(a, &b, NULL) == 0)
        s = strdup(buf_str(&b));
    buf_release(&b);
    json_decref(a);
    return s;
}

/* Lock and read the office row. */
static enum national_refusal load_office(struct pg *pg, const char *office,
                                         struct office_state *s, struct err *err)
{
    struct pg_res *r = NULL;
    const char *p[1] = { office };
    enum national_refusal rc = NATIONAL_INTERNAL;

    if (pg_exec(pg,
                "SELECT public_key, tree_size, root_hash, frontier::text, actor_keys::text,"
                " fork_alarm, head_body, head_signature FROM offices WHERE office = $1 FOR UPDATE",
                1, p, &r, err) != 0)
        return NATIONAL_INTERNAL;
    if (pg_res_rows(r) != 1) {
        err_set(err, "push: office %s is not registered", office);
        rc = NATIONAL_UNAUTHORIZED;
        goto out;
    }
    s->size = strtoull(pg_res_value(r, 0, 1), NULL, 10);
    (void)snprintf(s->root_hex, sizeof s->root_hex, "%s", pg_res_value(r, 0, 2));
    if (reg_hex32(pg_res_value(r, 0, 0), s->pk, "office key", err) != 0 ||
        reg_hex32(s->root_hex, s->root, "root", err) != 0 ||
        frontier_parse(pg_res_value(r, 0, 3), s->size, &s->frontier, err) != 0 ||
        json_parse(pg_res_value(r, 0, 4), strlen(pg_res_value(r, 0, 4)), &s->keys, err) != 0)
        goto out;
    s->fork_alarm = strcmp(pg_res_value(r, 0, 5), "t") == 0;
    if (!pg_res_null(r, 0, 6)) {
        s->head_body = strdup(pg_res_value(r, 0, 6));
        s->head_sig = strdup(pg_res_value(r, 0, 7));
    }
    rc = NATIONAL_OK;
out:
    pg_res_free(r);
    return rc;
}

static bool sig_of(const char *hex, unsigned char sig[REG_SIG_BYTES])
{
    size_t n = 0;

    return hex && strlen(hex) == 2 * REG_SIG_BYTES &&
           hex_decode(hex, 2 * REG_SIG_BYTES, sig, REG_SIG_BYTES, &n, NULL) == 0 &&
           n == REG_SIG_BYTES;
}

/* Check a signed tree head {tree_size, root_hash, time, signature, and for
 * a v2 head previous_size} of OFFICE: the signature over the exact body. */
static int head_check(const char *office, const unsigned char pk[REG_PK_BYTES], const json_t *h,
                      uint64_t *size, merkle_hash root, struct buf *body, struct err *err)
{
    unsigned char sig[REG_SIG_BYTES];
    json_t *sz = json_object_get(h, "tree_size");

    if (!json_is_integer(sz) || json_integer_value(sz) < 0 ||
        reg_hex32(nat_str(h, "root_hash"), root, "tree head root", err) != 0 ||
        !sig_of(nat_str(h, "signature"), sig))
        return err_set(err, "tree head: malformed");
    *size = (uint64_t)json_integer_value(sz);
    if (reg_tree_head_body_of(h, office, body, err) != 0)
        return -1;
    if (!reg_sig_ok(pk, body->data, body->len, sig, sizeof sig))
        return err_set(err, "tree head of size %llu: not signed by office %s's key",
                       (unsigned long long)*size, office);
    return 0;
}

/* ---- forks ---- */

static enum national_refusal record_fork(struct push *ps, int64_t position, uint64_t dsize,
                                         const char *droot, const char *dbody,
                                         const char *dsig, const char *detail, struct err *err)
{
    char pos[24], as[24], ds[24];
    const char *p[10];

    (void)snprintf(pos, sizeof pos, "%lld", (long long)position);
    (void)snprintf(as, sizeof as, "%llu", (unsigned long long)ps->st.size);
    (void)snprintf(ds, sizeof ds, "%llu", (unsigned long long)dsize);
    p[0] = ps->office, p[1] = position >= 0 ? pos : NULL, p[2] = as, p[3] = ps->st.root_hex;
    p[4] = ps->st.head_body, p[5] = ps->st.head_sig, p[6] = ds, p[7] = droot, p[8] = dbody;
    p[9] = dsig;
    {
        const char *q[11];
        memcpy(q, p, sizeof p);
        q[10] = detail;
        if (pg_exec(ps->pg,
                    "INSERT INTO forks(office, position, accepted_size, accepted_root,"
                    " accepted_body, accepted_signature, district_size, district_root,"
                    " district_body, district_signature, detail)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    11, q, NULL, err) != 0 ||
            pg_exec(ps->pg, "UPDATE offices SET fork_alarm = true WHERE office = $1", 1, q, NULL,
                    err) != 0 ||
            pg_commit(ps->pg, err) != 0)
            return NATIONAL_INTERNAL;
    }
    err_set(err, "push refused: office %s's log forked: %s", ps->office, detail);
    return NATIONAL_FORK;
}

/* A fork report: the district's signed head at the accepted size (or its
 * latest, when shorter) and its leaf hashes up to it. The national tier
 * checks the head's signature, that the leaves rebuild its root, and names
 * the first position where they differ from what it accepted. */
static enum national_refusal fork_report(struct push *ps, const json_t *fork, struct err *err)
{
    const json_t *h = json_object_get(fork, "head"), *leaves = json_object_get(fork, "leaves");
    struct buf body = BUF_INIT(4096);
    merkle_hash droot, *lv = NULL, *mine = NULL, r;
    struct merkle_mem mem;
    struct merkle_source src;
    uint64_t dsize = 0, cmp;
    int64_t position = -1;
    char detail[300];
    enum national_refusal rc = NATIONAL_REFUSED;
    size_t i;
    json_t *x;

    if (head_check(ps->office, ps->st.pk, h, &dsize, droot, &body, err) != 0) {
        err_prefix(err, "fork report");
        goto out;
    }
    if (!json_is_array(leaves) || json_array_size(leaves) != dsize || dsize > ps->st.size) {
        err_set(err, "fork report: needs the leaf hashes of a head no larger than the accepted "
                     "size %llu", (unsigned long long)ps->st.size);
        rc = NATIONAL_BAD_REQUEST;
        goto out;
    }
    if ((lv = malloc((dsize ? dsize : 1) * sizeof *lv)) == NULL) {
        rc = NATIONAL_INTERNAL;
        goto out;
    }
    json_array_foreach(leaves, i, x) if (reg_hex32(json_string_value(x), lv[i], "leaf", err) != 0)
    {
        rc = NATIONAL_BAD_REQUEST;
        goto out;
    }
    mem.leaves = (const merkle_hash *)lv;
    mem.count = dsize;
    merkle_mem_source(&mem, &src);
    if (merkle_root(&src, dsize, r, err) != 0 || memcmp(r, droot, 32) != 0) {
        err_set(err, "fork report: the leaves do not rebuild the signed head's root");
        goto out;
    }
    if (nat_load_leaves(ps->pg, ps->office, ps->st.size, &mine, err) != 0) {
        rc = NATIONAL_INTERNAL;
        goto out;
    }
    cmp = dsize;
    for (uint64_t k = 0; k < cmp; k++)
        if (memcmp(mine[k], lv[k], 32) != 0) {
            position = (int64_t)k;
            break;
        }
    if (position < 0 && dsize == ps->st.size) {
        err_set(err, "fork report: the district's head equals the accepted one: no fork");
        goto out;
    }
    if (position >= 0)
        (void)snprintf(detail, sizeof detail,
                       "event %lld differs: the district signed a tree of %llu events whose "
                       "history is not the one accepted (accepted size %llu)",
                       (long long)position, (unsigned long long)dsize,
                       (unsigned long long)ps->st.size);
    else
        (void)snprintf(detail, sizeof detail,
                       "the district's log is shorter (%llu events) than the accepted %llu "
                       "(truncated)", (unsigned long long)dsize, (unsigned long long)ps->st.size);
    {
        char rh[65];
        hex_encode(droot, 32, rh);
        rc = record_fork(ps, position, dsize, rh, buf_str(&body), nat_str(h, "signature"), detail,
                         err);
    }
out:
    free(lv);
    free(mine);
    buf_release(&body);
    return rc;
}

/* ---- events ---- */

/* The object of kind "record" an event body names, NULL when none. */
static const json_t *record_obj(const json_t *body)
{
    size_t i;
    json_t *o;

    json_array_foreach(json_object_get(body, "objects"), i, o) if (strcmp(nat_str(o, "kind"),
                                                                          "record") == 0) return o;
    return NULL;
}

/* Everything about event I but its signature, in log order (the signer's key
 * comes from the user.add/user.key events before it); the signature is
 * verified by events_verify. */
static int event_check(struct push *ps, size_t i, struct err *err)
{
    struct checked_event *c = &ps->ev[i];
    unsigned char *pk = c->pk;
    const char *actor, *type;
    const json_t *data;
    int rc = -1;

    if (!c->canonical) {
        err_set(err, "event %llu: body malformed or not canonical", (unsigned long long)c->seq);
        goto out;
    }
    if (!json_is_integer(json_object_get(c->body, "seq")) ||
        (uint64_t)json_integer_value(json_object_get(c->body, "seq")) != c->seq) {
        err_set(err, "event %llu: its signed seq is not its position", (unsigned long long)c->seq);
        goto out;
    }
    if (!c->sig_form) {
        err_set(err, "event %llu: signature malformed", (unsigned long long)c->seq);
        goto out;
    }
    actor = c->actor;
    type = c->type;
    data = c->data;
    if (strncmp(actor, "office:", 7) == 0) {
        memcpy(pk, ps->st.pk, REG_PK_BYTES);
    } else if (json_object_get(ps->st.keys, actor) != NULL) {
        if (reg_hex32(nat_str(ps->st.keys, actor), pk, "key", err) != 0)
            goto out;
    } else if (strcmp(type, "user.add") == 0 && json_object_size(ps->st.keys) == 0 &&
               strcmp(nat_str(data, "username"), actor) == 0) {
        /* the first admin signs their own creation (docs/registry.md) */
        if (reg_hex32(nat_str(data, "public_key"), pk, "key", err) != 0)
            goto out;
    } else {
        err_set(err, "event %llu: signer '%s' has no key in office %s's log",
                (unsigned long long)c->seq, actor, ps->office);
        goto out;
    }
    if (strcmp(type, "user.add") == 0 || strcmp(type, "user.key") == 0) {
        unsigned char k[REG_PK_BYTES];
        if (reg_hex32(nat_str(data, "public_key"), k, "key", err) != 0 ||
            json_object_set_new(ps->st.keys, nat_str(data, "username"),
                                json_string(nat_str(data, "public_key"))) != 0) {
            err_prefix(err, "event %llu", (unsigned long long)c->seq);
            goto out;
        }
    }
    if (merkle_frontier_append(&ps->st.frontier, c->leaf, NULL, NULL, err) != 0)
        goto out;
    rc = 0;
out:
    return rc;
}

/* The bodies of events [lo, hi) parsed and checked canonical (in one pass
 * when json_read_canonical can, else re-serialized and compared byte for
 * byte: json_parse_canonical), their signatures decoded and their leaf
 * hashes computed, each on its own: no event depends on another here, so
 * the push cuts them into shares run on threads (fanout_run). What depends
 * on the events before (the signer's key, the tree) is event_check's, in
 * log order. Each job's bodies are allocated from an arena of its own
 * (json_arena_enter), freed with the push's others in one go. */
/* The birth_records and record_versions fields of a record.draft or
 * record.correct event. In a push's versions (version_prepare) KEY, REC and
 * FIELDS are its own (version_row_release); a row version_row gives borrows
 * them. */
struct version_row {
    const char *record_id, *hash, *text, *birth_date;
    size_t text_len;
    char seq[24], ver[16];
    char *key;
    json_t *rec;   /* the version parsed, when the reader declined it */
    char *fields;  /* else its three strings, NUL-terminated */
};

static void version_row_release(struct version_row *v)
{
    free(v->key);
    free(v->fields);
    json_decref(v->rec);
}

/* The version's name and date strings ("" when absent or not strings):
 * picked from the text without a tree when it is of the canonical common
 * case, else read from its json_parse'd value into V->rec. Either way
 * the same strings (what the reader accepts parses to an equal value). */
static int version_fields(struct version_row *v, const char *s[3], struct err *err)
{
    struct json_pick p[3] = { { "child/given_names", NULL, 0 },
                              { "child/family_name", NULL, 0 },
                              { "birth/date", NULL, 0 } };
    const char *at[3];
    size_t len[3], total = 0;

    if (json_read_canonical_pick(v->text, v->text_len, NULL, p, 3) != 0) {
        if (json_parse(v->text, v->text_len, &v->rec, err) != 0)
            return -1;
        s[0] = nat_str(json_object_get(v->rec, "child"), "given_names");
        s[1] = nat_str(json_object_get(v->rec, "child"), "family_name");
        s[2] = nat_str(json_object_get(v->rec, "birth"), "date");
        return 0;
    }
    for (int i = 0; i < 3; i++) {
        if (!json_pick_string(&p[i], &at[i], &len[i]))
            at[i] = "", len[i] = 0;
        total += len[i] + 1;
    }
    if ((v->fields = malloc(total)) == NULL)
        return err_set(err, "out of memory");
    total = 0;
    for (int i = 0; i < 3; i++) {
        memcpy(v->fields + total, at[i], len[i]);
        v->fields[total + len[i]] = '\0';
        s[i] = v->fields + total;
        total += len[i] + 1;
    }
    return 0;
}

struct version_hash {
    const char *data; /* the version's text, up to its first NUL */
    size_t len;
    char hex[65]; /* its SHA-256 */
    /* its name key, date of birth and their strings (version_prepare);
     * when they could not be read, FAILED says why */
    struct version_row row;
    struct err *failed;
};

/* H's fields and name key, read where its hash is computed: used by the
 * push's drafts and corrections (version_row), a failure reported only
 * there, for a version that is used */
static void version_prepare(struct version_hash *h)
{
    const char *fields[3];
    struct err err = ERR_INIT;

    h->row.text = h->data;
    h->row.text_len = h->len;
    /* a district writes its versions canonical (their hash is over that
     * form): read in one pass, no tree (version_fields) */
    if (version_fields(&h->row, fields, &err) == 0) {
        h->row.birth_date = fields[2];
        if ((h->row.key = nat_name_key(fields[0], fields[1])) != NULL)
            return;
        err_set(&err, "out of memory");
    }
    if ((h->failed = malloc(sizeof *h->failed)) != NULL)
        *h->failed = err;
}

static void versions_release(struct version_hash *vh, size_t n)
{
    for (size_t i = 0; vh && i < n; i++) {
        version_row_release(&vh[i].row);
        free(vh[i].failed);
    }
    free(vh);
}

struct parse_job {
    struct checked_event *ev;
    struct json_arena *arena;
    const json_t *events;
    uint64_t seq0;
    size_t lo, hi;
    struct version_hash *vh; /* the request's versions [vlo, vhi) hashed here too */
    const json_t *versions;
    size_t vlo, vhi;
    const char *office;
    struct buf *evb, *ob; /* the COPY rows of its events and their objects */
    bool oom;             /* they could not be built */
};

static int copy_row_len(struct buf *b, const char *const *f, const size_t *len, size_t n);
static int copy_row(struct buf *b, const char *const *f, size_t n);

/* Event C's COPY rows for events and event_objects, appended to EVB and OB
 * (in log order: a job's events are contiguous, the jobs' buffers are
 * joined in order by store_build); C->cites set when it has a blob object
 * or an evidence list (store_build's evidence rows). */
static int event_rows(const char *office, struct checked_event *c, struct buf *evb,
                      struct buf *ob)
{
    const char *lists[2] = { "evidence", "reason_evidence" };
    char seq[24];
    const char *f[8];
    size_t flen[8] = { SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX,
                       SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX };
    size_t j;
    json_t *o;

    (void)snprintf(seq, sizeof seq, "%llu", (unsigned long long)c->seq);
    f[0] = office, f[1] = seq, f[2] = c->type;
    f[3] = c->actor, f[4] = nat_str(c->body, "time"), f[5] = c->text;
    f[6] = c->sig_hex, f[7] = c->leaf_hex;
    flen[5] = c->len;
    if (copy_row_len(evb, f, flen, 8) != 0)
        return -1;
    json_array_foreach(json_object_get(c->body, "objects"), j, o) {
        const char *g[4] = { office, seq, nat_str(o, "kind"), nat_str(o, "id") };
        /* a link's statement is in the body and in persons: no query
         * looks events up by it (schema 8) */
        if (strcmp(g[2], "link") != 0 && copy_row(ob, g, 4) != 0)
            return -1;
        if (strcmp(g[2], "blob") == 0)
            c->cites = true;
    }
    for (int l = 0; l < 2; l++)
        if (json_array_size(json_object_get(c->data, lists[l])) > 0)
            c->cites = true;
    return 0;
}

static void *parse_range(void *arg)
{
    struct parse_job *j = arg;
    struct buf canon = BUF_INIT(8 << 20);
    struct json_pick st;
    bool canonical;

    /* the versions' hashes, each on its own like the leaves: versions_check
     * looks them up in log order */
    for (size_t i = j->vlo; i < j->vhi; i++) {
        struct version_hash *h = &j->vh[i];
        h->data = nat_str(json_array_get(j->versions, i), "data");
        h->len = strlen(h->data);
        reg_sha256_hex(h->data, h->len, h->hex);
        version_prepare(h);
    }
    json_arena_enter(j->arena);
    for (size_t i = j->lo; i < j->hi; i++) {
        struct checked_event *c = &j->ev[i];
        const json_t *e = json_array_get(j->events, i);
        c->seq = j->seq0 + i;
        c->text = nat_str(e, "body");
        c->sig_hex = nat_str(e, "signature");
        size_t len = c->len = strlen(c->text);
        if ((c->sig_form = sig_of(c->sig_hex, c->sig))) {
            merkle_event_leaf(c->text, len, c->sig, REG_SIG_BYTES, c->leaf);
            hex_encode(c->leaf, 32, c->leaf_hex);
        }
        /* a registration's link statement is picked as the reader passes
         * it: its bytes in a canonical body are its canonical form */
        st.path = "data/link/statement";
        canonical = false;
        canonical = json_read_canonical_pick(c->text, len, &c->body, &st, 1) == 0 ||
                    (json_parse_canonical(c->text, len, &c->body, &canonical, NULL) == 0 &&
                     canonical);
        c->canonical = canonical && json_is_object(c->body);
        /* what the later passes ask of every event, looked up once */
        c->type = c->canonical ? nat_str(c->body, "type") : "";
        c->rec = c->canonical ? record_obj(c->body) : NULL;
        c->data = c->canonical ? json_object_get(c->body, "data") : NULL;
        c->actor = c->canonical ? nat_str(c->body, "actor") : "";
        c->rec_id = nat_str(c->rec, "id");
        /* a registration's link statement as persons keeps it (on failure
         * reg_run_add serialises it again and reports) */
        if (c->canonical && strcmp(c->type, "record.register") == 0) {
            const json_t *link = json_object_get(c->data, "link");
            buf_reset(&canon);
            if (st.at != NULL)
                c->link_text = strndup(st.at, st.len);
            else if (json_canonical(json_object_get(link, "statement"), &canon, NULL) == 0)
                c->link_text = strdup(buf_str(&canon));
        }
        /* the rows to store, when the event can pass (else the push is
         * refused and they are not sent) */
        if (c->canonical && c->sig_form && event_rows(j->office, c, j->evb, j->ob) != 0)
            j->oom = true;
    }
    json_arena_leave();
    buf_release(&canon);
    return NULL;
}

/* Signature verification of events [0, n) on worker threads: each takes
 * a contiguous share and finds its lowest failing event; the push reports
 * the lowest of all (the first invalid signature in log order). */
static unsigned verify_threads; /* 0: the processors online, at most 8 */

void national_set_verify_threads(unsigned n)
{
    verify_threads = n > 64 ? 64 : n;
}

struct verify_job {
    const struct checked_event *ev;
    size_t lo, hi, bad; /* bad == hi: all verified */
    pthread_t th;
    bool started;
};

/* A share's signatures in batches of ED_BATCH_MAX (the last one shorter),
 * in log order: the first failing batch's first failing item is the share's
 * lowest failure, and the batches after it are not checked. */
static void *verify_range(void *arg)
{
    struct verify_job *j = arg;
    struct ed_batch_item it[ED_BATCH_MAX];
    bool ok[ED_BATCH_MAX];

    j->bad = j->hi;
    for (size_t lo = j->lo; lo < j->hi; lo += ED_BATCH_MAX) {
        size_t m = j->hi - lo < ED_BATCH_MAX ? j->hi - lo : ED_BATCH_MAX;
        for (size_t i = 0; i < m; i++) {
            const struct checked_event *c = &j->ev[lo + i];
            it[i] = (struct ed_batch_item){ c->pk, c->sig, c->text, c->len };
        }
        if (ed25519_batch_verify(it, m, ok))
            continue;
        j->bad = lo; /* a failed batch with no failing item is refused at its first */
        for (size_t i = 0; i < m; i++)
            if (!ok[i]) {
                j->bad = lo + i;
                break;
            }
        break;
    }
    return NULL;
}

/* Share K of T of events [0, N): whole batches of ED_BATCH_MAX, so that only
 * the last batch of the last share is short. */
void national_verify_share(size_t n, unsigned t, unsigned k, size_t *lo, size_t *hi)
{
    size_t nb = (n + ED_BATCH_MAX - 1) / ED_BATCH_MAX;
    size_t a = nb * k / t * ED_BATCH_MAX, b = nb * (k + 1) / t * ED_BATCH_MAX;

    *lo = a < n ? a : n;
    *hi = b < n ? b : n;
}

/* The threads a push's bulk work is cut over: verify_threads, else the
 * processors online (at most 8). */
static unsigned work_threads(void)
{
    long c;

    if (verify_threads)
        return verify_threads;
    c = sysconf(_SC_NPROCESSORS_ONLN);
    return c < 1 ? 1 : c > 8 ? 8 : (unsigned)c;
}

/* Signatures of events [0, n) being verified on threads of their own
 * while the caller goes on (verify_start), then collected (verify_finish). */
struct verify_run {
    struct verify_job jobs[64];
    unsigned t;
    size_t n;
};

/* Start verifying events [0, N): every share on a thread of its own when
 * BACKGROUND (the caller is free until verify_finish), else all but the
 * first (which verify_finish runs on the caller's thread). */
static void verify_start(struct verify_run *v, const struct checked_event *ev, size_t n,
                         bool background)
{
    v->t = work_threads();
    v->n = n;
    if (n < 256 || (v->t < 2 && !background))
        v->t = 1;
    for (unsigned k = 0; k < v->t; k++) {
        v->jobs[k] = (struct verify_job){ ev, 0, 0, 0, 0, false };
        national_verify_share(n, v->t, k, &v->jobs[k].lo, &v->jobs[k].hi);
        /* a thread that cannot start runs its share in verify_finish */
        if (k > 0 || background)
            v->jobs[k].started =
                pthread_create(&v->jobs[k].th, NULL, verify_range, &v->jobs[k]) == 0;
    }
}

/* The index of the first event whose signature fails, N when all hold. */
static size_t verify_finish(struct verify_run *v)
{
    size_t bad = v->n;

    for (unsigned k = 0; k < v->t; k++) {
        if (v->jobs[k].started)
            (void)pthread_join(v->jobs[k].th, NULL);
        else
            (void)verify_range(&v->jobs[k]);
    }
    for (unsigned k = 0; k < v->t; k++)
        if (v->jobs[k].bad < v->jobs[k].hi && v->jobs[k].bad < bad)
            bad = v->jobs[k].bad;
    return bad;
}

/* The index of the first event of [0, N) whose signature fails, N when all
 * hold. */
static size_t events_verify(const struct checked_event *ev, size_t n)
{
    struct verify_run v;

    verify_start(&v, ev, n, false);
    return verify_finish(&v);
}

/* Sets ERR and returns true when event I's signature is the refusal. */
static bool sig_refused(const struct checked_event *ev, size_t i, size_t n, struct err *err)
{
    if (i >= n)
        return false;
    err_set(err, "event %llu (%s by %s): signature invalid", (unsigned long long)ev[i].seq,
            nat_str(ev[i].body, "type"), nat_str(ev[i].body, "actor"));
    return true;
}

/* The slot of HEX in X: the one holding it, else the empty one where it
 * goes (X has at least one empty slot). */
static size_t version_slot(const struct version_index *x, const struct version_hash *vh,
                           const char *hex)
{
    const uint64_t h = fnv1a_str(hex);

    for (size_t k = (size_t)h & x->mask;; k = (k + 1) & x->mask)
        if (x->slot[k] == SIZE_MAX || strcmp(vh[x->slot[k]].hex, hex) == 0)
            return k;
}

/* The index in PS->vh of the version whose hash is HEX, SIZE_MAX when the
 * push has none. */
static size_t version_find(const struct push *ps, const char *hex)
{
    return ps->versions.slot ? ps->versions.slot[version_slot(&ps->versions, ps->vh, hex)]
                             : SIZE_MAX;
}

/* The record versions the push carries: each must hash to a record object of
 * a record.draft / record.correct event of this push, and every such event
 * must come with its version. */
static int versions_check(struct push *ps, struct err *err)
{
    struct version_index *x = &ps->versions;
    size_t i, j, cap = 16;
    json_t *o;

    /* each hash (computed by parse_range) -> its version's index in
     * ps->vh (the last of equal ones): the version as hashed, up to its
     * first NUL, its fields read */
    while (cap < 2 * ps->nv)
        cap *= 2;
    if ((x->slot = malloc(cap * sizeof *x->slot)) == NULL)
        return err_set(err, "out of memory");
    memset(x->slot, 0xff, cap * sizeof *x->slot);
    x->mask = cap - 1;
    for (i = 0; i < ps->nv; i++)
        x->slot[version_slot(x, ps->vh, ps->vh[i].hex)] = i;
    for (i = 0; i < ps->n; i++) {
        const char *type = ps->ev[i].type;
        if (strcmp(type, "record.draft") != 0 && strcmp(type, "record.correct") != 0)
            continue;
        json_array_foreach(json_object_get(ps->ev[i].body, "objects"), j, o) {
            if (strcmp(nat_str(o, "kind"), "record") != 0)
                continue;
            if (version_find(ps, nat_str(o, "hash")) == SIZE_MAX)
                return err_set(err, "event %llu: the record version it signs (%s) is not in "
                                    "the push",
                               (unsigned long long)ps->ev[i].seq, nat_str(o, "hash"));
        }
    }
    return 0;
}

/* ---- storing ---- */

/* One COPY text row of the N fields F (NULL: SQL NULL). LEN, when not
 * NULL, gives each field's length where the caller knows it (SIZE_MAX:
 * strlen): an event body or a record version is not measured again. */
static int copy_row_len(struct buf *b, const char *const *f, const size_t *len, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i && buf_append_byte(b, '\t') != 0)
            return -1;
        if (f[i] == NULL) {
            if (buf_append(b, "\\N", 2) != 0)
                return -1;
        } else if (pg_copy_field(b, f[i],
                                 len && len[i] != SIZE_MAX ? len[i] : strlen(f[i])) != 0) {
            return -1;
        }
    }
    return buf_append_byte(b, '\n');
}

static int copy_row(struct buf *b, const char *const *f, size_t n)
{
    return copy_row_len(b, f, NULL, n);
}

/* The COPY text of a push's events, their objects and the evidence they
 * cite (store_build), sent on a thread of its own (store_start) while the
 * push's thread builds the projection's rows: PostgreSQL stores the events
 * while the client works, not after it. The connection is the sending
 * thread's alone until store_join. */
struct store_rows {
    struct buf evb, ob, eb;
    struct pg *pg;
    struct err err;
    int rc;
    pthread_t th;
    bool started;
};

static int store_build(struct push *ps, struct store_rows *sr, struct err *err)
{
    struct buf *evb = &sr->evb, *ob = &sr->ob, *eb = &sr->eb;
    json_t *seen = json_object();
    int rc = -1;
    size_t j;
    json_t *o;

    if (seen == NULL)
        return err_set(err, "out of memory");
    /* the events' and objects' rows, built by the parse jobs (event_rows) */
    if (ps->rows_oom)
        goto oom;
    for (unsigned k = 0; k < ps->jobs; k++)
        if (buf_append(evb, ps->rows[2 * k].data, ps->rows[2 * k].len) != 0 ||
            buf_append(ob, ps->rows[2 * k + 1].data, ps->rows[2 * k + 1].len) != 0)
            goto oom;
    /* the evidence the events cite, first citation kept */
    for (size_t i = 0; i < ps->n; i++) {
        struct checked_event *c = &ps->ev[i];
        char seq[24];
        const json_t *data = c->data;
        const char *lists[2] = { "evidence", "reason_evidence" };
        if (!c->cites)
            continue;
        (void)snprintf(seq, sizeof seq, "%llu", (unsigned long long)c->seq);
        json_array_foreach(json_object_get(c->body, "objects"), j, o) {
            const char *g[4] = { ps->office, seq, nat_str(o, "kind"), nat_str(o, "id") };
            if (strcmp(g[2], "blob") == 0 && reg_is_hash(g[3]) && !json_object_get(seen, g[3])) {
                const char *h[3] = { ps->office, g[3], seq };
                (void)json_object_set_new(seen, g[3], json_true());
                if (copy_row(eb, h, 3) != 0)
                    goto oom;
            }
        }
        for (int l = 0; l < 2; l++) {
            json_t *x;
            size_t k;
            json_array_foreach(json_object_get(data, lists[l]), k, x) {
                const char *hh = json_string_value(x);
                if (hh && reg_is_hash(hh) && !json_object_get(seen, hh)) {
                    const char *h[3] = { ps->office, hh, seq };
                    (void)json_object_set_new(seen, hh, json_true());
                    if (copy_row(eb, h, 3) != 0)
                        goto oom;
                }
            }
        }
    }
    rc = 0;
    goto out;
oom:
    err_set(err, "push: out of memory building the COPY data");
out:
    json_decref(seen);
    return rc;
}

static int store_send(struct pg *pg, const struct store_rows *sr, struct err *err)
{
    if (pg_copy(pg,
                "COPY events(office, seq, type, actor, time, body, signature, leaf_hash)"
                " FROM STDIN",
                (const char *)sr->evb.data, sr->evb.len, err) != 0 ||
        (sr->ob.len && pg_copy(pg, "COPY event_objects(office, seq, kind, id) FROM STDIN",
                               (const char *)sr->ob.data, sr->ob.len, err) != 0))
        return -1;
    /* evidence cited again by a later push is already there: a temporary
     * table takes the COPY, then only new hashes are inserted */
    if (sr->eb.len &&
        (pg_exec(pg,
                 "CREATE TEMP TABLE IF NOT EXISTS evidence_in (office text, hash text,"
                 " first_seq bigint) ON COMMIT DELETE ROWS",
                 0, NULL, NULL, err) != 0 ||
         pg_copy(pg, "COPY evidence_in(office, hash, first_seq) FROM STDIN",
                 (const char *)sr->eb.data, sr->eb.len, err) != 0 ||
         pg_exec(pg,
                 "INSERT INTO evidence(office, hash, first_seq) SELECT office, hash, first_seq"
                 " FROM evidence_in ON CONFLICT DO NOTHING",
                 0, NULL, NULL, err) != 0))
        return -1;
    return 0;
}

static void *store_send_run(void *arg)
{
    struct store_rows *sr = arg;

    sr->rc = store_send(sr->pg, sr, &sr->err);
    return NULL;
}

/* Send SR's rows on PG from a thread of its own (on the caller's thread
 * when none starts). */
static void store_start(struct store_rows *sr, struct pg *pg)
{
    sr->pg = pg;
    sr->err = (struct err)ERR_INIT;
    sr->started = pthread_create(&sr->th, NULL, store_send_run, sr) == 0;
    if (!sr->started)
        (void)store_send_run(sr);
}

/* Wait for store_start's sending: 0, or -1 with ERR set. */
static int store_join(struct store_rows *sr, struct err *err)
{
    if (sr->started)
        (void)pthread_join(sr->th, NULL);
    sr->started = false;
    if (sr->rc != 0 && err)
        *err = sr->err;
    return sr->rc;
}

/* ---- the projection (rebuilt from the events, as the district audit does) */

/* The records this push drafts and registers with nothing else of theirs
 * in between or after (no correction, verification or second registration
 * in the push): their birth_records row goes in by COPY already registered,
 * as the registration would leave it, so the registration needs no UPDATE
 * of the row (a new row version and an entry in every index, the trigram
 * one included). ps->prereg maps each to its record.register's index. */
static int plan_prereg(struct push *ps, struct err *err)
{
    json_t *drafted = json_object();
    int rc = -1;

    if (drafted == NULL || (ps->prereg = json_object()) == NULL ||
        (ps->prekeys = json_object()) == NULL || (ps->newkeys = json_object()) == NULL)
        goto oom;
    for (size_t i = 0; i < ps->n; i++) {
        const char *type = ps->ev[i].type, *id;
        bool draft = strcmp(type, "record.draft") == 0;
        bool reg = strcmp(type, "record.register") == 0;
        if (!draft && !reg && strcmp(type, "record.correct") != 0 &&
            strcmp(type, "record.verify") != 0)
            continue;
        id = ps->ev[i].rec_id;
        if (draft) {
            if (json_object_set_new(drafted, id, json_true()) != 0)
                goto oom;
        } else if (reg && json_is_true(json_object_get(drafted, id)) &&
                   json_object_get(ps->prereg, id) == NULL) {
            if (json_object_set_new(ps->prereg, id, json_integer((json_int_t)i)) != 0)
                goto oom;
        } else if (json_object_get(drafted, id) != NULL) {
            (void)json_object_set_new(drafted, id, json_false());
            (void)json_object_del(ps->prereg, id);
        }
    }
    rc = 0;
    goto out;
oom:
    err_set(err, "out of memory");
out:
    json_decref(drafted);
    return rc;
}

static int version_row(struct push *ps, const struct checked_event *c, struct version_row *v,
                       struct err *err)
{
    const json_t *o = c->rec, *data = c->data;
    const struct version_hash *h;
    size_t at;

    memset(v, 0, sizeof *v);
    v->record_id = c->rec_id;
    v->hash = nat_str(o, "hash");
    if ((at = version_find(ps, v->hash)) >= ps->nv)
        return err_set(err, "event %llu: the record version it signs is not in the push",
                       (unsigned long long)c->seq);
    h = &ps->vh[at];
    if (h->failed) {
        if (err)
            *err = *h->failed;
        return -1;
    }
    /* its text, fields and key as the parse threads read them (borrowed,
     * freed with the push's versions) */
    v->text = h->row.text;
    v->text_len = h->row.text_len;
    v->birth_date = h->row.birth_date;
    v->key = h->row.key;
    (void)snprintf(v->seq, sizeof v->seq, "%llu", (unsigned long long)c->seq);
    (void)snprintf(v->ver, sizeof v->ver, "%lld",
                   (long long)json_integer_value(json_object_get(data, "version")));
    return 0;
}

/* Append KEY to the PostgreSQL array literal in B ("{" written by the
 * caller), quoted. */
static int array_item(struct buf *b, const char *key)
{
    if ((b->len > 1 && buf_append_byte(b, ',') != 0) || buf_append_byte(b, '"') != 0)
        return -1;
    for (const char *c = key; *c; c++)
        if (((*c == '"' || *c == '\\') && buf_append_byte(b, '\\') != 0) ||
            buf_append_byte(b, (unsigned char)*c) != 0)
            return -1;
    return buf_append_byte(b, '"');
}

/* Every record version of the push and the rows of the records it drafts go
 * in by COPY (a catch-up push is mostly drafts); corrections, verifications
 * and registrations are applied after, in log order, row by row. The name
 * keys of the drafted and corrected versions join name_words, which national
 * search looks in, in one statement. */
struct bulk_rows {
    struct buf rb, vb, kb; /* birth_records, record_versions, the keys' array */
    size_t keys;
};

/* The rows, built without a request (while the events are being stored) */
static int bulk_build(struct push *ps, struct bulk_rows *br, struct err *err)
{
    struct buf *rb = &br->rb, *vb = &br->vb, *kb = &br->kb;
    int rc = -1;

    if (buf_append_byte(kb, '{') != 0)
        goto oom;

    for (size_t i = 0; i < ps->n; i++) {
        const char *type = ps->ev[i].type;
        bool draft = strcmp(type, "record.draft") == 0;
        struct version_row v;
        if (!draft && strcmp(type, "record.correct") != 0)
            continue;
        if (version_row(ps, &ps->ev[i], &v, err) != 0)
            goto out;
        {
            const char *f[6] = { ps->office, v.record_id, v.ver, v.hash, v.text, v.seq };
            const size_t flen[6] = { SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX, v.text_len,
                                     SIZE_MAX };
            const char *g[10] = { ps->office, v.record_id, v.ver, v.hash, "draft", v.key,
                                  v.birth_date, v.seq, NULL, NULL };
            const json_t *pre = draft ? json_object_get(ps->prereg, v.record_id) : NULL;
            char rseq[24];
            if (pre != NULL) {
                /* registered in this push: the row as the registration leaves it */
                const struct checked_event *r = &ps->ev[json_integer_value(pre)];
                const json_t *rdata = r->data;
                (void)snprintf(rseq, sizeof rseq, "%llu", (unsigned long long)r->seq);
                g[4] = "registered", g[7] = rseq;
                g[8] = nat_str(rdata, "registration_number"), g[9] = nat_str(rdata, "uin");
            }
            if (copy_row_len(vb, f, flen, 6) != 0 || (draft && copy_row(rb, g, 10) != 0) ||
                (pre != NULL &&
                 json_object_set_new(ps->prekeys, v.record_id,
                                     json_pack("[s, s]", v.key, v.birth_date)) != 0) ||
                (*v.key != '\0' && (br->keys++, array_item(kb, v.key) != 0)))
                goto oom;
        }
    }
    if (buf_append_byte(kb, '}') != 0)
        goto oom;
    rc = 0;
    goto out;
oom:
    err_set(err, "push: out of memory building the COPY data");
out:
    return rc;
}

/* then sent */
static int bulk_send(struct push *ps, const struct bulk_rows *br, struct err *err)
{
    const struct buf *rb = &br->rb, *vb = &br->vb, *kb = &br->kb;

    if ((rb->len && pg_copy(ps->pg,
                           "COPY birth_records(office, record_id, version, hash, status,"
                           " name_key, birth_date, event_seq, registration_number, uin)"
                           " FROM STDIN",
                           (const char *)rb->data, rb->len, err) != 0) ||
        (vb->len && pg_copy(ps->pg,
                           "COPY record_versions(office, record_id, version, hash, data,"
                           " event_seq) FROM STDIN",
                           (const char *)vb->data, vb->len, err) != 0))
        return -1;
    if (br->keys > 0) {
        const char *p[1] = { buf_str(kb) };
        struct pg_res *r = NULL;
        int rc = 0;
        /* the keys' words join name_words (the vocabulary follows, by
         * its trigger); the keys whose rows it added had none there, so
         * no record of the nation had them before this push (every
         * record's key joins name_words in the push that writes it, all
         * its words at once, and keys stay: schema 12) */
        if (pg_exec(ps->pg,
                    "WITH w AS (INSERT INTO name_words(word, name_key)"
                    " SELECT DISTINCT x, k FROM unnest($1::text[]) k,"
                    " unnest(string_to_array(k, ' ')) x WHERE x <> '' ORDER BY 1, 2"
                    " ON CONFLICT DO NOTHING RETURNING name_key)"
                    " SELECT DISTINCT name_key FROM w",
                    1, p, &r, err) != 0)
            return -1;
        for (int i = 0; rc == 0 && i < pg_res_rows(r); i++)
            if (json_object_set_new(ps->newkeys, pg_res_value(r, i, 0), json_true()) != 0) {
                err_set(err, "push: out of memory keeping the new name keys");
                rc = -1;
            }
        pg_res_free(r);
        return rc;
    }
    return 0;
}

static int project_correct(struct push *ps, const struct checked_event *c, struct err *err)
{
    struct version_row v;
    const char *p[8];
    int rc;

    if (version_row(ps, c, &v, err) != 0)
        return -1;
    p[0] = ps->office, p[1] = v.record_id, p[2] = v.ver, p[3] = v.hash;
    p[4] = nat_str(c->data, "status"), p[5] = v.key;
    p[6] = v.birth_date, p[7] = v.seq;
    rc = pg_exec(ps->pg,
                 "UPDATE birth_records SET version = $3, hash = $4, status = $5,"
                 " name_key = $6, birth_date = $7, event_seq = $8"
                 " WHERE office = $1 AND record_id = $2",
                 8, p, NULL, err);
    return rc;
}

/* Registrations are applied set-based: a run of record.register events (up
 * to the next event of another projected kind) goes by COPY into a
 * temporary table, then one statement per table (birth_records, uins,
 * dup_cases) applies the whole run; its persons rows, built here, go by
 * COPY straight into persons once its UINs are assigned. The result equals applying them
 * one by one in log order: a run never holds the same record twice, a UIN
 * held by anyone else (or twice in the run) refuses the push at the first
 * such event, as the row-by-row projection did. */
struct reg_run {
    struct buf rows; /* COPY text of reg_in */
    struct buf persons; /* COPY text of persons */
    size_t n, pending; /* registrations; those whose birth_records row is not written yet */
    bool used; /* reg_in has rows of an earlier run of this push */
    json_t *records; /* record ids in the run */
};

static int reg_run_add(struct push *ps, struct reg_run *run, const struct checked_event *c,
                       struct err *err)
{
    const json_t *data = c->data;
    const json_t *link = json_object_get(data, "link");
    struct buf st = BUF_INIT(1 << 20);
    char seq[24], ord[24];
    const char *f[9], *g[8];
    bool done = json_object_get(ps->prereg, c->rec_id) != NULL;
    const json_t *keys = json_object_get(ps->prekeys, c->rec_id);
    const char *stext = c->link_text;
    int rc = -1;

    (void)snprintf(seq, sizeof seq, "%llu", (unsigned long long)c->seq);
    (void)snprintf(ord, sizeof ord, "%zu", run->n);
    if (stext == NULL) {
        if (json_canonical(json_object_get(link, "statement"), &st, err) != 0)
            goto out;
        stext = buf_str(&st);
    }
    f[0] = ord, f[1] = c->rec_id, f[2] = nat_str(data, "registration_number");
    f[3] = nat_str(data, "uin"), f[4] = seq, f[5] = ps->office;
    f[6] = done ? "t" : "f";
    /* the name key and date of birth its draft in this push gave; the others
     * are read from birth_records when the run is applied. A key this push
     * added to name_words is no other office's record's: no duplicate to
     * look for, so none is given (the lookup skips rows without a key) */
    f[7] = keys ? json_string_value(json_array_get(keys, 0)) : NULL;
    f[8] = keys ? json_string_value(json_array_get(keys, 1)) : NULL;
    if (f[7] != NULL && json_object_get(ps->newkeys, f[7]) != NULL)
        f[7] = NULL;
    g[0] = ps->office, g[1] = f[3], g[2] = f[1], g[3] = f[2], g[4] = stext;
    g[5] = nat_str(link, "signature"), g[6] = nat_str(link, "signer"), g[7] = seq;
    if (copy_row(&run->rows, f, 9) != 0 || copy_row(&run->persons, g, 8) != 0 ||
        json_object_set_new(run->records, f[1], json_true()) != 0) {
        err_set(err, "push: out of memory building the COPY data");
        goto out;
    }
    run->n++;
    run->pending += !done;
    rc = 0;
out:
    buf_release(&st);
    return rc;
}

/* The first registration of the run (in log order) whose UIN another office
 * holds, that is already assigned, or that an earlier registration of the
 * run took: ps->collided_* set and -1. 0 when there is none. */
static int reg_run_collision(struct push *ps, struct err *err)
{
    struct pg_res *r = NULL;
    const char *p[1] = { ps->office };
    int rc = 0;

    if (pg_exec(ps->pg,
                "WITH r AS (SELECT ord, uin, record_id, seq,"
                " first_value(record_id) OVER (PARTITION BY uin ORDER BY ord) AS first_record,"
                " row_number() OVER (PARTITION BY uin ORDER BY ord) AS k FROM reg_in)"
                " SELECT r.uin, r.record_id, r.seq,"
                " CASE WHEN r.k > 1 THEN $1 || ' ' || r.first_record"
                " ELSE u.office || ' ' || coalesce(u.record_id, '(reserved)') END"
                " FROM r LEFT JOIN uins u ON u.uin = r.uin"
                " WHERE r.k > 1 OR (u.uin IS NOT NULL AND NOT (u.office = $1"
                " AND u.state = 'reserved'))"
                " ORDER BY r.ord LIMIT 1",
                1, p, &r, err) != 0)
        return -1;
    if (pg_res_rows(r) == 1) {
        (void)snprintf(ps->collided_uin, sizeof ps->collided_uin, "%s", pg_res_value(r, 0, 0));
        (void)snprintf(ps->collided_record, sizeof ps->collided_record, "%s",
                       pg_res_value(r, 0, 1));
        (void)snprintf(ps->collided_holder, sizeof ps->collided_holder, "%s",
                       pg_res_value(r, 0, 3));
        err_set(err, "event %s: UIN %s of record %s is already held nationally by %s",
                pg_res_value(r, 0, 2), ps->collided_uin, ps->collided_record,
                ps->collided_holder);
        rc = -1;
    }
    pg_res_free(r);
    return rc;
}

static int reg_run_flush(struct push *ps, struct reg_run *run, struct err *err)
{
    struct pg_res *r = NULL;
    const char *p[1] = { ps->office };
    struct err uerr = ERR_INIT;
    bool first;
    int rc = -1;

    if (run->n == 0)
        return 0;
    if (pg_exec(ps->pg,
                "CREATE TEMP TABLE IF NOT EXISTS reg_in (ord bigint, record_id text,"
                " registration_number text, uin text, seq bigint, office text, done boolean,"
                " name_key text, birth_date text) ON COMMIT DELETE ROWS",
                0, NULL, NULL, err) != 0 ||
        (run->used && pg_exec(ps->pg, "TRUNCATE reg_in", 0, NULL, NULL, err) != 0) ||
        pg_copy(ps->pg,
                "COPY reg_in(ord, record_id, registration_number, uin, seq, office, done,"
                " name_key, birth_date) FROM STDIN",
                (const char *)run->rows.data, run->rows.len, err) != 0 ||
        pg_exec(ps->pg, "ANALYZE reg_in", 0, NULL, NULL, err) != 0)
        goto out;
    /* One UIN in the nation: every UIN of the run must be one this office
     * reserved and becomes assigned. In the push's first run a savepoint
     * is taken and the assignment tried at once: when it does not assign
     * every UIN (or fails on a UIN taken twice in the run), the state
     * before it is restored and reg_run_collision names the first
     * collision. A later run of the same push (after a correction or a
     * record registered twice) asks reg_run_collision first, so a push
     * opens at most one subtransaction. */
    first = !run->used;
    run->used = true;
    if ((first ? pg_exec(ps->pg, "SAVEPOINT reg_uins", 0, NULL, NULL, err)
               : reg_run_collision(ps, err)) != 0)
        goto out;
    if (pg_exec(ps->pg,
                "INSERT INTO uins(uin, office, record_id, state)"
                " SELECT uin, $1, record_id, 'assigned' FROM reg_in ORDER BY ord"
                " ON CONFLICT (uin) DO UPDATE SET state = 'assigned',"
                " record_id = EXCLUDED.record_id, at = now()"
                " WHERE uins.office = $1 AND uins.state = 'reserved'",
                1, p, &r, &uerr) != 0 ||
        pg_res_affected(r) != (long long)run->n) {
        long long got = r ? pg_res_affected(r) : -1;
        if (first && pg_exec(ps->pg, "ROLLBACK TO SAVEPOINT reg_uins", 0, NULL, NULL, err) != 0)
            goto out;
        if ((first || got >= 0) && reg_run_collision(ps, err) != 0)
            goto out;
        if (got < 0 && err)
            *err = uerr;
        else
            err_set(err, "push: %zu registrations but %lld UINs assigned", run->n, got);
        goto out;
    }
    /* registrations of records drafted in an earlier push: their rows are
     * updated and hand their name key and date of birth to reg_in */
    if ((run->pending &&
         pg_exec(ps->pg,
                 "WITH u AS (UPDATE birth_records b SET status = 'registered',"
                 " registration_number = r.registration_number, uin = r.uin, event_seq = r.seq"
                 " FROM reg_in r WHERE b.office = $1 AND b.record_id = r.record_id"
                 " AND NOT r.done RETURNING b.record_id, b.name_key, b.birth_date)"
                 " UPDATE reg_in r SET name_key = u.name_key, birth_date = u.birth_date"
                 " FROM u WHERE r.record_id = u.record_id",
                 1, p, NULL, err) != 0) ||
        pg_copy(ps->pg,
                "COPY persons(office, uin, record_id, registration_number, link_statement,"
                " link_signature, link_signer, event_seq) FROM STDIN",
                (const char *)run->persons.data, run->persons.len, err) != 0)
        goto out;
    /* the same birth registered in another office: a case for both. Driven
     * from reg_in (analyzed above, carrying each registration's name key and
     * date of birth): the planner's estimate of this office's rows in
     * birth_records, stale right after this push's COPY, plays no part.
     * Each registration looks its key up in the (name_key, birth_date)
     * index of every partition (LATERAL, OFFSET 0 keeps it a lookup per
     * row): joined as a set, the planner hashed reg_in and read the whole
     * of birth_records in every push once the nation held a few hundred
     * thousand records (docs/national.md, round 7e). A registration whose
     * key this push brought to name_words has no key in reg_in (reg_run_add)
     * and is not looked up: eight index descents saved, the nation's
     * first record of that name */
    if (pg_exec(ps->pg,
                "INSERT INTO dup_cases(office_a, record_a, office_b, record_b, why)"
                " SELECT b.office, b.record_id, $1, r.record_id,"
                " 'same name key and date of birth'"
                " FROM reg_in r CROSS JOIN LATERAL (SELECT b.office, b.record_id"
                " FROM birth_records b WHERE b.name_key = r.name_key"
                " AND b.birth_date = r.birth_date AND b.office <> $1"
                " AND b.status = 'registered' OFFSET 0) b"
                " WHERE r.name_key <> '' ORDER BY r.ord ON CONFLICT DO NOTHING",
                1, p, NULL, err) != 0)
        goto out;
    rc = 0;
out:
    pg_res_free(r);
    buf_reset(&run->rows);
    buf_reset(&run->persons);
    json_object_clear(run->records);
    run->n = run->pending = 0;
    return rc;
}

/* A registrar of this office resolved a cross-district duplicate case it
 * is party to (registry_national_dup_resolve): the signed event is stored
 * with the push; the case takes its decision. A case of other offices, or a
 * decision that is not one, changes nothing. */
static int project_dup_resolve(struct push *ps, const json_t *data, struct err *err)
{
    const char *decision = nat_str(data, "decision");
    const char *p[6] = { ps->office, nat_str(data, "office_a"), nat_str(data, "record_a"),
                         nat_str(data, "office_b"), nat_str(data, "record_b"), decision };

    if (strcmp(decision, "same") != 0 && strcmp(decision, "distinct") != 0)
        return 0;
    return pg_exec(ps->pg,
                   "UPDATE dup_cases SET status = $6 WHERE office_a = $2 AND record_a = $3"
                   " AND office_b = $4 AND record_b = $5 AND $1 IN (office_a, office_b)",
                   6, p, NULL, err);
}

/* The id of the first object of KIND an event cites ("" when none). */
static const char *object_id(const json_t *body, const char *kind)
{
    size_t i;
    json_t *o;

    json_array_foreach(json_object_get(body, "objects"), i, o)
        if (strcmp(nat_str(o, "kind"), kind) == 0)
            return nat_str(o, "id");
    return "";
}

/* A travel document's national row, from the office's document events, as
 * the office's own projection moves its status: personalized (with its
 * dates), valid when issued (the document it replaces, if still counting,
 * cancelled), a status the office set (lost, stolen, revoked, expired), back
 * to allocated when quality control fails. Returns 1 for an event of
 * another type. */
static int project_document(struct push *ps, const struct checked_event *c, const char *type,
                            struct err *err)
{
    const json_t *data = c->data;
    const char *number = object_id(c->body, "document");
    char seq[24];

    (void)snprintf(seq, sizeof seq, "%llu", (unsigned long long)c->seq);
    if (strcmp(type, "document.personalize") == 0) {
        const char *p[6] = { ps->office, number, object_id(c->body, "person"),
                             nat_str(data, "date_of_issue"), nat_str(data, "date_of_expiry"), seq };
        return pg_exec(ps->pg,
                       "INSERT INTO documents(office, number, uin, status, date_of_issue,"
                       " date_of_expiry, event_seq) VALUES ($1, $2, $3, 'personalized', $4, $5,"
                       " $6) ON CONFLICT (office, number) DO UPDATE SET status = 'personalized',"
                       " status_reason = NULL, uin = EXCLUDED.uin, date_of_issue ="
                       " EXCLUDED.date_of_issue, date_of_expiry = EXCLUDED.date_of_expiry,"
                       " event_seq = EXCLUDED.event_seq",
                       6, p, NULL, err);
    }
    if (strcmp(type, "document.issue") == 0) {
        const char *p[4] = { ps->office, number, object_id(c->body, "person"), seq };
        const char *cancels = nat_str(data, "cancels");
        if (pg_exec(ps->pg,
                    "INSERT INTO documents(office, number, uin, status, event_seq) VALUES ($1,"
                    " $2, $3, 'valid', $4) ON CONFLICT (office, number) DO UPDATE SET status ="
                    " 'valid', status_reason = NULL, uin = EXCLUDED.uin, event_seq ="
                    " EXCLUDED.event_seq",
                    4, p, NULL, err) != 0)
            return -1;
        if (*cancels == '\0')
            return 0;
        const char *q[4] = { ps->office, cancels, number, seq };
        return pg_exec(ps->pg,
                       "UPDATE documents SET status = 'cancelled', status_reason = 'replaced by '"
                       " || $3, event_seq = $4 WHERE office = $1 AND number = $2 AND status IN"
                       " ('allocated', 'personalized', 'valid')",
                       4, q, NULL, err);
    }
    if (strcmp(type, "document.status") == 0) {
        const char *p[6] = { ps->office, number, object_id(c->body, "person"),
                             nat_str(data, "status"),
                             json_string_value(json_object_get(data, "reason")), seq };
        return pg_exec(ps->pg,
                       "INSERT INTO documents(office, number, uin, status, status_reason,"
                       " event_seq) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (office, number)"
                       " DO UPDATE SET status = EXCLUDED.status, status_reason ="
                       " EXCLUDED.status_reason, event_seq = EXCLUDED.event_seq",
                       6, p, NULL, err);
    }
    if (strcmp(type, "application.qc.fail") == 0 && *number != '\0') {
        const char *p[3] = { ps->office, number, seq };
        return pg_exec(ps->pg,
                       "UPDATE documents SET status = 'allocated', status_reason = NULL,"
                       " event_seq = $3 WHERE office = $1 AND number = $2",
                       3, p, NULL, err);
    }
    return 1;
}

/* Store the push's events and project them. The events go to PostgreSQL
 * from a thread of their own while this one plans the registrations and
 * builds the records' rows; the rest follows on this thread in order. The
 * statements and their order on the connection are those of storing, then
 * projecting, one after the other. */
/* The eight COPY buffers of a push (events, objects, evidence; births,
 * versions, keys; registrations, persons) are kept between pushes, emptied:
 * the next push, on any connection, writes its rows into memory already
 * allocated and faulted in, where each push grew its buffers anew by
 * realloc (a copy at every doubling) and touched fresh pages. At most
 * PUSH_BUFS_KEPT sets (pushes at once) of at most PUSH_BUFS_KEPT_MAX bytes
 * each are kept; any more are freed as before. */
#define PUSH_BUFS 8
#define PUSH_BUFS_KEPT 4
#define PUSH_BUFS_KEPT_MAX ((size_t)64 << 20)

struct buf_pool {
    pthread_mutex_t mu;
    unsigned nkept;
    struct buf kept[PUSH_BUFS_KEPT][2 * FANOUT_MAX];
};

/* store_and_project's eight; the parse jobs' rows (struct push's rows) */
static struct buf_pool store_pool = { .mu = PTHREAD_MUTEX_INITIALIZER };
static struct buf_pool row_pool = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* B's N buffers (empty, their caps set) take a kept set's memory, if any. */
static void push_bufs_take(struct buf_pool *p, struct buf *const b[], unsigned n)
{
    struct buf *k = NULL;

    (void)pthread_mutex_lock(&p->mu);
    if (p->nkept > 0)
        k = p->kept[--p->nkept];
    for (unsigned i = 0; k && i < n; i++) {
        b[i]->data = k[i].data;
        b[i]->cap = k[i].cap;
        b[i]->len = 0;
        k[i] = (struct buf)BUF_INIT(0);
    }
    /* a kept set of more buffers than B takes: the rest freed */
    for (unsigned i = n; k && i < 2 * FANOUT_MAX; i++) {
        buf_release(&k[i]);
    }
    (void)pthread_mutex_unlock(&p->mu);
}

/* B's N buffers emptied and kept for the next push, or freed. */
static void push_bufs_keep(struct buf_pool *p, struct buf *const b[], unsigned n)
{
    size_t total = 0;
    bool kept = false;

    for (unsigned i = 0; i < n; i++) {
        buf_reset(b[i]);
        total += b[i]->cap;
    }
    if (total > 0 && total <= PUSH_BUFS_KEPT_MAX) {
        (void)pthread_mutex_lock(&p->mu);
        if ((kept = p->nkept < PUSH_BUFS_KEPT)) {
            for (unsigned i = 0; i < n; i++)
                p->kept[p->nkept][i] = *b[i];
            p->nkept++;
        }
        (void)pthread_mutex_unlock(&p->mu);
    }
    for (unsigned i = 0; i < n; i++) {
        if (!kept)
            buf_release(b[i]);
        *b[i] = (struct buf)BUF_INIT(b[i]->max);
    }
}

/* PS's parse jobs' row buffers, from the pool and back */
static void push_rows_bufs(struct push *ps, struct buf *b[2 * FANOUT_MAX])
{
    for (unsigned k = 0; k < 2 * ps->jobs; k++)
        b[k] = &ps->rows[k];
}

static void push_rows_take(struct push *ps)
{
    struct buf *b[2 * FANOUT_MAX];

    push_rows_bufs(ps, b);
    for (unsigned k = 0; k < 2 * ps->jobs; k++)
        ps->rows[k] = (struct buf)BUF_INIT((size_t)1 << 30);
    push_bufs_take(&row_pool, b, 2 * ps->jobs);
}

static void push_rows_keep(struct push *ps)
{
    struct buf *b[2 * FANOUT_MAX];

    push_rows_bufs(ps, b);
    push_bufs_keep(&row_pool, b, 2 * ps->jobs);
}

static int store_and_project(struct push *ps, struct err *err)
{
    struct reg_run run = { BUF_INIT((size_t)1 << 30), BUF_INIT((size_t)1 << 30), 0, 0, false,
                           json_object() };
    struct store_rows sr = { BUF_INIT((size_t)1 << 30), BUF_INIT((size_t)1 << 30),
                             BUF_INIT((size_t)1 << 28), NULL, ERR_INIT, 0, 0, false };
    struct bulk_rows br = { BUF_INIT((size_t)1 << 30), BUF_INIT((size_t)1 << 30),
                            BUF_INIT((size_t)1 << 30), 0 };
    struct buf *const bufs[PUSH_BUFS] = { &sr.evb, &sr.ob,  &sr.eb,   &br.rb,
                                          &br.vb,  &br.kb, &run.rows, &run.persons };
    int rc = -1, built;

    push_bufs_take(&store_pool, bufs, PUSH_BUFS);
    if (run.records == NULL) {
        err_set(err, "out of memory");
        goto out;
    }
    if (store_build(ps, &sr, err) != 0)
        goto out;
    store_start(&sr, ps->pg);
    built = plan_prereg(ps, err) == 0 && bulk_build(ps, &br, err) == 0;
    if (store_join(&sr, built ? err : NULL) != 0 || !built || bulk_send(ps, &br, err) != 0)
        goto out;
    for (size_t i = 0; i < ps->n; i++) {
        const struct checked_event *c = &ps->ev[i];
        const char *type = c->type;
        const json_t *data = c->data;
        int r = 0;
        if (strcmp(type, "record.register") == 0) {
            if (json_object_get(run.records, c->rec_id) != NULL &&
                reg_run_flush(ps, &run, err) != 0)
                goto out;
            if (reg_run_add(ps, &run, c, err) != 0)
                goto out;
            continue;
        }
        if (strncmp(type, "document.", 9) == 0 || strcmp(type, "application.qc.fail") == 0) {
            /* no registration of this push is a document's: no flush */
            if (project_document(ps, c, type, err) < 0)
                goto out;
            continue;
        }
        if (strcmp(type, "record.correct") != 0 && strcmp(type, "record.verify") != 0 &&
            strcmp(type, "national.duplicate") != 0 && strcmp(type, "death.register") != 0)
            continue;
        /* another projected kind: the registrations before it first */
        if (reg_run_flush(ps, &run, err) != 0)
            goto out;
        if (strcmp(type, "record.correct") == 0) {
            r = project_correct(ps, c, err);
        } else if (strcmp(type, "record.verify") == 0) {
            const char *p[2] = { ps->office, c->rec_id };
            r = pg_exec(ps->pg,
                        "UPDATE birth_records SET status = 'verified' WHERE office = $1"
                        " AND record_id = $2", 2, p, NULL, err);
        } else if (strcmp(type, "national.duplicate") == 0) {
            r = project_dup_resolve(ps, data, err);
        } else {
            size_t j;
            json_t *o;
            const char *id = "";
            char seq[24];
            json_array_foreach(json_object_get(c->body, "objects"), j, o)
                if (strcmp(nat_str(o, "kind"), "death") == 0) id = nat_str(o, "id");
            (void)snprintf(seq, sizeof seq, "%llu", (unsigned long long)c->seq);
            const char *p[6] = { ps->office, id, nat_str(data, "uin"),
                                 nat_str(data, "registration_number"),
                                 nat_str(data, "date_of_death"), seq };
            r = pg_exec(ps->pg,
                        "INSERT INTO deaths(office, id, uin, registration_number, date_of_death,"
                        " event_seq) VALUES ($1, $2, $3, $4, $5, $6)",
                        6, p, NULL, err);
        }
        if (r != 0)
            goto out;
    }
    if (reg_run_flush(ps, &run, err) != 0)
        goto out;
    rc = 0;
out:
    push_bufs_keep(&store_pool, bufs, PUSH_BUFS);
    json_decref(run.records);
    return rc;
}

/* The push's checked events (about 270 bytes each, half a megabyte for a
 * push of 2,000), mapped rather than taken from the heap: freeing (or
 * allocating) a chunk that large in the heap makes glibc consolidate the
 * arena's fast bins first, there the thousands of small chunks the parsed
 * bodies were, on the pushing thread at every push. Zeroed as calloc's. */
static struct checked_event *events_alloc(size_t n)
{
    void *p = mmap(NULL, n * sizeof(struct checked_event), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    return p == MAP_FAILED ? NULL : p;
}

static void events_release(struct checked_event *ev, size_t n)
{
    if (ev != NULL)
        (void)munmap(ev, n * sizeof *ev);
}

/* The parsed bodies (their arenas, unmapped) and the versions of a push,
 * freed on a thread of their own while the push waits for its commit to
 * be durable: nothing after the projection reads them. */
struct parsed_free {
    struct checked_event *ev;
    size_t n;
    struct json_arena *arenas;
    size_t *versions; /* the index's slots */
    struct version_hash *vh;
    size_t nv;
    pthread_t th;
    bool started;
};

static void *parsed_free_run(void *arg)
{
    struct parsed_free *f = arg;

    for (size_t i = 0; i < f->n; i++) {
        f->ev[i].body = NULL;
        free(f->ev[i].link_text);
        f->ev[i].link_text = NULL;
    }
    for (unsigned k = 0; k < FANOUT_MAX; k++)
        json_arena_release(&f->arenas[k]);
    free(f->versions);
    versions_release(f->vh, f->nv);
    return NULL;
}

/* Hand PS's bodies and versions to a thread that frees them (inline when
 * no thread starts); parsed_free_join waits for it. */
static void parsed_free_start(struct parsed_free *f, struct push *ps)
{
    *f = (struct parsed_free){ .ev = ps->ev, .n = ps->n, .arenas = ps->arenas,
                               .versions = ps->versions.slot, .vh = ps->vh, .nv = ps->nv };
    ps->versions.slot = NULL;
    ps->vh = NULL;
    f->started = pthread_create(&f->th, NULL, parsed_free_run, f) == 0;
    if (!f->started)
        (void)parsed_free_run(f);
}

static void parsed_free_join(struct parsed_free *f)
{
    if (f->started)
        (void)pthread_join(f->th, NULL);
    f->started = false;
}

static int commit_office(struct push *ps, struct err *err)
{
    char size[24], *ftext = frontier_text(&ps->st.frontier);
    struct buf kb = BUF_INIT(1 << 24);
    const char *p[7];
    int rc = -1;

    if (ftext == NULL || json_dump_compact(ps->st.keys, &kb, err) != 0)
        goto out;
    (void)snprintf(size, sizeof size, "%llu", (unsigned long long)ps->new_size);
    p[0] = ps->office, p[1] = size, p[2] = ps->new_root_hex, p[3] = buf_str(&ps->head_body);
    p[4] = ps->head_sig_hex;
    if (pg_exec(ps->pg,
                "INSERT INTO heads(office, tree_size, root_hash, body, signature)"
                " VALUES ($1, $2, $3, $4, $5)",
                5, p, NULL, err) != 0)
        goto out;
    p[5] = ftext, p[6] = buf_str(&kb);
    if (pg_exec(ps->pg,
                "UPDATE offices SET tree_size = $2, root_hash = $3, head_body = $4,"
                " head_signature = $5, frontier = $6::jsonb, actor_keys = $7::jsonb,"
                " last_push_at = now() WHERE office = $1",
                7, p, NULL, err) != 0)
        goto out;
    rc = 0;
out:
    free(ftext);
    buf_release(&kb);
    return rc;
}

enum national_refusal national_push(struct pg *pg, const char *office, const json_t *req,
                                    json_t **out, struct err *err)
{
    struct push ps = { 0 };
    struct parsed_free pf = { 0 };
    const json_t *events = json_object_get(req, "events"), *proof;
    merkle_hash new_root, path[MERKLE_MAX_PROOF], built;
    json_t *from = json_object_get(req, "from");
    enum national_refusal rc = NATIONAL_REFUSED, lr;
    size_t np = 0, i;
    json_t *x;

    *out = NULL;
    ps.pg = pg;
    ps.office = office;
    ps.req = req;
    ps.head_body = (struct buf)BUF_INIT(4096);
    if (!json_is_object(req) || !json_is_integer(from)) {
        err_set(err, "push: malformed request (needs from, events, versions, head, consistency)");
        return NATIONAL_BAD_REQUEST;
    }
    if (pg_begin(pg, err) != 0)
        return NATIONAL_INTERNAL;
    if ((lr = load_office(pg, office, &ps.st, err)) != NATIONAL_OK) {
        rc = lr;
        goto out;
    }
    if (json_object_get(req, "fork")) {
        rc = fork_report(&ps, json_object_get(req, "fork"), err);
        goto out;
    }
    if (ps.st.fork_alarm) {
        err_set(err, "push refused: office %s is under a fork alarm (see `civreg national "
                     "status`)", office);
        rc = NATIONAL_FORK;
        goto out;
    }
    if ((uint64_t)json_integer_value(from) != ps.st.size) {
        err_set(err, "push: starts at %lld, the national tier holds %llu events of office %s",
                (long long)json_integer_value(from), (unsigned long long)ps.st.size, office);
        *out = json_pack("{s:I}", "tree_size", (json_int_t)ps.st.size);
        rc = NATIONAL_STALE;
        goto out;
    }
    ps.n = json_array_size(events);
    if (!json_is_array(events) || ps.n == 0 || ps.n > PUSH_MAX_EVENTS) {
        err_set(err, "push: 1 to %d events per push", PUSH_MAX_EVENTS);
        rc = NATIONAL_BAD_REQUEST;
        goto out;
    }
    /* the signed head */
    if (head_check(office, ps.st.pk, json_object_get(req, "head"), &ps.new_size, new_root,
                   &ps.head_body, err) != 0)
        goto out;
    ps.head_sig_hex = nat_str(json_object_get(req, "head"), "signature");
    hex_encode(new_root, 32, ps.new_root_hex);
    if (ps.new_size != ps.st.size + ps.n) {
        err_set(err, "push: head of size %llu does not match %llu + %zu events",
                (unsigned long long)ps.new_size, (unsigned long long)ps.st.size, ps.n);
        rc = NATIONAL_BAD_REQUEST;
        goto out;
    }
    /* the consistency proof from the accepted head: a validly signed head
     * that does not extend it is a fork */
    proof = json_object_get(req, "consistency");
    if (!json_is_array(proof) || json_array_size(proof) > MERKLE_MAX_PROOF) {
        err_set(err, "push: malformed consistency proof");
        rc = NATIONAL_BAD_REQUEST;
        goto out;
    }
    json_array_foreach(proof, i, x) if (reg_hex32(json_string_value(x), path[i], "proof", err) != 0)
    {
        rc = NATIONAL_BAD_REQUEST;
        goto out;
    }
    np = json_array_size(proof);
    if (merkle_verify_consistency(ps.st.size, ps.new_size, ps.st.root, new_root, path, np,
                                  err) != 0) {
        char detail[400];
        (void)snprintf(detail, sizeof detail,
                       "the signed head of %llu events is not consistent with the accepted head "
                       "of %llu events (%s)",
                       (unsigned long long)ps.new_size, (unsigned long long)ps.st.size,
                       err_msg(err));
        rc = record_fork(&ps, -1, ps.new_size, ps.new_root_hex, buf_str(&ps.head_body),
                         ps.head_sig_hex, detail, err);
        goto out;
    }
    /* every event */
    if ((ps.ev = events_alloc(ps.n)) == NULL) {
        rc = NATIONAL_INTERNAL;
        goto out;
    }
    {
        /* bodies parsed and checked canonical on threads; then structure,
         * signer keys and leaves in log order; then the signatures before
         * the first failure, in bulk: the first failure in log order is the
         * one reported */
        struct parse_job pj[FANOUT_MAX];
        unsigned t = ps.n < 256 ? 1 : work_threads();
        size_t bad_at = ps.n;
        struct err serr = ERR_INIT;
        struct verify_run vr;
        bool stored;

        const json_t *vs = json_object_get(req, "versions");
        size_t nv = json_array_size(vs);

        ps.nv = nv;
        if (nv > 0 && (ps.vh = calloc(nv, sizeof *ps.vh)) == NULL) {
            err_set(err, "push: out of memory");
            rc = NATIONAL_INTERNAL;
            goto out;
        }
        ps.jobs = t;
        push_rows_take(&ps);
        for (unsigned k = 0; k < t; k++)
            pj[k] = (struct parse_job){ ps.ev, &ps.arenas[k], events, ps.st.size,
                                        ps.n * k / t, ps.n * (k + 1) / t, ps.vh, vs,
                                        nv * k / t, nv * (k + 1) / t, office,
                                        &ps.rows[2 * k], &ps.rows[2 * k + 1], false };
        fanout_run(pj, t, sizeof pj[0], parse_range);
        for (unsigned k = 0; k < t; k++)
            ps.rows_oom |= pj[k].oom;
        for (i = 0; i < ps.n; i++)
            if (event_check(&ps, i, &serr) != 0) {
                bad_at = i;
                break;
            }
        if (bad_at == ps.n) {
            merkle_frontier_root(&ps.st.frontier, built);
            if (memcmp(built, new_root, 32) != 0) {
                err_set(&serr, "push: the events do not rebuild the signed root of size %llu",
                        (unsigned long long)ps.new_size);
                bad_at = ps.n + 1;
            } else if (versions_check(&ps, &serr) != 0) {
                bad_at = ps.n + 1;
            }
        }
        if (bad_at != ps.n) {
            /* refused: a signature before the failure is reported first */
            size_t upto = bad_at < ps.n ? bad_at : ps.n;
            if (!sig_refused(ps.ev, events_verify(ps.ev, upto), upto, err) && err)
                *err = serr;
            goto out;
        }
        /* every check but the signatures holds. The signatures are verified
         * on threads of their own while this thread sends the rows to
         * PostgreSQL in the push's transaction; the transaction commits only
         * when every signature holds, and is rolled back otherwise: nothing
         * is stored (visible, durable) before every check passed, and the
         * refusal is the same as if the signatures had been checked first */
        rc = NATIONAL_INTERNAL;
        verify_start(&vr, ps.ev, ps.n, true);
        stored = store_and_project(&ps, err) == 0;
        if (sig_refused(ps.ev, verify_finish(&vr), ps.n, err)) {
            rc = NATIONAL_REFUSED;
            goto out;
        }
        if (!stored) {
            if (ps.collided_uin[0]) {
                const char *p[4] = { ps.collided_uin, office, ps.collided_record,
                                     ps.collided_holder };
                pg_rollback(pg);
                if (pg_exec(pg,
                            "INSERT INTO uin_collisions(uin, office, record_id, held_by)"
                            " VALUES ($1, $2, $3, $4)", 4, p, NULL, NULL) != 0)
                    log_warn("national: recording the UIN collision of %s failed", p[0]);
                err_prefix(err, "push refused: UIN collision");
                rc = NATIONAL_REFUSED;
            }
            goto out;
        }
    }
    /* every check passed and every row is sent: the bodies are freed while
     * the commit is made durable */
    parsed_free_start(&pf, &ps);
    if (commit_office(&ps, err) != 0 || pg_commit(pg, err) != 0)
        goto out;
    *out = json_pack("{s:I, s:s}", "tree_size", (json_int_t)ps.new_size, "root_hash",
                     ps.new_root_hex);
    rc = *out ? NATIONAL_OK : NATIONAL_INTERNAL;
out:
    if (rc != NATIONAL_OK)
        pg_rollback(pg);
    parsed_free_join(&pf);
    for (i = 0; ps.ev && i < ps.n; i++)
        free(ps.ev[i].link_text);
    for (unsigned k = 0; k < FANOUT_MAX; k++)
        json_arena_release(&ps.arenas[k]);
    events_release(ps.ev, ps.n);
    push_rows_keep(&ps);
    versions_release(ps.vh, ps.nv);
    free(ps.versions.slot);
    json_decref(ps.prereg);
    json_decref(ps.prekeys);
    json_decref(ps.newkeys);
    buf_release(&ps.head_body);
    state_release(&ps.st);
    return rc;
}
