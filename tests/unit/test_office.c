/* Passport office store: document number patterns and allocation (unique,
 * never reused, concurrent allocations never collide), booklet stock
 * (ranges, reservation order, spoiling, report), each movement logged. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db/db.h"
#include "issuance/passport/office.h"
#include "issuance/passport/office_app_int.h"
#include "support/alloc_workers.h"
#include "support/cmocka_main.h"
#include "support/support.h"

static char *tmp;

/* A log that keeps event types (the registry signs them in the product). */
struct log {
    pthread_mutex_t mu;
    char types[4096];
    int n;
};
static struct log events = { PTHREAD_MUTEX_INITIALIZER, "", 0 };

static int record_event(void *ctx, struct db *db, const char *type, const json_t *objects,
                        const json_t *data, const char *time, struct err *err)
{
    struct log *l = ctx;
    (void)db;
    (void)data;
    (void)err;
    assert_true(json_is_array(objects));
    /* the transaction's time, which the rows logged carry */
    assert_non_null(time);
    assert_int_equal(strlen(time), 20);
    pthread_mutex_lock(&l->mu);
    size_t used = strlen(l->types);
    snprintf(l->types + used, sizeof l->types - used, "%s;", type);
    l->n++;
    pthread_mutex_unlock(&l->mu);
    return 0;
}

static const struct office_actor admin = { "root", "HQ", OFFICE_ROLE_ADMIN, record_event, &events };
static const struct office_actor operator_ = { "olga", "HQ", OFFICE_ROLE_ISSUANCE_OPERATOR,
                                               record_event, &events };
static const struct office_actor clerk = { "carl", "HQ", 1, record_event, &events };

static struct db *open_db(void)
{
    struct db *db = NULL;
    struct err err = ERR_INIT;
    if (db_open(tmp_path(tmp, "civreg.db"), DB_OPEN_CREATE | DB_OPEN_MIGRATE, &db, &err) != 0)
        fail_msg("db_open: %s", err_msg(&err));
    return db;
}

TMP_DIR_FIXTURE(tmp, "office")

static void expect_fail(int rc, const struct err *err, const char *want)
{
    assert_int_equal(rc, -1);
    if (strstr(err_msg(err), want) == NULL)
        fail_msg("expected '%s' in '%s'", want, err_msg(err));
}

static void test_patterns(void **state)
{
    struct err err = ERR_INIT;
    char out[32];
    (void)state;

    static const struct {
        const char *pattern, *doc_type, *office;
        const char *want; /* NULL: accepted */
    } patterns[] = {
        { "P{seq:8}", "TD3", NULL, NULL },
        { "{office}{seq:7}", "TD3", "HQ", NULL },
        { "{yy}{office}{seq:5}", "TD3", "HQ", NULL },
        { "ID{office}{seq:9}", "TD1", "NORTH", NULL },
        { "P{seq:9}", "TD3", NULL, "numbers of 10 characters do not fit the TD3 MRZ (at most 9)" },
        { "P<{seq:7}", "TD3", NULL, "'<' is not allowed" },
        { "pa{seq:7}", "TD3", NULL, "'p' is not allowed" },
        { "P1234567", "TD3", NULL, "{seq:N} must appear exactly once (found 0)" },
        { "{seq:3}{seq:3}", "TD3", NULL, "exactly once (found 2)" },
        { "A{seq:2}", "TD3", NULL, "{seq:2}: 3 to 9 digits" },
        { "A{seq}", "TD3", NULL, "needs its digit count" },
        { "A{date}{seq:4}", "TD3", NULL, "unknown placeholder '{date}'" },
        { "A{seq:4", "TD3", NULL, "'{' without '}'" },
        { "{office}{seq:4}", "TD3", NULL, "no office code" },
        { "A{seq:4}", "TD2", NULL, "document type 'TD2'" },
    };
    for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
        int rc = office_number_pattern_check(patterns[i].pattern, patterns[i].doc_type,
                                             patterns[i].office, &err);
        if (patterns[i].want == NULL)
            assert_int_equal(rc, 0);
        else
            expect_fail(rc, &err, patterns[i].want);
    }

    assert_int_equal(office_number_format("{office}{seq:7}", "HQ", 2026, 42, out, &err), 0);
    assert_string_equal(out, "HQ0000042");
    assert_int_equal(office_number_format("X{yy}{seq:4}Z", NULL, 2026, 9999, out, &err), 0);
    assert_string_equal(out, "X269999Z");
    expect_fail(office_number_format("X{yy}{seq:4}Z", NULL, 2026, 10000, out, &err), &err,
                "document numbers exhausted: sequence 10000 does not fit {seq:4}");
}

static void test_series_and_allocation(void **state)
{
    struct db *db = open_db();
    struct err err = ERR_INIT;
    char n1[32], n2[32], n3[32];
    json_t *list = NULL;
    (void)state;

    /* Default: office code then the sequence, 9 characters. */
    assert_int_equal(office_number_series_list(db, "HQ", &list, &err), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "pattern")),
                        "{office}{seq:7}");
    json_decref(list);
    assert_int_equal(office_number_allocate(db, &operator_, "TD3", n1, &err), 0);
    assert_string_equal(n1, "HQ0000001");
    assert_int_equal(office_number_allocate(db, &operator_, "TD3", n2, &err), 0);
    assert_string_equal(n2, "HQ0000002");

    /* Only an administrator sets a pattern; the sequence carries on. */
    expect_fail(office_number_series_set(db, &clerk, "TD3", "P{seq:8}", &err), &err,
                "carl may not set document number patterns: needs role admin");
    expect_fail(office_number_series_set(db, &admin, "TD3", "P{seq:9}", &err), &err,
                "do not fit the TD3 MRZ");
    int before = events.n;
    assert_int_equal(office_number_series_set(db, &admin, "TD3", "P{seq:8}", &err), 0);
    assert_int_equal(events.n, before + 1);
    assert_non_null(strstr(events.types, "document.series.set;"));
    assert_int_equal(office_number_allocate(db, &operator_, "TD3", n3, &err), 0);
    assert_string_equal(n3, "P00000003");
    /* The TD1 series is separate. */
    assert_int_equal(office_number_allocate(db, &operator_, "TD1", n3, &err), 0);
    assert_string_equal(n3, "HQ0000001");
    db_close(db);
}

static void test_booklets(void **state)
{
    struct db *db = open_db();
    struct err err = ERR_INIT;
    json_t *batch = NULL, *rep = NULL, *b = NULL;
    char s1[32], s2[32];
    (void)state;

    expect_fail(office_booklets_receive(db, &clerk, "TD3", "B0001", "B0010", "DN-1", NULL, &err),
                &err, "carl may not receive booklet stock");
    expect_fail(office_booklets_receive(db, &operator_, "TD3", "B0010", "B0001", "DN-1", NULL,
                                        &err),
                &err, "the last serial is before the first");
    expect_fail(office_booklets_receive(db, &operator_, "TD3", "B0001", "C0010", "DN-1", NULL,
                                        &err),
                &err, "same letters");
    expect_fail(office_booklets_receive(db, &operator_, "TD3", "B0001", "B00010", "DN-1", NULL,
                                        &err),
                &err, "same number of digits");
    expect_fail(office_booklets_receive(db, &operator_, "TD3", "B0001", "B0010", "", NULL, &err),
                &err, "a reference (delivery note)");
    assert_int_equal(office_booklets_receive(db, &operator_, "TD3", "B0001", "B0010", "DN-1",
                                             &batch, &err),
                     0);
    assert_int_equal(json_integer_value(json_object_get(batch, "count")), 10);
    json_decref(batch);
    /* An overlapping delivery is refused whole. */
    expect_fail(office_booklets_receive(db, &operator_, "TD3", "B0008", "B0012", "DN-2", NULL,
                                        &err),
                &err, "booklet B0008 is already in stock: nothing received");
    assert_int_equal(office_booklets_receive(db, &operator_, "TD1", "C000001", "C000005", "DN-3",
                                             NULL, &err),
                     0);

    /* Stock goes out lowest serial first; spoiled ones never come back. */
    assert_int_equal(office_booklet_spoil(db, &operator_, "B0001", "torn cover", &err), 0);
    expect_fail(office_booklet_spoil(db, &operator_, "B0001", "again", &err), &err,
                "booklet B0001: already spoiled");
    expect_fail(office_booklet_spoil(db, &operator_, "B0002", "", &err), &err,
                "a reason of 1 to 500 bytes is required");
    expect_fail(office_booklet_spoil(db, &operator_, "Z9", "x", &err), &err,
                "booklet Z9: not in stock");
    assert_int_equal(office_booklet_reserve(db, &operator_, "TD3", "APP-1", s1, &err), 0);
    assert_string_equal(s1, "B0002");
    assert_int_equal(office_booklet_reserve(db, &operator_, "TD3", "APP-2", s2, &err), 0);
    assert_string_equal(s2, "B0003");
    expect_fail(office_booklet_personalize(db, &operator_, "B0002", "APP-2", &err), &err,
                "booklet B0002: reserved, not reserved for application APP-2");
    assert_int_equal(office_booklet_personalize(db, &operator_, "B0002", "APP-1", &err), 0);
    expect_fail(office_booklet_spoil(db, &operator_, "B0002", "late", &err), &err,
                "already personalized");

    assert_int_equal(office_booklet_report(db, &rep, &err), 0);
    json_t *td3 = json_object_get(json_object_get(rep, "types"), "TD3");
    assert_int_equal(json_integer_value(json_object_get(td3, "blank")), 7);
    assert_int_equal(json_integer_value(json_object_get(td3, "reserved")), 1);
    assert_int_equal(json_integer_value(json_object_get(td3, "personalized")), 1);
    assert_int_equal(json_integer_value(json_object_get(td3, "spoiled")), 1);
    assert_int_equal(json_integer_value(json_object_get(td3, "total")), 10);
    assert_int_equal(json_array_size(json_object_get(rep, "batches")), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(rep, "spoiled"), 0),
                                          "reason")),
        "torn cover");
    json_decref(rep);

    assert_int_equal(office_booklet_show(db, "B0002", &b, &err), 0);
    assert_string_equal(json_string_value(json_object_get(b, "status")), "personalized");
    /* receive (its batch), reserve, personalize */
    assert_int_equal(json_array_size(json_object_get(b, "movements")), 3);
    json_decref(b);
    assert_non_null(strstr(events.types, "booklet.receive;"));
    assert_non_null(strstr(events.types, "booklet.spoil;"));
    assert_non_null(strstr(events.types, "booklet.reserve;"));
    assert_non_null(strstr(events.types, "booklet.personalize;"));

    /* Out of stock: a clear refusal. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(office_booklet_reserve(db, &operator_, "TD1", "APP-X", s1, &err), 0);
    expect_fail(office_booklet_reserve(db, &operator_, "TD1", "APP-Y", s1, &err), &err,
                "no blank TD1 booklets in stock");
    db_close(db);
}

/* ---- concurrency: eight connections allocate at once ------------------ */

#define WORKERS 8
#define ROUNDS 5


static pthread_barrier_t barrier;

static int allocate_both(struct db *db, void *arg, struct err *err)
{
    char **out = arg;
    char app[32];
    snprintf(app, sizeof app, "APP-%p", (void *)out);
    if (office_number_allocate(db, &operator_, "TD3", out[0], err) != 0)
        return -1;
    return office_booklet_reserve(db, &operator_, "TD3", app, out[1], err);
}

static void *work(void *arg)
{
    struct alloc_worker *w = arg;
    struct db *db = NULL;
    struct err err = ERR_INIT;
    char path[4200]; /* tmp_path's buffers are not for threads */

    snprintf(path, sizeof path, "%s/civreg.db", tmp);
    if (db_open(path, 0, &db, &err) != 0) {
        snprintf(w->error, sizeof w->error, "%s", err_msg(&err));
        return NULL;
    }
    pthread_barrier_wait(&barrier);
    for (int r = 0; r < ROUNDS; r++) {
        char *out[2] = { w->numbers[r], w->serials[r] };
        if (db_tx_run(db, allocate_both, out, &err) != 0) {
            snprintf(w->error, sizeof w->error, "%s", err_msg(&err));
            break;
        }
    }
    db_close(db);
    return NULL;
}

static void test_concurrent_allocation(void **state)
{
    struct alloc_worker w[WORKERS];
    struct db *db = open_db();
    struct err err = ERR_INIT;
    (void)state;

    assert_int_equal(office_booklets_receive(db, &operator_, "TD3", "K00100", "K00199", "DN-9",
                                             NULL, &err),
                     0);
    db_close(db);
    memset(w, 0, sizeof w);
    alloc_workers_run(w, WORKERS, work, &barrier);
    /* Every number and every booklet distinct. */
    alloc_workers_assert_distinct(w, WORKERS, ROUNDS);
}

/* The enrolment check reads the registry's person state, whatever form the
 * death takes there. */
static void test_deceased_check(void **state)
{
    static const char *const dead[] = {
        "{\"uin\":\"1\",\"deceased\":true}", "{\"uin\":\"1\",\"status\":\"deceased\"}",
        "{\"uin\":\"1\",\"death\":{\"date\":\"2020-01-01\"}}",
        "{\"uin\":\"1\",\"date_of_death\":\"2020-01-01\"}",
    };
    static const char *const alive[] = {
        "{\"uin\":\"1\"}", "{\"uin\":\"1\",\"deceased\":false}",
        "{\"uin\":\"1\",\"status\":\"living\",\"death\":null,\"date_of_death\":null}",
    };
    (void)state;
    for (size_t i = 0; i < 4; i++) {
        json_t *p = json_loads(dead[i], 0, NULL);
        assert_true(office_person_deceased(p));
        json_decref(p);
    }
    for (size_t i = 0; i < 3; i++) {
        json_t *p = json_loads(alive[i], 0, NULL);
        assert_false(office_person_deceased(p));
        json_decref(p);
    }
}

CMOCKA_MAIN(setup, teardown, test_patterns, test_series_and_allocation, test_booklets,
            test_concurrent_allocation, test_deceased_check)
