/* civreg seal verify: check a visible digital seal from a scan or photo of
 * an extract (the scanner finds the QR code) or from its text, against CSCA
 * certificates. Needs no database when --csca is given. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_registry.h"
#include "issuance/pki/pki.h"
#include "issuance/icao/icao.h"

static cli_run_fn seal_verify;

static const struct cli_command seal_commands[] = {
    { "verify", seal_verify, "verify a visible digital seal",
      "usage: civreg seal verify FILE [--csca F]\n"
      "       civreg seal verify --payload TEXT [--csca F]\n"
      "       civreg seal verify --stdin [--csca F]\n"
      "\n"
      "FILE is a PNG, JPEG, TIFF or PNM scan or photo of a certified extract: the\n"
      "QR code is found with the scanner and its ICAO VDS-NC seal checked. With\n"
      "--payload or --stdin the seal text itself is checked. Verification: the\n"
      "structure, the ES256 signature over the RFC 8785 form of \"data\", and the\n"
      "signer certificate's chain to a CSCA in F (PEM, one or more certificates,\n"
      "or DER; `civreg pki export csca`). No database is used; without --csca the\n"
      "CSCA certificates of the data directory (--data DIR) are trusted.\n"
      "Prints {valid, data, signer} and exits 0 when the seal holds; otherwise\n"
      "prints what failed and exits 1.\n" },
    { NULL, NULL, NULL, NULL },
};

struct seal_opts {
    struct cli_common_opts common; /* --data */
    const char *csca, *payload;
    bool from_stdin;
};

static const struct cli_opt seal_options[] = {
    CLI_OPT_STR("csca", struct seal_opts, csca, NULL, "FILE"),
    CLI_OPT_STR("payload", struct seal_opts, payload, NULL, "TEXT"),
    CLI_OPT_FLAG("stdin", struct seal_opts, from_stdin, NULL),
    CLI_OPT_END,
};

static const struct cli_family seal_family = { "seal", seal_commands, seal_options, "*", NULL };

int cmd_seal(int argc, char **argv)
{
    return cli_family_dispatch(&seal_family, argc, argv);
}

static int seal_verify(int argc, char **argv)
{
    struct seal_opts o = { 0 };
    const char *data, *csca_path, *payload;
    struct buf csca = BUF_INIT((size_t)4 << 20);
    size_t plen = 0;
    struct err err = ERR_INIT;
    struct pki *p = NULL;
    json_t *result = NULL;
    int r, rc = EXIT_FAIL;

    if ((rc = cli_parse(&seal_family, "verify", &o, argc, argv, 0, 1, NULL)) != CLI_GO)
        return rc;
    data = o.common.data;
    csca_path = o.csca;
    payload = o.payload;
    if ((payload != NULL) + o.from_stdin + (o.common.nargs > 0) != 1)
        return cli_usage_error("seal verify", "give one FILE, --payload TEXT or --stdin");

    /* The trust anchors. */
    if (csca_path) {
        if (cli_read_file(csca_path, (size_t)4 << 20, &csca, &err) != 0)
            goto fail;
    } else if (pki_open(data, false, &p, &err) != 0 ||
               pki_export(p, PKI_EXPORT_CSCA, false, time(NULL), &csca, &err) != 0) {
        err_prefix(&err, "no --csca given and the data directory's CSCA is unavailable");
        goto fail;
    }

    if (payload) {
        plen = strlen(payload);
    } else if (o.from_stdin) {
        if (cli_stdin_rest(&payload, &plen, &err) != 0)
            goto fail;
        while (plen > 0 && (payload[plen - 1] == '\n' || payload[plen - 1] == '\r'))
            plen--;
    }
    if (payload) {
        if (vds_verify(payload, plen, csca.data, csca.len, 0, &result, &err) != 0)
            goto fail;
    } else {
        const char *path = o.common.args[0];
        struct buf img = BUF_INIT((size_t)512 << 20);
        if (cli_read_file(path, (size_t)512 << 20, &img, &err) != 0)
            goto fail;
        r = vds_verify_image(img.data, img.len, path, NULL, csca.data, csca.len, 0, &result,
                             &err);
        buf_release(&img);
        if (r != 0)
            goto fail;
    }
    rc = cli_print_json(result);
    goto out;
fail:
    rc = cli_fail("seal verify", &err);
out:
    json_decref(result);
    buf_release(&csca);
    pki_close(p);
    return rc;
}
