/* Visible digital seals from pictures: find the QR codes of a scan or photo
 * with the scanner module (ZBar, with its retries on cleaned-up copies) and
 * verify the seal they carry. Shared by `civreg seal verify` and the public
 * verification page. */
#include <stdlib.h>
#include <string.h>

#include "scanner/barcode.h"
#include "scanner/image.h"
#include "vds.h"

#define MAX_QR 8 /* QR codes tried per picture */

int vds_verify_image(const unsigned char *img, size_t len, const char *name,
                     const struct scan_limits *limits, const unsigned char *csca,
                     size_t csca_len, time_t now, json_t **result, struct err *err)
{
    struct scan_pages pages = SCAN_PAGES_INIT;
    struct scan_reader *rd = NULL;
    struct scan_symbols syms = SCAN_SYMBOLS_INIT;
    struct err first = ERR_INIT;
    size_t nqr = 0;
    int rc = -1;

    *result = NULL;
    rc = scan_decode(img, len, name, limits, &pages, err);
    if (rc != 0)
        return rc == -1 ? VDS_E_PICTURE : rc;
    rc = -1;
    if (scan_reader_new(&rd, err) != 0)
        goto out;
    if (limits != NULL)
        scan_reader_set_deadline(rd, limits->deadline_ms);
    /* The first QR code whose seal holds wins; otherwise the first one's
     * failure is reported. */
    for (size_t i = 0; i < pages.count && *result == NULL && nqr < MAX_QR; i++) {
        int st = scan_read_barcodes(rd, &pages.page[i], &syms, err);
        if (st != 0) {
            rc = st;
            goto out;
        }
        for (size_t k = 0; k < syms.count && *result == NULL && nqr < MAX_QR; k++) {
            struct err e = ERR_INIT;
            if (strcmp(syms.sym[k].type, "QR-Code") != 0)
                continue;
            if (vds_verify((const char *)syms.sym[k].data, syms.sym[k].len, csca, csca_len, now,
                           result, &e) != 0 && nqr == 0)
                first = e;
            nqr++;
        }
        scan_symbols_release(&syms);
    }
    if (*result != NULL) {
        rc = 0;
    } else if (nqr == 0) {
        err_set(err, "seal: no QR code found in %s (scan at 200 dpi or more, the whole code in "
                     "view)", name);
    } else {
        *err = first;
    }
out:
    scan_symbols_release(&syms);
    scan_reader_free(rd);
    scan_pages_release(&pages);
    return rc;
}
