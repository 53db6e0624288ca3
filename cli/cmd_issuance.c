/* civreg document ...: the passport office's commands over issuance/
 * (data pages, document numbers and status). Each subcommand parses its
 * options and calls one issuance function. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/json.h"
#include "issuance/datapage.h"
#include "issuance/photo.h"

#define STDIN_MAX (1 << 20)

/* ---- helpers ----------------------------------------------------------- */

static int read_stream(FILE *f, const char *name, struct buf *out, struct err *err)
{
    unsigned char chunk[8192];
    size_t n;

    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(out, chunk, n) != 0)
            return err_set(err, "%s: more than %zu bytes", name, out->max);
    if (ferror(f))
        return err_set(err, "%s: read error", name);
    return 0;
}

static int read_file(const char *path, size_t max, struct buf *out, struct err *err)
{
    FILE *f = fopen(path, "rb");
    int rc;

    *out = (struct buf)BUF_INIT(max);
    if (f == NULL)
        return err_set(err, "%s: %s", path, strerror(errno));
    rc = read_stream(f, path, out, err);
    fclose(f);
    return rc;
}

/* Write LEN bytes to PATH ("-" = stdout). */
static int write_file(const char *path, const void *p, size_t len, struct err *err)
{
    FILE *f;

    if (strcmp(path, "-") == 0) {
        if (fwrite(p, 1, len, stdout) != len || fflush(stdout) != 0)
            return err_set(err, "stdout: write error");
        return 0;
    }
    f = fopen(path, "wb");
    if (f == NULL)
        return err_set(err, "%s: %s", path, strerror(errno));
    if (fwrite(p, 1, len, f) != len) {
        fclose(f);
        return err_set(err, "%s: write error", path);
    }
    if (fclose(f) != 0)
        return err_set(err, "%s: %s", path, strerror(errno));
    return 0;
}

/* ---- civreg document --------------------------------------------------- */

static int document_datapage_cmd(int argc, char **argv);

static const struct cli_command document_commands[] = {
    { "datapage", document_datapage_cmd, "render a data page PDF from a JSON record on stdin",
      "usage: civreg document datapage --photo FILE.jpg [--signature FILE] --out FILE.pdf\n"
      "                                < record.json\n"
      "\n"
      "Renders a TD3 passport data page (125 x 88 mm) or a TD1 card (85.6 x 54 mm,\n"
      "front and back) with libharu from one JSON record: the members of `civreg\n"
      "mrz generate` plus document_name, issuing_state_name, nationality_name,\n"
      "place_of_birth, date_of_issue, authority, personal_number and\n"
      "specimen_text. The MRZ is generated from the same record, printed in\n"
      "OCR-B at Doc 9303's pitch and position, and also written to stdout. The\n"
      "photo must be a JPEG; the signature a JPEG or PNG. --out - writes the PDF\n"
      "to stdout instead (the MRZ then goes to stderr).\n" },
    { NULL, NULL, NULL, NULL },
};

int cmd_document(int argc, char **argv)
{
    return cli_dispatch("document", document_commands, argc, argv);
}

static int document_datapage_cmd(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "photo", required_argument, NULL, 'p' },
        { "signature", required_argument, NULL, 's' },
        { "out", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct buf in = BUF_INIT(STDIN_MAX), photo = BUF_INIT(0), sig = BUF_INIT(0);
    struct buf pdf = BUF_INIT(64 << 20), mrz = BUF_INIT(256);
    struct err err = ERR_INIT;
    const char *photo_path = NULL, *sig_path = NULL, *out_path = NULL;
    json_t *rec = NULL;
    int c, rc = EXIT_FAIL;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': photo_path = optarg; break;
        case 's': sig_path = optarg; break;
        case 'o': out_path = optarg; break;
        case 'h': return cli_help(cli_find(document_commands, "datapage"));
        default: return cli_usage_error("document datapage", "invalid option");
        }
    }
    if (optind != argc)
        return cli_usage_error("document datapage", "unexpected argument '%s'", argv[optind]);
    if (photo_path == NULL || out_path == NULL)
        return cli_usage_error("document datapage", "--photo and --out are required");

    if (read_stream(stdin, "stdin", &in, &err) != 0 ||
        json_parse(buf_str(&in), in.len, &rec, &err) != 0) {
        err_prefix(&err, "input");
        goto fail;
    }
    if (read_file(photo_path, PHOTO_MAX_BYTES, &photo, &err) != 0)
        goto fail;
    if (sig_path && read_file(sig_path, SIGNATURE_MAX_BYTES, &sig, &err) != 0)
        goto fail;
    if (datapage_render_json(rec, photo.data, photo.len, sig.data, sig.len, &pdf, &mrz,
                             &err) != 0)
        goto fail;
    if (write_file(out_path, pdf.data, pdf.len, &err) != 0)
        goto fail;
    fprintf(strcmp(out_path, "-") == 0 ? stderr : stdout, "%s\n", buf_str(&mrz));
    rc = EXIT_OK;
    goto out;
fail:
    cli_fail("document datapage", &err);
out:
    json_decref(rec);
    buf_release(&in);
    buf_release(&photo);
    buf_release(&sig);
    buf_release(&pdf);
    buf_release(&mrz);
    return rc;
}
