/* The passport office through its library API. Eight approvals at once:
 * eight threads, each with its own database connection (as the web
 * server's workers have), approve applications at the same moment, three
 * rounds over; no two ever get the same document number or booklet, and
 * the log still verifies. Renewal and replacement: which old document is
 * cancelled and which keeps its status. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"
#include "core/secret.h"
#include "db/datadir.h"
#include "db/db.h"
#include "issuance/passport/passport.h"
#include "issuance/pki/pki.h"
#include "registry/projection.h"
#include "registry/registry.h"
#include "../../bench/office_staff.h"
#include "support/alloc_workers.h"
#include "support/support.h"

enum { WORKERS = 8, ROUNDS = 3 };

static char *root;
static struct datadir *dd;
static struct db *db;
static struct office_staff staff;
static unsigned char *photo;
static size_t photo_len;
static pthread_barrier_t barrier;

static void check(int rc, const struct err *err, const char *what)
{
    if (rc != 0)
        fail_msg("%s: %s", what, err_msg(err));
}

static int setup(void **state)
{
    struct err err = ERR_INIT;
    char data[4096], path[4096];
    const char *what;
    (void)state;

    check(secret_init(&err), &err, "libsodium");
    root = tmp_dir("passport-conc");
    snprintf(data, sizeof data, "%s/data", root);
    check(datadir_init(data, NULL, &err), &err, "init");
    check(datadir_open(data, &dd, &err), &err, "open");
    check(datadir_db_open(dd, DB_OPEN_MIGRATE, &db, &err), &err, "db");
    if (office_staff_open(db, dd->keys_dir, &staff, &what, &err) != 0)
        fail_msg("%s: %s", what, err_msg(&err));
    /* only set-up needs the admin */
    registry_actor_free(staff.admin);
    staff.admin = NULL;
    snprintf(path, sizeof path, "%s/issuance/portrait.jpg", CIVREG_TEST_DATA);
    photo = (unsigned char *)file_read(path, &photo_len);
    return photo ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    office_staff_free(&staff);
    db_close(db);
    datadir_free(dd);
    free(photo);
    tmp_free(&root);
    return 0;
}

static struct office_env env_of(struct registry_actor *a)
{
    struct office_env env = { db, dd->blobs_dir, dd->keys_dir, a, NULL, { 0 } };
    office_env_init(&env);
    return env;
}

/* UIN enrolled by the enrolment officer with the test portrait for a
 * document of TYPE and KIND (NULL: the office's defaults, TD3 and new)
 * replacing document REPLACES (or NULL): the application's id (malloc'd),
 * or NULL with ERR set when the office refuses. */
static char *enrol_kind(const char *uin, const char *type, const char *kind,
                        const char *replaces, struct err *err)
{
    struct office_env env = env_of(staff.enrol);
    const struct office_enrolment e = { .uin = uin, .doc_type = type, .kind = kind,
                                        .replaces = replaces, .photo = photo,
                                        .photo_len = photo_len };
    json_t *app = NULL;
    char *id = NULL;

    if (office_app_enrol(&env, &e, &app, err) == 0)
        id = strdup(json_string_value(json_object_get(app, "id")));
    json_decref(app);
    return id;
}

static char uin_of_last[16];

/* A registered person with a submitted application; returns its id. */
static char *submitted_application(int k)
{
    struct err err = ERR_INIT;
    json_t *rec = office_distinct_record(k, 500), *res = NULL;
    const char *uin;
    char *rid = NULL, *id;

    assert_non_null(rec);
    check(registry_record_draft(db, staff.clerk1, rec, &rid, &err), &err, "draft");
    check(registry_record_verify(db, staff.clerk2, rid, rec, NULL, &err), &err, "verify");
    check(registry_record_register(db, staff.reg, rid, &res, &err), &err, "register");
    uin = json_string_value(json_object_get(res, "uin"));
    snprintf(uin_of_last, sizeof uin_of_last, "%s", uin);
    id = enrol_kind(uin, NULL, NULL, NULL, &err);
    check(id != NULL ? 0 : -1, &err, "enrol");
    json_decref(rec);
    json_decref(res);
    free(rid);
    return id;
}


static void *work(void *arg)
{
    struct alloc_worker *w = arg;
    struct err err = ERR_INIT;
    struct db *mine = NULL;

    /* One connection per thread, as the web server's workers. */
    if (datadir_db_open(dd, 0, &mine, &err) != 0) {
        snprintf(w->error, sizeof w->error, "%s", err_msg(&err));
        pthread_barrier_wait(&barrier);
        return NULL;
    }
    struct office_env env = { mine, dd->blobs_dir, dd->keys_dir, staff.appr, NULL, { 0 } };
    office_env_init(&env);
    pthread_barrier_wait(&barrier);
    for (int r = 0; r < ROUNDS; r++) {
        json_t *app = NULL;
        if (office_app_approve(&env, w->ids[r], &app, &err) != 0) {
            snprintf(w->error, sizeof w->error, "%s", err_msg(&err));
            break;
        }
        snprintf(w->numbers[r], 32, "%s", json_string_value(json_object_get(app,
                                                                            "document_number")));
        snprintf(w->serials[r], 32, "%s", json_string_value(json_object_get(app,
                                                                            "booklet_serial")));
        json_decref(app);
    }
    db_close(mine);
    return NULL;
}

static void test_eight_concurrent_approvals(void **state)
{
    struct alloc_worker w[WORKERS];
    struct err err = ERR_INIT;
    struct office_env env = { db, dd->blobs_dir, dd->keys_dir, staff.oper, NULL, { 0 } };
    int problems;
    (void)state;

    office_env_init(&env);
    check(office_booklets_receive(db, &env.actor, "TD3", "B000001", "B000999", "DN-1", NULL,
                                  &err),
          &err, "booklets");
    memset(w, 0, sizeof w);
    for (int i = 0; i < WORKERS; i++)
        for (int r = 0; r < ROUNDS; r++)
            w[i].ids[r] = submitted_application(i * ROUNDS + r);
    alloc_workers_run(w, WORKERS, work, &barrier);
    alloc_workers_assert_distinct(w, WORKERS, ROUNDS);
    problems = registry_audit_verify(db, dd->keys_dir, dd->blobs_dir, NULL, NULL, NULL, NULL,
                                     &err);
    assert_int_equal(problems, 0);
    for (int i = 0; i < WORKERS; i++)
        for (int r = 0; r < ROUNDS; r++)
            free(w[i].ids[r]);
}

static void to_issued(const char *id)
{
    struct err err = ERR_INIT;
    struct office_env ea = env_of(staff.appr), ep = env_of(staff.oper);
    check(office_app_approve(&ea, id, NULL, &err), &err, "approve");
    check(office_app_personalize(&ep, id, NULL, &err), &err, "personalize");
    check(office_app_qc(&ep, id, true, NULL, &err), &err, "qc");
    check(office_app_issue(&ep, id, &err), &err, "issue");
}

static const char *doc_status(const char *number, json_t **hold)
{
    struct err err = ERR_INIT;
    struct office_env e = env_of(staff.oper);
    check(office_document_show(&e, number, hold, &err), &err, "document show");
    return json_string_value(json_object_get(*hold, "status"));
}

/* The document number of the issued application ID into OUT; ID is freed. */
static void number_of(char *id, char *out, size_t size)
{
    struct err err = ERR_INIT;
    struct office_env ep = env_of(staff.oper);
    json_t *app = NULL;

    check(office_app_show(&ep, id, &app, &err), &err, "show");
    snprintf(out, size, "%s", json_string_value(json_object_get(app, "document_number")));
    json_decref(app);
    free(id);
}

static void test_renewal_and_replacement(void **state)
{
    struct err err = ERR_INIT;
    struct office_env ep = env_of(staff.oper), ee = env_of(staff.enrol);
    json_t *hold = NULL;
    char uin[16], first[32], *id, *id2;
    (void)state;

    check(office_booklets_receive(db, &ep.actor, "TD1", "C000001", "C000099", "DN-2", NULL,
                                  &err),
          &err, "card stock");
    id = submitted_application(900);
    snprintf(uin, sizeof uin, "%s", uin_of_last);
    to_issued(id);
    number_of(id, first, sizeof first);

    /* A renewal must name a document of the same person and type. */
    assert_null(enrol_kind(uin, "TD3", "renewal", NULL, &err));
    assert_non_null(strstr(err_msg(&err), "a renewal names the document it replaces"));
    assert_null(enrol_kind(uin, "TD1", "renewal", first, &err));
    assert_non_null(strstr(err_msg(&err), "is not a TD1 of"));
    assert_null(enrol_kind(uin, "TD3", "new", NULL, &err));
    assert_non_null(strstr(err_msg(&err), "a second valid passport is not allowed"));

    /* Renewal: the old passport is cancelled when the new one is issued. */
    id = enrol_kind(uin, "TD3", "renewal", first, &err);
    check(id ? 0 : -1, &err, "renewal");
    assert_string_equal(doc_status(first, &hold), "valid");
    json_decref(hold);
    to_issued(id);
    assert_string_equal(doc_status(first, &hold), "cancelled");
    assert_non_null(strstr(json_string_value(json_object_get(hold, "status_reason")),
                           "renewed by"));
    json_decref(hold);
    number_of(id, first, sizeof first);

    /* Stolen, then replaced: the stolen number keeps its status for the
     * alert lists; a cancelled one cannot be renewed. */
    check(office_document_set_status(&ee, first, "stolen", "police report 12", NULL, &err), &err,
          "stolen");
    id = enrol_kind(uin, "TD3", "renewal", first, &err);
    assert_null(id);
    assert_non_null(strstr(err_msg(&err), "only a valid or expired document is renewed"));
    id2 = enrol_kind(uin, "TD3", "replacement", first, &err);
    check(id2 ? 0 : -1, &err, "replacement");
    to_issued(id2);
    assert_string_equal(doc_status(first, &hold), "stolen");
    json_decref(hold);
    free(id2);

    /* An identity card beside the passport is allowed, a second card not. */
    id = enrol_kind(uin, "TD1", "new", NULL, &err);
    check(id ? 0 : -1, &err, "card");
    to_issued(id);
    free(id);
    assert_null(enrol_kind(uin, "TD1", "new", NULL, &err));
    assert_non_null(strstr(err_msg(&err), "a second valid identity card is not allowed"));

    /* Status rules. */
    assert_int_equal(office_document_set_status(&ee, first, "lost", "x", NULL, &err), -1);
    assert_non_null(strstr(err_msg(&err), "is stolen: it cannot become lost"));
    {
        struct office_env ea = env_of(staff.appr);
        check(office_document_set_status(&ea, first, "revoked", "fraud", NULL, &err), &err,
              "revoke");
        assert_int_equal(office_document_set_status(&ea, first, "expired", "x", NULL, &err), -1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eight_concurrent_approvals),
        cmocka_unit_test(test_renewal_and_replacement),
    };
    /* audit verify compares the office's tables too, as the program does */
    registry_audit_register(office_projection());
    registry_audit_register(pki_projection());
    return cmocka_run_group_tests(tests, setup, teardown);
}
