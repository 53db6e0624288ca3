/* civreg seal verify: check a visible digital seal from a scan or photo of
 * an extract (the scanner finds the QR code) or from its text, against CSCA
 * certificates. Needs no database when --csca is given. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_registry.h"
#include "issuance/pki/pki.h"
#include "issuance/icao/icao.h"

static int seal_verify(int argc, char **argv);

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

int cmd_seal(int argc, char **argv)
{
    return cli_dispatch("seal", seal_commands, argc, argv);
}

static int seal_verify(int argc, char **argv)
{
    enum { O_CSCA = 256, O_PAYLOAD, O_STDIN };
    static const struct option longopts[] = {
        { "data", required_argument, NULL, 'd' },
        { "csca", required_argument, NULL, O_CSCA },
        { "payload", required_argument, NULL, O_PAYLOAD },
        { "stdin", no_argument, NULL, O_STDIN },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *data = NULL, *csca_path = NULL, *payload = NULL;
    bool from_stdin = false;
    struct buf csca = BUF_INIT((size_t)4 << 20);
    size_t plen = 0;
    struct err err = ERR_INIT;
    struct pki *p = NULL;
    json_t *result = NULL;
    int c, r, rc = EXIT_FAIL;

    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case O_CSCA: csca_path = optarg; break;
        case O_PAYLOAD: payload = optarg; break;
        case O_STDIN: from_stdin = true; break;
        case 'h': return cli_help(&seal_commands[0]);
        default: return cli_usage_error("seal verify", "invalid option");
        }
    }
    if ((payload != NULL) + from_stdin + (optind < argc) != 1 || optind + 1 < argc)
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
    } else if (from_stdin) {
        if (cli_stdin_rest(&payload, &plen, &err) != 0)
            goto fail;
        while (plen > 0 && (payload[plen - 1] == '\n' || payload[plen - 1] == '\r'))
            plen--;
    }
    if (payload) {
        if (vds_verify(payload, plen, csca.data, csca.len, 0, &result, &err) != 0)
            goto fail;
    } else {
        const char *path = argv[optind];
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
