/* civreg registry: tracing an identity back through the log, proofs, and
 * self-contained export bundles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encode.h"
#include "core/json.h"
#include "db/rows.h"
#include "registry_int.h"

static json_t *hashes_json(const merkle_hash *p, size_t n)
{
    json_t *a = json_array();
    char hex[65];

    for (size_t i = 0; a && i < n; i++) {
        hex_encode(p[i], 32, hex);
        if (json_array_append_new(a, json_string(hex)) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static int latest_head(struct db *db, uint64_t *size, merkle_hash root, json_t **head,
                       struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;

    if (db_prepare(db, &st,
                   "SELECT tree_size, root_hash, office, signed_at, body, signature"
                   " FROM tree_heads ORDER BY tree_size DESC LIMIT 1",
                   err) != 0)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 1) == 32 &&
        sqlite3_column_bytes(st, 5) == REG_SIG_BYTES) {
        char root_hex[65], sig_hex[2 * REG_SIG_BYTES + 1];
        *size = (uint64_t)sqlite3_column_int64(st, 0);
        memcpy(root, sqlite3_column_blob(st, 1), 32);
        hex_encode(root, 32, root_hex);
        hex_encode(sqlite3_column_blob(st, 5), REG_SIG_BYTES, sig_hex);
        if (head)
            *head = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "tree_size", (json_int_t)*size,
                              "root_hash", root_hex, "office", sqlite3_column_text(st, 2),
                              "signed_at", sqlite3_column_text(st, 3), "body",
                              sqlite3_column_text(st, 4), "signature", sig_hex);
        rc = (head == NULL || *head) ? 0 : err_oom(err);
    } else {
        err_set(err, "the log has no signed tree head yet");
    }
    sqlite3_finalize(st);
    return rc;
}

static int head_root_at(struct db *db, uint64_t size, merkle_hash root, bool *signed_head,
                        struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    *signed_head = false;
    if (db_prepare(db, &st, "SELECT root_hash FROM tree_heads WHERE tree_size=?1", err) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
        memcpy(root, sqlite3_column_blob(st, 0), 32);
        *signed_head = true;
    } else {
        struct reg_merkle_db m;
        struct merkle_source src;
        reg_merkle_db_source(&m, db, &src);
        rc = merkle_root(&src, size, root, err);
        reg_merkle_db_release(&m);
    }
    sqlite3_finalize(st);
    return rc;
}

static int leaf_of(struct db *db, uint64_t seq, merkle_hash leaf, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;

    if (db_prepare(db, &st, "SELECT leaf_hash FROM events WHERE seq=?1", err) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
        memcpy(leaf, sqlite3_column_blob(st, 0), 32);
        rc = 0;
    } else {
        err_set(err, "no event %llu in the log", (unsigned long long)seq);
    }
    sqlite3_finalize(st);
    return rc;
}

static int inclusion(struct db *db, uint64_t seq, uint64_t size, json_t **out, struct err *err)
{
    merkle_hash path[MERKLE_MAX_PROOF];
    struct reg_merkle_db m;
    struct merkle_source src;
    size_t n = 0;
    int rc;

    reg_merkle_db_source(&m, db, &src);
    rc = merkle_inclusion_proof(&src, seq, size, path, &n, err);
    reg_merkle_db_release(&m);
    if (rc != 0)
        return -1;
    *out = hashes_json(path, n);
    return *out ? 0 : err_oom(err);
}

int registry_audit_inclusion(struct db *db, uint64_t seq, uint64_t size, json_t **out,
                             struct err *err)
{
    merkle_hash leaf, root;
    char leaf_hex[65], root_hex[65];
    json_t *proof = NULL;
    bool signed_head = false;

    *out = NULL;
    if (size == 0 && latest_head(db, &size, root, NULL, err) != 0)
        return -1;
    if (seq >= size)
        return err_set(err, "event %llu is not in a tree of %llu events",
                       (unsigned long long)seq, (unsigned long long)size);
    if (leaf_of(db, seq, leaf, err) != 0 || head_root_at(db, size, root, &signed_head, err) != 0 ||
        inclusion(db, seq, size, &proof, err) != 0)
        return -1;
    hex_encode(leaf, 32, leaf_hex);
    hex_encode(root, 32, root_hex);
    *out = json_pack("{s:I, s:I, s:s, s:s, s:b, s:o}", "seq", (json_int_t)seq, "tree_size",
                     (json_int_t)size, "leaf_hash", leaf_hex, "root_hash", root_hex,
                     "signed_tree_head", signed_head, "proof", proof);
    return *out ? 0 : err_oom(err);
}

int registry_audit_consistency(struct db *db, uint64_t size1, uint64_t size2, json_t **out,
                               struct err *err)
{
    merkle_hash path[MERKLE_MAX_PROOF], r1, r2;
    struct reg_merkle_db m;
    struct merkle_source src;
    char h1[65], h2[65];
    bool s1 = false, s2 = false;
    size_t n = 0;
    int rc;

    *out = NULL;
    if (size2 == 0 && latest_head(db, &size2, r2, NULL, err) != 0)
        return -1;
    if (size1 == 0 || size1 > size2)
        return err_set(err, "consistency: sizes must satisfy 1 <= SIZE1 <= SIZE2 (%llu)",
                       (unsigned long long)size2);
    {
        uint64_t n_events = 0;
        if (reg_log_size(db, &n_events, err) != 0)
            return -1;
        if (size2 > n_events)
            return err_set(err, "consistency: the log holds only %llu events",
                           (unsigned long long)n_events);
    }
    if (head_root_at(db, size1, r1, &s1, err) != 0 || head_root_at(db, size2, r2, &s2, err) != 0)
        return -1;
    reg_merkle_db_source(&m, db, &src);
    rc = merkle_consistency_proof(&src, size1, size2, path, &n, err);
    reg_merkle_db_release(&m);
    if (rc != 0)
        return -1;
    hex_encode(r1, 32, h1);
    hex_encode(r2, 32, h2);
    *out = json_pack("{s:I, s:I, s:s, s:s, s:o}", "size1", (json_int_t)size1, "size2",
                     (json_int_t)size2, "root1", h1, "root2", h2, "proof", hashes_json(path, n));
    return *out ? 0 : err_oom(err);
}

/* ---- gathering the provenance of one identity ---- */

struct gather {
    char *record_id;
    char *uin;
    json_t *seqs; /* object "seq" -> true, to deduplicate */
};

static int add_seq(struct gather *g, sqlite3_int64 seq)
{
    char k[32];

    (void)snprintf(k, sizeof k, "%lld", (long long)seq);
    return json_object_set_new(g->seqs, k, json_true());
}

static int add_object_events(struct db *db, struct gather *g, const char *kind, const char *id,
                             const char *type, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (db_prepare(db, &st,
                   "SELECT o.seq FROM event_objects o JOIN events e ON e.seq = o.seq"
                   " WHERE o.kind=?1 AND o.object_id=?2 AND (?3 IS NULL OR e.type=?3)",
                   err) != 0)
        return -1;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if (add_seq(g, sqlite3_column_int64(st, 0)) != 0) {
            sqlite3_finalize(st);
            return err_oom(err);
        }
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? 0 : db_sql_fail(db, "reading event objects", err);
}

static int cmp_seq(const void *x, const void *y)
{
    long long a = *(const long long *)x, b = *(const long long *)y;
    return (a > b) - (a < b);
}

/* A bundle's record version {record_id (CTX), version, data, hash}. */
static int bundle_version_row(sqlite3_stmt *st, void *ctx, json_t **row, struct err *err)
{
    (void)err;
    *row = json_pack("{s:s, s:i, s:s, s:s}", "record_id", (const char *)ctx, "version",
                     sqlite3_column_int(st, 0), "data", sqlite3_column_text(st, 1), "hash",
                     sqlite3_column_text(st, 2));
    return 0;
}

/* A bundle's link {statement, signature (hex), signer}. */
static int bundle_link_row(sqlite3_stmt *st, void *ctx, json_t **row, struct err *err)
{
    char sig_hex[2 * REG_SIG_BYTES + 1] = "";

    (void)ctx;
    (void)err;
    if (sqlite3_column_bytes(st, 1) == REG_SIG_BYTES)
        hex_encode(sqlite3_column_blob(st, 1), REG_SIG_BYTES, sig_hex);
    *row = json_pack("{s:s, s:s, s:s}", "statement", sqlite3_column_text(st, 0), "signature",
                     sig_hex, "signer", sqlite3_column_text(st, 2));
    return 0;
}

/* Resolve ID and collect the events: the record's, the person's, the
 * evidence's, and the user.add / office.key events of every signer. */
static int gather(struct db *db, const struct registry_actor *actor, const char *ref,
                  struct gather *g, long long **seqs, size_t *n,
                  struct err *err)
{
    sqlite3_stmt *st = NULL;
    const char *key;
    json_t *v, *actors = NULL;
    size_t i = 0;
    int r, step, rc = -1;

    memset(g, 0, sizeof *g);
    *seqs = NULL;
    *n = 0;
    r = reg_record_resolve_as(db, actor, ref, &g->record_id, err);
    if (r != 0)
        return r > 0 ? err_setk(err, ERR_NOT_FOUND, "no record, registration number or UIN '%.64s'",
                               ref ? ref : "")
                     : -1;
    if ((g->seqs = json_object()) == NULL || (actors = json_object()) == NULL)
        goto oom;
    if (add_object_events(db, g, "record", g->record_id, NULL, err) != 0)
        goto out;
    if (db_query_text(db, "SELECT uin FROM birth_records WHERE id=?1", "reading the record's UIN",
                      &g->uin, err, "s", g->record_id) < 0)
        goto out;
    if (g->uin && add_object_events(db, g, "person", g->uin, NULL, err) != 0)
        goto out;
    /* evidence of every version and correction */
    if (db_prepare(db, &st,
                   "SELECT DISTINCT j.value FROM record_versions v, json_each(v.data, '$.evidence') j"
                   " WHERE v.record_id=?1 UNION SELECT DISTINCT j.value FROM record_versions v,"
                   " json_each(coalesce(v.reason_evidence, '[]')) j WHERE v.record_id=?1",
                   err) != 0)
        goto out;
    sqlite3_bind_text(st, 1, g->record_id, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if (sqlite3_column_text(st, 0) &&
            add_object_events(db, g, "blob", (const char *)sqlite3_column_text(st, 0), NULL,
                              err) != 0)
            goto out;
    sqlite3_finalize(st);
    st = NULL;
    /* The signers' keys as the log published them, and the keys of whoever
     * added those signers, up to the first admin. */
    for (size_t before = 0; json_object_size(g->seqs) != before;) {
        json_t *snapshot = json_deep_copy(g->seqs);
        before = json_object_size(g->seqs);
        if (snapshot == NULL)
            goto oom;
        json_object_foreach(snapshot, key, v) {
            char *who = NULL;
            int found = db_query_text(db, "SELECT actor FROM events WHERE seq=?1",
                                      "reading the event's actor", &who, err, "I",
                                      strtoll(key, NULL, 10));
            bool fail = found < 0;
            if (found == 1 && who != NULL && strncmp(who, "office:", 7) != 0 &&
                json_object_get(actors, who) == NULL)
                fail = json_object_set_new(actors, who, json_true()) != 0 ||
                       add_object_events(db, g, "user", who, "user.add", err) != 0 ||
                       add_object_events(db, g, "user", who, "user.key", err) != 0;
            free(who);
            if (fail) {
                json_decref(snapshot);
                goto out;
            }
        }
        json_decref(snapshot);
    }
    if (db_prepare(db, &st, "SELECT seq FROM events WHERE type='office.key'", err) != 0)
        goto out;
    while (sqlite3_step(st) == SQLITE_ROW)
        if (add_seq(g, sqlite3_column_int64(st, 0)) != 0)
            goto oom;
    *n = json_object_size(g->seqs);
    *seqs = calloc(*n ? *n : 1, sizeof **seqs);
    if (*seqs == NULL)
        goto oom;
    json_object_foreach(g->seqs, key, v)(*seqs)[i++] = strtoll(key, NULL, 10);
    qsort(*seqs, *n, sizeof **seqs, cmp_seq);
    rc = 0;
    goto out;
oom:
    err_oom(err);
out:
    sqlite3_finalize(st);
    json_decref(actors);
    return rc;
}

static void gather_release(struct gather *g)
{
    free(g->record_id);
    free(g->uin);
    json_decref(g->seqs);
}

/* One event with its proof; KEYS (username -> pk hex) learns user.add keys
 * as events go by, in log order. */
static json_t *event_json(struct db *db, sqlite3_int64 seq, uint64_t tree_size, json_t *keys,
                          const unsigned char office_pk[32], bool with_raw, struct err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *body = NULL, *ev = NULL, *proof = NULL;
    unsigned char pk[REG_PK_BYTES];
    char sig_hex[2 * REG_SIG_BYTES + 1] = "", leaf_hex[65] = "";
    const char *actor, *type;
    bool valid = false;

    if (db_prepare(db, &st,
                   "SELECT body, signature, leaf_hash, type, actor FROM events WHERE seq=?1",
                   err) != 0)
        return NULL;
    sqlite3_bind_int64(st, 1, seq);
    if (sqlite3_step(st) != SQLITE_ROW) {
        err_set(err, "event %lld is missing from the log", (long long)seq);
        goto out;
    }
    if (db_column_parse(st, 0, &body, err) != 0) {
        err_prefix(err, "event %lld", (long long)seq);
        goto out;
    }
    type = (const char *)sqlite3_column_text(st, 3);
    actor = (const char *)sqlite3_column_text(st, 4);
    if (strcmp(type, "user.add") == 0 || strcmp(type, "user.key") == 0) {
        const char *u = json_string_value(json_object_get(json_object_get(body, "data"), "username"));
        const char *k = json_string_value(json_object_get(json_object_get(body, "data"), "public_key"));
        if (u && k)
            (void)json_object_set_new(keys, u, json_string(k));
    }
    if (sqlite3_column_bytes(st, 1) == REG_SIG_BYTES)
        hex_encode(sqlite3_column_blob(st, 1), REG_SIG_BYTES, sig_hex);
    if (sqlite3_column_bytes(st, 2) == 32)
        hex_encode(sqlite3_column_blob(st, 2), 32, leaf_hex);
    if (strncmp(actor, "office:", 7) == 0)
        memcpy(pk, office_pk, REG_PK_BYTES);
    if (strncmp(actor, "office:", 7) == 0 ||
        reg_hex32(json_string_value(json_object_get(keys, actor)), pk, "key", NULL) == 0)
        valid = reg_sig_ok(pk, sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                           sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1));
    if ((uint64_t)seq < tree_size && inclusion(db, (uint64_t)seq, tree_size, &proof, err) != 0)
        goto out;
    ev = json_pack("{s:I, s:s, s:s, s:O, s:O, s:O, s:s, s:b, s:s, s:o*}", "seq", (json_int_t)seq,
                   "type", type, "actor", actor, "time", json_object_get(body, "time"), "objects",
                   json_object_get(body, "objects"), "data", json_object_get(body, "data"),
                   "signature", sig_hex, "signature_valid", valid, "leaf_hash", leaf_hex,
                   "inclusion_proof", proof);
    proof = NULL;
    if (ev && with_raw && json_object_set_new(ev, "body", json_string((const char *)sqlite3_column_text(st, 0))) != 0) {
        json_decref(ev);
        ev = NULL;
    }
    if (ev == NULL)
        err_oom(err);
out:
    json_decref(body);
    json_decref(proof);
    sqlite3_finalize(st);
    return ev;
}

static int evidence_json(struct db *db, const json_t *events, json_t **out, struct err *err)
{
    sqlite3_stmt *st = NULL;
    size_t i;
    json_t *e;
    int rc = 0;

    *out = json_array();
    if (*out == NULL)
        return err_oom(err);
    if (db_prepare(db, &st,
                    "SELECT hash, size, media_type, added_by, added_at FROM blobs WHERE hash=?1",
                    err) != 0)
        return -1;
    json_array_foreach(events, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "type")), "evidence.add") != 0)
            continue;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1,
                          json_string_value(json_object_get(
                              json_array_get(json_object_get(e, "objects"), 0), "id")),
                          -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW &&
            json_array_append_new(*out, json_pack("{s:s, s:I, s:s, s:s, s:s}", "hash",
                                                  sqlite3_column_text(st, 0), "size",
                                                  (json_int_t)sqlite3_column_int64(st, 1),
                                                  "media_type", sqlite3_column_text(st, 2),
                                                  "added_by", sqlite3_column_text(st, 3),
                                                  "added_at", sqlite3_column_text(st, 4))) != 0) {
            rc = err_oom(err);
            break;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

int registry_account_names(struct db *db, const json_t *events, json_t *names, struct err *err)
{
    size_t i;
    json_t *e;
    int rc = 0;

    json_array_foreach(events, i, e)
    {
        const char *who = json_string_value(json_object_get(e, "actor"));
        char *name = NULL;
        int r;
        if (who == NULL || json_object_get(names, who) != NULL)
            continue;
        r = db_query_text(db, "SELECT name FROM users WHERE username=?1 AND name IS NOT NULL",
                          "reading account names", &name, err, "s", who);
        if (r == 1 && json_object_set_new(names, who, json_string(name)) != 0)
            r = err_oom(err);
        free(name);
        if (r < 0) {
            rc = -1;
            break;
        }
    }
    return rc;
}

static int build(struct db *db, const struct registry_actor *actor, const char *ref, bool bundle,
                 json_t **out, struct err *err)
{
    struct gather g;
    long long *seqs = NULL;
    size_t n = 0;
    uint64_t size = 0;
    merkle_hash root;
    unsigned char office_pk[REG_PK_BYTES];
    char office_hex[65];
    json_t *head = NULL, *events = NULL, *keys = NULL, *result = NULL, *history = NULL,
           *person = NULL, *evidence = NULL;
    char *office = NULL;
    int rc = -1;

    *out = NULL;
    if (actor && registry_require_action(actor, "audit.trace", err) != 0)
        return -1;
    if (gather(db, actor, ref, &g, &seqs, &n, err) != 0)
        goto out;
    if (latest_head(db, &size, root, &head, err) != 0)
        goto out;
    if (db_setting_get(db, "office", &office, err) != 0 ||
        registry_office_public_key(db, office, office_pk, err) != 0)
        goto out;
    hex_encode(office_pk, 32, office_hex);
    if ((events = json_array()) == NULL || (keys = json_object()) == NULL)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        json_t *e = event_json(db, seqs[i], size, keys, office_pk, bundle, err);
        if (e == NULL || json_array_append_new(events, e) != 0)
            goto out;
    }
    /* The whole history as the registry holds it (versions with data). */
    /* (gather checked the actor's office) */
    if (reg_record_history(db, g.record_id, &history, err) != 0)
        goto out;
    if (g.uin && (person = json_pack("{s:s, s:s, s:O}", "uin", g.uin, "record_id", g.record_id,
                                     "registration_number",
                                     json_object_get(history, "registration_number"))) == NULL)
        goto oom;
    if (person && reg_death_annotate(db, g.uin, person, err) != 0)
        goto out;
    if (evidence_json(db, events, &evidence, err) != 0)
        goto out;
    if (bundle) {
        /* Raw version bytes, so the bundle re-hashes exactly what was hashed. */
        json_t *versions = NULL, *links = NULL;
        if (db_query_rows(db,
                          "SELECT version, data, hash FROM record_versions WHERE record_id=?1"
                          " ORDER BY version",
                          "reading versions", bundle_version_row, g.record_id, &versions, err, "s",
                          g.record_id) != 0 ||
            db_query_rows(db,
                          "SELECT statement, signature, signer FROM person_links WHERE record_id=?1"
                          " ORDER BY record_version",
                          "reading links", bundle_link_row, NULL, &links, err, "s",
                          g.record_id) != 0) {
            json_decref(versions);
            goto out;
        }
        result = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:O, s:o, s:o, s:O, s:O}", "format",
                           "civreg.bundle.v1", "query", ref, "office", office,
                           "office_public_key", office_hex, "uin", g.uin, "tree_head", head,
                           "record_versions", versions, "links", links, "evidence", evidence,
                           "events", events);
    } else {
        json_t *names = json_object();
        if (names == NULL || registry_account_names(db, events, names, err) != 0) {
            json_decref(names);
            goto out;
        }
        result = json_pack("{s:s, s:s, s:O?, s:O, s:O, s:O, s:s, s:O, s:O, s:o}", "query", ref,
                           "record_id", g.record_id, "person", person, "record", history,
                           "evidence", evidence, "tree_head", head, "office_public_key",
                           office_hex, "signers", keys, "events", events, "account_names",
                           names);
    }
    rc = json_out(out, result, err);
    goto out;
oom:
    err_oom(err);
out:
    free(seqs);
    free(office);
    gather_release(&g);
    json_decref(head);
    json_decref(events);
    json_decref(keys);
    json_decref(history);
    json_decref(person);
    json_decref(evidence);
    return rc;
}

int registry_audit_trace(struct db *db, const struct registry_actor *actor, const char *id,
                         json_t **out, struct err *err)
{
    return build(db, actor, id, false, out, err);
}

int registry_audit_export(struct db *db, const struct registry_actor *actor, const char *id,
                          json_t **bundle, struct err *err)
{
    return build(db, actor, id, true, bundle, err);
}
