/* Benchmark: the web server under wrk (Debian's wrk) on a signed-in record
 * view and record list, over a data directory of N synthetic records
 * (default 100 000) made through the registry API like `serve --demo`.
 *
 *   build/bench/web [--data DIR] [--records N] [--seconds S] [--connections C]
 *
 * DIR is kept between runs (creating 100 000 signed records takes minutes);
 * without --data a temporary folder is used and removed. Prints requests
 * per second and p99 latency per endpoint, and the server's peak resident
 * set. CIVREG_BENCH_BIN names another civreg binary to serve (to compare
 * two builds on the same data). Run it by hand on an otherwise idle
 * machine. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_people.h"
#include "bench_util.h"
#include "loopback.h"
#include "core/buf.h"
#include "issuance/icao/mrz.h"
#include "registry/registry.h"
#include "registry/search.h"
#include "web/web.h"

static double now(void)
{
    return bench_now();
}

/* A wrk latency ("6.91ms", "847.00us", "1.20s") in milliseconds. */
static double wrk_ms(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s)
        return -1;
    if (strncmp(end, "us", 2) == 0)
        return v / 1e3;
    if (strncmp(end, "ms", 2) == 0)
        return v;
    if (*end == 's')
        return v * 1e3;
    if (strncmp(end, "m", 1) == 0)
        return v * 60e3;
    return -1;
}

/* One HTTP/1.1 exchange on loopback; the whole response into OUT. */
static int http(int port, const char *method, const char *path, const char *headers,
                const char *body, struct buf *out)
{
    struct buf req = BUF_INIT(1 << 20);
    char chunk[65536];
    ssize_t n;
    int fd = loopback_connect(port, NULL, 0, 0), rc = -1;

    if (fd < 0)
        return -1;
    if (buf_printf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s"
                         "Content-Length: %zu\r\n\r\n%s",
                   method, path, headers ? headers : "", body ? strlen(body) : 0,
                   body ? body : "") != 0 ||
        write(fd, req.data, req.len) != (ssize_t)req.len)
        goto out;
    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        if (buf_append(out, chunk, (size_t)n) != 0)
            goto out;
    rc = 0;
out:
    buf_release(&req);
    close(fd);
    return rc;
}

/* The value after KEY":" in a JSON text (first occurrence), into OUT. */
static int json_field(const char *text, const char *key, char *out, size_t size)
{
    char pat[64];
    const char *p, *e;

    (void)snprintf(pat, sizeof pat, "\"%s\":\"", key);
    p = strstr(text, pat);
    if (p == NULL)
        return -1;
    p += strlen(pat);
    e = strchr(p, '"');
    if (e == NULL || (size_t)(e - p) >= size)
        return -1;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
    return 0;
}

/* Wait (at most 10 s) until the server takes CONNECTIONS connections from
 * us at once again. The server caps the connections one address holds
 * (max_connections_per_address, 16 by default) and answers one over the
 * cap "503 too many connections": after a wrk run the server may still be
 * finishing that run's last requests on the sockets wrk closed, and the
 * next run's first connections then counted as non-2xx answers. */
static void wait_connections_free(int port, int connections)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

    for (int tries = 0; tries < 100; tries++) {
        int fds[1024], n = connections < 1024 ? connections : 1024, ok = 0;
        char reply[64];

        for (int i = 0; i < n; i++)
            fds[i] = loopback_connect(port, NULL, 2, 2);
        for (int i = 0; i < n; i++) {
            ssize_t got;
            if (fds[i] < 0 || write(fds[i], req, sizeof req - 1) != (ssize_t)(sizeof req - 1))
                continue;
            got = read(fds[i], reply, sizeof reply - 1);
            if (got > 12 && memcmp(reply, "HTTP/1.1 200", 12) == 0)
                ok++;
        }
        for (int i = 0; i < n; i++)
            if (fds[i] >= 0)
                close(fds[i]);
        if (ok == n) {
            /* and a moment for the server to see these probes closed */
            struct timespec ts = { 0, 200 * 1000000L };
            nanosleep(&ts, NULL);
            return;
        }
        {
            struct timespec ts = { 0, 100 * 1000000L };
            nanosleep(&ts, NULL);
        }
    }
    fprintf(stderr, "bench web: the server still refuses some of %d connections\n", connections);
}

/* The server's process, for its CPU time and memory. */
static pid_t server_pid = -1;

/* The server's CPU time so far (user + system, all threads), seconds. */
static double server_cpu_s(void)
{
    char path[64], line[1024], *p;
    unsigned long ut = 0, st = 0;
    FILE *f;
    int field = 3;

    (void)snprintf(path, sizeof path, "/proc/%d/stat", (int)server_pid);
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    p = fgets(line, sizeof line, f) != NULL ? strrchr(line, ')') : NULL;
    fclose(f);
    if (p == NULL)
        return 0;
    /* after "pid (comm)": state is field 3, utime 14, stime 15 */
    for (p += 2; *p != '\0' && field < 14; p++)
        if (*p == ' ')
            field++;
    ut = strtoul(p, &p, 10);
    st = strtoul(p, NULL, 10);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The server's peak resident set so far (VmHWM), in kB, or -1. */
static long peak_rss_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;

    (void)snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

/* Run wrk against PATH with COOKIE; print requests/s and p99 (figures
 * recorded under KEY). */
static int run_wrk(const char *key, const char *label, int port, const char *path, const char *cookie, int seconds,
                   int connections)
{
    char cmd[1024], line[512], rps[64] = "?", p99[64] = "?", p50[64] = "?";
    FILE *f;

    double cpu0, cpu;

    wait_connections_free(port, connections);
    cpu0 = server_cpu_s();
    (void)snprintf(cmd, sizeof cmd,
                   "wrk -t2 -c%d -d%ds --latency -H 'Cookie: %s' 'http://127.0.0.1:%d%s' 2>&1",
                   connections, seconds, cookie, port, path);
    f = popen(cmd, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        char *p = line + strspn(line, " \t");
        if (strncmp(p, "Requests/sec:", 13) == 0)
            (void)snprintf(rps, sizeof rps, "%s", p + 13 + strspn(p + 13, " \t"));
        else if (strncmp(p, "99%", 3) == 0)
            (void)snprintf(p99, sizeof p99, "%s", p + 3 + strspn(p + 3, " \t"));
        else if (strncmp(p, "50%", 3) == 0)
            (void)snprintf(p50, sizeof p50, "%s", p + 3 + strspn(p + 3, " \t"));
        else if (strstr(p, "Non-2xx") != NULL)
            fprintf(stderr, "bench web: %s: %s", label, p);
    }
    if (pclose(f) != 0) {
        fprintf(stderr, "bench web: wrk failed (is the Debian package wrk installed?)\n");
        return -1;
    }
    cpu = server_cpu_s() - cpu0;
    rps[strcspn(rps, "\n")] = '\0';
    p99[strcspn(p99, "\n")] = '\0';
    p50[strcspn(p50, "\n")] = '\0';
    printf("%-40s %10s req/s   p50 %8s   p99 %8s   %7.0f per server CPU s\n", label, rps, p50,
           p99, cpu > 0 ? strtod(rps, NULL) * seconds / cpu : 0.0);
    {
        bench_figuref(cpu > 0 ? strtod(rps, NULL) * seconds / cpu : 0, "req/cpu_s",
                      "%s.req_per_server_cpu_s", key);
        bench_figuref(strtod(rps, NULL), "req/s", "%s.req_per_s", key);
        bench_figuref(wrk_ms(p50), "ms", "%s.p50_ms", key);
        bench_figuref(wrk_ms(p99), "ms", "%s.p99_ms", key);
    }
    return 0;
}

/* ---- the write steps through the web API ------------------------------- */

/* A signed-in user: the session cookie and its CSRF token. */
struct bench_login {
    char cookie[128], csrf[128];
};

static int sign_in(int port, const char *user, struct bench_login *l)
{
    struct buf r = BUF_INIT(1 << 20);
    char body[256];
    const char *c;
    size_t n;
    int rc = -1;

    (void)snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"}", user,
                   WEB_DEMO_PASSWORD);
    if (http(port, "POST", "/api/v1/session", "Content-Type: application/json\r\n", body, &r) !=
            0 ||
        (c = strstr(buf_str(&r), "civreg_session=")) == NULL)
        goto out;
    n = strcspn(c, ";\r\n");
    if (n >= sizeof l->cookie || json_field(buf_str(&r), "csrf_token", l->csrf, sizeof l->csrf) != 0)
        goto out;
    memcpy(l->cookie, c, n);
    l->cookie[n] = '\0';
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "bench web: sign-in of %s failed: %.300s\n", user, buf_str(&r));
    buf_release(&r);
    return rc;
}

/* One keep-alive HTTP/1.1 exchange on FD: a POST of BODY as L; the status,
 * the response body into OUT. -1 when the connection failed. */
static int post_keepalive(int fd, const char *path, const struct bench_login *l, const char *body,
                          struct buf *out)
{
    struct buf req = BUF_INIT(1 << 20);
    char chunk[16384];
    size_t head_end = 0, want = 0;
    int status = -1;

    buf_reset(out);
    if (buf_printf(&req,
                   "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\nX-CSRF-Token: %s\r\n"
                   "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                   path, l->cookie, l->csrf, strlen(body), body) != 0 ||
        write(fd, req.data, req.len) != (ssize_t)req.len)
        goto out;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        const char *h;
        if (n <= 0 || buf_append(out, chunk, (size_t)n) != 0)
            goto out;
        if (head_end == 0 && (h = strstr(buf_str(out), "\r\n\r\n")) != NULL) {
            const char *cl = strstr(buf_str(out), "Content-Length: ");
            head_end = (size_t)(h - buf_str(out)) + 4;
            if (cl == NULL || cl > h)
                goto out;
            want = head_end + (size_t)strtoul(cl + 16, NULL, 10);
            status = (int)strtol(buf_str(out) + 9, NULL, 10);
        }
        if (head_end != 0 && out->len >= want)
            break;
    }
out:
    buf_release(&req);
    return head_end != 0 && out->len >= want ? status : -1;
}

struct step_client {
    int port;
    const struct bench_login *clerk, *clerk2, *registrar;
    long first;         /* the first generated person of this client */
    double until;       /* stop starting records at this time */
    double *lat;        /* per step latency, ms */
    size_t nlat, maxlat;
    long records, failed;
    char why[256];
};

static void step_lat(struct step_client *c, double t0)
{
    if (c->nlat < c->maxlat)
        c->lat[c->nlat++] = (now() - t0) * 1e3;
}

static void *step_main(void *p)
{
    struct step_client *c = p;
    json_t *rec = registry_record_example();
    struct buf r = BUF_INIT(1 << 20);
    int fd = loopback_connect(c->port, NULL, 30, 30);

    for (long i = c->first; fd >= 0 && rec != NULL && now() < c->until; i++) {
        char *js, id[128], path[256];
        double t0;
        int st;

        json_t *body;

        bench_person(rec, i);
        body = json_pack("{s:O,s:b}", "record", rec, "confirm_warnings", 1);
        js = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
        json_decref(body);
        if (js == NULL)
            break;
        t0 = now();
        st = post_keepalive(fd, "/api/v1/records", c->clerk, js, &r);
        step_lat(c, t0);
        if (st != 201 || json_field(buf_str(&r), "id", id, sizeof id) != 0)
            goto failed;
        (void)snprintf(path, sizeof path, "/api/v1/records/%s/verify", id);
        t0 = now();
        st = post_keepalive(fd, path, c->clerk2, js, &r);
        step_lat(c, t0);
        if (st != 200)
            goto failed;
        (void)snprintf(path, sizeof path, "/api/v1/records/%s/register", id);
        t0 = now();
        st = post_keepalive(fd, path, c->registrar, "{}", &r);
        step_lat(c, t0);
        if (st != 200)
            goto failed;
        c->records++;
        free(js);
        continue;
    failed:
        free(js);
        c->failed++;
        if (c->why[0] == '\0') {
            const char *b = strstr(buf_str(&r), "\r\n\r\n");
            (void)snprintf(c->why, sizeof c->why, "status %d: %.200s", st, b ? b + 4 : "");
        }
        if (st < 0) { /* the connection is gone: a new one */
            close(fd);
            fd = loopback_connect(c->port, NULL, 30, 30);
        }
    }
    if (fd >= 0)
        close(fd);
    buf_release(&r);
    json_decref(rec);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* CLIENTS threads, each on one keep-alive connection, each drafting (clerk),
 * verifying (clerk2, the same keying) and registering (registrar) its own
 * new people for SECONDS: one transaction per step, as the web UI does.
 * Prints steps per second and the p50 / p99 of a step. */
static int run_steps(int port, int clients, int seconds)
{
    struct bench_login clerk, clerk2, registrar;
    struct step_client *c = calloc((size_t)clients, sizeof *c);
    pthread_t *t = calloc((size_t)clients, sizeof *t);
    double t0, el, cpu0, cpu, *all = NULL;
    long records = 0, failed = 0;
    size_t n = 0;
    int rc = -1;

    if (c == NULL || t == NULL || sign_in(port, "clerk", &clerk) != 0 ||
        sign_in(port, "clerk2", &clerk2) != 0 || sign_in(port, "registrar", &registrar) != 0)
        goto out;
    wait_connections_free(port, clients);
    cpu0 = server_cpu_s();
    t0 = now();
    for (int i = 0; i < clients; i++) {
        c[i] = (struct step_client){ .port = port, .clerk = &clerk, .clerk2 = &clerk2,
                                     .registrar = &registrar,
                                     /* new people on every run over the same data */
                                     .first = 3000000000L + (long)(time(NULL) % 100000) * 100000L +
                                              (long)i * 5000L,
                                     .until = t0 + seconds, .maxlat = 15000 };
        c[i].lat = calloc(c[i].maxlat, sizeof *c[i].lat);
        if (c[i].lat == NULL || pthread_create(&t[i], NULL, step_main, &c[i]) != 0)
            goto out;
    }
    for (int i = 0; i < clients; i++)
        pthread_join(t[i], NULL);
    el = now() - t0;
    cpu = server_cpu_s() - cpu0;
    for (int i = 0; i < clients; i++) {
        records += c[i].records;
        failed += c[i].failed;
        n += c[i].nlat;
        if (c[i].why[0])
            fprintf(stderr, "bench web: steps: client %d: %ld failed, first %s\n", i, c[i].failed,
                    c[i].why);
    }
    all = calloc(n ? n : 1, sizeof *all);
    if (all == NULL)
        goto out;
    n = 0;
    for (int i = 0; i < clients; i++)
        for (size_t k = 0; k < c[i].nlat; k++)
            all[n++] = c[i].lat[k];
    qsort(all, n, sizeof *all, cmp_double);
    {
        double p50 = n ? all[n / 2] : -1, p99 = n ? all[(size_t)((double)n * 0.99)] : -1;
        char label[96];
        (void)snprintf(label, sizeof label, "POST draft/verify/register (%d clients)", clients);
        printf("%-40s %10.2f steps/s p50 %8.2fms  p99 %8.2fms  %7.0f per server CPU s"
               "  (%ld records, %ld failed)\n",
               label, (double)records * 3 / el, p50, p99,
               cpu > 0 ? (double)records * 3 / cpu : 0.0, records, failed);
        bench_figuref(cpu > 0 ? (double)records * 3 / cpu : 0, "steps/cpu_s",
                      "web.steps.steps_per_server_cpu_s");
        bench_figuref((double)records * 3 / el, "steps/s", "web.steps.steps_per_s");
        bench_figuref(p50, "ms", "web.steps.p50_ms");
        bench_figuref(p99, "ms", "web.steps.p99_ms");
    }
    rc = failed > 0 && records == 0 ? -1 : 0;
out:
    for (int i = 0; c != NULL && i < clients; i++)
        free(c[i].lat);
    free(c);
    free(t);
    free(all);
    return rc;
}

int main(int argc, char **argv)
{
    const char *data = NULL;
    char tmpl[] = "/tmp/civreg-bench-web-XXXXXX", path[4200], line[512], cookie[128],
         id[128], portstr[16];
    int records = 100000, seconds = 10, connections = 16, port = 0, pfd[2], rc = 1;
    struct err err = ERR_INIT;
    struct buf r = BUF_INIT(1 << 20);
    struct stat st;
    bool created = false, tmp = false;
    pid_t pid = -1;
    FILE *out;

    static const char usage[] =
        "usage: web [--data DIR] [--records N] [--seconds S] [--connections C] [--json FILE]\n"
        "  runs wrk (-t2, C connections, default 16, S seconds each, default 10) against the\n"
        "  real `civreg serve` over N synthetic records (default 100000; DIR keeps them\n"
        "  between runs): a logged record view, the draft -> verify -> register steps from C\n"
        "  clients (one transaction per step), record lists, and as anchors /healthz and a\n"
        "  static file from the same server; then the server's peak resident set\n"
        "  (CIVREG_BENCH_BIN=PATH serves with another civreg binary)\n";
    int o = bench_options(&argc, argv, usage);
    if (o != 0)
        return o > 0 ? 0 : 2;
    if (argc % 2 != 1) {
        fputs(usage, stderr);
        return 2;
    }
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--data") == 0)
            data = argv[i + 1];
        else if (strcmp(argv[i], "--records") == 0)
            records = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--connections") == 0)
            connections = (int)strtol(argv[i + 1], NULL, 10);
        else
            records = -1;
    }
    if (records < 1 || seconds < 1 || connections < 1) {
        fputs(usage, stderr);
        return 2;
    }
    if (data == NULL) {
        if (mkdtemp(tmpl) == NULL)
            return 1;
        (void)snprintf(path, sizeof path, "%s/data", tmpl);
        data = path;
        tmp = true;
    }
    if (stat(data, &st) != 0) {
        double t0 = now();
        printf("creating %d signed records in %s ...\n", records, data);
        fflush(stdout);
        if (web_demo_prepare(data, records, &created, &err) != 0) {
            fprintf(stderr, "bench web: %s\n", err_msg(&err));
            goto out;
        }
        printf("created in %.0f s (%.0f records/s through the registry API)\n", now() - t0,
               records / (now() - t0));
    }

    /* The real server, its default 64 worker threads. wrk connects from one
     * address: --connections above max_connections_per_address (16 unless
     * civreg.conf says otherwise) are refused. */
    if (pipe(pfd) != 0)
        goto out;
    pid = fork();
    if (pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        const char *bin = getenv("CIVREG_BENCH_BIN") ? getenv("CIVREG_BENCH_BIN") : CIVREG_BIN;
        execl(bin, bin, "serve", "--data", data, "--listen", "127.0.0.1:0",
              "--log-level", "warn", (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    server_pid = pid;
    out = fdopen(pfd[0], "r");
    if (out == NULL || fgets(line, sizeof line, out) == NULL || strstr(line, "127.0.0.1:") == NULL) {
        fprintf(stderr, "bench web: the server did not start\n");
        goto out;
    }
    port = (int)strtol(strstr(line, "127.0.0.1:") + 10, NULL, 10);
    (void)snprintf(portstr, sizeof portstr, "%d", port);

    /* Sign in as the registrar (any record-reading role would do). */
    if (http(port, "POST", "/api/v1/session", "Content-Type: application/json\r\n",
             "{\"username\":\"registrar\",\"password\":\"" WEB_DEMO_PASSWORD "\"}", &r) != 0 ||
        strstr(buf_str(&r), "civreg_session=") == NULL) {
        fprintf(stderr, "bench web: sign-in failed: %s\n", buf_str(&r));
        goto out;
    }
    {
        const char *c = strstr(buf_str(&r), "civreg_session=");
        size_t n = strcspn(c, ";\r\n");
        if (n >= sizeof cookie)
            goto out;
        memcpy(cookie, c, n);
        cookie[n] = '\0';
    }
    buf_reset(&r);
    (void)snprintf(line, sizeof line, "Cookie: %s\r\n", cookie);
    if (http(port, "GET", "/api/v1/records?status=registered&limit=1", line, NULL, &r) != 0 ||
        json_field(buf_str(&r), "id", id, sizeof id) != 0) {
        fprintf(stderr, "bench web: no record to view: %s\n", buf_str(&r));
        goto out;
    }
    printf("civreg web: %d records, wrk -t2 -c%d -d%ds, server with 64 worker threads\n", records,
           connections, seconds);
    (void)snprintf(path, sizeof path, "/api/v1/records/%s", id);
    if (run_wrk("web.view", "GET /api/v1/records/{id} (view, logged)", port, path, cookie,
                seconds, connections) != 0 ||
        run_steps(port, connections, seconds) != 0 ||
        run_wrk("web.list", "GET /api/v1/records?limit=50", port, "/api/v1/records?limit=50",
                cookie, seconds, connections) != 0 ||
        run_wrk("web.list_draft", "GET /api/v1/records?status=draft&limit=50", port,
                "/api/v1/records?status=draft&limit=50", cookie, seconds, connections) != 0 ||
        run_wrk("anchor.healthz", "GET /healthz (no session, baseline)", port, "/healthz", cookie,
                seconds, connections) != 0 ||
        run_wrk("anchor.static", "GET /static/css/app.css (static file, anchor)", port,
                "/static/css/app.css", cookie, seconds, connections) != 0)
        goto out;
    {
        long kb = peak_rss_kb(pid);
        printf("%-40s %10.1f MB (target < 200 MB)\n", "server peak resident set (VmHWM)",
               kb / 1024.0);
        bench_figuref(kb / 1024.0, "MB", "web.server_peak_rss_mb");
    }
    rc = 0;
out:
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    buf_release(&r);
    if (tmp) {
        (void)snprintf(line, sizeof line, "rm -rf '%s'", tmpl);
        if (system(line) != 0)
            fprintf(stderr, "bench web: could not remove %s\n", tmpl);
    }
    (void)portstr;
    if (rc == 0 && bench_write_json("web") != 0)
        rc = 1;
    return rc;
}
