#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "national.h"
#include "support.h"

#define PG_CLUSTER CIVREG_SOURCE_DIR "/tests/support/pg_cluster.sh"

int pg_cluster(const char *cmd, const char *dir, const char *mode, const char *primary,
               char *url_out, size_t url_size)
{
    char *argv[] = { (char *)PG_CLUSTER, (char *)cmd, (char *)dir, (char *)mode,
                     (char *)primary, NULL };
    struct proc_result r;
    int st;
    if (mode == NULL)
        argv[3] = NULL;
    if (proc_run(argv, NULL, 0, 180, &r) != 0)
        return -1;
    st = r.status;
    if (st != 0 && st != 77)
        print_message("pg_cluster.sh %s: %s\n", cmd, r.err);
    if (url_out && st == 0) {
        char *nl;
        text_chomp(r.out);
        nl = strrchr(r.out, '\n');
        snprintf(url_out, url_size, "%s", nl ? nl + 1 : r.out);
    }
    proc_result_free(&r);
    return st;
}

char *psql(const char *url, const char *sql)
{
    char *argv[] = { (char *)"/usr/bin/psql", (char *)url, (char *)"-Atq", (char *)"-c",
                     (char *)sql, NULL };
    struct proc_result r;
    char *out, *nl;
    assert_int_equal(proc_run(argv, NULL, 0, 60, &r), 0);
    if (r.status != 0)
        fail_msg("psql %s: %s", sql, r.err);
    out = r.out;
    r.out = NULL;
    proc_result_free(&r);
    if ((nl = strrchr(out, '\n')) != NULL && nl[1] == '\0')
        *nl = '\0';
    return out;
}

long psql_long(const char *url, const char *sql)
{
    char *s = psql(url, sql);
    long v = strtol(s, NULL, 10);
    free(s);
    return v;
}

int national_setup(struct national *n, const char *tag)
{
    char *out;
    int st;

    memset(n, 0, sizeof *n);
    n->serve_pid = -1;
    if (sodium_init() < 0 || (n->root = tmp_dir(tag)) == NULL)
        return -1;
    chmod(n->root, 0755);
    snprintf(n->pg_dir, sizeof n->pg_dir, "%s/pg", n->root);
    st = pg_cluster("start", n->pg_dir, NULL, NULL, n->pg_url, sizeof n->pg_url);
    if (st == 77) {
        print_message("SKIP: PostgreSQL 15 server binaries are not installed (install/deps.sh)\n");
        tmp_remove(n->root);
        exit(77);
    }
    if (st != 0)
        return -1;
    if (pw_file(n->root, "admin", STAFF_PW_ADMIN, n->pw_admin, sizeof n->pw_admin) != 0 ||
        pw_file(n->root, "clerk1", STAFF_PW_CLERK1, n->pw_c1, sizeof n->pw_c1) != 0 ||
        pw_file(n->root, "clerk2", STAFF_PW_CLERK2, n->pw_c2, sizeof n->pw_c2) != 0 ||
        pw_file(n->root, "reg", STAFF_PW_REG, n->pw_reg, sizeof n->pw_reg) != 0)
        return -1;
    civreg_ok(NULL, (const char *[]){ "national", "init", "--pg", n->pg_url, NULL });
    out = civreg_run_ok(NULL, (const char *[]){ "record", "draft", "--example", NULL });
    n->example = json_loads(out, 0, NULL);
    free(out);
    return n->example ? 0 : -1;
}

void national_teardown(struct national *n)
{
    national_serve_stop(n, SIGTERM);
    (void)pg_cluster("stop", n->pg_dir, NULL, NULL, NULL, 0);
    json_decref(n->example);
    n->example = NULL;
    if (getenv("CIVREG_KEEP_TMP") == NULL)
        tmp_remove(n->root);
    free(n->root);
    n->root = NULL;
}

void national_serve_start(struct national *n, const char *pg_url, const char *const extra[],
                          const char *scheme)
{
    const char *argv[16] = { CIVREG_BIN, "national", "serve", "--pg",
                             pg_url,     "--listen", "127.0.0.1:0" };
    char line[256];
    const char *p;
    int fd, k = 7;
    for (int i = 0; extra[i] && k < 15; i++)
        argv[k++] = extra[i];
    argv[k] = NULL;
    assert_int_equal(proc_spawn((char *const *)argv, &n->serve_pid, &fd), 0);
    assert_int_equal(proc_read_line(fd, line, sizeof line, 60), 0);
    close(fd);
    p = strstr(line, "127.0.0.1:");
    assert_non_null(p);
    n->serve_port = (int)strtol(p + 10, NULL, 10);
    snprintf(n->serve_url, sizeof n->serve_url, "%s://127.0.0.1:%d", scheme, n->serve_port);
}

void national_serve_stop(struct national *n, int sig)
{
    if (n->serve_pid > 0) {
        kill(n->serve_pid, sig);
        (void)proc_wait(n->serve_pid, 30);
        n->serve_pid = -1;
    }
}

void national_district(struct national *n, const char *office, char *data, size_t size)
{
    snprintf(data, size, "%s/district-%s", n->root, office);
    civreg_ok(NULL, (const char *[]){ "init", "--data", data, "--office", office, NULL });
    civreg_staff_add(data, n->root, "clerk", "registrar,auditor", n->pw_admin, n->pw_c1,
                     n->pw_c2, n->pw_reg);
}

json_t *national_audit_head(const char *data)
{
    char *out = civreg_run_ok(NULL, (const char *[]){ "audit", "head", "--data", data, NULL });
    json_t *h = json_loads(out, 0, NULL);
    free(out);
    assert_non_null(h);
    return h;
}

char *national_office_key(const char *data)
{
    json_t *h = national_audit_head(data);
    char *k = strdup(json_string_value(json_object_get(h, "office_public_key")));
    json_decref(h);
    return k;
}

void fixture_office_add(struct national *n, const char *office, const char *key)
{
    civreg_ok(NULL, (const char *[]){ "national", "office-add", "--pg", n->pg_url, "--office",
                                      office, "--key", key, NULL });
}

void national_district_registered(struct national *n, const char *office, char *data,
                                  size_t size)
{
    char *key;
    national_district(n, office, data, size);
    key = national_office_key(data);
    fixture_office_add(n, office, key);
    free(key);
}

long national_local_size(const char *data)
{
    json_t *h = national_audit_head(data);
    long size = (long)json_integer_value(json_object_get(h, "tree_size"));
    json_decref(h);
    return size;
}

char *national_record_json(const struct national *n, const char *given, const char *date)
{
    json_t *r = json_deep_copy(n->example);
    char *s;
    json_object_set_new(json_object_get(r, "child"), "given_names", json_string(given));
    json_object_set_new(json_object_get(r, "birth"), "date", json_string(date));
    json_object_del(r, "registration_date");
    s = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    return s;
}

char *national_draft_verified(const struct national *n, const char *data, const char *given,
                              const char *date)
{
    char *rec = national_record_json(n, given, date), *id;
    id = civreg_run_ok(rec, (const char *[]){ "record", "draft", "--data", data, "--user",
                                              "clerk1", "--password-file", n->pw_c1, NULL });
    text_chomp(id);
    civreg_ok(rec, (const char *[]){ "record", "verify", id, "--data", data, "--user", "clerk2",
                                     "--password-file", n->pw_c2, NULL });
    free(rec);
    return id;
}

int national_try_register(const struct national *n, const char *data, const char *id,
                          char uin[16], char **errout)
{
    struct proc_result r;
    int st;
    assert_int_equal(civreg_run(NULL, &r,
                                (const char *[]){ "record", "register", id, "--data", data,
                                                  "--user", "reg", "--password-file", n->pw_reg,
                                                  NULL }),
                     0);
    st = r.status;
    if (st == 0) {
        json_t *res = json_loads(r.out, 0, NULL);
        assert_non_null(res);
        snprintf(uin, 16, "%s", json_string_value(json_object_get(res, "uin")));
        json_decref(res);
    } else if (errout) {
        *errout = r.err;
        r.err = NULL;
    }
    proc_result_free(&r);
    return st;
}

void national_register_birth(const struct national *n, const char *data, const char *given,
                             const char *date, char uin[16])
{
    char *id = national_draft_verified(n, data, given, date), *e = NULL;
    if (national_try_register(n, data, id, uin, &e) != 0)
        fail_msg("register %s: %s", id, e ? e : "");
    free(id);
}
