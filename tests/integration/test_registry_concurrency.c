/* Two processes registering 1,000 births each at the same time through the
 * registry API (draft by one clerk, blind verification by another,
 * registration by a registrar: three transactions and three signed events
 * per record). All 2,000 must be stored, no "database is locked" may reach
 * the caller, and the log must verify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/secret.h"
#include "db/datadir.h"
#include "db/db.h"
#include "registry/registry.h"
#include "support/inproc.h"
#include "support/cmocka_main.h"
#include "support/support.h"

#define PER_PROCESS 1000

static char *dir;

static int setup(void **state)
{
    struct datadir *dd = NULL;
    struct db *db = NULL;
    struct registry_actor *admin;
    char path[4096];
    (void)state;

    admin = inproc_first_admin("registry-conc", &dir, path, sizeof path, &dd, &db,
                               "nimda-tundra-ferns-61");
    inproc_user_add(db, dd->keys_dir, admin, "clerk-a", ROLE_CLERK, "a-krelc-tundra-ferns-61");
    inproc_user_add(db, dd->keys_dir, admin, "clerk-b", ROLE_CLERK, "b-krelc-tundra-ferns-61");
    inproc_user_add(db, dd->keys_dir, admin, "registrar", ROLE_REGISTRAR,
                    "rartsiger-tundra-ferns-61");
    registry_actor_free(admin);
    db_close(db);
    datadir_free(dd);
    return 0;
}

TMP_DIR_TEARDOWN(dir)

/* A made-up name for number K (base-20 syllables), so that every child of
 * the test is a different person to duplicate detection. */
static void syllable_name(unsigned k, char *out, size_t size)
{
    static const char *const syl[] = { "ka", "mo", "te", "ri", "su", "na", "lo", "bi", "du", "fe",
                                       "gu", "ha", "ji", "ko", "ly", "me", "no", "pa", "ro", "sa" };
    size_t len = 0;
    k = k * 2654435761u % 160000u;
    for (int i = 0; i < 4 && len + 3 < size; i++, k /= 20) {
        memcpy(out + len, syl[k % 20], 2);
        len += 2;
    }
    out[len] = '\0';
    out[0] = (char)(out[0] - 32);
}

/* One worker process: returns its exit status; errors go to FD. */
static int worker(int id, int fd)
{
    struct datadir *dd = NULL;
    struct db *db = NULL;
    struct registry_actor *a = NULL, *b = NULL, *r = NULL;
    struct err err = ERR_INIT;
    char path[4096];
    json_t *rec = registry_record_example();

    snprintf(path, sizeof path, "%s/data", dir);
    if (datadir_open(path, &dd, &err) != 0 || datadir_db_open(dd, 0, &db, &err) != 0 ||
        registry_authenticate(db, dd->keys_dir, "clerk-a", "a-krelc-tundra-ferns-61", &a, &err) != 0 ||
        registry_authenticate(db, dd->keys_dir, "clerk-b", "b-krelc-tundra-ferns-61", &b, &err) != 0 ||
        registry_authenticate(db, dd->keys_dir, "registrar", "rartsiger-tundra-ferns-61", &r, &err) != 0) {
        dprintf(fd, "worker %d: %s\n", id, err_msg(&err));
        return 1;
    }
    for (int i = 0; i < PER_PROCESS; i++) {
        char name[64], *rid = NULL;
        json_t *res = NULL;
        unsigned k = (unsigned)(id * PER_PROCESS + i);
        char date[16];
        /* a different child each time: names, mother and birth date */
        syllable_name(k, name, sizeof name);
        json_object_set_new(json_object_get(rec, "child"), "given_names", json_string(name));
        syllable_name(k + 7919u, name, sizeof name);
        json_object_set_new(json_object_get(rec, "child"), "family_name", json_string(name));
        syllable_name(k + 104729u, name, sizeof name);
        json_object_set_new(json_object_get(rec, "mother"), "given_names", json_string(name));
        snprintf(date, sizeof date, "%04u-%02u-%02u", 1920u + k % 100u, 1u + k / 100u % 12u,
                 1u + k % 28u);
        json_object_set_new(json_object_get(rec, "birth"), "date", json_string(date));
        json_object_del(rec, "registration_date");
        if (registry_record_draft(db, a, rec, &rid, &err) != 0 ||
            registry_record_verify(db, b, rid, rec, NULL, &err) != 0 ||
            registry_record_register(db, r, rid, &res, &err) != 0) {
            dprintf(fd, "worker %d record %d: %s\n", id, i, err_msg(&err));
            free(rid);
            return 1;
        }
        free(rid);
        json_decref(res);
    }
    json_decref(rec);
    registry_actor_free(a);
    registry_actor_free(b);
    registry_actor_free(r);
    db_close(db);
    datadir_free(dd);
    return 0;
}

static void count_problem(void *ctx, const char *line)
{
    (void)ctx;
    print_message("audit: %s\n", line);
}

static void test_two_processes(void **state)
{
    int p[2];
    pid_t pids[2];
    char errors[8192] = "";
    size_t off = 0;
    ssize_t n;
    (void)state;

    assert_int_equal(pipe(p), 0);
    for (int k = 0; k < 2; k++) {
        pids[k] = fork();
        assert_true(pids[k] >= 0);
        if (pids[k] == 0) {
            close(p[0]);
            _exit(worker(k, p[1]));
        }
    }
    close(p[1]);
    while ((n = read(p[0], errors + off, sizeof errors - 1 - off)) > 0)
        off += (size_t)n;
    errors[off] = '\0';
    close(p[0]);
    for (int k = 0; k < 2; k++) {
        int st = 0;
        assert_int_equal(waitpid(pids[k], &st, 0), pids[k]);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            fail_msg("worker %d failed: %s", k, errors);
    }
    assert_null(strstr(errors, "locked"));
    assert_string_equal(errors, "");

    {
        struct datadir *dd = NULL;
        struct db *db = NULL;
        struct err err = ERR_INIT;
        struct registry_audit_stats stats;
        sqlite3_stmt *st = NULL;
        char path[4096];
        int problems;
        snprintf(path, sizeof path, "%s/data", dir);
        assert_int_equal(datadir_open(path, &dd, &err), 0);
        assert_int_equal(datadir_db_open(dd, 0, &db, &err), 0);
        st = sqlite_row(db_handle(db), "SELECT count(*), count(DISTINCT uin),"
                                       " count(DISTINCT registration_number) FROM birth_records"
                                       " WHERE status='registered'");
        assert_int_equal(sqlite3_column_int(st, 0), 2 * PER_PROCESS);
        assert_int_equal(sqlite3_column_int(st, 1), 2 * PER_PROCESS);
        assert_int_equal(sqlite3_column_int(st, 2), 2 * PER_PROCESS);
        sqlite3_finalize(st);
        problems = registry_audit_verify(db, dd->keys_dir, dd->blobs_dir, NULL, count_problem,
                                         NULL, &stats, &err);
        assert_int_equal(problems, 0);
        /* 1 office key + 4 users + 3 events per record */
        assert_int_equal(stats.events, 5 + 3 * 2 * PER_PROCESS);
        db_close(db);
        datadir_free(dd);
    }
}

struct collect {
    char text[8192];
    size_t len;
};

static void collect_problem(void *ctx, const char *line)
{
    struct collect *c = ctx;
    int n = snprintf(c->text + c->len, sizeof c->text - c->len, "%s\n", line);
    if (n > 0 && (size_t)n < sizeof c->text - c->len)
        c->len += (size_t)n;
}

/* registry_event_append is open to every module; a validly signed event
 * that breaks the registry's rules must still be reported by the audit. */
static void test_forged_events(void **state)
{
    struct datadir *dd = NULL;
    struct db *db = NULL;
    struct registry_actor *clerk = NULL;
    struct err err = ERR_INIT;
    struct collect c = { "", 0 };
    char path[4096];
    json_t *objects, *data;
    (void)state;

    snprintf(path, sizeof path, "%s/data", dir);
    assert_int_equal(datadir_open(path, &dd, &err), 0);
    assert_int_equal(datadir_db_open(dd, 0, &db, &err), 0);
    assert_int_equal(registry_authenticate(db, dd->keys_dir, "clerk-a", "a-krelc-tundra-ferns-61",
                                           &clerk, &err), 0);
    /* the evidence store through the API: put, dedup, get (re-hashed), info */
    {
        char h1[65], h2[65], fpath[4200];
        unsigned char *p = NULL;
        size_t len = 0;
        json_t *info = NULL;
        assert_int_equal(registry_blob_put(db, dd->blobs_dir, clerk, "page 7", 6, "image/png", h1,
                                           &err), 0);
        assert_int_equal(registry_blob_put(db, dd->blobs_dir, clerk, "page 7", 6, "image/png", h2,
                                           &err), 0);
        assert_string_equal(h1, h2);
        assert_int_equal(registry_blob_get(db, dd->blobs_dir, h1, &p, &len, &err), 0);
        assert_int_equal(len, 6);
        assert_memory_equal(p, "page 7", 6);
        free(p);
        assert_int_equal(registry_blob_info(db, h1, &info, &err), 0);
        assert_string_equal(json_string_value(json_object_get(info, "media_type")), "image/png");
        json_decref(info);
        assert_int_not_equal(registry_blob_put(db, dd->blobs_dir, clerk, "x", 1, "Image PNG", h2,
                                               &err), 0);
        snprintf(fpath, sizeof fpath, "%s/%.2s/%.2s/%s", dd->blobs_dir, h1, h1 + 2, h1);
        assert_int_equal(chmod(fpath, 0600), 0);
        assert_int_equal(file_write(fpath, "page 8", 6), 0);
        assert_int_not_equal(registry_blob_get(db, dd->blobs_dir, h1, &p, &len, &err), 0);
        assert_non_null(strstr(err_msg(&err), "content changed"));
        assert_int_equal(chmod(fpath, 0600), 0);
        assert_int_equal(file_write(fpath, "page 7", 6), 0);
    }
    objects = json_pack("[o]", registry_object_ref("user", "mallory", NULL, NULL));
    data = json_pack("{s:s, s:s, s:[s], s:s}", "username", "mallory", "office", "HQ", "roles",
                     "registrar", "public_key",
                     "0000000000000000000000000000000000000000000000000000000000000000");
    assert_int_equal(registry_event_append(db, clerk, "user.add", objects, data, NULL, &err), 0);
    json_decref(objects);
    json_decref(data);
    assert_true(registry_audit_verify(db, dd->keys_dir, dd->blobs_dir, NULL, collect_problem, &c,
                                      NULL, &err) > 0);
    assert_non_null(strstr(c.text, "user 'mallory' added by 'clerk-a', who is not an admin"));
    registry_actor_free(clerk);
    db_close(db);
    datadir_free(dd);
}

CMOCKA_MAIN_WITH((.group_setup = setup, .group_teardown = teardown, .secret = 1),
                 test_two_processes, test_forged_events)
