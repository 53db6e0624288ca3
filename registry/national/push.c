/* civreg national tier: `civreg sync push`, the district side.
 *
 * The district keeps no sync state of its own: it asks the national tier
 * which head it accepted last and sends what follows, BATCH events at a
 * time, each batch with the district's signed tree head at its end and the
 * RFC 6962 consistency proof from the accepted size. A push killed at any
 * point leaves the national tier at some accepted head (each batch commits
 * whole or not at all), and the next push resumes from there: nothing is
 * lost (the district's log is never trimmed) and nothing is doubled (the
 * national tier takes a batch only at exactly its accepted size). */
#include <stdlib.h>
#include <string.h>

#include "core/encode.h"
#include "core/json.h"
#include "db/rows.h"
#include "national_int.h"

#define PUSH_DEFAULT_BATCH 2000

/* The district's signed head at SIZE as {tree_size, root_hash, time,
 * signature, and for a v2 head previous_size}. */
static int head_at(struct db *db, uint64_t size, json_t **out, struct err *err)
{
    sqlite3_stmt *st = NULL;
    uint64_t previous = 0;
    int rc = -1, v;

    *out = NULL;
    if (db_prepare(db, &st,
                    "SELECT root_hash, signed_at, signature, body FROM tree_heads"
                    " WHERE tree_size = ?1",
                    err) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32 &&
        sqlite3_column_bytes(st, 2) == REG_SIG_BYTES &&
        (v = reg_tree_head_previous((const char *)sqlite3_column_text(st, 3), size,
                                    &previous)) >= 0) {
        char root[65], sig[2 * REG_SIG_BYTES + 1];
        hex_encode(sqlite3_column_blob(st, 0), 32, root);
        hex_encode(sqlite3_column_blob(st, 2), REG_SIG_BYTES, sig);
        rc = json_out(out,
                      v == 1 ? json_pack("{s:I, s:I, s:s, s:s, s:s}", "tree_size",
                                         (json_int_t)size, "previous_size", (json_int_t)previous,
                                         "root_hash", root, "time",
                                         (const char *)sqlite3_column_text(st, 1), "signature",
                                         sig)
                             : json_pack("{s:I, s:s, s:s, s:s}", "tree_size", (json_int_t)size,
                                         "root_hash", root, "time",
                                         (const char *)sqlite3_column_text(st, 1), "signature",
                                         sig),
                      err);
    } else {
        err_set(err, "sync: no signed tree head of size %llu in the district log",
                (unsigned long long)size);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Where the next batch after ACCEPTED ends: at a signed head (one per
 * committed transaction), the largest within BATCH events, else the first
 * past ACCEPTED (a transaction larger than BATCH goes whole). *END is 0
 * when no head is past ACCEPTED. */
static int batch_end(struct db *db, uint64_t accepted, unsigned batch, uint64_t *end,
                     struct err *err)
{
    sqlite3_stmt *st = NULL;
    int step = db_query_row(db, &st,
                            "SELECT coalesce((SELECT max(tree_size) FROM tree_heads"
                            " WHERE tree_size > ?1 AND tree_size <= ?1 + ?2),"
                            " (SELECT min(tree_size) FROM tree_heads WHERE tree_size > ?1), 0)",
                            "reading tree heads", err, "II", (long long)accepted,
                            (long long)batch);

    if (step == 1)
        *end = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return step == 1 ? 0 : -1;
}

/* An event row as {seq, body, signature (hex)}. */
static int event_row(sqlite3_stmt *st, void *ctx, json_t **row, struct err *err)
{
    char sig[2 * REG_SIG_BYTES + 1];

    (void)ctx;
    if (sqlite3_column_bytes(st, 2) != REG_SIG_BYTES)
        return err_set(err, "sync: event %lld has a malformed signature",
                       (long long)sqlite3_column_int64(st, 0));
    hex_encode(sqlite3_column_blob(st, 2), REG_SIG_BYTES, sig);
    *row = json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)sqlite3_column_int64(st, 0), "body",
                     (const char *)sqlite3_column_text(st, 1), "signature", sig);
    return 0;
}

static int events_json(struct db *db, uint64_t from, uint64_t to, json_t **events,
                       json_t **versions, struct err *err)
{
    *events = *versions = NULL;
    if (db_query_rows(db,
                      "SELECT seq, body, signature FROM events WHERE seq >= ?1 AND seq < ?2"
                      " ORDER BY seq",
                      "events", event_row, NULL, events, err, "II", (long long)from,
                      (long long)to) != 0)
        return -1;
    if (json_array_size(*events) != to - from)
        err_set(err, "sync: the district log has a gap between %llu and %llu",
                (unsigned long long)from, (unsigned long long)to);
    /* {record_id, version, data} by the columns' names and types */
    else if (db_query_objects(db,
                              "SELECT record_id, version, data FROM record_versions"
                              " WHERE event_seq >= ?1 AND event_seq < ?2",
                              "record versions", versions, err, "II", (long long)from,
                              (long long)to) == 0)
        return 0;
    json_decref(*events);
    *events = NULL;
    return -1;
}

static int consistency_json(struct db *db, uint64_t s1, uint64_t s2, json_t **out,
                            struct err *err)
{
    merkle_hash path[MERKLE_MAX_PROOF];
    struct reg_merkle_db m;
    struct merkle_source src;
    size_t n = 0;
    char h[65];
    int rc = 0;

    *out = json_array();
    if (*out == NULL)
        return err_set(err, "out of memory");
    if (s1 == 0)
        return 0;
    reg_merkle_db_source(&m, db, &src);
    rc = merkle_consistency_proof(&src, s1, s2, path, &n, err);
    reg_merkle_db_release(&m);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        hex_encode(path[i], 32, h);
        (void)json_array_append_new(*out, json_string(h));
    }
    return rc;
}

/* Report a fork: our signed head at SIZE and our leaves up to it. */
static int send_fork(struct national_client *c, struct db *db, uint64_t accepted, uint64_t size,
                     struct err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *head = NULL, *leaves = json_array(), *req = NULL, *resp = NULL;
    int status = 0, rc = -1;

    if (leaves == NULL || head_at(db, size, &head, err) != 0)
        goto out;
    if (db_prepare(db, &st, "SELECT leaf_hash FROM events WHERE seq < ?1 ORDER BY seq", err) != 0)
        goto out;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
    while (sqlite3_step(st) == SQLITE_ROW) {
        char h[65];
        hex_encode(sqlite3_column_blob(st, 0), 32, h);
        (void)json_array_append_new(leaves, json_string(h));
    }
    req = json_pack("{s:I, s:{s:O, s:O}}", "from", (json_int_t)accepted, "fork", "head", head,
                    "leaves", leaves);
    if (req == NULL || national_client_post(c, "/national/v1/push", req, &status, &resp, err) != 0)
        goto out;
    err_set(err, "sync refused: %s", nat_str(resp, "message"));
out:
    sqlite3_finalize(st);
    json_decref(head);
    json_decref(leaves);
    json_decref(req);
    json_decref(resp);
    return rc;
}

int national_sync_push(struct national_client *c, struct db *db, unsigned batch,
                       struct national_push_stats *stats, struct err *err)
{
    json_t *req = NULL, *resp = NULL, *head = NULL, *events = NULL, *versions = NULL,
           *proof = NULL;
    uint64_t local = 0, accepted;
    int status = 0, rc = -1, stale = 0;

    memset(stats, 0, sizeof *stats);
    if (batch == 0)
        batch = PUSH_DEFAULT_BATCH;
    if ((req = json_object()) == NULL ||
        national_client_post(c, "/national/v1/head", req, &status, &resp, err) != 0)
        goto out;
    if (status != 200) {
        err_set(err, "sync: national head: %s", nat_str(resp, "message"));
        goto out;
    }
    if (json_is_true(json_object_get(resp, "fork_alarm"))) {
        err_set(err, "sync refused: the national tier holds a fork alarm for office %s "
                     "(`civreg national status`)", c->office);
        goto out;
    }
    accepted = (uint64_t)json_integer_value(json_object_get(resp, "tree_size"));
    stats->from = stats->to = accepted;
    if (reg_log_size(db, &local, err) != 0)
        goto out;
    /* what the national tier accepted must be our own history */
    if (accepted > 0) {
        json_t *mine = NULL;
        uint64_t at = accepted <= local ? accepted : local;
        if (at == 0 || head_at(db, at, &mine, err) != 0 || accepted > local ||
            strcmp(nat_str(mine, "root_hash"), nat_str(resp, "root_hash")) != 0) {
            json_decref(mine);
            rc = at ? send_fork(c, db, accepted, at, err) : err_set(err, "sync: the district "
                                                                        "log is empty but the "
                                                                        "national tier holds "
                                                                        "events");
            goto out;
        }
        json_decref(mine);
    }
    while (accepted < local) {
        uint64_t end = 0;
        json_decref(req);
        json_decref(resp);
        req = resp = NULL;
        if (batch_end(db, accepted, batch, &end, err) != 0)
            goto out;
        if (end == 0 || end > local)
            break; /* nothing signed past what was accepted */
        if (end - accepted > REGISTRY_PUSH_MAX_EVENTS) {
            err_set(err, "sync: events %llu to %llu were committed in one transaction of "
                         "%llu events, more than the %d a push carries",
                    (unsigned long long)accepted, (unsigned long long)(end - 1),
                    (unsigned long long)(end - accepted), REGISTRY_PUSH_MAX_EVENTS);
            goto out;
        }
        if (events_json(db, accepted, end, &events, &versions, err) != 0 ||
            head_at(db, end, &head, err) != 0 || consistency_json(db, accepted, end, &proof, err) != 0)
            goto out;
        req = json_pack("{s:I, s:o, s:o, s:o, s:o}", "from", (json_int_t)accepted, "events",
                        events, "versions", versions, "head", head, "consistency", proof);
        events = versions = head = proof = NULL;
        if (req == NULL) {
            err_set(err, "out of memory");
            goto out;
        }
        if (national_client_post(c, "/national/v1/push", req, &status, &resp, err) != 0)
            goto out;
        if (status == 200) {
            accepted = (uint64_t)json_integer_value(json_object_get(resp, "tree_size"));
            stats->to = accepted;
            stats->batches++;
            continue;
        }
        if (status == 409 && strcmp(nat_str(resp, "error"), "stale") == 0 && stale++ < 3) {
            /* another push got there first: resume from what it accepted */
            accepted = (uint64_t)json_integer_value(json_object_get(resp, "tree_size"));
            continue;
        }
        err_set(err, "sync refused (%d %s): %s", status, nat_str(resp, "error"),
                nat_str(resp, "message"));
        goto out;
    }
    rc = 0;
out:
    json_decref(req);
    json_decref(resp);
    json_decref(head);
    json_decref(events);
    json_decref(versions);
    json_decref(proof);
    return rc;
}
