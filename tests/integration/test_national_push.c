/* The national push in bulk, against a real PostgreSQL 15 server the test
 * starts itself (tests/support/pg_cluster.sh), calling national_push in
 * process with real signed events (as bench/national does):
 *
 *   - a push of 1,000 registrations is applied set-based: the number of
 *     requests national_push sends PostgreSQL does not grow with the events
 *     (row by row it was four per registration) and every person, UIN and
 *     record is projected;
 *   - two registrations of one UIN inside one push: refused at the second,
 *     the collision recorded, nothing of the push stored;
 *   - signatures verified on worker threads: a forged signature deep in a
 *     push is refused naming the first forged event in log order, before a
 *     later malformed event; a malformed event before it is named first;
 *     nothing is stored; the honest push is accepted after;
 *   - a record drafted and registered in one push is written once, already
 *     registered (no UPDATE of its row), equal to what the registration
 *     leaves;
 *   - the same births registered in two offices become duplicate cases,
 *     whether drafted in the registration's push or an earlier one;
 *   - national search (through name_words) returns the rows, scores and order
 *     of the similarity query over birth_records. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "core/ed25519_batch.h"
#include "core/encode.h"
#include "core/json.h"
#include "core/secret.h"
#include "registry/national/national_int.h"
#include "support/national.h"
#include "support/cmocka_main.h"
#include "support/support.h"


static char *root;
static char pg_dir[4200], pg_url[4400];
static struct pg *pg;

struct sim {
    char code[9];
    unsigned char opk[32], osk[64], usk[64], upk[32];
    merkle_hash leaves[4096];
    uint64_t size, pushed;
    json_t *uins;
    size_t next_uin;
    /* push civreg.tree_head.v2 heads (previous_size: the size pushed
     * before), else v1; CLAIM, when not 0, is the previous_size the request
     * claims instead of the one signed */
    bool v2;
    uint64_t claim;
};

/* The single value of a query without parameters (malloc'd). */
static char *sql1(const char *sql)
{
    struct pg_res *r = NULL;
    struct err err = ERR_INIT;
    char *v;
    if (pg_exec(pg, sql, 0, NULL, &r, &err) != 0)
        fail_msg("%s: %s", sql, err_msg(&err));
    assert_int_equal(pg_res_rows(r), 1);
    v = strdup(pg_res_value(r, 0, 0));
    pg_res_free(r);
    return v;
}

static void expect_sql(const char *sql, const char *want)
{
    char *v = sql1(sql);
    if (strcmp(v, want) != 0)
        fail_msg("%s: %s, expected %s", sql, v, want);
    free(v);
}

static void add_event(struct sim *o, json_t *events, const char *actor, const unsigned char *sk,
                      const char *type, json_t *objects, json_t *data)
{
    struct buf body = BUF_INIT(1 << 20);
    struct err err = ERR_INIT;
    unsigned char sig[64];
    char sig_hex[129];
    crypto_hash_sha256_state hs;
    json_t *ev = json_pack("{s:i, s:I, s:s, s:s, s:s, s:s, s:o, s:o}", "v", 2, "seq",
                           (json_int_t)o->size, "type", type, "actor", actor, "office", o->code,
                           "time", "2026-12-01T00:00:00Z", "objects", objects, "data", data);
    assert_non_null(ev);
    assert_int_equal(json_canonical(ev, &body, &err), 0);
    crypto_sign_detached(sig, NULL, body.data, body.len, sk);
    hex_encode(sig, sizeof sig, sig_hex);
    assert_true(o->size < sizeof o->leaves / sizeof o->leaves[0]);
    crypto_hash_sha256_init(&hs);
    crypto_hash_sha256_update(&hs, (const unsigned char *)"\x00", 1);
    crypto_hash_sha256_update(&hs, body.data, body.len);
    crypto_hash_sha256_update(&hs, sig, sizeof sig);
    crypto_hash_sha256_final(&hs, o->leaves[o->size]);
    json_array_append_new(events, json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)o->size,
                                            "body", buf_str(&body), "signature", sig_hex));
    o->size++;
    json_decref(ev);
    buf_release(&body);
}

static const char *next_uin(struct sim *o)
{
    struct err err = ERR_INIT;
    if (o->uins == NULL) {
        if (national_uin_block(pg, o->code, 2000, &o->uins, &err) != NATIONAL_OK)
            fail_msg("uin block: %s", err_msg(&err));
    }
    return json_string_value(json_array_get(json_object_get(o->uins, "uins"), o->next_uin++));
}

/* When set, add_birth_named writes the record version as a district need
 * not: spaced, non-ASCII escaped (not its canonical form); the hash the
 * events sign is that text's. */
static bool versions_loose;

/* Person K named GIVEN FAMILY: a signed record.draft and record.register
 * with its link. */
static void add_birth_named(struct sim *o, unsigned k, const char *given_name,
                            const char *family, const char *uin, json_t *events,
                            json_t *versions)
{
    struct buf canon = BUF_INIT(1 << 20), st = BUF_INIT(1 << 20);
    struct err err = ERR_INIT;
    char id[64], hash[65], person_hash[65], link_hash[65], regno[40], link_id[128],
        sig_hex[129], given[24], date[16];
    unsigned char sig[64];
    json_t *rec, *person, *statement;

    snprintf(id, sizeof id, "%s-R-%06u", o->code, k);
    if (given_name == NULL)
        snprintf(given, sizeof given, "Ama%c%c", 'a' + k % 26, 'a' + k / 26 % 26);
    else
        snprintf(given, sizeof given, "%s", given_name);
    snprintf(date, sizeof date, "19%02u-%02u-%02u", 40 + k % 59, 1 + k % 12, 1 + k % 28);
    rec = json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:s}, s:[]}", "child", "given_names", given,
                    "family_name", family, "sex", "female", "birth", "date", date, "locality",
                    "Town", "evidence");
    assert_int_equal(json_canonical(rec, &canon, &err), 0);
    if (versions_loose) {
        char *loose = json_dumps(rec, JSON_SORT_KEYS | JSON_ENSURE_ASCII);
        assert_non_null(loose);
        buf_reset(&canon);
        assert_int_equal(buf_append(&canon, loose, strlen(loose)), 0);
        free(loose);
    }
    reg_sha256_hex(canon.data, canon.len, hash);
    json_array_append_new(versions, json_pack("{s:s, s:i, s:s}", "record_id", id, "version", 1,
                                              "data", buf_str(&canon)));
    add_event(o, events, "reg", o->usk, "record.draft",
              json_pack("[o]", registry_object_ref("record", id, hash, NULL)),
              json_pack("{s:i, s:s, s:[]}", "version", 1, "status", "draft", "evidence"));
    person = json_pack("{s:s, s:s}", "uin", uin, "record_id", id);
    assert_int_equal(registry_json_hash(person, person_hash, &err), 0);
    statement = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:[], s:s, s:s}", "type",
                          "civreg.link.v1", "uin", uin, "record_id", id, "record_version", 1,
                          "record_hash", hash, "person_hash", person_hash, "evidence",
                          "registrar", "reg", "time", "2026-12-01T00:00:00Z");
    assert_int_equal(json_canonical(statement, &st, &err), 0);
    reg_sha256_hex(st.data, st.len, link_hash);
    crypto_sign_detached(sig, NULL, st.data, st.len, o->usk);
    hex_encode(sig, sizeof sig, sig_hex);
    snprintf(regno, sizeof regno, "%s/1990/%06u", o->code, k);
    snprintf(link_id, sizeof link_id, "%s:%s:1", uin, id);
    add_event(o, events, "reg", o->usk, "record.register",
              json_pack("[o, o, o]", registry_object_ref("record", id, hash, NULL),
                        registry_object_ref("person", uin, person_hash, NULL),
                        registry_object_ref("link", link_id, link_hash, NULL)),
              json_pack("{s:i, s:s, s:s, s:s, s:{s:O, s:s, s:s}}", "version", 1, "status",
                        "registered", "registration_number", regno, "uin", uin, "link",
                        "statement", statement, "signature", sig_hex, "signer", "reg"));
    json_decref(rec);
    json_decref(person);
    json_decref(statement);
    buf_release(&canon);
    buf_release(&st);
}

/* Person K of family FAMILY, given name AmaXY from K. */
static void add_birth_of(struct sim *o, unsigned k, const char *family, const char *uin,
                         json_t *events, json_t *versions)
{
    add_birth_named(o, k, NULL, family, uin, events, versions);
}

/* Person K of the office's own family name (its code). */
static void add_birth(struct sim *o, unsigned k, const char *uin, json_t *events,
                      json_t *versions)
{
    add_birth_of(o, k, o->code, uin, events, versions);
}

/* Push o->pushed .. o->size with the signed head and consistency proof. */
static enum national_refusal push(struct sim *o, json_t *events, json_t *versions,
                                  struct err *err)
{
    struct merkle_mem mem = { (const merkle_hash *)o->leaves, o->size };
    struct merkle_source src;
    merkle_hash rt, path[MERKLE_MAX_PROOF];
    struct buf body = BUF_INIT(4096);
    char root_hex[65], sig_hex[129];
    unsigned char sig[64];
    size_t n = 0;
    json_t *proof = json_array(), *req, *out = NULL;
    enum national_refusal rc;

    merkle_mem_source(&mem, &src);
    assert_int_equal(merkle_root(&src, o->size, rt, err), 0);
    if (o->pushed > 0)
        assert_int_equal(merkle_consistency_proof(&src, o->pushed, o->size, path, &n, err), 0);
    for (size_t i = 0; i < n; i++) {
        char h[65];
        hex_encode(path[i], 32, h);
        json_array_append_new(proof, json_string(h));
    }
    hex_encode(rt, 32, root_hex);
    if (o->v2)
        assert_int_equal(reg_tree_head_body_v2(o->code, o->size, o->pushed, root_hex,
                                               "2026-12-01T00:00:00Z", &body, err),
                         0);
    else
        assert_int_equal(
            reg_tree_head_body(o->code, o->size, root_hex, "2026-12-01T00:00:00Z", &body, err),
            0);
    crypto_sign_detached(sig, NULL, body.data, body.len, o->osk);
    hex_encode(sig, sizeof sig, sig_hex);
    req = json_pack("{s:I, s:O, s:O, s:{s:I, s:s, s:s, s:s}, s:o}", "from",
                    (json_int_t)o->pushed, "events", events, "versions", versions, "head",
                    "tree_size", (json_int_t)o->size, "root_hash", root_hex, "time",
                    "2026-12-01T00:00:00Z", "signature", sig_hex, "consistency", proof);
    if (o->v2)
        json_object_set_new(json_object_get(req, "head"), "previous_size",
                            json_integer((json_int_t)(o->claim ? o->claim : o->pushed)));
    rc = national_push(pg, o->code, req, &out, err);
    if (rc == NATIONAL_OK)
        o->pushed = o->size;
    json_decref(out);
    json_decref(req);
    buf_release(&body);
    return rc;
}

/* Births 0 .. N-1 of family name FAMILY made by office O (fresh UINs) and
 * pushed in one request, which must be accepted. */
static void push_births(struct sim *o, unsigned n, const char *family)
{
    json_t *ev = json_array(), *vs = json_array();
    struct err err = ERR_INIT;

    for (unsigned k = 0; k < n; k++)
        add_birth_of(o, k, family, next_uin(o), ev, vs);
    if (push(o, ev, vs, &err) != NATIONAL_OK)
        fail_msg("push %s: %s", o->code, err_msg(&err));
    json_decref(ev);
    json_decref(vs);
}

/* Push event I of PAIR (a draft and its registration from add_birth) on
 * its own, with VERSIONS; WHAT names it in a failure. */
static void push_one_of(struct sim *o, json_t *pair, size_t i, json_t *versions, const char *what)
{
    struct err err = ERR_INIT;
    json_t *one = json_pack("[O]", json_array_get(pair, i));

    if (push(o, one, versions, &err) != NATIONAL_OK)
        fail_msg("push of the %s: %s", what, err_msg(&err));
    json_decref(one);
}

/* Person K of FAMILY drafted in one push and registered in the next. */
static void push_draft_then_register(struct sim *o, unsigned k, const char *family)
{
    json_t *pair = json_array(), *pv = json_array();

    add_birth_of(o, k, family, next_uin(o), pair, pv);
    o->size--;
    push_one_of(o, pair, 0, pv, "draft");
    json_array_clear(pv);
    o->size++;
    push_one_of(o, pair, 1, pv, "registration");
    json_decref(pair);
    json_decref(pv);
}

/* A registered office CODE with its office.key and first user pushed (the
 * caller frees it with office_free). */
static struct sim *office_new(const char *code)
{
    struct sim *o = calloc(1, sizeof *o);
    json_t *ev = json_array(), *vs = json_array();
    struct err err = ERR_INIT;
    char opk[65], upk[65], actor[16];

    assert_non_null(o);
    snprintf(o->code, sizeof o->code, "%s", code);
    crypto_sign_keypair(o->opk, o->osk);
    crypto_sign_keypair(o->upk, o->usk);
    hex_encode(o->opk, 32, opk);
    hex_encode(o->upk, 32, upk);
    if (national_office_add(pg, code, opk, &err) != 0)
        fail_msg("office-add: %s", err_msg(&err));
    snprintf(actor, sizeof actor, "office:%s", code);
    add_event(o, ev, actor, o->osk, "office.key", json_array(),
              json_pack("{s:s, s:s}", "office", code, "public_key", opk));
    add_event(o, ev, "reg", o->usk, "user.add", json_array(),
              json_pack("{s:s, s:s, s:[s], s:s}", "username", "reg", "office", code, "roles",
                        "registrar", "public_key", upk));
    if (push(o, ev, vs, &err) != NATIONAL_OK)
        fail_msg("first push: %s", err_msg(&err));
    json_decref(ev);
    json_decref(vs);
    return o;
}

static void office_free(struct sim *o)
{
    json_decref(o->uins);
    free(o);
}

/* ---- tests ---- */

static void test_push_set_based(void **state)
{
    struct sim *o = office_new("T1");
    json_t *ev = json_array(), *vs = json_array();
    struct err err = ERR_INIT;
    unsigned long long before, trips;
    (void)state;

    for (unsigned k = 0; k < 1000; k++)
        add_birth(o, k, next_uin(o), ev, vs);
    before = pg_round_trips(pg);
    if (push(o, ev, vs, &err) != NATIONAL_OK)
        fail_msg("push: %s", err_msg(&err));
    trips = pg_round_trips(pg) - before;
    print_message("national_push of 2,000 events: %llu requests to PostgreSQL\n", trips);
    /* row by row this was 4 per registration (4,000 and more) */
    assert_true(trips <= 40);
    expect_sql("SELECT tree_size FROM offices WHERE office = 'T1'", "2002");
    expect_sql("SELECT count(*) FROM events WHERE office = 'T1'", "2002");
    expect_sql("SELECT count(*) FROM persons WHERE office = 'T1'", "1000");
    expect_sql("SELECT count(*) FROM birth_records WHERE office = 'T1' AND status = 'registered'"
               " AND uin IS NOT NULL AND registration_number LIKE 'T1/1990/%'",
               "1000");
    expect_sql("SELECT count(*) FROM uins WHERE office = 'T1' AND state = 'assigned'", "1000");
    expect_sql("SELECT count(*) FROM uins u JOIN persons p ON p.uin = u.uin"
               " AND p.record_id = u.record_id WHERE u.office = 'T1'",
               "1000");
    expect_sql("SELECT count(*) FROM persons p JOIN events e ON e.office = p.office"
               " AND e.seq = p.event_seq WHERE p.office = 'T1' AND e.type = 'record.register'",
               "1000");
    json_decref(ev);
    json_decref(vs);
    office_free(o);
}

/* 300 births of office O into EVENTS and VERSIONS, birth 212 (event 427)
 * with the UIN of birth 7; that UIN returned (to free). */
static char *births_uin_twice(struct sim *o, json_t *events, json_t *versions)
{
    char *dup = NULL;

    for (unsigned k = 0; k < 300; k++) {
        const char *uin = next_uin(o);
        if (k == 7)
            dup = strdup(uin);
        add_birth(o, k, k == 212 ? dup : uin, events, versions);
    }
    return dup;
}

static void test_uin_twice_in_one_push(void **state)
{
    struct sim *o = office_new("T2");
    json_t *ev = json_array(), *vs = json_array();
    struct err err = ERR_INIT;
    char *dup = NULL, want[200];
    (void)state;

    dup = births_uin_twice(o, ev, vs);
    assert_int_equal(push(o, ev, vs, &err), NATIONAL_REFUSED);
    print_message("refused: %s\n", err_msg(&err));
    snprintf(want, sizeof want, "UIN %s of record T2-R-000212 is already held nationally by "
                                "T2 T2-R-000007", dup);
    assert_non_null(strstr(err_msg(&err), want));
    assert_non_null(strstr(err_msg(&err), "event 427:"));
    expect_sql("SELECT count(*) FROM uin_collisions WHERE office = 'T2'"
               " AND record_id = 'T2-R-000212' AND held_by = 'T2 T2-R-000007'",
               "1");
    expect_sql("SELECT tree_size FROM offices WHERE office = 'T2'", "2");
    expect_sql("SELECT count(*) FROM events WHERE office = 'T2'", "2");
    expect_sql("SELECT count(*) FROM persons WHERE office = 'T2'", "0");
    expect_sql("SELECT count(*) FROM uins WHERE office = 'T2' AND state = 'assigned'", "0");
    free(dup);
    json_decref(ev);
    json_decref(vs);
    office_free(o);
}

/* The number a statistics query SQL returns, the statistics of this
 * connection flushed first. */
static long long flushed_stat(const char *sql)
{
    char *v;
    long long n;

    free(sql1("SELECT pg_stat_force_next_flush()"));
    free(sql1("SELECT pg_stat_clear_snapshot()"));
    v = sql1(sql);
    n = strtoll(v, NULL, 10);
    free(v);
    return n;
}

/* Row updates of birth_records committed so far. */
static long long birth_record_updates(void)
{
    return flushed_stat("SELECT coalesce(sum(n_tup_upd), 0) FROM pg_stat_user_tables"
                        " WHERE relname LIKE 'birth\\_records\\_p%'");
}

/* Scans so far of the (name_key, birth_date) index of birth_records's
 * partitions (the duplicate lookup's). */
static long long name_birth_scans(void)
{
    return flushed_stat("SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes"
                        " WHERE indexrelname LIKE 'birth\\_records\\_p%name\\_key%'");
}

/* A record drafted and registered in the same push is written once, already
 * registered: no UPDATE of its row. A registration of a record drafted by an
 * earlier push still updates it (the counter works). Either way the row is
 * the one the registration leaves: its number, UIN and event. */
static void test_draft_and_register_one_row(void **state)
{
    struct sim *o = office_new("T4");
    json_t *ev = json_array(), *vs = json_array();
    struct err err = ERR_INIT;
    long long u0, u1, u2;
    (void)state;

    for (unsigned k = 0; k < 50; k++)
        add_birth(o, k, next_uin(o), ev, vs);
    u0 = birth_record_updates();
    if (push(o, ev, vs, &err) != NATIONAL_OK)
        fail_msg("push: %s", err_msg(&err));
    u1 = birth_record_updates();
    assert_int_equal(u1 - u0, 0);
    /* person 50: the draft in one push, the registration in the next */
    push_draft_then_register(o, 50, o->code);
    u2 = birth_record_updates();
    assert_int_equal(u2 - u1, 1);
    expect_sql("SELECT count(*) FROM birth_records b JOIN persons p ON p.office = b.office"
               " AND p.record_id = b.record_id AND p.uin = b.uin"
               " AND p.registration_number = b.registration_number"
               " AND p.event_seq = b.event_seq"
               " JOIN events e ON e.office = b.office AND e.seq = b.event_seq"
               " AND e.type = 'record.register'"
               " WHERE b.office = 'T4' AND b.status = 'registered' AND b.version = 1",
               "51");
    /* the record's data is read from record_versions, not kept twice */
    expect_sql("SELECT count(*) FROM information_schema.columns"
               " WHERE table_name = 'birth_records' AND column_name = 'data'",
               "0");
    json_decref(ev);
    json_decref(vs);
    office_free(o);
}

/* Schema 9: no index of birth_records is on uin (each registered birth paid
 * for an entry in it; none of the national queries asks birth_records by
 * UIN: a person's UIN is looked up in persons). Schema 11: persons has one
 * index, not two (each registration paid for an entry keyed by its UIN in
 * both): its primary key, led by the UIN, which the look-up by UIN reads
 * and which still refuses a second row of the same office and UIN. */
static void test_push_backend_schema(void **state)
{
    struct err err = ERR_INIT;
    char *plan;
    (void)state;
    expect_sql("SELECT count(*) FROM pg_indexes WHERE tablename LIKE 'birth\\_records%'"
               " AND indexdef LIKE '%(uin)%'",
               "0");
    expect_sql("SELECT count(*) FROM pg_indexes WHERE tablename = 'persons'", "1");
    expect_sql("SELECT count(*) FROM pg_indexes WHERE tablename = 'persons'"
               " AND indexname = 'persons_pkey' AND indexdef LIKE '%UNIQUE%(uin, office)'",
               "1");
    assert_int_equal(pg_exec(pg,
                             "INSERT INTO persons(office, uin, record_id, registration_number,"
                             " link_statement, link_signature, link_signer, event_seq) VALUES"
                             " ('K1', '0000000001', 'r1', 'n1', 's', 'g', 'k', 1),"
                             " ('K1', '0000000001', 'r2', 'n2', 's', 'g', 'k', 2)",
                             0, NULL, NULL, &err),
                     -1);
    assert_non_null(strstr(err_msg(&err), "unique constraint"));
    err_clear(&err);
    /* the look-up by UIN alone is an index scan of that key (sequential
     * scans off: the table is small here) */
    assert_int_equal(pg_exec(pg, "SET enable_seqscan = off", 0, NULL, NULL, &err), 0);
    plan = sql1("EXPLAIN (FORMAT JSON, COSTS OFF) SELECT record_id FROM persons"
                " WHERE uin = '0000000001'");
    assert_non_null(strstr(plan, "_pkey"));
    assert_null(strstr(plan, "Seq Scan"));
    free(plan);
    assert_int_equal(pg_exec(pg, "RESET enable_seqscan", 0, NULL, NULL, &err), 0);
}

/* Schema 12: the nation's name keys are kept by name_words alone (no
 * name_keys table, nothing read it but the push): a push's keys join
 * name_words with each of their words, the new words join the vocabulary
 * by name_words' statement trigger, and a key pushed again (by another
 * office) adds no row. That a key new to the nation is not looked up for
 * duplicates and a known one is: test_new_keys_not_looked_up. */
static void test_name_keys_in_words(void **state)
{
    struct sim *a = office_new("N1"), *b = office_new("N2");
    (void)state;

    expect_sql("SELECT count(*) FROM pg_class WHERE relname = 'name_keys'", "0");
    expect_sql("SELECT count(*) FROM pg_trigger WHERE tgname = 'name_words_vocab'", "1");
    push_births(a, 12, "Qwordsonly");
    expect_sql("SELECT count(DISTINCT name_key) FROM name_words"
               " WHERE name_key LIKE '% QWORDSONLY'",
               "12");
    /* every key with each of its words, once */
    expect_sql("SELECT count(*) FROM (SELECT name_key, count(*) AS c FROM name_words"
               " WHERE name_key LIKE '% QWORDSONLY' GROUP BY 1) g"
               " WHERE c <> (SELECT count(DISTINCT x)"
               " FROM unnest(string_to_array(g.name_key, ' ')) x WHERE x <> '')",
               "0");
    expect_sql("SELECT count(*) FROM name_vocab WHERE word = 'QWORDSONLY'", "1");
    expect_sql("SELECT count(*) FROM name_words WHERE word = 'QWORDSONLY'", "12");
    /* the same persons in a second office: their keys are known, no row added */
    push_births(b, 12, "Qwordsonly");
    expect_sql("SELECT count(*) FROM name_words WHERE word = 'QWORDSONLY'", "12");
    expect_sql("SELECT count(*) FROM name_vocab WHERE word = 'QWORDSONLY'", "1");
    expect_sql("SELECT count(*) FROM birth_records WHERE name_key LIKE '% QWORDSONLY'", "24");
    office_free(a);
    office_free(b);
}

/* Schema 10: a push's new words go through the vocabulary index's pending
 * list and are merged into the tree before the push's statement returns:
 * after a push that taught the nation new words the list is empty (searches
 * never scan it) and the trigram index finds each word as a full scan does. */
static void test_push_vocab_merged(void **state)
{
    struct sim *o;
    json_t *ev = json_array(), *vs = json_array();
    struct err err = ERR_INIT;
    (void)state;

    expect_sql("SELECT count(*) FROM pg_class WHERE relname = 'name_vocab_trgm'"
               " AND 'fastupdate=on' = ANY(reloptions)",
               "1");
    o = office_new("W1");
    for (unsigned k = 0; k < 30; k++)
        add_birth_of(o, k, "Qvocabmerge", next_uin(o), ev, vs);
    if (push(o, ev, vs, &err) != NATIONAL_OK)
        fail_msg("push W1: %s", err_msg(&err));
    /* the index's metapage counts the tuples waiting in its pending list */
    assert_int_equal(pg_exec(pg, "CREATE EXTENSION IF NOT EXISTS pageinspect", 0, NULL, NULL,
                             &err), 0);
    expect_sql("SELECT n_pending_tuples FROM gin_metapage_info(get_raw_page('name_vocab_trgm', 0))",
               "0");
    expect_sql("SELECT count(*) FROM name_vocab WHERE word = 'QVOCABMERGE'", "1");
    assert_int_equal(pg_exec(pg, "SET enable_seqscan = off", 0, NULL, NULL, &err), 0);
    expect_sql("SELECT count(*) FROM name_vocab WHERE word LIKE '%VOCABMERG%'", "1");
    assert_int_equal(pg_exec(pg, "RESET enable_seqscan", 0, NULL, NULL, &err), 0);
    assert_int_equal(pg_exec(pg, "DROP EXTENSION pageinspect", 0, NULL, NULL, &err), 0);
    json_decref(ev);
    json_decref(vs);
    office_free(o);
}

/* The same births registered in two offices become cases for both: those
 * whose draft and registration came in one push (the name key and date of
 * birth the duplicate check uses come from the push itself) and one whose
 * draft came in an earlier push (read back from birth_records); births that
 * differ, and births of the same office, do not. */
static void test_cross_office_duplicates(void **state)
{
    struct sim *a = office_new("D1"), *b = office_new("D2");
    json_t *ev = json_array(), *vs = json_array(), *pair = json_array(), *pv = json_array();
    struct err err = ERR_INIT;
    (void)state;

    for (unsigned k = 0; k < 20; k++)
        add_birth_of(a, k, "Mwangi", next_uin(a), ev, vs);
    if (push(a, ev, vs, &err) != NATIONAL_OK)
        fail_msg("push D1: %s", err_msg(&err));
    expect_sql("SELECT count(*) FROM dup_cases WHERE 'D1' IN (office_a, office_b)", "0");
    json_array_clear(ev);
    json_array_clear(vs);
    /* D2: persons 0-9 as in D1, 200-209 are other people, in one push */
    for (unsigned k = 0; k < 10; k++) {
        add_birth_of(b, k, "Mwangi", next_uin(b), ev, vs);
        add_birth_of(b, 200 + k, "Mwangi", next_uin(b), ev, vs);
    }
    if (push(b, ev, vs, &err) != NATIONAL_OK)
        fail_msg("push D2: %s", err_msg(&err));
    expect_sql("SELECT count(*) FROM dup_cases WHERE office_a = 'D1' AND office_b = 'D2'"
               " AND record_a = replace(record_b, 'D2', 'D1') AND status = 'open'"
               " AND record_b BETWEEN 'D2-R-000000' AND 'D2-R-000009'",
               "10");
    expect_sql("SELECT count(*) FROM dup_cases WHERE 'D2' IN (office_a, office_b)", "10");
    /* person 10: drafted in one push, registered in the next */
    add_birth_of(b, 10, "Mwangi", next_uin(b), pair, pv);
    b->size--;
    push_one_of(b, pair, 0, pv, "draft");
    expect_sql("SELECT count(*) FROM dup_cases WHERE record_b = 'D2-R-000010'", "0");
    json_array_clear(pv);
    b->size++;
    push_one_of(b, pair, 1, pv, "registration");
    expect_sql("SELECT count(*) FROM dup_cases WHERE office_a = 'D1' AND record_a = 'D1-R-000010'"
               " AND office_b = 'D2' AND record_b = 'D2-R-000010'",
               "1");
    expect_sql("SELECT count(*) FROM dup_cases WHERE 'D2' IN (office_a, office_b)", "11");
    json_decref(ev);
    json_decref(vs);
    json_decref(pair);
    json_decref(pv);
    office_free(a);
    office_free(b);
}

/* A registration whose name key the push brought to the nation (no record
 * held it) is not looked up for duplicates: the push of 20 births of a new
 * family name scans no partition's (name_key, birth_date) index. The same
 * births registered in a second office are (their keys are known by then)
 * and become cases, drafted in the same push or in an earlier one. */
static void test_new_keys_not_looked_up(void **state)
{
    struct sim *a = office_new("K1"), *b = office_new("K2");
    long long s0, s1, s2;
    (void)state;

    s0 = name_birth_scans();
    push_births(a, 20, "Qnewkeyonly");
    s1 = name_birth_scans();
    assert_int_equal(s1 - s0, 0);
    expect_sql("SELECT count(DISTINCT name_key) FROM name_words"
               " WHERE name_key LIKE '% QNEWKEYONLY'",
               "20");
    push_births(b, 5, "Qnewkeyonly");
    s2 = name_birth_scans();
    assert_true(s2 - s1 >= 5);
    /* person 5: drafted in one push, registered in the next */
    push_draft_then_register(b, 5, "Qnewkeyonly");
    expect_sql("SELECT count(*) FROM dup_cases WHERE office_a = 'K1' AND office_b = 'K2'"
               " AND record_a = replace(record_b, 'K2', 'K1') AND status = 'open'",
               "6");
    expect_sql("SELECT count(*) FROM dup_cases WHERE 'K1' IN (office_a, office_b)", "6");
    office_free(a);
    office_free(b);
}

/* national_search returns the rows, scores and order of its definition
 * computed by a scan of birth_records and name_words (no name_vocab, no
 * index): the records best by similarity of the whole key
 * among the keys holding, for a word of the query, one of its
 * NAT_SEARCH_WORDS_SQL most similar words of the nation's names (office T5:
 * names that share letters in many ways, one key held by several records,
 * on top of the records the earlier tests pushed). */
static void test_search_same_as_rows(void **state)
{
    static const char *const names[][2] = {
        { "Baraka", "Odhiambo" }, { "Baraka", "Odhiambo" }, { "Barak", "Odhiambo" },
        { "Baraka", "Otieno" },   { "Barack", "Obama" },    { "Amani", "Baraka" },
        { "Mwangi", "Kamau" },    { "Mwangi", "Baraka" },   { "Ama", "Mwangi" },
    };
    static const char *const queries[] = { "Baraka", "Barak Odhiambo", "Mwangi", "Amaab",
                                           "amaab t1", "Odhiambo", "Ama" };
    static const int limits[] = { 3, 10, 1000 };
    struct sim *o = office_new("T5");
    json_t *ev = json_array(), *vs = json_array();
    struct err err = ERR_INIT;
    (void)state;

    for (unsigned k = 0; k < 300; k++) {
        const char *const *n = names[k % (sizeof names / sizeof names[0])];
        char family[40];
        /* the same given name in each, a family name of its own for most */
        if (k < 100)
            snprintf(family, sizeof family, "%s", n[1]);
        else
            snprintf(family, sizeof family, "%s%c", n[1], 'a' + k % 7);
        add_birth_named(o, k, n[0], family, next_uin(o), ev, vs);
    }
    if (push(o, ev, vs, &err) != NATIONAL_OK)
        fail_msg("push: %s", err_msg(&err));
    for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++)
        for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++) {
            json_t *got = NULL;
            struct pg_res *r = NULL;
            char *key = nat_name_key(queries[q], ""), lim[16];
            size_t n = strlen(key);
            while (n > 0 && key[n - 1] == ' ')
                key[--n] = '\0';
            snprintf(lim, sizeof lim, "%d", limits[l]);
            if (national_search(pg, queries[q], limits[l], &got, &err) != 0)
                fail_msg("search %s: %s", queries[q], err_msg(&err));
            if (pg_exec(pg,
                        "SELECT office, record_id, similarity(name_key, $1) AS s"
                        " FROM birth_records b WHERE EXISTS (SELECT 1 FROM (SELECT DISTINCT w"
                        " FROM unnest(string_to_array($1, ' ')) w WHERE w <> '') q"
                        " CROSS JOIN LATERAL (SELECT v.word FROM (SELECT DISTINCT word"
                        " FROM name_words) v WHERE v.word % q.w"
                        " ORDER BY similarity(v.word, q.w) DESC, v.word"
                        " LIMIT " NAT_SEARCH_WORDS_SQL ") v"
                        " WHERE v.word = ANY (string_to_array(b.name_key, ' ')))"
                        " ORDER BY s DESC, office, record_id LIMIT $2::int",
                        2, (const char *[]){ key, lim }, &r, &err) != 0)
                fail_msg("reference: %s", err_msg(&err));
            print_message("search '%s' limit %d: %d rows\n", queries[q], limits[l],
                          pg_res_rows(r));
            assert_true(pg_res_rows(r) > 0);
            assert_int_equal(json_array_size(got), pg_res_rows(r));
            for (int i = 0; i < pg_res_rows(r); i++) {
                json_t *g = json_array_get(got, (size_t)i);
                assert_string_equal(json_string_value(json_object_get(g, "office")),
                                    pg_res_value(r, i, 0));
                assert_string_equal(json_string_value(json_object_get(g, "record_id")),
                                    pg_res_value(r, i, 1));
                assert_true(json_real_value(json_object_get(g, "score")) ==
                            strtod(pg_res_value(r, i, 2), NULL));
            }
            pg_res_free(r);
            json_decref(got);
            free(key);
        }
    json_decref(ev);
    json_decref(vs);
    office_free(o);
}


/* A birth of FULL, "Given Family" (the family name after the first space). */
static void add_birth_full(struct sim *o, unsigned k, const char *full, json_t *ev, json_t *vs)
{
    const char *sp = strchr(full, ' ');
    char given[40];
    snprintf(given, sizeof given, "%.*s", (int)(sp - full), full);
    add_birth_named(o, k, given, sp + 1, next_uin(o), ev, vs);
}

/* Recall of national search: a person is found by a misspelt or
 * phonetically written name (a letter dropped, doubled, swapped or
 * replaced, C for K, PH for F, a word missing) among people with names
 * like theirs (office T7; the records of the earlier tests around them).
 * Each query must bring the expected record within the first 10. */
/* The COPY text of a field as the byte-by-byte escaping made it (backslash,
 * tab, newline, carriage return escaped; every other byte as it is). */
static void copy_field_reference(struct buf *b, const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        const char *esc = s[i] == '\\' ? "\\\\" : s[i] == '\t' ? "\\t"
                          : s[i] == '\n' ? "\\n" : s[i] == '\r' ? "\\r" : NULL;
        assert_int_equal(esc ? buf_append(b, esc, 2) : buf_append_byte(b, s[i]), 0);
    }
}

/* pg_copy_field scans eight bytes a step between the bytes it escapes: its
 * COPY text is the byte-by-byte one for every length, and every position of
 * the escaped bytes, of their neighbours below 0x0e that pass through
 * (0x01, 0x0b, 0x0c, 0x0d), of bytes with the high bit set (UTF-8), and of
 * a NUL-free text of an event body's size with a handful of escapes. */
static void test_copy_field_escapes(void **state)
{
    static const unsigned char alphabet[] = { 'a', '\\', '\t', '\n', '\r', 0x01, 0x0b, 0x0c,
                                              0x0d, 0x0e, 0x5b, 0x5c, 0x5d, 0x7f, 0x80, 0xc3,
                                              0xa9, 0xff, '"', 'z' };
    unsigned char text[1100];
    uint32_t x = 2463534242u;
    (void)state;

    for (int round = 0; round < 20000; round++) {
        size_t len = round < 10000 ? (size_t)(round % 41) : (size_t)(round % 1100);
        struct buf got = BUF_INIT(1 << 16), want = BUF_INIT(1 << 16);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            /* long texts: mostly plain bytes, as a body is */
            text[i] = round < 10000 || x % 64 == 0 ? alphabet[(x >> 8) % sizeof alphabet]
                                                  : (unsigned char)(' ' + (x >> 8) % 90);
        }
        assert_int_equal(pg_copy_field(&got, (const char *)text, len), 0);
        copy_field_reference(&want, text, len);
        assert_int_equal(got.len, want.len);
        if (want.len)
            assert_memory_equal(got.data, want.data, want.len);
        buf_release(&got);
        buf_release(&want);
    }
}

/* json_read_canonical accepts a text only when the full check (parse, the
 * canonical form again, the bytes compared) accepts it too, with the same
 * value; what it declines the push judges by the full check. */
static void test_canonical_parse(void **state)
{
    static const struct {
        const char *text;
        bool fast; /* read in one pass */
    } cases[] = {
        { "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"x y\"},\"e\":-12,\"f\":0,\"g\":\"\"}",
          true },
        { "{\"\":1,\"A\":[],\"a\":{},\"b\":[[1,2],{\"x\":\"-\"}]}", true },
        { "{\"n\":999999999999999,\"m\":-999999999999999}", false }, /* order: m < n */
        { "{\"m\":-999999999999999,\"n\":999999999999999}", true },
        { "{\"b\":1,\"a\":2}", false },
        { "{\"a\":1,\"a\":1}", false },
        { "{\"a\":1,\"A\":2}", false },
        { "{\"a\": 1}", false },
        { " {\"a\":1}", false },
        { "{\"a\":1} ", false },
        { "{\"a\":1}x", false },
        { "{\"a\":01}", false },
        { "{\"a\":-0}", false },
        { "{\"a\":1.0}", false },
        { "{\"a\":1e2}", false },
        { "{\"a\":-}", false },
        { "{\"a\":1", false },
        { "{\"a\":[1,]}", false },
        { "{\"a\":[1 ]}", false },
        { "{\"a\":tru}", false },
        { "{\"a\":nul}", false },
        { "{\"a\":1,}", false },
        { "{\"a\"}", false },
        { "[1]", false },
        { "", false },
        { "{\"a\":\"\\u0041\"}", false },      /* not canonical: "A" */
        { "{\"a\":\"\\n\"}", false },          /* canonical, with an escape: full check */
        { "{\"a\":\"\\\"\"}", false },         /* the same */
        { "{\"a\":\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}", true }, /* UTF-8 values */
        { "{\"\xc3\xa9\":1}", false },         /* canonical, a non-ASCII name: full check */
        { "{\"a\":\"\xc3\"}", false },         /* truncated sequence: refused */
        { "{\"a\":\"\xc0\x80\"}", false },     /* overlong: refused */
        { "{\"a\":\"\xed\xa0\x80\"}", false }, /* a surrogate: refused */
        { "{\"a\":\"\xf4\x90\x80\x80\"}", false }, /* above U+10FFFF: refused */
        { "{\"a\":1234567890123456}", false }, /* canonical, 16 digits: full check */
        { "{\"a\":9007199254740992}", false }, /* beyond 2^53: refused */
        { "{\"a\":\"\x7f\"}", false },
    };
    char deep[200];
    size_t d = 0;

    (void)state;
    /* 40 levels: canonical, deeper than the one-pass reader goes */
    deep[d++] = '{', deep[d++] = '"', deep[d++] = 'a', deep[d++] = '"', deep[d++] = ':';
    for (int i = 0; i < 40; i++)
        deep[d++] = '[';
    for (int i = 0; i < 40; i++)
        deep[d++] = ']';
    deep[d++] = '}', deep[d] = '\0';
    for (size_t i = 0; i <= sizeof cases / sizeof cases[0]; i++) {
        const char *t = i < sizeof cases / sizeof cases[0] ? cases[i].text : deep;
        bool want_fast = i < sizeof cases / sizeof cases[0] ? cases[i].fast : false;
        size_t len = strlen(t);
        json_t *fast = NULL, *full = NULL;
        struct buf canon = BUF_INIT(1 << 20);
        /* jansson's own parser: json_parse tries the one-pass reader first */
        bool full_ok = (full = json_loadb(t, len, JSON_REJECT_DUPLICATES, NULL)) != NULL &&
                       json_is_object(full) &&
                       json_canonical(full, &canon, NULL) == 0 && canon.len == len &&
                       memcmp(canon.data, t, len) == 0;
        int rc = json_read_canonical(t, len, &fast);
        if ((rc == 0) != want_fast)
            fail_msg("one-pass reading of %s: %s", t, rc == 0 ? "accepted" : "declined");
        if (rc == 0) {
            assert_non_null(fast);
            if (!full_ok || !json_equal(fast, full))
                fail_msg("%s accepted in one pass, not by the full check", t);
        } else {
            assert_null(fast);
        }
        json_decref(fast);
        json_decref(full);
        buf_release(&canon);
    }
}

static void test_search_finds_misspelt(void **state)
{
    static const char *const people[] = {
        "Wanjiku Kamau", "Otieno Odhiambo", "Akinyi Ochieng", "Catherine Njeri", "Philip Kiprono",
        "Mohamed Ali", "Chebet Kiplagat", "Nafula Wekesa", "Muthoni Gathoni", "Kipchoge Keino",
    };
    /* people whose names resemble theirs (given name, then family name) */
    static const char *const decoys[] = {
        "Wanjiru Kamau", "Wangari Kamau", "Wanjiku Kamande", "Wanjiku Karanja", "Otieno Ochieng",
        "Odhiambo Otieno", "Akinyi Odhiambo", "Achieng Ochieng", "Catherine Wanjiru",
        "Kathryn Njoroge", "Phillip Kiprotich", "Philip Kipruto", "Mohammed Alim", "Ahmed Ali",
        "Chebet Kiprop", "Nafula Wafula", "Muthoni Kamau", "Kipchumba Keino",
    };
    static const struct {
        const char *query;
        unsigned person;
    } queries[] = {
        { "Wanjku Kamau", 0 },      { "Wanjiku Kamua", 0 },     { "Wanjikku Kamau", 0 },
        { "Otieno Odiambo", 1 },    { "Otino Odhiambo", 1 },    { "Akiny Ocheng", 2 },
        { "Akinyi Ochieng", 2 },    { "Katherine Njeri", 3 },   { "Catherine Njery", 3 },
        { "Filip Kiprono", 4 },     { "Philip Kipronno", 4 },   { "Mohammed Ali", 5 },
        { "Muhamed Ali", 5 },       { "Chebet Kiplagatt", 6 },  { "Chebbet Kiplagat", 6 },
        { "Nafulla Wekessa", 7 },   { "Muthony Gathoni", 8 },   { "Kipchoge Kieno", 9 },
        { "Kipchoge", 9 },          { "Odhiambo Otieno", 1 },
        /* one misspelt word alone: similarity 0.24 to the whole key, under
         * the 0.3 the search asked of it before schema 7 */
        { "Njery", 3 },
    };
    struct sim *o = office_new("T7");
    json_t *ev = json_array(), *vs = json_array();
    struct err err = ERR_INIT;
    unsigned k = 0;
    (void)state;

    for (unsigned i = 0; i < sizeof people / sizeof people[0]; i++, k++)
        add_birth_full(o, k, people[i], ev, vs);
    /* each decoy three times: together more holders of the resembling
     * names than the answer has rows */
    for (unsigned r = 0; r < 3; r++)
        for (unsigned i = 0; i < sizeof decoys / sizeof decoys[0]; i++, k++)
            add_birth_full(o, k, decoys[i], ev, vs);
    if (push(o, ev, vs, &err) != NATIONAL_OK)
        fail_msg("push: %s", err_msg(&err));
    for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
        json_t *got = NULL, *row;
        char want[40];
        size_t i;
        bool found = false;
        snprintf(want, sizeof want, "T7-R-%06u", queries[q].person);
        if (national_search(pg, queries[q].query, 10, &got, &err) != 0)
            fail_msg("search %s: %s", queries[q].query, err_msg(&err));
        json_array_foreach(got, i, row)
        {
            if (strcmp(json_string_value(json_object_get(row, "record_id")), want) == 0)
                found = true;
        }
        if (!found)
            fail_msg("search '%s': %s (%s) not in the first 10 of %zu", queries[q].query, want,
                     people[queries[q].person], json_array_size(got));
        json_decref(got);
    }
    json_decref(ev);
    json_decref(vs);
    office_free(o);
}

/* Flip one hex digit of event I's signature. */
static json_t *forged(const json_t *events, size_t i)
{
    json_t *copy = json_deep_copy(events), *e = json_array_get(copy, i);
    char *sig = strdup(json_string_value(json_object_get(e, "signature")));
    sig[10] = sig[10] == '0' ? '1' : '0';
    json_object_set_new(e, "signature", json_string(sig));
    free(sig);
    return copy;
}

static void test_bulk_signatures(void **state)
{
    struct sim *o;
    json_t *ev = json_array(), *vs = json_array(), *bad, *e;
    struct err err = ERR_INIT;
    (void)state;

    national_set_verify_threads(4); /* threads even on a machine with fewer cores */
    o = office_new("T3");
    for (unsigned k = 0; k < 400; k++)
        add_birth(o, k, next_uin(o), ev, vs);
    /* forged at 501 and 650, malformed at 700: the first in log order */
    bad = forged(ev, 501);
    e = forged(bad, 650);
    json_decref(bad);
    bad = e;
    json_object_set_new(json_array_get(bad, 700), "body", json_string("{\"seq\": 1}"));
    err = (struct err)ERR_INIT;
    assert_int_equal(push(o, bad, vs, &err), NATIONAL_REFUSED);
    print_message("refused: %s\n", err_msg(&err));
    assert_non_null(strstr(err_msg(&err), "event 503 (record.register by reg): signature "
                                          "invalid"));
    json_decref(bad);
    /* a malformed event before the forged one is named first */
    bad = forged(ev, 501);
    json_object_set_new(json_array_get(bad, 100), "body", json_string("{\"seq\": 1}"));
    err = (struct err)ERR_INIT;
    assert_int_equal(push(o, bad, vs, &err), NATIONAL_REFUSED);
    print_message("refused: %s\n", err_msg(&err));
    assert_non_null(strstr(err_msg(&err), "event 102: body malformed or not canonical"));
    json_decref(bad);
    /* forged only in the last share of the threads */
    bad = forged(ev, 799);
    err = (struct err)ERR_INIT;
    assert_int_equal(push(o, bad, vs, &err), NATIONAL_REFUSED);
    assert_non_null(strstr(err_msg(&err), "event 801 (record.register by reg)"));
    json_decref(bad);
    expect_sql("SELECT tree_size FROM offices WHERE office = 'T3'", "2");
    expect_sql("SELECT count(*) FROM events WHERE office = 'T3'", "2");
    /* the honest push goes in */
    err = (struct err)ERR_INIT;
    if (push(o, ev, vs, &err) != NATIONAL_OK)
        fail_msg("push: %s", err_msg(&err));
    expect_sql("SELECT tree_size FROM offices WHERE office = 'T3'", "802");
    expect_sql("SELECT count(*) FROM persons WHERE office = 'T3'", "400");
    national_set_verify_threads(0);
    json_decref(ev);
    json_decref(vs);
    office_free(o);
}

/* The signatures of a push are verified in batches of ED_BATCH_MAX: every
 * share of the threads is whole batches, so that only the last batch of the
 * push is short, and the shares cover the events in order. */
static void test_verify_shares_whole_batches(void **state)
{
    static const size_t sizes[] = { 0, 1, 63, 64, 65, 255, 256, 802, 1000, 20000, 100003 };
    (void)state;

    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (unsigned t = 1; t <= 9; t++) {
            size_t n = sizes[s], at = 0, shorts = 0;
            for (unsigned k = 0; k < t; k++) {
                size_t lo, hi;
                national_verify_share(n, t, k, &lo, &hi);
                assert_int_equal(lo, at);
                assert_true(hi >= lo && hi <= n);
                assert_int_equal(lo % ED_BATCH_MAX, 0);
                if (hi % ED_BATCH_MAX != 0) {
                    assert_int_equal(hi, n); /* short only at the push's end */
                    shorts++;
                }
                at = hi;
            }
            assert_int_equal(at, n);
            assert_true(shorts <= 1);
            /* four threads over 802 events: 3, 3, 3 and 4 batches */
            if (n == 802 && t == 4) {
                size_t lo, hi;
                national_verify_share(n, t, 3, &lo, &hi);
                assert_int_equal(lo, 576);
                assert_int_equal(hi, 802);
            }
        }
}

/* Forged signatures against the batches (four threads, 802 events: shares
 * [0, 192), [192, 384), [384, 576), [576, 802), batches of 64 from 0): one
 * in the middle of a full batch; two in one batch (the first is named); two
 * in different shares, the lower one in the last batch of its share and the
 * higher in the first batch of the next (the lower is named). Nothing is
 * stored; the honest push goes in after. */
static void test_forged_in_batches(void **state)
{
    struct sim *o;
    json_t *ev = json_array(), *vs = json_array(), *bad, *e;
    struct err err = ERR_INIT;
    static const struct {
        size_t a, b; /* forged events (b == a: one) */
        const char *named;
    } cases[] = {
        { 64 + 31, 64 + 31, "event 97 (" },  /* middle of the second batch */
        { 640 + 40, 640 + 12, "event 654 (" }, /* two in one batch: the first */
        { 383, 384, "event 385 (" },          /* last batch of share 1, first of share 2 */
        { 700, 130, "event 132 (" },          /* shares 3 and 0 */
        { 801, 801, "event 803 (" },          /* the short last batch */
    };
    (void)state;

    national_set_verify_threads(4);
    o = office_new("B1");
    for (unsigned k = 0; k < 401; k++)
        add_birth(o, k, next_uin(o), ev, vs);
    assert_int_equal(json_array_size(ev), 802);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        bad = forged(ev, cases[c].a);
        if (cases[c].b != cases[c].a) {
            e = forged(bad, cases[c].b);
            json_decref(bad);
            bad = e;
        }
        err = (struct err)ERR_INIT;
        assert_int_equal(push(o, bad, vs, &err), NATIONAL_REFUSED);
        print_message("refused: %s\n", err_msg(&err));
        if (strstr(err_msg(&err), cases[c].named) == NULL ||
            strstr(err_msg(&err), "signature invalid") == NULL)
            fail_msg("forged %zu and %zu: %s (want %s)", cases[c].a, cases[c].b,
                     err_msg(&err), cases[c].named);
        json_decref(bad);
    }
    expect_sql("SELECT tree_size FROM offices WHERE office = 'B1'", "2");
    expect_sql("SELECT count(*) FROM events WHERE office = 'B1'", "2");
    err = (struct err)ERR_INIT;
    if (push(o, ev, vs, &err) != NATIONAL_OK)
        fail_msg("push: %s", err_msg(&err));
    expect_sql("SELECT tree_size FROM offices WHERE office = 'B1'", "804");
    national_set_verify_threads(0);
    json_decref(ev);
    json_decref(vs);
    office_free(o);
}

/* Signatures are verified while the push's rows go to PostgreSQL: a push
 * with a UIN collision (event 427) and a forged signature after it (event
 * 501) is refused for the signature, as when the signatures were verified
 * before anything was sent; the collision, found by PostgreSQL first, is
 * not recorded (it came in a push that is not the office's) and nothing
 * is stored. */
static void test_forged_after_collision(void **state)
{
    struct sim *o;
    json_t *ev = json_array(), *vs = json_array(), *bad;
    struct err err = ERR_INIT;
    char *dup = NULL;
    (void)state;

    national_set_verify_threads(2);
    o = office_new("T6");
    dup = births_uin_twice(o, ev, vs);
    bad = forged(ev, 499);
    assert_int_equal(push(o, bad, vs, &err), NATIONAL_REFUSED);
    print_message("refused: %s\n", err_msg(&err));
    assert_non_null(strstr(err_msg(&err), "event 501 (record.register by reg): signature "
                                          "invalid"));
    expect_sql("SELECT count(*) FROM uin_collisions WHERE office = 'T6'", "0");
    expect_sql("SELECT tree_size FROM offices WHERE office = 'T6'", "2");
    expect_sql("SELECT count(*) FROM events WHERE office = 'T6'", "2");
    expect_sql("SELECT count(*) FROM persons WHERE office = 'T6'", "0");
    expect_sql("SELECT count(*) FROM uins WHERE office = 'T6' AND state = 'assigned'", "0");
    national_set_verify_threads(0);
    free(dup);
    json_decref(bad);
    json_decref(ev);
    json_decref(vs);
    office_free(o);
}

/* A record version whose text is not canonical (spaces, \u escapes) is
 * read by the full parse when the one-pass reader declines it: its record
 * is projected with the name key of its canonical twin in another office
 * (and the two are a cross-district duplicate case). */
static void test_version_not_canonical(void **state)
{
    struct sim *a = office_new("V1"), *b = office_new("V2");
    json_t *ea = json_array(), *va = json_array(), *eb = json_array(), *vb = json_array();
    struct err err = ERR_INIT;
    (void)state;

    add_birth_named(a, 5, "Am\xc3\xa9lie", "\xc3\x98rsted", next_uin(a), ea, va);
    versions_loose = true;
    add_birth_named(b, 5, "Am\xc3\xa9lie", "\xc3\x98rsted", next_uin(b), eb, vb);
    versions_loose = false;
    assert_non_null(strstr(nat_str(json_array_get(vb, 0), "data"), "Am\\u00E9lie"));
    assert_non_null(strstr(nat_str(json_array_get(vb, 0), "data"), "\": "));
    if (push(a, ea, va, &err) != NATIONAL_OK || push(b, eb, vb, &err) != NATIONAL_OK)
        fail_msg("push: %s", err_msg(&err));
    expect_sql("SELECT count(*) FROM birth_records WHERE office IN ('V1', 'V2')"
               " AND status = 'registered' AND name_key <> ''",
               "2");
    expect_sql("SELECT count(DISTINCT name_key) || ' ' || count(DISTINCT birth_date)"
               " FROM birth_records WHERE office IN ('V1', 'V2')",
               "1 1");
    expect_sql("SELECT count(*) FROM dup_cases WHERE office_b = 'V2' AND office_a = 'V1'", "1");
    json_decref(ea);
    json_decref(va);
    json_decref(eb);
    json_decref(vb);
    office_free(a);
    office_free(b);
}

/* The national tier's server settings (install/national-postgresql.conf):
 * tests/support/pg_cluster.sh appends the file named by CIVREG_PG_CONF to a
 * new cluster's settings (bench/national's documented run, bench/all), with
 * durability on; without it a cluster keeps the tests' small settings; a
 * file it cannot read is refused before anything starts. The schema goes
 * onto a server at those settings. */
/* The machine's memory in kB (/proc/meminfo MemTotal), 0 when unknown. */
static unsigned long long mem_total_kb(void)
{
    unsigned long long kb = 0;
    char line[256];
    FILE *f = fopen("/proc/meminfo", "r");

    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "MemTotal:", 9) == 0) {
            char *end = NULL;

            errno = 0;
            kb = strtoull(line + 9, &end, 10);
            if (errno != 0 || end == line + 9)
                kb = 0;
            break;
        }
    if (f)
        fclose(f);
    return kb;
}

static void test_national_server_settings(void **state)
{
    static const char *const want[][2] = {
        { "shared_buffers", "4GB" },     { "max_wal_size", "16GB" },
        { "checkpoint_timeout", "30min" }, { "wal_buffers", "64MB" },
        { "fsync", "on" },                 { "synchronous_commit", "on" },
        { "full_page_writes", "on" },      { "wal_level", "replica" },
    };
    char dir[4300], url[4400], sql[128], bad[256] = "", conf[4300], *v;
    const char *buffers = "4GB";
    struct pg *p2 = NULL;
    struct err err = ERR_INIT;
    int st, migrated;
    (void)state;

    /* the group's cluster: the tests' settings */
    v = psql(pg_url, "SHOW shared_buffers");
    assert_string_equal(v, "64MB");
    free(v);
    snprintf(dir, sizeof dir, "%s/pg-missing-conf", root);
    assert_int_equal(setenv("CIVREG_PG_CONF", "/nonexistent/national.conf", 1), 0);
    st = pg_cluster("start", dir, NULL, NULL, NULL, 0);
    if (st == 0)
        (void)pg_cluster("stop", dir, NULL, NULL, NULL, 0);
    assert_int_equal(st, 2);
    snprintf(dir, sizeof dir, "%s/pg-national-conf", root);
    snprintf(conf, sizeof conf, "%s", CIVREG_SOURCE_DIR "/install/national-postgresql.conf");
    if (mem_total_kb() < 8ULL * 1024 * 1024) {
        /* a machine too small for the file's 4 GB of buffers (a CI machine
         * of any size runs this): the file, then smaller buffers */
        char text[16384];
        FILE *in = fopen(conf, "r"), *out;
        size_t n;
        assert_non_null(in);
        n = fread(text, 1, sizeof text, in);
        fclose(in);
        assert_true(n > 0 && n < sizeof text);
        snprintf(conf, sizeof conf, "%s/national-small.conf", root);
        assert_non_null(out = fopen(conf, "w"));
        assert_int_equal(fwrite(text, 1, n, out), n);
        fputs("\nshared_buffers = 256MB\n", out);
        assert_int_equal(fclose(out), 0);
        buffers = "256MB";
    }
    assert_int_equal(setenv("CIVREG_PG_CONF", conf, 1), 0);
    st = pg_cluster("start", dir, NULL, NULL, url, sizeof url);
    assert_int_equal(unsetenv("CIVREG_PG_CONF"), 0);
    assert_int_equal(st, 0);
    /* the server stopped before any verdict */
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *w = i == 0 ? buffers : want[i][1];
        snprintf(sql, sizeof sql, "SHOW %s", want[i][0]);
        v = psql(url, sql);
        if (strcmp(v, w) != 0 && bad[0] == '\0')
            snprintf(bad, sizeof bad, "%s is %s, not %s", want[i][0], v, w);
        free(v);
    }
    migrated = pg_open(url, &p2, &err) == 0 && pg_migrate(p2, NULL, &err) == 0;
    pg_close(p2);
    (void)pg_cluster("stop", dir, NULL, NULL, NULL, 0);
    if (bad[0] != '\0')
        fail_msg("%s", bad);
    if (!migrated)
        fail_msg("schema at the national settings: %s", err_msg(&err));
}

/* A signed record.note of O citing blob BLOB and the evidence list EV
 * (hashes), into EVENTS. */
static void add_note(struct sim *o, json_t *events, const char *blob, json_t *ev)
{
    add_event(o, events, "reg", o->usk, "record.note",
              json_pack("[o]", registry_object_ref("blob", blob, blob, NULL)),
              json_pack("{s:o}", "evidence", ev));
}

/* The rows events and event_objects should hold for EVENTS (from seq 2):
 * each event as signed, with its leaf; its objects but links, in
 * (seq, kind/id) order. */
static int str_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void expected_rows(struct sim *o, const json_t *events, struct buf *evrows,
                          struct buf *objrows)
{
    size_t i, j;
    json_t *e, *x;

    json_array_foreach(events, i, e) {
        const char *text = json_string_value(json_object_get(e, "body"));
        json_t *body = json_loads(text, 0, NULL);
        long long seq = json_integer_value(json_object_get(e, "seq"));
        char leaf[65], objs[8][200];
        size_t n = 0;
        assert_non_null(body);
        hex_encode(o->leaves[seq], 32, leaf);
        assert_int_equal(buf_printf(evrows, "%s%lld\t%s\t%s\t%s\t%s\t%s\t%s", i ? "\n" : "",
                                    seq, json_string_value(json_object_get(body, "type")),
                                    json_string_value(json_object_get(body, "actor")),
                                    json_string_value(json_object_get(body, "time")), text,
                                    json_string_value(json_object_get(e, "signature")), leaf),
                         0);
        json_array_foreach(json_object_get(body, "objects"), j, x) {
            const char *kind = json_string_value(json_object_get(x, "kind"));
            if (strcmp(kind, "link") == 0)
                continue;
            assert_true(n < 8);
            snprintf(objs[n++], sizeof objs[0], "%lld/%s/%s", seq, kind,
                     json_string_value(json_object_get(x, "id")));
        }
        qsort(objs, n, sizeof objs[0], str_cmp);
        for (j = 0; j < n; j++)
            assert_int_equal(buf_printf(objrows, "%s%s", objrows->len ? "," : "", objs[j]), 0);
        json_decref(body);
    }
}

/* What a push stores of its events is what was signed, row for row, in log
 * order: the events' and their objects' COPY rows are built by the parse
 * threads, each on a share of the push, and joined in order; the buffers are
 * kept for the next push, so a smaller push after a larger one (one parse
 * job, stale bytes in the kept memory) stores exactly its own rows; the
 * evidence rows keep each hash's first citation. */
static void test_push_rows_as_signed(void **state)
{
    struct sim *o = office_new("R1");
    json_t *ev = json_array(), *vs = json_array(), *all = json_array();
    struct buf want_ev = BUF_INIT(64 << 20), want_ob = BUF_INIT(64 << 20);
    struct err err = ERR_INIT;
    char h1[65], h2[65], h3[65], want_evidence[400], *got;
    uint64_t note1 = 0, note2;
    (void)state;

    reg_sha256_hex("blob one", 8, h1);
    reg_sha256_hex("blob two", 8, h2);
    reg_sha256_hex("blob three", 10, h3);
    /* 600 births and a note: several parse jobs */
    for (unsigned k = 0; k < 300; k++) {
        add_birth(o, k, next_uin(o), ev, vs);
        if (k == 150) {
            note1 = o->size;
            add_note(o, ev, h1, json_pack("[s, s, s]", h2, h1, "not a hash"));
        }
    }
    json_array_extend(all, ev);
    if (push(o, ev, vs, &err) != NATIONAL_OK)
        fail_msg("first push: %s", err_msg(&err));
    json_array_clear(ev);
    json_array_clear(vs);
    /* then 10 births and a note citing h1 again: one parse job */
    for (unsigned k = 300; k < 310; k++)
        add_birth(o, k, next_uin(o), ev, vs);
    note2 = o->size;
    add_note(o, ev, h3, json_pack("[s]", h1));
    json_array_extend(all, ev);
    if (push(o, ev, vs, &err) != NATIONAL_OK)
        fail_msg("second push: %s", err_msg(&err));

    expected_rows(o, all, &want_ev, &want_ob);
    got = sql1("SELECT string_agg(seq || E'\\t' || type || E'\\t' || actor || E'\\t' || time"
               " || E'\\t' || body || E'\\t' || signature || E'\\t' || leaf_hash, E'\\n'"
               " ORDER BY seq) FROM events WHERE office = 'R1' AND seq >= 2");
    assert_int_equal(strlen(got), want_ev.len);
    assert_string_equal(got, buf_str(&want_ev));
    free(got);
    got = sql1("SELECT string_agg(seq || '/' || kind || '/' || id, ','"
               " ORDER BY seq, (kind || '/' || id) COLLATE \"C\") FROM event_objects"
               " WHERE office = 'R1' AND seq >= 2");
    assert_string_equal(got, buf_str(&want_ob));
    free(got);
    {
        /* first citations: h1 and h2 by the first note, h3 by the second */
        const char *hs[3] = { h1, h2, h3 };
        uint64_t at[3] = { note1, note1, note2 };
        char row[3][100];
        for (int i = 0; i < 3; i++)
            snprintf(row[i], sizeof row[i], "%s/%llu", hs[i], (unsigned long long)at[i]);
        qsort(row, 3, sizeof row[0], str_cmp);
        snprintf(want_evidence, sizeof want_evidence, "%s,%s,%s", row[0], row[1], row[2]);
    }
    expect_sql("SELECT string_agg(hash || '/' || first_seq, ',' ORDER BY hash COLLATE \"C\")"
               " FROM evidence WHERE office = 'R1'",
               want_evidence);
    buf_release(&want_ev);
    buf_release(&want_ob);
    json_decref(all);
    json_decref(ev);
    json_decref(vs);
    office_free(o);
}

/* The versions' fields and name keys are read with their hashes, before
 * the push knows which are used: a version no draft or correction signs is
 * stored by none and may be unreadable (the push is accepted, as before); a
 * draft's unreadable version refuses the push and stores nothing. */
static void test_version_unreadable(void **state)
{
    struct sim *o = office_new("R2");
    json_t *ev = json_array(), *vs = json_array();
    struct err err = ERR_INIT;
    char hash[65];
    (void)state;

    add_birth(o, 0, next_uin(o), ev, vs);
    json_array_append_new(vs, json_pack("{s:s, s:i, s:s}", "record_id", "R2-R-999999",
                                        "version", 1, "data", "{not json"));
    if (push(o, ev, vs, &err) != NATIONAL_OK)
        fail_msg("push with an unused unreadable version: %s", err_msg(&err));
    expect_sql("SELECT count(*) FROM record_versions WHERE office = 'R2'", "1");
    json_array_clear(ev);
    json_array_clear(vs);
    reg_sha256_hex("{not json", 9, hash);
    json_array_append_new(vs, json_pack("{s:s, s:i, s:s}", "record_id", "R2-R-000001",
                                        "version", 1, "data", "{not json"));
    add_event(o, ev, "reg", o->usk, "record.draft",
              json_pack("[o]", registry_object_ref("record", "R2-R-000001", hash, NULL)),
              json_pack("{s:i, s:s, s:[]}", "version", 1, "status", "draft", "evidence"));
    assert_int_not_equal(push(o, ev, vs, &err), NATIONAL_OK);
    expect_sql("SELECT tree_size FROM offices WHERE office = 'R2'", "4");
    expect_sql("SELECT count(*) FROM record_versions WHERE office = 'R2'", "1");
    json_decref(ev);
    json_decref(vs);
    office_free(o);
}

/* The push finds each draft's version by its hash: with the versions in
 * reverse order, each given twice, and as many again that no draft signs,
 * every draft finds its own (and its record is stored once); with one
 * draft's version left out, the push is refused naming that event and
 * stores nothing. */
static void test_versions_by_hash(void **state)
{
    struct sim *o = office_new("B2");
    json_t *ev = json_array(), *vs = json_array(), *some = json_array(), *many = json_array();
    struct err err = ERR_INIT;
    size_t n;
    (void)state;

    for (unsigned k = 0; k < 40; k++)
        add_birth(o, k, next_uin(o), ev, vs);
    n = json_array_size(vs);
    /* event 2k + 2 is the draft of version k; version 17 left out */
    for (size_t i = 0; i < n; i++)
        if (i != 17)
            json_array_append(some, json_array_get(vs, i));
    assert_int_equal(push(o, ev, some, &err), NATIONAL_REFUSED);
    print_message("refused: %s\n", err_msg(&err));
    assert_non_null(strstr(err_msg(&err), "event 36: the record version it signs"));
    assert_non_null(strstr(err_msg(&err), "is not in the push"));
    expect_sql("SELECT tree_size FROM offices WHERE office = 'B2'", "2");
    for (size_t i = n; i-- > 0;) {
        json_array_append(many, json_array_get(vs, i));
        json_array_append(many, json_array_get(vs, i));
        json_array_append_new(many, json_pack("{s:s, s:i, s:s}", "record_id", "B2-R-UNUSED",
                                              "version", (int)i + 1, "data", "{}"));
    }
    json_array_append_new(many, json_pack("{s:s, s:i, s:s}", "record_id", "B2-R-UNUSED",
                                          "version", 99, "data", "{\"a\":1}"));
    err = (struct err)ERR_INIT;
    if (push(o, ev, many, &err) != NATIONAL_OK)
        fail_msg("push: %s", err_msg(&err));
    expect_sql("SELECT tree_size FROM offices WHERE office = 'B2'", "82");
    expect_sql("SELECT count(*) FROM record_versions WHERE office = 'B2'", "40");
    expect_sql("SELECT count(DISTINCT hash) FROM record_versions WHERE office = 'B2'", "40");
    expect_sql("SELECT count(*) FROM persons WHERE office = 'B2'", "40");
    json_decref(some);
    json_decref(many);
    json_decref(ev);
    json_decref(vs);
    office_free(o);
}

static int group_setup(void **state)
{
    struct err err = ERR_INIT;
    int st;
    (void)state;
    if (sodium_init() < 0 || secret_init(&err) != 0 || (root = tmp_dir("national_push")) == NULL)
        return -1;
    chmod(root, 0755);
    snprintf(pg_dir, sizeof pg_dir, "%s/pg", root);
    st = pg_cluster("start", pg_dir, NULL, NULL, pg_url, sizeof pg_url);
    if (st == 77) {
        print_message("SKIP: PostgreSQL 15 server binaries are not installed (install/deps.sh)\n");
        tmp_remove(root);
        exit(77);
    }
    if (st != 0)
        return -1;
    if (pg_open(pg_url, &pg, &err) != 0 || pg_migrate(pg, NULL, &err) != 0) {
        print_message("postgresql: %s\n", err_msg(&err));
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    pg_close(pg);
    (void)pg_cluster("stop", pg_dir, NULL, NULL, NULL, 0);
    tmp_remove(root);
    free(root);
    return 0;
}

/* A district that moved from v1 heads (one per event) to v2 heads (one per
 * transaction): the national tier accepts both, each signature over its
 * exact body, and keeps the v2 body as the office's head; a v2 head whose
 * previous_size is not the one signed is refused and nothing is stored. */
static void test_push_v1_then_v2_heads(void **state)
{
    struct sim *o = office_new("T9");
    json_t *ev = json_array(), *vs = json_array();
    struct err err = ERR_INIT;
    char *body;
    (void)state;

    for (unsigned k = 0; k < 5; k++)
        add_birth(o, k, next_uin(o), ev, vs);
    if (push(o, ev, vs, &err) != NATIONAL_OK)
        fail_msg("v1 push: %s", err_msg(&err));
    json_array_clear(ev);
    json_array_clear(vs);
    o->v2 = true;
    for (unsigned k = 5; k < 10; k++)
        add_birth(o, k, next_uin(o), ev, vs);
    /* the signed previous_size is 12; the request claims 11 */
    o->claim = o->pushed - 1;
    assert_int_not_equal(push(o, ev, vs, &err), NATIONAL_OK);
    assert_non_null(strstr(err_msg(&err), "not signed by office T9"));
    expect_sql("SELECT tree_size FROM offices WHERE office = 'T9'", "12");
    o->claim = 0;
    if (push(o, ev, vs, &err) != NATIONAL_OK)
        fail_msg("v2 push: %s", err_msg(&err));
    expect_sql("SELECT tree_size FROM offices WHERE office = 'T9'", "22");
    expect_sql("SELECT count(*) FROM events WHERE office = 'T9'", "22");
    body = sql1("SELECT head_body FROM offices WHERE office = 'T9'");
    assert_non_null(strstr(body, "\"previous_size\":12"));
    assert_non_null(strstr(body, "civreg.tree_head.v2"));
    free(body);
    json_decref(ev);
    json_decref(vs);
    office_free(o);
}

CMOCKA_MAIN(group_setup, group_teardown, test_push_set_based, test_uin_twice_in_one_push,
            test_bulk_signatures, test_verify_shares_whole_batches, test_forged_in_batches,
            test_forged_after_collision, test_draft_and_register_one_row,
            test_cross_office_duplicates, test_search_same_as_rows,
            test_search_finds_misspelt, test_canonical_parse, test_push_v1_then_v2_heads,
            test_version_not_canonical, test_push_backend_schema,
            test_push_vocab_merged, test_name_keys_in_words, test_new_keys_not_looked_up,
            test_copy_field_escapes, test_push_rows_as_signed,
            test_version_unreadable, test_versions_by_hash,
            test_national_server_settings)
