/* civreg registry: ranked search.
 *
 * Two steps. Candidates come from FTS5 in passes that loosen only when the
 * stricter one found too little: (1) every query group must match (a group
 * is one name word as written or by phonetic key, the date, the parents,
 * the place); (2) all groups but one; (3) the trigram index of the names
 * for words misspelt beyond their phonetic key. Each pass takes the best
 * few hundred by bm25. The candidates are then scored in C, field by field
 * (Jaro-Winkler and phonetic keys on folded names in any order, so swapped
 * given and family names still match; partial dates and ranges; day and
 * month swapped), and the best are returned. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timeutil.h"
#include "db/rows.h"
#include "search_int.h"

#define CANDIDATES 300
#define SEARCH_STRONG 900
#define EXPR_MAX 16384

/* ---- rows ---- */

/* The text columns of a row, in the order reg_search_row_stmt selects them. */
#define SEARCH_ROW_TEXTS 17
#define SEARCH_ROW_REQUIRED 15 /* the first ones, "" when NULL */

static void search_row_texts(struct search_row *r, char **all[SEARCH_ROW_TEXTS])
{
    char **t[SEARCH_ROW_TEXTS] = { &r->record_id, &r->office, &r->status, &r->given, &r->family,
                                   &r->sex, &r->dob, &r->place, &r->mother, &r->father,
                                   &r->given_key, &r->family_key, &r->place_key, &r->mother_key,
                                   &r->father_key, &r->regno, &r->uin };
    memcpy(all, t, sizeof t);
}

void reg_search_row_release(struct search_row *r)
{
    char **all[SEARCH_ROW_TEXTS];

    search_row_texts(r, all);
    for (size_t i = 0; i < SEARCH_ROW_TEXTS; i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
}

int reg_search_row_stmt(struct db *db, sqlite3_stmt **st, struct err *err)
{
    return reg_prepare_cached(db, st,
                       "SELECT record_id, office, status, given, family, sex, dob, place, mother,"
                       " father, given_key, family_key, place_key, mother_key, father_key, regno,"
                       " uin FROM search_index WHERE rowid=?1",
                       err);
}

int reg_search_row_load(struct db *db, sqlite3_stmt *st, int64_t rowid, struct search_row *r,
                        struct err *err)
{
    char **all[SEARCH_ROW_TEXTS];
    int s, rc = -1;

    memset(r, 0, sizeof *r);
    search_row_texts(r, all);
    r->rowid = rowid;
    if (db_bind(db, st, err, "I", (long long)rowid) != 0 ||
        (s = db_step_row(db, st, "reading the search index", err)) < 0)
        goto out;
    if (s == 0) {
        rc = 1;
        goto out;
    }
    for (int i = 0; i < SEARCH_ROW_TEXTS; i++) {
        const unsigned char *t = sqlite3_column_text(st, i);
        if (t == NULL && i < SEARCH_ROW_REQUIRED)
            t = (const unsigned char *)"";
        if (t && (*all[i] = strdup((const char *)t)) == NULL) {
            reg_search_row_release(r);
            err_oom(err);
            goto out;
        }
    }
    rc = 0;
out:
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* ---- similarity ---- */

static size_t next_word(const char **p, const char **w)
{
    size_t n;
    while (**p == ' ')
        (*p)++;
    *w = *p;
    while (**p && **p != ' ')
        (*p)++;
    n = (size_t)(*p - *w);
    return n;
}

static double word_sim(const char *q, size_t qn, const char *r, size_t rn)
{
    char qp[REGISTRY_PHONETIC_MAX + 1], rp[REGISTRY_PHONETIC_MAX + 1];
    double s;

    if (qn == rn && memcmp(q, r, qn) == 0)
        return 1.0;
    /* an initial: "J" for JOHANN */
    if (qn == 1 || rn == 1)
        return q[0] == r[0] ? 0.8 : 0.0;
    s = registry_jaro_winkler(q, qn, r, rn);
    if (s >= 0.93)
        return s;
    registry_name_phonetic(q, qn, qp);
    registry_name_phonetic(r, rn, rp);
    if (qp[0] && strcmp(qp, rp) == 0 && s < 0.93)
        s = 0.93;
    return s;
}

double reg_words_sim(const char *qw, const char *rw)
{
    const char *p = qw, *w;
    double total = 0, weight = 0;
    size_t n;

    if (qw == NULL || rw == NULL || !*rw)
        return 0.0;
    while ((n = next_word(&p, &w)) > 0) {
        const char *rp = rw, *x;
        size_t m;
        double best = 0;
        while ((m = next_word(&rp, &x)) > 0) {
            double s = word_sim(w, n, x, m);
            if (s > best)
                best = s;
        }
        /* a word no longer matters more than a long one: weight 3..10 */
        double wt = (double)(n < 3 ? 3 : n > 10 ? 10 : n);
        total += best * wt;
        weight += wt;
    }
    return weight > 0 ? total / weight : 0.0;
}

int reg_pdate_parse_stored(const char *s, struct registry_pdate *d)
{
    size_t n = strlen(s);
    memset(d, 0, sizeof *d);
    if (n != 4 && n != 7 && n != 10)
        return -1;
    for (size_t i = 0; i < n; i++) {
        bool dash = i == 4 || i == 7;
        if (dash ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
            return -1;
    }
    d->y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    if (n >= 7)
        d->m = (s[5] - '0') * 10 + (s[6] - '0');
    if (n == 10)
        d->d = (s[8] - '0') * 10 + (s[9] - '0');
    return 0;
}

int reg_pdate_key(const struct registry_pdate *d)
{
    return d->y * 10000 + d->m * 100 + d->d;
}

/* Days since 0000-03-01 (proleptic Gregorian). */
static long day_number(int y, int m, int d)
{
    if (m < 3) {
        y--;
        m += 12;
    }
    return 365L * y + y / 4 - y / 100 + y / 400 + (153 * (m - 3) + 2) / 5 + d - 1;
}

/* Sort key of a partial date at its earliest (LOW) or latest day. */
static long pdate_key(const struct registry_pdate *d, bool low)
{
    int m = d->m ? d->m : (low ? 1 : 12);
    int dd = d->d ? d->d : (low ? 1 : 28);
    return day_number(d->y, m, dd);
}

double reg_date_sim(const struct registry_pdate *from, const struct registry_pdate *to,
                    const struct registry_pdate *rec, const char **why)
{
    long qlo = pdate_key(from, true), qhi = pdate_key(to, false);
    long rlo = pdate_key(rec, true), rhi = pdate_key(rec, false);
    bool single = memcmp(from, to, sizeof *from) == 0;

    if (rlo <= qhi && qlo <= rhi) {
        *why = "date";
        return 1.0;
    }
    if (single && from->d && rec->d && from->m && rec->m && from->d <= 12 &&
        from->y == rec->y && from->d == rec->m && from->m == rec->d) {
        *why = "date (day and month swapped)";
        return 0.75;
    }
    {
        long gap = rlo > qhi ? rlo - qhi : qlo - rhi;
        if (gap <= 31) {
            *why = "date (within a month)";
            return 0.75 - (double)gap / 124.0;
        }
        if (gap <= 366) {
            *why = "date (within a year)";
            return 0.3;
        }
    }
    *why = NULL;
    return 0.0;
}

/* ---- candidates ---- */

struct expr {
    struct buf b;
    bool fail;
};

static void ex(struct expr *e, const char *s)
{
    if (!e->fail && buf_append_str(&e->b, s) != 0)
        e->fail = true;
}

/* Groups of a query: each an FTS5 expression in parentheses. */
struct groups {
    char *g[REGISTRY_QUERY_TERMS * 2 + 8];
    size_t n;
    size_t date_at; /* index of the date group, or SIZE_MAX */
    char *near;     /* q->near_years: the birth years around the date, or NULL */
};

static void groups_release(struct groups *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->g[i]);
    g->n = 0;
    free(g->near);
    g->near = NULL;
}

static int group_add(struct groups *g, struct expr *e)
{
    if (e->fail || g->n >= sizeof g->g / sizeof g->g[0]) {
        buf_release(&e->b);
        return -1;
    }
    g->g[g->n] = strdup(buf_str(&e->b));
    buf_release(&e->b);
    if (g->g[g->n] == NULL)
        return -1;
    g->n++;
    return 0;
}

/* One group per word of WORDS: COL:"W" OR COLPH:"PH"; with PH_ONLY (and a
 * key, and a whole word of more than one letter) COLPH:"PH" alone, which
 * matches the same rows (see registry_search_query.phonetic_only). */
static int word_groups(struct groups *g, const char *words, const char *col, const char *colph,
                       bool ph_only)
{
    const char *p = words, *w;
    size_t n;

    if (words == NULL)
        return 0;
    while ((n = next_word(&p, &w)) > 0) {
        struct expr e = { BUF_INIT(1024), false };
        char word[128], ph[REGISTRY_PHONETIC_MAX + 1];
        if (n >= sizeof word)
            n = sizeof word - 1;
        memcpy(word, w, n);
        word[n] = '\0';
        registry_name_phonetic(word, n, ph);
        ex(&e, "(");
        if (ph_only && colph && ph[0] && n > 1 && n == (size_t)(p - w)) {
            ex(&e, colph);
            ex(&e, ":\"");
            ex(&e, ph);
            ex(&e, "\")");
            if (group_add(g, &e) != 0)
                return -1;
            continue;
        }
        ex(&e, col);
        ex(&e, ":\"");
        ex(&e, word);
        ex(&e, "\"");
        if (colph && ph[0]) {
            ex(&e, " OR ");
            ex(&e, colph);
            ex(&e, ":\"");
            ex(&e, ph);
            ex(&e, "\"");
        }
        /* an initial matches every word it begins */
        if (n == 1) {
            ex(&e, " OR ");
            ex(&e, col);
            ex(&e, ":");
            ex(&e, word);
            ex(&e, "*");
        }
        ex(&e, ")");
        if (group_add(g, &e) != 0)
            return -1;
    }
    return 0;
}

static int date_group(struct groups *g, const struct registry_search_query *q)
{
    struct expr e = { BUF_INIT(2048), false };
    char tok[32];

    if (!q->has_date)
        return 0;
    if (memcmp(&q->from, &q->to, sizeof q->from) == 0) {
        const struct registry_pdate *d = &q->from;
        if (d->d)
            (void)snprintf(tok, sizeof tok, "D%04d%02d%02d", d->y, d->m, d->d);
        else if (d->m)
            (void)snprintf(tok, sizeof tok, "M%04d%02d", d->y, d->m);
        else
            (void)snprintf(tok, sizeof tok, "Y%04d", d->y);
        ex(&e, "(dates:");
        ex(&e, tok);
        if (d->d && d->d <= 12 && d->d != d->m) {
            (void)snprintf(tok, sizeof tok, " OR dates:D%04d%02d%02d", d->y, d->d, d->m);
            ex(&e, tok);
        }
        ex(&e, ")");
    } else {
        if (q->to.y < q->from.y || q->to.y - q->from.y > 30) {
            buf_release(&e.b);
            return 0; /* a wide range is checked on the candidates */
        }
        ex(&e, "(");
        for (int y = q->from.y; y <= q->to.y; y++) {
            (void)snprintf(tok, sizeof tok, "%sdates:Y%04d", y == q->from.y ? "" : " OR ", y);
            ex(&e, tok);
        }
        ex(&e, ")");
    }
    if (q->near_years && q->to.y >= q->from.y && q->to.y - q->from.y <= 30) {
        /* a birth more than 366 days from the date scores 0 on the date,
         * and such a pair cannot reach the duplicate threshold (dedup.c):
         * its year is within one of the date's */
        struct expr n = { BUF_INIT(512), false };
        ex(&n, "(");
        for (int y = q->from.y - 1; y <= q->to.y + 1; y++) {
            (void)snprintf(tok, sizeof tok, "%sdates:Y%04d", y == q->from.y - 1 ? "" : " OR ", y);
            ex(&n, tok);
        }
        ex(&n, ")");
        if (n.fail || (g->near = strdup(buf_str(&n.b))) == NULL) {
            buf_release(&n.b);
            buf_release(&e.b);
            return -1;
        }
        buf_release(&n.b);
    }
    g->date_at = g->n;
    return group_add(g, &e);
}

/* The first LIMIT rows of MATCH on TABLE, each given to ROW(CTX, rowid). */
static int match_rows(struct db *db, const char *table, const char *match, size_t limit,
                      bool ranked, void (*row)(void *ctx, int64_t rowid), void *ctx,
                      struct err *err)
{
    sqlite3_stmt *st = NULL;
    char sql[256];
    int s;

    if (!ranked)
        (void)snprintf(sql, sizeof sql, "SELECT rowid FROM %s WHERE %s MATCH ?1 LIMIT ?2",
                       table, table);
    else if (strcmp(table, "search_fts") == 0)
        (void)snprintf(sql, sizeof sql,
                       "SELECT rowid FROM search_fts WHERE search_fts MATCH ?1 ORDER BY"
                       " bm25(search_fts, 10.0, 6.0, 3.0, 2.0, 1.0, 4.0, 20.0) LIMIT ?2");
    else
        (void)snprintf(sql, sizeof sql,
                       "SELECT rowid FROM search_tri WHERE search_tri MATCH ?1 ORDER BY rank"
                       " LIMIT ?2");
    if (reg_prepare_cached(db, &st, sql, err) != 0)
        return -1;
    if (db_bind(db, st, err, "sI", match, (long long)limit) != 0) {
        reg_release(db, st);
        return -1;
    }
    while ((s = db_step_row(db, st, "searching the index", err)) == 1)
        row(ctx, sqlite3_column_int64(st, 0));
    reg_release(db, st);
    return s;
}

/* A list of candidate rowids, at most MAX, without repeats. */
struct id_list {
    int64_t *ids;
    size_t *n, max;
};

static void id_add(void *ctx, int64_t id)
{
    struct id_list *l = ctx;
    bool seen = false;

    for (size_t i = 0; i < *l->n && !seen; i++)
        seen = l->ids[i] == id;
    if (!seen && *l->n < l->max)
        l->ids[(*l->n)++] = id;
}

/* Add the first MAX rows of MATCH not already in IDS to IDS (at most MAX). */
static int run_match(struct db *db, const char *table, const char *match, size_t max,
                     bool ranked, int64_t *ids, size_t *n, struct err *err)
{
    struct id_list l = { ids, n, max };

    return match_rows(db, table, match, max, ranked, id_add, &l, err);
}

/* The groups joined by AND, leaving out group SKIP (or none: SKIP = n). */
static int and_groups(const struct groups *g, size_t skip, struct buf *out)
{
    bool first = true, named = false;
    buf_reset(out);
    for (size_t i = 0; i < g->n; i++) {
        const char *t = g->g[i];
        if (i == skip) {
            /* leaving the date out keeps the years around it, if asked */
            if (i != g->date_at || g->near == NULL)
                continue;
            t = g->near;
        } else if (i != g->date_at) {
            named = true;
        }
        if (!first && buf_append_str(out, " AND ") != 0)
            return -1;
        if (buf_append_str(out, t) != 0)
            return -1;
        first = false;
    }
    if (first)
        return 1;
    /* the years alone are no query: every birth around them */
    if (!named && skip == g->date_at && g->near != NULL)
        return 1;
    return 0;
}

/* The trigram expression for the name words: every word's trigrams, any. */
static int trigram_expr(const struct registry_search_query *q, struct buf *out)
{
    const char *lists[] = { q->names, q->given, q->family };
    bool any = false;

    buf_reset(out);
    for (size_t l = 0; l < 3; l++) {
        const char *p = lists[l], *w;
        size_t n;
        if (p == NULL)
            continue;
        while ((n = next_word(&p, &w)) > 0) {
            for (size_t i = 0; i + 3 <= n; i++) {
                if (any && buf_append_str(out, " OR ") != 0)
                    return -1;
                if (buf_printf(out, "\"%.3s\"", w + i) != 0)
                    return -1;
                any = true;
            }
        }
    }
    return any ? 0 : 1;
}

/* The groups of Q: one per word, one for the date. */
static int query_groups(const struct registry_search_query *q, bool ranked, struct groups *g)
{
    bool ph = q->phonetic_only && !ranked;

    if (word_groups(g, q->names, "names", "names_ph", ph) != 0 ||
        word_groups(g, q->given, "names", "names_ph", ph) != 0 ||
        word_groups(g, q->family, "names", "names_ph", ph) != 0 ||
        word_groups(g, q->parents, "parents", "parents_ph", ph) != 0 ||
        word_groups(g, q->place, "place", NULL, ph) != 0 || date_group(g, q) != 0)
        return -1;
    return 0;
}

int reg_search_candidates(struct db *db, const struct registry_search_query *q, int pass,
                          bool ranked, size_t max, int64_t *ids, size_t *np, struct err *err)
{
    struct groups g = { { NULL }, 0, SIZE_MAX, NULL };
    struct buf m = BUF_INIT(EXPR_MAX);
    size_t n = *np, room = max > n ? max - n : 0;
    int rc = -1, a;

    if (room == 0)
        return 0;
    if (query_groups(q, ranked, &g) != 0)
        goto toolong;
    if (pass == 1 && (q->uin || q->regno)) {
        /* identifiers are exact */
        struct expr e = { BUF_INIT(256), false };
        ex(&e, "ids:\"");
        if (q->uin)
            ex(&e, q->uin);
        else
            for (const char *p = q->regno; *p; p++) {
                char c[2] = { *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p, 0 };
                if (*p != '/')
                    ex(&e, c);
            }
        ex(&e, "\"");
        if (e.fail || run_match(db, "search_fts", buf_str(&e.b), max, ranked, ids, &n, err) != 0) {
            buf_release(&e.b);
            goto out;
        }
        buf_release(&e.b);
    }
    if (g.n == 0) {
        rc = 0;
        goto out;
    }
    if (pass == 1) {
        /* every group */
        if ((a = and_groups(&g, g.n, &m)) < 0)
            goto toolong;
        if (a == 0 && run_match(db, "search_fts", buf_str(&m), max, ranked, ids, &n, err) != 0)
            goto out;
    } else if (pass == 2 && g.n > 1) {
        /* all groups but one: one misspelt word, a wrong date */
        size_t each = room / g.n > 20 ? room / g.n : 20;
        for (size_t skip = 0; skip < g.n && n < max; skip++) {
            size_t lim = n + each < max ? n + each : max;
            if ((a = and_groups(&g, skip, &m)) < 0)
                goto toolong;
            if (a == 0 && run_match(db, "search_fts", buf_str(&m), lim, ranked, ids, &n, err) != 0)
                goto out;
        }
    } else if (pass == 3) {
        /* name trigrams: words misspelt beyond their phonetic key */
        if ((a = trigram_expr(q, &m)) < 0)
            goto toolong;
        if (a == 0 && run_match(db, "search_tri", buf_str(&m), max, ranked, ids, &n, err) != 0)
            goto out;
    }
    *np = n;
    rc = 0;
    goto out;
toolong:
    err_set(err, "search: query too long");
out:
    groups_release(&g);
    buf_release(&m);
    return rc;
}

/* Unranked passes 1 and 2 from pass 2's queries alone. Each query of pass
 * 2 leaves one group out, so a row matching every group (pass 1) is in
 * all of them: when each returned all its rows (at most MAX), pass 1 is
 * their intersection. Both passes are then replayed from those lists with
 * the limits reg_search_candidates gives them (the first rows in rowid
 * order), so the candidates are the same, in the same order. */
struct row_list {
    int64_t *ids;
    size_t n;
};

static void row_add(void *ctx, int64_t id)
{
    struct row_list *l = ctx;
    l->ids[l->n++] = id;
}

static bool row_in(const struct row_list *l, int64_t id)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->ids[i] == id)
            return true;
    return false;
}

/* Pass 2 replayed from LISTS (one per group left out, in rowid order) after
 * pass 1's *N of MAX: each query's first LIM rows, as reg_search_candidates
 * asks them. */
static void pass2_replay(const struct row_list *lists, size_t groups, size_t max, int64_t *ids,
                         size_t *n)
{
    size_t room = max - *n, each = room / groups > 20 ? room / groups : 20;

    for (size_t skip = 0; skip < groups && *n < max; skip++) {
        size_t lim = *n + each < max ? *n + each : max;
        struct id_list l = { ids, n, lim };
        for (size_t i = 0; i < lists[skip].n && i < lim; i++)
            id_add(&l, lists[skip].ids[i]);
    }
}

/* ---- duplicate candidates by key ---- */

/* A row of search_name_keys found for a draft: KEYS, which of the draft's
 * keys it holds; MISS, how many of the query's groups it does not match
 * (2 for two or more), MISSED which one when one. */
struct key_row {
    int64_t rec;
    int dob;
    uint64_t keys;
    size_t miss, missed;
};

static int cmp_key_row(const void *a, const void *b)
{
    const struct key_row *x = a, *y = b;
    return x->rec < y->rec ? -1 : x->rec > y->rec;
}

/* Whether a record born DOB (reg_pdate_key) matches date_group's group of
 * the date Q: its D token (or the day and month swapped), its M or its Y. */
static bool key_date_match(const struct registry_pdate *q, int dob)
{
    int y = dob / 10000, m = dob / 100 % 100, d = dob % 100;

    if (y != q->y)
        return false;
    if (q->d)
        return d != 0 && ((m == q->m && d == q->d) ||
                          (q->d <= 12 && q->d != q->m && m == q->d && d == q->m));
    if (q->m)
        return m == q->m;
    return true;
}

int reg_dup_key_query_make(const struct registry_search_query *q, struct reg_dup_key_query *k)
{
    const char *p = q->names, *w;
    size_t len;

    k->nw = k->nk = 0;
    if (q->names == NULL || q->given || q->family || q->parents || q->place || q->uin ||
        q->regno || !q->has_date || !q->near_years || !q->phonetic_only ||
        memcmp(&q->from, &q->to, sizeof q->from) != 0)
        return 1;
    /* word_groups' groups: a whole word with a key is names_ph:"KEY" */
    while ((len = next_word(&p, &w)) > 0) {
        char ph[REGISTRY_PHONETIC_MAX + 1];
        size_t i;
        if (k->nw == REG_DUP_KEY_WORDS || len < 2 || len >= 128)
            return 1;
        registry_name_phonetic(w, len, ph);
        if (ph[0] == '\0')
            return 1;
        for (i = 0; i < k->nk && strcmp(k->keys[i], ph) != 0; i++)
            ;
        if (i == k->nk)
            memcpy(k->keys[k->nk++], ph, sizeof ph);
        k->word_key[k->nw++] = i;
    }
    /* one word: leaving it out asks for the date alone, not a key */
    if (k->nw < 2)
        return 1;
    k->from = q->from;
    return 0;
}

size_t reg_dup_key_miss(const struct reg_dup_key_query *k, uint64_t keys, int dob, size_t *missed)
{
    size_t miss = 0;

    for (size_t g = 0; g < k->nw; g++)
        if (!(keys & (1ULL << k->word_key[g]))) {
            miss++;
            *missed = g;
        }
    if (!key_date_match(&k->from, dob)) {
        miss++;
        *missed = k->nw; /* the date's group comes last */
    }
    return miss;
}

int reg_search_dup_key_candidates(struct db *db, const struct registry_search_query *q,
                                  size_t max, int64_t *ids, size_t *np, struct err *err)
{
    struct reg_dup_key_query kq;
    size_t nrows = 0, cap = 0, n = 0, out = 0, nw, nk;
    struct key_row *rows = NULL;
    struct row_list *lists = NULL;
    int64_t *listed = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1, s;

    if (*np != 0 || max == 0 || max > SIZE_MAX / 64 || reg_dup_key_query_make(q, &kq) != 0)
        return 1;
    nw = kq.nw;
    nk = kq.nk;
    if (reg_prepare_cached(db, &st,
                           "SELECT rec, dob FROM search_name_keys WHERE key = ?1 AND dob"
                           " BETWEEN ?2 AND ?3",
                           err) != 0)
        return -1;
    /* every row of passes 1 and 2 holds all keys but at most one, and
     * either the date's group (its year) or a year around it */
    for (size_t k = 0; k < nk; k++) {
        if (db_bind(db, st, err, "sii", kq.keys[k], (q->from.y - 1) * 10000,
                    (q->from.y + 1) * 10000 + 9999) != 0)
            goto out;
        while ((s = db_step_row(db, st, "reading the name keys", err)) == 1) {
            if (nrows == cap) {
                size_t c = cap ? cap * 2 : 256;
                struct key_row *r = realloc(rows, c * sizeof *rows);
                if (r == NULL) {
                    err_oom(err);
                    goto out;
                }
                rows = r;
                cap = c;
            }
            rows[nrows++] = (struct key_row){ sqlite3_column_int64(st, 0),
                                              sqlite3_column_int(st, 1), 1ULL << k, 0, 0 };
        }
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (s < 0)
            goto out;
    }
    /* by rowid, FTS5's order for an unranked query; one row per record */
    if (nrows > 1)
        qsort(rows, nrows, sizeof *rows, cmp_key_row);
    for (size_t i = 0; i < nrows; i++) {
        if (out > 0 && rows[out - 1].rec == rows[i].rec)
            rows[out - 1].keys |= rows[i].keys;
        else
            rows[out++] = rows[i];
    }
    for (size_t i = 0; i < out; i++)
        rows[i].miss = reg_dup_key_miss(&kq, rows[i].keys, rows[i].dob, &rows[i].missed);
    /* pass 1: every group; pass 2: all groups but one, each query's rows
     * (at most MAX are ever taken) */
    for (size_t i = 0; i < out && n < max; i++)
        if (rows[i].miss == 0)
            ids[n++] = rows[i].rec;
    lists = calloc(nw + 1, sizeof *lists);
    listed = calloc((nw + 1) * max, sizeof *listed);
    if (lists == NULL || listed == NULL) {
        err_oom(err);
        goto out;
    }
    for (size_t skip = 0; skip <= nw; skip++) {
        struct row_list *l = &lists[skip];
        l->ids = listed + skip * max;
        for (size_t i = 0; i < out && l->n < max; i++)
            if (rows[i].miss == 0 || (rows[i].miss == 1 && rows[i].missed == skip))
                l->ids[l->n++] = rows[i].rec;
    }
    pass2_replay(lists, nw + 1, max, ids, &n);
    *np = n;
    rc = 0;
out:
    reg_release(db, st);
    free(rows);
    free(lists);
    free(listed);
    return rc;
}

int reg_search_dup_candidates(struct db *db, const struct registry_search_query *q, size_t max,
                              int64_t *ids, size_t *np, struct err *err)
{
    struct groups g = { { NULL }, 0, SIZE_MAX, NULL };
    struct buf m = BUF_INIT(EXPR_MAX);
    struct row_list *lists = NULL;
    int64_t *rows = NULL;
    bool complete = true;
    size_t n = 0;
    int rc = -1, a;

    if ((rc = reg_search_dup_key_candidates(db, q, max, ids, np, err)) != 1)
        return rc;
    rc = -1;
    /* identifiers are a pass-1 query of their own; a caller's own
     * candidates change the limits: the passes one by one */
    if (q->uin || q->regno || *np != 0 || max == 0 || max > SIZE_MAX / 64)
        goto passes;
    if (query_groups(q, false, &g) != 0) {
        err_set(err, "search: query too long");
        goto out;
    }
    if (g.n < 2)
        goto passes;
    lists = calloc(g.n, sizeof *lists);
    rows = calloc(g.n * (max + 1), sizeof *rows);
    if (lists == NULL || rows == NULL) {
        err_oom(err);
        goto out;
    }
    for (size_t skip = 0; skip < g.n; skip++) {
        if ((a = and_groups(&g, skip, &m)) < 0) {
            err_set(err, "search: query too long");
            goto out;
        }
        if (a == 1)
            goto passes; /* a query not asked: its rows are unknown */
        lists[skip].ids = rows + skip * (max + 1);
        if (match_rows(db, "search_fts", buf_str(&m), max + 1, false, row_add, &lists[skip],
                       err) != 0)
            goto out;
        if (lists[skip].n > max)
            complete = false;
    }
    /* pass 1: every group */
    if (complete) {
        for (size_t i = 0; i < lists[0].n && n < max; i++) {
            bool all = true;
            for (size_t k = 1; k < g.n && all; k++)
                all = row_in(&lists[k], lists[0].ids[i]);
            if (all)
                ids[n++] = lists[0].ids[i];
        }
    } else {
        if ((a = and_groups(&g, g.n, &m)) < 0) {
            err_set(err, "search: query too long");
            goto out;
        }
        if (a == 0 && run_match(db, "search_fts", buf_str(&m), max, false, ids, &n, err) != 0)
            goto out;
    }
    /* pass 2: all groups but one, each query its first LIM rows */
    pass2_replay(lists, g.n, max, ids, &n);
    *np = n;
    rc = 0;
    goto out;
passes:
    rc = reg_search_candidates(db, q, 1, false, max, ids, np, err);
    if (rc == 0)
        rc = reg_search_candidates(db, q, 2, false, max, ids, np, err);
out:
    free(rows);
    free(lists);
    groups_release(&g);
    buf_release(&m);
    return rc;
}

/* ---- ranking ---- */

struct scored {
    int64_t rowid;
    int score;
    json_t *why;
};

static int cmp_scored(const void *a, const void *b)
{
    const struct scored *x = a, *y = b;
    if (x->score != y->score)
        return y->score - x->score;
    return x->rowid < y->rowid ? -1 : x->rowid > y->rowid;
}

/* The weighted sum a row's score is: each criterion of the query adds its
 * similarity S (0-1) with its WEIGHT, and a line saying so to WHY. */
struct score_sum {
    double total, weight;
    json_t *why;
};

static void score_add(struct score_sum *sum, double weight, double s, const char *what)
{
    char line[96];

    sum->total += weight * s;
    sum->weight += weight;
    (void)snprintf(line, sizeof line, "%s %d", what, (int)(s * 100.0 + 0.5));
    (void)json_array_append_new(sum->why, json_string(line));
}

/* Score row R against Q: 0-1000. */
static int score_row(const struct registry_search_query *q, const struct search_row *r,
                     json_t *why)
{
    struct score_sum sum = { 0, 0, why };
    struct buf all = BUF_INIT(8192);

    if (buf_printf(&all, "%s %s", r->given_key, r->family_key) != 0) {
        buf_release(&all);
        return 0;
    }
    if (q->names) {
        /* free words against all names: order does not matter */
        double s = reg_words_sim(q->names, buf_str(&all));
        /* and the record's words against the query's, so that a record
         * with extra names ranks below an exact one */
        double back = reg_words_sim(buf_str(&all), q->names);
        score_add(&sum, 6, 0.85 * s + 0.15 * back, "names");
    }
    if (q->given)
        score_add(&sum, 3, reg_words_sim(q->given, r->given_key), "given names");
    if (q->family)
        score_add(&sum, 3, reg_words_sim(q->family, r->family_key), "family name");
    if (q->has_date) {
        struct registry_pdate d;
        const char *w = NULL;
        double s = 0;
        if (reg_pdate_parse_stored(r->dob, &d) == 0)
            s = reg_date_sim(&q->from, &q->to, &d, &w);
        score_add(&sum, 3, s, w ? w : "date");
    }
    if (q->parents) {
        struct buf p = BUF_INIT(8192);
        double s = 0;
        if (buf_printf(&p, "%s %s", r->mother_key, r->father_key) == 0)
            s = reg_words_sim(q->parents, buf_str(&p));
        buf_release(&p);
        score_add(&sum, 2, s, "parents");
    }
    if (q->place)
        score_add(&sum, 1, reg_words_sim(q->place, r->place_key), "place");
    if (q->uin)
        score_add(&sum, 10, r->uin && strcmp(q->uin, r->uin) == 0, "uin");
    if (q->regno)
        score_add(&sum, 10, r->regno && strcasecmp(q->regno, r->regno) == 0,
                  "registration number");
    buf_release(&all);
    if (sum.weight == 0)
        return 0;
    sum.total /= sum.weight;
    if (q->sex && r->sex[0] && r->sex[0] != 'n' && r->sex[0] != q->sex)
        sum.total *= 0.6;
    return (int)(sum.total * 1000.0 + 0.5);
}

/* Score candidate ROWID into *OUT (OUT->why NULL when it is filtered out). */
static int score_candidate(struct db *db, sqlite3_stmt *st, const struct registry_search_query *q,
                           int64_t rowid, struct scored *out, struct err *err)
{
    struct search_row r;
    int s = reg_search_row_load(db, st, rowid, &r, err);

    out->why = NULL;
    if (s != 0)
        return s < 0 ? -1 : 0;
    if (q->status[0] && strcmp(q->status, r.status) != 0)
        goto out;
    /* a range is a filter */
    if (q->has_date && memcmp(&q->from, &q->to, sizeof q->from) != 0) {
        struct registry_pdate d;
        const char *w;
        if (reg_pdate_parse_stored(r.dob, &d) != 0 || reg_date_sim(&q->from, &q->to, &d, &w) < 1.0)
            goto out;
    }
    out->rowid = rowid;
    out->why = json_array();
    if (out->why == NULL) {
        reg_search_row_release(&r);
        return err_oom(err);
    }
    out->score = score_row(q, &r, out->why);
out:
    reg_search_row_release(&r);
    return 0;
}

static json_t *row_json(const struct search_row *r, int score, json_t *why)
{
    json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "record_id",
                          r->record_id, "status", r->status, "score", score, "given_names",
                          r->given, "family_name", r->family, "sex", r->sex, "date_of_birth",
                          r->dob, "place", r->place, "mother", r->mother, "father", r->father,
                          "why", why);
    if (o == NULL)
        return NULL;
    if (json_object_set_new(o, "registration_number",
                            r->regno ? json_string(r->regno) : json_null()) != 0 ||
        json_object_set_new(o, "uin", r->uin ? json_string(r->uin) : json_null()) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int registry_search(struct db *db, const struct registry_actor *actor, const char *query,
                    int limit, json_t **out, struct err *err)
{
    struct registry_search_query q;
    sqlite3_stmt *st = NULL;
    struct scored *sc = NULL;
    int64_t *ids = NULL;
    size_t n = 0, kept = 0;
    json_t *results = NULL;
    int rc = -1;

    *out = NULL;
    if (actor && registry_require_action(actor, "record.read", err) != 0)
        return -1;
    if (limit <= 0)
        limit = 20;
    if (limit > 200)
        limit = 200;
    if (query == NULL)
        return err_set(err, "search: no query");
    if (registry_search_query_parse(query, strlen(query), &q, err) != 0)
        return -1;
    if (reg_search_row_stmt(db, &st, err) != 0)
        goto out;
    ids = calloc(CANDIDATES, sizeof *ids);
    sc = calloc(CANDIDATES, sizeof *sc);
    if (ids == NULL || sc == NULL) {
        err_oom(err);
        goto out;
    }
    for (int pass = 1; pass <= 3; pass++) {
        size_t before = n;
        int best = 0;
        if (reg_search_candidates(db, &q, pass, true, CANDIDATES, ids, &n, err) != 0)
            goto out;
        for (size_t i = before; i < n; i++) {
            if (score_candidate(db, st, &q, ids[i], &sc[kept], err) < 0)
                goto out;
            if (sc[kept].why)
                kept++;
        }
        for (size_t i = 0; i < kept; i++)
            if (sc[i].score > best)
                best = sc[i].score;
        /* a strong match needs no looser pass */
        if (best >= SEARCH_STRONG)
            break;
    }
    qsort(sc, kept, sizeof *sc, cmp_scored);
    results = json_array();
    if (results == NULL)
        goto oom;
    for (size_t i = 0; i < kept && json_array_size(results) < (size_t)limit; i++) {
        struct search_row r;
        json_t *o;
        if (reg_search_row_load(db, st, sc[i].rowid, &r, err) != 0)
            goto out;
        /* a user finds only their own office's records */
        if (actor && (r.office == NULL || strcmp(r.office, registry_actor_office(actor)) != 0)) {
            reg_search_row_release(&r);
            continue;
        }
        o = row_json(&r, sc[i].score, sc[i].why);
        reg_search_row_release(&r);
        if (o == NULL || json_array_append_new(results, o) != 0)
            goto oom;
    }
    rc = json_out(out,
                  json_pack("{s:s, s:I, s:o}", "query", query, "count",
                            (json_int_t)json_array_size(results), "results", results),
                  err);
    results = NULL;
    goto out;
oom:
    err_oom(err);
out:
    for (size_t i = 0; i < kept; i++)
        json_decref(sc[i].why);
    free(sc);
    free(ids);
    json_decref(results);
    reg_release(db, st);
    registry_search_query_release(&q);
    return rc;
}
