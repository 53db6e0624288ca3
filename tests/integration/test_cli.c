/* Integration tests: the real civreg binary (init, db check, help, exit codes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "civreg_version.h"
#include "support/expect.h"
#include "support/support.h"

static char *dir;

TMP_DIR_FIXTURE(dir, "cli")

static void test_version_and_help(void **state)
{
    struct proc_result r;
    char want[64];
    (void)state;
    assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "--version", NULL }), 0);
    assert_int_equal(r.status, 0);
    snprintf(want, sizeof want, "civreg %s\n", CIVREG_VERSION);
    assert_string_equal(r.out, want);
    proc_result_free(&r);

    assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "help", NULL }), 0);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "init"));
    assert_non_null(strstr(r.out, "serve"));
    proc_result_free(&r);

    /* --help works on every command and subcommand. */
    static const char *const cmds[][3] = { { "init", "--help", NULL }, { "serve", "--help", NULL },
                                           { "db", "--help", NULL }, { "db", "check", "--help" },
                                           { "help", "db", "check" } };
    civreg_expect_help(cmds, sizeof cmds / sizeof cmds[0]);
}

static void test_usage_errors(void **state)
{
    (void)state;
    civreg_expect(NULL, 2, NULL, (const char *[]){ NULL });
    civreg_expect(NULL, 2, "unknown command 'frobnicate'", (const char *[]){ "frobnicate", NULL });
    civreg_expect(NULL, 2, NULL, (const char *[]){ "init", "--bogus", NULL });
    civreg_expect(NULL, 2, NULL, (const char *[]){ "--log-level", "loud", "help", NULL });
    civreg_expect(NULL, 1, "civreg init", (const char *[]){ "db", "check", "--data", "/nonexistent/civreg", NULL });
}

/* A fingerprint of every file below PATH: names, sizes, modes, mtimes and
 * contents hashed, so "nothing changed" can be checked exactly. */
static void fingerprint(const char *path, crypto_hash_sha256_state *h)
{
    struct dirent **names = NULL;
    int n = scandir(path, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        char p[4096];
        struct stat st;
        if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", path, names[i]->d_name);
            if (lstat(p, &st) == 0) {
                crypto_hash_sha256_update(h, (const unsigned char *)p, strlen(p));
                crypto_hash_sha256_update(h, (const unsigned char *)&st.st_mode, sizeof st.st_mode);
                crypto_hash_sha256_update(h, (const unsigned char *)&st.st_size, sizeof st.st_size);
                crypto_hash_sha256_update(h, (const unsigned char *)&st.st_mtim, sizeof st.st_mtim);
                if (S_ISDIR(st.st_mode)) {
                    fingerprint(p, h);
                } else {
                    size_t len = 0;
                    char *c = file_read(p, &len);
                    if (c)
                        crypto_hash_sha256_update(h, (unsigned char *)c, len);
                    free(c);
                }
            }
        }
        free(names[i]);
    }
    free(names);
}

static void tree_hash(const char *path, unsigned char out[32])
{
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    fingerprint(path, &h);
    crypto_hash_sha256_final(&h, out);
}

static void test_init_and_refuse(void **state)
{
    struct proc_result r;
    char data[4096], p[4200];
    struct stat st;
    unsigned char before[32], after[32];
    (void)state;

    snprintf(data, sizeof data, "%s/data", dir);
    civreg_expect(NULL, 0, NULL,
                  (const char *[]){ "init", "--data", data, "--country", "UTO", "--office",
                                    "DST01", "--office-name", "District 1 civil registry", NULL });
    snprintf(p, sizeof p, "%s/civreg.db", data);
    assert_int_equal(stat(p, &st), 0);
    snprintf(p, sizeof p, "%s/blobs", data);
    assert_int_equal(stat(p, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    snprintf(p, sizeof p, "%s/keys", data);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    snprintf(p, sizeof p, "%s/civreg.conf", data);
    char *conf = file_read(p, NULL);
    assert_non_null(conf);
    assert_non_null(strstr(conf, "office = DST01"));
    free(conf);

    /* Second init: refused, exit 1, nothing in the directory changed. */
    tree_hash(data, before);
    civreg_expect(NULL, 1, "already holds a civreg data directory", (const char *[]){ "init", "--data", data, NULL });
    tree_hash(data, after);
    assert_memory_equal(before, after, 32);

    /* A non-empty folder that is not a data directory: refused too. */
    snprintf(p, sizeof p, "%s/other", dir);
    mkdir(p, 0700);
    char f[4300];
    snprintf(f, sizeof f, "%s/notes.txt", p);
    file_write(f, "hello", 5);
    civreg_expect(NULL, 1, "not empty", (const char *[]){ "init", "--data", p, NULL });

    /* Bad country code: usage-level validation, nothing created. */
    snprintf(p, sizeof p, "%s/bad", dir);
    assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "init", "--data", p, "--country", "Utopia", NULL }), 0);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "country"));
    assert_int_equal(stat(p, &st), -1);
    proc_result_free(&r);
}

static void test_db_check(void **state)
{
    struct proc_result r;
    char data[4096], p[4200];
    (void)state;

    snprintf(data, sizeof data, "%s/data", dir);
    civreg_expect(NULL, 0, NULL, (const char *[]){ "init", "--data", data, NULL });
    assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "db", "check", "--data", data, NULL }), 0);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "ok"));
    proc_result_free(&r);

    /* A database file of random bytes. */
    unsigned char junk[16384];
    randombytes_buf(junk, sizeof junk);
    snprintf(p, sizeof p, "%s/civreg.db", data);
    assert_int_equal(file_write(p, junk, sizeof junk), 0);
    assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "db", "check", "--data", data, NULL }), 0);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out, "not a database"));
    assert_non_null(strstr(r.err, "problem"));
    proc_result_free(&r);
}

static void test_newer_schema(void **state)
{
    struct proc_result r;
    char data[4096], p[4200];
    sqlite3 *h = NULL;
    (void)state;

    snprintf(data, sizeof data, "%s/data", dir);
    assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "init", "--data", data, NULL }), 0);
    proc_result_free(&r);
    snprintf(p, sizeof p, "%s/civreg.db", data);
    assert_int_equal(sqlite3_open(p, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "INSERT INTO schema_migrations SELECT max(version)+1, "
                                     "'9999_future.sql', 'ff', '2099-01-01T00:00:00Z' FROM schema_migrations",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    civreg_expect(NULL, 1, "newer than this civreg knows", (const char *[]){ "db", "migrate", "--data", data, NULL });
    civreg_expect(NULL, 1, "upgrade civreg", (const char *[]){ "serve", "--data", data, "--listen", "127.0.0.1:0", NULL });
    assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "db", "check", "--data", data, NULL }), 0);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out, "newer than this civreg knows"));
    proc_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_and_help),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test_setup_teardown(test_init_and_refuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_db_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema, setup, teardown),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
