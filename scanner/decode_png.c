/* civreg scanner: PNG to grayscale with libpng (every bit depth and colour
 * type; transparency composited over white paper; Adam7 interlacing).
 *
 * The chunk layout is walked first: every chunk's length must fit in the
 * file (libpng allocates, and clears, what an ancillary chunk claims before
 * reading it, so a 90-byte file whose tEXt claims 2 GB would cost 2 GB). The
 * header's dimensions are checked against the limits before libpng
 * allocates rows, and libpng's own limits are set as a second guard;
 * ancillary chunks other than tRNS and pHYs are skipped unread. libpng
 * reports errors by longjmp: everything allocated is reachable from the
 * context struct so the one cleanup path frees it. */
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "png_common.h"
#include "scanner_int.h"

struct png_ctx {
    const unsigned char *data;
    size_t len, pos;
    const char *name;
    struct err *err;
    int err_set; /* the message is already in err */
    unsigned char *rows; /* row buffer (or whole image when interlaced) */
};

static void png_error_cb(png_structp png, png_const_charp msg)
{
    struct png_ctx *c = png_get_error_ptr(png);

    if (!c->err_set) {
        err_set(c->err, "png: %s in %s", msg, SCAN_NAME(c->name));
        c->err_set = 1;
    }
    png_longjmp(png, 1);
}

static void png_warning_cb(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void png_read_cb(png_structp png, png_bytep out, size_t n)
{
    struct png_ctx *c = png_get_io_ptr(png);

    if (n > c->len - c->pos) {
        if (!c->err_set) {
            err_set(c->err, "png: truncated file %s (data ends at byte %zu)", SCAN_NAME(c->name),
                    c->len);
            c->err_set = 1;
        }
        png_longjmp(png, 1);
    }
    memcpy(out, c->data + c->pos, n);
    c->pos += n;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int is_chunk_name(const unsigned char *t)
{
    for (int i = 0; i < 4; i++)
        if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z')))
            return 0;
    return 1;
}

/* ISO/IEC 15948 §5.3: length, type, data, CRC; IHDR first, IEND last. Each
 * length must fit in what is left of the file; *W and *H get IHDR's size. */
static int png_walk(const unsigned char *p, size_t len, const char *name, uint32_t *w,
                    uint32_t *h, struct err *err)
{
    size_t pos = 8;

    for (size_t n = 0; pos < len; n++) {
        uint32_t clen;
        if (len - pos < 12)
            return err_set(err, "png: truncated file %s (chunk header at byte %zu cut short)",
                           SCAN_NAME(name), pos);
        clen = be32(p + pos);
        if (!is_chunk_name(p + pos + 4))
            return err_set(err, "png: bad chunk name at byte %zu in %s", pos + 4,
                           SCAN_NAME(name));
        if (clen > 0x7fffffffu || clen > len - pos - 12)
            return err_set(err, "png: truncated file %s (chunk %.4s at byte %zu claims %lu bytes, "
                                "the file ends at byte %zu)", SCAN_NAME(name),
                           (const char *)p + pos + 4, pos, (unsigned long)clen, len);
        if (n == 0) {
            if (memcmp(p + pos + 4, "IHDR", 4) != 0 || clen != 13)
                return err_set(err, "png: %s does not start with a 13-byte IHDR chunk",
                               SCAN_NAME(name));
            *w = be32(p + pos + 8);
            *h = be32(p + pos + 12);
        }
        if (memcmp(p + pos + 4, "IEND", 4) == 0)
            break;
        pos += 12 + (size_t)clen;
    }
    if (pos == 8)
        return err_set(err, "png: truncated file %s (no IHDR chunk)", SCAN_NAME(name));
    return 0;
}

/* Ancillary chunks civreg has no use for: skipped without being stored. */
static const png_byte skipped_chunks[] = "bKGD" "cHRM" "eXIf" "gAMA" "hIST" "iCCP" "iTXt"
                                         "oFFs" "pCAL" "sCAL" "sBIT" "sPLT" "sRGB" "tEXt"
                                         "tIME" "zTXt";

/* Grayscale of one decoded row holding CH channels of 8 bits. */
static void row_to_gray(const unsigned char *src, unsigned ch, uint32_t w, unsigned char *dst)
{
    for (uint32_t x = 0; x < w; x++, src += ch) {
        switch (ch) {
        case 1: dst[x] = src[0]; break;
        case 2: dst[x] = scan_over_white(src[0], src[1]); break;
        case 3: dst[x] = scan_luma(src[0], src[1], src[2]); break;
        default: dst[x] = scan_over_white(scan_luma(src[0], src[1], src[2]), src[3]); break;
        }
    }
}

/* The signature, the chunks (png_walk) and the size against LIMITS, before
 * libpng reads anything: 0, or what scan_check_dims returns, or -1. */
static int png_check(const unsigned char *p, size_t len, const char *name,
                     const struct scan_limits *limits, uint32_t *w, uint32_t *h,
                     struct err *err)
{
    if (len < 8 || png_sig_cmp(p, 0, 8) != 0)
        return err_set(err, "png: %s is not a PNG file (bad signature)", SCAN_NAME(name));
    if (png_walk(p, len, name, w, h, err) != 0)
        return -1;
    return scan_check_dims(*w, *h, limits, NULL, "png", name, err);
}

int scan_decode_png(const unsigned char *p, size_t len, const char *name,
                    const struct scan_limits *limits, struct scan_pages *out, struct err *err)
{
    struct png_ctx ctx = { p, len, 0, name, err, 0, NULL };
    png_structp png = NULL;
    png_infop info = NULL;
    struct scan_image *volatile img = NULL;
    volatile int rc = -1;
    const struct scan_limits deflt = SCAN_LIMITS_DEFAULT;
    const struct scan_limits *l = limits ? limits : &deflt;
    uint32_t cw = 0, chh = 0;
    png_uint_32 w, h;
    int depth, ctype, interlace, passes;
    unsigned ch;
    size_t rowbytes;

    out->format = SCAN_FMT_PNG;
    out->page = NULL;
    out->count = 0;
    if ((rc = png_check(p, len, name, limits, &cw, &chh, err)) != 0)
        return rc;
    rc = -1;
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_error_cb, png_warning_cb);
    if (scan_png_info(png, &info, err) != 0)
        goto out;
    if (setjmp(png_jmpbuf(png))) {
        if (!ctx.err_set)
            err_set(err, "png: cannot decode %s", SCAN_NAME(name));
        goto out;
    }
    png_set_read_fn(png, &ctx, png_read_cb);
    /* Our own limits were checked on the walked IHDR (with a clearer
     * message); libpng's are the same, as a second guard. A chunk libpng
     * allocates is at most 1 MiB and at most 32 ancillary chunks are kept. */
    png_set_user_limits(png, l->max_width, l->max_height);
    png_set_chunk_malloc_max(png, 1u << 20);
    png_set_chunk_cache_max(png, 32);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, skipped_chunks,
                                (int)(sizeof skipped_chunks - 1) / 4);
    png_read_info(png, info);
    png_get_IHDR(png, info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
    if (w != cw || h != chh) {
        err_set(err, "png: unexpected header in %s", SCAN_NAME(name));
        ctx.err_set = 1;
        goto out;
    }
    if (scan_pages_push(out, limits, "png", name, (struct scan_image **)&img, err) != 0 ||
        scan_image_alloc(img, w, h, limits, "png", name, err) != 0) {
        ctx.err_set = 1;
        goto out;
    }
    {
        png_uint_32 xres, yres;
        int unit;
        if (png_get_pHYs(png, info, &xres, &yres, &unit) && unit == PNG_RESOLUTION_METER) {
            img->dpi_x = xres * 0.0254;
            img->dpi_y = yres * 0.0254;
        }
    }
    /* Everything to 8-bit gray, gray+alpha, RGB or RGBA. */
    if (ctype == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    if (depth == 16)
        png_set_scale_16(png);
    passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    ch = png_get_channels(png, info);
    rowbytes = png_get_rowbytes(png, info);
    if (ch < 1 || ch > 4 || rowbytes != (size_t)w * ch) {
        err_set(err, "png: unexpected pixel layout in %s", SCAN_NAME(name));
        ctx.err_set = 1;
        goto out;
    }
    /* Adam7: every pass revisits every row, so the whole image is kept;
     * otherwise one row is read and converted at a time. */
    ctx.rows = malloc(passes > 1 ? rowbytes * h : rowbytes);
    if (ctx.rows == NULL) {
        err_set(err, "png: out of memory for %s", SCAN_NAME(name));
        ctx.err_set = 1;
        goto out;
    }
    for (int pass = 0; pass < passes; pass++) {
        for (png_uint_32 y = 0; y < h; y++) {
            unsigned char *row = passes > 1 ? ctx.rows + rowbytes * y : ctx.rows;
            int dl = scan_row_deadline(y, limits, "png", name, err);
            if (dl != 0) {
                ctx.err_set = 1;
                rc = dl;
                goto out;
            }
            png_read_row(png, row, NULL);
            if (pass == passes - 1)
                row_to_gray(row, ch, w, img->pix + (size_t)y * w);
        }
    }
    /* Reading the end checks the last chunk's CRC and IEND. */
    png_read_end(png, NULL);
    rc = 0;
out:
    png_destroy_read_struct(&png, info ? &info : NULL, NULL);
    free(ctx.rows);
    if (rc != 0)
        scan_pages_release(out);
    return rc;
}

int scan_png_probe(const unsigned char *p, size_t len, const char *name,
                   const struct scan_limits *limits, uint64_t *pixels, uint64_t *largest,
                   struct err *err)
{
    uint32_t w = 0, h = 0;
    int rc;

    if ((rc = png_check(p, len, name, limits, &w, &h, err)) != 0)
        return rc;
    *pixels = *largest = (uint64_t)w * h;
    return 0;
}
