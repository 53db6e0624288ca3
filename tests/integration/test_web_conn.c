/* Integration tests: `civreg serve` under connections that hold workers
 * without finishing a request (idle sockets, slowloris senders), all from
 * one address, on loopback. The server must keep answering /healthz to
 * another address within a second, close the connections over the
 * per-address cap at once and the slow ones after the header timeout, and
 * let the address in again once they are gone. Bounded: 80 attacking
 * connections for about 8 seconds, then everything is closed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/server_fixture.h"
#include "support/cmocka_main.h"
#include "support/support.h"

#define CAP 8             /* max_connections_per_address */
#define HEADER_TIMEOUT 3  /* header_timeout_seconds */
#define IDLE 40           /* sockets that send nothing */
#define SLOW 40           /* sockets that send a header byte a second */
#define ATTACK_SECONDS 8

static char *dir;
static char data[4096];
static struct test_server server;

static int setup(void **state)
{
    char extra[256];
    (void)state;

    if ((dir = tmp_data_dir("webconn", data, sizeof data, NULL)) == NULL)
        return -1;
    snprintf(extra, sizeof extra,
             "max_connections_per_address = %d\nheader_timeout_seconds = %d\nweb_threads = 32\n",
             CAP, HEADER_TIMEOUT);
    return server_start_conf(&server, data, extra);
}

SERVER_TEARDOWN(server, dir)

/* A TCP connection to the server from source address SRC (any 127/8
 * address is this machine), or -1. */
static int connect_from(const char *src)
{
    return tcp_connect_from(src, server.port, 2);
}

/* GET /healthz on a fresh connection from SRC; the status, or -1 when no
 * whole answer came within 2 s. *SECONDS gets the time it took. */
static int healthz_from(const char *src, double *seconds)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    char resp[4096];
    size_t len = 0;
    double t0 = now_s();
    int fd = connect_from(src), status = -1;

    if (fd >= 0 && write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1)) {
        for (;;) {
            ssize_t n = read(fd, resp + len, sizeof resp - 1 - len);
            if (n <= 0 || now_s() - t0 > 2.0)
                break;
            len += (size_t)n;
        }
        resp[len] = '\0';
        if (strncmp(resp, "HTTP/1.1 ", 9) == 0 && strstr(resp, "\"status\":\"ok\"") != NULL)
            status = (int)strtol(resp + 9, NULL, 10);
    }
    if (fd >= 0)
        close(fd);
    *seconds = now_s() - t0;
    return status;
}

struct attacker {
    int fd;
    bool slow;
    double closed_at; /* seconds after the attack began; < 0 while open */
    bool got_503;
};

static void mark_closed(struct attacker *a, double t)
{
    close(a->fd);
    a->fd = -1;
    a->closed_at = t;
}

/* Read what the server sent A; mark it closed on end of stream or reset. */
static void drain(struct attacker *a, double t)
{
    char buf[512];
    for (;;) {
        ssize_t n = recv(a->fd, buf, sizeof buf - 1, MSG_DONTWAIT);
        if (n > 0) {
            buf[n] = '\0';
            if (strstr(buf, " 503 ") != NULL)
                a->got_503 = true;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        mark_closed(a, t);
        return;
    }
}

static void test_slow_clients(void **state)
{
    static const char start_line[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    struct attacker att[IDLE + SLOW];
    double t0, next_byte = 1.0, next_probe = 0.0, worst = 0.0, secs;
    int probes = 0, refused_fast = 0, still_open = 0, refused_503 = 0, opened = 0;
    (void)state;

    /* Baseline: the server answers. */
    assert_int_equal(healthz_from("127.0.0.2", &secs), 200);

    t0 = now_s();
    for (int i = 0; i < IDLE + SLOW; i++) {
        att[i].fd = connect_from("127.0.0.1");
        att[i].slow = i >= IDLE;
        att[i].closed_at = -1;
        att[i].got_503 = false;
        if (att[i].fd < 0) {
            att[i].closed_at = now_s() - t0; /* refused by the kernel: fine */
            continue;
        }
        opened++;
        if (att[i].slow)
            (void)send(att[i].fd, start_line, sizeof start_line - 1, MSG_NOSIGNAL);
    }
    printf("opened %d of %d attacking connections in %.2f s\n", opened, IDLE + SLOW, now_s() - t0);

    while (now_s() - t0 < ATTACK_SECONDS) {
        struct pollfd pfd[IDLE + SLOW];
        int map[IDLE + SLOW], n = 0;
        double t = now_s() - t0;

        /* Slowloris: one more header byte a second, never the blank line. */
        if (t >= next_byte) {
            for (int i = 0; i < IDLE + SLOW; i++)
                if (att[i].fd >= 0 && att[i].slow &&
                    send(att[i].fd, "X", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN)
                    mark_closed(&att[i], t);
            next_byte += 1.0;
        }
        /* Meanwhile someone else checks the server's health. */
        if (t >= next_probe) {
            int st = healthz_from("127.0.0.2", &secs);
            probes++;
            if (secs > worst)
                worst = secs;
            if (st != 200 || secs >= 1.0)
                printf("healthz at %.1f s: status %d after %.2f s\n", t, st, secs);
            assert_int_equal(st, 200);
            assert_true(secs < 1.0);
            next_probe = t + 0.25;
        }
        for (int i = 0; i < IDLE + SLOW; i++)
            if (att[i].fd >= 0) {
                pfd[n].fd = att[i].fd;
                pfd[n].events = POLLIN;
                map[n++] = i;
            }
        if (n == 0) {
            usleep(100000);
            continue;
        }
        if (poll(pfd, (nfds_t)n, 100) > 0)
            for (int k = 0; k < n; k++)
                if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR))
                    drain(&att[map[k]], now_s() - t0);
    }

    for (int i = 0; i < IDLE + SLOW; i++) {
        if (att[i].fd >= 0) {
            still_open++;
            close(att[i].fd);
            continue;
        }
        if (att[i].closed_at < 2.0)
            refused_fast++;
        if (att[i].got_503)
            refused_503++;
    }
    printf("%d healthz probes, slowest %.3f s; %d connections closed within 2 s (%d with a 503), "
           "%d still open after %d s\n",
           probes, worst, refused_fast, refused_503, still_open, ATTACK_SECONDS);
    assert_true(probes >= 10);
    /* Over the cap: closed at once. */
    assert_true(refused_fast >= IDLE + SLOW - CAP);
    assert_true(refused_503 > 0);
    /* Within the cap: closed by the header timeout, idle or dribbling. */
    assert_int_equal(still_open, 0);
    for (int i = 0; i < IDLE + SLOW; i++)
        assert_true(att[i].closed_at < HEADER_TIMEOUT + 3.0);

    /* The address's connections are all gone: it is served again. */
    assert_int_equal(healthz_from("127.0.0.1", &secs), 200);
}

/* Connections within the cap are served normally, sequentially and at
 * once, keep-alive included. */
static void test_within_cap(void **state)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    int fds[CAP];
    char buf[2048];
    (void)state;

    for (int i = 0; i < CAP; i++) {
        fds[i] = connect_from("127.0.0.3");
        assert_true(fds[i] >= 0);
    }
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < CAP; i++) {
            size_t len = 0;
            assert_int_equal(write(fds[i], req, sizeof req - 1), (ssize_t)(sizeof req - 1));
            buf[0] = '\0';
            while (strstr(buf, "}\n") == NULL) {
                ssize_t n = read(fds[i], buf + len, sizeof buf - 1 - len);
                assert_true(n > 0);
                len += (size_t)n;
                buf[len] = '\0';
            }
            assert_non_null(strstr(buf, "HTTP/1.1 200"));
        }
    for (int i = 0; i < CAP; i++)
        close(fds[i]);
}

/* A wrong setting stops the start with a message naming it. */
static void test_bad_settings(void **state)
{
    static const char *const bad[][2] = {
        { "trusted_proxies = 127.0.0.1, proxy.local\n", "proxy.local" },
        { "header_timeout_seconds = 0\n", "header_timeout_seconds" },
        { "max_connections_per_address = many\n", "max_connections_per_address" },
        { "web_threads = 100000\n", "web_threads" },
        { "signin_backoff_seconds = 60\nsignin_backoff_max_seconds = 10\n",
          "signin_backoff_max_seconds" },
    };
    char *d = tmp_dir("webconnbad");
    char dd[4200], conf[4300];
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct proc_result r;
        FILE *f;
        snprintf(dd, sizeof dd, "%s/d%zu", d, i);
        assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "init", "--data", dd, NULL }), 0);
        assert_int_equal(r.status, 0);
        proc_result_free(&r);
        snprintf(conf, sizeof conf, "%s/civreg.conf", dd);
        assert_non_null(f = fopen(conf, "a"));
        fputs(bad[i][0], f);
        fclose(f);
        assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "serve", "--data", dd, "--listen",
                                                                "127.0.0.1:0", NULL }),
                         0);
        if (r.status != 1 || strstr(r.err, bad[i][1]) == NULL)
            printf("%s-> %d %s\n", bad[i][0], r.status, r.err);
        assert_int_equal(r.status, 1);
        assert_non_null(strstr(r.err, bad[i][1]));
        proc_result_free(&r);
    }
    tmp_free(&d);
}

CMOCKA_MAIN_WITH((.group = "web_conn", .group_setup = setup, .group_teardown = teardown),
                 test_slow_clients, test_within_cap, test_bad_settings)
