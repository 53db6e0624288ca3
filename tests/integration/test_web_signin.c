/* Integration tests: sign-in throttling against the real server, with
 * short delays from civreg.conf. Clients come from several loopback
 * addresses (any 127/8 address is this machine); 127.0.0.1 is configured
 * as a trusted reverse proxy, so its X-Forwarded-For names the client. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/server_fixture.h"
#include "support/cmocka_main.h"
#include "support/support.h"

static char *dir;
static char data[4096];
static struct test_server server;

static int add_user(const char *name, const char *role, const char *pw_in)
{
    struct proc_result r;
    int rc;
    const char *first[] = { "user", "add", "--data", data, "--username", name, "--role", role, NULL };
    const char *later[] = { "user", "add", "--data", data, "--username", name, "--role", role,
                            "--user", "admin", NULL };

    rc = civreg_run(pw_in, &r, strcmp(name, "admin") == 0 ? first : later);
    if (rc == 0 && r.status != 0)
        fprintf(stderr, "user add %s: %s\n", name, r.err);
    rc = rc == 0 && r.status == 0 ? 0 : -1;
    proc_result_free(&r);
    return rc;
}

static int setup(void **state)
{
    static const char conf_extra[] = "signin_free_attempts = 3\n"
                                     "signin_backoff_seconds = 2\n"
                                     "signin_backoff_max_seconds = 4\n"
                                     "signin_address_limit = 6\n"
                                     "trusted_proxies = 127.0.0.1\n";
    (void)state;

    if ((dir = tmp_data_dir("websignin", data, sizeof data, NULL)) == NULL)
        return -1;
    if (add_user("admin", "admin", "nimda-tundra-ferns-61\nnimda-tundra-ferns-61\n") != 0)
        return -1;
    for (const char *const *u = (const char *const[]){ "alice", "bob", "carol", "dave", NULL };
         *u != NULL; u++) {
        char in[128], sh[16];
        size_t k;
        /* The name with each letter shifted by one: a password that does
         * not contain the user name (registry password policy). */
        for (k = 0; (*u)[k] != '\0' && k + 1 < sizeof sh; k++)
            sh[k] = (char)((*u)[k] + 1);
        sh[k] = '\0';
        snprintf(in, sizeof in, "nimda-tundra-ferns-61\n%s-tundra-ferns-61\n%s-tundra-ferns-61\n", sh, sh);
        if (add_user(*u, "clerk", in) != 0)
            return -1;
    }
    return server_start_conf(&server, data, conf_extra);
}

SERVER_TEARDOWN(server, dir)

/* POST /api/v1/session as USER with PASSWORD from source address SRC,
 * with "X-Forwarded-For: XFF" when XFF is not NULL. Returns the status;
 * *RETRY gets Retry-After (0 when absent). */
static int sign_in_from(const char *src, const char *xff, const char *user, const char *password,
                        long *retry)
{
    char body[256], req[1024], resp[8192], *p;
    size_t len = 0;
    int fd, n, status = -1;

    *retry = 0;
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"}", user, password);
    n = snprintf(req, sizeof req,
                 "POST /api/v1/session HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                 "Content-Type: application/json\r\n%s%s%sContent-Length: %zu\r\n\r\n%s",
                 xff ? "X-Forwarded-For: " : "", xff ? xff : "", xff ? "\r\n" : "", strlen(body),
                 body);
    fd = tcp_connect_from(src, server.port, 30);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, req, (size_t)n), n);
    for (;;) {
        ssize_t got = read(fd, resp + len, sizeof resp - 1 - len);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(fd);
    resp[len] = '\0';
    if (strncmp(resp, "HTTP/1.1 ", 9) == 0)
        status = (int)strtol(resp + 9, NULL, 10);
    if ((p = strstr(resp, "\r\nRetry-After: ")) != NULL)
        *retry = strtol(p + strlen("\r\nRetry-After: "), NULL, 10);
    return status;
}

/* Guessing one name from one place slows down that place for that name
 * only; the right password is refused while waiting, accepted after. */
static void test_pair_backoff(void **state)
{
    long retry;
    (void)state;

    for (int i = 0; i < 3; i++)
        assert_int_equal(sign_in_from("127.0.0.2", NULL, "alice", "wrong", &retry), 401);
    /* The right password now: refused, with a short delay. */
    assert_int_equal(sign_in_from("127.0.0.2", NULL, "alice", "bmjdf-tundra-ferns-61", &retry), 429);
    assert_true(retry >= 1 && retry <= 2);
    /* Others behind the same address sign in. */
    assert_int_equal(sign_in_from("127.0.0.2", NULL, "bob", "cpc-tundra-ferns-61", &retry), 200);
    /* Alice at her own desk signs in. */
    assert_int_equal(sign_in_from("127.0.0.3", NULL, "alice", "bmjdf-tundra-ferns-61", &retry), 200);
    /* Once the delay is over, the right password works from there too. */
    sleep(3);
    assert_int_equal(sign_in_from("127.0.0.2", NULL, "alice", "bmjdf-tundra-ferns-61", &retry), 200);

    /* The delay grows with each further failure, up to the maximum. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(sign_in_from("127.0.0.7", NULL, "carol", "wrong", &retry), 401);
    assert_int_equal(sign_in_from("127.0.0.7", NULL, "carol", "wrong", &retry), 429);
    assert_true(retry >= 1 && retry <= 2);
    sleep(3);
    assert_int_equal(sign_in_from("127.0.0.7", NULL, "carol", "wrong", &retry), 401);
    assert_int_equal(sign_in_from("127.0.0.7", NULL, "carol", "dbspm-tundra-ferns-61", &retry), 429);
    assert_true(retry >= 3 && retry <= 4);
}

/* One address guessing across many names reaches its own allowance (6
 * here): then every name from there waits. */
static void test_address_ceiling(void **state)
{
    long retry;
    (void)state;

    for (int i = 0; i < 6; i++) {
        char user[32];
        snprintf(user, sizeof user, "nobody%d", i);
        assert_int_equal(sign_in_from("127.0.0.5", NULL, user, "wrong", &retry), 401);
    }
    assert_int_equal(sign_in_from("127.0.0.5", NULL, "bob", "cpc-tundra-ferns-61", &retry), 429);
    assert_true(retry > 0);
    assert_int_equal(sign_in_from("127.0.0.6", NULL, "bob", "cpc-tundra-ferns-61", &retry), 200);
}

/* X-Forwarded-For from a peer that is not a trusted proxy is the client's
 * own claim: ignored. */
static void test_spoofed_forwarded_for(void **state)
{
    long retry;
    (void)state;

    for (int i = 0; i < 3; i++) {
        char fake[32];
        snprintf(fake, sizeof fake, "10.9.9.%d", i);
        assert_int_equal(sign_in_from("127.0.0.4", fake, "dave", "wrong", &retry), 401);
    }
    assert_int_equal(sign_in_from("127.0.0.4", "10.8.8.8", "dave", "ebwf-tundra-ferns-61", &retry), 429);
    assert_int_equal(sign_in_from("127.0.0.4", NULL, "dave", "ebwf-tundra-ferns-61", &retry), 429);
}

/* From the trusted proxy (127.0.0.1), the address it appended is the
 * client: clients behind it are told apart, and what a client wrote
 * further left changes nothing. */
static void test_trusted_proxy(void **state)
{
    long retry;
    (void)state;

    for (int i = 0; i < 3; i++)
        assert_int_equal(sign_in_from("127.0.0.1", "10.0.0.1", "bob", "wrong", &retry), 401);
    assert_int_equal(sign_in_from("127.0.0.1", "10.0.0.1", "bob", "cpc-tundra-ferns-61", &retry), 429);
    /* The client claimed another address; the proxy appended its own. */
    assert_int_equal(
        sign_in_from("127.0.0.1", "10.0.0.2, 10.0.0.1", "bob", "cpc-tundra-ferns-61", &retry), 429);
    /* Another client behind the same proxy: not affected. */
    assert_int_equal(sign_in_from("127.0.0.1", "10.0.0.2", "bob", "cpc-tundra-ferns-61", &retry), 200);
    /* The proxy itself is not the client: without the header it counts as
     * its own address, which has not failed. */
    assert_int_equal(sign_in_from("127.0.0.1", NULL, "bob", "cpc-tundra-ferns-61", &retry), 200);
}

CMOCKA_MAIN_WITH((.group = "web_signin", .group_setup = setup, .group_teardown = teardown),
                 test_pair_backoff, test_address_ceiling, test_spoofed_forwarded_for,
                 test_trusted_proxy)
