/* civreg tests: a deterministic corpus of degraded register-page scans.
 *
 * Page i carries one barcode (QR, Code 128, Code 39, EAN-13, I2/5 in turn;
 * every 20th page none), text-like rows, and one of ten degradations in
 * turn; the file format follows the degradation. Pages of the bilevel
 * degradation go five to a multi-page CCITT G4 TIFF. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tiffio.h>

#include "pagegen.h"

#define PW 827  /* the top half of an A4 page at 100 dpi */
#define PH 585

static const char *const degradations[10] = {
    "clean", "noise", "rotate-3+noise/jpeg75", "rotate-90/pnm", "blur-1",
    "blur-3/jpeg60", "faded", "dark/progressive-jpeg50", "jpeg10", "g4-tiff",
};

static void payload_for(enum pg_symbology s, size_t i, uint64_t *st, char *out, size_t size)
{
    char digits[16];
    for (int k = 0; k < 15; k++)
        digits[k] = (char)('0' + pg_rand(st) % 10);
    digits[15] = 0;
    switch (s) {
    case PG_QR:
        snprintf(out, size, "civreg:page:HQ:1987:%zu:%.6s", i, digits);
        break;
    case PG_CODE128:
        if (i % 3 == 0)
            snprintf(out, size, "CRVS1|HQ|19%.2s|%zu", digits, i);
        else
            snprintf(out, size, "P-%zu-%.8s", i, digits);
        break;
    case PG_CODE39:
        snprintf(out, size, "VOL-%.6s", digits);
        break;
    case PG_EAN13: {
        char twelve[13];
        memcpy(twelve, digits, 12);
        twelve[0] = (char)('1' + pg_rand(st) % 9); /* not UPC-A */
        twelve[12] = 0;
        pg_ean13_complete(twelve, out);
        break;
    }
    case PG_I25:
        snprintf(out, size, "%.10s", digits);
        break;
    default:
        out[0] = 0;
    }
}

static int render(size_t i, uint64_t *st, struct pg_expect *e, struct scan_image *img)
{
    int d = (int)((i / 5) % 10), module;
    enum pg_symbology s = i % 20 == 19 ? PG_NONE : (enum pg_symbology)(i % 5);

    e->sym = s;
    e->degradation = degradations[d];
    payload_for(s, i, st, e->payload, sizeof e->payload);
    if (pg_page(img, PW, PH, 245) != 0)
        return -1;
    img->dpi_x = img->dpi_y = 100;
    pg_text(img, 60, 260, PW - 120, PH - 300, 14, pg_rand(st));
    /* Narrow modules on every other block of 50 pages: some become unreadable. */
    module = s == PG_QR ? ((i / 50) % 2 ? 3 : 4) : ((i / 50) % 2 ? 1 : 2);
    if (s != PG_NONE &&
        pg_barcode(img, s, 120 + (long)(pg_rand(st) % 60), 80, module, 90, e->payload) < 0)
        return -1;
    switch (d) {
    case 1: pg_noise(img, 40, pg_rand(st)); break;
    case 2:
        if (pg_rotate(img, (pg_rand(st) % 2 ? 3.0 : -3.0)) != 0)
            return -1;
        pg_noise(img, 10, pg_rand(st));
        break;
    case 3:
        if (scan_image_orient(img, i % 2 ? 6 : 3, NULL) != 0)
            return -1;
        break;
    case 4:
        if (pg_blur(img, 1) != 0)
            return -1;
        break;
    case 5:
        if (pg_blur(img, 3) != 0)
            return -1;
        break;
    case 6: pg_levels(img, 150, 250); break;
    case 7: pg_levels(img, 0, 150); pg_noise(img, 8, pg_rand(st)); break;
    default: break;
    }
    return 0;
}

int pg_corpus(const char *dir, size_t n, uint64_t seed, struct pg_expect *expect, size_t *nfiles)
{
    uint64_t st = seed | 1;
    struct scan_image g4[5];
    size_t ng4 = 0, files = 0;
    char path[4096];
    int rc = 0;

    memset(g4, 0, sizeof g4);
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct scan_image img = SCAN_IMAGE_INIT;
        struct pg_expect *e = &expect[i];
        int d = (int)((i / 5) % 10);
        const char *ext = d == 2 || d == 5 || d == 7 || d == 8 ? "jpg" : d == 3 ? "pgm"
                          : d == 9 ? "tif" : "png";

        memset(e, 0, sizeof *e);
        if (render(i, &st, e, &img) != 0) {
            rc = -1;
            scan_image_release(&img);
            break;
        }
        if (d == 9) {
            /* Collected into one multi-page G4 TIFF per block of five. */
            size_t first = i - ng4;
            snprintf(e->file, sizeof e->file, "page-%04zu.tif", first);
            e->page = (unsigned)ng4 + 1;
            g4[ng4++] = img;
            if (ng4 == 5 || i + 1 == n) {
                snprintf(path, sizeof path, "%s/%s", dir, e->file);
                rc = pg_write_tiff_g4(path, g4, ng4);
                for (size_t k = 0; k < ng4; k++)
                    scan_image_release(&g4[k]);
                ng4 = 0;
                files++;
            }
            continue;
        }
        snprintf(e->file, sizeof e->file, "page-%04zu.%s", i, ext);
        e->page = 1;
        snprintf(path, sizeof path, "%s/%s", dir, e->file);
        switch (d) {
        case 2: rc = pg_write_jpeg(path, &img, 75, 0); break;
        case 3: rc = pg_write_pnm(path, &img); break;
        case 5: rc = pg_write_jpeg(path, &img, 60, 0); break;
        case 7: rc = pg_write_jpeg(path, &img, 50, 1); break;
        case 8: rc = pg_write_jpeg(path, &img, 10, 0); break;
        default: rc = pg_write_png(path, &img); break;
        }
        files++;
        scan_image_release(&img);
    }
    for (size_t k = 0; k < ng4; k++)
        scan_image_release(&g4[k]);
    if (nfiles)
        *nfiles = files;
    return rc;
}
