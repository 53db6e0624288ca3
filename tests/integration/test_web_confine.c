/* Integration tests (a `serve --demo` office) of what a signed-in user may
 * reach beyond the route table: stored files only through the object that
 * lists them, a signed record.view for every answer that carries a record
 * in full (and no data when it cannot be logged), and no record of another
 * office. Built only with the registry module. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "core/encode.h"
#include "support/server_fixture.h"
#include "support/expect.h"
#include "support/cmocka_main.h"
#include "support/support.h"
#include "support/webtest.h"
#include "web/web.h"
#include "web/web_int.h"

static char *dir;
static char data[4096], dbpath[4200], pwfile[4200];
static struct test_server server;

/* A registered demo record, its UIN, family name and evidence hash. */
static char rec_id[128], uin[32], family[128], scan_hash[80];

static int sign_in(const char *user, const char *password, struct test_session *l)
{
    int st = web_sign_in(server.port, user, password, NULL, l);
    return st == 200 ? 0 : st;
}

static struct test_session as(const char *user, const char *password)
{
    struct test_session l;
    memset(&l, 0, sizeof l);
    if (sign_in(user, password, &l) != 0)
        fail_msg("cannot sign in as %s", user);
    return l;
}

/* The route TPL ("/api/v1/records/{id}") with ID in place of its
 * parameter, into OUT (SIZE bytes). */
static void fill(char *out, size_t size, const char *tpl, const char *id)
{
    const char *at = strchr(tpl, '{'), *end = at ? strchr(at, '}') : NULL;
    assert_non_null(end);
    snprintf(out, size, "%.*s%s%s", (int)(at - tpl), tpl, id, end + 1);
}

static int get(const struct test_session *l, const char *path, struct http_response *r)
{
    return http_request(server.port, "GET", path, l->cookie, NULL, 0, r);
}

static int get_status(const struct test_session *l, const char *path)
{
    struct http_response r;
    int st;
    assert_int_equal(get(l, path, &r), 0);
    st = r.status;
    http_response_free(&r);
    return st;
}

static int post(const struct test_session *l, const char *path, const char *type, const void *body,
                size_t len, struct http_response *r)
{
    char hdr[512];
    snprintf(hdr, sizeof hdr, "%sX-CSRF-Token: %s\r\nContent-Type: %s\r\n", l->cookie, l->csrf,
             type);
    return http_request(server.port, "POST", path, hdr, body, len, r);
}

/* GET PATH as L answers STATUS, its body with HAS and without LACKS (each
 * unchecked when NULL). */
static void get_expect(const struct test_session *l, const char *path, int status,
                       const char *has, const char *lacks)
{
    struct http_response r;

    assert_int_equal(get(l, path, &r), 0);
    assert_int_equal(r.status, status);
    if (has != NULL)
        assert_non_null(strstr(r.body, has));
    if (lacks != NULL)
        assert_null(strstr(r.body, lacks));
    http_response_free(&r);
}

static void sql_exec(const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 30000);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

static int setup(void **state)
{
    char line[512];
    struct http_response r;
    json_t *j, *row;
    (void)state;

    /* the usual umask: files the server makes would be 0644 under it */
    umask(022);
    if (server_start_demo(&server, "webconfine", &dir, data, sizeof data) != 0 ||
        proc_read_line(server.out_fd, line, sizeof line, 30) != 0)
        return -1;
    snprintf(dbpath, sizeof dbpath, "%s/civreg.db", data);
    snprintf(pwfile, sizeof pwfile, "%s/admin.pw", dir);
    if (file_write(pwfile, "demo\n", 5) != 0)
        return -1;
    struct test_session reg;
    if (sign_in("registrar", "demo", &reg) != 0 ||
        http_request(server.port, "GET", "/api/v1/records?status=registered&limit=1", reg.cookie, NULL,
                     0, &r) != 0 || r.status != 200)
        return -1;
    j = http_body_json(&r);
    http_response_free(&r);
    row = json_array_get(json_object_get(j, "records"), 0);
    snprintf(rec_id, sizeof rec_id, "%s", json_string_value(json_object_get(row, "id")));
    snprintf(uin, sizeof uin, "%s", json_string_value(json_object_get(row, "uin")));
    snprintf(family, sizeof family, "%s", json_string_value(json_object_get(row, "family_name")));
    json_decref(j);
    snprintf(line, sizeof line, "/api/v1/records/%s", rec_id);
    if (http_request(server.port, "GET", line, reg.cookie, NULL, 0, &r) != 0 || r.status != 200)
        return -1;
    j = http_body_json(&r);
    http_response_free(&r);
    snprintf(scan_hash, sizeof scan_hash, "%s",
             json_string_value(json_array_get(
                 json_object_get(json_object_get(j, "record"), "evidence"), 0)));
    json_decref(j);
    return rec_id[0] && uin[0] && family[0] && strlen(scan_hash) == 64 ? 0 : -1;
}

SERVER_TEARDOWN(server, dir)

/* ---- stored files only through their object -------------------------------- */

static void test_evidence_through_objects(void **state)
{
    const char *everyone[] = { "clerk", "registrar", "enrol", "approver", "auditor", NULL };
    struct test_session clerk = as("clerk", "demo");
    struct http_response r;
    char path[512], ct[64], loose[80];
    json_t *j;
    (void)state;

    /* The generic route is gone for every role. */
    snprintf(path, sizeof path, "/api/v1/evidence/%s", scan_hash);
    for (const char **u = everyone; *u; u++) {
        struct test_session l = as(*u, "demo");
        int st = get_status(&l, path);
        if (st != 404)
            fail_msg("GET %s as %s: want 404, got %d", path, *u, st);
    }
    /* The record serves the scans it lists, to the roles that read it. */
    snprintf(path, sizeof path, "/api/v1/records/%s/evidence/%s", rec_id, scan_hash);
    for (const char **u = everyone; *u; u++) {
        struct test_session l = as(*u, "demo");
        assert_int_equal(get(&l, path, &r), 0);
        if (r.status != 200)
            fail_msg("GET %s as %s: want 200, got %d %s", path, *u, r.status, r.body);
        assert_int_equal(http_header(&r, "Content-Type", ct, sizeof ct), 0);
        assert_string_equal(ct, "image/png");
        http_response_free(&r);
    }
    struct test_session admin = as("admin", "demo");
    assert_int_equal(get_status(&admin, path), 403);
    /* A file in the store that the record does not list: not served
     * through it, whoever asks. */
    static const char secret[] = "\x89PNG\r\n\x1a\n another person's scan";
    assert_int_equal(post(&clerk, "/api/v1/evidence", "image/png", secret, sizeof secret - 1, &r),
                     0);
    assert_int_equal(r.status, 201);
    j = http_body_json(&r);
    snprintf(loose, sizeof loose, "%s", json_string_value(json_object_get(j, "hash")));
    json_decref(j);
    http_response_free(&r);
    snprintf(path, sizeof path, "/api/v1/records/%s/evidence/%s", rec_id, loose);
    get_expect(&clerk, path, 404, NULL, "another person");
    snprintf(path, sizeof path, "/api/v1/evidence/%s", loose);
    assert_int_equal(get_status(&clerk, path), 404);

#ifdef CIVREG_HAVE_PASSPORT
    /* A passport applicant's photo: the application's route, for the
     * passport office's roles; a clerk has no way to it. */
    struct test_session enrol = as("enrol", "demo");
    char photo_path[4200], *photo, *photo64, *body, app_id[128], photo_hash[80];
    size_t photo_len = 0;
    snprintf(photo_path, sizeof photo_path, "%s/issuance/portrait.jpg", CIVREG_TEST_DATA);
    photo = file_read(photo_path, &photo_len);
    assert_non_null(photo);
    photo64 = b64_encode(photo, photo_len);
    j = json_pack("{s:s,s:s,s:s}", "uin", uin, "doc_type", "TD3", "photo", photo64);
    body = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    assert_int_equal(post(&enrol, "/api/v1/applications", "application/json", body, strlen(body),
                          &r), 0);
    if (r.status != 201 && r.status != 200)
        fail_msg("enrol: %d %s", r.status, r.body);
    j = http_body_json(&r);
    snprintf(app_id, sizeof app_id, "%s", json_string_value(json_object_get(j, "id")));
    json_decref(j);
    http_response_free(&r);
    free(body);
    free(photo64);
    snprintf(path, sizeof path, "/api/v1/applications/%s", app_id);
    assert_int_equal(get(&enrol, path, &r), 0);
    assert_int_equal(r.status, 200);
    j = http_body_json(&r);
    snprintf(photo_hash, sizeof photo_hash, "%s",
             json_string_value(json_object_get(j, "photo_hash")));
    json_decref(j);
    http_response_free(&r);
    assert_int_equal(strlen(photo_hash), 64);
    /* the attack: the clerk fetches the photo by its hash */
    snprintf(path, sizeof path, "/api/v1/evidence/%s", photo_hash);
    assert_int_equal(get_status(&clerk, path), 404);
    snprintf(path, sizeof path, "/api/v1/records/%s/evidence/%s", rec_id, photo_hash);
    assert_int_equal(get_status(&clerk, path), 404);
    snprintf(path, sizeof path, "/api/v1/applications/%s/photo", app_id);
    assert_int_equal(get_status(&clerk, path), 403);
    assert_int_equal(get(&enrol, path, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, photo_len);
    assert_memory_equal(r.body, photo, photo_len);
    http_response_free(&r);
    free(photo);
#endif
}

/* ---- every full view of a record is logged ------------------------------- */

/* The record.view events naming REC_ID, from the command line's trace
 * (which itself logs nothing); the "via" of the last in LAST_VIA. */
static size_t views(char *last_via, size_t size)
{
    struct proc_result pr;
    json_t *j, *ev;
    size_t i, n = 0;

    assert_int_equal(civreg_run(NULL, &pr, (const char *[]){ "audit", "trace", rec_id, "--data",
                                                             data, NULL }),
                     0);
    if (pr.status != 0)
        fail_msg("audit trace: %s", pr.err);
    j = json_loads(pr.out, 0, NULL);
    proc_result_free(&pr);
    assert_non_null(j);
    if (last_via)
        last_via[0] = '\0';
    json_array_foreach(json_object_get(j, "events"), i, ev) {
        if (strcmp(json_string_value(json_object_get(ev, "type")), "record.view") != 0)
            continue;
        n++;
        if (last_via)
            snprintf(last_via, size, "%s",
                     json_string_value(json_object_get(json_object_get(ev, "data"), "via"))
                         ? json_string_value(json_object_get(json_object_get(ev, "data"), "via"))
                         : "");
    }
    json_decref(j);
    return n;
}

static void test_views_logged(void **state)
{
    struct test_session reg = as("registrar", "demo");
    static const char *const routes[] = { "/api/v1/records/{id}", "/api/v1/records/{id}/history",
                                          "/api/v1/audit/trace/{id}", "/api/v1/audit/bundle/{id}",
                                          "/api/v1/persons/{uin}" };
    struct http_response r;
    char path[256], via[128];
    (void)state;

    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        size_t before = views(NULL, 0);
        fill(path, sizeof path, routes[i], strstr(routes[i], "{uin}") ? uin : rec_id);
        assert_int_equal(get(&reg, path, &r), 0);
        if (r.status != 200)
            fail_msg("GET %s: %d %s", path, r.status, r.body);
        assert_non_null(strstr(r.body, family));
        http_response_free(&r);
        if (views(via, sizeof via) != before + 1)
            fail_msg("GET %s logged no record.view", path);
        if (i > 0)
            assert_string_equal(via, routes[i]);
    }

    /* When the view cannot be logged, the data does not go out. */
    sql_exec("CREATE TRIGGER test_refuse_views BEFORE INSERT ON events"
            " WHEN NEW.type = 'record.view' BEGIN SELECT RAISE(ABORT, 'views refused'); END;");
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        fill(path, sizeof path, routes[i], strstr(routes[i], "{uin}") ? uin : rec_id);
        assert_int_equal(get(&reg, path, &r), 0);
        if (r.status != 500)
            fail_msg("GET %s with views refused: want 500, got %d", path, r.status);
        assert_null(strstr(r.body, family));
        assert_null(strstr(r.body, rec_id + 5));
        http_response_free(&r);
    }
    sql_exec("DROP TRIGGER test_refuse_views;");
    snprintf(path, sizeof path, "/api/v1/records/%s/history", rec_id);
    assert_int_equal(get_status(&reg, path), 200);
}

/* ---- offices ------------------------------------------------------------- */

/* A second office known to this node, with a clerk-registrar of its own:
 * neither reads nor registers the first office's records. */
static void test_other_office(void **state)
{
    struct test_session reg = as("registrar", "demo");
    struct http_response r;
    struct proc_result pr;
    char path[256], verified[128];
    json_t *j;
    (void)state;

    sql_exec("INSERT INTO offices(code, name, country, created_at) VALUES"
            " ('OTH', 'Other district', 'UTO', '2026-01-01T00:00:00Z');");
    assert_int_equal(civreg_run("demo-other-pw\n", &pr,
                                (const char *[]){ "user", "add", "--username", "stranger", "--role",
                                                  "clerk,registrar", "--office", "OTH", "--user",
                                                  "admin", "--password-file", pwfile, "--data",
                                                  data, NULL }),
                     0);
    if (pr.status != 0)
        fail_msg("user add: %s", pr.err);
    proc_result_free(&pr);
    struct test_session other = as("stranger", "demo-other-pw");

    /* A verified record of this office, waiting for its registrar. */
    assert_int_equal(get(&reg, "/api/v1/records?status=verified&limit=1", &r), 0);
    j = http_body_json(&r);
    snprintf(verified, sizeof verified, "%s",
             json_string_value(json_object_get(json_array_get(json_object_get(j, "records"), 0),
                                               "id")));
    json_decref(j);
    http_response_free(&r);
    assert_true(verified[0] != '\0');

    const char *reads[] = { "/api/v1/records/{id}", "/api/v1/records/{id}/history",
                            "/api/v1/records/{id}/duplicates", "/api/v1/audit/trace/{id}", NULL };
    for (const char **f = reads; *f; f++) {
        fill(path, sizeof path, *f, rec_id);
        assert_int_equal(get(&other, path, &r), 0);
        if (r.status != 403 && r.status != 404)
            fail_msg("GET %s by another office: want 403/404, got %d %s", path, r.status, r.body);
        assert_null(strstr(r.body, family));
        http_response_free(&r);
    }
    snprintf(path, sizeof path, "/api/v1/records/%s", rec_id);
    get_expect(&other, path, 403, "own office", NULL);
    snprintf(path, sizeof path, "/api/v1/persons/%s", uin);
    assert_int_equal(get_status(&other, path), 403);
    snprintf(path, sizeof path, "/api/v1/records/%s/evidence/%s", rec_id, scan_hash);
    assert_int_equal(get_status(&other, path), 403);
    /* lists and search show nothing of the other office */
    assert_int_equal(get(&other, "/api/v1/records?limit=500", &r), 0);
    assert_int_equal(r.status, 200);
    j = http_body_json(&r);
    assert_int_equal(json_array_size(json_object_get(j, "records")), 0);
    json_decref(j);
    http_response_free(&r);
    assert_int_equal(get_status(&other, "/api/v1/records?office=DEMO"), 403);
    char q[512];
    size_t o = (size_t)snprintf(q, sizeof q, "/api/v1/search?q=");
    for (const unsigned char *c = (const unsigned char *)family; *c && o + 4 < sizeof q; c++)
        o += (size_t)snprintf(q + o, sizeof q - o, "%%%02X", *c);
    assert_int_equal(get(&reg, q, &r), 0);
    j = http_body_json(&r);
    assert_true(json_array_size(json_object_get(j, "results")) > 0);
    json_decref(j);
    http_response_free(&r);
    assert_int_equal(get(&other, q, &r), 0);
    assert_int_equal(r.status, 200);
    j = http_body_json(&r);
    assert_int_equal(json_array_size(json_object_get(j, "results")), 0);
    json_decref(j);
    http_response_free(&r);

    /* The attack: registering, verifying or correcting another office's record. */
    snprintf(path, sizeof path, "/api/v1/records/%s/register", verified);
    assert_int_equal(post(&other, path, "application/json", "{}", 2, &r), 0);
    assert_int_equal(r.status, 403);
    http_response_free(&r);
    snprintf(path, sizeof path, "/api/v1/records/%s", verified);
    assert_int_equal(get(&reg, path, &r), 0);
    j = http_body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "verified");
    json_decref(j);
    http_response_free(&r);
    /* the command line refuses it the same way */
    assert_int_equal(civreg_run("demo-other-pw\n", &pr,
                                (const char *[]){ "record", "register", verified, "--user",
                                                  "stranger", "--data", data, NULL }),
                     0);
    assert_int_not_equal(pr.status, 0);
    assert_non_null(strstr(pr.err, "own office"));
    proc_result_free(&pr);
    /* this office's registrar still registers it */
    snprintf(path, sizeof path, "/api/v1/records/%s/register", verified);
    assert_int_equal(post(&reg, path, "application/json", "{}", 2, &r), 0);
    if (r.status != 200)
        fail_msg("register by this office: %d %s", r.status, r.body);
    http_response_free(&r);
}

/* ---- import errors name the browser's file, never a server path --------- */

static void test_import_errors_without_paths(void **state)
{
    struct test_session clerk = as("clerk", "demo");
    struct http_response r;
    char path[256], hdr[512], id[64];
    (void)state;

    assert_int_equal(web_create(server.port, &clerk, "/api/v1/scan-batches", "{}", id, sizeof id),
                     201);
    /* A TIFF cut after its signature: libtiff names the file in its own
     * message, and civreg names it again. */
    snprintf(path, sizeof path, "/api/v1/scan-batches/%s/files", id);
    snprintf(hdr, sizeof hdr, "%sX-CSRF-Token: %s\r\nContent-Type: image/tiff\r\n"
             "X-File-Name: register-1987-p12.tif\r\n", clerk.cookie, clerk.csrf);
    http_expect(server.port, "POST", path, hdr, "II*\0", 4, 201, NULL);
    snprintf(path, sizeof path, "/api/v1/scan-batches/%s/import", id);
    assert_int_equal(post(&clerk, path, "application/json", "{}", 2, &r), 0);
    printf("import of a cut TIFF -> %d %s\n", r.status, r.body);
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "register-1987-p12.tif"));
    if (strstr(r.body, dir) != NULL || strstr(r.body, "/uploads") != NULL ||
        strstr(r.body, "/tmp") != NULL)
        fail_msg("a server path in the answer: %s", r.body);
    http_response_free(&r);
}

/* ---- names hold no invisible or reordering characters ------------------- */

static void test_bidi_names_refused(void **state)
{
    struct test_session clerk = as("clerk", "demo");
    static const char *const hidden[] = { "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
                                          "\u200e", "\u200f", "\u061c", "\u202a", "\u202d",
                                          "\u200b", "\ufeff" };
    struct http_response r;
    json_t *ex;
    (void)state;

    assert_int_equal(get(&clerk, "/api/v1/records/example", &r), 0);
    ex = http_body_json(&r);
    http_response_free(&r);
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++) {
        for (int field = 0; field < 3; field++) {
            json_t *rec = json_deep_copy(ex), *req;
            char name[64], *body;
            json_error_t je;
            json_t *tmp;
            /* "Ann<mark>eL" in the JSON text, so the server decodes the mark */
            snprintf(name, sizeof name, "\"Ann%seL\"", hidden[i]);
            tmp = json_loads(name, JSON_DECODE_ANY, &je);
            assert_non_null(tmp);
            json_object_set_new(json_object_get(rec, field == 2 ? "mother" : "child"),
                                field == 0 ? "given_names" : "family_name", tmp);
            req = json_pack("{s:o}", "record", rec);
            body = json_dumps(req, JSON_COMPACT);
            json_decref(req);
            assert_int_equal(post(&clerk, "/api/v1/records", "application/json", body,
                                  strlen(body), &r), 0);
            if (r.status != 422 || strstr(r.body, "not allowed") == NULL ||
                strstr(r.body, field == 0 ? "given_names" : "family_name") == NULL)
                fail_msg("%s in field %d: want 422 naming the field, got %d %s", name, field,
                         r.status, r.body);
            http_response_free(&r);
            free(body);
        }
    }
    json_decref(ex);
}

/* ---- the database and the evidence are the owner's only ------------------ */

static void expect_mode(const char *path, unsigned want)
{
    struct stat st;
    if (stat(path, &st) != 0)
        fail_msg("%s: missing", path);
    if ((st.st_mode & 0777) != want)
        fail_msg("%s: mode %03o, want %03o", path, (unsigned)(st.st_mode & 0777), want);
}

static void test_private_files(void **state)
{
    struct test_session clerk = as("clerk", "demo");
    struct http_response r;
    struct proc_result pr;
    char p[4400], fresh[4200];
    (void)state;

    /* after init */
    snprintf(fresh, sizeof fresh, "%s/fresh", dir);
    assert_int_equal(civreg_run(NULL, &pr, (const char *[]){ "init", "--data", fresh, NULL }), 0);
    assert_int_equal(pr.status, 0);
    proc_result_free(&pr);
    snprintf(p, sizeof p, "%s/civreg.db", fresh);
    expect_mode(p, 0600);
    snprintf(p, sizeof p, "%s/blobs", fresh);
    expect_mode(p, 0700);
    snprintf(p, sizeof p, "%s/keys", fresh);
    expect_mode(p, 0700);

    /* after the server wrote (a new scan, so new blob folders too) */
    static const char scan[] = "\x89PNG\r\n\x1a\n a scan stored by the server";
    assert_int_equal(post(&clerk, "/api/v1/evidence", "image/png", scan, sizeof scan - 1, &r), 0);
    assert_int_equal(r.status, 201);
    json_t *j = http_body_json(&r);
    const char *h = json_string_value(json_object_get(j, "hash"));
    assert_non_null(h);
    snprintf(p, sizeof p, "%s/blobs/%.2s", data, h);
    expect_mode(p, 0700);
    snprintf(p, sizeof p, "%s/blobs/%.2s/%.2s", data, h, h + 2);
    expect_mode(p, 0700);
    snprintf(p, sizeof p, "%s/blobs/%.2s/%.2s/%s", data, h, h + 2, h);
    expect_mode(p, 0400);
    json_decref(j);
    http_response_free(&r);
    const char *files[] = { "civreg.db", "civreg.db-wal", "civreg.db-shm" };
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", data, files[i]);
        expect_mode(p, 0600);
    }
    snprintf(p, sizeof p, "%s/blobs", data);
    expect_mode(p, 0700);
}

CMOCKA_MAIN_WITH((.group = "web_confine", .group_setup = setup, .group_teardown = teardown),
                 test_evidence_through_objects, test_views_logged, test_other_office,
                 test_import_errors_without_paths, test_bidi_names_refused, test_private_files)
