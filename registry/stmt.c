/* civreg registry: the older statement helpers, kept as thin adapters over
 * db/rows.h (db_run, db_query_rows) for the callers not yet written against
 * it. New code calls db/rows.h directly. */
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

int reg_query_json(struct db *db, const char *sql, const char *arg, db_row_fn row, void *ctx,
                   const char *what, json_t **out, struct err *err)
{
    *out = NULL;
    return db_query_rows(db, sql, what, row, ctx, out, err, arg != NULL ? "s" : "", arg);
}
