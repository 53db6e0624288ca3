/* civreg registry: `audit verify` recomputes the search index. The index
 * (search_index, its FTS5 tables search_fts, search_tri, the name keys
 * search_name_keys) is a cache derived from the current version of each
 * record, not a fact of the log: the audit computes each record's rows
 * with the indexing code itself (reg_search_entry_of_row, what the writes
 * would store) and compares them at once with the stored rows: the stored
 * search_index, search_fts, search_tri and search_name_keys are each read
 * once in rowid order and merged (no FTS5 lookup per row), each index row's
 * record read by its id, then the records without an index row. No TEMP
 * table is written, nothing in the stored database either; memory is
 * bounded by the report lines each kind keeps (the first REPORT_MAX by
 * record id, as the SQL comparison ordered them). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "projection_int.h"
#include "search_int.h"

static const char *const index_cols[] = {
    "office", "status", "given", "family", "sex", "dob", "place", "mother", "father",
    "given_key", "family_key", "place_key", "mother_key", "father_key", "regno", "uin",
};
static const char *const fts_cols[] = {
    "names", "names_ph", "parents", "parents_ph", "place", "dates", "ids",
};

#define REPORT_MAX 10
#define LINE_MAX_ 512

/* The kinds of report line, in the order they are reported: each kind's
 * lines by record id (stored rowids, for rows naming no search_index row,
 * before them), at most REPORT_MAX, then how many more. */
enum {
    K_ROWS,                                    /* search_index rows */
    K_INDEX,                                   /* + column: search_index columns */
    K_FTS_ROWS = K_INDEX + REG_SEARCH_INDEX_COLS, /* search_fts rows */
    K_FTS,                                     /* + column */
    K_TRI_ROWS = K_FTS + REG_SEARCH_FTS_COLS,  /* search_tri rows */
    K_TRI,                                     /* its names column */
    K_KEYS,                                    /* search_name_keys */
    K_N
};

/* A report line with what orders it: rowids of stored rows that name no
 * search_index row first (CLS 0, ROWID), then record ids (CLS 1, ID), in
 * the order added among equals (SEQ). */
struct line {
    int cls;
    long long rowid, seq;
    char id[256]; /* ordering: longer ids compare by their start */
    char text[LINE_MAX_];
};

struct kind {
    int n;                       /* lines added */
    struct line *sorted[REPORT_MAX]; /* the smallest, in order */
    struct line line[REPORT_MAX];
};

struct walk {
    struct kind kind[K_N];
    /* the expected name keys of one record, sorted */
    struct buf keys; /* NUL-terminated keys */
    size_t *at;      /* offsets into keys */
    const char **key; /* the keys, sorted */
    bool *seen;
    size_t nkeys, cap;
    int dob;
    long long seq;
};

static const char *kind_table(int k)
{
    if (k < K_FTS_ROWS)
        return "search_index";
    if (k < K_TRI_ROWS)
        return "search_fts";
    if (k < K_KEYS)
        return "search_tri";
    return "search_name_keys";
}

static const char *kind_col(int k)
{
    if (k >= K_INDEX && k < K_FTS_ROWS)
        return index_cols[k - K_INDEX];
    if (k >= K_FTS && k < K_TRI_ROWS)
        return fts_cols[k - K_FTS];
    if (k == K_TRI)
        return fts_cols[0];
    return NULL;
}

static int line_cmp(int cls, long long rowid, const char *id, long long seq, const struct line *l)
{
    int c;

    if (cls != l->cls)
        return cls < l->cls ? -1 : 1;
    if (cls == 0 && rowid != l->rowid)
        return rowid < l->rowid ? -1 : 1;
    if (cls == 1 && (c = strcmp(id, l->id)) != 0)
        return c;
    return seq < l->seq ? -1 : seq > l->seq;
}

/* A line of kind K ordered by CLS and ROWID or ID: kept when among the
 * REPORT_MAX smallest so far (formatted only then), counted always. */
static void add(struct walk *w, int k, int cls, long long rowid, const char *id, const char *fmt,
                ...) __attribute__((format(printf, 6, 7)));
static void add(struct walk *w, int k, int cls, long long rowid, const char *id, const char *fmt,
                ...)
{
    struct kind *kd = &w->kind[k];
    int kept = kd->n < REPORT_MAX ? kd->n : REPORT_MAX, at;
    long long seq = w->seq++;
    struct line *l;
    va_list ap;

    kd->n++;
    if (kept == REPORT_MAX && line_cmp(cls, rowid, id, seq, kd->sorted[REPORT_MAX - 1]) > 0)
        return;
    /* the slot taken: a free one, else the largest kept */
    l = kept < REPORT_MAX ? &kd->line[kept] : kd->sorted[--kept];
    for (at = kept; at > 0 && line_cmp(cls, rowid, id, seq, kd->sorted[at - 1]) < 0; at--)
        kd->sorted[at] = kd->sorted[at - 1];
    kd->sorted[at] = l;
    l->cls = cls;
    l->rowid = rowid;
    l->seq = seq;
    (void)snprintf(l->id, sizeof l->id, "%s", id ? id : "");
    va_start(ap, fmt);
    (void)vsnprintf(l->text, sizeof l->text, fmt, ap);
    va_end(ap);
}

/* TEXT (N bytes, NULL for SQL NULL) as a report shows a value. */
static void shown(const char *t, int n, char *out, size_t size)
{
    if (t == NULL)
        (void)snprintf(out, size, "NULL");
    else
        (void)snprintf(out, size, "'%.*s'%s", n > 60 ? 60 : n, t, n > 60 ? "..." : "");
}

/* Whether stored column I of ST differs from the computed WANT (NULL: SQL
 * NULL), as `IS NOT` between two TEXT columns says: a value of another
 * type differs. Reported under kind K. */
static void col_check(struct walk *w, int k, sqlite3_stmt *st, int i, const char *id,
                      const char *want)
{
    int type = sqlite3_column_type(st, i);
    const char *got = (const char *)sqlite3_column_text(st, i);
    int n = sqlite3_column_bytes(st, i);
    char a[96], b[96];

    if (want == NULL ? type == SQLITE_NULL
                     : type == SQLITE_TEXT && (size_t)n == strlen(want) &&
                           memcmp(got, want, (size_t)n) == 0)
        return;
    shown(type == SQLITE_NULL ? NULL : got, n, a, sizeof a);
    shown(want, want ? (int)strlen(want) : 0, b, sizeof b);
    add(w, k, 1, 0, id, "%s %s %s: stored %s, recomputed %s", kind_table(k), id, kind_col(k), a,
        b);
}

static int key_take(void *ctx, const char *key, int dob)
{
    struct walk *w = ctx;
    size_t at = w->keys.len;

    if (w->nkeys == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        size_t *p = realloc(w->at, cap * sizeof *p);
        const char **r;
        bool *q;
        if (p == NULL)
            return -1;
        w->at = p;
        if ((q = realloc(w->seen, cap * sizeof *q)) == NULL)
            return -1;
        w->seen = q;
        if ((r = realloc(w->key, cap * sizeof *r)) == NULL)
            return -1;
        w->key = r;
        w->cap = cap;
    }
    if (buf_append(&w->keys, key, strlen(key) + 1) != 0)
        return -1;
    w->at[w->nkeys++] = at;
    w->dob = dob;
    return 0;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A statement read row by row: HAVE 1 while it stands on a row. */
struct cur {
    sqlite3_stmt *st;
    int have;
    const char *what;
};

static int cur_next(struct db *db, struct cur *c, struct err *err)
{
    int s = sqlite3_step(c->st);

    c->have = s == SQLITE_ROW;
    return s == SQLITE_ROW || s == SQLITE_DONE ? 0 : db_sql_fail(db, c->what, err);
}

static int cur_open(struct db *db, struct cur *c, const char *sql, const char *what,
                    struct err *err)
{
    c->what = what;
    return db_prepare(db, &c->st, sql, err) != 0 ? -1 : cur_next(db, c, err);
}

/* Whether C stands on a row of rowid ROWID (its first column). */
static bool cur_at(const struct cur *c, int64_t rowid)
{
    return c->have && sqlite3_column_int64(c->st, 0) == rowid;
}

/* The rows of C before rowid UPTO (every row left when ALL) name no
 * search_index row: reported under kind K. */
static int cur_orphans(struct db *db, struct walk *w, struct cur *c, bool all, int64_t upto,
                       int k, const char *msg, struct err *err)
{
    while (c->have && (all || sqlite3_column_int64(c->st, 0) < upto)) {
        long long r = sqlite3_column_int64(c->st, 0);
        add(w, k, 0, r, NULL, "%s %lld: %s", kind_table(k), r, msg);
        if (cur_next(db, c, err) != 0)
            return -1;
    }
    return 0;
}

/* The name keys of entry E (NULL: none) against the stored rows (rec, key,
 * dob) of index row ROWID where KEYS stands (none unless STORED): those
 * stored and not derived, then those derived and not stored, named by
 * record ID. */
static int keys_check(struct db *db, struct walk *w, struct cur *keys, bool stored,
                      int64_t rowid, const struct search_entry *e, const char *id,
                      struct err *err)
{
    size_t n = 0, j = 0;

    buf_reset(&w->keys);
    w->nkeys = 0;
    if (e && reg_search_name_keys_each(e->fts[1], e->dob, key_take, w) != 0)
        return err_setk(err, ERR_INTERNAL, "audit: search index: out of memory");
    for (size_t i = 0; i < w->nkeys; i++)
        w->key[i] = (const char *)w->keys.data + w->at[i];
    if (w->nkeys > 1)
        qsort(w->key, w->nkeys, sizeof *w->key, key_cmp);
    /* one row per (key, dob): the repeats of a key are one row */
    for (size_t i = 0; i < w->nkeys; i++)
        if (n == 0 || strcmp(w->key[i], w->key[n - 1]) != 0)
            w->key[n++] = w->key[i];
    for (size_t i = 0; i < n; i++)
        w->seen[i] = false;
    while (stored && cur_at(keys, rowid)) {
        const char *key = (const char *)sqlite3_column_text(keys->st, 1);
        long long dob = sqlite3_column_int64(keys->st, 2);
        int c = 1;
        while (key && j < n && (c = strcmp(w->key[j], key)) < 0)
            j++;
        if (key && j < n && c == 0 && dob == w->dob &&
            sqlite3_column_type(keys->st, 2) == SQLITE_INTEGER)
            w->seen[j] = true;
        else
            add(w, K_KEYS, 1, 0, id,
                "search_name_keys %s: name key %s %lld not derived from the record", id,
                key ? key : "", dob);
        if (cur_next(db, keys, err) != 0)
            return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!w->seen[i])
            add(w, K_KEYS, 1, 0, id, "search_name_keys %s: name key %s %d missing", id, w->key[i],
                w->dob);
    return 0;
}

/* The stored search_index rows in rowid order: 0 rowid, 1 record_id, 2..
 * the index columns. search_fts and search_tri by rowid: 0 rowid, then
 * their columns. */
#define S_INDEX 2
#define STORED_SQL                                                                                 \
    "SELECT rowid, record_id, office, status, given, family, sex, dob, place, mother, father,"    \
    " given_key, family_key, place_key, mother_key, father_key, regno, uin FROM"                   \
    " main.search_index ORDER BY rowid"

/* The stored rows' cursors, merged by rowid. */
struct stored {
    struct cur index, fts, tri, keys;
};

/* One stored index row (SR, with ST's other cursors on its rowid) against
 * its record's entry (E), either absent (SR NULL: a record without an
 * index row). */
static int row_check(struct db *db, struct walk *w, sqlite3_stmt *sr, struct stored *st,
                     const struct search_entry *e, struct err *err)
{
    const char *id = sr ? (const char *)sqlite3_column_text(sr, 1) : e->id;
    int64_t rowid = sr ? sqlite3_column_int64(sr, 0) : 0;

    if (sr == NULL || e == NULL)
        add(w, K_ROWS, 1, 0, id, "search_index %s: %s", id,
            e ? "row missing (civreg search --reindex)"
              : "indexes no record (row not derived from the records)");
    if (sr) {
        bool fts = cur_at(&st->fts, rowid), tri = cur_at(&st->tri, rowid);
        for (int i = 0; e && i < REG_SEARCH_INDEX_COLS; i++)
            col_check(w, K_INDEX + i, sr, S_INDEX + i, id, e->index[i]);
        if (!fts)
            add(w, K_FTS_ROWS, 1, 0, id, "search_fts %s: has no search_fts row", id);
        for (int i = 0; e && fts && i < REG_SEARCH_FTS_COLS; i++)
            col_check(w, K_FTS + i, st->fts.st, 1 + i, id, e->fts[i]);
        if (!tri)
            add(w, K_TRI_ROWS, 1, 0, id, "search_tri %s: has no search_tri row", id);
        if (e && tri)
            col_check(w, K_TRI, st->tri.st, 1, id, e->fts[0]);
        if ((fts && cur_next(db, &st->fts, err) != 0) || (tri && cur_next(db, &st->tri, err) != 0))
            return -1;
    }
    return keys_check(db, w, &st->keys, sr != NULL, rowid, e, id, err);
}

static void report(const struct walk *w, void (*problem)(void *, const char *), void *ctx)
{
    char line[LINE_MAX_];

    for (int k = 0; k < K_N; k++) {
        const struct kind *kd = &w->kind[k];
        const char *col = kind_col(k);
        for (int i = 0; i < kd->n && i < REPORT_MAX; i++)
            problem(ctx, kd->sorted[i]->text);
        if (kd->n > REPORT_MAX) {
            (void)snprintf(line, sizeof line,
                           "%s%s%s: %d more rows differ from the recomputed index", kind_table(k),
                           col ? " " : "", col ? col : "", kd->n - REPORT_MAX);
            problem(ctx, line);
        }
    }
}

/* The records' entries (each looked up by the id its index row names, then
 * those without an index row) against the stored rows. */
static int compare(struct db *db, struct walk *w, struct err *err)
{
    struct stored st = { { NULL, 0, NULL }, { NULL, 0, NULL }, { NULL, 0, NULL },
                         { NULL, 0, NULL } };
    struct cur missing = { NULL, 0, NULL };
    sqlite3_stmt *rec = NULL;
    struct search_entry e;
    int rc = -1;

    if (cur_open(db, &st.index, STORED_SQL, "search_index", err) != 0 ||
        cur_open(db, &st.fts,
                 "SELECT rowid, names, names_ph, parents, parents_ph, place, dates, ids FROM"
                 " main.search_fts ORDER BY rowid",
                 "search_fts", err) != 0 ||
        cur_open(db, &st.tri, "SELECT rowid, names FROM main.search_tri ORDER BY rowid",
                 "search_tri", err) != 0 ||
        cur_open(db, &st.keys,
                 "SELECT rec, key, dob FROM main.search_name_keys ORDER BY rec, key, dob",
                 "search_name_keys", err) != 0 ||
        db_prepare(db, &rec, "SELECT " REG_SEARCH_STORE_COLS " WHERE r.id = ?1", err) != 0)
        goto out;
    while (st.index.have) {
        sqlite3_stmt *sr = st.index.st;
        int64_t rowid = sqlite3_column_int64(sr, 0);
        int s, k;
        if (cur_orphans(db, w, &st.fts, false, rowid, K_FTS_ROWS,
                        "row indexes no search_index row", err) != 0 ||
            cur_orphans(db, w, &st.tri, false, rowid, K_TRI_ROWS,
                        "row indexes no search_index row", err) != 0 ||
            cur_orphans(db, w, &st.keys, false, rowid, K_KEYS,
                        "name key row indexes no search_index row", err) != 0)
            goto out;
        sqlite3_bind_text(rec, 1, (const char *)sqlite3_column_text(sr, 1),
                          sqlite3_column_bytes(sr, 1), SQLITE_STATIC);
        s = sqlite3_step(rec);
        if (s != SQLITE_ROW && s != SQLITE_DONE) {
            db_sql_fail(db, "listing records to index", err);
            goto out;
        }
        if (s == SQLITE_ROW && reg_search_entry_of_row(rec, &e, err) != 0) {
            err_prefix(err, "audit: recomputing the search index");
            goto out;
        }
        k = row_check(db, w, sr, &st, s == SQLITE_ROW ? &e : NULL, err);
        if (s == SQLITE_ROW)
            reg_search_entry_release(&e);
        sqlite3_reset(rec);
        sqlite3_clear_bindings(rec);
        if (k != 0 || cur_next(db, &st.index, err) != 0)
            goto out;
    }
    if (cur_orphans(db, w, &st.fts, true, 0, K_FTS_ROWS, "row indexes no search_index row",
                    err) != 0 ||
        cur_orphans(db, w, &st.tri, true, 0, K_TRI_ROWS, "row indexes no search_index row",
                    err) != 0 ||
        cur_orphans(db, w, &st.keys, true, 0, K_KEYS, "name key row indexes no search_index row",
                    err) != 0)
        goto out;
    /* the records no index row names */
    if (cur_open(db, &missing,
                 "SELECT " REG_SEARCH_STORE_COLS " WHERE NOT EXISTS (SELECT 1 FROM"
                 " main.search_index m WHERE m.record_id = r.id) ORDER BY r.id",
                 "listing records to index", err) != 0)
        goto out;
    while (missing.have) {
        int k;
        if (reg_search_entry_of_row(missing.st, &e, err) != 0) {
            err_prefix(err, "audit: recomputing the search index");
            goto out;
        }
        k = row_check(db, w, NULL, &st, &e, err);
        reg_search_entry_release(&e);
        if (k != 0 || cur_next(db, &missing, err) != 0)
            goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st.index.st);
    sqlite3_finalize(st.fts.st);
    sqlite3_finalize(st.tri.st);
    sqlite3_finalize(st.keys.st);
    sqlite3_finalize(missing.st);
    sqlite3_finalize(rec);
    return rc;
}

int reg_audit_search(struct db *db, void (*problem)(void *, const char *), void *ctx,
                     struct err *err)
{
    struct walk *w = calloc(1, sizeof *w);
    int rc = -1;

    if (w == NULL)
        return err_setk(err, ERR_INTERNAL, "audit: search index: out of memory");
    w->keys = (struct buf)BUF_INIT(1 << 16);
    /* One savepoint around the comparison: the records and the stored
     * index read on one snapshot. An office writing while it is audited (a
     * batch committed in between) reported every row of that batch as
     * indexing no record. */
    if (db_exec(db, "SAVEPOINT audit_search", err) == 0) {
        rc = compare(db, w, err);
        if (db_exec(db, "RELEASE audit_search", rc == 0 ? err : NULL) != 0)
            rc = -1;
    }
    /* the lines only when the whole comparison ran, as before */
    if (rc == 0)
        report(w, problem, ctx);
    buf_release(&w->keys);
    free(w->at);
    free(w->key);
    free(w->seen);
    free(w);
    return rc;
}
