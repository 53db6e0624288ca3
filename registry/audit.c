/* civreg registry: `audit verify`. Replays the whole log from its first
 * event: checks each event's canonical form, position and signature (with
 * the keys the log itself published), rebuilds the Merkle tree and checks
 * every signed tree head and the witness file, then compares every row of
 * the registry's tables with the state the signed events describe, and
 * re-hashes every evidence file. Each problem is reported as one line naming
 * the row, event or file. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/encode.h"
#include "core/json.h"
#include "registry_int.h"

#define TREE_HEAD_REPORT_MAX 3

struct audit {
    struct db *db;
    void (*report)(void *ctx, const char *problem);
    void *ctx;
    int problems;
    unsigned char office_pk[REG_PK_BYTES];
    bool have_office_pk;
    char node_office[REG_OFFICE_MAX + 1];
    /* state replayed from the log */
    json_t *keys;     /* username -> public key hex */
    json_t *users;    /* username -> {office, roles, public_key, disabled, seq} */
    json_t *blobs;    /* hash -> {size, media_type, seq} */
    json_t *versions; /* "id#v" -> {hash, prev, seq} */
    json_t *records;  /* id -> {status, version, regno, uin} */
    json_t *persons;  /* uin -> {record_id, hash, seq} */
    json_t *links;    /* "uin:id:v" -> {hash, seq, signer} */
    json_t *deaths;   /* death id -> {hash, uin, seq} */
    json_t *deceased; /* uin -> death id */
    json_t *extracts; /* extract id -> {hash, seq} */
    uint64_t objects; /* objects named by events */
    /* witness */
    json_t *witness;
    bool witness_checked;
};

static void problem(struct audit *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct audit *a, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    a->problems++;
    if (a->report)
        a->report(a->ctx, line);
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int set_new(json_t *map, const char *key, json_t *v)
{
    return v ? json_object_set_new(map, key, v) : -1;
}

/* ---- replay: what each event type says about the tables ---- */

static const json_t *find_object(const json_t *objects, const char *kind)
{
    size_t i;
    json_t *o;

    json_array_foreach(objects, i, o) if (strcmp(jstr(o, "kind"), kind) == 0) return o;
    return NULL;
}

static void replay_link(struct audit *a, uint64_t seq, const json_t *objects, const json_t *link)
{
    const json_t *lo = find_object(objects, "link");
    const json_t *st = json_object_get(link, "statement");
    const char *signer = jstr(link, "signer");
    unsigned char pk[REG_PK_BYTES];
    char h[65];

    if (lo == NULL || st == NULL) {
        problem(a, "event %llu: link statement missing from the event", (unsigned long long)seq);
        return;
    }
    if (registry_json_hash(st, h, NULL) != 0 || strcmp(h, jstr(lo, "hash")) != 0)
        problem(a, "event %llu: link statement does not match its hash", (unsigned long long)seq);
    if (reg_hex32(jstr(a->keys, signer), pk, "key", NULL) != 0 ||
        !reg_link_signature_ok(link, pk))
        problem(a, "event %llu: link statement signature by '%s' is invalid",
                (unsigned long long)seq, signer);
    (void)set_new(a->links, jstr(lo, "id"),
                  json_pack("{s:s, s:I, s:s}", "hash", jstr(lo, "hash"), "seq", (json_int_t)seq,
                            "signer", signer));
}

/* Whether the replayed user ACTOR held ROLE when signing. */
static bool held_role(struct audit *a, const char *actor, const char *role)
{
    const json_t *roles = json_object_get(json_object_get(a->users, actor), "roles");
    size_t i;
    json_t *r;

    json_array_foreach(roles, i, r) if (strcmp(json_string_value(r), role) == 0) return true;
    return false;
}

static void replay(struct audit *a, uint64_t seq, const json_t *body)
{
    const char *type = jstr(body, "type");
    const char *actor = jstr(body, "actor");
    const json_t *objects = json_object_get(body, "objects");
    const json_t *data = json_object_get(body, "data");
    const json_t *o;
    char key[160];

    a->objects += json_array_size(objects);
    if (json_is_true(json_object_get(json_object_get(a->users, actor), "disabled")))
        problem(a, "event %llu: signed by '%s' after the account was disabled",
                (unsigned long long)seq, actor);
    if (strcmp(type, "office.key") == 0) {
        unsigned char pk[REG_PK_BYTES];
        if (reg_hex32(jstr(data, "public_key"), pk, "key", NULL) != 0 || !a->have_office_pk ||
            memcmp(pk, a->office_pk, REG_PK_BYTES) != 0)
            problem(a, "event %llu: the office key published in the log is not the trusted "
                       "office key",
                    (unsigned long long)seq);
    } else if (strcmp(type, "user.add") == 0) {
        const char *u = jstr(data, "username");
        char h[65];
        o = find_object(objects, "user");
        if (registry_json_hash(data, h, NULL) != 0 || o == NULL || strcmp(h, jstr(o, "hash")) != 0)
            problem(a, "event %llu: user.add data does not match its object hash",
                    (unsigned long long)seq);
        if (json_object_get(a->keys, u))
            problem(a, "event %llu: user '%s' added a second time", (unsigned long long)seq, u);
        /* only the first user adds themselves; every later one needs an admin */
        if (json_object_size(a->keys) > 0 && !held_role(a, actor, "admin"))
            problem(a, "event %llu: user '%s' added by '%s', who is not an admin",
                    (unsigned long long)seq, u, actor);
        (void)set_new(a->keys, u, json_string(jstr(data, "public_key")));
        (void)set_new(a->users, u,
                      json_pack("{s:s, s:O, s:s, s:b, s:I}", "office", jstr(data, "office"),
                                "roles", json_object_get(data, "roles"), "public_key",
                                jstr(data, "public_key"), "disabled", 0, "seq",
                                (json_int_t)seq));
    } else if (strcmp(type, "user.key") == 0) {
        const char *u = jstr(data, "username");
        json_t *us = json_object_get(a->users, u);
        char h[65];
        o = find_object(objects, "user");
        if (registry_json_hash(data, h, NULL) != 0 || o == NULL || strcmp(h, jstr(o, "hash")) != 0)
            problem(a, "event %llu: user.key data does not match its object hash",
                    (unsigned long long)seq);
        if (us == NULL || !held_role(a, actor, "admin")) {
            problem(a, "event %llu: new key for '%s' by '%s' (needs an admin and a known user)",
                    (unsigned long long)seq, u, actor);
            return;
        }
        /* later events by U verify under the new key */
        (void)json_object_set_new(a->keys, u, json_string(jstr(data, "public_key")));
        (void)json_object_set_new(us, "public_key", json_string(jstr(data, "public_key")));
        (void)json_object_set_new(us, "key_seq", json_integer((json_int_t)seq));
    } else if (strcmp(type, "user.roles") == 0) {
        const char *u = jstr(data, "username");
        json_t *us = json_object_get(a->users, u);
        char h[65];
        o = find_object(objects, "user");
        if (registry_json_hash(data, h, NULL) != 0 || o == NULL || strcmp(h, jstr(o, "hash")) != 0)
            problem(a, "event %llu: user.roles data does not match its object hash",
                    (unsigned long long)seq);
        if (us == NULL || !held_role(a, actor, "admin") || strcmp(actor, u) == 0) {
            problem(a, "event %llu: roles of '%s' changed by '%s' (needs another user who is "
                       "an admin, and a known user)",
                    (unsigned long long)seq, u, actor);
            return;
        }
        /* later events by U are checked against the new roles */
        (void)json_object_set(us, "roles", json_object_get(data, "roles"));
    } else if (strcmp(type, "user.disable") == 0) {
        json_t *u = json_object_get(a->users, jstr(data, "username"));
        if (u)
            (void)json_object_set_new(u, "disabled", json_true());
    } else if (strcmp(type, "evidence.add") == 0) {
        o = find_object(objects, "blob");
        if (o)
            (void)set_new(a->blobs, jstr(o, "id"),
                          json_pack("{s:O, s:s, s:I}", "size", json_object_get(data, "size"),
                                    "media_type", jstr(data, "media_type"), "seq",
                                    (json_int_t)seq));
    } else if (strcmp(type, "record.draft") == 0 || strcmp(type, "record.correct") == 0) {
        json_int_t v = json_integer_value(json_object_get(data, "version"));
        json_t *rec;
        o = find_object(objects, "record");
        if (o == NULL)
            return;
        (void)snprintf(key, sizeof key, "%s#%lld", jstr(o, "id"), (long long)v);
        (void)set_new(a->versions, key,
                      json_pack("{s:s, s:s?, s:I}", "hash", jstr(o, "hash"), "prev",
                                json_string_value(json_object_get(o, "prev")), "seq",
                                (json_int_t)seq));
        rec = json_object_get(a->records, jstr(o, "id"));
        if (rec == NULL) {
            (void)set_new(a->records, jstr(o, "id"), json_object());
            rec = json_object_get(a->records, jstr(o, "id"));
        }
        if (rec) {
            json_t *keyers = json_object_get(rec, "keyers");
            if (keyers == NULL) {
                (void)json_object_set_new(rec, "keyers", json_object());
                keyers = json_object_get(rec, "keyers");
            }
            if (keyers)
                (void)json_object_set_new(keyers, actor, json_true());
            (void)json_object_set_new(rec, "status", json_string(jstr(data, "status")));
            (void)json_object_set_new(rec, "version", json_integer(v));
            (void)json_object_set_new(rec, "hash", json_string(jstr(o, "hash")));
        }
        if (json_object_get(data, "link"))
            replay_link(a, seq, objects, json_object_get(data, "link"));
    } else if (strcmp(type, "record.verify") == 0) {
        json_t *rec;
        o = find_object(objects, "record");
        rec = o ? json_object_get(a->records, jstr(o, "id")) : NULL;
        if (rec == NULL) {
            problem(a, "event %llu: verifies a record the log never drafted",
                    (unsigned long long)seq);
            return;
        }
        if (strcmp(jstr(o, "hash"), jstr(rec, "hash")) != 0)
            problem(a, "event %llu: verifies a version that is not the record's current one",
                    (unsigned long long)seq);
        if (json_object_get(json_object_get(rec, "keyers"), actor) || !held_role(a, actor, "clerk"))
            problem(a, "event %llu: verification by '%s' breaks the four-eyes rule (keyed the "
                       "record, or not a clerk)",
                    (unsigned long long)seq, actor);
        (void)json_object_set_new(rec, "status", json_string("verified"));
    } else if (strcmp(type, "record.register") == 0) {
        const json_t *po = find_object(objects, "person");
        json_t *rec;
        o = find_object(objects, "record");
        rec = o ? json_object_get(a->records, jstr(o, "id")) : NULL;
        if (rec == NULL || po == NULL) {
            problem(a, "event %llu: registers a record the log never drafted",
                    (unsigned long long)seq);
            return;
        }
        if (strcmp(jstr(rec, "status"), "verified") != 0 || !held_role(a, actor, "registrar"))
            problem(a, "event %llu: registration by '%s' of a record that was %s (needs a "
                       "registrar and a verified record)",
                    (unsigned long long)seq, actor, jstr(rec, "status"));
        (void)json_object_set_new(rec, "status", json_string("registered"));
        (void)json_object_set_new(rec, "regno", json_string(jstr(data, "registration_number")));
        (void)json_object_set_new(rec, "uin", json_string(jstr(data, "uin")));
        if (json_object_get(a->persons, jstr(po, "id")))
            problem(a, "event %llu: identity number %s issued a second time",
                    (unsigned long long)seq, jstr(po, "id"));
        (void)set_new(a->persons, jstr(po, "id"),
                      json_pack("{s:s, s:s, s:I}", "record_id", jstr(o, "id"), "hash",
                                jstr(po, "hash"), "seq", (json_int_t)seq));
        replay_link(a, seq, objects, json_object_get(data, "link"));
    } else if (strcmp(type, "death.register") == 0) {
        const json_t *po = find_object(objects, "person");
        o = find_object(objects, "death");
        if (o == NULL || po == NULL || json_object_get(a->persons, jstr(po, "id")) == NULL) {
            problem(a, "event %llu: registers the death of a person the log never created",
                    (unsigned long long)seq);
            return;
        }
        if (!held_role(a, actor, "registrar"))
            problem(a, "event %llu: death registered by '%s', who is not a registrar",
                    (unsigned long long)seq, actor);
        if (json_object_get(a->deceased, jstr(po, "id")))
            problem(a, "event %llu: a second death registered for %s", (unsigned long long)seq,
                    jstr(po, "id"));
        (void)set_new(a->deceased, jstr(po, "id"), json_string(jstr(o, "id")));
        (void)set_new(a->deaths, jstr(o, "id"),
                      json_pack("{s:s, s:s, s:I}", "hash", jstr(o, "hash"), "uin",
                                jstr(po, "id"), "seq", (json_int_t)seq));
    } else if (strcmp(type, "extract.issue") == 0) {
        const json_t *ro = find_object(objects, "record");
        const json_t *rec = ro ? json_object_get(a->records, jstr(ro, "id")) : NULL;
        o = find_object(objects, "extract");
        if (o == NULL || rec == NULL || strcmp(jstr(rec, "status"), "registered") != 0) {
            problem(a, "event %llu: an extract of a record that is not registered",
                    (unsigned long long)seq);
            return;
        }
        if (!held_role(a, actor, "clerk") && !held_role(a, actor, "registrar"))
            problem(a, "event %llu: extract issued by '%s', who is neither clerk nor registrar",
                    (unsigned long long)seq, actor);
        (void)set_new(a->extracts, jstr(o, "id"),
                      json_pack("{s:s, s:I}", "hash", jstr(o, "hash"), "seq", (json_int_t)seq));
    }
}

/* ---- the log ---- */

struct node_check {
    struct audit *a;
    sqlite3_stmt *st;
    uint64_t bad;
};

static int check_node(void *ctx, unsigned level, uint64_t index, const merkle_hash hash,
                      struct err *err)
{
    struct node_check *c = ctx;
    int step;

    (void)err;
    sqlite3_reset(c->st);
    sqlite3_bind_int(c->st, 1, (int)level);
    sqlite3_bind_int64(c->st, 2, (sqlite3_int64)index);
    step = sqlite3_step(c->st);
    if (step != SQLITE_ROW || sqlite3_column_bytes(c->st, 0) != MERKLE_HASH_BYTES ||
        memcmp(sqlite3_column_blob(c->st, 0), hash, MERKLE_HASH_BYTES) != 0) {
        if (c->bad++ == 0)
            problem(c->a, "merkle_nodes: subtree level %u index %llu %s", level,
                    (unsigned long long)index,
                    step == SQLITE_ROW ? "differs from the rebuilt tree" : "is missing");
    }
    return 0;
}

struct heads {
    sqlite3_stmt *st;
    bool have;
    uint64_t size;
    uint64_t checked, bad;
};

static void heads_next(struct audit *a, struct heads *h)
{
    int step = sqlite3_step(h->st);

    h->have = step == SQLITE_ROW;
    if (h->have)
        h->size = (uint64_t)sqlite3_column_int64(h->st, 0);
    else if (step != SQLITE_DONE)
        problem(a, "tree_heads: cannot be read: %s", sqlite3_errmsg(db_handle(a->db)));
}

/* Check the head the statement is on against the rebuilt ROOT. */
static void head_check(struct audit *a, struct heads *h, const merkle_hash root)
{
    sqlite3_stmt *st = h->st;
    const char *body = (const char *)sqlite3_column_text(st, 4);
    json_t *b = NULL;
    char root_hex[65];
    bool ok = true;

    h->checked++;
    hex_encode(root, 32, root_hex);
    if (sqlite3_column_bytes(st, 1) != 32 || memcmp(sqlite3_column_blob(st, 1), root, 32) != 0) {
        if (h->bad++ < TREE_HEAD_REPORT_MAX)
            problem(a, "tree head %llu: its root hash differs from the tree rebuilt from the "
                       "events (events changed, deleted or reordered)",
                    (unsigned long long)h->size);
        ok = false;
    }
    if (ok && (body == NULL || json_parse(body, strlen(body), &b, NULL) != 0 ||
               json_integer_value(json_object_get(b, "tree_size")) != (json_int_t)h->size ||
               strcmp(jstr(b, "root_hash"), root_hex) != 0)) {
        if (h->bad++ < TREE_HEAD_REPORT_MAX)
            problem(a, "tree head %llu: its signed body does not name this size and root",
                    (unsigned long long)h->size);
        ok = false;
    }
    if (ok && (!a->have_office_pk ||
               !reg_sig_ok(a->office_pk, body, strlen(body), sqlite3_column_blob(st, 5),
                           (size_t)sqlite3_column_bytes(st, 5)))) {
        if (h->bad++ < TREE_HEAD_REPORT_MAX)
            problem(a, "tree head %llu: office signature invalid", (unsigned long long)h->size);
    }
    json_decref(b);
}

static void witness_check(struct audit *a, uint64_t size, const merkle_hash root)
{
    struct buf body = BUF_INIT(4096);
    unsigned char sig[REG_SIG_BYTES];
    char root_hex[65];
    const char *sig_hex = jstr(a->witness, "signature");
    size_t n = 0;

    a->witness_checked = true;
    hex_encode(root, 32, root_hex);
    if (strcmp(root_hex, jstr(a->witness, "root_hash")) != 0) {
        problem(a, "keys/tree-head.json: the office signed a different root for tree size %llu "
                   "(events changed or reordered since)",
                (unsigned long long)size);
    } else if (reg_tree_head_body(jstr(a->witness, "office"), size, root_hex,
                                  jstr(a->witness, "signed_at"), &body, NULL) != 0 ||
               strlen(sig_hex) != 2 * REG_SIG_BYTES ||
               hex_decode(sig_hex, strlen(sig_hex), sig, sizeof sig, &n, NULL) != 0 ||
               !a->have_office_pk ||
               !reg_sig_ok(a->office_pk, body.data, body.len, sig, sizeof sig)) {
        problem(a, "keys/tree-head.json: office signature invalid");
    }
    buf_release(&body);
}

static int check_events(struct audit *a, struct registry_audit_stats *stats, struct err *err)
{
    sqlite3_stmt *st = NULL;
    struct heads h = { 0 };
    struct node_check nc = { a, NULL, 0 };
    struct merkle_frontier f = MERKLE_FRONTIER_INIT;
    struct buf canon = BUF_INIT(8 << 20);
    uint64_t expected = 0, witness_size = 0;
    int rc = -1, step;

    if (a->witness)
        witness_size = (uint64_t)json_integer_value(json_object_get(a->witness, "tree_size"));
    if (reg_prepare(a->db, &st,
                    "SELECT seq, type, actor, office, created_at, body, signature, leaf_hash"
                    " FROM events ORDER BY seq",
                    err) != 0 ||
        reg_prepare(a->db, &h.st,
                    "SELECT tree_size, root_hash, office, signed_at, body, signature"
                    " FROM tree_heads ORDER BY tree_size",
                    err) != 0 ||
        reg_prepare(a->db, &nc.st, "SELECT hash FROM merkle_nodes WHERE level=?1 AND idx=?2",
                    err) != 0)
        goto out;
    heads_next(a, &h);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
        const char *body = (const char *)sqlite3_column_text(st, 5);
        size_t body_len = (size_t)sqlite3_column_bytes(st, 5);
        const unsigned char *sig = sqlite3_column_blob(st, 6);
        size_t sig_len = (size_t)sqlite3_column_bytes(st, 6);
        crypto_hash_sha256_state hs;
        merkle_hash leaf, root;
        json_t *b = NULL;
        const char *actor;
        unsigned char pk[REG_PK_BYTES];

        if (seq > expected) {
            if (seq - expected == 1)
                problem(a, "event %llu: missing from the log (deleted?)",
                        (unsigned long long)expected);
            else
                problem(a, "events %llu to %llu: missing from the log (deleted?)",
                        (unsigned long long)expected, (unsigned long long)(seq - 1));
        }
        expected = seq + 1;
        stats->events++;
        if (body == NULL || json_parse(body, body_len, &b, NULL) != 0) {
            problem(a, "event %llu: body is not valid JSON", (unsigned long long)seq);
        } else {
            buf_reset(&canon);
            if (json_canonical(b, &canon, NULL) != 0 || canon.len != body_len ||
                memcmp(canon.data, body, body_len) != 0)
                problem(a, "event %llu: body is not in canonical form (edited?)",
                        (unsigned long long)seq);
            if (json_integer_value(json_object_get(b, "seq")) != (json_int_t)seq)
                problem(a, "event %llu: the signed body says it is event %lld (events swapped or "
                           "renumbered)",
                        (unsigned long long)seq, (long long)json_integer_value(json_object_get(b, "seq")));
            if (strcmp(jstr(b, "type"), (const char *)sqlite3_column_text(st, 1)) != 0 ||
                strcmp(jstr(b, "actor"), (const char *)sqlite3_column_text(st, 2)) != 0 ||
                strcmp(jstr(b, "office"), (const char *)sqlite3_column_text(st, 3)) != 0 ||
                strcmp(jstr(b, "time"), (const char *)sqlite3_column_text(st, 4)) != 0)
                problem(a, "event %llu: type, actor, office or time columns differ from the "
                           "signed body",
                        (unsigned long long)seq);
            actor = jstr(b, "actor");
            if (strncmp(actor, "office:", 7) == 0) {
                if (!a->have_office_pk || strcmp(actor + 7, a->node_office) != 0) {
                    problem(a, "event %llu: signed by unknown office '%s'",
                            (unsigned long long)seq, actor);
                } else if (!reg_sig_ok(a->office_pk, body, body_len, sig, sig_len)) {
                    problem(a, "event %llu (%s by %s): signature invalid",
                            (unsigned long long)seq, jstr(b, "type"), actor);
                }
            } else if (strcmp(jstr(b, "type"), "user.add") == 0 &&
                       strcmp(jstr(json_object_get(b, "data"), "username"), actor) == 0 &&
                       json_object_size(a->keys) == 0) {
                /* the first admin signs their own creation with the key it publishes */
                if (reg_hex32(jstr(json_object_get(b, "data"), "public_key"), pk, "key", NULL) !=
                        0 ||
                    !reg_sig_ok(pk, body, body_len, sig, sig_len))
                    problem(a, "event %llu (%s by %s): signature invalid",
                            (unsigned long long)seq, jstr(b, "type"), actor);
            } else if (reg_hex32(jstr(a->keys, actor), pk, "key", NULL) != 0) {
                problem(a, "event %llu: signed by '%s', who no earlier event added",
                        (unsigned long long)seq, actor);
            } else if (!reg_sig_ok(pk, body, body_len, sig, sig_len)) {
                problem(a, "event %llu (%s by %s): signature invalid", (unsigned long long)seq,
                        jstr(b, "type"), actor);
            }
            replay(a, seq, b);
        }
        crypto_hash_sha256_init(&hs);
        crypto_hash_sha256_update(&hs, (const unsigned char *)"\x00", 1);
        crypto_hash_sha256_update(&hs, (const unsigned char *)(body ? body : ""), body_len);
        crypto_hash_sha256_update(&hs, sig ? sig : (const unsigned char *)"", sig_len);
        crypto_hash_sha256_final(&hs, leaf);
        if (sqlite3_column_bytes(st, 7) != 32 || memcmp(sqlite3_column_blob(st, 7), leaf, 32) != 0)
            problem(a, "event %llu: stored leaf hash does not match the event",
                    (unsigned long long)seq);
        json_decref(b);
        if (merkle_frontier_append(&f, leaf, check_node, &nc, err) != 0)
            goto out;
        merkle_frontier_root(&f, root);
        while (h.have && h.size < f.size) {
            if (h.bad++ < TREE_HEAD_REPORT_MAX)
                problem(a, "tree head %llu: no tree of that size can be rebuilt from the events",
                        (unsigned long long)h.size);
            heads_next(a, &h);
        }
        if (h.have && h.size == f.size) {
            head_check(a, &h, root);
            heads_next(a, &h);
        }
        if (a->witness && witness_size == f.size)
            witness_check(a, witness_size, root);
    }
    if (step != SQLITE_DONE) {
        reg_sql_fail(a->db, "reading events", err);
        goto out;
    }
    if (h.bad > TREE_HEAD_REPORT_MAX)
        problem(a, "tree heads: %llu more do not match the events",
                (unsigned long long)(h.bad - TREE_HEAD_REPORT_MAX));
    if (nc.bad > 1)
        problem(a, "merkle_nodes: %llu subtrees in all differ from the rebuilt tree",
                (unsigned long long)nc.bad);
    if (h.have) {
        problem(a, "tree head %llu: signed for %llu events but the log holds only %llu "
                   "(log truncated?)",
                (unsigned long long)h.size, (unsigned long long)h.size,
                (unsigned long long)f.size);
    } else {
        sqlite3_stmt *last = NULL;
        if (reg_prepare(a->db, &last, "SELECT coalesce(max(tree_size), 0) FROM tree_heads",
                        err) != 0)
            goto out;
        if (sqlite3_step(last) == SQLITE_ROW &&
            (uint64_t)sqlite3_column_int64(last, 0) < f.size)
            problem(a, "events %llu to %llu: not covered by any signed tree head",
                    (unsigned long long)sqlite3_column_int64(last, 0),
                    (unsigned long long)(f.size - 1));
        sqlite3_finalize(last);
    }
    if (a->witness && !a->witness_checked && witness_size > f.size)
        problem(a, "keys/tree-head.json: the office signed a log of %llu events but the database "
                   "holds only %llu (log truncated)",
                (unsigned long long)witness_size, (unsigned long long)f.size);
    stats->tree_heads = h.checked;
    rc = 0;
out:
    buf_release(&canon);
    sqlite3_finalize(st);
    sqlite3_finalize(h.st);
    sqlite3_finalize(nc.st);
    return rc;
}

/* ---- the tables against the replayed state ---- */

static void mark_seen(json_t *v)
{
    (void)json_object_set_new(v, "seen", json_true());
}

static void report_unseen(struct audit *a, json_t *map, const char *table, const char *what)
{
    const char *key;
    json_t *v;

    json_object_foreach(map, key, v) if (!json_object_get(v, "seen"))
        problem(a, "%s: %s '%s' of event %lld has no row (deleted?)", table, what, key,
                (long long)json_integer_value(json_object_get(v, "seq")));
}

static int check_users(struct audit *a, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (reg_prepare(a->db, &st,
                    "SELECT username, office, roles, public_key, disabled, event_seq FROM users",
                    err) != 0)
        return -1;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *u = (const char *)sqlite3_column_text(st, 0);
        json_t *s = json_object_get(a->users, u), *roles;
        char pk_hex[65] = "";
        if (s == NULL) {
            problem(a, "users '%s': no event in the log added this user", u);
            continue;
        }
        mark_seen(s);
        if (sqlite3_column_bytes(st, 3) == 32)
            hex_encode(sqlite3_column_blob(st, 3), 32, pk_hex);
        if (strcmp(pk_hex, jstr(s, "public_key")) != 0)
            problem(a, "users '%s': public key differs from the key logged in event %lld", u,
                    (long long)json_integer_value(json_object_get(
                        s, json_object_get(s, "key_seq") ? "key_seq" : "seq")));
        roles = registry_roles_json((unsigned)sqlite3_column_int(st, 2));
        if (!json_equal(roles, json_object_get(s, "roles")) ||
            strcmp((const char *)sqlite3_column_text(st, 1), jstr(s, "office")) != 0)
            problem(a, "users '%s': roles or office differ from those logged in event %lld", u,
                    (long long)json_integer_value(json_object_get(s, "seq")));
        json_decref(roles);
        if ((sqlite3_column_int(st, 4) != 0) != json_is_true(json_object_get(s, "disabled")))
            problem(a, "users '%s': disabled flag differs from the log", u);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return reg_sql_fail(a->db, "reading users", err);
    report_unseen(a, a->users, "users", "user");
    return 0;
}

static int check_blobs(struct audit *a, const char *blobs_dir, struct registry_audit_stats *stats,
                       struct err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (reg_prepare(a->db, &st, "SELECT hash, size, media_type FROM blobs ORDER BY hash", err) != 0)
        return -1;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *h = (const char *)sqlite3_column_text(st, 0);
        json_t *s = json_object_get(a->blobs, h);
        struct err e = ERR_INIT;
        if (s == NULL) {
            problem(a, "blobs %s: no event in the log added this evidence", h);
        } else {
            mark_seen(s);
            if (json_integer_value(json_object_get(s, "size")) != sqlite3_column_int64(st, 1) ||
                strcmp(jstr(s, "media_type"), (const char *)sqlite3_column_text(st, 2)) != 0)
                problem(a, "blobs %s: size or media type differ from event %lld", h,
                        (long long)json_integer_value(json_object_get(s, "seq")));
        }
        stats->blobs++;
        if (reg_blob_check_file(blobs_dir, h, sqlite3_column_int64(st, 1), &e) != 0)
            problem(a, "evidence file %s", err_msg(&e));
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return reg_sql_fail(a->db, "reading blobs", err);
    report_unseen(a, a->blobs, "blobs", "evidence");
    return 0;
}

static int check_versions(struct audit *a, struct registry_audit_stats *stats, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (reg_prepare(a->db, &st,
                    "SELECT record_id, version, data, hash, prev_hash, event_seq"
                    " FROM record_versions ORDER BY record_id, version",
                    err) != 0)
        return -1;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        int v = sqlite3_column_int(st, 1);
        const char *hash = (const char *)sqlite3_column_text(st, 3);
        const char *prev = (const char *)sqlite3_column_text(st, 4);
        char key[160], got[65];
        json_t *s;

        stats->records++;
        reg_sha256_hex(sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2), got);
        if (strcmp(got, hash) != 0)
            problem(a, "record_versions %s version %d: the record data does not match its hash "
                       "(a field was changed)",
                    id, v);
        (void)snprintf(key, sizeof key, "%s#%d", id, v);
        s = json_object_get(a->versions, key);
        if (s == NULL) {
            problem(a, "record_versions %s version %d: no event in the log records this version "
                       "(log truncated or row inserted)",
                    id, v);
            continue;
        }
        mark_seen(s);
        /* A changed field whose hash column was left alone is reported
         * above; one whose hash column was rewritten to match shows here. */
        if (strcmp(jstr(s, "hash"), got) != 0 && strcmp(got, hash) == 0)
            problem(a, "record_versions %s version %d: content differs from the version signed "
                       "in event %lld",
                    id, v, (long long)json_integer_value(json_object_get(s, "seq")));
        if (strcmp(jstr(s, "prev"), prev ? prev : "") != 0)
            problem(a, "record_versions %s version %d: previous-version hash differs from event "
                       "%lld",
                    id, v, (long long)json_integer_value(json_object_get(s, "seq")));
        if (sqlite3_column_int64(st, 5) != json_integer_value(json_object_get(s, "seq")))
            problem(a, "record_versions %s version %d: points at event %lld, the log says %lld",
                    id, v, (long long)sqlite3_column_int64(st, 5),
                    (long long)json_integer_value(json_object_get(s, "seq")));
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return reg_sql_fail(a->db, "reading record versions", err);
    report_unseen(a, a->versions, "record_versions", "version");
    return 0;
}

static int check_records(struct audit *a, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (reg_prepare(a->db, &st,
                    "SELECT id, status, version, registration_number, uin FROM birth_records",
                    err) != 0)
        return -1;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *regno = (const char *)sqlite3_column_text(st, 3);
        const char *uin = (const char *)sqlite3_column_text(st, 4);
        json_t *s = json_object_get(a->records, id);
        if (s == NULL) {
            problem(a, "birth_records %s: no event in the log drafted this record", id);
            continue;
        }
        mark_seen(s);
        if (strcmp(jstr(s, "status"), (const char *)sqlite3_column_text(st, 1)) != 0 ||
            json_integer_value(json_object_get(s, "version")) != sqlite3_column_int(st, 2))
            problem(a, "birth_records %s: status %s version %d, but the log says %s version %lld",
                    id, sqlite3_column_text(st, 1), sqlite3_column_int(st, 2), jstr(s, "status"),
                    (long long)json_integer_value(json_object_get(s, "version")));
        if (strcmp(jstr(s, "regno"), regno ? regno : "") != 0 ||
            strcmp(jstr(s, "uin"), uin ? uin : "") != 0)
            problem(a, "birth_records %s: registration number or UIN differ from the log", id);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return reg_sql_fail(a->db, "reading birth records", err);
    {
        const char *key;
        json_t *v;
        json_object_foreach(a->records, key, v) if (!json_object_get(v, "seen"))
            problem(a, "birth_records: record '%s' drafted in the log has no row (deleted?)", key);
    }
    return 0;
}

static int check_persons(struct audit *a, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (reg_prepare(a->db, &st, "SELECT uin, record_id, event_seq FROM persons", err) != 0)
        return -1;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *uin = (const char *)sqlite3_column_text(st, 0);
        const char *rid = (const char *)sqlite3_column_text(st, 1);
        json_t *s = json_object_get(a->persons, uin);
        char h[65];
        if (s == NULL) {
            problem(a, "persons %s: no event in the log created this person", uin);
            continue;
        }
        mark_seen(s);
        if (reg_person_hash(uin, rid, h, NULL) != 0 || strcmp(h, jstr(s, "hash")) != 0)
            problem(a, "persons %s: record link differs from event %lld", uin,
                    (long long)json_integer_value(json_object_get(s, "seq")));
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return reg_sql_fail(a->db, "reading persons", err);
    report_unseen(a, a->persons, "persons", "person");
    st = NULL;
    if (reg_prepare(a->db, &st,
                    "SELECT uin, record_id, record_version, statement, signature, signer"
                    " FROM person_links",
                    err) != 0)
        return -1;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char key[160], h[65];
        unsigned char pk[REG_PK_BYTES];
        const char *signer = (const char *)sqlite3_column_text(st, 5);
        json_t *s;
        (void)snprintf(key, sizeof key, "%s:%s:%d", sqlite3_column_text(st, 0),
                       sqlite3_column_text(st, 1), sqlite3_column_int(st, 2));
        s = json_object_get(a->links, key);
        if (s == NULL) {
            problem(a, "person_links %s: no event in the log signed this link", key);
            continue;
        }
        mark_seen(s);
        reg_sha256_hex(sqlite3_column_text(st, 3), (size_t)sqlite3_column_bytes(st, 3), h);
        if (strcmp(h, jstr(s, "hash")) != 0)
            problem(a, "person_links %s: statement differs from the one in event %lld", key,
                    (long long)json_integer_value(json_object_get(s, "seq")));
        if (reg_hex32(jstr(a->keys, signer), pk, "key", NULL) != 0 ||
            !reg_sig_ok(pk, sqlite3_column_text(st, 3), (size_t)sqlite3_column_bytes(st, 3),
                        sqlite3_column_blob(st, 4), (size_t)sqlite3_column_bytes(st, 4)))
            problem(a, "person_links %s: signature by '%s' invalid", key, signer);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return reg_sql_fail(a->db, "reading links", err);
    report_unseen(a, a->links, "person_links", "link");
    return 0;
}

/* Rows whose content hash an event signed: SQL selects (id, content, hash,
 * event_seq); the content must hash to the stored hash, and both must be
 * what event SEQ logged for ID. */
static int check_hashed_rows(struct audit *a, const char *sql, json_t *map, const char *table,
                             const char *what, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (reg_prepare(a->db, &st, sql, err) != 0)
        return -1;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *hash = (const char *)sqlite3_column_text(st, 2);
        json_t *s = json_object_get(map, id);
        char h[65];
        if (s == NULL) {
            problem(a, "%s %s: no event in the log created this %s", table, id, what);
            continue;
        }
        mark_seen(s);
        reg_sha256_hex(sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1), h);
        if (hash == NULL || strcmp(h, hash) != 0)
            problem(a, "%s %s: content does not match its stored hash (edited?)", table, id);
        else if (strcmp(hash, jstr(s, "hash")) != 0 ||
                 sqlite3_column_int64(st, 3) != json_integer_value(json_object_get(s, "seq")))
            problem(a, "%s %s: differs from what event %lld signed", table, id,
                    (long long)json_integer_value(json_object_get(s, "seq")));
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return reg_sql_fail(a->db, table, err);
    report_unseen(a, map, table, what);
    return 0;
}

static int check_deaths_extracts(struct audit *a, struct err *err)
{
    if (check_hashed_rows(a, "SELECT id, data, hash, event_seq FROM deaths", a->deaths, "deaths",
                          "death", err) != 0 ||
        check_hashed_rows(a, "SELECT id, seal, seal_hash, event_seq FROM extracts", a->extracts,
                          "extracts", "extract", err) != 0)
        return -1;
    return 0;
}

static int check_event_index(struct audit *a, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if (reg_prepare(a->db, &st, "SELECT count(*) FROM event_objects", err) != 0)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW && (uint64_t)sqlite3_column_int64(st, 0) > a->objects)
        problem(a, "event_objects: %lld rows, more than the %llu objects the events name",
                (long long)sqlite3_column_int64(st, 0), (unsigned long long)a->objects);
    sqlite3_finalize(st);
    return rc;
}

/* A signed tree head is a few hundred bytes. */
#define WITNESS_MAX (64u << 10)

static void load_witness(struct audit *a, const char *keys_dir)
{
    char path[PATH_MAX];
    struct err err = ERR_INIT;

    if (keys_dir == NULL || snprintf(path, sizeof path, "%s/tree-head.json", keys_dir) >=
                                (int)sizeof path)
        return;
    if (access(path, F_OK) != 0)
        return;
    /* Through json_parse (depth bounded before the recursive parser). */
    if (json_parse_file(path, WITNESS_MAX, &a->witness, &err) != 0 ||
        !json_is_integer(json_object_get(a->witness, "tree_size"))) {
        problem(a, "keys/tree-head.json: not a signed tree head (%s)",
                a->witness ? "no tree_size" : err_msg(&err));
        json_decref(a->witness);
        a->witness = NULL;
    }
}

/* The witness exists to notice a log cut short: once the office has signed
 * a tree head, deleting keys/tree-head.json must not pass unnoticed (a new
 * data directory with no signed head has none yet, rightly). */
static int witness_missing_check(struct audit *a, const char *keys_dir, struct err *err)
{
    char path[PATH_MAX];
    sqlite3_stmt *st = NULL;
    int step;

    if (a->witness != NULL || keys_dir == NULL ||
        snprintf(path, sizeof path, "%s/tree-head.json", keys_dir) >= (int)sizeof path)
        return 0;
    if (access(path, F_OK) == 0 || errno != ENOENT) /* present: load_witness judged it */
        return 0;
    if (reg_prepare(a->db, &st, "SELECT max(tree_size) FROM tree_heads", err) != 0)
        return -1;
    step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        problem(a, "keys/tree-head.json: missing, but the office signed a tree head of %lld "
                   "events; the witness of the log's size was deleted",
                (long long)sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    return step == SQLITE_ROW ? 0 : reg_sql_fail(a->db, "reading tree heads", err);
}

int registry_audit_verify(struct db *db, const char *keys_dir, const char *blobs_dir,
                          const unsigned char *office_key,
                          void (*report)(void *ctx, const char *problem), void *ctx,
                          struct registry_audit_stats *stats, struct err *err)
{
    struct audit a;
    struct registry_audit_stats dummy;
    char *office = NULL;
    int rc = -1, r;

    memset(&a, 0, sizeof a);
    if (stats == NULL)
        stats = &dummy;
    memset(stats, 0, sizeof *stats);
    a.db = db;
    a.report = report;
    a.ctx = ctx;
    a.keys = json_object();
    a.users = json_object();
    a.blobs = json_object();
    a.versions = json_object();
    a.records = json_object();
    a.persons = json_object();
    a.links = json_object();
    a.deaths = json_object();
    a.deceased = json_object();
    a.extracts = json_object();
    if (!a.keys || !a.users || !a.blobs || !a.versions || !a.records || !a.persons || !a.links ||
        !a.deaths || !a.deceased || !a.extracts) {
        err_set(err, "out of memory");
        goto out;
    }
    r = db_setting_get(db, "office", &office, err);
    if (r < 0)
        goto out;
    if (r > 0 || strlen(office) > REG_OFFICE_MAX) {
        err_set(err, "settings: no office code");
        goto out;
    }
    memcpy(a.node_office, office, strlen(office) + 1);
    if (registry_office_public_key(db, office, a.office_pk, NULL) == 0) {
        a.have_office_pk = true;
        if (office_key && memcmp(office_key, a.office_pk, REG_PK_BYTES) != 0)
            problem(&a, "office_keys %s: public key differs from the trusted key given", office);
    } else if (office_key == NULL) {
        uint64_t n = 0;
        if (reg_log_size(db, &n, err) != 0)
            goto out;
        if (n > 0)
            problem(&a, "office_keys %s: the office log key is missing", office);
    }
    if (office_key) {
        memcpy(a.office_pk, office_key, REG_PK_BYTES);
        a.have_office_pk = true;
    }
    load_witness(&a, keys_dir);
    if (witness_missing_check(&a, keys_dir, err) != 0)
        goto out;
    if (check_events(&a, stats, err) != 0 || check_users(&a, err) != 0 ||
        check_blobs(&a, blobs_dir, stats, err) != 0 || check_versions(&a, stats, err) != 0 ||
        check_records(&a, err) != 0 || check_persons(&a, err) != 0 ||
        check_deaths_extracts(&a, err) != 0 || check_event_index(&a, err) != 0)
        goto out;
    rc = a.problems;
out:
    free(office);
    json_decref(a.keys);
    json_decref(a.users);
    json_decref(a.blobs);
    json_decref(a.versions);
    json_decref(a.records);
    json_decref(a.persons);
    json_decref(a.links);
    json_decref(a.deaths);
    json_decref(a.deceased);
    json_decref(a.extracts);
    json_decref(a.witness);
    return rc;
}
