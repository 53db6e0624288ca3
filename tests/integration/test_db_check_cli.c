/* Integration: `civreg db check` on a database whose schema_migrations
 * table was edited by hand. A recorded version of 0, a negative one, one
 * past the binary's last migration and one beyond the range of an int name
 * no embedded migration: the check must report each clearly and exit 1,
 * never index the embedded migrations with it (which ASan would catch as a
 * global buffer overflow). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "support/support.h"

static char *dir;

TMP_DIR_FIXTURE(dir, "db-check-cli")

/* A fresh data directory whose migration WHICH ("first" or "last") is
 * recorded as VERSION; returns the output of `civreg db check`. */
static struct proc_result check_with(const char *tag, const char *which, const char *version)
{
    struct proc_result r;
    char data[4096], p[4200], sql[256];
    sqlite3 *h = NULL;

    snprintf(data, sizeof data, "%s/%s", dir, tag);
    assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "init", "--data", data, NULL }), 0);
    assert_int_equal(r.status, 0);
    proc_result_free(&r);
    snprintf(p, sizeof p, "%s/civreg.db", data);
    snprintf(sql, sizeof sql,
             "UPDATE schema_migrations SET version = %s WHERE version = "
             "(SELECT %s(version) FROM schema_migrations)",
             version, strcmp(which, "first") == 0 ? "min" : "max");
    assert_int_equal(sqlite3_open(p, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_changes(h), 1);
    sqlite3_close(h);
    assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "db", "check", "--data", data, NULL }), 0);
    if (r.status != 1 || strstr(r.err, "problem") == NULL || strstr(r.err, "Sanitizer") ||
        strstr(r.err, "runtime error"))
        fail_msg("db check with version %s (%s): exit %d\nout: %s\nerr: %s", version, which,
                 r.status, r.out, r.err);
    return r;
}

static void test_version_zero(void **state)
{
    struct proc_result r = check_with("zero", "first", "0");
    (void)state;
    assert_non_null(strstr(r.out, "version 0 (0001_"));
    assert_non_null(strstr(r.out, "migration numbers start at 1"));
    /* migration 1 is now missing from the sequence */
    assert_non_null(strstr(r.out, "recorded where 1 was expected"));
    proc_result_free(&r);
}

static void test_version_negative(void **state)
{
    struct proc_result r = check_with("negative", "last", "-5");
    (void)state;
    assert_non_null(strstr(r.out, "version -5 ("));
    assert_non_null(strstr(r.out, "migration numbers start at 1"));
    assert_non_null(strstr(r.out, "1 pending"));
    proc_result_free(&r);
}

static void test_version_past_the_end(void **state)
{
    struct proc_result r = check_with("past", "last", "999");
    (void)state;
    assert_non_null(strstr(r.out, "version 999 recorded where"));
    assert_non_null(strstr(r.out, "schema version 999 ("));
    assert_non_null(strstr(r.out, "newer than this civreg knows"));
    proc_result_free(&r);
}

static void test_version_beyond_int(void **state)
{
    /* 2^32 + 1 reads as 1 through a 32-bit column accessor */
    struct proc_result r = check_with("huge", "last", "4294967297");
    (void)state;
    assert_non_null(strstr(r.out, "schema version 4294967297 ("));
    assert_non_null(strstr(r.out, "newer than this civreg knows"));
    proc_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_zero),
        cmocka_unit_test(test_version_negative),
        cmocka_unit_test(test_version_past_the_end),
        cmocka_unit_test(test_version_beyond_int),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
