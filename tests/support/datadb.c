/* civreg tests: direct SQL on a data directory's database, for set-up that
 * no command offers (a fault to plant) and for counting what was stored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "support.h"

/* DATA/civreg.db opened with FLAGS and a 10 s busy timeout. */
static sqlite3 *data_db_open(const char *data, int flags)
{
    char path[4200];
    sqlite3 *h = NULL;

    if (snprintf(path, sizeof path, "%s/civreg.db", data) >= (int)sizeof path)
        fail_msg("data directory path too long: %s", data);
    if (sqlite3_open_v2(path, &h, flags, NULL) != SQLITE_OK)
        fail_msg("cannot open %s: %s", path, h ? sqlite3_errmsg(h) : "out of memory");
    sqlite3_busy_timeout(h, 10000);
    return h;
}

void data_sql(const char *data, const char *sql)
{
    sqlite3 *h = data_db_open(data, SQLITE_OPEN_READWRITE);
    char *msg = NULL;

    if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
    sqlite3_close(h);
}

sqlite3_stmt *sqlite_prepare_ok(void *handle, const char *sql)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(handle, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("prepare %s: %s", sql, sqlite3_errmsg(handle));
    return st;
}

sqlite3_stmt *sqlite_row(void *handle, const char *sql)
{
    sqlite3_stmt *st = sqlite_prepare_ok(handle, sql);

    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    return st;
}

long long sqlite_long(void *handle, const char *sql)
{
    sqlite3_stmt *st = sqlite_row(handle, sql);
    long long n;

    n = (long long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

long data_sql_long(const char *data, const char *sql)
{
    sqlite3 *h = data_db_open(data, SQLITE_OPEN_READONLY);
    long n = (long)sqlite_long(h, sql);

    sqlite3_close(h);
    return n;
}
