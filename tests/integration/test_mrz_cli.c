/* Integration tests: the real `civreg mrz generate|parse|transliterate`
 * commands (exit codes, stdout/stderr contract), and a sample of random
 * records cross-checked by the independent npm package mrz. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "mrz_random.h"
#include "support/expect.h"
#include "support/cmocka_main.h"
#include "support/support.h"

static void test_generate_and_parse_specimens(void **state)
{
    static const char *const names[] = { "td1", "td2", "td3", "mrva", "mrvb", "td1-long-number", "td2-long-number" };
    (void)state;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char f[64];
        struct proc_result r;
        snprintf(f, sizeof f, "%s.json", names[i]);
        char *in = test_data_read("mrz", f, NULL);
        snprintf(f, sizeof f, "%s.mrz", names[i]);
        char *want = test_data_read("mrz", f, NULL);
        assert_int_equal(civreg_run(in, &r, (const char *[]){ "mrz", "generate", NULL }), 0);
        assert_int_equal(r.status, 0);
        assert_string_equal(r.out, want);
        /* The specimen's "María" is transliterated: a warning on stderr. */
        assert_non_null(strstr(r.err, "transliterated 'í' (U+00ED) as I") ? r.err : (strstr(names[i], "long") ? "" : NULL));
        proc_result_free(&r);

        assert_int_equal(civreg_run(want, &r, (const char *[]){ "mrz", "parse", NULL }), 0);
        assert_int_equal(r.status, 0);
        json_t *j = NULL;
        assert_int_equal(json_parse(r.out, r.out_len, &j, NULL), 0);
        assert_true(json_is_true(json_object_get(j, "valid")));
        assert_int_equal(json_array_size(json_object_get(j, "errors")), 0);
        assert_true(json_array_size(json_object_get(j, "checks")) >= 3);
        json_decref(j);
        proc_result_free(&r);
        free(in);
        free(want);
    }
}

static void test_parse_exit_codes(void **state)
{
    struct proc_result r;
    json_t *j = NULL;
    (void)state;
    /* Invalid: exit 1, JSON with a located error. */
    assert_int_equal(civreg_run("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
                                "L898902C37UTO7408122F1204159ZE184226B<<<<<10\n",
                                &r, (const char *[]){ "mrz", "parse", NULL }),
                     0);
    assert_int_equal(r.status, 1);
    assert_int_equal(json_parse(r.out, r.out_len, &j, NULL), 0);
    assert_true(json_is_false(json_object_get(j, "valid")));
    json_t *e = json_array_get(json_object_get(j, "errors"), 0);
    assert_string_equal(json_string_value(json_object_get(e, "field")), "document_number_check");
    assert_int_equal(json_integer_value(json_object_get(e, "line")), 2);
    assert_int_equal(json_integer_value(json_object_get(e, "column")), 10);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "fields"), "document_number_check")), "7");
    json_decref(j);
    proc_result_free(&r);
    /* Not an MRZ: exit 2. */
    civreg_expect("Dear clerk,\nplease find attached\n", 2, "not an MRZ", (const char *[]){ "mrz", "parse", NULL });
    civreg_expect("", 2, NULL, (const char *[]){ "mrz", "parse", NULL });
}

static void test_generate_errors(void **state)
{
    struct proc_result r;
    (void)state;
    assert_int_equal(civreg_run("{\"format\":\"TD3\",\"document_code\":\"P\",\"issuing_state\":\"UTO\","
                                "\"primary_identifier\":\"Eriksson\",\"document_number\":\"L898902C3\","
                                "\"nationality\":\"QQQ\",\"date_of_birth\":\"1974-08-12\",\"sex\":\"F\","
                                "\"date_of_expiry\":\"2012-04-15\"}",
                                &r, (const char *[]){ "mrz", "generate", NULL }),
                     0);
    assert_int_equal(r.status, 1);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "civreg mrz generate: nationality: 'QQQ'"));
    proc_result_free(&r);
    civreg_expect("not json", 1, "input", (const char *[]){ "mrz", "generate", NULL });
    civreg_expect("{}", 1, "format", (const char *[]){ "mrz", "generate", NULL });
    civreg_expect(NULL, 2, NULL, (const char *[]){ "mrz", "generate", "--bogus", NULL });
    static const char *const helps[][3] = { { "mrz", "--help", NULL }, { "mrz", "generate", "--help" },
                                            { "mrz", "parse", "--help" }, { "mrz", "transliterate", "--help" },
                                            { "help", "mrz", "parse" } };
    civreg_expect_help(helps, sizeof helps / sizeof helps[0]);
}

static void test_transliterate_cmd(void **state)
{
    struct proc_result r;
    (void)state;
    assert_int_equal(civreg_run("Хрущёв-Müller O'Brien\n", &r, (const char *[]){ "mrz", "transliterate", NULL }), 0);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "KHRUSHCHEV<MUELLER<OBRIEN\n");
    assert_non_null(strstr(r.err, "warning: transliterated 'Х' (U+0425) as KH"));
    proc_result_free(&r);
    civreg_expect("\xff\xfe", 1, "UTF-8", (const char *[]){ "mrz", "transliterate", NULL });
    civreg_expect("123\n", 1, NULL, (const char *[]){ "mrz", "transliterate", NULL });
}

static void date_str(const struct mrz_date *d, char out[16])
{
    snprintf(out, 16, "%04d-%02d-%02d", d->year, d->month, d->day);
}

/* Random records through the real commands (generate -> parse, fields
 * unchanged), then the same MRZs through the npm package mrz. */
static void test_random_records_and_npm_mrz(void **state)
{
    uint64_t seed = 0xC1F1C0DEull;
    struct mrz_date today;
    json_t *samples = json_array();
    char *dir = tmp_dir("mrz-npm"), path[512];
    struct buf out = BUF_INIT(1 << 22);
    (void)state;

    date_today(&today.year, &today.month, &today.day);
    for (int i = 0; i < 150; i++) {
        struct mrz_random rec;
        struct proc_result r;
        char dob[16], doe[16];
        json_t *in, *parsed = NULL;
        struct buf js = BUF_INIT(1 << 16);
        static const char *const fmt[] = { "TD1", "TD2", "TD3" };

        mrz_random_record(&rec, &seed, &today, MRZ_RANDOM_NPM);
        date_str(&rec.in.date_of_birth, dob);
        date_str(&rec.in.date_of_expiry, doe);
        in = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s#}", "format", fmt[rec.in.format], "document_code",
                       rec.document_code, "issuing_state", rec.issuing_state, "primary_identifier", rec.primary,
                       "document_number", rec.document_number, "nationality", rec.nationality, "date_of_birth", dob,
                       "date_of_expiry", doe, "sex", &rec.sex, (size_t)1);
        assert_non_null(in);
        if (rec.secondary[0])
            json_object_set_new(in, "secondary_identifier", json_string(rec.secondary));
        if (rec.optional_data[0])
            json_object_set_new(in, "optional_data", json_string(rec.optional_data));
        if (rec.optional_data_2[0])
            json_object_set_new(in, "optional_data_2", json_string(rec.optional_data_2));
        assert_int_equal(json_dump_compact(in, &js, NULL), 0);

        assert_int_equal(civreg_run(buf_str(&js), &r, (const char *[]){ "mrz", "generate", NULL }), 0);
        if (r.status != 0)
            fail_msg("generate %s: %s", buf_str(&js), r.err);
        char *lines = strdup(r.out);
        proc_result_free(&r);
        assert_int_equal(civreg_run(lines, &r, (const char *[]){ "mrz", "parse", NULL }), 0);
        if (r.status != 0)
            fail_msg("parse of\n%s\n%s", lines, r.out);
        assert_int_equal(json_parse(r.out, r.out_len, &parsed, NULL), 0);
        proc_result_free(&r);
        json_t *f = json_object_get(parsed, "fields");
        assert_string_equal(json_string_value(json_object_get(f, "document_number")), rec.document_number);
        assert_string_equal(json_string_value(json_object_get(f, "date_of_birth")), dob);
        assert_string_equal(json_string_value(json_object_get(f, "date_of_expiry")), doe);
        assert_string_equal(json_string_value(json_object_get(f, "nationality")), rec.nationality);
        assert_string_equal(json_string_value(json_object_get(f, "optional_data")), rec.optional_data);

        json_t *lines_j = json_array();
        for (char *s = lines, *e; *s; s = e + (*e ? 1 : 0)) {
            e = strchr(s, '\n');
            if (e == NULL)
                e = s + strlen(s);
            json_array_append_new(lines_j, json_stringn(s, (size_t)(e - s)));
        }
        json_array_append_new(samples, json_pack("{s:s,s:o,s:O}", "format", fmt[rec.in.format], "lines", lines_j,
                                                 "fields", f));
        json_decref(parsed);
        json_decref(in);
        buf_release(&js);
        free(lines);
    }
    assert_int_equal(json_dump_compact(samples, &out, NULL), 0);
    snprintf(path, sizeof path, "%s/samples.json", dir);
    assert_int_equal(file_write(path, out.data, out.len), 0);

    char script[512];
    snprintf(script, sizeof script, "%s/tests/mrz/npm_check.mjs", CIVREG_SOURCE_DIR);
    char *const argv[] = { (char *)"/usr/bin/env", (char *)"node", script, path, NULL };
    struct proc_result r;
    assert_int_equal(proc_run(argv, NULL, 0, 60, &r), 0);
    print_message("%s%s", r.out, r.err);
    if (r.status != 0)
        fail_msg("npm mrz disagrees (is `npm install` done in tests/? install/deps.sh does it): exit %d", r.status);
    assert_non_null(strstr(r.out, "150 of 150 samples agree"));
    proc_result_free(&r);
    json_decref(samples);
    buf_release(&out);
    tmp_free(&dir);
}

CMOCKA_MAIN(NULL, NULL, test_generate_and_parse_specimens, test_parse_exit_codes,
            test_generate_errors, test_transliterate_cmd, test_random_records_and_npm_mrz)
