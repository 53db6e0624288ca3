/* civreg registry: work queues and the state of a blind verification.
 *
 * A blind second keying that disagrees is logged (record.mismatch: the
 * version, the round, the names of the fields that differ, never their
 * values). Two disagreements on one version send the record back to the
 * clerk who keyed it: nobody verifies it until a correction makes a new
 * version. The queues are read from the tables and those events. */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "db/rows.h"
#include "registry_int.h"

int reg_mismatch_state(struct db *db, const char *id, int version, int *rounds, json_t **fields,
                       struct err *err)
{
    sqlite3_stmt *st = NULL;
    int step, rc = -1;

    *rounds = 0;
    if (fields)
        *fields = NULL;
    if (reg_prepare_cached(db, &st,
                    "SELECT json_extract(e.body, '$.data.fields') FROM event_objects o"
                    " JOIN events e ON e.seq = o.seq"
                    " WHERE o.kind = 'record' AND o.object_id = ?1 AND e.type = 'record.mismatch'"
                    " AND json_extract(e.body, '$.data.version') = ?2 ORDER BY e.seq",
                    err) != 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, version);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        (*rounds)++;
        if (fields && sqlite3_column_type(st, 0) == SQLITE_TEXT) {
            json_t *f = NULL;
            if (db_column_parse(st, 0, &f, NULL) == 0 &&
                json_is_array(f)) {
                json_decref(*fields);
                *fields = f;
            } else {
                json_decref(f);
            }
        }
    }
    if (step != SQLITE_DONE) {
        db_sql_fail(db, "reading the record's verification rounds", err);
        goto out;
    }
    rc = 0;
out:
    if (rc != 0 && fields) {
        json_decref(*fields);
        *fields = NULL;
    }
    reg_release(db, st);
    return rc;
}

struct queue_ctx {
    struct db *db;
    int limit;
    bool with_fields;
    long long count;
};

/* A queue row {id, version, updated_at, keyed_by[, fields]}; rows past the
 * limit are only counted. */
static int queue_row(sqlite3_stmt *st, void *arg, json_t **row, struct err *err)
{
    struct queue_ctx *q = arg;
    json_t *e, *fields = NULL;
    int rounds = 0;

    if (++q->count > q->limit)
        return 1;
    if (q->with_fields &&
        reg_mismatch_state(q->db, (const char *)sqlite3_column_text(st, 0),
                           sqlite3_column_int(st, 1), &rounds, &fields, err) != 0)
        return -1;
    e = json_pack("{s:s, s:i, s:s?, s:s?}", "id", sqlite3_column_text(st, 0), "version",
                  sqlite3_column_int(st, 1), "updated_at", sqlite3_column_text(st, 2),
                  "keyed_by", sqlite3_column_text(st, 3));
    if (e != NULL && fields != NULL && json_object_set_new(e, "fields", fields) != 0) {
        json_decref(e);
        e = NULL;
    } else if (e == NULL) {
        json_decref(fields);
    }
    *row = e;
    return 0;
}

/* Rows of SQL (bound to office ?1 and user ?2) as [{id, version, updated_at,
 * keyed_by[, fields]}]; WITH_FIELDS adds the fields of the last
 * disagreement. */
static int queue_rows(struct db *db, const char *sql, const struct registry_actor *actor,
                      int limit, bool with_fields, json_t *out, long long *count,
                      struct err *err)
{
    struct queue_ctx q = { db, limit, with_fields, 0 };
    int rc;

    rc = db_query_rows(db, sql, "reading the work queues", queue_row, &q, &out, err, "ss",
                       actor->office, actor->username);
    *count = q.count;
    return rc;
}

/* Drafts of the current version with N disagreements (as a SQL expression). */
#define ROUNDS_SQL                                                                               \
    "(SELECT count(*) FROM event_objects o JOIN events e ON e.seq = o.seq"                       \
    " WHERE o.kind = 'record' AND o.object_id = b.id AND e.type = 'record.mismatch'"             \
    " AND json_extract(e.body, '$.data.version') = b.version)"
#define KEYED_BY_ME                                                                              \
    "EXISTS (SELECT 1 FROM record_versions k WHERE k.record_id = b.id AND k.keyed_by = ?2)"
#define QUEUE_COLS                                                                               \
    "SELECT b.id, b.version, b.updated_at, v.keyed_by FROM birth_records b"                      \
    " JOIN record_versions v ON v.record_id = b.id AND v.version = b.version"

/* The office's counts {drafts, verified, registered, sent_back, duplicates}
 * in the work queues' answer: each a query bound to office ?1 and user ?2. */
static const struct {
    const char *key;
    const char *sql;
} office_counts[] = {
    { "drafts", "SELECT count(*) FROM birth_records b WHERE b.office = ?1"
                " AND b.status = 'draft' AND ?2 IS NOT NULL" },
    { "verified", "SELECT count(*) FROM birth_records b WHERE b.office = ?1"
                  " AND b.status = 'verified' AND ?2 IS NOT NULL"
                  " AND NOT EXISTS (SELECT 1 FROM dup_candidates d WHERE"
                  " d.status = 'duplicate' AND d.record_id = b.id)" },
    { "registered", "SELECT count(*) FROM birth_records b WHERE b.office = ?1"
                    " AND b.status = 'registered' AND ?2 IS NOT NULL" },
    { "sent_back", "SELECT count(*) FROM birth_records b WHERE b.office = ?1"
                   " AND b.status = 'draft' AND ?2 IS NOT NULL AND " ROUNDS_SQL " >= 2" },
    { "duplicates", "SELECT count(*) FROM dup_candidates d JOIN birth_records b"
                    " ON b.id = d.record_id WHERE b.office = ?1"
                    " AND d.status = 'open' AND ?2 IS NOT NULL" },
};

/* The office's counts as a new object in *OUT. */
static int office_counts_json(struct db *db, const struct registry_actor *actor, json_t **out,
                              struct err *err)
{
    json_t *o = json_object();

    if (o == NULL)
        return err_oom(err);
    for (size_t i = 0; i < sizeof office_counts / sizeof *office_counts; i++) {
        long long n = 0;
        if (db_query_int64(db, office_counts[i].sql, "counting the work queues", &n, err, "ss",
                           actor->office, actor->username) < 0) {
            json_decref(o);
            return -1;
        }
        if (json_object_set_new(o, office_counts[i].key, json_integer(n)) != 0) {
            json_decref(o);
            return err_oom(err);
        }
    }
    *out = o;
    return 0;
}

int registry_work_queues(struct db *db, const struct registry_actor *actor, int limit,
                         json_t **out, struct err *err)
{
    json_t *verify = NULL, *back = NULL, *mine = NULL, *office = NULL;
    long long n_verify = 0, n_back = 0, n_mine = 0;
    int rc = -1;

    *out = NULL;
    if (registry_require_role(actor, REGISTRY_ROLES_ALL, "work queues", err) != 0)
        return -1;
    if (limit <= 0 || limit > 1000)
        limit = 50;
    verify = json_array();
    back = json_array();
    mine = json_array();
    if (verify == NULL || back == NULL || mine == NULL) {
        err_oom(err);
        goto out;
    }
    if (actor->roles & ROLE_CLERK) {
        /* others' drafts, not sent back: the blind second keying */
        if (queue_rows(db,
                       QUEUE_COLS " WHERE b.office = ?1 AND b.status = 'draft' AND NOT " KEYED_BY_ME
                                  " AND " ROUNDS_SQL " < 2 ORDER BY b.updated_at DESC, b.id",
                       actor, limit, false, verify, &n_verify, err) != 0 ||
            /* my drafts sent back after two disagreements, with the fields */
            queue_rows(db,
                       QUEUE_COLS " WHERE b.office = ?1 AND b.status = 'draft' AND " KEYED_BY_ME
                                  " AND " ROUNDS_SQL " >= 2 ORDER BY b.updated_at DESC, b.id",
                       actor, limit, true, back, &n_back, err) != 0 ||
            /* my drafts waiting for another clerk */
            queue_rows(db,
                       QUEUE_COLS " WHERE b.office = ?1 AND b.status = 'draft' AND " KEYED_BY_ME
                                  " AND " ROUNDS_SQL " < 2 ORDER BY b.updated_at DESC, b.id",
                       actor, limit, false, mine, &n_mine, err) != 0)
            goto out;
    }
    /* the office's counts */
    if (office_counts_json(db, actor, &office, err) != 0)
        goto out;
    rc = json_out(out,
                  json_pack("{s:{s:I, s:O}, s:{s:I, s:O}, s:{s:I, s:O}, s:o}", "to_verify", "count",
                            (json_int_t)n_verify, "records", verify, "sent_back", "count",
                            (json_int_t)n_back, "records", back, "my_drafts", "count",
                            (json_int_t)n_mine, "records", mine, "office", office),
                  err);
    office = NULL;
out:
    json_decref(office);
    json_decref(verify);
    json_decref(back);
    json_decref(mine);
    return rc;
}

int registry_record_closed(struct db *db, const char *id, json_t **closed, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int r;

    *closed = NULL;
    /* the later record of a pair resolved as one birth is closed: merged
     * into the other (registry_dup_gate refuses registering it) */
    r = db_query_row(db, &st,
                     "SELECT other_id, reason, resolved_by, resolved_at FROM dup_candidates"
                     " WHERE record_id = ?1 AND status = 'duplicate' ORDER BY other_id LIMIT 1",
                     "reading the record's resolutions", err, "s", id);
    if (r == 1)
        r = json_out(closed,
                     json_pack("{s:s, s:s?, s:s?, s:s?, s:s?}", "state", "merged", "into",
                               sqlite3_column_text(st, 0), "reason", sqlite3_column_text(st, 1),
                               "by", sqlite3_column_text(st, 2), "at", sqlite3_column_text(st, 3)),
                     err);
    sqlite3_finalize(st);
    return r < 0 ? -1 : 0;
}

/* A register page's progress {page, keyed, verified, registered}. */
static int page_row(sqlite3_stmt *st, void *ctx, json_t **row, struct err *err)
{
    (void)ctx;
    (void)err;
    *row = json_pack("{s:I, s:I, s:I, s:I}", "page", (json_int_t)sqlite3_column_int64(st, 0),
                     "keyed", (json_int_t)sqlite3_column_int64(st, 1), "verified",
                     (json_int_t)sqlite3_column_int64(st, 2), "registered",
                     (json_int_t)sqlite3_column_int64(st, 3));
    return 0;
}

int registry_volume_progress(struct db *db, const struct registry_actor *actor, const char *office,
                             int year, const char *volume, json_t **out, struct err *err)
{
    *out = NULL;
    if (registry_require_role(actor, ROLE_CLERK | ROLE_REGISTRAR | ROLE_AUDITOR,
                              "keying progress", err) != 0)
        return -1;
    /* the register reference of each record's current version; the
     * actor's office only */
    return db_query_rows(
        db,
        "SELECT json_extract(v.data, '$.register.page') AS page, count(*),"
        " sum(b.status IN ('verified', 'registered')), sum(b.status = 'registered')"
        " FROM birth_records b JOIN record_versions v"
        " ON v.record_id = b.id AND v.version = b.version"
        " WHERE b.office = ?1 AND json_extract(v.data, '$.register.office') = ?2"
        " AND json_extract(v.data, '$.register.year') = ?3"
        " AND json_extract(v.data, '$.register.volume') = ?4"
        " GROUP BY page ORDER BY page",
        "reading the keying progress", page_row, NULL, out, err, "ssis", actor->office, office,
        year, volume);
}
