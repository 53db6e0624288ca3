/* civreg db: binding parameters from a format and reading rows into JSON. */
#include "rows.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>

#include "core/encode.h"
#include "db.h"
#include "sql.h"

int db_bind(struct db *db, sqlite3_stmt *st, struct err *err, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = db_bindv(db, st, err, fmt, ap);
    va_end(ap);
    return rc;
}

int db_bindv(struct db *db, sqlite3_stmt *st, struct err *err, const char *fmt, va_list ap)
{
    int i = 0, rc = SQLITE_OK;

    for (const char *f = fmt; *f != '\0' && rc == SQLITE_OK; f++) {
        i++;
        switch (*f) {
        case 's':
            rc = db_bind_text(st, i, va_arg(ap, const char *));
            break;
        case 'i':
            rc = sqlite3_bind_int(st, i, va_arg(ap, int));
            break;
        case 'I':
            rc = sqlite3_bind_int64(st, i, (sqlite3_int64)va_arg(ap, long long));
            break;
        case 'p': {
            const long long *v = va_arg(ap, const long long *);
            rc = v == NULL ? sqlite3_bind_null(st, i) : sqlite3_bind_int64(st, i, *v);
            break;
        }
        case 'b': {
            const void *p = va_arg(ap, const void *);
            size_t len = va_arg(ap, size_t);
            rc = p == NULL ? sqlite3_bind_null(st, i)
                           : sqlite3_bind_blob64(st, i, p, (sqlite3_uint64)len, SQLITE_TRANSIENT);
            break;
        }
        case 'n':
            rc = sqlite3_bind_null(st, i);
            break;
        default:
            return err_setk(err, ERR_INTERNAL, "db: binding parameter %d: unknown type '%c'", i,
                            *f);
        }
    }
    if (rc != SQLITE_OK)
        return err_setk(err, db_error_kind(db), "db: binding parameter %d: %s", i,
                        sqlite3_errmsg(db_handle(db)));
    return 0;
}

int db_step_row(struct db *db, sqlite3_stmt *st, const char *what, struct err *err)
{
    switch (sqlite3_step(st)) {
    case SQLITE_ROW:
        return 1;
    case SQLITE_DONE:
        return 0;
    default:
        return db_sql_fail(db, what, err);
    }
}

int db_query_row(struct db *db, sqlite3_stmt **st, const char *sql, const char *what,
                 struct err *err, const char *fmt, ...)
{
    va_list ap;
    int rc;

    if (db_prepare(db, st, sql, err) != 0)
        return -1;
    va_start(ap, fmt);
    rc = db_bindv(db, *st, err, fmt, ap);
    va_end(ap);
    return rc == 0 ? db_step_row(db, *st, what, err) : -1;
}

/* What a query on a cached statement does with it once bound: collect its
 * rows (ROWS set), read the first column of its first row as text (TEXT) or
 * an integer (NUM), or otherwise run it to its end. */
struct stmt_use {
    const char *what;
    db_row_fn row;
    void *row_ctx;
    json_t **rows;
    char **text;
    long long *num;
};

static int stmt_use(struct db *db, sqlite3_stmt *st, const struct stmt_use *u, struct err *err)
{
    int rc;

    if (u->rows != NULL)
        return db_rows_collect(db, st, u->what, u->row, u->row_ctx, u->rows, err);
    if (u->text == NULL && u->num == NULL) {
        do
            rc = db_step_row(db, st, u->what, err);
        while (rc == 1);
        return rc;
    }
    rc = db_step_row(db, st, u->what, err);
    if (rc == 1 && u->num != NULL)
        *u->num = (long long)sqlite3_column_int64(st, 0);
    if (rc == 1 && u->text != NULL && sqlite3_column_type(st, 0) != SQLITE_NULL &&
        (*u->text = db_column_dup(st, 0)) == NULL)
        rc = err_oom(err);
    return rc;
}

/* The constant SQL from the connection's cache with FMT's parameters bound,
 * used as U says, then released. */
static int cached_use(struct db *db, const char *sql, struct err *err, const char *fmt, va_list ap,
                      const struct stmt_use *u)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (db_stmt_cached(db, sql, &st, err) != 0)
        return -1;
    rc = db_bindv(db, st, err, fmt, ap) != 0 ? -1 : stmt_use(db, st, u, err);
    db_stmt_release(db, st);
    return rc;
}

/* cached_use with the calling function's variable parameters after FMT. */
#define CACHED_USE(rc, db, sql, err, fmt, u)                                                     \
    do {                                                                                         \
        va_list ap_;                                                                             \
        va_start(ap_, fmt);                                                                      \
        (rc) = cached_use((db), (sql), (err), (fmt), ap_, (u));                                  \
        va_end(ap_);                                                                             \
    } while (0)

int db_run(struct db *db, const char *sql, const char *what, struct err *err, const char *fmt,
           ...)
{
    const struct stmt_use u = { .what = what };
    int rc;

    CACHED_USE(rc, db, sql, err, fmt, &u);
    return rc;
}

json_t *db_column_json(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        return json_integer((json_int_t)sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(st, i));
    case SQLITE_TEXT:
        return json_stringn((const char *)sqlite3_column_text(st, i),
                            (size_t)sqlite3_column_bytes(st, i));
    case SQLITE_BLOB: {
        const void *p = sqlite3_column_blob(st, i);
        char *hex = hex_encode_alloc(p, (size_t)sqlite3_column_bytes(st, i));
        json_t *v = hex ? json_string(hex) : NULL;
        free(hex);
        return v;
    }
    default:
        return json_null();
    }
}

json_t *db_row_object(sqlite3_stmt *st)
{
    json_t *o = json_object();
    int n = sqlite3_column_count(st);

    for (int i = 0; o != NULL && i < n; i++) {
        const char *name = sqlite3_column_name(st, i);
        if (name == NULL || json_object_set_new(o, name, db_column_json(st, i)) != 0) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

/* db_rows_json's row function seen as a db_row_fn. */
struct row_json_adapter {
    db_row_json_fn row;
    void *ctx;
};

static int row_json_adapt(sqlite3_stmt *st, void *ctx, json_t **row, struct err *err)
{
    const struct row_json_adapter *a = ctx;

    (void)err;
    *row = a->row != NULL ? a->row(st, a->ctx) : db_row_object(st);
    return 0;
}

int db_rows_json(struct db *db, sqlite3_stmt *st, const char *what, db_row_json_fn row,
                 void *ctx, json_t **out, struct err *err)
{
    struct row_json_adapter a = { row, ctx };

    *out = NULL;
    return db_rows_collect(db, st, what, row_json_adapt, &a, out, err);
}

int db_rows_collect(struct db *db, sqlite3_stmt *st, const char *what, db_row_fn row, void *ctx,
                    json_t **out, struct err *err)
{
    json_t *list = *out != NULL ? *out : json_array();
    int step;

    if (list == NULL)
        return err_oom(err);
    while ((step = db_step_row(db, st, what, err)) == 1) {
        json_t *v = NULL;
        int r = row(st, ctx, &v, err);
        if (r > 0)
            continue;
        if (r == 0 && (v == NULL || json_array_append_new(list, v) != 0))
            r = err_oom(err);
        if (r < 0) {
            step = -1;
            break;
        }
    }
    if (step != 0) {
        if (list != *out)
            json_decref(list);
        return -1;
    }
    *out = list;
    return 0;
}

int db_query_rows(struct db *db, const char *sql, const char *what, db_row_fn row, void *ctx,
                  json_t **out, struct err *err, const char *fmt, ...)
{
    const struct stmt_use u = { .what = what, .row = row, .row_ctx = ctx, .rows = out };
    int rc;

    CACHED_USE(rc, db, sql, err, fmt, &u);
    return rc;
}

int db_query_text(struct db *db, const char *sql, const char *what, char **out, struct err *err,
                  const char *fmt, ...)
{
    const struct stmt_use u = { .what = what, .text = out };
    int rc;

    *out = NULL;
    CACHED_USE(rc, db, sql, err, fmt, &u);
    return rc;
}

int db_query_int64(struct db *db, const char *sql, const char *what, long long *out,
                   struct err *err, const char *fmt, ...)
{
    const struct stmt_use u = { .what = what, .num = out };
    int rc;

    CACHED_USE(rc, db, sql, err, fmt, &u);
    return rc;
}

int db_rows_changed(struct db *db)
{
    return sqlite3_changes(db_handle(db));
}

int db_query_objects(struct db *db, const char *sql, const char *what, json_t **out,
                     struct err *err, const char *fmt, ...)
{
    struct row_json_adapter a = { NULL, NULL };
    const struct stmt_use u = { .what = what, .row = row_json_adapt, .row_ctx = &a, .rows = out };
    int rc;

    *out = NULL;
    CACHED_USE(rc, db, sql, err, fmt, &u);
    return rc;
}

int db_column_parse(sqlite3_stmt *st, int i, json_t **out, struct err *err)
{
    const char *text = (const char *)sqlite3_column_text(st, i);
    size_t len = (size_t)sqlite3_column_bytes(st, i);

    return json_parse(text, len, out, err);
}
