/* civreg scanner: barcodes with ZBar, with retries on cleaned-up images. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zbar.h>

#include "barcode.h"

struct scan_reader {
    zbar_image_scanner_t *scanner;
    int retry;
    int64_t deadline_ms; /* 0: none */
};

/* Variable-length symbologies without a mandatory check character: a
 * damaged symbol can decode as a shorter valid one (ZBar's own minimum for
 * I2/5 is 6 digits, and a degraded "85274774" reads as a phantom "274774"
 * too). Code 128, Code 93 and QR carry check characters; EAN/UPC have fixed
 * lengths. */
static const struct {
    zbar_symbol_type_t type;
    int min_len;
} min_lengths[] = {
    { ZBAR_I25, 8 },
    { ZBAR_CODABAR, 6 },
    { ZBAR_CODE39, 4 },
};

size_t scan_min_length(const char *type)
{
    for (size_t i = 0; i < sizeof min_lengths / sizeof min_lengths[0]; i++)
        if (strcmp(type, zbar_get_symbol_name(min_lengths[i].type)) == 0)
            return (size_t)min_lengths[i].min_len;
    return 0;
}

/* A's box touches B's box grown by half B's larger side plus 8 pixels: ZBar
 * places a read's outline points where scan lines decoded it, and a
 * partial or overlong read of a damaged symbol is often a single point at
 * one end of it (a 1 x 1 box). */
static int same_place(const struct scan_symbol *a, const struct scan_symbol *b)
{
    long m = 8 + (b->width > b->height ? b->width : b->height) / 2;

    return (long)a->x <= (long)b->x + b->width + m && (long)a->x + a->width >= (long)b->x - m &&
           (long)a->y <= (long)b->y + b->height + m && (long)a->y + a->height >= (long)b->y - m;
}

static int has_substring(const unsigned char *h, size_t hlen, const unsigned char *n,
                         size_t nlen)
{
    for (size_t i = 0; nlen <= hlen && i <= hlen - nlen; i++)
        if (memcmp(h + i, n, nlen) == 0)
            return 1;
    return 0;
}

/* Reads I and J disagree about one symbol: same symbology, same place, one
 * payload inside the other (a partial decode, or one run on into the
 * neighbouring print). */
static int conflict(const struct scan_symbols *syms, size_t i, size_t j)
{
    const struct scan_symbol *a = &syms->sym[i], *b = &syms->sym[j];
    const struct scan_symbol *shorter = a->len < b->len ? a : b;
    const struct scan_symbol *longer = a->len < b->len ? b : a;

    if (i == j || a->len == b->len || strcmp(a->type, b->type) != 0)
        return 0;
    return has_substring(longer->data, longer->len, shorter->data, shorter->len) &&
           (same_place(shorter, longer) || same_place(longer, shorter));
}

/* Read I loses a conflict: another read of the same symbol is seen by more
 * scan lines (ZBar's quality), or by as many (then neither can be trusted). */
static int loses_conflict(const struct scan_symbols *syms, size_t i)
{
    for (size_t j = 0; j < syms->count; j++)
        if (conflict(syms, i, j) && syms->sym[j].quality >= syms->sym[i].quality)
            return 1;
    return 0;
}

size_t scan_symbols_drop_doubtful(struct scan_symbols *syms)
{
    size_t kept = 0, n = syms->count;
    unsigned char *drop = calloc(n ? n : 1, 1);

    if (drop == NULL)
        return 0; /* out of memory: leave the list as it is */
    /* Decide on the whole list first: dropping one read must not change
     * what another is compared with. */
    for (size_t i = 0; i < n; i++)
        drop[i] = syms->sym[i].len < scan_min_length(syms->sym[i].type) ||
                  loses_conflict(syms, i);
    for (size_t i = 0; i < n; i++) {
        if (drop[i])
            free(syms->sym[i].data);
        else
            syms->sym[kept++] = syms->sym[i];
    }
    free(drop);
    syms->count = kept;
    return n - kept;
}

int scan_reader_new(struct scan_reader **out, struct err *err)
{
    struct scan_reader *rd = calloc(1, sizeof *rd);

    *out = NULL;
    if (rd == NULL)
        return err_set(err, "barcode: out of memory");
    rd->scanner = zbar_image_scanner_create();
    if (rd->scanner == NULL) {
        free(rd);
        return err_set(err, "barcode: cannot create a ZBar scanner");
    }
    /* zbarimg's configuration: every symbology ZBar enables by default, and
     * the outline points kept so positions can be reported. */
    zbar_image_scanner_set_config(rd->scanner, ZBAR_NONE, ZBAR_CFG_POSITION, 1);
    zbar_image_scanner_set_config(rd->scanner, ZBAR_DATABAR, ZBAR_CFG_ENABLE, 0);
    zbar_image_scanner_set_config(rd->scanner, ZBAR_DATABAR_EXP, ZBAR_CFG_ENABLE, 0);
    for (size_t i = 0; i < sizeof min_lengths / sizeof min_lengths[0]; i++)
        zbar_image_scanner_set_config(rd->scanner, min_lengths[i].type, ZBAR_CFG_MIN_LEN,
                                      min_lengths[i].min_len);
    rd->retry = 1;
    *out = rd;
    return 0;
}

void scan_reader_free(struct scan_reader *rd)
{
    if (rd == NULL)
        return;
    zbar_image_scanner_destroy(rd->scanner);
    free(rd);
}

void scan_reader_set_retry(struct scan_reader *rd, int on)
{
    rd->retry = on != 0;
}

void scan_reader_set_deadline(struct scan_reader *rd, int64_t deadline_ms)
{
    rd->deadline_ms = deadline_ms;
}

/* Between passes: a pass is not started unless NEED_MS (what the first
 * pass took) is left before the deadline, so the deadline is overrun by
 * little more than the checks' spacing. */
static int past_deadline(const struct scan_reader *rd, int64_t need_ms, struct err *err)
{
    if (rd->deadline_ms == 0 || scan_clock_ms() + need_ms < rd->deadline_ms)
        return 0;
    err_set(err, "barcode: reading the page took longer than allowed (stopped)");
    return SCAN_E_DEADLINE;
}

void scan_symbols_release(struct scan_symbols *syms)
{
    if (syms == NULL)
        return;
    for (size_t i = 0; i < syms->count; i++)
        free(syms->sym[i].data);
    free(syms->sym);
    syms->sym = NULL;
    syms->count = 0;
}

const char *scan_pass_name(enum scan_pass pass)
{
    switch (pass) {
    case SCAN_PASS_ORIGINAL: return "original";
    case SCAN_PASS_BINARIZED: return "binarized";
    case SCAN_PASS_REDUCED: return "reduced";
    case SCAN_PASS_ENLARGED: return "enlarged";
    }
    return "unknown";
}

static int orientation_degrees(zbar_orientation_t o)
{
    switch (o) {
    case ZBAR_ORIENT_UP: return 0;
    case ZBAR_ORIENT_RIGHT: return 90;
    case ZBAR_ORIENT_DOWN: return 180;
    case ZBAR_ORIENT_LEFT: return 270;
    default: return -1;
    }
}

/* Scan one image; SCALE_NUM/SCALE_DEN map its coordinates back to the page. */
static int scan_one(struct scan_reader *rd, const struct scan_image *img, enum scan_pass pass,
                    unsigned scale_num, unsigned scale_den, struct scan_symbols *out,
                    struct err *err)
{
    zbar_image_t *zi = zbar_image_create();
    const zbar_symbol_t *s;
    int n, rc = -1;

    if (zi == NULL)
        return err_set(err, "barcode: out of memory");
    zbar_image_set_format(zi, zbar_fourcc('Y', '8', '0', '0'));
    zbar_image_set_size(zi, img->width, img->height);
    /* ZBar only reads the buffer; no cleanup handler, we own it. */
    zbar_image_set_data(zi, img->pix, (unsigned long)img->width * img->height, NULL);
    n = zbar_scan_image(rd->scanner, zi);
    if (n < 0) {
        err_set(err, "barcode: ZBar failed on a %u x %u image", img->width, img->height);
        goto out;
    }
    for (s = zbar_image_first_symbol(zi); s != NULL; s = zbar_symbol_next(s)) {
        struct scan_symbol *grown, *sym;
        const char *data = zbar_symbol_get_data(s);
        unsigned dlen = zbar_symbol_get_data_length(s), pts = zbar_symbol_get_loc_size(s);
        int x0 = 0, y0 = 0, x1 = 0, y1 = 0;

        if (zbar_symbol_get_type(s) <= ZBAR_PARTIAL)
            continue;
        grown = realloc(out->sym, (out->count + 1) * sizeof *grown);
        if (grown == NULL) {
            err_set(err, "barcode: out of memory");
            goto out;
        }
        out->sym = grown;
        sym = &grown[out->count];
        memset(sym, 0, sizeof *sym);
        sym->data = malloc((size_t)dlen + 1);
        if (sym->data == NULL) {
            err_set(err, "barcode: out of memory");
            goto out;
        }
        memcpy(sym->data, data, dlen);
        sym->data[dlen] = 0;
        sym->len = dlen;
        out->count++;
        /* cannot truncate: ZBar's symbology names ("CODE-128") are under 24 */
        (void)snprintf(sym->type, sizeof sym->type, "%s",
                       zbar_get_symbol_name(zbar_symbol_get_type(s)));
        for (unsigned i = 0; i < pts; i++) {
            int px = zbar_symbol_get_loc_x(s, i), py = zbar_symbol_get_loc_y(s, i);
            if (i == 0 || px < x0) x0 = px;
            if (i == 0 || py < y0) y0 = py;
            if (i == 0 || px > x1) x1 = px;
            if (i == 0 || py > y1) y1 = py;
        }
        sym->x = (int)((long)x0 * scale_num / scale_den);
        sym->y = (int)((long)y0 * scale_num / scale_den);
        sym->width = (int)((long)(x1 - x0 + 1) * scale_num / scale_den);
        sym->height = (int)((long)(y1 - y0 + 1) * scale_num / scale_den);
        sym->orientation = orientation_degrees(zbar_symbol_get_orientation(s));
        sym->quality = zbar_symbol_get_quality(s);
        sym->pass = pass;
    }
    (void)scan_symbols_drop_doubtful(out);
    rc = 0;
out:
    zbar_image_destroy(zi);
    return rc;
}

static void set_density(struct scan_reader *rd, int every)
{
    zbar_image_scanner_set_config(rd->scanner, ZBAR_NONE, ZBAR_CFG_X_DENSITY, every);
    zbar_image_scanner_set_config(rd->scanner, ZBAR_NONE, ZBAR_CFG_Y_DENSITY, every);
}

int scan_read_barcodes(struct scan_reader *rd, const struct scan_image *page,
                       struct scan_symbols *out, struct err *err)
{
    struct scan_image work = SCAN_IMAGE_INIT, small = SCAN_IMAGE_INIT;
    int64_t pass_ms = scan_clock_ms();
    int rc = -1;

    scan_symbols_release(out);
    if ((rc = past_deadline(rd, 0, err)) != 0)
        goto out;
    rc = -1;
    if (scan_one(rd, page, SCAN_PASS_ORIGINAL, 1, 1, out, err) != 0)
        goto out;
    pass_ms = scan_clock_ms() - pass_ms;
    if (out->count > 0 || !rd->retry)
        goto done;
    if ((rc = past_deadline(rd, pass_ms, err)) != 0)
        goto out;
    rc = -1;
    /* Uneven lighting, yellowed paper and faint ink: a global Otsu threshold
     * gives ZBar clean edges. */
    if (scan_image_binarize(page, scan_otsu_threshold(page), &work, err) != 0)
        goto out;
    /* Clean black and white edges need no every-line scan: every other
     * line and column, at half the cost of the first pass. */
    set_density(rd, 2);
    rc = scan_one(rd, &work, SCAN_PASS_BINARIZED, 1, 1, out, err);
    set_density(rd, 1);
    if (rc != 0)
        goto out;
    rc = -1;
    if (out->count > 0)
        goto done;
    if ((rc = past_deadline(rd, pass_ms, err)) != 0)
        goto out;
    rc = -1;
    /* Noise and scanner grain: averaging 2x2 blocks before thresholding. */
    if (page->width >= 64 && page->height >= 64) {
        if (scan_image_reduce(page, 2, &small, err) != 0 ||
            scan_image_binarize(&small, scan_otsu_threshold(&small), &work, err) != 0 ||
            scan_one(rd, &work, SCAN_PASS_REDUCED, 2, 1, out, err) != 0)
            goto out;
        if (out->count > 0)
            goto done;
    }
    /* Low-resolution scans of small symbols: modules of one pixel or less.
     * Four times the pixels at half the density, plus the enlarging: about
     * three first passes, so that is what must be left before the deadline. */
    if ((rc = past_deadline(rd, 3 * pass_ms, err)) != 0)
        goto out;
    rc = -1;
    if ((uint64_t)page->width * page->height <= 16000000ull) {
        /* Every other line of the doubled image: the same rows as the
         * page, but edges ZBar can place at sub-module precision; half the
         * cost of a full scan of four times the pixels. */
        set_density(rd, 2);
        rc = scan_image_enlarge2(page, &work, err) != 0 ||
             scan_one(rd, &work, SCAN_PASS_ENLARGED, 1, 2, out, err) != 0 ? -1 : 0;
        set_density(rd, 1);
        if (rc != 0)
            goto out;
    }
done:
    rc = 0;
out:
    scan_image_release(&work);
    scan_image_release(&small);
    if (rc != 0)
        scan_symbols_release(out);
    return rc;
}
