/* registry search: name keys, Jaro-Winkler against published values, the
 * query parser, and search and duplicate-detection quality on a generated
 * population of 100,000 people (figures printed; recall in the top 10 must
 * reach 0.95). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bench/search_population.h"
#include "core/buf.h"
#include "db/db.h"
#include "registry/search.h"
#include "support/support.h"
#include "support/tmpdb.h"

#define POPULATION 100000
#define QUERIES 1000
#define DUP_TRUE 400
#define DUP_NEW 400
#define DUP_SIBLINGS 200

static char *fold(const char *s)
{
    struct buf b = BUF_INIT(1024);
    struct err err = ERR_INIT;
    char *r;
    if (registry_name_fold(s, strlen(s), &b, &err) != 0)
        fail_msg("fold %s: %s", s, err_msg(&err));
    r = strdup(b.data ? buf_str(&b) : "");
    buf_release(&b);
    return r;
}

/* S folds to WANT. */
static void assert_folds(const char *s, const char *want)
{
    char *f = fold(s);
    assert_string_equal(f, want);
    free(f);
}

static void test_name_keys(void **state)
{
    const char *forms[] = { "Müller", "Mueller", "MULLER", "Мюллер", "muller" };
    (void)state;
    for (size_t i = 0; i < 5; i++) {
        char *f = fold(forms[i]);
        char ph[REGISTRY_PHONETIC_MAX + 1];
        registry_name_phonetic(f, strlen(f), ph);
        assert_string_equal(ph, "MLR");
        free(f);
    }
    assert_folds("Jean-Luc  O'Brien", "JEAN LUC OBRIEN");
    assert_folds("Иванов", "IVANOV");
    assert_folds("   ", "");
    {
        char a[9], b[9];
        registry_name_phonetic("SCHMIDT", 7, a);
        registry_name_phonetic("SHMIDT", 6, b);
        assert_string_equal(a, b);
        registry_name_phonetic("PHILIPP", 7, a);
        registry_name_phonetic("FILIP", 5, b);
        assert_string_equal(a, b);
    }
}

/* Values from Winkler (1990) and the Wikipedia example table: MARTHA /
 * MARHTA 0.961, DWAYNE / DUANE 0.840, DIXON / DICKSONX 0.813. */
/* Names of ASCII letters, spaces, hyphens and apostrophes are folded
 * without the transliteration (registry/namekey.c): the key must be what
 * the transliteration gives. A no-break space at the end sends a name
 * through the transliteration and adds nothing (a trailing separator):
 * every string of up to five of "aZ -'`" is compared both ways. */
static void test_fold_plain_ascii(void **state)
{
    const char alpha[] = "aZ -'`";
    char s[8], t[16];
    size_t n = 0;
    (void)state;
    for (int len = 1; len <= 5; len++) {
        long total = 1;
        for (int i = 0; i < len; i++)
            total *= 6;
        for (long v = 0; v < total; v++) {
            long x = v;
            char *a, *b;
            for (int i = 0; i < len; i++, x /= 6)
                s[i] = alpha[x % 6];
            s[len] = '\0';
            (void)snprintf(t, sizeof t, "%s\xC2\xA0", s);
            a = fold(s);
            b = fold(t);
            if (strcmp(a, b) != 0)
                fail_msg("'%s' folds to '%s', through the transliteration '%s'", s, a, b);
            free(a);
            free(b);
            n++;
        }
    }
    assert_true(n > 9000);
}

static void test_jaro_winkler(void **state)
{
    (void)state;
    assert_true(fabs(registry_jaro_winkler("MARTHA", 6, "MARHTA", 6) - 0.961) < 0.001);
    assert_true(fabs(registry_jaro_winkler("DWAYNE", 6, "DUANE", 5) - 0.840) < 0.001);
    assert_true(fabs(registry_jaro_winkler("DIXON", 5, "DICKSONX", 8) - 0.813) < 0.001);
    assert_true(registry_jaro_winkler("ABC", 3, "ABC", 3) == 1.0);
    assert_true(registry_jaro_winkler("ABC", 3, "XYZ", 3) == 0.0);
    assert_true(registry_jaro_winkler("", 0, "A", 1) == 0.0);
}

static void test_query_parser(void **state)
{
    struct registry_search_query q;
    struct err err = ERR_INIT;
    const char *bad[] = {
        "born:1985-13",        "born:31.02.1985",  "uin:12345",       "sex:q",
        "colour:blue",         "mother:\"Anna",     "status:deleted",  "",
        "   ",                 "reg:12",           "born:",           "born:1985..x",
    };
    (void)state;

    assert_int_equal(registry_search_query_parse("Müller Hans 14.03.1985", 23, &q, &err), 0);
    assert_string_equal(q.names, "MUELLER HANS");
    assert_true(q.has_date);
    assert_int_equal(q.from.y, 1985);
    assert_int_equal(q.from.m, 3);
    assert_int_equal(q.from.d, 14);
    registry_search_query_release(&q);

    {
        const char *s = "family:Иванов mother:\"Anna Maria\" born:1980..1985-06 sex:f "
                        "HQ/2026/000012 4827163950 place:Kisumu status:registered";
        assert_int_equal(registry_search_query_parse(s, strlen(s), &q, &err), 0);
        assert_string_equal(q.family, "IVANOV");
        assert_string_equal(q.parents, "ANNA MARIA");
        assert_int_equal(q.from.y, 1980);
        assert_int_equal(q.to.y, 1985);
        assert_int_equal(q.to.m, 6);
        assert_int_equal(q.sex, 'f');
        assert_string_equal(q.regno, "HQ/2026/000012");
        assert_string_equal(q.uin, "4827163950");
        assert_string_equal(q.place, "KISUMU");
        assert_string_equal(q.status, "registered");
        assert_null(q.names);
        registry_search_query_release(&q);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err_clear(&err);
        if (registry_search_query_parse(bad[i], strlen(bad[i]), &q, &err) == 0)
            fail_msg("query '%s' was accepted", bad[i]);
        assert_true(strncmp(err_msg(&err), "search: ", 8) == 0);
    }
    assert_int_equal(registry_search_query_parse("\xff\xfe", 2, &q, &err), -1);
}

static struct db *db;
static char *dir;
static struct pop_person *people;

TMP_DB_SETUP(dir, db, "search", "search.db")

static int teardown(void **state)
{
    (void)state;
    tmp_db_close(&dir, &db);
    free(people);
    return 0;
}

static void populate(void)
{
    struct pop_rng r = { 0x9e3779b97f4a7c15ULL };
    enum { CHUNK = 5000 };
    struct registry_search_entry *e = calloc(CHUNK, sizeof *e);
    char (*ids)[24] = calloc(CHUNK, sizeof *ids);
    struct err err = ERR_INIT;

    people = calloc(POPULATION, sizeof *people);
    assert_non_null(people);
    assert_non_null(e);
    assert_non_null(ids);
    for (size_t base = 0; base < POPULATION; base += CHUNK) {
        for (size_t i = 0; i < CHUNK; i++) {
            pop_person_make(&r, &people[base + i]);
            (void)snprintf(ids[i], sizeof ids[i], "P%zu", base + i);
            e[i] = (struct registry_search_entry){ ids[i], "HQ", "registered",
                                                    pop_record(&people[base + i]), NULL, NULL };
        }
        if (registry_search_index_put_many(db, e, CHUNK, &err) != 0)
            fail_msg("index: %s", err_msg(&err));
        for (size_t i = 0; i < CHUNK; i++)
            json_decref((json_t *)e[i].record);
    }
    free(e);
    free(ids);
}

/* Rank (1-based) of record ID in the results, 0 when absent. */
static int rank_of(const json_t *res, const char *id, int *top_score, int *right_score)
{
    const json_t *rows = json_object_get(res, "results"), *row;
    size_t i;
    *top_score = 0;
    *right_score = -1;
    json_array_foreach(rows, i, row) {
        int s = (int)json_integer_value(json_object_get(row, "score"));
        if (i == 0)
            *top_score = s;
        if (strcmp(json_string_value(json_object_get(row, "record_id")), id) == 0) {
            *right_score = s;
            return (int)i + 1;
        }
    }
    return 0;
}

static void test_search_quality(void **state)
{
    struct pop_rng r = { 0x1234567ULL };
    int found10[POP_VARIANTS] = { 0 }, found1[POP_VARIANTS] = { 0 }, asked[POP_VARIANTS] = { 0 };
    long confident = 0, confident_right = 0;
    double rr = 0;
    int total10 = 0, total1 = 0;
    (void)state;

    populate();
    for (int i = 0; i < QUERIES; i++) {
        unsigned who = pop_below(&r, POPULATION);
        enum pop_variant v = (enum pop_variant)(i % POP_VARIANTS);
        char query[512], id[24];
        struct err err = ERR_INIT;
        json_t *res = NULL;
        int rank, top, right;

        pop_query(&r, &people[who], v, query, sizeof query);
        (void)snprintf(id, sizeof id, "P%u", who);
        if (registry_search(db, NULL, query, 10, &res, &err) != 0)
            fail_msg("search '%s': %s", query, err_msg(&err));
        rank = rank_of(res, id, &top, &right);
        asked[v]++;
        if (rank > 0) {
            found10[v]++;
            total10++;
            rr += 1.0 / rank;
        }
        if (rank == 1) {
            found1[v]++;
            total1++;
        }
        /* results a clerk would take as a match: score >= 900 */
        {
            const json_t *row;
            size_t k;
            json_array_foreach(json_object_get(res, "results"), k, row) {
                if (json_integer_value(json_object_get(row, "score")) < 900)
                    continue;
                confident++;
                if (strcmp(json_string_value(json_object_get(row, "record_id")), id) == 0)
                    confident_right++;
            }
        }
        if (rank == 0 && getenv("CIVREG_SEARCH_MISSES"))
            print_message("miss [%s]: %s (stored %s / %s / %04d-%02d-%02d)\n",
                          pop_variant_names[v], query, people[who].given, people[who].family,
                          people[who].y, people[who].m, people[who].d);
        json_decref(res);
    }
    print_message("search quality over %d people, %d queries:\n", POPULATION, QUERIES);
    for (int v = 0; v < POP_VARIANTS; v++)
        print_message("  %-16s recall@10 %.3f  precision@1 %.3f  (%d queries)\n",
                      pop_variant_names[v], (double)found10[v] / asked[v],
                      (double)found1[v] / asked[v], asked[v]);
    print_message("  all              recall@10 %.3f  precision@1 %.3f  MRR %.3f\n",
                  (double)total10 / QUERIES, (double)total1 / QUERIES, rr / QUERIES);
    print_message("  results scored >= 900: %ld, of which the right person %ld (precision %.3f)\n",
                  confident, confident_right,
                  confident ? (double)confident_right / (double)confident : 0.0);
    assert_true((double)total10 / QUERIES >= 0.95);
}

/* A duplicate of P as it appears in another register: one field respelt. */
static json_t *dup_variant(struct pop_rng *r, const struct pop_person *p, const char **kind)
{
    struct pop_person q = *p;
    json_t *rec;
    switch (pop_below(r, 6)) {
    case 0:
        *kind = "typo";
        pop_strip(p->family_alt, q.family, sizeof q.family);
        pop_typo(r, q.family, sizeof q.family);
        break;
    case 1:
        *kind = "transliteration";
        (void)snprintf(q.given, sizeof q.given, "%s", p->given_alt);
        (void)snprintf(q.family, sizeof q.family, "%s", p->family_alt);
        break;
    case 2:
        *kind = "day/month swapped";
        if (p->d <= 12 && p->d != p->m) {
            q.d = p->m;
            q.m = p->d;
        } else {
            q.d = p->d > 3 ? p->d - 2 : p->d + 2;
        }
        break;
    case 3:
        *kind = "date a few days off";
        q.d = p->d > 3 ? p->d - 3 : p->d + 3;
        break;
    case 4:
        *kind = "swapped names";
        (void)snprintf(q.given, sizeof q.given, "%s", p->family);
        (void)snprintf(q.family, sizeof q.family, "%s", p->given);
        break;
    default:
        *kind = "missing accents";
        pop_strip(p->given, q.given, sizeof q.given);
        pop_strip(p->family, q.family, sizeof q.family);
        break;
    }
    rec = pop_record(&q);
    return rec;
}

static void test_dup_quality(void **state)
{
    struct pop_rng r = { 0xabcdef12345ULL };
    long tp = 0, fp = 0, fn = 0, sib_fp = 0, new_fp = 0;
    (void)state;

    if (people == NULL)
        populate();
    /* true duplicates: a variant of a stored person */
    for (int i = 0; i < DUP_TRUE; i++) {
        unsigned who = pop_below(&r, POPULATION);
        const char *kind;
        json_t *rec = dup_variant(&r, &people[who], &kind), *c = NULL;
        struct err err = ERR_INIT;
        char id[24];
        (void)snprintf(id, sizeof id, "P%u", who);
        if (registry_dup_find(db, rec, NULL, &c, &err) != 0)
            fail_msg("%s", err_msg(&err));
        if (pop_rows_have(c, id)) {
            tp++;
            fp += (long)json_array_size(c) - 1;
        } else {
            fn++;
            fp += (long)json_array_size(c);
            if (getenv("CIVREG_SEARCH_MISSES"))
                print_message("dup missed [%s]: %s %s\n", kind, people[who].given,
                              people[who].family);
        }
        json_decref(rec);
        json_decref(c);
    }
    /* new people: every candidate is a false alarm */
    for (int i = 0; i < DUP_NEW; i++) {
        struct pop_person p;
        json_t *rec, *c = NULL;
        struct err err = ERR_INIT;
        pop_person_make(&r, &p);
        rec = pop_record(&p);
        if (registry_dup_find(db, rec, NULL, &c, &err) != 0)
            fail_msg("%s", err_msg(&err));
        new_fp += (long)json_array_size(c);
        if (json_array_size(c) && getenv("CIVREG_SEARCH_MISSES")) {
            char *w = json_dumps(c, JSON_COMPACT);
            print_message("new %s %s %04d-%02d-%02d: %s\n", p.given, p.family, p.y, p.m, p.d, w);
            free(w);
        }
        json_decref(rec);
        json_decref(c);
    }
    /* siblings: same mother, family name and place, another child born
     * 1-6 years later */
    for (int i = 0; i < DUP_SIBLINGS; i++) {
        unsigned who = pop_below(&r, POPULATION);
        struct pop_person p, s = people[who];
        json_t *rec, *c = NULL;
        struct err err = ERR_INIT;
        char id[24];
        pop_person_make(&r, &p);
        (void)snprintf(s.given, sizeof s.given, "%s", p.given);
        (void)snprintf(s.sex, sizeof s.sex, "%s", p.sex);
        s.y = people[who].y + 1 + (int)pop_below(&r, 6);
        rec = pop_record(&s);
        (void)snprintf(id, sizeof id, "P%u", who);
        if (registry_dup_find(db, rec, NULL, &c, &err) != 0)
            fail_msg("%s", err_msg(&err));
        sib_fp += pop_rows_have(c, id);
        json_decref(rec);
        json_decref(c);
    }
    fp += new_fp + sib_fp;
    print_message("duplicate detection (threshold %d) over %d people:\n", REGISTRY_DUP_THRESHOLD,
                  POPULATION);
    print_message("  %d true duplicates: %ld found (recall %.3f)\n", DUP_TRUE, tp,
                  (double)tp / DUP_TRUE);
    print_message("  %d new people: %ld false candidates; %d siblings: %ld flagged\n", DUP_NEW,
                  new_fp, DUP_SIBLINGS, sib_fp);
    print_message("  candidates %ld, of which true %ld (precision %.3f)\n", tp + fp, tp,
                  tp + fp ? (double)tp / (double)(tp + fp) : 0.0);
    assert_true((double)tp / DUP_TRUE >= 0.9);
    assert_true(tp + fp > 0 && (double)tp / (double)(tp + fp) >= 0.9);
}

/* search_index is read by rowid (results, duplicate scoring) and by
 * record_id (the index writer, the audit) only: the plan of each such read
 * uses the rowid or the record_id index, and the table carries no other
 * index (migration 0016 dropped the dob, regno and uin ones, which no query
 * read and every indexed record paid a B-tree insert for). */
static void test_search_index_reads(void **state)
{
    static const char *const reads[] = {
        "SELECT record_id, office, status FROM search_index WHERE rowid=?1",
        "SELECT rowid FROM search_index WHERE record_id=?1",
        "UPDATE search_index SET status=?2 WHERE record_id=?1",
        "UPDATE search_index SET status='registered', regno=?2, uin=?3 WHERE rowid=?1",
    };
    sqlite3 *h = db_handle(db);
    sqlite3_stmt *st;
    int n = 0;
    (void)state;

    assert_int_equal(sqlite3_prepare_v2(h,
                                        "SELECT name FROM sqlite_schema WHERE type = 'index'"
                                        " AND tbl_name = 'search_index'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        /* the UNIQUE constraint's own index on record_id */
        if (strncmp(name, "sqlite_autoindex_search_index_", 30) != 0)
            fail_msg("search_index has index %s, which no query reads", name);
        n++;
    }
    sqlite3_finalize(st);
    assert_int_equal(n, 1);
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        char sql[512];
        bool keyed = false;
        (void)snprintf(sql, sizeof sql, "EXPLAIN QUERY PLAN %s", reads[i]);
        assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *d = (const char *)sqlite3_column_text(st, 3);
            if (strstr(d, "SCAN") != NULL)
                fail_msg("%s: %s", reads[i], d);
            keyed |= strstr(d, "INTEGER PRIMARY KEY (rowid=?)") != NULL ||
                     strstr(d, "sqlite_autoindex_search_index_") != NULL;
        }
        sqlite3_finalize(st);
        if (!keyed)
            fail_msg("%s: not read by rowid or record_id", reads[i]);
    }
}

int main(void)
{
    const struct CMUnitTest unit[] = {
        cmocka_unit_test(test_name_keys),
        cmocka_unit_test(test_fold_plain_ascii),
        cmocka_unit_test(test_jaro_winkler),
        cmocka_unit_test(test_query_parser),
    };
    const struct CMUnitTest quality[] = {
        cmocka_unit_test(test_search_quality),
        cmocka_unit_test(test_dup_quality),
        cmocka_unit_test(test_search_index_reads),
    };
    return cmocka_run_group_tests(unit, NULL, NULL) |
           cmocka_run_group_tests(quality, setup, teardown);
}
