/* Shared store helpers of the passport office (SQLite through db_handle). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/encode.h"
#include "core/secret.h"
#include "db/db.h"
#include "db/rows.h"
#include "office_int.h"

json_t *office_row_json(sqlite3_stmt *st, const char *const *names, int n, int json_first,
                        int json_last)
{
    json_t *o = json_object();

    for (int i = 0; o && i < n; i++) {
        json_t *v = NULL;
        if (!(i >= json_first && i <= json_last && sqlite3_column_type(st, i) == SQLITE_TEXT &&
              db_column_parse(st, i, &v, NULL) == 0))
            v = db_column_json(st, i);
        if (json_object_set_new(o, names[i], v) != 0) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
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
