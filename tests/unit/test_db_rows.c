/* Unit tests for db/rows.c: binding from a format, stepping one row, rows
 * to JSON (by column names and through a row function), and the errors a
 * failed bind, a failed step and a row that cannot be built report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/secret.h"
#include "db/db.h"
#include "db/rows.h"
#include "db/sql.h"
#include "support/cmocka_main.h"
#include "support/support.h"

struct fixture {
    char *dir;
    struct db *db;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct err e = ERR_INIT;
    char path[4096];

    f->dir = tmp_dir("dbrows");
    snprintf(path, sizeof path, "%s/civreg.db", f->dir);
    if (db_open(path, DB_OPEN_CREATE | DB_OPEN_MIGRATE, &f->db, &e) != 0)
        return -1;
    if (sqlite3_exec(db_handle(f->db),
                     "CREATE TEMP TABLE t(k TEXT PRIMARY KEY, n INTEGER, r REAL, b BLOB, z ANY)",
                     NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    db_close(f->db);
    tmp_remove(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* A row "k, n, b" (b NULL when P is NULL). */
static void insert(struct db *db, const char *k, long long n, const void *p, size_t len)
{
    sqlite3_stmt *st = NULL;
    struct err e = ERR_INIT;

    assert_int_equal(db_prepare(db, &st, "INSERT INTO t(k, n, b) VALUES (?, ?, ?)", &e), 0);
    assert_int_equal(db_bind(db, st, &e, "sIb", k, n, p, len), 0);
    assert_int_equal(db_step_row(db, st, "inserting", &e), 0);
    sqlite3_finalize(st);
}

static void test_bind_and_step(void **state)
{
    struct fixture *f = *state;
    sqlite3_stmt *st = NULL;
    struct err e = ERR_INIT;
    static const unsigned char blob[] = { 0x00, 0xab, 0xff };

    insert(f->db, "a", 5000000000LL, blob, sizeof blob);
    insert(f->db, "b", -7LL, NULL, 0);
    assert_int_equal(db_prepare(f->db, &st, "SELECT n, b, ? FROM t WHERE k = ? AND n > ?", &e), 0);
    assert_int_equal(db_bind(f->db, st, &e, "ssi", NULL, "a", 3), 0);
    assert_int_equal(db_step_row(f->db, st, "reading", &e), 1);
    assert_int_equal(sqlite3_column_int64(st, 0), 5000000000LL);
    assert_int_equal(sqlite3_column_bytes(st, 1), 3);
    assert_memory_equal(sqlite3_column_blob(st, 1), blob, 3);
    assert_int_equal(sqlite3_column_type(st, 2), SQLITE_NULL); /* "s" with NULL */
    assert_int_equal(db_step_row(f->db, st, "reading", &e), 0);
    /* Bindings are copied: a bound buffer may change before the step. */
    sqlite3_reset(st);
    {
        char key[2] = "b";
        assert_int_equal(db_bind(f->db, st, &e, "ssi", "x", key, -100), 0);
        key[0] = 'a';
        assert_int_equal(db_step_row(f->db, st, "reading", &e), 1);
        assert_int_equal(sqlite3_column_int64(st, 0), -7);
        assert_int_equal(sqlite3_column_type(st, 1), SQLITE_NULL); /* "b" with NULL */
        assert_string_equal((const char *)sqlite3_column_text(st, 2), "x");
    }
    /* More letters than parameters, and an unknown letter. */
    sqlite3_reset(st);
    assert_int_equal(db_bind(f->db, st, &e, "ssss", "a", "b", "c", "d"), -1);
    assert_non_null(strstr(err_msg(&e), "db: binding parameter 4"));
    assert_int_equal(db_bind(f->db, st, &e, "sq", "a"), -1);
    assert_non_null(strstr(err_msg(&e), "unknown type 'q'"));
    assert_int_equal(e.kind, ERR_INTERNAL);
    sqlite3_finalize(st);
    /* "n" takes no argument: the next letter binds the next argument. */
    assert_int_equal(db_prepare(f->db, &st, "SELECT ? IS NULL, ?", &e), 0);
    assert_int_equal(db_bind(f->db, st, &e, "ns", "after"), 0);
    assert_int_equal(db_step_row(f->db, st, "reading", &e), 1);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "after");
    sqlite3_finalize(st);
    /* A failed step: a duplicate key, reported as "db: WHAT: ..." by kind. */
    assert_int_equal(db_prepare(f->db, &st, "INSERT INTO t(k) VALUES (?)", &e), 0);
    assert_int_equal(db_bind(f->db, st, &e, "s", "a"), 0);
    assert_int_equal(db_step_row(f->db, st, "adding a duplicate", &e), -1);
    assert_non_null(strstr(err_msg(&e), "db: adding a duplicate: UNIQUE constraint failed"));
    assert_int_equal(e.kind, ERR_INTERNAL);
    sqlite3_finalize(st);
}

static void test_rows_by_column_names(void **state)
{
    struct fixture *f = *state;
    static const unsigned char blob[] = { 0x00, 0xab, 0xff };
    sqlite3_stmt *st = NULL;
    struct err e = ERR_INIT;
    json_t *rows = NULL;
    char *text;

    insert(f->db, "a", 1LL, blob, sizeof blob);
    insert(f->db, "b", 2LL, NULL, 0);
    assert_int_equal(db_prepare(f->db, &st,
                                "SELECT k AS key, n AS number, 0.5 AS half, b AS bytes, z "
                                "FROM t ORDER BY k",
                                &e),
                     0);
    assert_int_equal(db_rows_json(f->db, st, "listing", NULL, NULL, &rows, &e), 0);
    text = json_dumps(rows, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(text,
                        "[{\"key\":\"a\",\"number\":1,\"half\":0.5,\"bytes\":\"00abff\",\"z\":null},"
                        "{\"key\":\"b\",\"number\":2,\"half\":0.5,\"bytes\":null,\"z\":null}]");
    free(text);
    json_decref(rows);
    /* No rows: an empty array, not NULL. */
    sqlite3_reset(st);
    sqlite3_finalize(st);
    assert_int_equal(db_prepare(f->db, &st, "SELECT k FROM t WHERE k = 'none'", &e), 0);
    assert_int_equal(db_rows_json(f->db, st, "listing", NULL, NULL, &rows, &e), 0);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
    sqlite3_finalize(st);
}

struct counter {
    int calls;
    int fail_at;
};

static json_t *key_row(sqlite3_stmt *st, void *ctx)
{
    struct counter *c = ctx;
    if (++c->calls == c->fail_at)
        return NULL;
    return json_pack("{s:s, s:b}", "k", (const char *)sqlite3_column_text(st, 0), "odd",
                     sqlite3_column_int(st, 1) % 2);
}

static void test_rows_through_a_function(void **state)
{
    struct fixture *f = *state;
    sqlite3_stmt *st = NULL;
    struct err e = ERR_INIT;
    struct counter c = { 0, 0 };
    json_t *rows = NULL, *sentinel = json_array();

    insert(f->db, "a", 1LL, NULL, 0);
    insert(f->db, "b", 2LL, NULL, 0);
    insert(f->db, "c", 3LL, NULL, 0);
    assert_int_equal(db_stmt_cached(f->db, "SELECT k, n FROM t WHERE n >= ? ORDER BY k", &st, &e),
                     0);
    assert_int_equal(db_bind(f->db, st, &e, "i", 2), 0);
    assert_int_equal(db_rows_json(f->db, st, "listing", key_row, &c, &rows, &e), 0);
    assert_int_equal(c.calls, 2);
    assert_int_equal(json_array_size(rows), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 1), "k")), "c");
    assert_true(json_is_true(json_object_get(json_array_get(rows, 1), "odd")));
    json_decref(rows);
    db_stmt_release(f->db, st);
    /* A row that cannot be built fails the whole list. */
    c.calls = 0;
    c.fail_at = 2;
    rows = sentinel;
    assert_int_equal(db_stmt_cached(f->db, "SELECT k, n FROM t ORDER BY k", &st, &e), 0);
    assert_int_equal(db_rows_json(f->db, st, "listing", key_row, &c, &rows, &e), -1);
    assert_null(rows);
    json_decref(sentinel);
    assert_string_equal(err_msg(&e), "out of memory");
    assert_int_equal(e.kind, ERR_INTERNAL);
    db_stmt_release(f->db, st);
}

static void test_rows_step_failure(void **state)
{
    struct fixture *f = *state;
    sqlite3_stmt *st = NULL;
    struct err e = ERR_INIT;
    json_t *rows = NULL;

    /* A step that fails after the first row: the partial list is not kept. */
    insert(f->db, "a", 0LL, NULL, 0);
    insert(f->db, "b", 1LL, NULL, 0);
    assert_int_equal(db_prepare(f->db, &st,
                                "SELECT k, abs(-9223372036854775807 - n) FROM t ORDER BY k", &e),
                     0);
    assert_int_equal(db_rows_json(f->db, st, "summing", NULL, NULL, &rows, &e), -1);
    assert_null(rows);
    assert_non_null(strstr(err_msg(&e), "db: summing: integer overflow"));
    sqlite3_finalize(st);
}

static void test_run(void **state)
{
    struct fixture *f = *state;
    sqlite3_stmt *st = NULL;
    struct err e = ERR_INIT;
    const long long five = 5;
    json_t *rows = NULL;
    char *text;

    /* "p": an integer through a pointer, NULL for SQL NULL. */
    assert_int_equal(db_run(f->db, "INSERT INTO t(k, n) VALUES (?, ?)", "adding", &e, "sp", "a",
                            &five),
                     0);
    assert_int_equal(db_run(f->db, "INSERT INTO t(k, n) VALUES (?, ?)", "adding", &e, "sp", "b",
                            (const long long *)NULL),
                     0);
    /* Run once: an UPDATE changes each row once, whatever rows it has. */
    assert_int_equal(db_run(f->db, "UPDATE t SET n = coalesce(n, 0) + ?", "updating", &e, "i", 1),
                     0);
    assert_int_equal(sqlite3_changes(db_handle(f->db)), 2);
    /* A statement that returns rows is stepped to its end. */
    assert_int_equal(db_run(f->db, "SELECT k FROM t", "reading", &e, ""), 0);
    assert_int_equal(db_prepare(f->db, &st, "SELECT k, n FROM t ORDER BY k", &e), 0);
    assert_int_equal(db_rows_json(f->db, st, "listing", NULL, NULL, &rows, &e), 0);
    text = json_dumps(rows, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(text, "[{\"k\":\"a\",\"n\":6},{\"k\":\"b\",\"n\":1}]");
    free(text);
    json_decref(rows);
    sqlite3_finalize(st);
    /* Failures: the step (a duplicate key), the bind, the SQL. */
    assert_int_equal(db_run(f->db, "INSERT INTO t(k) VALUES (?)", "adding a duplicate", &e, "s",
                            "a"),
                     -1);
    assert_non_null(strstr(err_msg(&e), "db: adding a duplicate: UNIQUE constraint failed"));
    assert_int_equal(db_run(f->db, "INSERT INTO t(k) VALUES (?)", "adding", &e, "ss", "c", "d"),
                     -1);
    assert_non_null(strstr(err_msg(&e), "binding parameter 2"));
    assert_int_equal(db_run(f->db, "INSERT INTO nowhere VALUES (?)", "adding", &e, "s", "c"), -1);
    assert_non_null(strstr(err_msg(&e), "no such table"));
    /* Nothing of the failed runs was written. */
    assert_int_equal(db_prepare(f->db, &st, "SELECT count(*) FROM t", &e), 0);
    assert_int_equal(db_step_row(f->db, st, "counting", &e), 1);
    assert_int_equal(sqlite3_column_int(st, 0), 2);
    sqlite3_finalize(st);
    /* db_query_row: a row to read, no row, a failure; the caller finalizes. */
    assert_int_equal(db_query_row(f->db, &st, "SELECT n FROM t WHERE k = ?", "finding", &e, "s",
                                  "a"),
                     1);
    assert_int_equal(sqlite3_column_int(st, 0), 6);
    sqlite3_finalize(st);
    assert_int_equal(db_query_row(f->db, &st, "SELECT n FROM t WHERE k = ?", "finding", &e, "s",
                                  "zz"),
                     0);
    sqlite3_finalize(st);
    assert_int_equal(db_query_row(f->db, &st, "SELECT n FROM t WHERE k = ?", "finding", &e, "ss",
                                  "a", "b"),
                     -1);
    sqlite3_finalize(st);
    assert_int_equal(db_query_row(f->db, &st, "SELECT nope FROM t", "finding", &e, ""), -1);
    assert_null(st);
}

/* A db_row_fn: rows with an even n are left out, n == FAIL_AT fails. */
static int odd_row(sqlite3_stmt *st, void *ctx, json_t **row, struct err *err)
{
    const int *fail_at = ctx;
    int n = sqlite3_column_int(st, 1);

    if (n == *fail_at)
        return err_set(err, "row %d: refused", n);
    if (n % 2 == 0)
        return 1;
    *row = json_string((const char *)sqlite3_column_text(st, 0));
    return 0;
}

static void test_query_rows(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    json_t *rows = NULL, *mine = json_pack("[s]", "first");
    int fail_at = -1;
    char *text;

    for (long long n = 1; n <= 5; n++) {
        char k[2] = { (char)('a' + n - 1), '\0' };
        insert(f->db, k, n, NULL, 0);
    }
    /* Rows the function leaves out are skipped; a new array is made. */
    assert_int_equal(db_query_rows(f->db, "SELECT k, n FROM t WHERE n >= ? ORDER BY k", "listing",
                                   odd_row, &fail_at, &rows, &e, "i", 2),
                     0);
    text = json_dumps(rows, JSON_COMPACT);
    assert_string_equal(text, "[\"c\",\"e\"]");
    free(text);
    json_decref(rows);
    /* Appending to the caller's array. */
    assert_int_equal(db_query_rows(f->db, "SELECT k, n FROM t ORDER BY k", "listing", odd_row,
                                   &fail_at, &mine, &e, ""),
                     0);
    assert_int_equal(json_array_size(mine), 4);
    /* The row function's own message; a new array is freed, the caller's
     * array stays the caller's. */
    fail_at = 3;
    rows = NULL;
    assert_int_equal(db_query_rows(f->db, "SELECT k, n FROM t ORDER BY k", "listing", odd_row,
                                   &fail_at, &rows, &e, ""),
                     -1);
    assert_null(rows);
    assert_string_equal(err_msg(&e), "row 3: refused");
    assert_int_equal(db_query_rows(f->db, "SELECT k, n FROM t ORDER BY k", "listing", odd_row,
                                   &fail_at, &mine, &e, ""),
                     -1);
    assert_int_equal(json_array_size(mine), 5);
    json_decref(mine);
    /* A failed step and a failed bind. */
    assert_int_equal(db_query_rows(f->db,
                                   "SELECT k, abs(-9223372036854775807 - n) FROM t ORDER BY k",
                                   "summing", odd_row, &fail_at, &rows, &e, ""),
                     -1);
    assert_null(rows);
    assert_non_null(strstr(err_msg(&e), "db: summing: integer overflow"));
    assert_int_equal(db_query_rows(f->db, "SELECT k, n FROM t WHERE n = ?", "listing", odd_row,
                                   &fail_at, &rows, &e, "ii", 1, 2),
                     -1);
    assert_null(rows);
    assert_non_null(strstr(err_msg(&e), "binding parameter 2"));
}

static void test_query_text_and_int64(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    long long n = -1;
    char *text = (char *)"unset";

    insert(f->db, "a", 7LL, NULL, 0);
    assert_int_equal(db_run(f->db, "INSERT INTO t(k, z) VALUES (?, ?)", "adding", &e, "sn", "b"),
                     0);
    /* A text: a copy, NULL for SQL NULL, nothing when there is no row. */
    assert_int_equal(db_query_text(f->db, "SELECT k FROM t WHERE n = ?", "finding", &text, &e, "I",
                                   7LL),
                     1);
    assert_string_equal(text, "a");
    free(text);
    assert_int_equal(db_query_text(f->db, "SELECT z FROM t WHERE k = ?", "finding", &text, &e, "s",
                                   "b"),
                     1);
    assert_null(text);
    text = (char *)"unset";
    assert_int_equal(db_query_text(f->db, "SELECT k FROM t WHERE n = ?", "finding", &text, &e, "I",
                                   8LL),
                     0);
    assert_null(text);
    /* An integer: a count, a missing row leaves *OUT alone. */
    assert_int_equal(db_query_int64(f->db, "SELECT count(*) FROM t", "counting", &n, &e, ""), 1);
    assert_int_equal(n, 2);
    assert_int_equal(db_query_int64(f->db, "SELECT n FROM t WHERE k = ?", "reading", &n, &e, "s",
                                    "zz"),
                     0);
    assert_int_equal(n, 2);
    /* Failures: the step, the bind, the SQL. */
    assert_int_equal(db_query_int64(f->db,
                                    "SELECT abs(n - 7 - 9223372036854775807 - 1) FROM t"
                                    " WHERE k = 'a'",
                                    "summing", &n, &e, ""),
                     -1);
    assert_non_null(strstr(err_msg(&e), "db: summing: integer overflow"));
    assert_int_equal(db_query_text(f->db, "SELECT k FROM t WHERE n = ?", "finding", &text, &e,
                                   "II", 1LL, 2LL),
                     -1);
    assert_null(text);
    assert_non_null(strstr(err_msg(&e), "binding parameter 2"));
    assert_int_equal(db_query_int64(f->db, "SELECT n FROM nowhere", "reading", &n, &e, ""), -1);
    assert_non_null(strstr(err_msg(&e), "no such table"));
}

/* db_rows_changed: what the last write through db_run changed. */
static void test_rows_changed(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;

    assert_int_equal(db_run(f->db, "INSERT INTO t(k, n) VALUES (?, ?), (?, ?)", "adding", &e,
                            "sisi", "a", 1, "b", 2),
                     0);
    assert_int_equal(db_rows_changed(f->db), 2);
    assert_int_equal(db_run(f->db, "UPDATE t SET n = ? WHERE k = ?", "updating", &e, "is", 3, "a"),
                     0);
    assert_int_equal(db_rows_changed(f->db), 1);
    assert_int_equal(db_run(f->db, "DELETE FROM t WHERE k = ?", "deleting", &e, "s", "zz"), 0);
    assert_int_equal(db_rows_changed(f->db), 0);
}

/* Rows as objects keyed by column names, from a cached statement with
 * bound parameters; a failing statement leaves *OUT NULL. */
static void test_query_objects(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    json_t *rows = NULL;
    char *text;

    insert(f->db, "a", 1, NULL, 0);
    insert(f->db, "b", 2, NULL, 0);
    insert(f->db, "c", 3, NULL, 0);
    assert_int_equal(db_query_objects(f->db, "SELECT k, n AS num FROM t WHERE n >= ?1 ORDER BY k",
                                      "listing", &rows, &e, "i", 2),
                     0);
    text = json_dumps(rows, JSON_COMPACT);
    assert_string_equal(text, "[{\"k\":\"b\",\"num\":2},{\"k\":\"c\",\"num\":3}]");
    free(text);
    json_decref(rows);
    /* no row: an empty array */
    assert_int_equal(db_query_objects(f->db, "SELECT k FROM t WHERE n > ?1", "listing", &rows, &e,
                                      "i", 9),
                     0);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
    /* a statement that fails while stepping says which listing */
    assert_int_equal(db_query_objects(f->db, "SELECT abs(-9223372036854775807 - 1)", "listing",
                                      &rows, &e, ""),
                     -1);
    assert_null(rows);
    assert_non_null(strstr(err_msg(&e), "db: listing"));
}

/* db_column_parse: a JSON document kept in a column, parsed with the
 * project's checks (duplicate keys refused). */
static void test_column_parse(void **state)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    json_t *v = NULL;
    struct err e = ERR_INIT;
    (void)state;

    /* only a statement is needed: a connection of its own */
    assert_int_equal(sqlite3_open(":memory:", &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT '{\"a\":1}', '{\"a\":1,\"a\":2}', NULL, '[1,'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(db_column_parse(st, 0, &v, &e), 0);
    assert_int_equal(json_integer_value(json_object_get(v, "a")), 1);
    json_decref(v);
    v = NULL;
    for (int i = 1; i <= 3; i++) {
        err_clear(&e);
        assert_int_equal(db_column_parse(st, i, &v, &e), -1);
        assert_null(v);
        assert_true(err_msg(&e)[0] != '\0');
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
}

CMOCKA_MAIN_WITH((.group = "db_rows", .setup = setup, .teardown = teardown, .secret = 1),
                 test_bind_and_step, test_rows_by_column_names, test_rows_through_a_function,
                 test_rows_step_failure, test_run, test_query_rows, test_query_text_and_int64,
                 test_rows_changed, test_query_objects, test_column_parse)
