/* Request bodies are wiped on every path (web/http.c web_body_collect and
 * web_body_json): a sign-in body holds a password whether or not it parses.
 *
 * This executable is linked with -Wl,--wrap=free,--wrap=realloc, so every
 * free() and realloc() made by civreg's code (the static civreg_web and
 * civreg_core libraries and this file) comes here first. Each block being
 * released is searched for the password before it goes back to the C
 * library: finding it means a copy of the secret was left in freed memory.
 * realloc is replaced by malloc + copy + free of the old block, as a moving
 * realloc does, so an unwiped old block is seen too. */
#define _GNU_SOURCE /* memmem */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "web/web_int.h"
#include "../support/chunk_source.h"
#include "support/cmocka_main.h"

#define PASSWORD "Correct-Horse-Battery-Staple-7f3a"

void __real_free(void *p);
void __wrap_free(void *p);
void *__wrap_realloc(void *p, size_t n);

static size_t leaks; /* freed blocks that still held PASSWORD */

static void inspect(const void *p)
{
    size_t n = malloc_usable_size((void *)p);

    if (n >= sizeof PASSWORD - 1 && memmem(p, n, PASSWORD, sizeof PASSWORD - 1) != NULL)
        leaks++;
}

void __wrap_free(void *p)
{
    if (p != NULL)
        inspect(p);
    __real_free(p);
}

void *__wrap_realloc(void *p, size_t n)
{
    void *q;
    size_t old;

    if (p == NULL)
        return malloc(n);
    old = malloc_usable_size(p);
    q = malloc(n ? n : 1);
    if (q == NULL)
        return NULL;
    memcpy(q, p, old < n ? old : n);
    __wrap_free(p);
    return q;
}

/* A sign-in body of about LEN bytes: the password first, then padding in
 * the username so the buffer grows several times after it was copied. */
static char *signin_body(size_t pad, const char *tail)
{
    struct buf b = BUF_INIT(1 << 20);
    char *s;

    assert_int_equal(buf_append_str(&b, "{\"password\":\"" PASSWORD "\",\"username\":\""), 0);
    for (size_t i = 0; i < pad; i++)
        assert_int_equal(buf_append_byte(&b, 'u'), 0);
    assert_int_equal(buf_append_str(&b, tail), 0);
    s = (char *)buf_detach(&b, NULL);
    assert_non_null(s);
    return s;
}

/* The body as the handler sees it: collected, then parsed. Returns the
 * collect status, or 0 and the parse result in *PARSED. */
static int read_body(const char *body, size_t announced_extra, int end, size_t max, int *parsed,
                     json_t **out)
{
    struct chunk_source src = { body, strlen(body), 0, 100, end };
    struct buf b = BUF_INIT(max);
    struct err e = ERR_INIT;
    int st;

    st = web_body_collect(chunk_source_read, &src, announced_extra ? (long long)(strlen(body) + announced_extra)
                                                             : -1,
                          max, &b);
    if (st != 0) {
        assert_null(b.data);
        return st;
    }
    *parsed = web_body_json(&b, out, &e);
    assert_null(b.data);
    return 0;
}

static void check_no_leak(const char *body, size_t announced_extra, int end, size_t max,
                          int want_status, int want_parsed)
{
    json_t *v = NULL;
    int parsed = 99, st;

    leaks = 0;
    st = read_body(body, announced_extra, end, max, &parsed, &v);
    assert_int_equal(st, want_status);
    if (st == 0)
        assert_int_equal(parsed, want_parsed);
    json_decref(v);
    if (leaks != 0)
        fail_msg("%zu freed block(s) still held the password (status %d)", leaks, st);
}

static void test_body_parse_failure_wiped(void **state)
{
    char *deep = signin_body(600, "\",\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                                  "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]}");
    char *broken = signin_body(600, "\",}");
    char *notobj = NULL;
    (void)state;

    /* Invalid JSON and too deep: refused, and no copy of the password left. */
    check_no_leak(broken, 0, 0, 1 << 20, 0, -1);
    check_no_leak(deep, 0, 0, 1 << 20, 0, -1);
    /* Valid JSON that is not an object. */
    notobj = signin_body(600, "\"}");
    notobj[0] = '[';
    notobj[strlen(notobj) - 1] = ']';
    check_no_leak(notobj, 0, 0, 1 << 20, 0, -1);
    free(deep);
    free(broken);
    free(notobj);
}

static void test_body_success_wiped(void **state)
{
    char *ok = signin_body(600, "\"}");
    (void)state;

    check_no_leak(ok, 0, 0, 1 << 20, 0, 0);
    free(ok);
}

static void test_body_read_failures_wiped(void **state)
{
    char *ok = signin_body(600, "\"}");
    (void)state;

    /* Chunked and over the cap: 413 after the password was read. */
    check_no_leak(ok, 0, 0, 400, 413, 0);
    /* Announced longer than delivered: 400. */
    check_no_leak(ok, 10, 0, 1 << 20, 400, 0);
    /* The connection fails mid-body: 400. */
    check_no_leak(ok, 0, -1, 1 << 20, 400, 0);
    /* Announced over the cap: refused before reading anything. */
    check_no_leak(ok, 1 << 20, 0, 1 << 20, 413, 0);
    free(ok);
}

/* The detector detects: a plain buffer freed without wiping is seen. */
static void test_detector_sees_unwiped(void **state)
{
    struct buf b = BUF_INIT(1 << 20);
    char *ok = signin_body(600, "\"}");
    (void)state;

    leaks = 0;
    for (size_t i = 0, len = strlen(ok); i < len; i += 100)
        assert_int_equal(buf_append(&b, ok + i, len - i < 100 ? len - i : 100), 0);
    buf_release(&b);
    assert_true(leaks > 0);
    free(ok); /* the test's own copy */
    leaks = 0;
}

CMOCKA_MAIN(NULL, NULL, test_detector_sees_unwiped, test_body_parse_failure_wiped,
            test_body_success_wiped, test_body_read_failures_wiped)
