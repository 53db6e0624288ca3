/* civreg scanner: imported volumes and pages, read back (see volumes.h). */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "db/db.h"
#include "db/rows.h"
#include "db/sql.h"
#include "import.h"
#include "volumes.h"

/* "blank,skewed" -> ["blank","skewed"] */
static json_t *flags_array(const char *s)
{
    json_t *a = json_array();
    while (a && s && *s) {
        const char *c = strchr(s, ',');
        size_t n = c ? (size_t)(c - s) : strlen(s);
        if (json_array_append_new(a, json_stringn(s, n)) != 0) {
            json_decref(a); /* the caller's json_pack fails on NULL: no shorter list */
            return NULL;
        }
        s = c ? c + 1 : NULL;
    }
    return a;
}

static int cmp_volumes(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    return scan_natural_compare(json_string_value(json_object_get(x, "id")),
                                json_string_value(json_object_get(y, "id")));
}

int scan_volume_list(struct db *db, json_t **out, struct err *err)
{
    static const char sql[] =
        "SELECT v.id AS id, v.office AS office, v.year AS year, v.volume AS volume, "
        "v.created_at AS created_at, "
        "(SELECT COUNT(*) FROM scan_pages p WHERE p.volume_id = v.id AND p.is_separator = 0) "
        "AS pages, "
        "(SELECT COUNT(*) FROM scan_pages p WHERE p.volume_id = v.id AND p.is_separator = 0 "
        " AND p.quality_flags <> '') AS flagged_pages FROM scan_volumes v";
    sqlite3_stmt *st = NULL;
    json_t *list = NULL, **items = NULL;
    size_t n = 0;
    int rc = -1;

    *out = NULL;
    if (db_prepare(db, &st, sql, err) != 0 ||
        db_rows_json(db, st, "volumes", NULL, NULL, &list, err) != 0)
        goto out;
    /* Natural order of "office|year|volume": volume 2 before volume 10. */
    n = json_array_size(list);
    items = calloc(n ? n : 1, sizeof *items);
    if (items == NULL) {
        err_setk(err, ERR_INTERNAL, "scan: out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        items[i] = json_incref(json_array_get(list, i));
    qsort(items, n, sizeof *items, cmp_volumes);
    json_array_clear(list);
    for (size_t i = 0; i < n; i++) {
        int bad = json_array_append_new(list, items[i]);
        items[i] = NULL;
        if (bad != 0) {
            err_setk(err, ERR_INTERNAL, "scan: out of memory");
            goto out;
        }
    }
    *out = list;
    list = NULL;
    rc = 0;
out:
    for (size_t i = 0; items && i < n; i++)
        json_decref(items[i]);
    free(items);
    sqlite3_finalize(st);
    json_decref(list);
    return rc;
}

/* A page of a volume's listing (scan_volume_pages). */
static json_t *volume_page_row(sqlite3_stmt *st, void *ctx)
{
    (void)ctx;
    return json_pack("{s:s, s:o, s:b, s:s, s:s, s:I, s:s, s:o}",
                     "id", (const char *)sqlite3_column_text(st, 0),
                     "page_number", db_column_json(st, 1),
                     "separator", sqlite3_column_int(st, 2),
                     "file_name", (const char *)sqlite3_column_text(st, 3),
                     "file_hash", (const char *)sqlite3_column_text(st, 4),
                     "page_index", (json_int_t)sqlite3_column_int64(st, 5),
                     "preview_hash", (const char *)sqlite3_column_text(st, 6),
                     "quality_flags", flags_array((const char *)sqlite3_column_text(st, 7)));
}

/* The row of the volume or page (WHAT) ID, by SQL with ID its only
 * parameter: 0 with *ST on it; -1 with ERR set, "scan: no WHAT 'ID'HINT"
 * of kind not found when there is none. The caller finalizes *ST. */
static int scan_row_of(struct db *db, sqlite3_stmt **st, const char *sql, const char *what,
                       const char *id, const char *hint, struct err *err)
{
    int found = db_query_row(db, st, sql, what, err, "s", id);

    if (found < 0)
        return -1;
    if (!found)
        return err_setk(err, ERR_NOT_FOUND, "scan: no %s '%s'%s", what, id, hint);
    return 0;
}

int scan_volume_pages(struct db *db, const char *id, json_t **out, struct err *err)
{
    static const char q_exists[] = "SELECT 1 FROM scan_volumes WHERE id = ?";
    static const char sql[] =
        "SELECT id, page_number, is_separator, file_name, file_hash, page_index, preview_hash, "
        "quality_flags FROM scan_pages WHERE volume_id = ? "
        "ORDER BY is_separator DESC, page_number, created_at";
    sqlite3_stmt *st = NULL;
    int rc = -1;

    *out = NULL;
    if (scan_row_of(db, &st, q_exists, "volume", id, " (see `civreg scan volumes`)", err) != 0)
        goto out;
    sqlite3_finalize(st);
    st = NULL;
    if (db_prepare(db, &st, sql, err) != 0 || db_bind(db, st, err, "s", id) != 0 ||
        db_rows_json(db, st, "pages", volume_page_row, NULL, out, err) != 0)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

int scan_page_show(struct db *db, const char *id, json_t **out, struct err *err)
{
    static const char sql[] =
        "SELECT p.id, p.file_hash, p.page_index, p.file_name, p.preview_hash, p.volume_id, "
        "p.page_number, p.is_separator, p.import_id, p.event_seq, p.created_at, p.meta, "
        "p.quality_flags, v.office, v.year, v.volume "
        "FROM scan_pages p LEFT JOIN scan_volumes v ON v.id = p.volume_id WHERE p.id = ?";
    sqlite3_stmt *st = NULL;
    json_t *j = NULL, *meta = NULL, *reg;
    const char *mt;
    int rc = -1;

    *out = NULL;
    if (scan_row_of(db, &st, sql, "page", id, "", err) != 0)
        goto out;
    mt = (const char *)sqlite3_column_text(st, 11);
    if (json_parse(mt, strlen(mt), &meta, err) != 0) {
        err_prefix(err, "scan: page %s metadata", id);
        goto out;
    }
    if (sqlite3_column_type(st, 13) != SQLITE_NULL && sqlite3_column_type(st, 6) != SQLITE_NULL)
        reg = json_pack("{s:s, s:I, s:s, s:I}", "office", (const char *)sqlite3_column_text(st, 13),
                        "year", (json_int_t)sqlite3_column_int64(st, 14),
                        "volume", (const char *)sqlite3_column_text(st, 15),
                        "page", (json_int_t)sqlite3_column_int64(st, 6));
    else
        reg = json_null();
    j = json_pack("{s:s, s:s, s:I, s:s, s:s, s:o, s:o, s:b, s:s, s:I, s:s, s:O, s:o, s:o, s:[s]}",
                  "id", (const char *)sqlite3_column_text(st, 0),
                  "file_hash", (const char *)sqlite3_column_text(st, 1),
                  "page_index", (json_int_t)sqlite3_column_int64(st, 2),
                  "file_name", (const char *)sqlite3_column_text(st, 3),
                  "preview_hash", (const char *)sqlite3_column_text(st, 4),
                  "volume_id", db_column_json(st, 5),
                  "page_number", db_column_json(st, 6),
                  "separator", sqlite3_column_int(st, 7),
                  "import_id", (const char *)sqlite3_column_text(st, 8),
                  "event_seq", (json_int_t)sqlite3_column_int64(st, 9),
                  "created_at", (const char *)sqlite3_column_text(st, 10),
                  "meta", meta,
                  "quality_flags", flags_array((const char *)sqlite3_column_text(st, 12)),
                  "register", reg,
                  "evidence", (const char *)sqlite3_column_text(st, 1));
    rc = json_out(out, j, err);
out:
    json_decref(meta);
    sqlite3_finalize(st);
    return rc;
}
