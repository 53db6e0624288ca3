/* civreg registry: duplicate detection.
 *
 * A birth keyed twice (two register volumes, a late registration of a birth
 * already registered, a clerk keying the same page twice) must not become
 * two persons. When a record is drafted, verified, corrected or about to be
 * registered, the search index is asked for records resembling it; each
 * pair is scored on names (Jaro-Winkler and phonetic keys on the folded,
 * transliterated names, given and family names also tried swapped), date of
 * birth (exact, within days, day and month swapped), sex, place and the
 * mother's name. Pairs at or above REGISTRY_DUP_THRESHOLD are stored in
 * dup_candidates; registration waits until a registrar has resolved every
 * open pair of the record, each resolution a signed record.duplicate event. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "db/rows.h"
#include "search_int.h"

#define DUP_CANDIDATES 30
/* A record keyed many times (a register imported twice) would otherwise
 * pair with every copy: the best few pairs are enough to hold it back. */
#define DUP_STORE_MAX 10

struct dup_keys {
    const char *given, *family, *dob, *sex, *place, *mother;
};

static double sym(const char *a, const char *b)
{
    if (!*a && !*b)
        return 0.5; /* nothing known on either side */
    return (reg_words_sim(a, b) + reg_words_sim(b, a)) / 2.0;
}

static int add_why(json_t *why, const char *what, double s)
{
    char line[96];
    if (why == NULL)
        return 0;
    (void)snprintf(line, sizeof line, "%s %d", what, (int)(s * 100.0 + 0.5));
    return json_array_append_new(why, json_string(line));
}

static int dup_score_keys(const struct dup_keys *a, const struct dup_keys *b, json_t *why)
{
    double straight = (sym(a->given, b->given) * 0.45 + sym(a->family, b->family) * 0.55);
    double swapped = (sym(a->given, b->family) * 0.45 + sym(a->family, b->given) * 0.55);
    double names = straight, date = 0, sex, place, mother, total;
    struct registry_pdate da, db_;
    const char *w = NULL;

    if (swapped > straight + 0.05) {
        names = swapped;
        (void)add_why(why, "names (given and family swapped)", names);
    } else {
        (void)add_why(why, "names", names);
    }
    if (reg_pdate_parse_stored(a->dob, &da) == 0 && reg_pdate_parse_stored(b->dob, &db_) == 0)
        date = reg_date_sim(&da, &da, &db_, &w);
    (void)add_why(why, w ? w : "date of birth", date);
    if (strcmp(a->sex, b->sex) == 0)
        sex = 1.0;
    else if (strcmp(a->sex, "not_stated") == 0 || strcmp(b->sex, "not_stated") == 0)
        sex = 0.5;
    else
        sex = 0.0;
    (void)add_why(why, "sex", sex);
    place = sym(a->place, b->place);
    (void)add_why(why, "place", place);
    mother = sym(a->mother, b->mother);
    (void)add_why(why, "mother", mother);
    total = 0.40 * names + 0.25 * date + 0.10 * sex + 0.10 * place + 0.15 * mother;
    /* a name that does not agree at all is a different child, whatever
     * else agrees (twins share everything but the given name) */
    if (names < 0.75)
        total *= names / 0.75;
    /* nor is a birth more than a year away (a sibling with the same
     * mother, name and place); a few months off still needs a look */
    if (date == 0.0)
        total *= 0.8;
    else if (date < 0.5)
        total *= 0.9;
    return (int)(total * 1000.0 + 0.5);
}

static void keys_of(const json_t *rec, const struct search_keys *k, struct dup_keys *d)
{
    const char *dob = json_string_value(json_object_get(json_object_get(rec, "birth"), "date"));
    const char *sex = json_string_value(json_object_get(json_object_get(rec, "child"), "sex"));
    d->given = buf_str(&((struct search_keys *)k)->given);
    d->family = buf_str(&((struct search_keys *)k)->family);
    d->place = buf_str(&((struct search_keys *)k)->place);
    d->mother = buf_str(&((struct search_keys *)k)->mother);
    d->dob = dob ? dob : "";
    d->sex = sex ? sex : "";
}

int registry_dup_score(const json_t *a, const json_t *b, json_t **why)
{
    struct search_keys ka, kb;
    struct dup_keys da, dbk;
    struct err err = ERR_INIT;
    int s;

    if (why)
        *why = json_array();
    if (reg_search_keys(a, &ka, &err) != 0)
        return 0;
    if (reg_search_keys(b, &kb, &err) != 0) {
        reg_search_keys_release(&ka);
        return 0;
    }
    keys_of(a, &ka, &da);
    keys_of(b, &kb, &dbk);
    s = dup_score_keys(&da, &dbk, why ? *why : NULL);
    reg_search_keys_release(&ka);
    reg_search_keys_release(&kb);
    return s;
}

/* DUP_NEAR: a pair whose dates of birth score 0 (more than 366 days apart,
 * or one not a date) scores at most 0.8 * (0.40 + 0.10 + 0.10 + 0.15) =
 * 600 < REGISTRY_DUP_THRESHOLD, whatever else agrees: such a candidate is
 * neither scored nor asked for (registry_search_query.near_years). */
_Static_assert(REGISTRY_DUP_THRESHOLD > 600, "dedup: the date filter needs a threshold above 600");

static bool date_near(const struct registry_pdate *mine, const char *dob)
{
    struct registry_pdate d;
    const char *w = NULL;
    return reg_pdate_parse_stored(dob, &d) == 0 && reg_date_sim(mine, mine, &d, &w) > 0.0;
}

struct found {
    char *id;
    int score;
    json_t *why;
};

static int cmp_found(const void *a, const void *b)
{
    const struct found *x = a, *y = b;
    if (x->score != y->score)
        return y->score - x->score;
    return strcmp(x->id, y->id);
}

/* The query of record REC's duplicate scan (MINE: its keys, from its folded
 * names K), its names in NAMES. 1: REC has no date of birth, so no pair
 * reaches the threshold (see DUP_NEAR below); -1: names too long. */
static int dup_query(const json_t *rec, const struct search_keys *k, struct dup_keys *mine,
                     struct buf *names, struct registry_search_query *q, struct err *err)
{
    memset(q, 0, sizeof *q);
    keys_of(rec, k, mine);
    if (buf_printf(names, "%s %s", mine->given, mine->family) != 0)
        return err_set(err, "duplicates: names too long");
    q->names = (char *)buf_str(names);
    if (reg_pdate_parse_stored(mine->dob, &q->from) != 0)
        return 1;
    q->to = q->from;
    q->has_date = true;
    q->near_years = true;
    q->phonetic_only = true;
    return 0;
}

/* registry_dup_find with REC's folded names KEYS, or NULL to fold them here.
 * *KEYED (or NULL): the candidates came from the name-key look-up alone,
 * and there were some (search_name_keys read; no FTS5 or trigram pass). */
static int dup_find(struct db *db, const json_t *rec, const struct search_keys *keys,
                    struct reg_fts_held *held, const char *exclude_id, json_t **out,
                    bool *keyed, struct err *err)
{
    struct registry_search_query q;
    struct search_keys own;
    const struct search_keys *k = keys ? keys : &own;
    struct dup_keys mine;
    struct found *f = NULL;
    sqlite3_stmt *st = NULL;
    int64_t *ids = NULL;
    size_t n = 0, kept = 0;
    struct buf names = BUF_INIT(8192);
    int rc = -1, by_key, qr;

    *out = NULL;
    if (keyed)
        *keyed = false;
    if (keys == NULL && reg_search_keys(rec, &own, err) != 0)
        return -1;
    if ((qr = dup_query(rec, k, &mine, &names, &q, err)) < 0)
        goto out;
    if (qr == 1) {
        *out = json_array();
        rc = *out ? 0 : err_oom(err);
        goto out;
    }
    ids = calloc(DUP_CANDIDATES, sizeof *ids);
    if (ids == NULL) {
        err_oom(err);
        goto out;
    }
    /* every pass but the trigram one, which only runs when nothing else
     * came up (a name misspelt beyond its phonetic key); unranked: every
     * candidate is scored here anyway, and a register full of one common
     * name must not cost its square */
    /* the look-up by name key reads no FTS5 table; the other passes read
     * search_fts, which must hold the rows a batch holds back first
     * (search_tri is written at once) */
    by_key = reg_search_dup_key_candidates(db, &q, DUP_CANDIDATES, ids, &n, err);
    if (by_key < 0 || (by_key == 1 && reg_search_fts_held_flush(db, held, err) != 0))
        goto out;
    if (keyed)
        *keyed = by_key == 0 && n > 0;
    if ((by_key == 1 && reg_search_dup_candidates(db, &q, DUP_CANDIDATES, ids, &n, err) != 0) ||
        (n == 0 && reg_search_candidates(db, &q, 3, false, DUP_CANDIDATES, ids, &n, err) != 0))
        goto out;
    if (reg_search_row_stmt(db, &st, err) != 0)
        goto out;
    f = calloc(n ? n : 1, sizeof *f);
    if (f == NULL) {
        err_oom(err);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct search_row r;
        struct dup_keys other;
        json_t *why;
        int s, l = reg_search_row_load(db, st, ids[i], &r, err);
        if (l < 0)
            goto out;
        if (l == 1)
            continue;
        if (exclude_id && strcmp(r.record_id, exclude_id) == 0) {
            reg_search_row_release(&r);
            continue;
        }
        if (!date_near(&q.from, r.dob)) {
            reg_search_row_release(&r);
            continue;
        }
        other = (struct dup_keys){ r.given_key, r.family_key, r.dob, r.sex, r.place_key,
                                   r.mother_key };
        why = json_array();
        s = dup_score_keys(&mine, &other, why);
        if (s >= REGISTRY_DUP_THRESHOLD) {
            f[kept].id = r.record_id;
            r.record_id = NULL;
            f[kept].score = s;
            f[kept].why = why;
            kept++;
        } else {
            json_decref(why);
        }
        reg_search_row_release(&r);
    }
    qsort(f, kept, sizeof *f, cmp_found);
    *out = json_array();
    if (*out == NULL)
        goto oom;
    for (size_t i = 0; i < kept; i++) {
        if (json_array_append_new(*out, json_pack("{s:s, s:i, s:O}", "record_id", f[i].id,
                                                  "score", f[i].score, "why", f[i].why)) != 0)
            goto oom;
    }
    rc = 0;
    goto out;
oom:
    err_oom(err);
    json_decref(*out);
    *out = NULL;
out:
    for (size_t i = 0; i < kept; i++) {
        free(f[i].id);
        json_decref(f[i].why);
    }
    free(f);
    free(ids);
    reg_release(db, st);
    buf_release(&names);
    if (keys == NULL)
        reg_search_keys_release(&own);
    return rc;
}

int registry_dup_find(struct db *db, const json_t *rec, const char *exclude_id, json_t **out,
                      struct err *err)
{
    return dup_find(db, rec, NULL, NULL, exclude_id, out, NULL, err);
}

/* The current version of record ID (normalized JSON) and its hash. */
static int current_version(struct db *db, const char *id, json_t **rec, char hash[65],
                           struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = -1, step;

    *rec = NULL;
    if (reg_prepare_cached(db, &st,
                    "SELECT v.data, v.hash FROM birth_records r JOIN record_versions v ON"
                    " v.record_id = r.id AND v.version = r.version WHERE r.id = ?1",
                    err) != 0)
        return -1;
    if (db_bind(db, st, err, "s", id) != 0 ||
        (step = db_step_row(db, st, "reading the record", err)) < 0)
        goto out;
    if (step == 0) {
        err_setk(err, ERR_NOT_FOUND, "duplicates: no record %s", id);
        goto out;
    }
    if (db_column_parse(st, 0, rec, err) != 0)
        goto out;
    if (hash)
        (void)snprintf(hash, 65, "%s", (const char *)sqlite3_column_text(st, 1));
    rc = 0;
out:
    reg_release(db, st);
    return rc;
}

int registry_dup_scan(struct db *db, const char *id, struct err *err)
{
    json_t *rec = NULL;
    int rc = -1;

    if (current_version(db, id, &rec, NULL, err) == 0)
        rc = registry_dup_scan_record(db, id, rec, err);
    json_decref(rec);
    return rc;
}

int registry_dup_scan_record(struct db *db, const char *id, const json_t *rec, struct err *err)
{
    return reg_dup_scan_keys(db, id, rec, NULL, NULL, NULL, NULL, err);
}

int reg_dup_scan_keys(struct db *db, const char *id, const json_t *rec,
                      const struct search_keys *keys, struct reg_fts_held *held,
                      size_t *found_n, bool *keyed, struct err *err)
{
    json_t *found = NULL, *c;
    struct buf why = BUF_INIT(4096);
    char now[TIME_ISO8601_LEN + 1];
    size_t i;
    int rc = -1;

    if (reg_now(now, err) != 0 || dup_find(db, rec, keys, held, id, &found, keyed, err) != 0)
        goto out;
    if (found_n)
        *found_n += json_array_size(found);
    if (json_array_size(found) == 0) {
        rc = 0;
        goto out;
    }
    json_array_foreach(found, i, c) {
        if (i >= DUP_STORE_MAX)
            break;
        buf_reset(&why);
        if (json_canonical(json_object_get(c, "why"), &why, err) != 0 ||
            db_run(db,
                   "INSERT INTO dup_candidates(record_id, other_id, score, why, found_at)"
                   " SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM birth_records WHERE"
                   " id = ?2) AND NOT EXISTS (SELECT 1 FROM dup_candidates WHERE record_id = ?2"
                   " AND other_id = ?1) ON CONFLICT DO NOTHING",
                   "storing a duplicate candidate", err, "ssiss", id,
                   json_string_value(json_object_get(c, "record_id")),
                   (int)json_integer_value(json_object_get(c, "score")), buf_str(&why), now) != 0)
            goto out;
    }
    rc = 0;
out:
    buf_release(&why);
    json_decref(found);
    return rc;
}

/* A phonetic key (at most REGISTRY_PHONETIC_MAX bytes, no NUL) as a number:
 * equal keys, equal numbers. */
static uint64_t key_packed(const char *key, size_t n)
{
    uint64_t v = 0;
    _Static_assert(REGISTRY_PHONETIC_MAX <= sizeof v, "dedup: a phonetic key fits 64 bits");
    memcpy(&v, key, n);
    return v;
}

static int name_row_add(void *ctx, const char *key, int dob)
{
    struct reg_name_rows *r = ctx;
    uint64_t k = key_packed(key, strlen(key));

    r->dob = dob;
    r->none = false;
    for (unsigned i = 0; i < r->n; i++)
        if (r->key[i] == k)
            return 0;
    if (r->n == REG_NAME_ROWS_MAX)
        r->many = true;
    else
        r->key[r->n++] = k;
    return 0;
}

int reg_name_rows_of(const char *names_ph, const char *dob, struct reg_name_rows *r)
{
    memset(r, 0, sizeof *r);
    if (names_ph == NULL) {
        r->many = true; /* not known */
        return INT_MAX;
    }
    r->none = true;
    /* as the index writer takes a record without a birth date */
    (void)reg_search_name_keys_each(names_ph, dob ? dob : "", name_row_add, r);
    return r->many ? INT_MAX : r->none ? INT_MIN : r->dob;
}

int reg_dup_rescan_needed(const json_t *rec, const struct search_keys *keys,
                          const int *dates, const struct reg_name_rows *later, size_t n,
                          bool *needed, struct err *err)
{
    struct registry_search_query q;
    struct reg_dup_key_query kq;
    struct dup_keys mine;
    struct buf names = BUF_INIT(8192);
    uint64_t packed[REG_DUP_KEY_WORDS];
    int lo, hi, qr;

    *needed = true;
    if ((qr = dup_query(rec, keys, &mine, &names, &q, err)) != 0 ||
        reg_dup_key_query_make(&q, &kq) != 0) {
        buf_release(&names);
        return qr < 0 ? -1 : 0;
    }
    buf_release(&names);
    for (size_t k = 0; k < kq.nk; k++)
        packed[k] = key_packed(kq.keys[k], strlen(kq.keys[k]));
    /* the look-up's dob BETWEEN */
    lo = (kq.from.y - 1) * 10000;
    hi = (kq.from.y + 1) * 10000 + 9999;
    /* the dates first, 4 bytes a draft: most are outside the years */
    for (size_t i = 0; i < n; i++) {
        const struct reg_name_rows *r = &later[i];
        uint64_t held = 0;
        size_t missed;
        if (dates[i] == INT_MAX)
            return 0; /* its rows not known */
        if (dates[i] < lo || dates[i] > hi)
            continue; /* none of its rows is read (INT_MIN: it has none) */
        for (size_t k = 0; k < kq.nk; k++)
            for (unsigned j = 0; j < r->n; j++)
                if (r->key[j] == packed[k])
                    held |= 1ULL << k;
        if (held != 0 && reg_dup_key_miss(&kq, held, r->dob, &missed) <= 1)
            return 0; /* in a pass's rows: it may be a candidate */
    }
    *needed = false;
    return 0;
}

int registry_dup_gate(struct db *db, const char *id, struct err *err)
{
    /* "+status": the record's pairs by its two keys (primary key,
     * dup_candidates_other), not every open pair of the register by the
     * status index (SQLite's choice without statistics), which made this
     * check grow with the register. */
    sqlite3_stmt *st = NULL;
    struct buf list = BUF_INIT(4096);
    int n = 0, s, rc = -1;

    if (reg_prepare_cached(db, &st,
                    "SELECT CASE WHEN record_id = ?1 THEN other_id ELSE record_id END, score"
                    " FROM dup_candidates WHERE (record_id = ?1 OR other_id = ?1) AND +status ="
                    " 'open' ORDER BY score DESC",
                    err) != 0)
        return -1;
    if (db_bind(db, st, err, "s", id) != 0) {
        reg_release(db, st);
        return -1;
    }
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (n < 5 && buf_printf(&list, "%s%s (score %d)", n ? ", " : "",
                                (const char *)sqlite3_column_text(st, 0),
                                sqlite3_column_int(st, 1)) != 0)
            break;
        n++;
    }
    reg_release(db, st);
    st = NULL;
    if (s != SQLITE_ROW && s != SQLITE_DONE) {
        db_sql_fail(db, "reading duplicate candidates", err);
        goto out;
    }
    if (n > 0) {
        err_setk(err, ERR_CONFLICT,
                "registration refused: record %s has %d unresolved possible duplicate%s: %s%s; "
                "a registrar resolves each with `civreg duplicates resolve %s OTHER "
                "--same|--distinct --reason TEXT`",
                id, n, n == 1 ? "" : "s", buf_str(&list), n > 5 ? ", ..." : "", id);
        goto out;
    }
    if (reg_prepare_cached(db, &st,
                    "SELECT other_id, reason FROM dup_candidates WHERE record_id = ?1 AND"
                    " status = 'duplicate' LIMIT 1",
                    err) != 0)
        goto out;
    if (db_bind(db, st, err, "s", id) != 0 ||
        (s = db_step_row(db, st, "reading duplicate candidates", err)) < 0)
        goto out;
    if (s == 1) {
        err_setk(err, ERR_CONFLICT,
                "registration refused: record %s was resolved as the same birth as record %s "
                "(%s); it is not registered a second time",
                id, (const char *)sqlite3_column_text(st, 0),
                (const char *)sqlite3_column_text(st, 1));
        goto out;
    }
    rc = 0;
out:
    reg_release(db, st);
    buf_release(&list);
    return rc;
}

static json_t *candidate_json(sqlite3_stmt *st, struct err *err)
{
    json_t *why = NULL, *o;
    const char *txt[8];

    for (int i = 0; i < 8; i++)
        txt[i] = (const char *)sqlite3_column_text(st, i);
    if (json_parse(txt[3], strlen(txt[3]), &why, err) != 0)
        return NULL;
    o = json_pack("{s:s, s:s, s:i, s:o, s:s, s:s, s:s?, s:s?, s:s?}", "record_id", txt[0],
                  "other_id", txt[1], "score", sqlite3_column_int(st, 2), "why", why, "status",
                  txt[4], "found_at", txt[5], "resolved_by", txt[6], "resolved_at", txt[7],
                  "reason", (const char *)sqlite3_column_text(st, 8));
    if (o == NULL)
        err_oom(err);
    return o;
}

int registry_dup_list(struct db *db, const struct registry_actor *actor, const char *ref,
                      json_t **out, struct err *err)
{
    sqlite3_stmt *st = NULL;
    char *id = NULL;
    int s, rc = -1;

    *out = NULL;
    if (registry_require_action(actor, "record.duplicates", err) != 0)
        return -1;
    if (ref) {
        s = reg_record_resolve_as(db, actor, ref, &id, err);
        if (s != 0)
            return s < 0 ? -1 : err_setk(err, ERR_NOT_FOUND, "duplicates: no record %s", ref);
    }
    if (reg_prepare_cached(db, &st,
                    "SELECT record_id, other_id, score, why, status, found_at, resolved_by,"
                    " resolved_at, reason FROM dup_candidates WHERE (?1 IS NULL AND status ="
                    " 'open') OR record_id = ?1 OR other_id = ?1 ORDER BY status = 'open' DESC,"
                    " score DESC, record_id, other_id LIMIT 1000",
                    err) != 0)
        goto out;
    if (db_bind(db, st, err, "s", id) != 0)
        goto out;
    *out = json_array();
    if (*out == NULL)
        goto out;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = candidate_json(st, err);
        if (o == NULL || json_array_append_new(*out, o) != 0)
            goto fail;
    }
    if (s != SQLITE_DONE) {
        db_sql_fail(db, "listing duplicate candidates", err);
        goto fail;
    }
    rc = 0;
    goto out;
fail:
    json_decref(*out);
    *out = NULL;
out:
    reg_release(db, st);
    free(id);
    return rc;
}

struct resolve_ctx {
    const struct registry_actor *actor;
    const char *a, *b; /* record ids, resolved */
    bool duplicate;
    const char *reason;
};

static int resolve_tx(struct db *db, void *arg, struct err *err)
{
    struct resolve_ctx *c = arg;
    sqlite3_stmt *st = NULL;
    json_t *ra = NULL, *rb = NULL, *data = NULL;
    char ha[65], hb[65], now[TIME_ISO8601_LEN + 1];
    char *stored_a = NULL;
    const char *status = NULL;
    uint64_t seq;
    int score = 0, rc = -1, step;

    if (reg_prepare_cached(db, &st,
                    "SELECT record_id, status, score FROM dup_candidates WHERE (record_id = ?1"
                    " AND other_id = ?2) OR (record_id = ?2 AND other_id = ?1)",
                    err) != 0)
        return -1;
    if (db_bind(db, st, err, "ss", c->a, c->b) != 0 ||
        (step = db_step_row(db, st, "reading the duplicate candidate", err)) < 0)
        goto out;
    if (step == 0) {
        err_set(err, "duplicates: records %s and %s are not a candidate pair", c->a, c->b);
        goto out;
    }
    stored_a = strdup((const char *)sqlite3_column_text(st, 0));
    status = strcmp((const char *)sqlite3_column_text(st, 1), "open") == 0 ? NULL : "resolved";
    score = sqlite3_column_int(st, 2);
    reg_release(db, st);
    st = NULL;
    if (stored_a == NULL) {
        err_oom(err);
        goto out;
    }
    if (status) {
        err_set(err, "duplicates: the pair %s / %s is already resolved", c->a, c->b);
        goto out;
    }
    if (current_version(db, c->a, &ra, ha, err) != 0 ||
        current_version(db, c->b, &rb, hb, err) != 0 || reg_now(now, err) != 0)
        goto out;
    data = json_pack("{s:s, s:s, s:s, s:s, s:i}", "decision",
                     c->duplicate ? "duplicate" : "distinct", "record", c->a,
                     c->duplicate ? "duplicate_of" : "other", c->b, "reason", c->reason, "score",
                     score);
    if (data == NULL) {
        err_oom(err);
        goto out;
    }
    if (reg_event_append_two(db, c->actor, "record.duplicate", "record", c->a, ha, "record", c->b,
                             hb, data, now, &seq, err) != 0)
        goto out;
    /* the row is kept oriented "record_id is the duplicate of other_id" */
    if (db_run(db,
               "UPDATE dup_candidates SET record_id = ?1, other_id = ?2, status = ?3,"
               " resolved_by = ?4, resolved_at = ?5, reason = ?6, event_seq = ?7 WHERE"
               " (record_id = ?1 AND other_id = ?2) OR (record_id = ?2 AND other_id = ?1)",
               "resolving the duplicate candidate", err, "ssssssI", c->a, c->b,
               c->duplicate ? "duplicate" : "distinct", c->actor->username, now, c->reason,
               (long long)seq) != 0)
        goto out;
    rc = 0;
out:
    reg_release(db, st);
    free(stored_a);
    json_decref(ra);
    json_decref(rb);
    json_decref(data);
    return rc;
}

int registry_dup_resolve(struct db *db, const struct registry_actor *actor, const char *id,
                         const char *other, bool duplicate, const char *reason, struct err *err)
{
    struct resolve_ctx c = { actor, NULL, NULL, duplicate, reason };
    char *a = NULL, *b = NULL;
    json_t *rj = NULL;
    int s, rc = -1;

    if (registry_require_action(actor, "duplicate.resolve", err) != 0)
        return -1;
    if (reason == NULL || *reason == '\0')
        return err_set(err, "duplicates: a reason is required");
    if (strlen(reason) > 2000 || (rj = json_string(reason)) == NULL)
        return err_set(err, "duplicates: the reason must be UTF-8 text of at most 2000 bytes");
    json_decref(rj);
    if ((s = reg_record_resolve_as(db, actor, id, &a, err)) != 0) {
        if (s > 0)
            err_setk(err, ERR_NOT_FOUND, "duplicates: no record %s", id);
        goto out;
    }
    if ((s = reg_record_resolve_as(db, actor, other, &b, err)) != 0) {
        if (s > 0)
            err_setk(err, ERR_NOT_FOUND, "duplicates: no record %s", other);
        goto out;
    }
    c.a = a;
    c.b = b;
    if (reg_tx_run(db, actor, resolve_tx, &c, err) != 0)
        goto out;
    rc = 0;
out:
    free(a);
    free(b);
    return rc;
}
