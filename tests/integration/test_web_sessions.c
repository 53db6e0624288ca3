/* Integration tests of account changes against open web sessions, with the
 * real server and the real civreg binary on one data directory: a user
 * disabled, given other roles or whose password is reset — through the web
 * admin API or through `civreg user ...` in another process — loses the
 * session already open at its next request, and nothing that request tries
 * is stored. Also: admin cannot be combined with a data role (API and CLI),
 * the password policy (API and CLI, with translatable codes), user names
 * with control characters refused, and a sign-in attempt whose user name
 * carries a newline logged as one escaped line. Built only with the
 * registry module. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "support/expect.h"
#include "support/server_fixture.h"
#include "support/cmocka_main.h"
#include "support/support.h"

#define ADMIN_PW "Lantern-orbit-4417"
#define USER_PW "Quiet-harbor-lamp-93"
#define NEW_PW "Velvet-canyon-drum-58"

static char *root;
static char data[4096], logpath[4096], pw_admin[4096], pw_user[4096];
static struct test_server server;

static void add_user(const char *name, const char *roles)
{
    civreg_user_add(data, name, roles, USER_PW, pw_admin);
}

static int sign_in(const char *user, const char *password, struct test_session *l)
{
    return web_sign_in(server.port, user, password, NULL, l);
}

/* A request with L's session (and its CSRF token for writes); the status,
 * the error code of the body into CODE when given. */
static int call(const struct test_session *l, const char *method, const char *path, const char *body,
                char *code, size_t code_size)
{
    struct http_response r;
    int st;

    assert_int_equal(session_request(server.port, l, method, path, body, &r), 0);
    st = r.status;
    if (code != NULL) {
        http_error_code(&r, code, code_size);
    }
    http_response_free(&r);
    return st;
}

/* What ADMIN posts to /api/v1/users/USER/WHAT with BODY: the status, its
 * error code into CODE. */
static int user_post(const struct test_session *admin, const char *user, const char *what,
                     const char *body, char code[64])
{
    char path[160];

    snprintf(path, sizeof path, "/api/v1/users/%s/%s", user, what);
    return call(admin, "POST", path, body, code, 64);
}

static long long count(const char *sql)
{
    char path[4200];
    sqlite3 *h;
    sqlite3_stmt *st;
    long long n;

    snprintf(path, sizeof path, "%s/civreg.db", data);
    assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

static char *draft_body(void)
{
    struct proc_result r;
    char *body;
    size_t n;

    assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "record", "draft", "--example", NULL }),
                     0);
    assert_int_equal(r.status, 0);
    n = strlen(r.out) + 16;
    body = malloc(n);
    snprintf(body, n, "{\"record\":%s}", r.out);
    proc_result_free(&r);
    return body;
}

/* L's session is gone: a read and a draft are both 401, and the draft
 * stored nothing (no event, no record). */
static void assert_session_ended(const struct test_session *l)
{
    long long events = count("SELECT count(*) FROM events");
    long long records = count("SELECT count(*) FROM birth_records");
    char *body = draft_body(), code[64];

    assert_int_equal(call(l, "GET", "/api/v1/session", NULL, code, sizeof code), 401);
    assert_int_equal(call(l, "POST", "/api/v1/records", body, code, sizeof code), 401);
    assert_string_equal(code, "unauthenticated");
    assert_int_equal(count("SELECT count(*) FROM events"), events);
    assert_int_equal(count("SELECT count(*) FROM birth_records"), records);
    free(body);
}

/* L may draft now: 201, one more record. */
static void assert_can_draft(const struct test_session *l)
{
    long long records = count("SELECT count(*) FROM birth_records");
    char *body = draft_body(), code[64];

    assert_int_equal(call(l, "POST", "/api/v1/records", body, code, sizeof code), 201);
    assert_int_equal(count("SELECT count(*) FROM birth_records"), records + 1);
    free(body);
}

/* USER signed in (into U) with USER_PW and shown able to draft; with ADMIN
 * not NULL, the admin signed in first into ADMIN. */
static void open_drafting_session(const char *user, struct test_session *u,
                                  struct test_session *admin)
{
    assert_int_equal(sign_in(user, USER_PW, u), 200);
    if (admin != NULL)
        assert_int_equal(sign_in("admin", ADMIN_PW, admin), 200);
    assert_can_draft(u);
}

static void audit_clean(void)
{
    struct proc_result r;
    assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "audit", "verify", "--data", data,
                                                           NULL }),
                     0);
    if (r.status != 0)
        fail_msg("audit verify: exit %d: %s%s", r.status, r.out, r.err);
    proc_result_free(&r);
}

static int setup(void **state)
{
    (void)state;

    if ((root = tmp_data_dir("websessions", data, sizeof data, NULL)) == NULL)
        return -1;
    snprintf(logpath, sizeof logpath, "%s/server.log", root);
    if (pw_file(root, "admin", ADMIN_PW, pw_admin, sizeof pw_admin) != 0 ||
        pw_file(root, "user", USER_PW, pw_user, sizeof pw_user) != 0)
        return -1;
    civreg_user_add(data, "admin", "admin", ADMIN_PW, NULL);
    add_user("gone-api", "clerk");
    add_user("gone-cli", "clerk");
    add_user("moved-api", "clerk,registrar");
    add_user("moved-cli", "clerk,registrar");
    add_user("reset-api", "clerk");
    add_user("reset-cli", "clerk");
    add_user("own-pw", "clerk");
    add_user("auditor", "auditor");
    /* The server's log goes to a file the tests read. */
    return server_start(&server, data, NULL, logpath);
}

SERVER_TEARDOWN(server, root)

/* The penetration test's finding: an admin disables a clerk through the
 * web admin API while the clerk's session is open. */
static void test_disable_api_ends_session(void **state)
{
    struct test_session clerk, admin;
    char code[64];
    (void)state;

    assert_int_equal(sign_in("gone-api", USER_PW, &clerk), 200);
    assert_int_equal(sign_in("admin", ADMIN_PW, &admin), 200);
    assert_int_equal(call(&clerk, "GET", "/api/v1/session", NULL, NULL, 0), 200);
    assert_can_draft(&clerk);
    assert_int_equal(user_post(&admin, "gone-api", "disable", "{}", code), 200);
    assert_session_ended(&clerk);
    assert_int_equal(sign_in("gone-api", USER_PW, NULL), 401);
    /* The admin's own session is untouched. */
    assert_int_equal(call(&admin, "GET", "/api/v1/users", NULL, NULL, 0), 200);
    audit_clean();
}

/* The same through `civreg user disable`, another process on the same
 * database: the next web request already sees it. */
static void test_disable_cli_ends_session(void **state)
{
    struct test_session clerk;
    (void)state;

    open_drafting_session("gone-cli", &clerk, NULL);
    civreg_ok(NULL, (const char *[]){ "user", "disable", "--data", data, "--username", "gone-cli",
                                   "--user", "admin", "--password-file", pw_admin, NULL });
    assert_session_ended(&clerk);
    audit_clean();
}

/* A role removed through the API: the clerk route is refused at once (the
 * session ends); signed in again, the user has only the new role. */
static void test_role_change_api(void **state)
{
    struct test_session u, admin;
    char code[64];
    (void)state;

    open_drafting_session("moved-api", &u, &admin);
    assert_int_equal(user_post(&admin, "moved-api", "roles", "{\"roles\":[\"registrar\"]}", code),
                     200);
    assert_session_ended(&u);
    assert_int_equal(sign_in("moved-api", USER_PW, &u), 200);
    assert_int_equal(call(&u, "POST", "/api/v1/records", "{}", code, sizeof code), 403);
    assert_string_equal(code, "forbidden");
    assert_int_equal(call(&u, "GET", "/api/v1/records", NULL, NULL, 0), 200);
    /* An admin cannot change their own roles, nor give admin with a data role. */
    assert_int_equal(user_post(&admin, "admin", "roles", "{\"roles\":[\"auditor\"]}", code), 422);
    assert_int_equal(user_post(&admin, "moved-api", "roles",
                               "{\"roles\":[\"admin\",\"registrar\"]}", code),
                     422);
    assert_string_equal(code, "roles_conflict");
    assert_int_equal(user_post(&admin, "nobody-here", "roles", "{\"roles\":[\"clerk\"]}", code),
                     404);
    audit_clean();
}

static void test_role_change_cli(void **state)
{
    struct test_session u;
    char code[64];
    (void)state;

    open_drafting_session("moved-cli", &u, NULL);
    civreg_ok(NULL, (const char *[]){ "user", "roles", "--data", data, "--username", "moved-cli",
                                   "--role", "registrar", "--user", "admin", "--password-file",
                                   pw_admin, NULL });
    assert_session_ended(&u);
    assert_int_equal(sign_in("moved-cli", USER_PW, &u), 200);
    assert_int_equal(call(&u, "POST", "/api/v1/records", "{}", code, sizeof code), 403);
    /* admin with a data role: refused with the rule named, nothing changed */
    civreg_expect(NULL, 1, "separation of duties",
                  (const char *[]){ "user", "roles", "--data", data, "--username", "moved-cli",
                                    "--role", "admin,auditor", "--user", "admin",
                                    "--password-file", pw_admin, NULL });
    assert_int_equal(call(&u, "GET", "/api/v1/records", NULL, NULL, 0), 200);
    audit_clean();
}

/* An admin resets a forgotten password through the API: the open session
 * ends, the old password no longer works, the new one does. */
static void test_reset_api(void **state)
{
    struct test_session u, admin;
    char code[64];
    (void)state;

    open_drafting_session("reset-api", &u, &admin);
    /* A weak new password is refused first, with a code the UI translates,
     * and the session lives on. */
    assert_int_equal(user_post(&admin, "reset-api", "password",
                               "{\"password\":\"password\"}", code),
                     422);
    assert_string_equal(code, "password_too_short");
    assert_int_equal(call(&u, "GET", "/api/v1/session", NULL, NULL, 0), 200);
    assert_int_equal(user_post(&admin, "reset-api", "password",
                               "{\"password\":\"" NEW_PW "\"}", code),
                     200);
    assert_session_ended(&u);
    assert_int_equal(sign_in("reset-api", USER_PW, NULL), 401);
    assert_int_equal(sign_in("reset-api", NEW_PW, &u), 200);
    assert_can_draft(&u);
    audit_clean();
}

static void test_reset_cli(void **state)
{
    struct test_session u;
    (void)state;

    assert_int_equal(sign_in("reset-cli", USER_PW, &u), 200);
    civreg_ok(NEW_PW "\n", (const char *[]){ "user", "passwd", "--data", data, "--username",
                                          "reset-cli", "--user", "admin", "--password-file",
                                          pw_admin, NULL });
    assert_session_ended(&u);
    assert_int_equal(sign_in("reset-cli", NEW_PW, &u), 200);
    assert_can_draft(&u);
    audit_clean();
}

/* A user changing their own password (CLI) ends the sessions opened with
 * the old one, e.g. on a browser left signed in elsewhere. */
static void test_own_password_change(void **state)
{
    struct test_session u;
    (void)state;

    assert_int_equal(sign_in("own-pw", USER_PW, &u), 200);
    civreg_ok(USER_PW "\n" NEW_PW "\n", (const char *[]){ "user", "passwd", "--data", data,
                                                       "--username", "own-pw", NULL });
    assert_session_ended(&u);
    assert_int_equal(sign_in("own-pw", NEW_PW, NULL), 200);
}

/* Separation of duties and the password policy when users are created,
 * through the API (422 with a code) and the CLI (exit 1 with the rule). */
static void test_account_rules(void **state)
{
    struct test_session admin;
    struct proc_result r;
    char code[64];
    long long users = count("SELECT count(*) FROM users");
    static const struct {
        const char *body, *code;
    } refused[] = {
        { "{\"username\":\"boss\",\"password\":\"" NEW_PW "\",\"roles\":[\"admin\",\"clerk\","
          "\"registrar\",\"auditor\"]}",
          "roles_conflict" },
        { "{\"username\":\"boss\",\"password\":\"" NEW_PW "\",\"roles\":[\"admin\",\"auditor\"]}",
          "roles_conflict" },
        { "{\"username\":\"newclerk\",\"password\":\"password\",\"roles\":[\"clerk\"]}",
          "password_too_short" },
        { "{\"username\":\"newclerk\",\"password\":\"Password2024!\",\"roles\":[\"clerk\"]}",
          "password_common" },
        { "{\"username\":\"newclerk\",\"password\":\"p@ssw0rd123456\",\"roles\":[\"clerk\"]}",
          "password_common" },
        { "{\"username\":\"newclerk\",\"password\":\"123456789012\",\"roles\":[\"clerk\"]}",
          "password_common" },
        { "{\"username\":\"newclerk\",\"password\":\"qwertyuiop!!\",\"roles\":[\"clerk\"]}",
          "password_common" },
        { "{\"username\":\"newclerk\",\"password\":\"NewClerk-harbor-77\",\"roles\":[\"clerk\"]}",
          "password_has_username" },
        { "{\"username\":\"x\\nINFO forged\",\"password\":\"" NEW_PW "\",\"roles\":[\"clerk\"]}",
          "rejected" },
    };
    (void)state;

    assert_int_equal(sign_in("admin", ADMIN_PW, &admin), 200);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        int st = call(&admin, "POST", "/api/v1/users", refused[i].body, code, sizeof code);
        if (st != 422 || strcmp(code, refused[i].code) != 0)
            fail_msg("%s: want 422 %s, got %d %s", refused[i].body, refused[i].code, st, code);
    }
    assert_int_equal(count("SELECT count(*) FROM users"), users);

    /* The CLI refuses the same through the same registry rules. */
    assert_int_equal(civreg_run(NEW_PW "\n", &r,
                                (const char *[]){ "user", "add", "--data", data, "--username",
                                                  "boss", "--role", "admin,clerk,registrar,auditor",
                                                  "--user", "admin", "--password-file", pw_admin,
                                                  NULL }),
                     0);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "separation of duties"));
    proc_result_free(&r);
    assert_int_equal(civreg_run("password\n", &r,
                                (const char *[]){ "user", "add", "--data", data, "--username",
                                                  "newclerk", "--role", "clerk", "--user", "admin",
                                                  "--password-file", pw_admin, NULL }),
                     0);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "at least 12 characters"));
    proc_result_free(&r);
    assert_int_equal(civreg_run("Welcome2025!!\n", &r,
                                (const char *[]){ "user", "add", "--data", data, "--username",
                                                  "newclerk", "--role", "clerk", "--user", "admin",
                                                  "--password-file", pw_admin, NULL }),
                     0);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "too common"));
    proc_result_free(&r);
    assert_int_equal(count("SELECT count(*) FROM users"), users);

    /* A good password and a lone data role pass. */
    assert_int_equal(call(&admin, "POST", "/api/v1/users",
                          "{\"username\":\"newclerk\",\"password\":\"" NEW_PW "\",\"roles\":"
                          "[\"clerk\"]}",
                          code, sizeof code),
                     201);
    assert_int_equal(count("SELECT count(*) FROM users"), users + 1);
}

/* Log forging: a sign-in attempt whose user name carries a newline is one
 * log line, the newline escaped; no line starts with the forged text. */
static void test_signin_log_escaped(void **state)
{
    char *log, *line, *nl;
    size_t len, hits = 0;
    (void)state;

    assert_int_equal(sign_in("x\nINFO forged", "whatever-it-is", NULL), 401);
    /* The server writes the line before it answers. */
    log = file_read(logpath, &len);
    assert_non_null(log);
    for (line = log; *line != '\0'; line = nl + 1) {
        if ((nl = strchr(line, '\n')) == NULL)
            fail_msg("the log ends in a partial line: %s", line);
        *nl = '\0';
        if (strncmp(line, "INFO forged", 11) == 0)
            fail_msg("forged log line: %s", line);
        if (strstr(line, "failed sign-in for 'x\\nINFO forged'") != NULL)
            hits++;
    }
    assert_int_equal(hits, 1);
    free(log);
}

CMOCKA_MAIN(setup, teardown, test_disable_api_ends_session, test_disable_cli_ends_session,
            test_role_change_api, test_role_change_cli, test_reset_api, test_reset_cli,
            test_own_password_change, test_account_rules, test_signin_log_escaped)
