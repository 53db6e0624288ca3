/* civreg mrz generate | parse | transliterate: the MRZ engine of
 * issuance/mrz.h on standard input and output. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/json.h"
#include "core/translit.h"
#include "issuance/icao/icao.h"

#define MRZ_STDIN_MAX (64 * 1024)

static cli_run_fn mrz_generate_cmd, mrz_parse_cmd, mrz_transliterate_cmd;

static const struct cli_command mrz_commands[] = {
    { "generate", mrz_generate_cmd, "print the MRZ of a JSON record read on stdin",
      "usage: civreg mrz generate < record.json\n"
      "\n"
      "Reads one JSON object: format (TD1, TD2, TD3, MRV-A, MRV-B), document_code,\n"
      "issuing_state, primary_identifier, secondary_identifier, document_number,\n"
      "nationality, date_of_birth and date_of_expiry (YYYY-MM-DD), sex (F, M, X\n"
      "or <), optional_data, and optional_data_2 (TD1). Names may be in any\n"
      "script Doc 9303 Part 3 transliterates. Prints the MRZ lines, one per\n"
      "line; warnings (transliterated, truncated, replaced characters) go to\n"
      "stderr. Exit 0, or 1 with a message naming the invalid field.\n" },
    { "parse", mrz_parse_cmd, "check MRZ lines read on stdin and print them as JSON",
      "usage: civreg mrz parse < mrz.txt\n"
      "\n"
      "Reads MRZ lines (line breaks and surrounding spaces tolerated) and prints\n"
      "{\"format\",\"valid\",\"fields\",\"checks\",\"errors\"}: fields with dates as\n"
      "YYYY-MM-DD and check digits as <name>_check, every check digit expected\n"
      "and found, every problem with its field, line and column. Exit 0 when\n"
      "valid, 1 when invalid, 2 when the input is not an MRZ at all.\n" },
    { "transliterate", mrz_transliterate_cmd, "print the MRZ form of a UTF-8 name read on stdin",
      "usage: civreg mrz transliterate < name.txt\n"
      "\n"
      "Prints the MRZ form (A-Z, '<' between components) of the UTF-8 name on\n"
      "stdin (Doc 9303 Part 3 section 6); warnings go to stderr. Exit 0, or 1\n"
      "when the input is not UTF-8 or has no letter.\n" },
    { NULL, NULL, NULL, NULL },
};

/* mrz subcommands take no options and no data directory. */
static const struct cli_family mrz_family = { "mrz", mrz_commands, NULL, NULL, NULL };

int cmd_mrz(int argc, char **argv)
{
    return cli_family_dispatch(&mrz_family, argc, argv);
}

/* Only --help; returns 1 when the caller should return *RC. */
static int no_options(const char *name, int argc, char **argv, int *rc)
{
    struct cli_common_opts o = { 0 };

    *rc = cli_parse(&mrz_family, name, &o, argc, argv, 0, 0, NULL);
    return *rc != CLI_GO;
}

/* The input of subcommand NAME: only --help, then stdin into IN (a failed
 * read reported as "civreg mrz NAME: ..." and IN released). Returns 1 when
 * the caller should return *RC. */
static int mrz_input(const char *name, int argc, char **argv, struct buf *in, int *rc)
{
    struct err err = ERR_INIT;
    char cmd[32];

    if (no_options(name, argc, argv, rc))
        return 1;
    *rc = EXIT_FAIL;
    if (cli_read_stream(stdin, "stdin", in, &err) != 0) {
        /* cannot truncate: NAME is a subcommand's name */
        (void)snprintf(cmd, sizeof cmd, "mrz %s", name);
        cli_fail(cmd, &err);
        buf_release(in);
        return 1;
    }
    return 0;
}

static void print_warnings(const char *name, const struct buf *w)
{
    const char *s = buf_str(w);
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        fprintf(stderr, "civreg mrz %s: warning: %.*s\n", name, (int)n, s);
        s += n + (e ? 1 : 0);
    }
}

static int mrz_generate_cmd(int argc, char **argv)
{
    struct buf in = BUF_INIT(MRZ_STDIN_MAX), lines = BUF_INIT(256), warnings = BUF_INIT(64 * 1024);
    struct err err = ERR_INIT;
    json_t *doc = NULL;
    int rc;

    if (no_options("generate", argc, argv, &rc))
        return rc;
    rc = EXIT_FAIL;
    if (cli_read_stream(stdin, "stdin", &in, &err) != 0 || json_parse(buf_str(&in), in.len, &doc, &err) != 0) {
        err_prefix(&err, "input");
        cli_fail("mrz generate", &err);
        goto out;
    }
    if (mrz_generate_json(doc, &lines, &warnings, &err) != 0) {
        print_warnings("generate", &warnings);
        cli_fail("mrz generate", &err);
        goto out;
    }
    print_warnings("generate", &warnings);
    printf("%s\n", buf_str(&lines));
    rc = EXIT_OK;
out:
    json_decref(doc);
    buf_release(&in);
    buf_release(&lines);
    buf_release(&warnings);
    return rc;
}

static int mrz_parse_cmd(int argc, char **argv)
{
    struct buf in = BUF_INIT(MRZ_STDIN_MAX), out = BUF_INIT(1 << 20);
    struct err err = ERR_INIT;
    struct mrz_result res;
    json_t *j = NULL;
    int rc;

    if (mrz_input("parse", argc, argv, &in, &rc))
        return rc;
    if (mrz_parse(buf_str(&in), in.len, NULL, &res, &err) != 0) {
        fprintf(stderr, "civreg mrz parse: %s\n", err_msg(&err));
        rc = EXIT_USAGE; /* 2: not an MRZ at all */
        goto out;
    }
    if (mrz_result_json(&res, &j, &err) != 0 || json_dump_compact(j, &out, &err) != 0) {
        cli_fail("mrz parse", &err);
        goto out;
    }
    printf("%s\n", buf_str(&out));
    rc = res.valid ? EXIT_OK : EXIT_FAIL;
out:
    json_decref(j);
    buf_release(&in);
    buf_release(&out);
    return rc;
}

static int mrz_transliterate_cmd(int argc, char **argv)
{
    struct buf in = BUF_INIT(MRZ_STDIN_MAX), out = BUF_INIT(MRZ_STDIN_MAX * 4), warnings = BUF_INIT(64 * 1024);
    struct err err = ERR_INIT;
    int rc;

    if (mrz_input("transliterate", argc, argv, &in, &rc))
        return rc;
    /* One name: a final line break is not part of it. */
    while (in.len > 0 && (in.data[in.len - 1] == '\n' || in.data[in.len - 1] == '\r'))
        in.len--;
    if (translit_mrz(buf_str(&in), in.len, &out, &warnings, &err) != 0) {
        cli_fail("mrz transliterate", &err);
        goto out;
    }
    print_warnings("transliterate", &warnings);
    if (out.len == 0) {
        err_set(&err, "the name has no letter that the MRZ can carry");
        cli_fail("mrz transliterate", &err);
        goto out;
    }
    printf("%s\n", buf_str(&out));
    rc = EXIT_OK;
out:
    buf_release(&in);
    buf_release(&out);
    buf_release(&warnings);
    return rc;
}
