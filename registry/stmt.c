/* civreg registry: the registry's prepared statements run one way: a write
 * with its parameters bound from a list, and a read whose rows become a
 * JSON array (the one loop behind the lists of users, records, versions,
 * queues, extracts, links and events). */
#include "registry_int.h"

int reg_exec(struct db *db, const char *sql, const struct reg_arg *args, size_t n,
             const char *what, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if (reg_prepare_cached(db, &st, sql, err) != 0)
        return -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int col = (int)i + 1;
        switch (args[i].type) {
        case REG_ARG_TEXT:
            rc = sqlite3_bind_text(st, col, args[i].p, (int)args[i].n, SQLITE_STATIC);
            break;
        case REG_ARG_INT:
            rc = sqlite3_bind_int64(st, col, (sqlite3_int64)args[i].n);
            break;
        case REG_ARG_BLOB:
            rc = sqlite3_bind_blob(st, col, args[i].p, (int)args[i].n, SQLITE_STATIC);
            break;
        }
    }
    if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
        rc = db_sql_fail(db, what, err);
    reg_release(db, st);
    return rc;
}

int reg_rows_append(struct db *db, sqlite3_stmt *st, reg_row_fn row, void *ctx, const char *what,
                    json_t *list, struct err *err)
{
    int step;

    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *v = NULL;
        int r = row(st, ctx, &v, err);
        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        if (v == NULL || json_array_append_new(list, v) != 0)
            return err_setk(err, ERR_INTERNAL, "out of memory");
    }
    if (step != SQLITE_DONE)
        return db_sql_fail(db, what, err);
    return 0;
}

int reg_rows_json(struct db *db, sqlite3_stmt *st, reg_row_fn row, void *ctx, const char *what,
                  json_t **out, struct err *err)
{
    json_t *list = json_array();

    *out = NULL;
    if (list == NULL)
        return err_setk(err, ERR_INTERNAL, "out of memory");
    if (reg_rows_append(db, st, row, ctx, what, list, err) != 0) {
        json_decref(list);
        return -1;
    }
    *out = list;
    return 0;
}

int reg_query_json(struct db *db, const char *sql, const char *arg, reg_row_fn row, void *ctx,
                   const char *what, json_t **out, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    *out = NULL;
    if (db_prepare(db, &st, sql, err) != 0)
        return -1;
    if (arg != NULL)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    rc = reg_rows_json(db, st, row, ctx, what, out, err);
    sqlite3_finalize(st);
    return rc;
}
