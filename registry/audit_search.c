/* civreg registry: `audit verify` recomputes the search index. The index
 * (search_index, its FTS5 tables search_fts, search_tri, the name keys
 * search_name_keys) is a cache derived from the current version of each
 * record, not a fact of the log: the audit computes each record's rows
 * with the indexing code itself (reg_search_entry_of_row, what the writes
 * would store) and compares them at once with the stored rows, walking the
 * records and the stored search_index in the same record id order (one
 * merge, no TEMP table written). Nothing in the stored database is
 * written; memory is bounded by the few report lines each kind keeps. */
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

struct kind {
    int n;
    char line[REPORT_MAX][LINE_MAX_];
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

static void add(struct walk *w, int k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(struct walk *w, int k, const char *fmt, ...)
{
    struct kind *kd = &w->kind[k];
    va_list ap;

    if (kd->n++ >= REPORT_MAX)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(kd->line[kd->n - 1], LINE_MAX_, fmt, ap);
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
                     : type == SQLITE_TEXT && (size_t)n == strlen(want) && memcmp(got, want, (size_t)n) == 0)
        return;
    shown(type == SQLITE_NULL ? NULL : got, n, a, sizeof a);
    shown(want, want ? (int)strlen(want) : 0, b, sizeof b);
    add(w, k, "%s %s %s: stored %s, recomputed %s", kind_table(k), id, kind_col(k), a, b);
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

/* The name keys of entry E (NULL: none) against the stored rows of index
 * row ROWID (< 0: none) with GET: those stored and not derived, then those
 * derived and not stored, named by record ID. */
static int keys_check(struct db *db, struct walk *w, sqlite3_stmt *get, int64_t rowid,
                      const struct search_entry *e, const char *id, struct err *err)
{
    size_t n = 0, j = 0;
    int s = SQLITE_DONE;

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
    if (rowid >= 0) {
        sqlite3_bind_int64(get, 1, rowid);
        while ((s = sqlite3_step(get)) == SQLITE_ROW) {
            const char *key = (const char *)sqlite3_column_text(get, 0);
            long long dob = sqlite3_column_int64(get, 1);
            int c = 1;
            while (key && j < n && (c = strcmp(w->key[j], key)) < 0)
                j++;
            if (key && j < n && c == 0 && dob == w->dob && sqlite3_column_type(get, 1) == SQLITE_INTEGER)
                w->seen[j] = true;
            else
                add(w, K_KEYS, "search_name_keys %s: name key %s %lld not derived from the record",
                    id, key ? key : "", dob);
        }
        sqlite3_reset(get);
        sqlite3_clear_bindings(get);
        if (s != SQLITE_DONE)
            return db_sql_fail(db, "search_name_keys", err);
    }
    for (size_t i = 0; i < n; i++)
        if (!w->seen[i])
            add(w, K_KEYS, "search_name_keys %s: name key %s %d missing", id, w->key[i], w->dob);
    return 0;
}

/* Stored-only structure, main tables alone, into kind K: rows (by SQL's
 * first column) whose search_index row is gone, with MSG. */
static int orphans(struct db *db, struct walk *w, int k, const char *sql, const char *msg,
                   struct err *err)
{
    sqlite3_stmt *st = NULL;
    int s;

    if (db_prepare(db, &st, sql, err) != 0)
        return -1;
    while ((s = sqlite3_step(st)) == SQLITE_ROW)
        add(w, k, "%s %s: %s", kind_table(k), (const char *)sqlite3_column_text(st, 0), msg);
    sqlite3_finalize(st);
    return s == SQLITE_DONE ? 0 : db_sql_fail(db, kind_table(k), err);
}

/* The stored row of search_index with its search_fts and search_tri rows,
 * in record id order: columns 0 rowid, 1 record_id, 2.. the index columns,
 * then search_fts's rowid and columns, search_tri's rowid and names. */
#define S_INDEX 2
#define S_FTS_ROWID (S_INDEX + REG_SEARCH_INDEX_COLS)
#define S_FTS (S_FTS_ROWID + 1)
#define S_TRI_ROWID (S_FTS + REG_SEARCH_FTS_COLS)
#define STORED_SQL                                                                                 \
    "SELECT m.rowid, m.record_id, m.office, m.status, m.given, m.family, m.sex, m.dob, m.place,"   \
    " m.mother, m.father, m.given_key, m.family_key, m.place_key, m.mother_key, m.father_key,"     \
    " m.regno, m.uin, f.rowid, f.names, f.names_ph, f.parents, f.parents_ph, f.place, f.dates,"   \
    " f.ids, t.rowid, t.names FROM main.search_index m LEFT JOIN main.search_fts f ON"             \
    " f.rowid = m.rowid LEFT JOIN main.search_tri t ON t.rowid = m.rowid ORDER BY m.record_id"

/* One stored row (SR) against one record's entry (E), either absent. */
static int row_check(struct db *db, struct walk *w, sqlite3_stmt *sr, sqlite3_stmt *keys,
                     const struct search_entry *e, struct err *err)
{
    const char *id = sr ? (const char *)sqlite3_column_text(sr, 1) : e->id;

    if (sr == NULL || e == NULL)
        add(w, K_ROWS, "search_index %s: %s", id,
            e ? "row missing (civreg search --reindex)"
              : "indexes no record (row not derived from the records)");
    if (sr) {
        bool fts = sqlite3_column_type(sr, S_FTS_ROWID) != SQLITE_NULL;
        bool tri = sqlite3_column_type(sr, S_TRI_ROWID) != SQLITE_NULL;
        for (int i = 0; e && i < REG_SEARCH_INDEX_COLS; i++)
            col_check(w, K_INDEX + i, sr, S_INDEX + i, id, e->index[i]);
        if (!fts)
            add(w, K_FTS_ROWS, "search_fts %s: has no search_fts row", id);
        for (int i = 0; e && fts && i < REG_SEARCH_FTS_COLS; i++)
            col_check(w, K_FTS + i, sr, S_FTS + i, id, e->fts[i]);
        if (!tri)
            add(w, K_TRI_ROWS, "search_tri %s: has no search_tri row", id);
        if (e && tri)
            col_check(w, K_TRI, sr, S_TRI_ROWID + 1, id, e->fts[0]);
    }
    return keys_check(db, w, keys, sr ? sqlite3_column_int64(sr, 0) : -1, e, id, err);
}

static void report(const struct walk *w, void (*problem)(void *, const char *), void *ctx)
{
    char line[LINE_MAX_];

    for (int k = 0; k < K_N; k++) {
        const struct kind *kd = &w->kind[k];
        const char *col = kind_col(k);
        for (int i = 0; i < kd->n && i < REPORT_MAX; i++)
            problem(ctx, kd->line[i]);
        if (kd->n > REPORT_MAX) {
            (void)snprintf(line, sizeof line,
                           "%s%s%s: %d more rows differ from the recomputed index", kind_table(k),
                           col ? " " : "", col ? col : "", kd->n - REPORT_MAX);
            problem(ctx, line);
        }
    }
}

static int step_of(struct db *db, sqlite3_stmt *st, const char *what, struct err *err)
{
    int s = sqlite3_step(st);

    if (s == SQLITE_ROW)
        return 1;
    return s == SQLITE_DONE ? 0 : db_sql_fail(db, what, err);
}

/* The merge: the records (R, with their current versions) and the stored
 * search_index (S), both by record id. */
static int compare(struct db *db, struct walk *w, struct err *err)
{
    sqlite3_stmt *r = NULL, *s = NULL, *keys = NULL;
    struct search_entry e;
    int rr, sr, rc = -1;

    if (orphans(db, w, K_FTS_ROWS,
                "SELECT f.rowid FROM main.search_fts f WHERE NOT EXISTS (SELECT 1 FROM"
                " main.search_index m WHERE m.rowid = f.rowid) ORDER BY 1",
                "row indexes no search_index row", err) != 0 ||
        orphans(db, w, K_TRI_ROWS,
                "SELECT f.rowid FROM main.search_tri f WHERE NOT EXISTS (SELECT 1 FROM"
                " main.search_index m WHERE m.rowid = f.rowid) ORDER BY 1",
                "row indexes no search_index row", err) != 0 ||
        orphans(db, w, K_KEYS,
                "SELECT k.rec FROM main.search_name_keys k WHERE NOT EXISTS (SELECT 1 FROM"
                " main.search_index m WHERE m.rowid = k.rec) ORDER BY 1",
                "name key row indexes no search_index row", err) != 0)
        return -1;
    if (db_prepare(db, &r, "SELECT " REG_SEARCH_STORE_COLS " ORDER BY r.id", err) != 0 ||
        db_prepare(db, &s, STORED_SQL, err) != 0 ||
        db_prepare(db, &keys,
                   "SELECT key, dob FROM main.search_name_keys WHERE rec = ?1 ORDER BY key, dob",
                   err) != 0)
        goto out;
    rr = step_of(db, r, "listing records to index", err);
    sr = step_of(db, s, "search_index", err);
    while (rr > 0 || sr > 0) {
        int c = rr <= 0   ? 1
                : sr <= 0 ? -1
                          : strcmp((const char *)sqlite3_column_text(r, 0),
                                   (const char *)sqlite3_column_text(s, 1));
        int k;
        if (c <= 0 && reg_search_entry_of_row(r, &e, err) != 0) {
            err_prefix(err, "audit: recomputing the search index");
            goto out;
        }
        k = row_check(db, w, c >= 0 ? s : NULL, keys, c <= 0 ? &e : NULL, err);
        if (c <= 0)
            reg_search_entry_release(&e);
        if (k != 0)
            goto out;
        if (c <= 0)
            rr = step_of(db, r, "listing records to index", err);
        if (c >= 0)
            sr = step_of(db, s, "search_index", err);
    }
    if (rr < 0 || sr < 0)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(r);
    sqlite3_finalize(s);
    sqlite3_finalize(keys);
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
