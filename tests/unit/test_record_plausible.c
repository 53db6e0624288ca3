/* registry_record_plausible: the refusals (future dates, registration before
 * the birth, a parent born after the child) with their codes and fields, and
 * the warnings (parent younger than 10 or older than 70 at the birth), on
 * full and partial dates; and err_code kept through err_prefix, cleared by
 * err_set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/json.h"
#include "registry/registry.h"
#include "support/cmocka_main.h"

#define TODAY "2026-12-05"

/* The example record with SECTION.KEY (SECTION NULL: top level) set to V. */
static json_t *with(const char *section, const char *key, const char *v)
{
    json_t *ex = registry_record_example(), *norm = NULL;
    struct err err = ERR_INIT;

    assert_non_null(ex);
    assert_int_equal(json_object_set_new(section ? json_object_get(ex, section) : ex, key,
                                         json_string(v)),
                     0);
    assert_int_equal(registry_record_normalize(ex, &norm, &err), 0);
    json_decref(ex);
    return norm;
}

static void refused(const char *section, const char *key, const char *v, const char *code,
                    const char *field)
{
    json_t *rec = with(section, key, v), *w = json_array();
    struct err err = ERR_INIT;

    assert_int_equal(registry_record_plausible(rec, TODAY, w, &err), -1);
    assert_non_null(err_code_of(&err));
    assert_string_equal(err_code_of(&err), code);
    assert_string_equal(err_field_of(&err), field);
    json_decref(rec);
    json_decref(w);
}

static void warned(const char *section, const char *key, const char *v, const char *code, int years)
{
    json_t *rec = with(section, key, v), *w = json_array();
    struct err err = ERR_INIT;

    assert_int_equal(registry_record_plausible(rec, TODAY, w, &err), 0);
    assert_int_equal(json_array_size(w), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(w, 0), "code")), code);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(w, 0), "years")), years);
    json_decref(rec);
    json_decref(w);
}

static void test_example_is_plausible(void **state)
{
    json_t *ex = registry_record_example(), *norm = NULL, *w = json_array();
    struct err err = ERR_INIT;

    (void)state;
    assert_int_equal(registry_record_normalize(ex, &norm, &err), 0);
    assert_int_equal(registry_record_plausible(norm, TODAY, w, &err), 0);
    assert_int_equal(json_array_size(w), 0);
    json_decref(ex);
    json_decref(norm);
    json_decref(w);
}

static void test_refusals(void **state)
{
    (void)state;
    refused("mother", "date_of_birth", "2027", "date_in_future", "mother.date_of_birth");
    refused(NULL, "registration_date", "2026-12-06", "date_in_future", "registration_date");
    refused("mother", "date_of_birth", "1987-03-12", "parent_born_after_child",
            "mother.date_of_birth");
    refused("father", "date_of_birth", "1990-01", "parent_born_after_child",
            "father.date_of_birth");
    /* a partial birth date: the registration year before it is refused */
    {
        json_t *ex = registry_record_example(), *norm = NULL;
        struct err err = ERR_INIT;
        json_object_set_new(json_object_get(ex, "birth"), "date", json_string("1987"));
        json_object_set_new(ex, "registration_date", json_string("1986-12-30"));
        assert_int_equal(registry_record_normalize(ex, &norm, &err), 0);
        assert_int_equal(registry_record_plausible(norm, TODAY, NULL, &err), -1);
        assert_string_equal(err_code_of(&err), "registration_before_birth");
        json_decref(ex);
        json_decref(norm);
    }
}

static void test_warnings(void **state)
{
    (void)state;
    warned("mother", "date_of_birth", "1979-05", "parent_too_young", 7);
    warned("mother", "date_of_birth", "1977-03-13", "parent_too_young", 9);
    warned("father", "date_of_birth", "1916-03-12", "parent_too_old", 71);
    /* exactly 10 and exactly 70 are plausible */
    {
        json_t *rec = with("mother", "date_of_birth", "1977-03-12"), *w = json_array();
        struct err err = ERR_INIT;
        assert_int_equal(registry_record_plausible(rec, TODAY, w, &err), 0);
        assert_int_equal(json_array_size(w), 0);
        json_decref(rec);
        json_decref(w);
        rec = with("father", "date_of_birth", "1917-03-12");
        w = json_array();
        assert_int_equal(registry_record_plausible(rec, TODAY, w, &err), 0);
        assert_int_equal(json_array_size(w), 0);
        json_decref(rec);
        json_decref(w);
    }
}

static void test_err_code(void **state)
{
    struct err err = ERR_INIT;

    (void)state;
    assert_null(err_code_of(&err));
    err_set(&err, "x");
    err_code(&err, "date_format", "birth.date");
    err_prefix(&err, "record");
    assert_string_equal(err_code_of(&err), "date_format");
    assert_string_equal(err_field_of(&err), "birth.date");
    err_set(&err, "y");
    assert_null(err_code_of(&err));
    assert_string_equal(err_field_of(&err), "");
}

CMOCKA_MAIN(NULL, NULL, test_example_is_plausible, test_refusals, test_warnings, test_err_code)
