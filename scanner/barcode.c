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

/* Scan one image; SCALE_NUM/SCALE_DEN then AT's corner map its coordinates
 * back to the page (AT NULL: the image is the whole page). */
static int scan_one(struct scan_reader *rd, const struct scan_image *img, enum scan_pass pass,
                    unsigned scale_num, unsigned scale_den, const struct scan_rect *at,
                    struct scan_symbols *out, struct err *err)
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
        sym->x = (int)((long)x0 * scale_num / scale_den + (at ? (long)at->x : 0));
        sym->y = (int)((long)y0 * scale_num / scale_den + (at ? (long)at->y : 0));
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

#define BAR_BLOCK 16
#define BAR_MIN_CHANGE 8 /* mean gray-level change a pixel across the bars */
#define BAR_RATIO 3      /* across the bars / along them */
#define BAR_MIN_BLOCKS 4
#define BAR_MIN_LENGTH 2 /* blocks along the bars */
#define BAR_MAX_AREA_PERCENT 60

enum { BAR_NONE, BAR_UPRIGHT, BAR_LYING, BAR_SEEN };

/* Mark each block BAR_UPRIGHT (the gray level changes across the rows much
 * more than down the columns: vertical bars), BAR_LYING (the converse) or
 * BAR_NONE. Rows are sampled every other line. */
static void mark_bar_blocks(const struct scan_image *page, unsigned char *mark, uint32_t bw,
                            uint32_t bh)
{
    for (uint32_t by = 0; by < bh; by++) {
        uint32_t y0 = by * BAR_BLOCK, y1 = y0 + BAR_BLOCK;
        if (y1 > page->height - 1)
            y1 = page->height - 1; /* the last row has no row below */
        for (uint32_t bx = 0; bx < bw; bx++) {
            uint32_t x0 = bx * BAR_BLOCK, x1 = x0 + BAR_BLOCK;
            uint64_t across = 0, down = 0, n = 0;
            unsigned char m = BAR_NONE;
            if (x1 > page->width - 1)
                x1 = page->width - 1;
            for (uint32_t y = y0; y < y1; y += 2) {
                const unsigned char *r = page->pix + (size_t)y * page->width;
                const unsigned char *d = r + page->width;
                for (uint32_t x = x0; x < x1; x++) {
                    across += (unsigned)abs(r[x + 1] - r[x]);
                    down += (unsigned)abs(d[x] - r[x]);
                }
                n += x1 - x0;
            }
            if (n > 0 && across >= BAR_MIN_CHANGE * n && across >= BAR_RATIO * down)
                m = BAR_UPRIGHT;
            else if (n > 0 && down >= BAR_MIN_CHANGE * n && down >= BAR_RATIO * across)
                m = BAR_LYING;
            mark[(size_t)by * bw + bx] = m;
        }
    }
}

/* Keep a marked block only when a neighbour along its bars is marked alike:
 * bars are long, the stems of a line of text a block high. */
static void keep_long_bars(const unsigned char *mark, unsigned char *out, uint32_t bw,
                           uint32_t bh)
{
    for (uint32_t by = 0; by < bh; by++)
        for (uint32_t bx = 0; bx < bw; bx++) {
            size_t i = (size_t)by * bw + bx;
            unsigned char m = mark[i];
            if (m == BAR_UPRIGHT)
                m = (by > 0 && mark[i - bw] == m) || (by + 1 < bh && mark[i + bw] == m) ? m
                                                                                        : BAR_NONE;
            else if (m == BAR_LYING)
                m = (bx > 0 && mark[i - 1] == m) || (bx + 1 < bw && mark[i + 1] == m) ? m
                                                                                      : BAR_NONE;
            out[i] = m;
        }
}

static int overlap(const struct scan_rect *a, const struct scan_rect *b)
{
    return a->x < b->x + b->width && b->x < a->x + a->width && a->y < b->y + b->height &&
           b->y < a->y + a->height;
}

static void rect_union(struct scan_rect *a, const struct scan_rect *b)
{
    uint32_t x1 = a->x + a->width > b->x + b->width ? a->x + a->width : b->x + b->width;
    uint32_t y1 = a->y + a->height > b->y + b->height ? a->y + a->height : b->y + b->height;

    a->x = a->x < b->x ? a->x : b->x;
    a->y = a->y < b->y ? a->y : b->y;
    a->width = x1 - a->x;
    a->height = y1 - a->y;
}

/* Add R to the N rectangles of OUT, merging every one it overlaps; returns
 * the new count, or MAX + 1 when there is no room. */
static size_t add_region(struct scan_rect *out, size_t n, size_t max, struct scan_rect r)
{
    for (size_t i = 0; i < n;) {
        if (overlap(&out[i], &r)) {
            rect_union(&r, &out[i]);
            out[i] = out[--n];
            i = 0; /* the grown rectangle may now overlap an earlier one */
        } else {
            i++;
        }
    }
    if (n >= max)
        return max + 1;
    out[n++] = r;
    return n;
}

int scan_bar_regions(const struct scan_image *page, struct scan_rect *out, size_t max,
                     struct err *err)
{
    uint32_t bw, bh;
    unsigned char *mark;
    uint32_t *stack;
    size_t n = 0;
    uint64_t area = 0;
    const struct scan_rect whole = { 0, 0, page->width, page->height };

    if (max == 0)
        return 0;
    if (page->width < 2 || page->height < 2) {
        out[0] = whole;
        return 1;
    }
    bw = (page->width + BAR_BLOCK - 1) / BAR_BLOCK;
    bh = (page->height + BAR_BLOCK - 1) / BAR_BLOCK;
    mark = calloc((size_t)bw * bh, 2);
    stack = malloc((size_t)bw * bh * sizeof *stack);
    if (mark == NULL || stack == NULL) {
        free(mark);
        free(stack);
        return err_set(err, "barcode: out of memory");
    }
    /* The marks in the second half, the long ones kept in the first. */
    mark_bar_blocks(page, mark + (size_t)bw * bh, bw, bh);
    keep_long_bars(mark + (size_t)bw * bh, mark, bw, bh);
    /* Groups of blocks marked alike and touching (8 neighbours): their
     * bounding boxes, when they are shaped like bars. A line of text is
     * barred too (the stems of its letters) but only a block high, and
     * lines bridged by ascenders fill little of their box. */
    for (uint32_t i = 0; i < bw * bh && n <= max; i++) {
        uint32_t x0, y0, x1, y1, m, blocks = 0, along;
        size_t top = 0;
        unsigned char kind = mark[i];
        struct scan_rect r;
        if (kind != BAR_UPRIGHT && kind != BAR_LYING)
            continue;
        x0 = x1 = i % bw;
        y0 = y1 = i / bw;
        mark[i] = BAR_SEEN;
        stack[top++] = i;
        while (top > 0) {
            uint32_t b = stack[--top], bx = b % bw, by = b / bw;
            blocks++;
            x0 = bx < x0 ? bx : x0;
            x1 = bx > x1 ? bx : x1;
            y0 = by < y0 ? by : y0;
            y1 = by > y1 ? by : y1;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    long nx = (long)bx + dx, ny = (long)by + dy;
                    size_t k = (size_t)ny * bw + (size_t)nx;
                    if (nx < 0 || ny < 0 || nx >= (long)bw || ny >= (long)bh || mark[k] != kind)
                        continue;
                    mark[k] = BAR_SEEN;
                    stack[top++] = (uint32_t)k;
                }
        }
        along = kind == BAR_UPRIGHT ? y1 - y0 + 1 : x1 - x0 + 1;
        if (blocks < BAR_MIN_BLOCKS || along < BAR_MIN_LENGTH ||
            2 * blocks < (x1 - x0 + 1) * (y1 - y0 + 1))
            continue;
        /* Blocks to pixels, grown by the quiet zone (and the partly barred
         * blocks at the ends that did not count): 48 pixels and a quarter
         * of the longer side. The corner stays on an even pixel. */
        x0 *= BAR_BLOCK;
        y0 *= BAR_BLOCK;
        x1 = (x1 + 1) * BAR_BLOCK;
        y1 = (y1 + 1) * BAR_BLOCK;
        m = 48 + ((x1 - x0) > (y1 - y0) ? (x1 - x0) : (y1 - y0)) / 4;
        x0 = x0 > m ? (x0 - m) & ~1u : 0;
        y0 = y0 > m ? (y0 - m) & ~1u : 0;
        x1 = x1 + m < page->width ? x1 + m : page->width;
        y1 = y1 + m < page->height ? y1 + m : page->height;
        /* ZBar centres its every-other-line scans by the image's height
         * and width: the same parity as the page's keeps the same lines. */
        x1 += (x1 - x0) % 2 != page->width % 2;
        y1 += (y1 - y0) % 2 != page->height % 2;
        r = (struct scan_rect){ x0, y0, x1 - x0, y1 - y0 };
        n = add_region(out, n, max, r);
    }
    free(mark);
    free(stack);
    for (size_t i = 0; i < n && n <= max; i++)
        area += (uint64_t)out[i].width * out[i].height;
    if (n > max || area * 100 >= (uint64_t)page->width * page->height * BAR_MAX_AREA_PERCENT) {
        out[0] = whole;
        n = 1;
    }
    return (int)n;
}

/* One retry pass over the regions: each cut out of the page (unless it is
 * the whole page), cleaned up by PASS and scanned. */
static int retry_pass(struct scan_reader *rd, const struct scan_image *page, int threshold,
                      const struct scan_rect *regions, size_t nregions, enum scan_pass pass,
                      struct scan_symbols *out, struct err *err)
{
    struct scan_image crop = SCAN_IMAGE_INIT, small = SCAN_IMAGE_INIT, work = SCAN_IMAGE_INIT;
    int rc = 0;

    for (size_t i = 0; i < nregions && rc == 0; i++) {
        const struct scan_rect *at = &regions[i];
        const struct scan_image *src = page;
        if (at->width != page->width || at->height != page->height) {
            if (scan_image_crop(page, at->x, at->y, at->width, at->height, &crop, err) != 0) {
                rc = -1;
                break;
            }
            src = &crop;
        }
        switch (pass) {
        case SCAN_PASS_BINARIZED:
            /* Clean black and white edges need no every-line scan: every
             * other line and column, at half the cost of the first pass. */
            set_density(rd, 2);
            rc = scan_image_binarize(src, threshold, &work, err) != 0 ||
                 scan_one(rd, &work, pass, 1, 1, at, out, err) != 0 ? -1 : 0;
            set_density(rd, 1);
            break;
        case SCAN_PASS_REDUCED:
            if (src->width < 64 || src->height < 64)
                break;
            rc = scan_image_reduce(src, 2, &small, err) != 0 ||
                 scan_image_binarize(&small, scan_otsu_threshold(&small), &work, err) != 0 ||
                 scan_one(rd, &work, pass, 2, 1, at, out, err) != 0 ? -1 : 0;
            break;
        case SCAN_PASS_ENLARGED:
            if ((uint64_t)src->width * src->height > 16000000ull)
                break;
            /* Every other line of the doubled image: the same rows as the
             * page, but edges ZBar can place at sub-module precision; half
             * the cost of a full scan of four times the pixels. */
            set_density(rd, 2);
            rc = scan_image_enlarge2(src, &work, err) != 0 ||
                 scan_one(rd, &work, pass, 1, 2, at, out, err) != 0 ? -1 : 0;
            set_density(rd, 1);
            break;
        case SCAN_PASS_ORIGINAL:
            break;
        }
    }
    scan_image_release(&crop);
    scan_image_release(&small);
    scan_image_release(&work);
    return rc;
}

#define BAR_MAX_REGIONS 16

int scan_read_barcodes(struct scan_reader *rd, const struct scan_image *page,
                       struct scan_symbols *out, struct err *err)
{
    struct scan_rect regions[BAR_MAX_REGIONS];
    uint64_t region_px = 0;
    int64_t pass_ms = scan_clock_ms();
    int rc = -1, nregions, threshold;

    scan_symbols_release(out);
    if ((rc = past_deadline(rd, 0, err)) != 0)
        goto out;
    rc = -1;
    if (scan_one(rd, page, SCAN_PASS_ORIGINAL, 1, 1, NULL, out, err) != 0)
        goto out;
    pass_ms = scan_clock_ms() - pass_ms;
    if (out->count > 0 || !rd->retry)
        goto done;
    /* The retries run only where the page looks like bars: a page of text,
     * or a blank one, costs no retry at all. */
    nregions = scan_bar_regions(page, regions, BAR_MAX_REGIONS, err);
    if (nregions < 0)
        goto out;
    if (nregions == 0)
        goto done;
    for (int i = 0; i < nregions; i++)
        region_px += (uint64_t)regions[i].width * regions[i].height;
    /* What a pass over the regions costs, from what the page's took. */
    pass_ms = (int64_t)((double)pass_ms * (double)region_px /
                        ((double)page->width * page->height));
    /* Uneven lighting, yellowed paper and faint ink: the page's Otsu
     * threshold gives ZBar clean edges. Then noise and scanner grain:
     * averaging 2x2 blocks before thresholding. Then low-resolution scans
     * of small symbols (modules of one pixel or less): four times the
     * pixels at half the density, about three first passes, so that is
     * what must be left before the deadline. */
    threshold = scan_otsu_threshold(page);
    for (enum scan_pass pass = SCAN_PASS_BINARIZED; pass <= SCAN_PASS_ENLARGED; pass++) {
        if ((rc = past_deadline(rd, pass == SCAN_PASS_ENLARGED ? 3 * pass_ms : pass_ms, err)) != 0)
            goto out;
        rc = -1;
        if (retry_pass(rd, page, threshold, regions, (size_t)nregions, pass, out, err) != 0)
            goto out;
        if (out->count > 0)
            goto done;
    }
done:
    rc = 0;
out:
    if (rc != 0)
        scan_symbols_release(out);
    return rc;
}
