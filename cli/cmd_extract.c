/* civreg extract: certified birth extracts. The registry builds and records
 * the extract; the seal is signed by the PKI's barcode signer (issuance/),
 * joined here through registry_seal_fn, as cli/pki_session.c joins PKI
 * actions to the registry's log. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_registry.h"
#include "issuance/print/print.h"
#include "issuance/pki/pki.h"
#include "issuance/icao/icao.h"
#include "registry/registry.h"

static cli_run_fn extract_issue;

static const struct cli_command extract_commands[] = {
    { "issue", extract_issue, "issue a certified birth extract as PDF",
      "usage: civreg extract issue REF --out FILE.pdf [--payload-out F] [--font TTF]\n"
      "           [--data DIR] --user U [--password-file F]\n"
      "\n"
      "Issues a certified extract of the registered birth record REF (record id,\n"
      "registration number or UIN); U must be a clerk or registrar. Writes an A4 PDF\n"
      "with the record's data, the office, registration number, date of issue and a\n"
      "QR code carrying an ICAO VDS-NC seal signed by the office's barcode signer\n"
      "(`civreg pki issue-barcode-signer`, ecdsa-p256). The extract is a signed\n"
      "extract.issue event. --payload-out writes the seal text as well. Prints\n"
      "{id, registration_number, uin, pdf, seal_sha256, event, payload}.\n"
      "Verify with `civreg seal verify`. See docs/extracts.md.\n" },
    { NULL, NULL, NULL, NULL },
};

struct extract_opts {
    struct cli_common_opts common;
    const char *out, *payload_out, *font;
};

static const struct cli_opt extract_options[] = {
    CLI_OPT_STR("out", struct extract_opts, out, NULL, "FILE.pdf"),
    CLI_OPT_STR("payload-out", struct extract_opts, payload_out, NULL, "FILE"),
    CLI_OPT_STR("font", struct extract_opts, font, NULL, "FILE.ttf"),
    CLI_OPT_END,
};

static const struct cli_family extract_family = { "extract", extract_commands, extract_options,
                                                  "*", "*" };

int cmd_extract(int argc, char **argv)
{
    return cli_family_dispatch(&extract_family, argc, argv);
}

/* vds_sign_fn over the PKI's current barcode signer. */
static int barcode_sign(void *ctx, const void *msg, size_t len, unsigned char sig[VDS_SIG_BYTES],
                        struct buf *cert_der, struct err *err)
{
    return pki_barcode_sign(ctx, msg, len, time(NULL), sig, cert_der, err);
}

/* registry_seal_fn: VDS-NC seal of DATA by the barcode signer. */
static int seal_with_pki(void *ctx, const json_t *data, json_t **seal, struct err *err)
{
    return vds_seal(data, barcode_sign, ctx, seal, err);
}

static int extract_issue(int argc, char **argv)
{
    struct extract_opts o = { 0 };
    struct cli_session s = { 0 };
    struct err err = ERR_INIT;
    struct pki *p = NULL;
    struct buf pdf = BUF_INIT(EXTRACT_PDF_MAX);
    json_t *x = NULL, *summary = NULL;
    const char *out, *payload_out, *font;
    int rc;

    if ((rc = cli_parse(&extract_family, "issue", &o, argc, argv, 1, 1,
                        "exactly one record reference")) != CLI_GO)
        return rc;
    out = o.out;
    payload_out = o.payload_out;
    font = o.font;
    if (out == NULL)
        return cli_usage_error("extract issue", "--out FILE.pdf is required");
    /* The user is refused by the policy before the signing key is opened. */
    if ((rc = cli_sign_in("extract issue", &o.common, &s)) != 0)
        return rc;
    if (pki_open(o.common.data, false, &p, &err) != 0) {
        rc = cli_fail("extract issue", &err);
        goto out;
    }
    /* The PDF is rendered before anything is written, so a font or layout
     * failure leaves no file; the extract is recorded once sealed. */
    if (registry_extract_issue(s.db, s.actor, o.common.args[0], seal_with_pki, p, &x, &err) != 0 ||
        extract_pdf_render(x, font, &pdf, &err) != 0 ||
        cli_write_file(out, pdf.data, pdf.len, &err) != 0) {
        rc = cli_fail("extract issue", &err);
        goto out;
    }
    if (payload_out) {
        const char *pl = json_string_value(json_object_get(x, "payload"));
        if (cli_write_file(payload_out, pl, strlen(pl), &err) != 0) {
            rc = cli_fail("extract issue", &err);
            goto out;
        }
    }
    summary = json_pack("{s:O, s:O, s:O, s:s, s:O, s:O, s:O, s:O}", "id",
                        json_object_get(x, "id"), "registration_number",
                        json_object_get(x, "registration_number"), "uin",
                        json_object_get(x, "uin"), "pdf", out, "seal_sha256",
                        json_object_get(x, "seal_sha256"), "event", json_object_get(x, "event"),
                        "deceased", json_object_get(x, "deceased"), "payload",
                        json_object_get(x, "payload"));
    if (summary == NULL) {
        err_set(&err, "out of memory");
        rc = cli_fail("extract issue", &err);
        goto out;
    }
    rc = cli_print_json(summary);
out:
    buf_release(&pdf);
    json_decref(x);
    json_decref(summary);
    pki_close(p);
    cli_session_close(&s);
    return rc;
}
