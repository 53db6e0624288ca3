/* civreg scan: barcodes, page quality and separator sheets of scanned
 * register pages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "core/json.h"
#include "cli_registry.h"
#include "db/datadir.h"
#include "issuance/print/print.h"
#include "registry/registry.h"
#include "scanner/batch.h"
#include "scanner/import.h"
#include "scanner/volumes.h"

static cli_run_fn scan_decode_cmd, scan_check_cmd, scan_separator_cmd, scan_import_cmd,
    scan_read_cmd;

static const struct cli_command scan_commands[] = {
    { "decode", scan_decode_cmd, "print the barcodes of image files",
      "usage: civreg scan decode [--raw | --json] [--jobs N] [--no-retry] FILE...\n"
      "\n"
      "Reads every page of each FILE (PNG, JPEG, TIFF including multi-page, PNM)\n"
      "and prints each barcode found as TYPE:payload, one per line, like zbarimg\n"
      "(types as ZBar names them: QR-Code, CODE-128, CODE-39, EAN-13, I2/5 ...).\n"
      "When a page yields nothing it is tried again binarized, reduced and\n"
      "enlarged. --raw prints only the payloads; --json prints one JSON object\n"
      "per page with positions, orientation and the pass that found each code.\n"
      "--no-retry skips the cleaned-up retries; --jobs N decodes on N threads\n"
      "(default: one per CPU, at most 8); output keeps the order of the files.\n"
      "A file that cannot be read is reported on stderr and the others go on;\n"
      "exit 1 when any file failed, 0 otherwise (even with no barcodes).\n" },
    { "check", scan_check_cmd, "report page quality of image files",
      "usage: civreg scan check [--json] [--jobs N] FILE...\n"
      "\n"
      "Decodes every page of each FILE and reports its size, resolution (from\n"
      "the file, else estimated for an A4 page), and quality flags: blank,\n"
      "too-dark, too-light (faded), blurry (variance of the Laplacian),\n"
      "skewed (projection-profile estimate) and low-resolution (< 200 dpi).\n"
      "Flagged pages are reported, never dropped. Exit 1 when a file cannot be\n"
      "read, 0 otherwise.\n" },
    { "separator", scan_separator_cmd, "print a volume separator sheet (PDF)",
      "usage: civreg scan separator --office CODE --year YYYY --volume V --out FILE.pdf\n"
      "\n"
      "Writes an A4 PDF separator sheet to place before the first page of a\n"
      "register volume. Its Code 128 barcode carries CRVS1|CODE|YYYY|V, which\n"
      "the import reads to start a new volume. CODE: 2 to 8 of A-Z 0-9; YYYY:\n"
      "1800-2999; V: 1 to 12 of A-Z 0-9 -.\n" },
    { "import", scan_import_cmd, "store scanned pages as evidence, volume by volume",
      "usage: civreg scan import [--data DIR] --user U [--password-file F] [--jobs N]\n"
      "                          [--json] PATH...\n"
      "\n"
      "Imports every image under PATH (files, and folders walked recursively) in\n"
      "natural sort order (page-2 before page-10). Each file's bytes and a\n"
      "downscaled PNG preview of each page go to the evidence store; each page\n"
      "gets its metadata (hash, size, format, dimensions, DPI, barcodes, quality\n"
      "flags) and its place: a separator sheet (CRVS1|office|year|volume, see\n"
      "`civreg scan separator`) starts a volume and the pages after it are\n"
      "numbered from 1. Each file is one transaction and one signed scan.import\n"
      "event. Files already imported add nothing, so a killed import resumes by\n"
      "running it again. A file that cannot be read is reported and the import\n"
      "goes on. Shows a progress bar on a terminal; ends with a summary (--json:\n"
      "a JSON summary on stdout). Exit 1 when any file failed. Needs the clerk\n"
      "role.\n" },
    { "volumes", scan_read_cmd, "list imported register volumes",
      "usage: civreg scan volumes [--data DIR] [--json]\n"
      "\n"
      "One line per volume started by a separator sheet: its id\n"
      "(office|year|volume), pages and pages with quality flags.\n" },
    { "pages", scan_read_cmd, "list the pages of a volume",
      "usage: civreg scan pages --volume ID [--data DIR] [--json]\n"
      "\n"
      "The pages of volume ID (office|year|volume, see `civreg scan volumes`) in\n"
      "page order: page number, page id, file, quality flags.\n" },
    { "page", scan_read_cmd, "show one imported page (JSON)",
      "usage: civreg scan page ID [--data DIR]\n"
      "\n"
      "Prints the page's record as JSON: file and preview hashes, its signed\n"
      "description (barcodes, quality, DPI ...), and, ready for a birth record\n"
      "keyed from it, \"register\" {office, year, volume, page} and \"evidence\".\n" },
    { NULL, NULL, NULL, NULL },
};

struct scan_opts {
    struct cli_common_opts common;
    bool raw, json, no_retry;
    long jobs, year;
    const char *office, *volume, *out, *year_text;
};

static const struct cli_opt scan_options[] = {
    CLI_OPT_FLAG("raw", struct scan_opts, raw, "decode"),
    CLI_OPT_FLAG("no-retry", struct scan_opts, no_retry, "decode"),
    CLI_OPT_FLAG("json", struct scan_opts, json, "decode check import volumes pages page"),
    CLI_OPT_INT("jobs", struct scan_opts, jobs, 1, 8, "decode check import"),
    CLI_OPT_STR("office", struct scan_opts, office, "separator", "CODE"),
    CLI_OPT_STR("year", struct scan_opts, year_text, "separator", "YYYY"),
    CLI_OPT_STR("volume", struct scan_opts, volume, "separator pages", "V"),
    CLI_OPT_STR("out", struct scan_opts, out, "separator", "FILE.pdf"),
    CLI_OPT_END,
};

static const struct cli_family scan_family = { "scan", scan_commands, scan_options,
                                               "import volumes pages page", "import" };

int cmd_scan(int argc, char **argv)
{
    return cli_family_dispatch(&scan_family, argc, argv);
}

static int print_json(json_t *j)
{
    struct buf b = BUF_INIT(64u << 20);
    struct err err = ERR_INIT;
    int rc = -1;

    if (j != NULL && json_dump_compact(j, &b, &err) == 0) {
        printf("%s\n", buf_str(&b));
        rc = 0;
    }
    buf_release(&b);
    json_decref(j);
    return rc;
}

enum { MODE_TEXT, MODE_RAW, MODE_JSON };

struct emit_ctx {
    const char *cmd;
    int mode;
    int failed;
    size_t pages, symbols;
};

static json_t *page_json(const struct scan_file_result *r, size_t p)
{
    json_t *j = scan_page_report_json(&r->reports[p]);
    if (j == NULL)
        return NULL;
    if (json_object_set_new(j, "file", json_string(r->path)) != 0 ||
        json_object_set_new(j, "page", json_integer((json_int_t)p + 1)) != 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* A file the scanner could not read: reported, and the run exits 1 at the
 * end. Returns whether R failed. */
static bool file_failed(struct emit_ctx *c, const struct scan_file_result *r)
{
    if (!r->failed)
        return false;
    fprintf(stderr, "civreg %s: %s\n", c->cmd, err_msg(&r->err));
    c->failed = 1;
    return true;
}

static int emit_decode(void *arg, const struct scan_file_result *r)
{
    struct emit_ctx *c = arg;

    if (file_failed(c, r))
        return 0;
    for (size_t p = 0; p < r->nreports; p++) {
        const struct scan_page_report *rep = &r->reports[p];
        c->pages++;
        c->symbols += rep->symbols.count;
        if (c->mode == MODE_JSON) {
            if (print_json(page_json(r, p)) != 0)
                fprintf(stderr, "civreg %s: out of memory\n", c->cmd);
            continue;
        }
        for (size_t i = 0; i < rep->symbols.count; i++) {
            const struct scan_symbol *s = &rep->symbols.sym[i];
            if (c->mode == MODE_TEXT)
                printf("%s:", s->type);
            fwrite(s->data, 1, s->len, stdout);
            putchar('\n');
        }
    }
    fflush(stdout);
    return 0;
}

static int emit_check(void *arg, const struct scan_file_result *r)
{
    struct emit_ctx *c = arg;
    char flags[128];

    if (file_failed(c, r))
        return 0;
    for (size_t p = 0; p < r->nreports; p++) {
        const struct scan_page_report *rep = &r->reports[p];
        const struct scan_quality *q = &rep->quality;
        c->pages++;
        if (c->mode == MODE_JSON) {
            if (print_json(page_json(r, p)) != 0)
                fprintf(stderr, "civreg %s: out of memory\n", c->cmd);
            continue;
        }
        printf("%s page %zu: %ux%u %.0f dpi (%s) paper %d ink %d sharpness %.3f skew %.2f: %s\n",
               r->path, p + 1, rep->width, rep->height, q->dpi,
               q->dpi_source == SCAN_DPI_METADATA ? "metadata" : "estimated", q->paper, q->ink,
               q->sharpness, q->skew_degrees, scan_quality_flags_str(q->flags, flags, sizeof flags));
    }
    fflush(stdout);
    return 0;
}

static int run_files(const char *cmd, const char *name, int argc, char **argv, unsigned what,
                     scan_batch_fn fn)
{
    struct scan_opts so = { 0 };
    struct scan_batch_opts o = { .what = what };
    struct emit_ctx c = { .cmd = cmd };
    struct err err = ERR_INIT;
    int rc;

    if ((rc = cli_parse(&scan_family, name, &so, argc, argv, 1, -1, "a FILE")) != CLI_GO)
        return rc;
    c.mode = so.raw ? MODE_RAW : so.json ? MODE_JSON : MODE_TEXT;
    o.no_retry = so.no_retry;
    o.jobs = (unsigned)so.jobs;
    if (scan_batch_run((const char *const *)so.common.args, (size_t)so.common.nargs, &o, fn, &c,
                       &err) != 0)
        return cli_fail(cmd, &err);
    return c.failed ? EXIT_FAIL : EXIT_OK;
}

static int scan_decode_cmd(int argc, char **argv)
{
    return run_files("scan decode", "decode", argc, argv, SCAN_ANALYZE_BARCODES, emit_decode);
}

static int scan_check_cmd(int argc, char **argv)
{
    return run_files("scan check", "check", argc, argv, SCAN_ANALYZE_QUALITY, emit_check);
}

static int scan_separator_cmd(int argc, char **argv)
{
    struct scan_opts so = { 0 };
    const char *office, *year, *volume, *out;
    struct scan_separator sep;
    struct err err = ERR_INIT;
    char payload[64];
    long y;
    int rc;

    if ((rc = cli_parse(&scan_family, "separator", &so, argc, argv, 0, 0, NULL)) != CLI_GO)
        return rc;
    office = so.office;
    year = so.year_text;
    volume = so.volume;
    out = so.out;
    if (!office || !year || !volume || !out)
        return cli_usage_error("scan separator", "--office, --year, --volume and --out are required");
    memset(&sep, 0, sizeof sep);
    if (strlen(office) >= sizeof sep.office)
        return cli_usage_error("scan separator", "office code '%s' is longer than 8 characters", office);
    if (strlen(volume) >= sizeof sep.volume)
        return cli_usage_error("scan separator", "volume '%s' is longer than 12 characters", volume);
    if (strlen(year) != 4 || cli_parse_int(year, 0, 9999, &y) != 0)
        return cli_usage_error("scan separator", "year '%s' is not four digits", year);
    memcpy(sep.office, office, strlen(office) + 1);
    memcpy(sep.volume, volume, strlen(volume) + 1);
    sep.year = (int)y;
    if (scan_separator_format(&sep, payload, sizeof payload, &err) != 0)
        return cli_usage_error("scan separator", "%s", err_msg(&err));
    if (print_separator_pdf(&sep, out, &err) != 0)
        return cli_fail("scan separator", &err);
    printf("%s: separator %s\n", out, payload);
    return EXIT_OK;
}

/* ---- import: the scanner's sink wired to the registry ---- */

struct import_ctx {
    struct cli_session *s;
    bool bar;
};

static int sink_put(void *ctx, const void *p, size_t len, const char *media_type, char hash[65],
                    struct err *err)
{
    struct import_ctx *c = ctx;
    return registry_blob_put(c->s->db, c->s->dd->blobs_dir, c->s->actor, p, len, media_type,
                             hash, err);
}

static int sink_event(void *ctx, const char *type, const json_t *objects, const json_t *data,
                      uint64_t *seq, struct err *err)
{
    struct import_ctx *c = ctx;
    return registry_event_append(c->s->db, c->s->actor, type, objects, data, seq, err);
}

static void draw_progress(void *ctx, const struct scan_import_progress *p)
{
    struct import_ctx *c = ctx;
    size_t width = 30, fill;
    double rate = p->seconds > 0 ? p->pages_done / p->seconds : 0;
    double left = rate > 0 ? (double)(p->pages_total - p->pages_done) / rate : 0;
    char bar[64];

    if (!c->bar)
        return;
    fill = p->pages_total ? width * p->pages_done / p->pages_total : width;
    for (size_t i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    fprintf(stderr, "\r[%s] %zu/%zu pages, %.1f pages/s, %d:%02d left (%zu/%zu files) ", bar,
            p->pages_done, p->pages_total, rate, (int)left / 60, (int)left % 60, p->files_done,
            p->files_total);
    fflush(stderr);
}

static int scan_import_cmd(int argc, char **argv)
{
    struct scan_opts so = { 0 };
    const char *office;
    struct scan_import_summary sum;
    struct scan_import_opts o;
    struct scan_import_sink sink;
    struct import_ctx ictx;
    struct cli_session s;
    struct err err = ERR_INIT;
    char **files = NULL;
    size_t nfiles = 0;
    bool json;
    unsigned jobs;
    int rc;

    if ((rc = cli_parse(&scan_family, "import", &so, argc, argv, 1, -1, "a PATH")) != CLI_GO)
        return rc;
    json = so.json;
    jobs = (unsigned)so.jobs;
    if (so.common.user == NULL)
        return cli_usage_error("scan import", "--user is required (imports are signed)");
    if (scan_collect_files(so.common.args, (size_t)so.common.nargs, &files, &nfiles, &err) != 0)
        return cli_fail("scan import", &err);
    if ((rc = cli_sign_in("scan import", &so.common, &s)) != 0) {
        scan_free_files(files, nfiles);
        return rc;
    }
    office = registry_actor_office(s.actor);
    ictx.s = &s;
    ictx.bar = !json && isatty(STDERR_FILENO);
    sink.ctx = &ictx;
    sink.max_blob = REGISTRY_BLOB_MAX;
    sink.put_blob = sink_put;
    sink.append_event = sink_event;
    memset(&o, 0, sizeof o);
    o.office = office;
    o.actor = registry_actor_username(s.actor);
    o.jobs = jobs;
    if (scan_memory_budget(s.dd->conf, &o.memory_budget, &err) != 0) {
        rc = cli_fail("scan import", &err);
        goto out;
    }
    o.progress = draw_progress;
    o.progress_ctx = &ictx;
    rc = scan_import(s.db, &sink, &o, files, nfiles, &sum, &err);
    if (ictx.bar)
        fputc('\n', stderr);
    if (rc != 0) {
        rc = cli_fail("scan import", &err);
    } else {
        size_t i;
        json_t *e;
        json_array_foreach(sum.errors, i, e)
            fprintf(stderr, "civreg scan import: %s\n",
                    json_string_value(json_object_get(e, "error")));
        if (json) {
            json_t *j = scan_import_summary_json(&sum);
            if (j == NULL || print_json(j) != 0)
                fprintf(stderr, "civreg scan import: out of memory\n");
        } else {
            printf("import %s: %zu files: %zu imported (%zu pages, %zu separators, %zu flagged "
                   "pages, %zu volumes), %zu already imported (%zu pages), %zu failed, in %.1f s\n",
                   sum.import_id, sum.files_total, sum.files_imported, sum.pages_added,
                   sum.separators, sum.flagged_pages, sum.volumes, sum.files_skipped,
                   sum.pages_skipped, sum.files_failed, sum.seconds);
        }
        rc = sum.files_failed ? EXIT_FAIL : EXIT_OK;
    }
    scan_import_summary_release(&sum);
out:
    cli_session_close(&s);
    scan_free_files(files, nfiles);
    return rc;
}

/* ---- volumes, pages, page: read back what was imported ---- */

/* volumes, pages and page differ only by data: the subcommand, its
 * arguments, the scanner call and the text form of its answer. */
static const char *const read_subs[] = { "volumes", "pages", "page" };

struct read_opts {
    struct scan_opts so;
    int what; /* the index in READ_SUBS */
};

static void print_volume(const json_t *v)
{
    printf("%s\t%lld pages\t%lld flagged\n", json_string_value(json_object_get(v, "id")),
           (long long)json_integer_value(json_object_get(v, "pages")),
           (long long)json_integer_value(json_object_get(v, "flagged_pages")));
}

static void print_page(const json_t *p)
{
    json_t *flags = json_object_get(p, "quality_flags"), *f;
    size_t k;

    if (json_is_true(json_object_get(p, "separator")))
        printf("separator");
    else
        printf("page %lld", (long long)json_integer_value(json_object_get(p, "page_number")));
    printf("\t%s\t%s", json_string_value(json_object_get(p, "id")),
           json_string_value(json_object_get(p, "file_name")));
    json_array_foreach(flags, k, f)
        printf("%s%s", k ? "," : "\t", json_string_value(f));
    putchar('\n');
}

static int do_read(struct cli_session *s, const void *opts, json_t **out, struct err *err)
{
    const struct read_opts *r = opts;
    json_t *list = NULL, *v;
    size_t i;

    if (r->what == 2) /* one page: always JSON */
        return scan_page_show(s->db, r->so.common.args[0], out, err);
    if ((r->what == 0 ? scan_volume_list(s->db, &list, err)
                      : scan_volume_pages(s->db, r->so.volume, &list, err)) != 0) {
        json_decref(list);
        return -1;
    }
    if (r->so.json) {
        *out = list;
        return 0;
    }
    json_array_foreach(list, i, v)
        (r->what == 0 ? print_volume : print_page)(v);
    json_decref(list);
    return 0;
}

static int scan_read_cmd(int argc, char **argv)
{
    struct read_opts r = { .what = CLI_SUB_INDEX(read_subs, argv[0]) };
    char cmd[32];
    int rc;

    if (r.what < 0)
        return cli_usage_error("scan", "unknown command '%s'", argv[0]);
    /* cannot truncate: READ_SUBS are short constants */
    (void)snprintf(cmd, sizeof cmd, "scan %s", read_subs[r.what]);
    rc = cli_parse(&scan_family, read_subs[r.what], &r.so, argc, argv, r.what == 2,
                   r.what == 2, "exactly one page ID");
    if (rc != CLI_GO)
        return rc;
    if (r.what == 1 && r.so.volume == NULL)
        return cli_usage_error(cmd, "--volume is required");
    return cli_run_session(cmd, &r.so.common, false, do_read, &r);
}
