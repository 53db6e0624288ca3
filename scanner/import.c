/* civreg scanner: the import of a stack of scans (see import.h). */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "core/conf.h"
#include "core/encode.h"
#include "core/json.h"
#include "core/secret.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "db/rows.h"
#include "db/sql.h"
#include "import.h"

#define PREVIEW_SIDE 1200

struct volume_state {
    char id[64];       /* "" before the first separator */
    char office[9];
    int year;
    char volume[13];
    int64_t page_no;   /* last page number used in the volume */
};

struct importer {
    struct db *db;
    const struct scan_import_sink *sink;
    const struct scan_import_opts *opts;
    struct scan_import_summary *sum;
    struct volume_state vol;
    json_t *volumes; /* set of volume ids pages were added to */
    size_t *file_pages; /* pages counted per file before decoding */
    size_t pages_total, pages_failed;
    struct timespec t0;
    int fatal;
    struct err fatal_err;
    /* the time of the file being imported: its volume and page rows and its
     * scan.import event ("at") carry it, so the audit rebuilds them */
    char at[TIME_ISO8601_LEN + 1];
};

static double elapsed(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void now_iso(char out[TIME_ISO8601_LEN + 1])
{
    if (time_iso8601(time(NULL), out) != 0)
        /* cannot truncate: a constant of TIME_ISO8601_LEN characters */
        (void)snprintf(out, TIME_ISO8601_LEN + 1, "1970-01-01T00:00:00Z");
}

static const char *media_type(enum scan_format f)
{
    switch (f) {
    case SCAN_FMT_PNG: return "image/png";
    case SCAN_FMT_JPEG: return "image/jpeg";
    case SCAN_FMT_TIFF: return "image/tiff";
    case SCAN_FMT_PNM: return "image/x-portable-anymap";
    default: return "application/octet-stream";
    }
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void sha256_hex(const void *p, size_t len, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, p, len);
    hex_encode(h, sizeof h, out);
}

static void add_error(struct importer *im, const char *file, const char *msg)
{
    json_t *e = json_pack("{s:s, s:s}", "file", file, "error", msg);
    if (e != NULL && json_array_append_new(im->sum->errors, e) != 0)
        json_decref(e);
}

static int update_counts(struct importer *im, struct err *err)
{
    static const char sql[] =
        "UPDATE scan_imports SET files_done = ?, files_failed = ?, pages_added = ?, "
        "pages_skipped = ? WHERE id = ?";
    const struct scan_import_summary *s = im->sum;

    return db_run(im->db, sql, "import counts", err, "IIIIs",
                  (long long)(s->files_imported + s->files_skipped), (long long)s->files_failed,
                  (long long)s->pages_added, (long long)s->pages_skipped, s->import_id);
}

/* The highest page number already used in volume ID. */
static int volume_last_page(struct importer *im, const char *id, int64_t *out, struct err *err)
{
    static const char sql[] = "SELECT COALESCE(MAX(page_number), 0) FROM scan_pages WHERE volume_id = ?";
    sqlite3_stmt *st = NULL;
    int rc = -1;

    /* An aggregate: always one row when the step succeeds. */
    if (db_query_row(im->db, &st, sql, "import volume pages", err, "s", id) != 1)
        goto out;
    *out = sqlite3_column_int64(st, 0);
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

static void volume_set(struct volume_state *v, const struct scan_separator *sep)
{
    /* cannot truncate: office[9] and volume[13] are copied into arrays of the same
     * sizes, and both with an int year take at most 33 of id[64] */
    (void)snprintf(v->office, sizeof v->office, "%s", sep->office);
    (void)snprintf(v->volume, sizeof v->volume, "%s", sep->volume);
    v->year = sep->year;
    (void)snprintf(v->id, sizeof v->id, "%s|%04d|%s", sep->office, sep->year, sep->volume);
}

/* Pages of FILE_HASH already stored: replay their volume assignments so
 * the pages after them are numbered as in the first run. Returns the
 * number of pages found (0: the file is new) or -1. */
static int replay_existing(struct importer *im, const char *file_hash, struct err *err)
{
    static const char sql[] =
        "SELECT p.is_separator, p.volume_id, p.page_number, v.office, v.year, v.volume "
        "FROM scan_pages p LEFT JOIN scan_volumes v ON v.id = p.volume_id "
        "WHERE p.file_hash = ? ORDER BY p.page_index";
    sqlite3_stmt *st = NULL;
    int n = 0, step;

    if (db_prepare(im->db, &st, sql, err) != 0 || db_bind(im->db, st, err, "s", file_hash) != 0) {
        sqlite3_finalize(st);
        return -1;
    }
    while ((step = db_step_row(im->db, st, "import existing pages", err)) == 1) {
        n++;
        if (sqlite3_column_type(st, 1) == SQLITE_NULL)
            continue;
        if (sqlite3_column_int(st, 0)) {
            struct scan_separator sep;
            memset(&sep, 0, sizeof sep);
            if (snprintf(sep.office, sizeof sep.office, "%s",
                         (const char *)sqlite3_column_text(st, 3)) >= (int)sizeof sep.office ||
                snprintf(sep.volume, sizeof sep.volume, "%s",
                         (const char *)sqlite3_column_text(st, 5)) >= (int)sizeof sep.volume) {
                err_set(err, "import: a stored separator names an office or volume too long");
                n = -1;
                break;
            }
            sep.year = sqlite3_column_int(st, 4);
            volume_set(&im->vol, &sep);
            if (volume_last_page(im, im->vol.id, &im->vol.page_no, err) != 0) {
                n = -1;
                break;
            }
        } else if (strcmp((const char *)sqlite3_column_text(st, 1), im->vol.id) == 0 &&
                   sqlite3_column_int64(st, 2) > im->vol.page_no) {
            im->vol.page_no = sqlite3_column_int64(st, 2);
        }
    }
    if (n >= 0 && step < 0)
        n = -1;
    sqlite3_finalize(st);
    return n;
}

/* 1 when pages of FILE_HASH are stored, 0 when not, -1 on error. */
static int file_known(struct importer *im, const char *file_hash, struct err *err)
{
    static const char sql[] = "SELECT 1 FROM scan_pages WHERE file_hash = ? LIMIT 1";
    sqlite3_stmt *st = NULL;
    int rc = db_query_row(im->db, &st, sql, "import known files", err, "s", file_hash);

    sqlite3_finalize(st);
    return rc;
}

static int ensure_volume(struct importer *im, struct err *err)
{
    static const char sql[] =
        "INSERT OR IGNORE INTO scan_volumes (id, office, year, volume, created_at) "
        "VALUES (?, ?, ?, ?, ?)";

    return db_run(im->db, sql, "import volume", err, "ssiss", im->vol.id, im->vol.office,
                  im->vol.year, im->vol.volume, im->at);
}

struct page_row {
    char id[96];
    char preview[65];
    char meta_hash[65];
    char *meta; /* canonical JSON */
    char flags[128];
    bool separator;
    bool has_volume;
    char volume_id[64];
    int64_t page_number;
};

static int insert_page(struct importer *im, const char *file_hash, size_t index,
                       const char *file_name, const struct page_row *p, uint64_t seq,
                       struct err *err)
{
    static const char sql[] =
        "INSERT INTO scan_pages (id, file_hash, page_index, file_name, volume_id, page_number, "
        "is_separator, quality_flags, preview_hash, meta, meta_hash, import_id, event_seq, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    const long long page_number = p->page_number;

    /* A separator sheet has a volume but no page number. */
    return db_run(im->db, sql, "import page", err, "ssIsspisssssIs", p->id, file_hash,
                  (long long)index, file_name, p->has_volume ? p->volume_id : NULL,
                  p->has_volume && !p->separator ? &page_number : NULL, (int)p->separator,
                  strcmp(p->flags, "ok") == 0 ? "" : p->flags, p->preview, p->meta,
                  p->meta_hash, im->sum->import_id, (long long)seq, im->at);
}

/* The page's description: the analysis plus where it comes from and
 * where it belongs. Canonical JSON, hashed into the event. */
static int page_meta(const struct scan_file_result *r, size_t p, const char *file_hash,
                     const struct page_row *row, const struct volume_state *vol, char **out,
                     char hash[65], struct err *err)
{
    json_t *j = scan_page_report_json(&r->reports[p]);
    struct buf b = BUF_INIT(16u << 20);
    int bad;

    if (j == NULL)
        return err_setk(err, ERR_INTERNAL, "import: out of memory");
    bad = json_object_set_new(j, "file_hash", json_string(file_hash)) != 0;
    bad |= json_object_set_new(j, "file_size", json_integer((json_int_t)r->len)) != 0;
    bad |= json_object_set_new(j, "file_name", json_string(base_name(r->path))) != 0;
    bad |= json_object_set_new(j, "format", json_string(scan_format_name(r->pages.format))) != 0;
    bad |= json_object_set_new(j, "page_index", json_integer((json_int_t)p + 1)) != 0;
    bad |= json_object_set_new(j, "pages_in_file", json_integer((json_int_t)r->pages.count)) != 0;
    bad |= json_object_set_new(j, "preview_hash", json_string(row->preview)) != 0;
    bad |= json_object_set_new(j, "volume",
                               row->has_volume ? json_pack("{s:s, s:i, s:s}", "office", vol->office,
                                                           "year", vol->year, "volume", vol->volume)
                                               : json_null()) != 0;
    bad |= json_object_set_new(j, "page_number",
                               row->has_volume && !row->separator
                                   ? json_integer((json_int_t)row->page_number) : json_null()) != 0;
    if (bad || json_canonical(j, &b, err) != 0) {
        json_decref(j);
        buf_release(&b);
        return bad ? err_setk(err, ERR_INTERNAL, "import: out of memory") : -1;
    }
    json_decref(j);
    sha256_hex(b.data, b.len, hash);
    *out = (char *)buf_detach(&b, NULL);
    return *out ? 0 : err_setk(err, ERR_INTERNAL, "import: out of memory");
}

/* One new file: everything in one transaction. */
static int import_file(struct importer *im, const struct scan_file_result *r, const char *file_hash,
                       struct err *err)
{
    struct page_row *rows = NULL;
    json_t *objects = NULL, *data = NULL;
    struct volume_state saved = im->vol;
    char blob_hash[65];
    uint64_t seq = 0;
    size_t separators = 0, flagged = 0;
    int rc = -1, in_tx = 0;

    if (r->len > im->sink->max_blob) {
        err_set(err, "%s: %zu bytes, over the evidence limit of %zu", r->path, r->len,
                im->sink->max_blob);
        return -1;
    }
    rows = calloc(r->pages.count, sizeof *rows);
    objects = json_array();
    if (rows == NULL || objects == NULL) {
        err_setk(err, ERR_INTERNAL, "import: out of memory");
        goto out;
    }
    if (db_tx_begin(im->db, err) != 0)
        goto out;
    in_tx = 1;
    now_iso(im->at);
    if (im->sink->put_blob(im->sink->ctx, r->data, r->len, media_type(r->pages.format), blob_hash,
                           err) != 0)
        goto out;
    if (strcmp(blob_hash, file_hash) != 0) {
        err_set(err, "%s: the evidence store hashed it to %s, not %s", r->path, blob_hash, file_hash);
        goto out;
    }
    if (json_array_append_new(objects, json_pack("{s:s, s:s, s:s}", "kind", "evidence", "id",
                                                 file_hash, "hash", file_hash)) != 0) {
        err_setk(err, ERR_INTERNAL, "import: out of memory");
        goto out;
    }
    for (size_t p = 0; p < r->pages.count; p++) {
        const struct scan_page_report *rep = &r->reports[p];
        struct page_row *row = &rows[p];
        struct scan_image preview = SCAN_IMAGE_INIT;
        unsigned char *png = NULL;
        size_t png_len = 0;
        int prc;

        if (snprintf(row->id, sizeof row->id, "%s-PG-%.24s-%zu", im->opts->office, file_hash,
                     p + 1) >= (int)sizeof row->id) {
            err_set(err, "import: office code '%.20s...' too long for a page id", im->opts->office);
            goto out;
        }
        row->separator = rep->is_separator;
        if (rep->is_separator) {
            volume_set(&im->vol, &rep->separator);
            if (ensure_volume(im, err) != 0 ||
                volume_last_page(im, im->vol.id, &im->vol.page_no, err) != 0)
                goto out;
            separators++;
        } else if (im->vol.id[0]) {
            row->page_number = ++im->vol.page_no;
        }
        row->has_volume = im->vol.id[0] != 0;
        (void)snprintf(row->volume_id, sizeof row->volume_id, "%s", im->vol.id); /* 64 in 64 */
        scan_quality_flags_str(rep->has_quality ? rep->quality.flags : 0, row->flags, sizeof row->flags);
        if (!rep->is_separator && rep->has_quality && rep->quality.flags)
            flagged++;
        prc = scan_image_fit(&r->pages.page[p], im->opts->preview_side ? im->opts->preview_side
                                                                       : PREVIEW_SIDE,
                             &preview, err);
        if (prc == 0)
            prc = scan_image_encode_png(&preview, &png, &png_len, err);
        if (prc == 0)
            prc = im->sink->put_blob(im->sink->ctx, png, png_len, "image/png", row->preview, err);
        free(png);
        scan_image_release(&preview);
        if (prc != 0)
            goto out;
        if (page_meta(r, p, file_hash, row, &im->vol, &row->meta, row->meta_hash, err) != 0)
            goto out;
        if (json_array_append_new(objects, json_pack("{s:s, s:s, s:s}", "kind", "scan_page", "id",
                                                     row->id, "hash", row->meta_hash)) != 0) {
            err_setk(err, ERR_INTERNAL, "import: out of memory");
            goto out;
        }
    }
    data = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "import", im->sum->import_id, "file_name",
                     base_name(r->path), "format", scan_format_name(r->pages.format), "pages",
                     (json_int_t)r->pages.count, "size", (json_int_t)r->len, "at", im->at);
    if (data == NULL) {
        err_setk(err, ERR_INTERNAL, "import: out of memory");
        goto out;
    }
    if (im->sink->append_event(im->sink->ctx, "scan.import", objects, data, &seq, err) != 0)
        goto out;
    for (size_t p = 0; p < r->pages.count; p++) {
        if (insert_page(im, file_hash, p + 1, base_name(r->path), &rows[p], seq, err) != 0)
            goto out;
        if (rows[p].has_volume && !rows[p].separator)
            if (json_object_set_new(im->volumes, rows[p].volume_id, json_true()) != 0) {
                err_setk(err, ERR_INTERNAL, "import: out of memory");
                goto out;
            }
    }
    im->sum->files_imported++;
    im->sum->pages_added += r->pages.count;
    im->sum->separators += separators;
    im->sum->flagged_pages += flagged;
    if (update_counts(im, err) != 0)
        goto undo_counts;
    if (db_tx_commit(im->db, err) != 0)
        goto undo_counts;
    in_tx = 0;
    rc = 0;
    goto out;
undo_counts:
    im->sum->files_imported--;
    im->sum->pages_added -= r->pages.count;
    im->sum->separators -= separators;
    im->sum->flagged_pages -= flagged;
out:
    if (in_tx)
        db_tx_rollback(im->db);
    if (rc != 0)
        im->vol = saved;
    for (size_t p = 0; rows && p < r->pages.count; p++)
        free(rows[p].meta);
    free(rows);
    json_decref(objects);
    json_decref(data);
    return rc;
}

static void report_progress(struct importer *im)
{
    struct scan_import_progress pr;

    if (im->opts->progress == NULL)
        return;
    pr.files_total = im->sum->files_total;
    pr.files_done = im->sum->files_imported + im->sum->files_skipped + im->sum->files_failed;
    pr.files_failed = im->sum->files_failed;
    pr.pages_total = im->pages_total;
    pr.pages_done = im->sum->pages_added + im->sum->pages_skipped + im->pages_failed;
    if (pr.pages_done > pr.pages_total)
        pr.pages_total = pr.pages_done;
    pr.pages_added = im->sum->pages_added;
    pr.pages_skipped = im->sum->pages_skipped;
    pr.seconds = elapsed(&im->t0);
    im->opts->progress(im->opts->progress_ctx, &pr);
}

static int on_file(void *ctx, const struct scan_file_result *r)
{
    struct importer *im = ctx;
    struct err err = ERR_INIT;
    char file_hash[65];
    int n;

    if (r->failed) {
        add_error(im, r->path, err_msg(&r->err));
        im->sum->files_failed++;
        im->pages_failed += im->file_pages[r->index];
        goto done;
    }
    sha256_hex(r->data, r->len, file_hash);
    n = replay_existing(im, file_hash, &err);
    if (n < 0) {
        im->fatal = 1;
        im->fatal_err = err;
        return 1;
    }
    if (n == 0 && r->pages.count == 0) {
        add_error(im, r->path, "file changed while being imported");
        im->sum->files_failed++;
        goto done;
    }
    if (n > 0) {
        /* Already imported (this run or an earlier one): nothing added. */
        im->sum->files_skipped++;
        im->sum->pages_skipped += (size_t)n;
        goto done;
    }
    if (import_file(im, r, file_hash, &err) != 0) {
        add_error(im, r->path, err_msg(&err));
        im->sum->files_failed++;
        im->pages_failed += r->pages.count;
    }
done:
    if (update_counts(im, &err) != 0) {
        im->fatal = 1;
        im->fatal_err = err;
        return 1;
    }
    report_progress(im);
    return 0;
}

static int start_import(struct importer *im, struct err *err)
{
    static const char sql[] =
        "INSERT INTO scan_imports (id, office, actor, started_at, files_total) VALUES (?, ?, ?, ?, ?)";
    unsigned char rnd[8];
    char hex[17], now[TIME_ISO8601_LEN + 1];

    secret_random(rnd, sizeof rnd);
    hex_encode(rnd, sizeof rnd, hex);
    if (snprintf(im->sum->import_id, sizeof im->sum->import_id, "%s-IMP-%s", im->opts->office,
                 hex) >= (int)sizeof im->sum->import_id)
        return err_set(err, "import: office code '%.20s...' too long for an import id",
                       im->opts->office);
    now_iso(now);
    return db_run(im->db, sql, "import start", err, "ssssI", im->sum->import_id,
                  im->opts->office, im->opts->actor, now, (long long)im->sum->files_total);
}

static int finish_import(struct importer *im, struct err *err)
{
    static const char sql[] = "UPDATE scan_imports SET finished_at = ? WHERE id = ?";
    char now[TIME_ISO8601_LEN + 1];

    now_iso(now);
    return db_run(im->db, sql, "import finish", err, "ss", now, im->sum->import_id);
}

int scan_import(struct db *db, const struct scan_import_sink *sink,
                const struct scan_import_opts *opts, char *const *files, size_t nfiles,
                struct scan_import_summary *summary, struct err *err)
{
    struct importer im;
    struct scan_batch_opts bo;
    bool *known = NULL;
    int rc = -1;

    memset(summary, 0, sizeof *summary);
    memset(&im, 0, sizeof im);
    summary->files_total = nfiles;
    summary->errors = json_array();
    im.volumes = json_object();
    if (summary->errors == NULL || im.volumes == NULL) {
        err_setk(err, ERR_INTERNAL, "import: out of memory");
        goto out;
    }
    im.db = db;
    im.sink = sink;
    im.opts = opts;
    im.sum = summary;
    clock_gettime(CLOCK_MONOTONIC, &im.t0);
    if (start_import(&im, err) != 0)
        goto out;
    /* Files imported before are only hashed, not decoded again: a resumed
     * import of thousands of pages skips through them quickly. */
    known = calloc(nfiles ? nfiles : 1, sizeof *known);
    im.file_pages = calloc(nfiles ? nfiles : 1, sizeof *im.file_pages);
    if (known == NULL || im.file_pages == NULL) {
        err_setk(err, ERR_INTERNAL, "import: out of memory");
        goto out;
    }
    for (size_t i = 0; i < nfiles; i++) {
        unsigned char *data = NULL;
        size_t len = 0;
        char hash[65];
        struct err ferr = ERR_INIT;
        int present;
        im.file_pages[i] = 1;
        if (scan_read_file(files[i], (size_t)512 << 20, &data, &len, &ferr) != 0) {
            im.pages_total++;
            continue; /* reported when the batch reaches it */
        }
        sha256_hex(data, len, hash);
        im.file_pages[i] = scan_count_pages(data, len);
        im.pages_total += im.file_pages[i];
        free(data);
        present = file_known(&im, hash, err);
        if (present < 0)
            goto out;
        known[i] = present > 0;
    }
    memset(&bo, 0, sizeof bo);
    bo.read_only = known;
    bo.what = SCAN_ANALYZE_ALL;
    bo.jobs = opts->jobs;
    bo.memory_budget = opts->memory_budget;
    bo.keep_pages = true;
    bo.keep_data = true;
    if (scan_batch_run((const char *const *)files, nfiles, &bo, on_file, &im, err) != 0) {
        if (im.fatal)
            *err = im.fatal_err;
        goto out;
    }
    if (finish_import(&im, err) != 0)
        goto out;
    rc = 0;
out:
    summary->volumes = im.volumes ? json_object_size(im.volumes) : 0;
    summary->seconds = elapsed(&im.t0);
    json_decref(im.volumes);
    free(im.file_pages);
    free(known);
    return rc;
}

int scan_memory_budget(const struct conf *conf, size_t *bytes, struct err *err)
{
    unsigned long mb;

    if (conf_get_uint(conf, "scan_memory_mb", SCAN_BATCH_MEMORY_DEFAULT >> 20, 64, 65536, &mb,
                      err) != 0)
        return -1;
    *bytes = (size_t)mb << 20;
    return 0;
}

void scan_import_summary_release(struct scan_import_summary *s)
{
    if (s == NULL)
        return;
    json_decref(s->errors);
    s->errors = NULL;
}

json_t *scan_import_summary_json(const struct scan_import_summary *s)
{
    json_t *errs = s->errors ? json_incref(s->errors) : json_array();
    json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
                          "import", s->import_id,
                          "files", (json_int_t)s->files_total,
                          "files_imported", (json_int_t)s->files_imported,
                          "files_skipped", (json_int_t)s->files_skipped,
                          "files_failed", (json_int_t)s->files_failed,
                          "pages_added", (json_int_t)s->pages_added,
                          "pages_skipped", (json_int_t)s->pages_skipped,
                          "separators", (json_int_t)s->separators,
                          "flagged_pages", (json_int_t)s->flagged_pages,
                          "volumes", (json_int_t)s->volumes,
                          "milliseconds", (json_int_t)(s->seconds * 1000),
                          "errors", errs);
    return j;
}
