/* civreg scan: barcodes, page quality and separator sheets of scanned
 * register pages. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/json.h"
#include "scanner/batch.h"

static int scan_decode_cmd(int argc, char **argv);
static int scan_check_cmd(int argc, char **argv);
static int scan_separator_cmd(int argc, char **argv);

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
    { NULL, NULL, NULL, NULL },
};

int cmd_scan(int argc, char **argv)
{
    return cli_dispatch("scan", scan_commands, argc, argv);
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

static int emit_decode(void *arg, const struct scan_file_result *r)
{
    struct emit_ctx *c = arg;

    if (r->failed) {
        fprintf(stderr, "civreg %s: %s\n", c->cmd, err_msg(&r->err));
        c->failed = 1;
        return 0;
    }
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

    if (r->failed) {
        fprintf(stderr, "civreg %s: %s\n", c->cmd, err_msg(&r->err));
        c->failed = 1;
        return 0;
    }
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

/* Options shared by decode and check. */
static int parse_files_opts(const char *cmd, int argc, char **argv, int *mode,
                            struct scan_batch_opts *o, int is_decode)
{
    static const struct option longopts[] = {
        { "raw", no_argument, NULL, 'r' },
        { "json", no_argument, NULL, 'j' },
        { "jobs", required_argument, NULL, 'J' },
        { "no-retry", no_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char *end;
    long v;
    int c;

    *mode = MODE_TEXT;
    optind = 0;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
        case 'n':
            if (!is_decode)
                return cli_usage_error(cmd, "--raw and --no-retry are only for scan decode"), -2;
            if (c == 'r')
                *mode = MODE_RAW;
            else
                o->no_retry = true;
            break;
        case 'j': *mode = MODE_JSON; break;
        case 'J':
            v = strtol(optarg, &end, 10);
            if (end == optarg || *end || v < 1 || v > 8)
                return cli_usage_error(cmd, "--jobs must be 1 to 8"), -2;
            o->jobs = (unsigned)v;
            break;
        case 'h': return -1;
        default: return cli_usage_error(cmd, "invalid option"), -2;
        }
    }
    if (optind >= argc)
        return cli_usage_error(cmd, "no FILE given"), -2;
    return 0;
}

static int run_files(const char *cmd, const char *name, int argc, char **argv, unsigned what,
                     scan_batch_fn fn)
{
    struct scan_batch_opts o = { .what = what };
    struct emit_ctx c = { .cmd = cmd };
    struct err err = ERR_INIT;
    int rc;

    if ((rc = parse_files_opts(cmd, argc, argv, &c.mode, &o, what & SCAN_ANALYZE_BARCODES)) != 0)
        return rc == -1 ? cli_help(cli_find(scan_commands, name)) : EXIT_USAGE;
    if (scan_batch_run((const char *const *)argv + optind, (size_t)(argc - optind), &o, fn, &c,
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
    static const struct option longopts[] = {
        { "office", required_argument, NULL, 'o' },
        { "year", required_argument, NULL, 'y' },
        { "volume", required_argument, NULL, 'v' },
        { "out", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *office = NULL, *year = NULL, *volume = NULL, *out = NULL;
    struct scan_separator sep;
    struct err err = ERR_INIT;
    char payload[64], *end;
    long y;
    int c;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': office = optarg; break;
        case 'y': year = optarg; break;
        case 'v': volume = optarg; break;
        case 'f': out = optarg; break;
        case 'h': return cli_help(cli_find(scan_commands, "separator"));
        default: return cli_usage_error("scan separator", "invalid option");
        }
    }
    if (optind != argc)
        return cli_usage_error("scan separator", "unexpected argument '%s'", argv[optind]);
    if (!office || !year || !volume || !out)
        return cli_usage_error("scan separator", "--office, --year, --volume and --out are required");
    memset(&sep, 0, sizeof sep);
    if (strlen(office) >= sizeof sep.office)
        return cli_usage_error("scan separator", "office code '%s' is longer than 8 characters", office);
    if (strlen(volume) >= sizeof sep.volume)
        return cli_usage_error("scan separator", "volume '%s' is longer than 12 characters", volume);
    y = strtol(year, &end, 10);
    if (end == year || *end != '\0' || strlen(year) != 4)
        return cli_usage_error("scan separator", "year '%s' is not four digits", year);
    memcpy(sep.office, office, strlen(office) + 1);
    memcpy(sep.volume, volume, strlen(volume) + 1);
    sep.year = (int)y;
    if (scan_separator_format(&sep, payload, sizeof payload, &err) != 0)
        return cli_usage_error("scan separator", "%s", err_msg(&err));
    if (scan_separator_pdf(&sep, out, &err) != 0)
        return cli_fail("scan separator", &err);
    printf("%s: separator %s\n", out, payload);
    return EXIT_OK;
}
