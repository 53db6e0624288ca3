/* Integration: every request of a district to the national tier is bounded
 * in time, over loopback, against stand-in tiers (no PostgreSQL):
 *   - a closed port: the CLI fails at once (well under the timeout) naming
 *     the address that refused; the web screen answers 502
 *     national_unreachable at once;
 *   - a listening socket that never accepts and never answers: the CLI
 *     (`--timeout 2`, or national_sync_timeout_seconds in civreg.conf)
 *     exits non-zero naming the timeout after 2 s; the web screen 504;
 *   - a full accept queue (the connect itself never completes): the same,
 *     "no connection ... within 2 s", 504 on the web screen;
 *   - a tier that accepts and sends its answer a byte at a time past the
 *     bound: cut at the bound (CLI and 504), not kept alive by the trickle;
 *   - the background sync of `civreg serve` gives up at its bound too
 *     (its status names the timeout);
 *   - enrolment of a person this office does not hold asks the tier within
 *     the bound, from the command line (--timeout) and from the web
 *     (national_timeout_seconds);
 *   - the name lookup is bounded too: a resolver that never answers (a
 *     lookup function put in place of getaddrinfo) is cut at the bound, and
 *     abandoned safely; one that answers in time is used. */
#define _GNU_SOURCE /* asprintf */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "registry/national/national_int.h"
#include "support/cmocka_main.h"
#include "support/server_fixture.h"
#include "support/support.h"

#define FILLERS 4
#define ENROL_PW "tundra-ferns-quartz-77"
#define FOREIGN_UIN "2947503860" /* a valid UIN this office does not hold */

static char *dir;
static char data[4300], pw_admin[4096], pw_reg[4096], pw_enrol[4096];
static char *conf_init; /* civreg.conf as init wrote it */
static struct test_server srv;
static int peer = -1;                 /* the stand-in tier's socket */
static int fillers[FILLERS];          /* connections filling its accept queue */
static pid_t stand_in = -1;           /* the process answering on it */

static int group_setup(void **state)
{
    char path[4400];
    size_t len = 0;
    (void)state;

    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < FILLERS; i++)
        fillers[i] = -1;
    if ((dir = tmp_data_dir("natconn", data, sizeof data,
                            (const char *[]){ "--office", "DC", NULL })) == NULL)
        return -1;
    /* the first user signs the log's first head: a client can sign as DC */
    civreg_staff_add(data, dir, "clerk", "registrar,auditor", pw_admin, NULL, NULL, pw_reg);
    civreg_user_add(data, "enrol", "enrolment_officer", ENROL_PW, pw_admin);
    if (pw_file(dir, "enrol", ENROL_PW, pw_enrol, sizeof pw_enrol) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/civreg.conf", data);
    conf_init = file_read(path, &len);
    return conf_init ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    free(conf_init);
    tmp_free(&dir);
    return 0;
}

static int test_teardown(void **state)
{
    (void)state;
    child_kill(&stand_in); /* its children answering too */
    for (int i = 0; i < FILLERS; i++)
        fd_close(&fillers[i]);
    fd_close(&peer);
    server_stop(&srv);
    memset(&srv, 0, sizeof srv);
    return 0;
}

/* civreg.conf as init wrote it, then LINES. */
static void set_conf(const char *lines)
{
    char path[4400], *text;

    snprintf(path, sizeof path, "%s/civreg.conf", data);
    assert_true(asprintf(&text, "%s\n%s", conf_init, lines) > 0);
    assert_int_equal(file_write(path, text, strlen(text)), 0);
    free(text);
}

/* A child in a process group of its own (the teardown kills the group:
 * the child and any it forked). */
static pid_t stand_in_fork(void)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0)
        (void)setpgid(0, 0);
    else
        (void)setpgid(pid, pid);
    return pid;
}

enum tier { TIER_CLOSED, TIER_SILENT, TIER_FULL, TIER_TRICKLE, TIER_HANGUP, TIER_ANSWER };

/* A stand-in national tier of kind T in PEER: its port. CLOSED: bound,
 * not listening (refused); SILENT: listening, never accepting; FULL: its
 * accept queue filled, so a connect never completes; TRICKLE: a child
 * accepts every connection and sends a 200 answer one byte every 100 ms,
 * for longer than any bound here; HANGUP: a child accepts every connection
 * and closes it at once; ANSWER: a child answers every request 200
 * {"ok":true}. */
static int tier_start(enum tier t)
{
    int port = 0;

    peer = tcp_listen_loopback(t == TIER_CLOSED ? -1 : t == TIER_FULL ? 0 : 16, &port);
    assert_true(peer >= 0);
    if (t == TIER_FULL) {
        struct sockaddr_in a = { 0 };
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons((uint16_t)port);
        for (int i = 0; i < FILLERS; i++) {
            fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            assert_true(fillers[i] >= 0);
            (void)connect(fillers[i], (struct sockaddr *)&a, sizeof a);
        }
        usleep(200000);
    }
    if (t == TIER_HANGUP) {
        stand_in = stand_in_fork();
        if (stand_in == 0)
            for (int c; (c = accept(peer, NULL, NULL)) >= 0;)
                close(c);
        if (stand_in == 0)
            _exit(0);
    }
    if (t == TIER_ANSWER) {
        static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 "Content-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}";
        stand_in = stand_in_fork();
        if (stand_in == 0) {
            for (int c; (c = accept(peer, NULL, NULL)) >= 0; close(c)) {
                char req[4096];
                /* the request's head and its short body, then the answer */
                usleep(100000);
                (void)read(c, req, sizeof req);
                if (write(c, ok, sizeof ok - 1) < 0)
                    _exit(1);
                shutdown(c, SHUT_WR);
                while (read(c, req, sizeof req) > 0)
                    ;
            }
            _exit(0);
        }
    }
    if (t == TIER_TRICKLE) {
        static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                     "Content-Length: 400\r\nConnection: close\r\n\r\n{\"a\":\"";
        stand_in = stand_in_fork();
        if (stand_in == 0) {
            for (;;) {
                int c = accept(peer, NULL, NULL);
                if (c < 0)
                    _exit(0);
                if (fork() == 0) {
                    char req[4096];
                    (void)read(c, req, sizeof req);
                    for (int i = 0; i < 600; i++) {
                        char ch = i < (int)sizeof answer - 1 ? answer[i] : 'x';
                        if (write(c, &ch, 1) != 1)
                            _exit(0);
                        usleep(100000);
                    }
                    _exit(0);
                }
                close(c);
            }
        }
    }
    return port;
}

/* `civreg sync ARGS... --data DATA --national SCHEME://127.0.0.1:PORT`:
 * its exit status and stderr (*ERR, caller frees), *TOOK seconds. */
static int sync_run_url(const char *scheme, int port, const char *const args[], char **err,
                        double *took)
{
    const char *argv[16];
    char url[64];
    struct proc_result r;
    size_t n = 0;
    double t0;
    int st;

    snprintf(url, sizeof url, "%s://127.0.0.1:%d", scheme, port);
    argv[n++] = "sync";
    for (size_t i = 0; args[i] && n < 10; i++)
        argv[n++] = args[i];
    argv[n++] = "--data";
    argv[n++] = data;
    argv[n++] = "--national";
    argv[n++] = url;
    argv[n] = NULL;
    t0 = now_s();
    assert_int_equal(civreg_run(NULL, &r, argv), 0);
    *took = now_s() - t0;
    *err = r.err;
    r.err = NULL;
    st = r.status;
    proc_result_free(&r);
    return st;
}

static int sync_run(int port, const char *const args[], char **err, double *took)
{
    return sync_run_url("http", port, args, err, took);
}

/* A request to a tier (SCHEME) that fails within [LO, HI) seconds with a
 * message holding NEEDLE (and NEEDLE2 when not NULL). */
static void sync_fails_url(const char *scheme, int port, const char *const args[], double lo,
                           double hi, const char *needle, const char *needle2)
{
    char *err = NULL;
    double took = 0;
    int st = sync_run_url(scheme, port, args, &err, &took);

    print_message("sync %s: exit %d in %.2f s: %s", args[0], st, took, err);
    assert_int_not_equal(st, 0);
    assert_non_null(strstr(err, needle));
    if (needle2)
        assert_non_null(strstr(err, needle2));
    assert_true(took >= lo);
    assert_true(took < hi);
    free(err);
}

static void sync_fails(int port, const char *const args[], double lo, double hi,
                       const char *needle, const char *needle2)
{
    sync_fails_url("http", port, args, lo, hi, needle, needle2);
}

static void test_cli_refused(void **state)
{
    char addr[64];
    int port = tier_start(TIER_CLOSED);
    (void)state;

    snprintf(addr, sizeof addr, "127.0.0.1 port %d", port);
    /* at once, though the bound is 30 s */
    sync_fails(port, (const char *[]){ "person", "123", "--timeout", "30", NULL }, 0, 1.5, addr,
               "connection refused");
    sync_fails(port, (const char *[]){ "push", NULL }, 0, 1.5, addr, "connection refused");
}

static void test_cli_silent(void **state)
{
    int port = tier_start(TIER_SILENT);
    (void)state;

    sync_fails(port, (const char *[]){ "person", "123", "--timeout", "2", NULL }, 1.8, 6.0,
               "within 2 s", "timeout");
    /* the default from civreg.conf */
    set_conf("national_sync_timeout_seconds = 2\n");
    sync_fails(port, (const char *[]){ "deaths", NULL }, 1.8, 6.0, "within 2 s", "timeout");
    set_conf("");
    /* the option is checked */
    {
        char *err = NULL;
        double took;
        assert_int_not_equal(
            sync_run(port, (const char *[]){ "push", "--timeout", "0", NULL }, &err, &took), 0);
        assert_non_null(strstr(err, "--timeout"));
        free(err);
    }
}

static void test_cli_connect_timeout(void **state)
{
    char addr[64];
    int port = tier_start(TIER_FULL);
    (void)state;

    snprintf(addr, sizeof addr, "no connection to 127.0.0.1 port %d within 2 s", port);
    sync_fails(port, (const char *[]){ "push", "--timeout", "2", NULL }, 1.8, 6.0, addr,
               "timeout");
}

static void test_cli_trickle(void **state)
{
    int port = tier_start(TIER_TRICKLE);
    (void)state;

    /* 600 bytes at 10 a second would take a minute: cut at 2 s */
    sync_fails(port, (const char *[]){ "person", "123", "--timeout", "2", NULL }, 1.8, 6.0,
               "no complete answer within 2 s", "timeout");
}

/* https: a peer that never completes the handshake is cut at the bound;
 * one that hangs up fails at once. */
static void test_cli_tls(void **state)
{
    int port = tier_start(TIER_SILENT);
    (void)state;

    sync_fails_url("https", port, (const char *[]){ "person", "123", "--timeout", "2", NULL },
                   1.8, 6.0, "no TLS handshake within 2 s", "timeout");
    test_teardown(NULL);
    port = tier_start(TIER_HANGUP);
    sync_fails_url("https", port, (const char *[]){ "push", "--timeout", "30", NULL }, 0, 1.5,
                   "TLS handshake failed", NULL);
    /* plain http: the request not taken or no answer, at once either way */
    sync_fails(port, (const char *[]){ "push", "--timeout", "30", NULL }, 0, 1.5, "127.0.0.1:",
               NULL);
}

/* DC's server against the tier at PORT: the screen's bound 2 s, the
 * background sync's too; the registrar signed in as REG. */
static void serve_against(int port, struct test_session *reg)
{
    char conf[256];

    snprintf(conf, sizeof conf,
             "national_url = http://127.0.0.1:%d\nnational_timeout_seconds = 2\n"
             "national_sync_timeout_seconds = 2\nnational_sync_seconds = 86400\n",
             port);
    set_conf(conf);
    assert_int_equal(server_start(&srv, data, NULL, NULL), 0);
    assert_int_equal(web_sign_in(srv.port, "reg", STAFF_PW_REG, NULL, reg), 200);
}

/* GET the duplicate cases from the screen: the status (code in CODE),
 * *TOOK seconds. */
static int screen_get(const struct test_session *reg, char code[64], double *took)
{
    struct http_response r;
    double t0 = now_s();
    int st;

    assert_int_equal(
        session_request(srv.port, reg, "GET", "/api/v1/national/duplicates", NULL, &r), 0);
    *took = now_s() - t0;
    st = r.status;
    http_error_code(&r, code, 64);
    http_response_free(&r);
    return st;
}

static void screen_answers(enum tier t, int status, const char *code_want, double lo, double hi)
{
    struct test_session reg;
    char code[64];
    double took = 0;
    int port = tier_start(t);

    serve_against(port, &reg);
    assert_int_equal(screen_get(&reg, code, &took), status);
    print_message("tier %d: %d %s in %.2f s\n", (int)t, status, code, took);
    assert_string_equal(code, code_want);
    assert_true(took >= lo);
    assert_true(took < hi);
}

static void test_web_refused(void **state)
{
    (void)state;
    screen_answers(TIER_CLOSED, 502, "national_unreachable", 0, 1.5);
}

static void test_web_silent(void **state)
{
    char path[4400], *st = NULL;
    size_t len = 0;
    double t0;
    (void)state;

    screen_answers(TIER_SILENT, 504, "national_timeout", 1.8, 6.0);
    /* the background sync gave up at its bound as well */
    snprintf(path, sizeof path, "%s/national-sync.json", data);
    for (t0 = now_s(); now_s() - t0 < 10; usleep(200000)) {
        free(st);
        st = file_read(path, &len);
        if (st && strstr(st, "timeout"))
            break;
    }
    assert_non_null(st);
    print_message("background sync: %s", st);
    assert_non_null(strstr(st, "within 2 s (timeout)"));
    free(st);
}

static void test_web_connect_timeout(void **state)
{
    (void)state;
    screen_answers(TIER_FULL, 504, "national_timeout", 1.8, 6.0);
}

static void test_web_trickle(void **state)
{
    (void)state;
    screen_answers(TIER_TRICKLE, 504, "national_timeout", 1.8, 6.0);
}

/* `--out` naming a FIFO (as /dev/null is a device): written into, not
 * replaced by a regular file (a rename over /dev/null as root replaced
 * the machine's). */
static void test_cli_out_fifo(void **state)
{
    char fifo[4200], got[64] = "";
    struct stat st;
    ssize_t n;
    int fd, port = tier_start(TIER_ANSWER);
    (void)state;

    snprintf(fifo, sizeof fifo, "%s/answer.fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    fd = open(fifo, O_RDONLY | O_NONBLOCK);
    assert_true(fd >= 0);
    {
        char *err = NULL;
        double took;
        int rc = sync_run(port, (const char *[]){ "person", "123", "--out", fifo, NULL }, &err,
                          &took);
        print_message("sync person --out FIFO: exit %d: %s", rc, err);
        free(err);
        assert_int_equal(rc, 0);
    }
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    n = read(fd, got, sizeof got - 1);
    assert_true(n > 0);
    got[n] = '\0';
    assert_string_equal(got, "{\"ok\":true}");
    close(fd);
    unlink(fifo);
}

static char *portrait(size_t *len)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/issuance/portrait.jpg", CIVREG_TEST_DATA);
    return file_read(path, len);
}

/* WHAT, started at T0, ended (STATUS) naming the 2 s bound in TEXT, at the
 * bound: not after the 600 s a read may take. */
static void cut_at_bound(const char *what, double t0, int status, const char *text)
{
    double took = now_s() - t0;

    print_message("%s: %d in %.2f s: %s\n", what, status, took, text);
    assert_non_null(strstr(text, "within 2 s (timeout)"));
    assert_true(took >= 1.8 && took < 6.0);
}

/* `application enrol` of a person held elsewhere: the question to a silent
 * tier ends at --timeout, the message naming it. */
static void test_cli_enrol(void **state)
{
    char url[64], photo[4200];
    struct proc_result r;
    double t0;
    int port = tier_start(TIER_SILENT);
    (void)state;

    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    snprintf(photo, sizeof photo, "%s/issuance/portrait.jpg", CIVREG_TEST_DATA);
    t0 = now_s();
    assert_int_equal(civreg_run(NULL, &r,
                                (const char *[]){ "application", "enrol", "--uin", FOREIGN_UIN,
                                                  "--photo", photo, "--national", url,
                                                  "--timeout", "2", "--data", data, "--user",
                                                  "enrol", "--password-file", pw_enrol, NULL }),
                     0);
    cut_at_bound("application enrol", t0, r.status, r.err);
    assert_int_not_equal(r.status, 0);
    assert_non_null(strstr(r.err, "asking the national tier"));
    proc_result_free(&r);
}

/* POST /api/v1/applications of a person held elsewhere: the worker asks
 * the silent tier for national_timeout_seconds, not 600 s a read. */
static void test_web_enrol(void **state)
{
    struct test_session reg, enrol;
    struct http_response r;
    size_t len = 0;
    char *jpg = portrait(&len), *b64, *body;
    double t0;
    json_t *j;
    (void)state;

    assert_non_null(jpg);
    b64 = malloc(sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL));
    assert_non_null(b64);
    sodium_bin2base64(b64, sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL),
                      (const unsigned char *)jpg, len, sodium_base64_VARIANT_ORIGINAL);
    j = json_pack("{s:s, s:s, s:s}", "uin", FOREIGN_UIN, "doc_type", "TD3", "photo", b64);
    body = json_dumps(j, JSON_COMPACT);
    assert_non_null(body);
    serve_against(tier_start(TIER_SILENT), &reg);
    assert_int_equal(web_sign_in(srv.port, "enrol", ENROL_PW, NULL, &enrol), 200);
    t0 = now_s();
    assert_int_equal(session_request(srv.port, &enrol, "POST", "/api/v1/applications", body, &r),
                     0);
    cut_at_bound("web enrol", t0, r.status, r.body);
    /* as the registrar's screen: 504 with the national tier's code */
    assert_int_equal(r.status, 504);
    assert_non_null(strstr(r.body, "\"national_timeout\""));
    http_response_free(&r);
    json_decref(j);
    free(body);
    free(b64);
    free(jpg);
}

/* A resolver in place of getaddrinfo: it waits for a byte on
 * resolver_go[0] (a resolver that never answers, until the test lets it),
 * answers 127.0.0.1, then writes a byte on resolver_done[1]. */
static int resolver_go[2] = { -1, -1 }, resolver_done[2] = { -1, -1 };
static int resolver_calls;

static int resolver_held(const char *host, const char *port, const struct addrinfo *hints,
                         struct addrinfo **res)
{
    char b;
    struct addrinfo h = *hints;
    int rc;
    (void)host;

    __atomic_add_fetch(&resolver_calls, 1, __ATOMIC_SEQ_CST);
    while (read(resolver_go[0], &b, 1) < 0)
        ;
    h.ai_flags |= AI_NUMERICHOST;
    rc = getaddrinfo("127.0.0.1", port, &h, res);
    if (write(resolver_done[1], "d", 1) != 1)
        rc = EAI_SYSTEM;
    return rc;
}

static void resolver_start(void)
{
    assert_int_equal(pipe(resolver_go), 0);
    assert_int_equal(pipe(resolver_done), 0);
    resolver_calls = 0;
    nat_conn_set_lookup(resolver_held);
}

/* Let the resolver answer, wait (5 s at most) for it to have answered,
 * and put getaddrinfo back. */
static void resolver_end(void)
{
    struct pollfd p = { .fd = resolver_done[0], .events = POLLIN };
    char b;

    assert_int_equal(write(resolver_go[1], "g", 1), 1);
    assert_int_equal(poll(&p, 1, 5000), 1);
    assert_int_equal(read(resolver_done[0], &b, 1), 1);
    nat_conn_set_lookup(NULL);
    for (int i = 0; i < 2; i++) {
        close(resolver_go[i]);
        close(resolver_done[i]);
        resolver_go[i] = resolver_done[i] = -1;
    }
}

/* A client of the tier at HOST, loopback PORT, bound TIMEOUT_S. */
static void client_at(struct national_client *c, const char *host, int port, int timeout_s)
{
    memset(c, 0, sizeof *c);
    (void)snprintf(c->host, sizeof c->host, "%s", host);
    c->port = port;
    c->timeout_s = timeout_s;
}

/* A name whose resolver never answers: no connection, national_timeout
 * at the bound (not the resolver's own minutes); the lookup answering
 * later frees what it found by itself (the sanitizer build checks it). */
static void test_lookup_silent(void **state)
{
    struct national_client c;
    struct nat_conn k;
    struct err err = ERR_INIT;
    double t0, took;
    (void)state;

    resolver_start();
    client_at(&c, "tier.invalid", tier_start(TIER_SILENT), 2);
    t0 = now_s();
    assert_int_equal(nat_conn_open(&c, &k, &err), -1);
    took = now_s() - t0;
    print_message("lookup never answering: %.2f s: %s\n", took, err.msg);
    assert_string_equal(err_code_of(&err), "national_timeout");
    assert_int_equal(err_kind(&err), ERR_BUSY);
    assert_non_null(strstr(err.msg, "no address for tier.invalid within 2 s (timeout)"));
    assert_true(took >= 1.8 && took < 3.0);
    assert_int_equal(resolver_calls, 1);
    resolver_end();
}

/* A name the resolver answers within the bound: its address is connected
 * to; a numeric address is not looked up at all. */
static void test_lookup_answers(void **state)
{
    struct national_client c;
    struct nat_conn k;
    struct err err = ERR_INIT;
    int port = tier_start(TIER_SILENT);
    (void)state;

    resolver_start();
    assert_int_equal(write(resolver_go[1], "g", 1), 1);
    client_at(&c, "tier.invalid", port, 2);
    assert_int_equal(nat_conn_open(&c, &k, &err), 0);
    nat_conn_close(&k);
    assert_int_equal(resolver_calls, 1);
    client_at(&c, "127.0.0.1", port, 2);
    assert_int_equal(nat_conn_open(&c, &k, &err), 0);
    nat_conn_close(&k);
    assert_int_equal(resolver_calls, 1);
    resolver_end();
}

CMOCKA_MAIN_WITH((.group = "national_connect", .group_setup = group_setup,
                  .group_teardown = group_teardown, .teardown = test_teardown),
                 test_cli_refused, test_cli_silent, test_cli_connect_timeout, test_cli_trickle,
                 test_cli_tls,
                 test_web_refused, test_web_silent, test_web_connect_timeout, test_web_trickle,
                 test_cli_enrol, test_web_enrol, test_cli_out_fifo, test_lookup_silent,
                 test_lookup_answers)
