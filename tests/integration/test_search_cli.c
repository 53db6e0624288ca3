/* Integration tests of search and duplicate detection through the real
 * civreg binary: one name in four spellings finds the same records, the
 * query errors, and the duplicate gate: a second keying of a registered
 * birth (in Cyrillic) is held back from registration until a registrar
 * resolves it, the resolution is a signed event that `audit verify`
 * accepts, and a record resolved as a duplicate is never registered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "support/expect.h"
#include "support/cmocka_main.h"
#include "support/support.h"

static char *root;
static char data[4096];
static char pw_admin[4096], pw_c1[4096], pw_c2[4096], pw_reg[4096];

static void must_run(const char *in, struct proc_result *r, const char *const args[])
{
    assert_int_equal(civreg_run(in, r, args), 0);
}

static int setup(void **state)
{
    (void)state;
    if ((root = tmp_data_dir("search-cli", data, sizeof data, NULL)) == NULL)
        return -1;
    civreg_staff_add(data, root, "clerk", "registrar", pw_admin, pw_c1, pw_c2, pw_reg);
    return 0;
}

TMP_DIR_TEARDOWN(root)

/* The example record with the child's names, birth date and entry. */
static char *record(const char *given, const char *family, const char *date, int entry)
{
    char *ex = civreg_run_ok(NULL, (const char *[]){ "record", "draft", "--example", NULL });
    json_t *v = json_loads(ex, 0, NULL), *child, *birth;
    char *out;
    assert_non_null(v);
    child = json_object_get(v, "child");
    birth = json_object_get(v, "birth");
    json_object_set_new(child, "given_names", json_string(given));
    json_object_set_new(child, "family_name", json_string(family));
    json_object_set_new(birth, "date", json_string(date));
    json_object_set_new(json_object_get(v, "register"), "entry", json_integer(entry));
    out = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    free(ex);
    return out;
}

static char *draft(const char *rec, char *id, size_t size)
{
    size_t n = strlen(rec);
    char *in = malloc(n + 64);
    char *out;
    (void)snprintf(in, n + 64, "%s", rec);
    out = civreg_run_ok(in, (const char *[]){ "record", "draft", "--data", data, "--user", "clerk1",
                                       "--password-file", pw_c1, NULL });
    text_chomp(out);
    (void)snprintf(id, size, "%s", out);
    free(out);
    free(in);
    return id;
}

static void verify(const char *id, const char *rec)
{
    free(civreg_run_ok(rec, (const char *[]){ "record", "verify", id, "--data", data, "--user",
                                       "clerk2", "--password-file", pw_c2, NULL }));
}

static struct proc_result reg(const char *id)
{
    struct proc_result r;
    must_run(NULL, &r, (const char *[]){ "record", "register", id, "--data", data, "--user", "reg",
                                         "--password-file", pw_reg, NULL });
    return r;
}

static json_t *search(const char *const words[])
{
    const char *args[24] = { "search", "--data", data, "--user", "clerk1", "--password-file",
                             pw_c1 };
    size_t k = 7;
    char *out;
    json_t *v;
    for (size_t i = 0; words[i] && k < 23; i++)
        args[k++] = words[i];
    args[k] = NULL;
    out = civreg_run_ok(NULL, args);
    v = json_loads(out, 0, NULL);
    free(out);
    assert_non_null(v);
    return v;
}

static const char *top_id(const json_t *res)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(res, "results"), 0), "record_id"));
}

static void test_search_and_duplicates(void **state)
{
    char a[64], b[64], c[64];
    char *ra = record("Hans", "Müller", "1987-03-12", 1);
    char *rb = record("Ганс", "Мюллер", "1987-03-12", 2);
    char *rc = record("Hanna", "Müller", "1987-03-12", 3); /* a twin sister */
    struct proc_result r;
    json_t *res;
    char *out;
    (void)state;

    draft(ra, a, sizeof a);
    verify(a, ra);
    r = reg(a);
    assert_int_equal(r.status, 0);
    proc_result_free(&r);

    /* every spelling finds the registered record first */
    {
        const char *spellings[] = { "Müller", "Mueller", "MULLER", "Мюллер", "muler" };
        for (size_t i = 0; i < 5; i++) {
            res = search((const char *[]){ spellings[i], "hans", "1987", NULL });
            assert_string_equal(top_id(res), a);
            assert_string_equal(json_string_value(json_object_get(
                                    json_array_get(json_object_get(res, "results"), 0),
                                    "status")),
                                "registered");
            json_decref(res);
        }
    }

    /* the same birth keyed again from another register, in Cyrillic */
    draft(rb, b, sizeof b);
    verify(b, rb);
    r = reg(b);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "unresolved possible duplicate"));
    assert_non_null(strstr(r.err, a));
    proc_result_free(&r);

    out = civreg_run_ok(NULL, (const char *[]){ "duplicates", "list", b, "--data", data, "--user",
                                         "clerk1", "--password-file", pw_c1, NULL });
    assert_non_null(strstr(out, a));
    assert_non_null(strstr(out, "\"open\""));
    free(out);

    /* a clerk may not resolve; a reason is required */
    civreg_expect(NULL, 1, "registrar",
                  (const char *[]){ "duplicates", "resolve", b, a, "--same", "--reason",
                                    "same page", "--data", data, "--user", "clerk1",
                                    "--password-file", pw_c1, NULL });
    civreg_expect(NULL, 2, NULL,
                  (const char *[]){ "duplicates", "resolve", b, a, "--same", "--data", data,
                                    "--user", "reg", "--password-file", pw_reg, NULL });

    free(civreg_run_ok(NULL, (const char *[]){ "duplicates", "resolve", b, a, "--same", "--reason",
                                        "the same entry, copied into the 1990 register",
                                        "--data", data, "--user", "reg", "--password-file",
                                        pw_reg, NULL }));
    r = reg(b);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "resolved as the same birth"));
    proc_result_free(&r);
    civreg_expect(NULL, 1, "already resolved",
                  (const char *[]){ "duplicates", "resolve", b, a, "--distinct", "--reason",
                                    "x", "--data", data, "--user", "reg",
                                    "--password-file", pw_reg, NULL });

    /* a twin: flagged, resolved as distinct, then registered */
    draft(rc, c, sizeof c);
    verify(c, rc);
    r = reg(c);
    assert_int_equal(r.status, 1);
    proc_result_free(&r);
    free(civreg_run_ok(NULL, (const char *[]){ "duplicates", "resolve", c, a, "--distinct", "--reason",
                                        "twin sister, birth order 2 on the same page", "--data",
                                        data, "--user", "reg", "--password-file", pw_reg,
                                        NULL }));
    {
        /* C also resembles B (both resemble A) */
        out = civreg_run_ok(NULL, (const char *[]){ "duplicates", "list", c, "--data", data, "--user",
                                             "reg", "--password-file", pw_reg, NULL });
        if (strstr(out, "\"open\""))
            free(civreg_run_ok(NULL, (const char *[]){ "duplicates", "resolve", c, b, "--distinct",
                                                "--reason", "twin sister", "--data", data,
                                                "--user", "reg", "--password-file", pw_reg,
                                                NULL }));
        free(out);
    }
    r = reg(c);
    assert_int_equal(r.status, 0);
    proc_result_free(&r);

    /* the resolutions are signed events the audit accepts */
    out = civreg_run_ok(NULL, (const char *[]){ "audit", "trace", b, "--data", data, NULL });
    assert_non_null(strstr(out, "record.duplicate"));
    free(out);
    free(civreg_run_ok(NULL, (const char *[]){ "audit", "verify", "--data", data, NULL }));

    /* searching by registration number, UIN, status, parents */
    res = search((const char *[]){ "status:registered", "mother:grace", "place:kisumu", NULL });
    assert_int_equal(json_integer_value(json_object_get(res, "count")), 2);
    json_decref(res);

    free(ra);
    free(rb);
    free(rc);
}

static void test_search_errors(void **state)
{
    struct proc_result r;
    (void)state;
    civreg_expect(NULL, 2, "--user",
                  (const char *[]){ "search", "--data", data, "Müller", NULL });
    civreg_expect(NULL, 1, "'born:1985-13' is not a date",
                  (const char *[]){ "search", "--data", data, "--user", "clerk1",
                                    "--password-file", pw_c1, "born:1985-13", NULL });
    civreg_expect(NULL, 1, "unknown field 'colour:'",
                  (const char *[]){ "search", "--data", data, "--user", "clerk1",
                                    "--password-file", pw_c1, "colour:blue", NULL });
    must_run(NULL, &r, (const char *[]){ "search", "--data", data, "--user", "clerk1",
                                         "--password-file", pw_c1, "--reindex", NULL });
    assert_int_equal(r.status, 1); /* a clerk may not rebuild the index */
    proc_result_free(&r);
    free(civreg_run_ok(NULL, (const char *[]){ "search", "--data", data, "--user", "reg",
                                        "--password-file", pw_reg, "--reindex", NULL }));
}

CMOCKA_MAIN(setup, teardown, test_search_and_duplicates, test_search_errors)
