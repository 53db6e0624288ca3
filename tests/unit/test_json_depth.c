/* Unit tests for the JSON nesting bound (core/json.c json_check_depth and
 * json_parse): depth exactly at the limit is accepted, one more is refused
 * before jansson's recursive parser runs, brackets inside strings (with
 * escaped quotes and backslashes) do not count; json_parse_canonical's
 * answer (in one pass or by the full check) and json_parse's value on the
 * one-pass path; and the wiping buffer growth request bodies use
 * (core/buf.c buf_append_secret). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include <cmocka.h>
#include <sanitizer/asan_interface.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "support/cmocka_main.h"
#include "support/support.h"

/* "[[[...1...]]]" nested DEPTH deep (malloc'd, NUL-terminated). */
static char *nested(const char *open, const char *close, size_t depth, const char *inner)
{
    struct buf b = BUF_INIT(1 << 24);
    char *s;

    for (size_t i = 0; i < depth; i++)
        assert_int_equal(buf_append_str(&b, open), 0);
    assert_int_equal(buf_append_str(&b, inner), 0);
    for (size_t i = 0; i < depth; i++)
        assert_int_equal(buf_append_str(&b, close), 0);
    s = (char *)buf_detach(&b, NULL);
    assert_non_null(s);
    return s;
}

static void test_depth_at_limit_accepted(void **state)
{
    struct err e = ERR_INIT;
    json_t *v = NULL;
    char *s = nested("[", "]", JSON_MAX_DEPTH, "1");
    (void)state;

    assert_int_equal(json_check_depth(s, strlen(s), JSON_MAX_DEPTH, &e), 0);
    assert_int_equal(json_parse(s, strlen(s), &v, &e), 0);
    assert_non_null(v);
    json_decref(v);
    free(s);

    /* Objects count the same: 64 levels of {"a":...}. */
    s = nested("{\"a\":", "}", JSON_MAX_DEPTH, "1");
    assert_int_equal(json_parse(s, strlen(s), &v, &e), 0);
    json_decref(v);
    free(s);
}

static void test_depth_over_limit_refused(void **state)
{
    struct err e = ERR_INIT;
    json_t *v = (json_t *)1;
    char *s = nested("[", "]", JSON_MAX_DEPTH + 1, "1");
    (void)state;

    assert_int_equal(json_check_depth(s, strlen(s), JSON_MAX_DEPTH, &e), -1);
    assert_non_null(strstr(err_msg(&e), "nested deeper than 64 levels"));
    assert_int_equal(json_parse(s, strlen(s), &v, &e), -1);
    assert_null(v);
    assert_non_null(strstr(err_msg(&e), "nested deeper than 64 levels at line 1 column 65"));
    free(s);

    /* Mixed arrays and objects, one level over. */
    s = nested("{\"k\":[", "]}", JSON_MAX_DEPTH / 2, "{}");
    assert_int_equal(json_parse(s, strlen(s), &v, &e), -1);
    assert_non_null(strstr(err_msg(&e), "nested deeper"));
    free(s);

    /* The attack: a million levels (well past what overflows any stack) is
     * refused with constant stack, as is an unclosed run. */
    s = nested("[", "]", 1000000, "");
    assert_int_equal(json_parse(s, strlen(s), &v, &e), -1);
    assert_non_null(strstr(err_msg(&e), "nested deeper"));
    s[1000000] = '\0';
    assert_int_equal(json_parse(s, strlen(s), &v, &e), -1);
    assert_non_null(strstr(err_msg(&e), "nested deeper"));
    free(s);
}

static void test_depth_counts_siblings_once(void **state)
{
    struct err e = ERR_INIT;
    struct buf b = BUF_INIT(1 << 20);
    json_t *v = NULL;
    char *inner = nested("[", "]", JSON_MAX_DEPTH - 1, "0");
    (void)state;

    /* Many siblings at depth 64: depth is nesting, not the bracket count. */
    assert_int_equal(buf_append_str(&b, "["), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(buf_printf(&b, "%s%s", i ? "," : "", inner), 0);
    assert_int_equal(buf_append_str(&b, "]"), 0);
    assert_int_equal(json_parse(buf_str(&b), b.len, &v, &e), 0);
    assert_int_equal(json_array_size(v), 100);
    json_decref(v);
    buf_release(&b);
    free(inner);
}

static void test_depth_ignores_strings(void **state)
{
    struct err e = ERR_INIT;
    struct buf b = BUF_INIT(1 << 20);
    json_t *v = NULL;
    char *brackets = nested("[", "]", 1000, "");
    (void)state;

    /* A thousand brackets inside a string are data. */
    assert_int_equal(buf_printf(&b, "{\"username\":\"%s{{{\"}", brackets), 0);
    assert_int_equal(json_check_depth(buf_str(&b), b.len, 1, &e), 0);
    assert_int_equal(json_parse(buf_str(&b), b.len, &v, &e), 0);
    assert_int_equal(strlen(json_string_value(json_object_get(v, "username"))), 2003);
    json_decref(v);
    buf_release(&b);

    /* Escaped quotes do not end the string: the brackets after \" are still
     * inside it. */
    assert_int_equal(buf_printf(&b, "[\"a\\\"%s\\\"b\"]", brackets), 0);
    assert_int_equal(json_check_depth(buf_str(&b), b.len, 1, &e), 0);
    assert_int_equal(json_parse(buf_str(&b), b.len, &v, &e), 0);
    json_decref(v);
    buf_release(&b);

    /* An escaped backslash before the closing quote ends the string: the
     * brackets after it are structure again and are counted. */
    assert_int_equal(buf_printf(&b, "[\"a\\\\\",%s]", brackets), 0);
    assert_int_equal(json_check_depth(buf_str(&b), b.len, 1, &e), -1);
    assert_int_equal(json_parse(buf_str(&b), b.len, &v, &e), -1);
    assert_non_null(strstr(err_msg(&e), "nested deeper"));
    buf_release(&b);

    /* \u escapes and other escapes are skipped one character at a time. */
    const char *ok = "[\"\\u005b\\n\\\\[\\\"]\", {\"k\\\"[\":[1]}]";
    assert_int_equal(json_check_depth(ok, strlen(ok), 3, &e), 0);
    assert_int_equal(json_check_depth(ok, strlen(ok), 2, &e), -1);
    assert_int_equal(json_parse(ok, strlen(ok), &v, &e), 0);
    json_decref(v);

    /* Line and column of the first bracket over the limit. */
    const char *lines = "{\n \"a\": [\n  [1]]}";
    assert_int_equal(json_check_depth(lines, strlen(lines), 2, &e), -1);
    assert_string_equal(err_msg(&e), "json: nested deeper than 2 levels at line 3 column 3");

    /* Unbalanced closers neither crash nor lower the count below zero. */
    const char *closers = "]]]]}}}}[[";
    assert_int_equal(json_check_depth(closers, strlen(closers), 2, &e), 0);
    assert_int_equal(json_check_depth(closers, strlen(closers), 1, &e), -1);
    assert_int_equal(json_check_depth("", 0, 0, &e), 0);
    free(brackets);
}

static void test_parse_file_bounded(void **state)
{
    struct err e = ERR_INIT;
    json_t *v = NULL;
    char *dir = tmp_dir("jsondepth"), path[4200];
    char *deep = nested("[", "]", 5000, "");
    (void)state;

    snprintf(path, sizeof path, "%s/deep.json", dir);
    assert_int_equal(file_write(path, deep, strlen(deep)), 0);
    assert_int_equal(json_parse_file(path, 1 << 20, &v, &e), -1);
    assert_null(v);
    assert_non_null(strstr(err_msg(&e), "deep.json: json: nested deeper than 64 levels"));
    /* The size cap. */
    assert_int_equal(json_parse_file(path, 100, &v, &e), -1);
    assert_non_null(strstr(err_msg(&e), "larger than 100 bytes"));
    snprintf(path, sizeof path, "%s/ok.json", dir);
    assert_int_equal(file_write(path, "{\"tree_size\":3}", 15), 0);
    assert_int_equal(json_parse_file(path, 100, &v, &e), 0);
    assert_int_equal(json_integer_value(json_object_get(v, "tree_size")), 3);
    json_decref(v);
    snprintf(path, sizeof path, "%s/missing.json", dir);
    assert_int_equal(json_parse_file(path, 100, &v, &e), -1);
    assert_non_null(strstr(err_msg(&e), "cannot open"));
    free(deep);
    tmp_free(&dir);
}

static void test_buf_append_secret(void **state)
{
    struct buf b = BUF_INIT(1000);
    char chunk[100];
    (void)state;

    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 10; i++)
        assert_int_equal(buf_append_secret(&b, chunk, sizeof chunk), 0);
    assert_int_equal(b.len, 1000);
    assert_int_equal(b.data[1000], '\0');
    assert_int_equal(b.data[999], 'x');
    /* Over the cap: fails and releases (the cap is kept). */
    assert_int_equal(buf_append_secret(&b, chunk, 1), -1);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max, 1000);
    assert_int_equal(buf_append_secret(&b, "ab", 2), 0);
    assert_string_equal(buf_str(&b), "ab");
    buf_release_secret(&b);
}

/* json_parse_canonical: parsed and judged canonical whether the one-pass
 * reader takes the text or the full check does; json_parse gives the value
 * jansson's own parser gives; what does not parse fails in both. */
static void parse_canonical_cases(void)
{
    static const struct {
        const char *text;
        int rc;         /* of json_parse_canonical */
        bool canonical; /* when it parses */
    } cases[] = {
        { "{\"a\":1,\"b\":[true,null],\"c\":{\"d\":\"x\"}}", 0, true }, /* one pass */
        { "{\"a\":\"\\n\"}", 0, true },      /* an escape: the full check */
        { "{\"\xc3\xa9\":1}", 0, true },       /* a non-ASCII name: the full check */
        { "{\"a\":1234567890123456}", 0, true }, /* 16 digits: the full check */
        { "[1,2]", 0, true },                    /* not an object: the full check */
        { "{\"a\": 1}", 0, false },
        { "{\"b\":1,\"a\":2}", 0, false },
        { "{\"a\":\"\\u0041\"}", 0, false },
        { "{\"a\":1.5}", 0, false },           /* a real: no canonical form */
        { "{\"a\":1,\"a\":2}", -1, false },     /* duplicate names: refused */
        { "{\"a\":1", -1, false },
        { "{\"a\":\"\xc0\x80\"}", -1, false },  /* overlong UTF-8 */
    };
    char *deep = nested("[", "]", 40, "1"), *too_deep = nested("[", "]", JSON_MAX_DEPTH + 1, "1");

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *t = cases[i].text;
        json_t *v = NULL, *w = NULL, *full = NULL;
        bool canonical = !cases[i].canonical;
        int rc = json_parse_canonical(t, strlen(t), &v, &canonical, NULL);
        if (rc != cases[i].rc || (rc == 0 && canonical != cases[i].canonical))
            fail_msg("%s: rc %d canonical %d", t, rc, canonical);
        assert_int_equal(json_parse(t, strlen(t), &w, NULL), cases[i].rc);
        full = json_loadb(t, strlen(t), JSON_REJECT_DUPLICATES, NULL);
        if (rc == 0 && (!json_equal(v, full) || !json_equal(w, full)))
            fail_msg("%s: not the value jansson reads", t);
        if (rc != 0)
            assert_null(v);
        json_decref(v);
        json_decref(w);
        json_decref(full);
    }
    {
        json_t *v = NULL;
        bool canonical = false;
        assert_int_equal(json_parse_canonical(deep, strlen(deep), &v, &canonical, NULL), 0);
        assert_true(canonical);
        json_decref(v);
        assert_int_equal(json_parse_canonical(too_deep, strlen(too_deep), &v, &canonical, NULL),
                         -1);
        assert_null(v);
    }
    free(deep);
    free(too_deep);
}

static void test_parse_canonical(void **state)
{
    (void)state;
    parse_canonical_cases();
}

/* The same inside an arena (json_arena_enter): the same values and
 * verdicts, the one-pass reader's and the full check's; an arena value
 * json_decref'd stays readable until the release; a value made before the
 * arena was entered is freed for real (a leak under ASan else); an object
 * of many members (its table grown, the old one freed in the arena). */
static void test_parse_canonical_in_arena(void **state)
{
    struct json_arena a = JSON_ARENA_INIT;
    json_t *before = json_pack("{s:s}", "k", "made before the arena"), *v = NULL;
    struct buf text = BUF_INIT(1 << 16);
    bool canonical = false;

    (void)state;
    assert_non_null(before);
    assert_int_equal(buf_append_str(&text, "{"), 0);
    for (int i = 0; i < 300; i++) {
        char m[32];
        (void)snprintf(m, sizeof m, "%s\"k%03d\":%d", i ? "," : "", i, i);
        assert_int_equal(buf_append_str(&text, m), 0);
    }
    assert_int_equal(buf_append_str(&text, "}"), 0);
    json_arena_enter(&a);
    parse_canonical_cases();
    json_decref(before); /* malloc's: freed */
    assert_int_equal(json_parse_canonical(buf_str(&text), text.len, &v, &canonical, NULL), 0);
    assert_true(canonical);
    assert_int_equal(json_object_size(v), 300);
    json_decref(v); /* the arena's: kept until the release */
    json_arena_leave();
    assert_int_equal(json_integer_value(json_object_get(v, "k299")), 299);
    assert_int_equal(json_integer_value(json_object_get(v, "k000")), 0);
    json_arena_release(&a);
    json_arena_release(&a); /* released twice: nothing more */
    buf_release(&text);
}

/* json_read_canonical_pick: the same verdict whether it builds the value
 * or not; each pick the bytes of its member (which are that member's
 * canonical form), absent ones NULL; a name holding '/' or an array on
 * the way matches no path;
 * a text it declines (not canonical, an escape) leaves every pick NULL
 * and, building nothing, leaks nothing. */
static void test_read_canonical_pick(void **state)
{
    static const char *const texts[] = {
        "{\"a\":1,\"b\":[true,null],\"c\":{\"d\":\"x\"}}",
        "{\"a\": 1}",
        "{\"b\":1,\"a\":2}",
        "{\"a\":\"\\n\"}",
        "{\"a\":1.5}",
        "{\"a\":1",
        "[1,2]",
        "{\"a\":{\"b\":1,\"b\":2}}",
    };
    const char *body = "{\"actor\":\"x\",\"data\":{\"link\":{\"statement\":{\"a\":[1,\"\xc3\xa9\"],"
                       "\"b\":{}},\"z\":0},\"version\":3},\"data/link\":{\"statement\":5},"
                       "\"seq\":7}";
    struct json_pick p[4] = { { "data/link/statement", NULL, 0 }, { "seq", NULL, 0 },
                              { "data/missing", NULL, 0 }, { "actor", NULL, 0 } };
    const char *s;
    size_t n;
    json_t *v = NULL;

    (void)state;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct json_pick q = { "a", "stale", 5 };
        int built = json_read_canonical(texts[i], strlen(texts[i]), &v);
        if (json_read_canonical_pick(texts[i], strlen(texts[i]), NULL, &q, 1) != built)
            fail_msg("%s: a different verdict without the tree", texts[i]);
        if (built != 0)
            assert_null(q.at);
        else
            assert_memory_equal(q.at, "1", 1);
        json_decref(v);
        v = NULL;
    }
    assert_int_equal(json_read_canonical_pick(body, strlen(body), &v, p, 4), 0);
    assert_non_null(v);
    assert_int_equal(p[0].len, strlen("{\"a\":[1,\"\xc3\xa9\"],\"b\":{}}"));
    assert_memory_equal(p[0].at, "{\"a\":[1,\"\xc3\xa9\"],\"b\":{}}", p[0].len);
    assert_int_equal(p[1].len, 1);
    assert_memory_equal(p[1].at, "7", 1);
    assert_null(p[2].at);
    assert_false(json_pick_string(&p[2], &s, &n));
    assert_false(json_pick_string(&p[1], &s, &n)); /* an integer */
    assert_true(json_pick_string(&p[3], &s, &n));
    assert_int_equal(n, 1);
    assert_memory_equal(s, "x", 1);
    {
        struct buf c = BUF_INIT(1 << 16);
        json_t *st = json_object_get(json_object_get(json_object_get(v, "data"), "link"),
                                     "statement");
        assert_int_equal(json_canonical(st, &c, NULL), 0);
        assert_int_equal(c.len, p[0].len);
        assert_memory_equal(c.data, p[0].at, c.len);
        buf_release(&c);
    }
    json_decref(v);
    /* an array on the way: no member's path */
    {
        const char *t = "{\"data\":[{\"link\":{\"statement\":1}}],\"seq\":[2]}";
        assert_int_equal(json_read_canonical_pick(t, strlen(t), NULL, p, 2), 0);
        assert_null(p[0].at);
        assert_int_equal(p[1].len, 3);
    }
    /* an escape further on: declined, every pick cleared */
    {
        const char *t = "{\"data\":{\"link\":{\"statement\":1}},\"z\":\"\\n\"}";
        assert_int_equal(json_read_canonical_pick(t, strlen(t), NULL, p, 4), -1);
        for (int i = 0; i < 4; i++)
            assert_null(p[i].at);
    }
}

/* What json_canonical writes, json_parse reads back: JSON_MAX_DEPTH
 * nested containers are written, one more is refused, even when the
 * innermost is empty (a signed body that the audit could not parse). */
static void test_canonical_depth_same_as_parse(void **state)
{
    for (int levels = JSON_MAX_DEPTH - 1; levels <= JSON_MAX_DEPTH + 1; levels++) {
        json_t *v = json_array(), *back = NULL; /* the innermost level, empty */
        struct buf out = BUF_INIT(1 << 16);
        struct err err = ERR_INIT;
        int rc;
        (void)state;

        for (int i = 1; i < levels && v; i++)
            v = i % 2 ? json_pack("{s:o}", "k", v) : json_pack("[o]", v);
        assert_non_null(v);
        rc = json_canonical(v, &out, &err);
        if (levels > JSON_MAX_DEPTH) {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(err_msg(&err), "nesting deeper than"));
        } else {
            assert_int_equal(rc, 0);
            if (json_parse((const char *)out.data, out.len, &back, &err) != 0)
                fail_msg("%d levels written, not read back: %s", levels, err_msg(&err));
            assert_true(json_equal(back, v));
            json_decref(back);
        }
        json_decref(v);
        buf_release(&out);
    }
}

/* Values of about BYTES made in arena A (strings of 200 bytes in an
 * array); the last one checked. */
static void arena_fill(struct json_arena *a, size_t bytes)
{
    char s[201];
    json_t *arr;

    memset(s, 'x', 200);
    s[200] = '\0';
    json_arena_enter(a);
    arr = json_array();
    assert_non_null(arr);
    for (size_t i = 0; i < bytes / 256; i++)
        assert_int_equal(json_array_append_new(arr, json_string(s)), 0);
    json_arena_leave();
    assert_string_equal(json_string_value(json_array_get(arr, bytes / 256 - 1)), s);
}

static long minor_faults(void)
{
    struct rusage ru;

    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_minflt;
}

/* A released arena's chunks are kept (at most 64 MiB in all) and the next
 * arena takes them: its values land on pages already faulted in, so a
 * second tree of the same size costs a small part of the first's page
 * faults (the national push parses a batch of bodies into arenas every
 * push). */
static void test_arena_chunks_reused(void **state)
{
    struct json_arena a = JSON_ARENA_INIT, b = JSON_ARENA_INIT, c = JSON_ARENA_INIT;
    size_t k0 = json_arena_kept(), k1;
    long f0, f1, f2;
    json_t *v;

    (void)state;
    f0 = minor_faults();
    arena_fill(&a, (size_t)12 << 20);
    f1 = minor_faults() - f0;
    json_arena_enter(&a);
    v = json_string("freed with its arena");
    json_arena_leave();
    assert_non_null(v);
    json_arena_release(&a);
#if defined(__SANITIZE_ADDRESS__)
    /* a kept chunk's values are freed: ASan reports a read of one until an
     * arena takes the chunk again */
    assert_true(__asan_address_is_poisoned(v));
#endif
    k1 = json_arena_kept();
    assert_true(k1 > k0 + ((size_t)8 << 20));
    f0 = minor_faults();
    arena_fill(&b, (size_t)12 << 20);
    f2 = minor_faults() - f0;
    assert_true(json_arena_kept() < k1); /* taken by b */
    json_arena_release(&b);
    assert_int_equal(json_arena_kept(), k1);
    /* the first tree faulted its pages in; the second found them there */
    assert_true(f1 > 1000);
    assert_true(f2 < f1 / 4);
    /* a tree larger than what is kept: the kept ones stay under 64 MiB */
    arena_fill(&c, (size_t)100 << 20);
    json_arena_release(&c);
    assert_true(json_arena_kept() <= ((size_t)64 << 20));
    assert_true(json_arena_kept() > 0);
}

CMOCKA_MAIN(NULL, NULL, test_depth_at_limit_accepted, test_depth_over_limit_refused,
            test_depth_counts_siblings_once, test_depth_ignores_strings, test_parse_file_bounded,
            test_buf_append_secret, test_parse_canonical, test_parse_canonical_in_arena,
            test_read_canonical_pick, test_canonical_depth_same_as_parse, test_arena_chunks_reused)
