/* Unit tests through the APIs: deaths (registry), visible digital seals
 * (issuance/vds.c with the PKI's barcode signer), certified extracts
 * (registry + issuance joined by a seal callback, as the CLI does). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/json.h"
#include "core/secret.h"
#include "db/datadir.h"
#include "db/db.h"
#include "issuance/print/extract_pdf.h"
#include "issuance/pki/pki.h"
#include "issuance/icao/vds.h"
#include "registry/registry.h"
#include "registry/search.h"
#include "support/inproc.h"
#include "support/cmocka_main.h"
#include "support/support.h"

static char *dir;
static char data[4096];
static struct datadir *dd;
static struct db *db;
static struct pki *pki;
static struct registry_actor *clerk_a, *clerk_b, *registrar;
static struct buf csca = BUF_INIT(1 << 20);

static void add_user(struct registry_actor *admin, const char *name, unsigned roles,
                     const char *pw)
{
    inproc_user_add(db, dd->keys_dir, admin, name, roles, pw);
}

static struct registry_actor *login(const char *name, const char *pw)
{
    return inproc_authenticate(db, dd->keys_dir, name, pw);
}

/* A registered person: returns the UIN (malloc'd). */
static char *register_person(void)
{
    struct err err = ERR_INIT;
    json_t *rec = registry_record_example(), *res = NULL;
    char *id = NULL, *uin;
    json_t *cands = NULL;
    if (registry_record_draft(db, clerk_a, rec, &id, &err) != 0 ||
        registry_record_verify(db, clerk_b, id, rec, NULL, &err) != 0)
        fail_msg("draft/verify: %s", err_msg(&err));
    /* Every person here is keyed from the same example record: the
     * registrar resolves the duplicate candidates as distinct births. */
    if (registry_dup_list(db, registrar, id, &cands, &err) != 0)
        fail_msg("duplicates: %s", err_msg(&err));
    for (size_t i = 0; i < json_array_size(cands); i++) {
        json_t *c = json_array_get(cands, i);
        const char *a = json_string_value(json_object_get(c, "record_id"));
        const char *o = json_string_value(json_object_get(c, "other_id"));
        if (strcmp(json_string_value(json_object_get(c, "status")), "open") != 0)
            continue;
        if (registry_dup_resolve(db, registrar, a, o, false, "test persons share one example record",
                                 &err) != 0)
            fail_msg("resolve: %s", err_msg(&err));
    }
    json_decref(cands);
    if (registry_record_register(db, registrar, id, &res, &err) != 0)
        fail_msg("register: %s", err_msg(&err));
    uin = strdup(json_string_value(json_object_get(res, "uin")));
    json_decref(rec);
    json_decref(res);
    free(id);
    return uin;
}

static int setup(void **state)
{
    struct err err = ERR_INIT;
    struct registry_actor *admin;
    struct pki_init_opts io = { .country = "UT", .now = time(NULL) };
    struct pki_issue_opts is = { .kind = PKI_KIND_BARCODE, .now = time(NULL) };
    char serial[PKI_SERIAL_MAX];
    (void)state;

    if (secret_init(&err) != 0)
        return -1;
    admin = inproc_first_admin("extract", &dir, data, sizeof data, &dd, &db,
                               "nimda-tundra-ferns-61");
    add_user(admin, "clerk-a", ROLE_CLERK, "a-krelc-tundra-ferns-61");
    add_user(admin, "clerk-b", ROLE_CLERK, "b-krelc-tundra-ferns-61");
    add_user(admin, "registrar", ROLE_REGISTRAR, "rartsiger-tundra-ferns-61");
    registry_actor_free(admin);
    clerk_a = login("clerk-a", "a-krelc-tundra-ferns-61");
    clerk_b = login("clerk-b", "b-krelc-tundra-ferns-61");
    registrar = login("registrar", "rartsiger-tundra-ferns-61");
    /* the PKI without an event sink: these tests are about seals */
    if (pki_open(data, true, &pki, &err) != 0 || pki_init(pki, &io, serial, &err) != 0 ||
        pki_issue(pki, &is, serial, &err) != 0 ||
        pki_export(pki, PKI_EXPORT_CSCA, false, time(NULL), &csca, &err) != 0)
        fail_msg("pki: %s", err_msg(&err));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    registry_actor_free(clerk_a);
    registry_actor_free(clerk_b);
    registry_actor_free(registrar);
    pki_close(pki);
    db_close(db);
    datadir_free(dd);
    buf_release(&csca);
    tmp_free(&dir);
    return 0;
}

static json_t *death_fields(const char *date)
{
    return json_pack("{s:s, s:{s:s, s:s, s:s}, s:{s:s}, s:{s:s, s:s}}", "date_of_death", date,
                     "place", "type", "home", "locality", "Kisumu", "district", "Kisumu Central",
                     "cause_certificate", "reference", "MCCD-42", "informant", "name",
                     "Joseph Otieno", "relationship", "father");
}

static void test_death_register(void **state)
{
    struct err err = ERR_INIT;
    char *uin = register_person();
    json_t *d = death_fields("2020-05-01"), *res = NULL, *death = NULL, *person = NULL,
           *rec = NULL;
    bool deceased = true;
    (void)state;

    /* before: alive everywhere */
    assert_int_equal(registry_person_is_deceased(db, uin, &deceased, &death, &err), 0);
    assert_false(deceased);
    assert_null(death);
    /* a clerk may not register a death */
    assert_int_equal(registry_death_register(db, clerk_a, uin, d, &res, &err), -1);
    assert_non_null(strstr(err_msg(&err), "registrar"));
    /* an unknown person, a death before the birth (1987-03-12), a future death */
    assert_int_equal(registry_death_register(db, registrar, "2345678906", d, &res, &err), -1);
    {
        json_t *early = death_fields("1980-01-01"), *future = death_fields("2999-01-01");
        assert_int_equal(registry_death_register(db, registrar, uin, early, &res, &err), -1);
        assert_non_null(strstr(err_msg(&err), "before the date of birth"));
        assert_int_equal(registry_death_register(db, registrar, uin, future, &res, &err), -1);
        assert_non_null(strstr(err_msg(&err), "future"));
        json_decref(early);
        json_decref(future);
    }
    assert_int_equal(registry_death_register(db, registrar, uin, d, &res, &err), 0);
    assert_non_null(strstr(json_string_value(json_object_get(res, "registration_number")),
                           "HQ/D/"));
    /* the check the passport office makes before enrolment */
    assert_int_equal(registry_person_is_deceased(db, uin, &deceased, &death, &err), 0);
    assert_true(deceased);
    assert_string_equal(json_string_value(json_object_get(death, "date_of_death")),
                        "2020-05-01");
    /* once only */
    assert_int_equal(registry_death_register(db, registrar, uin, d, NULL, &err), -1);
    assert_non_null(strstr(err_msg(&err), "already registered"));
    /* shown as deceased on the person and the record */
    assert_int_equal(registry_person_show(db, clerk_a, uin, &person, &err), 0);
    assert_true(json_is_true(json_object_get(person, "deceased")));
    assert_int_equal(registry_record_show(db, clerk_a, uin, 0, &rec, &err), 0);
    assert_true(json_is_true(json_object_get(rec, "deceased")));
    assert_non_null(json_object_get(rec, "death"));
    json_decref(d);
    json_decref(res);
    json_decref(death);
    json_decref(person);
    json_decref(rec);
    free(uin);
}

static void test_death_normalize(void **state)
{
    struct err err = ERR_INIT;
    json_t *out = NULL, *in;
    (void)state;

    in = json_pack("{s:s, s:{s:s, s:s, s:s}, s:{s:s}, s:s}", "date_of_death", "2020-02-30",
                   "place", "type", "home", "locality", "A", "district", "B", "informant", "name",
                   "X", "colour", "red");
    assert_int_equal(registry_death_normalize(in, &out, &err), -1);
    assert_non_null(strstr(err_msg(&err), "colour"));
    json_object_del(in, "colour");
    assert_int_equal(registry_death_normalize(in, &out, &err), -1);
    assert_non_null(strstr(err_msg(&err), "date_of_death"));
    json_object_set_new(in, "date_of_death", json_string("2020-02-29"));
    json_object_del(in, "informant");
    assert_int_equal(registry_death_normalize(in, &out, &err), -1);
    assert_non_null(strstr(err_msg(&err), "informant"));
    /* NFC: a decomposed é is stored composed */
    json_object_set_new(in, "informant", json_pack("{s:s}", "name", "Ame\xcc\x81lie"));
    json_object_set_new(in, "time_of_death", json_string("24:00"));
    assert_int_equal(registry_death_normalize(in, &out, &err), -1);
    json_object_set_new(in, "time_of_death", json_string("23:59"));
    assert_int_equal(registry_death_normalize(in, &out, &err), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "informant"),
                                                          "name")),
                        "Am\xc3\xa9lie");
    assert_non_null(json_object_get(out, "registration_date"));
    json_decref(out);
    json_decref(in);
}

static int barcode_sign(void *ctx, const void *msg, size_t len, unsigned char sig[64],
                        struct buf *cert, struct err *err)
{
    return pki_barcode_sign(ctx, msg, len, time(NULL), sig, cert, err);
}

static int seal_cb(void *ctx, const json_t *d, json_t **seal, struct err *err)
{
    return vds_seal(d, barcode_sign, ctx, seal, err);
}

/* Issue an extract for a fresh person; returns its payload (malloc'd). */
static char *issue(json_t **extract_out)
{
    struct err err = ERR_INIT;
    char *uin = register_person(), *payload;
    json_t *x = NULL;
    if (registry_extract_issue(db, clerk_a, uin, seal_cb, pki, &x, &err) != 0)
        fail_msg("extract: %s", err_msg(&err));
    payload = strdup(json_string_value(json_object_get(x, "payload")));
    if (extract_out)
        *extract_out = x;
    else
        json_decref(x);
    free(uin);
    return payload;
}

static void test_seal_roundtrip(void **state)
{
    struct err err = ERR_INIT;
    json_t *x = NULL, *res = NULL;
    char *payload = issue(&x);
    struct buf pdf = BUF_INIT(EXTRACT_PDF_MAX);
    (void)state;

    /* ASCII only: "Amélie" travels as \u00e9 */
    for (const char *p = payload; *p; p++)
        assert_true((unsigned char)*p < 0x80);
    assert_int_equal(vds_verify(payload, strlen(payload), csca.data, csca.len, 0, &res, &err), 0);
    assert_true(json_is_true(json_object_get(res, "valid")));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(res, "data"), "msg"), "gn")),
                        "Am\xc3\xa9lie Wanjiru");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(res, "data"), "hdr"), "t")),
                        REGISTRY_EXTRACT_TYPE);
    /* the PDF renders and is a PDF */
    assert_int_equal(extract_pdf_render(x, NULL, &pdf, &err), 0);
    assert_true(pdf.len > 1000);
    assert_memory_equal(pdf.data, "%PDF-", 5);
    /* only registered records are certified */
    {
        json_t *rec = registry_record_example(), *y = NULL;
        char *id = NULL;
        assert_int_equal(registry_record_draft(db, clerk_a, rec, &id, &err), 0);
        assert_int_equal(registry_extract_issue(db, clerk_a, id, seal_cb, pki, &y, &err), -1);
        assert_non_null(strstr(err_msg(&err), "only registered births"));
        json_decref(rec);
        free(id);
    }
    buf_release(&pdf);
    json_decref(res);
    json_decref(x);
    free(payload);
}

/* Any one character changed anywhere in the payload makes verification fail
 * (a changed name, date, certificate byte, signature byte, member name). */
static void test_seal_every_character(void **state)
{
    struct err err = ERR_INIT;
    char *payload = issue(NULL);
    size_t n = strlen(payload), passed = 0;
    json_t *res = NULL;
    (void)state;

    for (size_t i = 0; i < n; i++) {
        char keep = payload[i];
        payload[i] = keep == 'x' ? 'y' : 'x';
        if (vds_verify(payload, n, csca.data, csca.len, 0, &res, &err) == 0) {
            print_message("position %zu ('%c') still verifies\n", i, keep);
            passed++;
            json_decref(res);
            res = NULL;
        }
        payload[i] = keep;
    }
    assert_int_equal(passed, 0);
    free(payload);
}

static void test_seal_foreign_signer(void **state)
{
    struct err err = ERR_INIT;
    char *payload = issue(NULL), *odir = tmp_dir("extract-other"), odata[4200];
    struct pki *other = NULL;
    struct pki_init_opts io = { .country = "UT", .now = time(NULL) };
    struct buf ocsca = BUF_INIT(1 << 20);
    char serial[PKI_SERIAL_MAX];
    json_t *res = NULL;
    (void)state;

    snprintf(odata, sizeof odata, "%s/data", odir);
    assert_int_equal(datadir_init(odata, NULL, &err), 0);
    assert_int_equal(pki_open(odata, true, &other, &err), 0);
    assert_int_equal(pki_init(other, &io, serial, &err), 0);
    assert_int_equal(pki_export(other, PKI_EXPORT_CSCA, false, time(NULL), &ocsca, &err), 0);
    assert_int_equal(vds_verify(payload, strlen(payload), ocsca.data, ocsca.len, 0, &res, &err),
                     -1);
    assert_non_null(strstr(err_msg(&err), "not trusted"));
    assert_non_null(strstr(err_msg(&err), "not issued by a CSCA"));
    /* a seal signed by the other office's barcode signer, checked against ours */
    {
        struct pki_issue_opts is = { .kind = PKI_KIND_BARCODE, .now = time(NULL) };
        json_t *d = json_pack("{s:{s:s, s:i, s:s}, s:{s:s}}", "hdr", "t", "x", "v", 1, "is", "UTO",
                              "msg", "a", "b"),
               *seal = NULL;
        struct buf pl = BUF_INIT(VDS_PAYLOAD_MAX);
        assert_int_equal(pki_issue(other, &is, serial, &err), 0);
        assert_int_equal(vds_seal(d, barcode_sign, other, &seal, &err), 0);
        assert_int_equal(vds_payload(seal, &pl, &err), 0);
        assert_int_equal(vds_verify((const char *)pl.data, pl.len, ocsca.data, ocsca.len, 0, &res,
                                    &err), 0);
        json_decref(res);
        res = NULL;
        assert_int_equal(vds_verify((const char *)pl.data, pl.len, csca.data, csca.len, 0, &res,
                                    &err), -1);
        assert_non_null(strstr(err_msg(&err), "not trusted"));
        json_decref(d);
        json_decref(seal);
        buf_release(&pl);
    }
    /* ES256 needs a P-256 signer: a brainpool barcode signer is refused */
    {
        struct pki_issue_opts is = { .kind = PKI_KIND_BARCODE, .alg = PKI_ALG_ECDSA_BP256,
                                     .now = time(NULL) + 2 };
        unsigned char sig[64];
        struct buf cert = BUF_INIT(8192);
        assert_int_equal(pki_issue(other, &is, serial, &err), 0);
        assert_int_equal(pki_barcode_sign(other, "x", 1, time(NULL) + 2, sig, &cert, &err), -1);
        assert_non_null(strstr(err_msg(&err), "P-256"));
        buf_release(&cert);
    }
    pki_close(other);
    buf_release(&ocsca);
    tmp_free(&odir);
    free(payload);
}

static void expect_parse_error(const char *payload, const char *needle)
{
    struct err err = ERR_INIT;
    json_t *s = NULL;
    if (vds_parse(payload, strlen(payload), &s, &err) == 0)
        fail_msg("accepted: %s", payload);
    if (strstr(err_msg(&err), needle) == NULL)
        fail_msg("'%s' does not name '%s'", err_msg(&err), needle);
}

static void test_seal_parse_rejects(void **state)
{
    char *payload = issue(NULL), buf[8192];
    json_t *s = NULL;
    struct err err = ERR_INIT;
    (void)state;

    assert_int_equal(vds_parse(payload, strlen(payload), &s, &err), 0);
    json_decref(s);
    expect_parse_error("", "empty");
    expect_parse_error("hello", "not JSON");
    expect_parse_error("[1]", "JSON object");
    expect_parse_error("{\"sig\":{}}", "\"data\" missing");
    expect_parse_error("{\"data\":{\"hdr\":{\"t\":\"x\",\"v\":1,\"is\":\"UTO\"},\"msg\":{}},"
                       "\"sig\":{\"alg\":\"RS256\",\"cer\":\"AA\",\"sigvl\":\"AA\"}}",
                       "ES256");
    expect_parse_error("{\"data\":{\"hdr\":{\"t\":\"x\",\"v\":1,\"is\":\"uto\"},\"msg\":{}},"
                       "\"sig\":{}}",
                       "data.hdr.is");
    expect_parse_error("{\"data\":{\"hdr\":{\"t\":\"x\",\"v\":1,\"is\":\"UTO\"},\"msg\":[]},"
                       "\"sig\":{}}",
                       "data.msg");
    expect_parse_error("{\"data\":{\"hdr\":{\"t\":\"x\",\"v\":1,\"is\":\"UTO\"},\"msg\":{}},"
                       "\"sig\":{\"alg\":\"ES256\",\"cer\":\"AAAA\",\"sigvl\":\"AAAA\"}}",
                       "sigvl");
    expect_parse_error("{\"data\":{\"hdr\":{\"t\":\"x\",\"v\":1,\"is\":\"UTO\"},\"msg\":{}},"
                       "\"sig\":{},\"extra\":1}",
                       "extra");
    /* a certificate that is not one */
    snprintf(buf, sizeof buf,
             "{\"data\":{\"hdr\":{\"t\":\"x\",\"v\":1,\"is\":\"UTO\"},\"msg\":{}},\"sig\":{\"alg\":"
             "\"ES256\",\"cer\":\"AAAA\",\"sigvl\":\"%.86s\"}}",
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    expect_parse_error(buf, "sig.cer");
    /* duplicate members are refused (two readers must not see two messages) */
    expect_parse_error("{\"data\":{\"hdr\":{\"t\":\"x\",\"v\":1,\"is\":\"UTO\",\"is\":\"D\"},"
                       "\"msg\":{}},\"sig\":{}}",
                       "not JSON");
    free(payload);
}

/* The extracts of a record are listed in the order they were issued, also
 * when several carry the same issued_at second (their ids are random, so an
 * order by time then id shuffled them). */
static void test_extract_list_order(void **state)
{
    struct err err = ERR_INIT;
    char *uin = register_person();
    json_t *list = NULL, *x = NULL;
    char reason[32];
    (void)state;

    for (int i = 0; i < 8; i++) {
        (void)snprintf(reason, sizeof reason, "reprint %d", i);
        if (registry_extract_print(db, clerk_a, uin, i == 0 ? NULL : reason, true, seal_cb, pki, &x,
                                   &err) != 0)
            fail_msg("extract %d: %s", i, err_msg(&err));
        json_decref(x);
        x = NULL;
    }
    assert_int_equal(registry_extract_list(db, clerk_a, uin, &list, &err), 0);
    json_t *xs = json_object_get(list, "extracts");
    assert_int_equal(json_array_size(xs), 8);
    for (int i = 1; i < 8; i++) {
        (void)snprintf(reason, sizeof reason, "reprint %d", i);
        assert_string_equal(json_string_value(json_object_get(json_array_get(xs, (size_t)i),
                                                              "reason")),
                            reason);
    }
    json_decref(list);
    free(uin);
}

CMOCKA_MAIN(setup, teardown, test_death_normalize, test_death_register, test_seal_roundtrip,
            test_seal_every_character, test_seal_foreign_signer, test_seal_parse_rejects,
            test_extract_list_order)
