/* civreg registry: `audit verify` recomputes the search index. The index
 * (search_index, its FTS5 tables search_fts, search_tri, the name keys
 * search_name_keys) is a cache derived from the current version of each
 * record, not a fact of the log:
 * the audit rebuilds it with the indexing code itself into TEMP tables of the
 * same names (unqualified names resolve to temp first), compares every
 * column by record id, and drops them. Nothing in the stored database is
 * written. */
#include <stdio.h>
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
/* Page cache of the TEMP tables while the index is recomputed, as the
 * expected tables' (PROJ_CACHE_KIB): SQLite's default 2 MB sent every
 * recomputed row out to the temporary file and back for the comparison. */
#define TEMP_CACHE_KIB 32768

static void text_of(sqlite3_stmt *st, int i, char *out, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    int n = sqlite3_column_bytes(st, i);

    if (t == NULL)
        (void)snprintf(out, size, "NULL");
    else
        (void)snprintf(out, size, "'%.*s'%s", n > 60 ? 60 : n, t, n > 60 ? "..." : "");
}

/* Run SQL (selects record_id, stored, recomputed) and report each row. */
static int report_rows(struct db *db, const char *sql, const char *table, const char *col,
                       void (*problem)(void *, const char *), void *ctx, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int step, n = 0;
    char line[512], a[96], b[96];

    if (db_prepare(db, &st, sql, err) != 0)
        return -1;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n++ >= REPORT_MAX)
            continue;
        if (col) {
            text_of(st, 1, a, sizeof a);
            text_of(st, 2, b, sizeof b);
            (void)snprintf(line, sizeof line, "%s %s %s: stored %s, recomputed %s", table,
                           sqlite3_column_text(st, 0), col, a, b);
        } else {
            (void)snprintf(line, sizeof line, "%s %s: %s", table, sqlite3_column_text(st, 0),
                           (const char *)sqlite3_column_text(st, 1));
        }
        problem(ctx, line);
    }
    sqlite3_finalize(st);
    if (n > REPORT_MAX) {
        (void)snprintf(line, sizeof line, "%s%s%s: %d more rows differ from the recomputed index",
                       table, col ? " " : "", col ? col : "", n - REPORT_MAX);
        problem(ctx, line);
    }
    return step == SQLITE_DONE ? 0 : db_sql_fail(db, table, err);
}

/* Whether SQL (a join with one condition per column, OR-ed) yields a row:
 * one pass over the table says whether the column-by-column comparisons,
 * one join each, have anything to report. */
static int any_row(struct db *db, const struct buf *sql, bool *any, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    *any = false;
    if (buf_str(sql)[0] == '\0')
        return err_oom(err);
    if (db_prepare(db, &st, buf_str(sql), err) != 0)
        return -1;
    step = sqlite3_step(st);
    sqlite3_finalize(st);
    *any = step == SQLITE_ROW;
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : db_sql_fail(db, "search index", err);
}

/* " OR "-joined "A.col IS NOT B.col" for the N columns COLS, into SQL. */
static int differ_expr(struct buf *sql, const char *a, const char *b, const char *const *cols,
                       size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (buf_printf(sql, "%s%s.\"%s\" IS NOT %s.\"%s\"", i ? " OR " : "", a, cols[i], b,
                       cols[i]) != 0)
            return -1;
    return 0;
}

static int compare(struct db *db, void (*problem)(void *, const char *), void *ctx,
                   struct err *err)
{
    struct buf q = BUF_INIT(8192);
    char sql[2048];
    bool any = false;
    int rc = -1;

    if (report_rows(db,
                    "SELECT m.record_id, 'indexes no record (row not derived from the records)'"
                    " FROM main.search_index m WHERE NOT EXISTS (SELECT 1 FROM temp.search_index t"
                    " WHERE t.record_id = m.record_id) UNION ALL SELECT t.record_id, 'row missing"
                    " (civreg search --reindex)' FROM temp.search_index t WHERE NOT EXISTS"
                    " (SELECT 1 FROM main.search_index m WHERE m.record_id = t.record_id)"
                    " ORDER BY 1",
                    "search_index", NULL, problem, ctx, err) != 0)
        goto out;
    buf_reset(&q);
    if (buf_append_str(&q, "SELECT 1 FROM main.search_index m JOIN temp.search_index t ON"
                           " t.record_id = m.record_id WHERE ") != 0 ||
        differ_expr(&q, "m", "t", index_cols, sizeof index_cols / sizeof index_cols[0]) != 0 ||
        buf_append_str(&q, " LIMIT 1") != 0)
        buf_reset(&q);
    if (any_row(db, &q, &any, err) != 0)
        goto out;
    for (size_t i = 0; any && i < sizeof index_cols / sizeof index_cols[0]; i++) {
        (void)snprintf(sql, sizeof sql,
                       "SELECT m.record_id, m.\"%s\", t.\"%s\" FROM main.search_index m JOIN"
                       " temp.search_index t ON t.record_id = m.record_id WHERE m.\"%s\" IS NOT"
                       " t.\"%s\" ORDER BY 1",
                       index_cols[i], index_cols[i], index_cols[i], index_cols[i]);
        if (report_rows(db, sql, "search_index", index_cols[i], problem, ctx, err) != 0)
            goto out;
    }
    for (int tri = 0; tri < 2; tri++) {
        const char *fts = tri ? "search_tri" : "search_fts";
        size_t n = tri ? 1 : sizeof fts_cols / sizeof fts_cols[0];
        (void)snprintf(sql, sizeof sql,
                       "SELECT m.record_id, 'has no %s row' FROM main.search_index m WHERE NOT"
                       " EXISTS (SELECT 1 FROM main.%s f WHERE f.rowid = m.rowid) UNION ALL"
                       " SELECT f.rowid, 'row indexes no search_index row' FROM main.%s f"
                       " WHERE NOT EXISTS (SELECT 1 FROM main.search_index m WHERE m.rowid ="
                       " f.rowid) ORDER BY 1",
                       fts, fts, fts);
        if (report_rows(db, sql, fts, NULL, problem, ctx, err) != 0)
            goto out;
        buf_reset(&q);
        if (buf_printf(&q, "SELECT 1 FROM main.search_index m JOIN main.%s mf ON mf.rowid ="
                           " m.rowid JOIN temp.search_index t ON t.record_id = m.record_id JOIN"
                           " temp.%s tf ON tf.rowid = t.rowid WHERE ",
                       fts, fts) != 0 ||
            differ_expr(&q, "mf", "tf", fts_cols, n) != 0 || buf_append_str(&q, " LIMIT 1") != 0)
            buf_reset(&q);
        if (any_row(db, &q, &any, err) != 0)
            goto out;
        for (size_t i = 0; any && i < n; i++) {
            (void)snprintf(sql, sizeof sql,
                           "SELECT m.record_id, mf.\"%s\", tf.\"%s\" FROM main.search_index m"
                           " JOIN main.%s mf ON mf.rowid = m.rowid JOIN temp.search_index t ON"
                           " t.record_id = m.record_id JOIN temp.%s tf ON tf.rowid = t.rowid"
                           " WHERE mf.\"%s\" IS NOT tf.\"%s\" ORDER BY 1",
                           fts_cols[i], fts_cols[i], fts, fts, fts_cols[i], fts_cols[i]);
            if (report_rows(db, sql, fts, fts_cols[i], problem, ctx, err) != 0)
                goto out;
        }
    }
    /* the name keys of duplicate detection, by record id and key */
    if (report_rows(db,
                    "SELECT k.rec, 'name key row indexes no search_index row' FROM"
                    " main.search_name_keys k WHERE NOT EXISTS (SELECT 1 FROM main.search_index m"
                    " WHERE m.rowid = k.rec) UNION ALL SELECT m.record_id, 'name key ' || k.key ||"
                    " ' ' || k.dob || ' not derived from the record' FROM main.search_name_keys k"
                    " JOIN main.search_index m ON m.rowid = k.rec WHERE NOT EXISTS (SELECT 1 FROM"
                    " temp.search_index t JOIN temp.search_name_keys tk ON tk.rec = t.rowid WHERE"
                    " t.record_id = m.record_id AND tk.key = k.key AND tk.dob = k.dob) UNION ALL"
                    " SELECT t.record_id, 'name key ' || tk.key || ' ' || tk.dob || ' missing'"
                    " FROM temp.search_name_keys tk JOIN temp.search_index t ON t.rowid = tk.rec"
                    " WHERE NOT EXISTS (SELECT 1 FROM main.search_index m JOIN"
                    " main.search_name_keys k ON k.rec = m.rowid WHERE m.record_id = t.record_id"
                    " AND k.key = tk.key AND k.dob = tk.dob) ORDER BY 1",
                    "search_name_keys", NULL, problem, ctx, err) != 0)
        goto out;
    rc = 0;
out:
    buf_release(&q);
    return rc;
}

int reg_audit_search(struct db *db, void (*problem)(void *, const char *), void *ctx,
                     struct err *err)
{
    long long count = 0, cache = 0;
    char sql[64];
    int rc = -1, had;

    had = db_query_int64(db, "PRAGMA temp.cache_size", "reading the temp page cache size", &cache,
                         err, "");
    if (had < 0)
        return -1;
    (void)snprintf(sql, sizeof sql, "PRAGMA temp.cache_size = -%d", TEMP_CACHE_KIB);
    if (db_exec(db, sql, err) != 0)
        return -1;
    /* search_index and search_name_keys as migrations 0007 and 0015
     * define them, in temp. The FTS5 tables are compared by their columns
     * only (what the indexing code wrote into each row), so their
     * recomputed twins are plain tables of the same columns: the indexing
     * statements (insert, delete and read by rowid) work on them unchanged,
     * without tokenizing every recomputed row into an inverted index
     * nothing reads. */
    if (db_exec(db,
                "CREATE TEMP TABLE search_index (rowid INTEGER PRIMARY KEY, record_id TEXT NOT"
                " NULL UNIQUE, office TEXT NOT NULL, status TEXT NOT NULL, given TEXT NOT NULL,"
                " family TEXT NOT NULL, sex TEXT NOT NULL, dob TEXT NOT NULL, place TEXT NOT"
                " NULL, mother TEXT NOT NULL, father TEXT NOT NULL, given_key TEXT NOT NULL,"
                " family_key TEXT NOT NULL, place_key TEXT NOT NULL, mother_key TEXT NOT NULL,"
                " father_key TEXT NOT NULL, regno TEXT, uin TEXT);"
                "CREATE TEMP TABLE search_fts (rowid INTEGER PRIMARY KEY, names, names_ph,"
                " parents, parents_ph, place, dates, ids);"
                "CREATE TEMP TABLE search_tri (rowid INTEGER PRIMARY KEY, names);"
                "CREATE TEMP TABLE search_name_keys (key TEXT NOT NULL, dob INTEGER NOT NULL,"
                " rec INTEGER NOT NULL, PRIMARY KEY (key, dob, rec)) STRICT, WITHOUT ROWID;"
                "CREATE INDEX temp.search_name_keys_rec ON search_name_keys(rec);",
                err) != 0)
        goto out;
    /* One savepoint around the recomputation: outside a transaction every
     * row written to the TEMP tables was its own commit (when they were
     * FTS5 tables, a new index segment flushed at every commit: most of the
     * audit's time then). Only TEMP tables are written. */
    /* cached statements naming search_* were planned against the stored
     * tables, which the TEMP ones now shadow */
    db_stmt_cache_clear(db);
    /* The comparison runs in the same savepoint, on the same snapshot of
     * the stored tables as the recomputation: an office writing while it is
     * audited (a batch committed in between) reported every row of that
     * batch as indexing no record. */
    if (db_exec(db, "SAVEPOINT audit_search", err) != 0)
        goto out;
    if (reg_search_reindex_tx(db, &count, err) != 0)
        err_prefix(err, "audit: recomputing the search index");
    else
        rc = compare(db, problem, ctx, err);
    if (rc != 0) {
        if (db_exec(db, "ROLLBACK TO audit_search; RELEASE audit_search", NULL) != 0)
            log_warn("audit: could not end the search index savepoint");
    } else if (db_exec(db, "RELEASE audit_search", err) != 0) {
        rc = -1;
    }
out:
    if (db_exec(db,
                "DROP TABLE IF EXISTS temp.search_index; DROP TABLE IF EXISTS temp.search_fts;"
                " DROP TABLE IF EXISTS temp.search_tri; DROP TABLE IF EXISTS"
                " temp.search_name_keys;",
                rc == 0 ? err : NULL) != 0)
        rc = -1;
    (void)snprintf(sql, sizeof sql, "PRAGMA temp.cache_size = %lld", cache);
    if (had == 1 && db_exec(db, sql, rc == 0 ? err : NULL) != 0)
        rc = -1;
    db_stmt_cache_clear(db);
    return rc;
}
