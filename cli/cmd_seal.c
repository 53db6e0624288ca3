/* civreg seal verify: check a visible digital seal from a scan or photo of
 * an extract (the scanner finds the QR code) or from its text, against CSCA
 * certificates. Needs no database when --csca is given. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_registry.h"
#include "issuance/pki.h"
#include "issuance/vds.h"
#include "scanner/barcode.h"
#include "scanner/image.h"

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

/* The QR codes of every page of PATH, in order. */
static int qr_payloads(const char *path, struct scan_symbols *syms, size_t *nqr,
                       struct err *err)
{
    struct scan_pages pages = SCAN_PAGES_INIT;
    struct scan_reader *rd = NULL;
    struct scan_symbols one = SCAN_SYMBOLS_INIT;
    int rc = -1;

    *nqr = 0;
    if (scan_decode_file(path, NULL, &pages, err) != 0)
        return -1;
    if (scan_reader_new(&rd, err) != 0)
        goto out;
    for (size_t i = 0; i < pages.count; i++) {
        if (scan_read_barcodes(rd, &pages.page[i], &one, err) != 0)
            goto out;
        for (size_t k = 0; k < one.count; k++) {
            if (strcmp(one.sym[k].type, "QR-Code") != 0)
                continue;
            if (*nqr < syms->count) {
                /* keep the first QR codes only: SYMS has room for COUNT */
                syms->sym[*nqr] = one.sym[k];
                one.sym[k].data = NULL;
                (*nqr)++;
            }
        }
        scan_symbols_release(&one);
    }
    rc = 0;
out:
    scan_symbols_release(&one);
    scan_reader_free(rd);
    scan_pages_release(&pages);
    return rc;
}

#define MAX_QR 8

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
    struct scan_symbol slots[MAX_QR];
    struct scan_symbols syms = { slots, MAX_QR };
    size_t nqr = 0, plen = 0;
    struct err err = ERR_INIT, first = ERR_INIT;
    struct pki *p = NULL;
    json_t *result = NULL;
    int c, rc = EXIT_FAIL;

    memset(slots, 0, sizeof slots);
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
        if (qr_payloads(path, &syms, &nqr, &err) != 0)
            goto fail;
        if (nqr == 0) {
            err_set(&err, "seal: no QR code found in %s (scan at 200 dpi or more, the whole "
                          "code in view)", path);
            goto fail;
        }
        /* The first QR code whose seal holds wins; otherwise report the
         * first one's failure. */
        for (size_t i = 0; i < nqr && result == NULL; i++) {
            struct err e = ERR_INIT;
            if (vds_verify((const char *)slots[i].data, slots[i].len, csca.data, csca.len, 0,
                           &result, &e) != 0 && i == 0)
                first = e;
        }
        if (result == NULL) {
            err = first;
            goto fail;
        }
    }
    rc = cli_print_json(result);
    goto out;
fail:
    rc = cli_fail("seal verify", &err);
out:
    for (size_t i = 0; i < nqr; i++)
        free(slots[i].data);
    json_decref(result);
    buf_release(&csca);
    pki_close(p);
    return rc;
}
