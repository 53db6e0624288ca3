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

#include "support/expect.h"
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
    civreg_expect(NULL, 0, NULL, (const char *[]){ "init", "--data", data, NULL });
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

/* One damaged migration record and what `db check` must say about it. */
struct version_case {
    const char *tag, *which, *version;
    const char *want[4]; /* phrases of its report, NULL-terminated */
};

static const struct version_case cases[] = {
    /* migration 1 is then missing from the sequence */
    { "zero", "first", "0",
      { "version 0 (0001_", "migration numbers start at 1", "recorded where 1 was expected" } },
    { "negative", "last", "-5", { "version -5 (", "migration numbers start at 1", "1 pending" } },
    { "past", "last", "999",
      { "version 999 recorded where", "schema version 999 (", "newer than this civreg knows" } },
    /* 2^32 + 1 reads as 1 through a 32-bit column accessor */
    { "huge", "last", "4294967297",
      { "schema version 4294967297 (", "newer than this civreg knows" } },
};

static void test_version(void **state)
{
    const struct version_case *c = *state;
    struct proc_result r = check_with(c->tag, c->which, c->version);

    for (size_t i = 0; i < sizeof c->want / sizeof c->want[0] && c->want[i] != NULL; i++)
        if (strstr(r.out, c->want[i]) == NULL)
            fail_msg("db check with version %s: no '%s' in\n%s", c->version, c->want[i], r.out);
    proc_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        { "test_version_zero", test_version, NULL, NULL, (void *)&cases[0] },
        { "test_version_negative", test_version, NULL, NULL, (void *)&cases[1] },
        { "test_version_past_the_end", test_version, NULL, NULL, (void *)&cases[2] },
        { "test_version_beyond_int", test_version, NULL, NULL, (void *)&cases[3] },
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
