/* Shared store helpers of the passport office (SQLite through db_handle). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/encode.h"
#include "core/secret.h"
#include "db/db.h"
#include "office_int.h"

json_t *office_column_json(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: return json_integer(sqlite3_column_int64(st, i));
    case SQLITE_TEXT: return json_string((const char *)sqlite3_column_text(st, i));
    default: return json_null();
    }
}

int office_exec(struct db *db, const char *what, const char *sql, const char *const *args,
                size_t n, bool one, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int changes = -1;

    if (db_prepare(db, &st, sql, err) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        db_bind_text(st, (int)i + 1, args[i]);
    if (sqlite3_step(st) != SQLITE_DONE ||
        (one && sqlite3_changes(db_handle(db)) != 1))
        db_sql_fail(db, what, err);
    else
        changes = sqlite3_changes(db_handle(db));
    sqlite3_finalize(st);
    return changes;
}

int office_rows_append(struct db *db, sqlite3_stmt *st, json_t *(*row)(sqlite3_stmt *st),
                       json_t *arr, const char *what, struct err *err)
{
    int s;

    while ((s = sqlite3_step(st)) == SQLITE_ROW)
        if (json_array_append_new(arr, row(st)) != 0)
            return err_setk(err, ERR_INTERNAL, "out of memory");
    if (s != SQLITE_DONE)
        return db_sql_fail(db, what, err);
    return 0;
}

void office_now(struct db *db, char out[TIME_ISO8601_LEN + 1])
{
    if (time_iso8601(db_tx_time(db), out) != 0)
        /* cannot truncate: a constant of TIME_ISO8601_LEN characters */
        (void)snprintf(out, TIME_ISO8601_LEN + 1, "1970-01-01T00:00:00Z");
}

static const char *role_name(unsigned r)
{
    switch (r) {
    case OFFICE_ROLE_ENROLMENT_OFFICER: return "enrolment_officer";
    case OFFICE_ROLE_APPROVER: return "approver";
    case OFFICE_ROLE_ISSUANCE_OPERATOR: return "issuance_operator";
    case OFFICE_ROLE_AUDITOR: return "auditor";
    case OFFICE_ROLE_ADMIN: return "admin";
    default: return "?";
    }
}

int office_require(const struct office_actor *a, unsigned need, const char *what,
                   struct err *err)
{
    char names[160] = "";
    size_t n = 0;

    if (a == NULL || a->username == NULL)
        return err_set(err, "%s: no authenticated user", what);
    if (a->roles & need)
        return 0;
    for (unsigned r = 1; r <= OFFICE_ROLE_ADMIN; r <<= 1)
        if (need & r) {
            int k = snprintf(names + n, sizeof names - n, "%s%s", n ? " or " : "", role_name(r));
            if (k < 0 || (size_t)k >= sizeof names - n)
                break;
            n += (size_t)k;
        }
    return err_setk(err, ERR_FORBIDDEN, "%s may not %s: needs role %s", a->username, what, names);
}

int office_log(struct db *db, const struct office_actor *a, const char *type, json_t *data,
               struct err *err, ...)
{
    json_t *objects = json_array();
    char now[TIME_ISO8601_LEN + 1];
    va_list ap;
    int rc = -1;

    va_start(ap, err);
    for (;;) {
        const char *kind = va_arg(ap, const char *), *id;
        json_t *o;
        if (kind == NULL)
            break;
        id = va_arg(ap, const char *);
        if (id == NULL)
            continue;
        o = json_pack("{s:s, s:s}", "kind", kind, "id", id);
        if (objects == NULL || o == NULL || json_array_append_new(objects, o) != 0) {
            json_decref(o);
            va_end(ap);
            err_setk(err, ERR_INTERNAL, "event %s: out of memory", type);
            goto out;
        }
    }
    va_end(ap);
    if (a->log == NULL) {
        err_set(err, "event %s: no provenance log for %s", type, a->username);
        goto out;
    }
    office_now(db, now);
    rc = a->log(a->log_ctx, db, type, objects, data, now, err);
out:
    json_decref(objects);
    json_decref(data);
    return rc;
}
