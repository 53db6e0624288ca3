/* Blank booklet stock: ranges received, one blank reserved per approved
 * application, personalized or spoiled. Each movement is a row in
 * booklet_movements and a signed event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "office_app_int.h"

#define SERIAL_MAX 24
#define BATCH_MAX 100000
#define REASON_MAX 500

/* A serial: 0-8 letters A-Z then 1-16 digits. */
static int serial_split(const char *s, size_t *prefix_len, unsigned long long *num,
                        size_t *digits, struct err *err)
{
    size_t i = 0, n = s ? strlen(s) : 0;
    char *end;

    if (n == 0 || n > SERIAL_MAX)
        return err_set(err, "booklet serial '%s': 1 to %d characters", s ? s : "", SERIAL_MAX);
    while (i < n && s[i] >= 'A' && s[i] <= 'Z')
        i++;
    if (i > 8 || i == n)
        return err_set(err, "booklet serial '%s': up to 8 letters A-Z then digits", s);
    for (size_t k = i; k < n; k++)
        if (s[k] < '0' || s[k] > '9')
            return err_set(err, "booklet serial '%s': up to 8 letters A-Z then digits", s);
    if (n - i > 16)
        return err_set(err, "booklet serial '%s': at most 16 digits", s);
    *prefix_len = i;
    *digits = n - i;
    *num = strtoull(s + i, &end, 10);
    return 0;
}

static int movement(struct db *db, const struct office_actor *a, const char *serial,
                    const char *batch, const char *what, const char *application_id,
                    const char *reason, struct err *err)
{
    char now[TIME_ISO8601_LEN + 1];

    office_now(db, now);
    return db_run(db,
                  "INSERT INTO booklet_movements (serial, batch_id, movement, "
                  "application_id, reason, at, by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                  "booklet movement", err, "sssssss", serial, batch, what, application_id,
                  reason, now, a->username);
}

struct receive_ctx {
    const struct office_actor *actor;
    const char *doc_type, *first, *last, *reference, *id;
    size_t p1, d1;
    unsigned long long a, b, count;
    json_t **batch;
};

static int receive_tx(struct db *db, void *arg, struct err *err)
{
    const struct receive_ctx *c = arg;
    const struct office_actor *actor = c->actor;
    const char *doc_type = c->doc_type, *first = c->first, *last = c->last;
    const char *reference = c->reference, *id = c->id;
    char now[TIME_ISO8601_LEN + 1];
    const size_t p1 = c->p1, d1 = c->d1;
    const unsigned long long a = c->a, b = c->b, count = c->count;
    json_t **batch = c->batch;
    sqlite3_stmt *st = NULL;
    char serial[SERIAL_MAX + 1];
    int rc = -1;

    if (batch && *batch) { /* a retried transaction */
        json_decref(*batch);
        *batch = NULL;
    }
    office_now(db, now); /* the transaction's time, which its event carries */
    if (db_run(db,
               "INSERT INTO booklet_batches (id, doc_type, first, last, count, reference, "
               "received_at, received_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
               "booklet batch", err, "ssssIsss", id, doc_type, first, last, (long long)count,
               reference, now, actor->username) != 0)
        goto out;
    if (db_prepare(db, &st,
                   "INSERT INTO booklets (serial, doc_type, batch_id, status, updated_at, "
                   "updated_by) VALUES (?1, ?2, ?3, 'blank', ?4, ?5)", err) != 0)
        goto out;
    for (unsigned long long k = a; k <= b; k++) {
        /* cannot truncate: serial_split bounds P1 + D1 by SERIAL_MAX */
        (void)snprintf(serial, sizeof serial, "%.*s%0*llu", (int)p1, first, (int)d1, k);
        sqlite3_reset(st);
        if (db_bind(db, st, err, "sssss", serial, doc_type, id, now, actor->username) != 0)
            goto out;
        int s = sqlite3_step(st);
        if ((s & 0xff) == SQLITE_CONSTRAINT) {
            err_setk(err, ERR_CONFLICT, "booklet %s is already in stock: nothing received", serial);
            goto out;
        }
        if (s != SQLITE_DONE) {
            db_sql_fail(db, "booklets", err);
            goto out;
        }
    }
    if (movement(db, actor, NULL, id, "receive", NULL, reference, err) != 0)
        goto out;
    if (office_log(db, actor, "booklet.receive",
                   json_pack("{s:s, s:s, s:s, s:I, s:s}", "doc_type", doc_type, "first", first,
                             "last", last, "count", (json_int_t)count, "reference", reference),
                   err, "booklet_batch", id, NULL) != 0)
        goto out;
    if (batch)
        *batch = json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", id, "doc_type", doc_type, "first",
                           first, "last", last, "count", (json_int_t)count);
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

int office_booklets_receive(struct db *db, const struct office_actor *actor,
                            const char *doc_type, const char *first, const char *last,
                            const char *reference, json_t **batch, struct err *err)
{
    struct receive_ctx c = { .actor = actor, .doc_type = doc_type, .first = first,
                             .last = last, .reference = reference, .batch = batch };
    char id[64];
    size_t p1, p2, d1, d2;
    unsigned long long a, b, count;

    if (batch)
        *batch = NULL;
    if (office_require(actor, registry_action_roles("booklet.manage"),
                       "receive booklet stock", err) != 0 ||
        office_doc_type_check(doc_type, err) != 0 ||
        serial_split(first, &p1, &a, &d1, err) != 0 || serial_split(last, &p2, &b, &d2, err) != 0)
        return -1;
    if (p1 != p2 || d1 != d2 || strncmp(first, last, p1) != 0)
        return err_set(err, "booklet range %s..%s: both ends need the same letters and the same "
                            "number of digits", first, last);
    if (b < a)
        return err_set(err, "booklet range %s..%s: the last serial is before the first", first,
                       last);
    count = b - a + 1;
    if (count > BATCH_MAX)
        return err_set(err, "booklet range %s..%s: %llu serials, at most %d per delivery", first,
                       last, count, BATCH_MAX);
    if (reference == NULL || *reference == '\0' || strlen(reference) > REASON_MAX)
        return err_set(err, "booklet delivery: a reference (delivery note) of 1 to %d bytes is "
                            "required", REASON_MAX);
    db_id_new(actor->office, 'B', id);
    c.id = id;
    c.p1 = p1;
    c.d1 = d1;
    c.a = a;
    c.b = b;
    c.count = count;
    if (db_tx_run(db, receive_tx, &c, err) == 0)
        return 0;
    if (batch) {
        json_decref(*batch);
        *batch = NULL;
    }
    return -1;
}

struct reserve_ctx {
    const struct office_actor *actor;
    const char *doc_type, *application_id;
    char *out;
};

static int reserve_tx(struct db *db, void *arg, struct err *err)
{
    const struct reserve_ctx *c = arg;
    const struct office_actor *actor = c->actor;
    const char *doc_type = c->doc_type, *application_id = c->application_id;
    char *out = c->out;
    sqlite3_stmt *st = NULL;
    char now[TIME_ISO8601_LEN + 1];
    int rc = -1, s;

    office_now(db, now);
    /* The lowest free serial: stock goes out in the order it came in. The
     * write lock of this transaction serializes concurrent reservations. */
    s = db_query_row(db, &st,
                     "UPDATE booklets SET status = 'reserved', application_id = ?2, "
                     "updated_at = ?3, updated_by = ?4 WHERE serial = (SELECT serial FROM "
                     "booklets WHERE doc_type = ?1 AND status = 'blank' ORDER BY serial "
                     "LIMIT 1) RETURNING serial", "booklets", err, "ssss", doc_type,
                     application_id, now, actor->username);
    if (s == 0)
        err_setk(err, ERR_CONFLICT, "no blank %s booklets in stock: receive a delivery first", doc_type);
    if (s != 1)
        goto out;
    /* cannot truncate: stored serials are checked to SERIAL_MAX (24) characters */
    (void)snprintf(out, 32, "%s", (const char *)sqlite3_column_text(st, 0));
    if (sqlite3_step(st) != SQLITE_DONE) {
        db_sql_fail(db, "booklets", err);
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (movement(db, actor, out, NULL, "reserve", application_id, NULL, err) != 0 ||
        office_log(db, actor, "booklet.reserve", json_pack("{s:s}", "doc_type", doc_type), err,
                   "booklet", out, "application", application_id, NULL) != 0)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

int office_booklet_reserve(struct db *db, const struct office_actor *actor,
                           const char *doc_type, const char *application_id, char out[32],
                           struct err *err)
{
    struct reserve_ctx c = { actor, doc_type, application_id, out };

    return db_tx_run(db, reserve_tx, &c, err);
}

/* Move SERIAL from one of the statuses in FROM (SQL list) to TO. */
static int booklet_move(struct db *db, const struct office_actor *actor, const char *serial,
                        const char *application_id, const char *to, const char *reason,
                        struct err *err)
{
    sqlite3_stmt *st = NULL;
    char now[TIME_ISO8601_LEN + 1];
    const char *status;
    int rc = -1;

    office_now(db, now);
    int s = db_query_row(db, &st, "SELECT status, application_id FROM booklets WHERE serial = ?1",
                         "booklets", err, "s", serial);
    if (s == 0)
        err_setk(err, ERR_NOT_FOUND, "booklet %s: not in stock", serial);
    if (s != 1)
        goto out;
    status = (const char *)sqlite3_column_text(st, 0);
    if (strcmp(to, "personalized") == 0) {
        const char *app = (const char *)sqlite3_column_text(st, 1);
        if (strcmp(status, "reserved") != 0 || app == NULL || strcmp(app, application_id) != 0) {
            err_set(err, "booklet %s: %s, not reserved for application %s", serial, status,
                    application_id);
            goto out;
        }
    } else if (strcmp(status, "personalized") == 0 && application_id != NULL) {
        /* quality control failed: the printed booklet of this application */
        const char *app = (const char *)sqlite3_column_text(st, 1);
        if (app == NULL || strcmp(app, application_id) != 0) {
            err_set(err, "booklet %s: personalized for another application", serial);
            goto out;
        }
    } else if (strcmp(status, "blank") != 0 && strcmp(status, "reserved") != 0) {
        err_setk(err, ERR_CONFLICT, "booklet %s: already %s", serial, status);
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (db_run(db,
               "UPDATE booklets SET status = ?2, reason = coalesce(?3, reason), "
               "updated_at = ?4, updated_by = ?5 WHERE serial = ?1",
               "booklets", err, "sssss", serial, to, reason, now, actor->username) != 0)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

/* The booklet a call names, for the transactions below. */
struct booklet_ctx {
    const struct office_actor *actor;
    const char *serial, *application_id, *reason;
};

static int personalize_tx(struct db *db, void *arg, struct err *err)
{
    const struct booklet_ctx *c = arg;

    if (booklet_move(db, c->actor, c->serial, c->application_id, "personalized", NULL, err) != 0 ||
        movement(db, c->actor, c->serial, NULL, "personalize", c->application_id, NULL, err) != 0 ||
        office_log(db, c->actor, "booklet.personalize", NULL, err, "booklet", c->serial,
                   "application", c->application_id, NULL) != 0)
        return -1;
    return 0;
}

int office_booklet_personalize(struct db *db, const struct office_actor *actor,
                               const char *serial, const char *application_id, struct err *err)
{
    struct booklet_ctx c = { actor, serial, application_id, NULL };

    return db_tx_run(db, personalize_tx, &c, err);
}

static int spoil_tx(struct db *db, void *arg, struct err *err)
{
    const struct booklet_ctx *c = arg;
    const struct office_actor *actor = c->actor;
    const char *serial = c->serial, *reason = c->reason;
    sqlite3_stmt *st = NULL;
    char *app = NULL;
    int rc = -1, s;

    s = db_query_row(db, &st, "SELECT application_id FROM booklets WHERE serial = ?1", "booklets",
                     err, "s", serial);
    if (s < 0)
        goto out;
    if (s == 1)
        app = db_column_dup(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (booklet_move(db, actor, serial, NULL, "spoiled", reason, err) != 0 ||
        movement(db, actor, serial, NULL, "spoil", app, reason, err) != 0)
        goto out;
    /* A spoiled booklet reserved for an application leaves it: the next
     * personalization reserves a fresh blank. */
    if (app && db_run(db,
                      "UPDATE applications SET booklet_serial = NULL WHERE id = ?1 AND "
                      "booklet_serial = ?2",
                      "applications", err, "ss", app, serial) != 0)
        goto out;
    if (office_log(db, actor, "booklet.spoil", json_pack("{s:s}", "reason", reason), err,
                   "booklet", serial, "application", app, NULL) != 0)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(st);
    free(app);
    return rc;
}

int office_booklet_spoil(struct db *db, const struct office_actor *actor, const char *serial,
                         const char *reason, struct err *err)
{
    struct booklet_ctx c = { actor, serial, NULL, reason };

    if (office_require(actor, registry_action_roles("booklet.manage"),
                       "record spoiled booklets", err) != 0)
        return -1;
    if (reason == NULL || *reason == '\0' || strlen(reason) > REASON_MAX)
        return err_set(err, "booklet %s: a reason of 1 to %d bytes is required to spoil it",
                       serial ? serial : "", REASON_MAX);
    return db_tx_run(db, spoil_tx, &c, err);
}

int office_booklet_report(struct db *db, json_t **out, struct err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *rep = NULL, *types, *batches, *spoiled;
    int rc = -1, s;
    bool bad = false; /* a member or row that could not be added */

    *out = NULL;
    rep = json_pack("{s:{s:{s:i,s:i,s:i,s:i,s:i}, s:{s:i,s:i,s:i,s:i,s:i}}, s:[], s:[]}",
                    "types", "TD3", "blank", 0, "reserved", 0, "personalized", 0, "spoiled", 0,
                    "total", 0, "TD1", "blank", 0, "reserved", 0, "personalized", 0, "spoiled",
                    0, "total", 0, "batches", "spoiled");
    if (rep == NULL)
        return err_oom(err);
    types = json_object_get(rep, "types");
    if (db_prepare(db, &st,
                   "SELECT doc_type, status, count(*) FROM booklets GROUP BY 1, 2", err) != 0)
        goto out;
    while ((s = db_step_row(db, st, "booklets", err)) == 1) {
        json_t *t = json_object_get(types, (const char *)sqlite3_column_text(st, 0));
        json_int_t n = sqlite3_column_int64(st, 2);
        json_t *total = json_object_get(t, "total");
        bad |= json_object_set_new(t, (const char *)sqlite3_column_text(st, 1),
                                   json_integer(n)) != 0;
        json_integer_set(total, json_integer_value(total) + n);
    }
    if (s != 0)
        goto out;
    if (db_query_objects(db,
                         "SELECT b.id AS id, b.doc_type AS doc_type, b.first AS first, b.last "
                         "AS last, b.count AS count, b.reference AS reference, b.received_at AS "
                         "received_at, b.received_by AS received_by, (SELECT count(*) FROM "
                         "booklets k WHERE k.batch_id = b.id AND k.status = 'blank') AS blank "
                         "FROM booklet_batches b ORDER BY b.received_at, b.id",
                         "booklet batches", &batches, err, "") != 0)
        goto out;
    bad |= json_object_set_new(rep, "batches", batches) != 0;
    if (db_query_objects(db,
                         "SELECT serial, doc_type, reason, updated_at AS at, updated_by AS by "
                         "FROM booklets WHERE status = 'spoiled' ORDER BY updated_at, serial",
                         "booklets", &spoiled, err, "") != 0)
        goto out;
    bad |= json_object_set_new(rep, "spoiled", spoiled) != 0;
    if (bad) {
        err_set(err, "booklet report: out of memory");
        goto out;
    }
    *out = rep;
    rep = NULL;
    rc = 0;
out:
    sqlite3_finalize(st);
    json_decref(rep);
    return rc;
}

int office_booklet_show(struct db *db, const char *serial, json_t **out, struct err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *o = NULL, *moves = NULL;
    int rc = -1, s;

    *out = NULL;
    s = db_query_row(db, &st,
                     "SELECT serial, doc_type, batch_id, status, application_id, reason, "
                     "updated_at, updated_by FROM booklets WHERE serial = ?1", "booklets", err,
                     "s", serial);
    if (s == 0)
        err_setk(err, ERR_NOT_FOUND, "booklet %s: not in stock", serial);
    if (s != 1)
        goto out;
    if ((o = db_row_object(st)) == NULL) {
        err_set(err, "booklet %s: out of memory", serial);
        goto out;
    }
    if (db_query_objects(db,
                         "SELECT movement, application_id, reason, at, by FROM booklet_movements "
                         "WHERE serial = ?1 OR batch_id = (SELECT batch_id FROM booklets WHERE "
                         "serial = ?1) ORDER BY id",
                         "booklet movements", &moves, err, "s", serial) != 0)
        goto out;
    if (json_object_set_new(o, "movements", moves) != 0) {
        err_oom(err);
        goto out;
    }
    *out = o;
    o = NULL;
    rc = 0;
out:
    sqlite3_finalize(st);
    json_decref(o);
    return rc;
}

static int spoil_personalized_tx(struct db *db, void *arg, struct err *err)
{
    const struct booklet_ctx *c = arg;

    if (booklet_move(db, c->actor, c->serial, c->application_id, "spoiled", c->reason, err) != 0 ||
        movement(db, c->actor, c->serial, NULL, "spoil", c->application_id, c->reason, err) != 0 ||
        office_log(db, c->actor, "booklet.spoil", json_pack("{s:s}", "reason", c->reason), err,
                   "booklet", c->serial, "application", c->application_id, NULL) != 0 ||
        db_run(db, "UPDATE applications SET booklet_serial = NULL WHERE id = ?1",
               "applications", err, "s", c->application_id) != 0)
        return -1;
    return 0;
}

int office_booklet_spoil_personalized(struct db *db, const struct office_actor *a,
                                      const char *serial, const char *application_id,
                                      const char *reason, struct err *err)
{
    struct booklet_ctx c = { a, serial, application_id, reason };

    if (serial == NULL)
        return err_set(err, "application %s has no booklet to spoil", application_id);
    return db_tx_run(db, spoil_personalized_tx, &c, err);
}
