/* Decompression bombs and costly pictures against the real civreg binary:
 *  - `civreg scan decode` on the 90-byte PNG whose tEXt chunk claims 2 GB:
 *    a clear error and a small peak (wait4's ru_maxrss of the child);
 *  - the public POST /api/v1/seal/verify of a real server on loopback:
 *    multi-page deflate TIFF of huge zero pages, a 12000 x 12000 PNG, a
 *    JPEG and a plain PGM whose headers claim huge pages, one at a time and
 *    four at once, then four costly pictures within the limits at once:
 *    each answered within 5 s with a 4xx (503 when the queue is full), the
 *    server's VmHWM under 300 MB, and the server still answering /healthz
 *    and reading a QR code afterwards;
 *  - `civreg scan import` with scan_memory_mb = 64: a bomb over the budget
 *    fails without being decoded, pages within it are imported one at a
 *    time, and the peak stays bounded. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "scanner/bombgen.h"
#include "scanner/pagegen.h"
#include "support/expect.h"
#include "support/server_fixture.h"
#include "support/cmocka_main.h"
#include "support/support.h"

#define MB (1024LL * 1024)

static char *dir;
static char data[4200];
static struct test_server server;
static char pw_admin[4200], pw_clerk[4200];

/* Run civreg ARGS with stdout and stderr in files; *STATUS its exit code.
 * Returns its peak resident memory in bytes (wait4), -1 on failure. */
static long long run_measured(const char *const args[], int *status)
{
    struct rusage ru;
    int st = 0;
    /* a runaway child is killed, and the test fails */
    pid_t pid = civreg_spawn(args, tmp_path(dir, "run.out"), tmp_path(dir, "run.err"), 240);

    if (pid < 0)
        return -1;
    if (wait4(pid, &st, 0, &ru) != pid)
        return -1;
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return (long long)ru.ru_maxrss * 1024;
}

static char *slurp(const char *name)
{
    size_t len;
    char *s = file_read(tmp_path(dir, name), &len);
    assert_non_null(s);
    return s;
}

static void write_file(const char *name, const void *p, size_t len)
{
    assert_int_equal(file_write(tmp_path(dir, name), p, len), 0);
}

/* A page with a QR code holding TEXT (not a seal), as PNG bytes. */
static void qr_page(const char *name, const char *text)
{
    struct scan_image img = SCAN_IMAGE_INIT;
    assert_int_equal(pg_page(&img, 800, 600, 255), 0);
    assert_true(pg_barcode(&img, PG_QR, 100, 100, 6, 0, text) > 0);
    assert_int_equal(pg_write_png(tmp_path(dir, name), &img), 0);
    scan_image_release(&img);
}

static int setup(void **state)
{
    (void)state;

    bomb_small_quarantine();
    if ((dir = tmp_data_dir("imagebombs", data, sizeof data, NULL)) == NULL)
        return -1;
    civreg_staff_add(data, dir, "clerk", NULL, pw_admin, pw_clerk, NULL, NULL);
    civreg_ok(NULL, (const char *[]){ "pki", "init", "--data", data, "--country", "UT", "--user",
                                      "admin", "--password-file", pw_admin, NULL });
    /* The clerk's import runs under a small memory budget. */
    return server_start_conf(&server, data, "\nscan_memory_mb = 64\n");
}

SERVER_TEARDOWN(server, dir)

/* ---- civreg scan decode ---- */

static void test_cli_png_text_chunk(void **state)
{
    int status = -1;
    long long rss;
    char *err;
    (void)state;

    write_file("text-chunk.png", bomb_png_text, sizeof bomb_png_text);
    const char *args[] = { "scan", "decode", tmp_path(dir, "text-chunk.png"), NULL };
    rss = run_measured(args, &status);
    err = slurp("run.err");
    assert_true(rss > 0);
    if (rss > 100 * MB)
        fail_msg("civreg scan decode peaked at %lld MB on a 90-byte file", rss / MB);
    assert_int_equal(status, 1);
    if (strstr(err, "claims 1990615333 bytes") == NULL || strstr(err, "text-chunk.png") == NULL)
        fail_msg("unclear message: %s", err);
    free(err);
}

/* ---- the public seal check ---- */

struct post {
    const unsigned char *body;
    size_t len;
    const char *type;
    int status;
    double seconds;
    char retry_after[16];
    char *answer;
};

static void *post_one(void *arg)
{
    struct post *p = arg;
    struct http_response r;
    char hdr[128];
    double t0 = now_s();

    snprintf(hdr, sizeof hdr, "Content-Type: %s\r\n", p->type);
    p->status = -1;
    if (http_request(server.port, "POST", "/api/v1/seal/verify", hdr, (const char *)p->body, p->len,
                     &r) == 0) {
        p->status = r.status;
        if (http_header(&r, "Retry-After", p->retry_after, sizeof p->retry_after) != 0)
            p->retry_after[0] = '\0';
        p->answer = r.body ? strdup(r.body) : NULL;
        http_response_free(&r);
    }
    p->seconds = now_s() - t0;
    return NULL;
}

/* POST N bodies at once; each must be answered within 5 s with one of the
 * statuses in OK (0-terminated). */
static void post_all(struct post *p, size_t n, const int *ok)
{
    pthread_t t[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(pthread_create(&t[i], NULL, post_one, &p[i]), 0);
    for (size_t i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    for (size_t i = 0; i < n; i++) {
        int good = 0;
        for (const int *s = ok; *s; s++)
            good |= p[i].status == *s;
        print_message("upload %zu (%s, %zu bytes): %d in %.2f s\n", i, p[i].type, p[i].len,
                      p[i].status, p[i].seconds);
        if (!good || p[i].seconds > 5.0)
            fail_msg("upload %zu (%s, %zu bytes): status %d after %.1f s: %s", i, p[i].type,
                     p[i].len, p[i].status, p[i].seconds, p[i].answer ? p[i].answer : "");
        if (p[i].status == 503 && p[i].retry_after[0] == '\0')
            fail_msg("503 without Retry-After");
        free(p[i].answer);
        p[i].answer = NULL;
    }
}

static long long server_hwm(void)
{
    char path[64], *s, *v;
    size_t len;
    long long kb;

    snprintf(path, sizeof path, "/proc/%d/status", (int)server.pid);
    s = file_read(path, &len);
    assert_non_null(s);
    v = strstr(s, "VmHWM:");
    assert_non_null(v);
    kb = strtoll(v + 6, NULL, 10);
    free(s);
    return kb * 1024;
}

static void test_seal_bombs(void **state)
{
    unsigned char *tif, *png, *jpg, *pgm, *big;
    size_t tif_len, png_len, jpg_len, pgm_len, big_len;
    const int refused[] = { 413, 422, 0 };
    const int refused_or_busy[] = { 413, 422, 503, 0 };
    const int done_or_busy[] = { 200, 422, 503, 0 };
    struct http_response r;
    long long hwm;
    size_t len;
    char *qr;
    (void)state;

    assert_int_equal(bomb_tiff(20000, 7500, 4, &tif, &tif_len), 0);
    assert_int_equal(bomb_png(12000, 12000, &png, &png_len), 0);
    assert_int_equal(bomb_jpeg(20000, 7500, &jpg, &jpg_len), 0);
    assert_int_equal(bomb_pgm_plain(20000, 7500, &pgm, &pgm_len), 0);
    /* Within the public limits (12 Mpx) but costly: all black. */
    assert_int_equal(bomb_png(3464, 3464, &big, &big_len), 0);

    /* One at a time. */
    {
        struct post p[5] = {
            { tif, tif_len, "image/tiff", 0, 0, "", NULL },
            { png, png_len, "image/png", 0, 0, "", NULL },
            { jpg, jpg_len, "image/jpeg", 0, 0, "", NULL },
            { pgm, pgm_len, "image/png", 0, 0, "", NULL },
            { bomb_png_text, sizeof bomb_png_text, "image/png", 0, 0, "", NULL },
        };
        for (size_t i = 0; i < 5; i++)
            post_all(&p[i], 1, refused);
    }
    /* Four at once, twice: bombs, then costly pictures within the limits. */
    {
        struct post p[4] = {
            { tif, tif_len, "image/tiff", 0, 0, "", NULL },
            { tif, tif_len, "image/tiff", 0, 0, "", NULL },
            { png, png_len, "image/png", 0, 0, "", NULL },
            { tif, tif_len, "image/tiff", 0, 0, "", NULL },
        };
        post_all(p, 4, refused_or_busy);
    }
    {
        struct post p[4];
        for (size_t i = 0; i < 4; i++)
            p[i] = (struct post){ big, big_len, "image/png", 0, 0, "", NULL };
        post_all(p, 4, done_or_busy);
    }
    hwm = server_hwm();
    if (hwm > 300 * MB)
        fail_msg("the server peaked at %lld MB", hwm / MB);

    /* Still serving: liveness, and an ordinary picture is read. */
    http_expect(server.port, "GET", "/healthz", NULL, NULL, 0, 200, NULL);
    qr_page("qr.png", "not a seal");
    qr = file_read(tmp_path(dir, "qr.png"), &len);
    assert_non_null(qr);
    assert_int_equal(http_request(server.port, "POST", "/api/v1/seal/verify",
                                  "Content-Type: image/png\r\n", qr, len, &r), 0);
    if (r.status != 200 || strstr(r.body, "not JSON") == NULL)
        fail_msg("ordinary picture: %d %s", r.status, r.body);
    http_response_free(&r);
    free(qr);
    free(tif);
    free(png);
    free(jpg);
    free(pgm);
    free(big);
}

/* ---- the clerk's batch import ---- */

static void test_import_budget(void **state)
{
    unsigned char *p;
    size_t len;
    int status = -1;
    long long rss;
    char *out, *err;
    (void)state;

    {
        char d[4300];
        snprintf(d, sizeof d, "%s/stack", dir);
        assert_int_equal(mkdir(d, 0700), 0);
    }
    /* Two pages of 20000 x 7500 (300 Mpx): far over 64 MB. */
    assert_int_equal(bomb_tiff(20000, 7500, 2, &p, &len), 0);
    write_file("stack/a-bomb.tif", p, len);
    free(p);
    /* 16.4 Mpx each: about 50 MB to decode and analyse, one at a time. */
    assert_int_equal(bomb_png(4100, 4000, &p, &len), 0);
    write_file("stack/b-page.png", p, len);
    free(p);
    assert_int_equal(bomb_png(4000, 4100, &p, &len), 0);
    write_file("stack/c-page.png", p, len);
    free(p);
    qr_page("stack/d-qr.png", "page 4");
    const char *args[] = { "scan", "import", "--data", data, "--user", "clerk1",
                           "--password-file", pw_clerk, "--jobs", "2", "--json",
                           tmp_path(dir, "stack"), NULL };
    rss = run_measured(args, &status);
    out = slurp("run.out");
    err = slurp("run.err");
    assert_int_equal(status, 1); /* one file failed */
    if (strstr(err, "a-bomb.tif: needs about") == NULL ||
        strstr(err, "over the memory budget of 64 MB") == NULL)
        fail_msg("bomb not refused by the budget: %s", err);
    if (strstr(out, "\"files_imported\": 3") == NULL && strstr(out, "\"files_imported\":3") == NULL)
        fail_msg("pages within the budget not imported: %s %s", out, err);
    free(out);
    free(err);
    if (rss > 250 * MB)
        fail_msg("civreg scan import peaked at %lld MB with a 64 MB budget", rss / MB);
}

CMOCKA_MAIN(setup, teardown, test_cli_png_text_chunk, test_seal_bombs, test_import_budget)
