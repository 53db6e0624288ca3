/* civreg scanner: PNG to grayscale with libpng (every bit depth and colour
 * type; transparency composited over white paper; Adam7 interlacing).
 *
 * The header's dimensions are checked against the limits before libpng
 * allocates rows, and libpng's own user limits are set as a second guard.
 * libpng reports errors by longjmp: everything allocated is reachable from
 * the context struct so the one cleanup path frees it. */
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "scanner_int.h"

struct png_ctx {
    const unsigned char *data;
    size_t len, pos;
    const char *name;
    struct err *err;
    int err_set; /* the message is already in err */
    unsigned char *rows; /* row buffer (or whole image when interlaced) */
    png_bytep *rowp;     /* row pointers into rows (interlaced only) */
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

int scan_decode_png(const unsigned char *p, size_t len, const char *name,
                    const struct scan_limits *limits, struct scan_pages *out, struct err *err)
{
    struct png_ctx ctx = { p, len, 0, name, err, 0, NULL, NULL };
    png_structp png = NULL;
    png_infop info = NULL;
    struct scan_image *volatile img = NULL;
    volatile int rc = -1;
    png_uint_32 w, h;
    int depth, ctype, interlace, passes;
    unsigned ch;
    size_t rowbytes;

    out->format = SCAN_FMT_PNG;
    out->page = NULL;
    out->count = 0;
    if (len < 8 || png_sig_cmp(p, 0, 8) != 0)
        return err_set(err, "png: %s is not a PNG file (bad signature)", SCAN_NAME(name));
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_error_cb, png_warning_cb);
    if (png == NULL)
        return err_set(err, "png: out of memory");
    info = png_create_info_struct(png);
    if (info == NULL) {
        err_set(err, "png: out of memory");
        goto out;
    }
    if (setjmp(png_jmpbuf(png))) {
        if (!ctx.err_set)
            err_set(err, "png: cannot decode %s", SCAN_NAME(name));
        goto out;
    }
    png_set_read_fn(png, &ctx, png_read_cb);
    /* Our own limits are checked right after the header (with a clearer
     * message); libpng's are only lifted to the format's maximum. Ancillary
     * chunks (text, ICC profiles) are capped at 8 MiB. */
    png_set_user_limits(png, 0x7fffffffu, 0x7fffffffu);
    png_set_chunk_malloc_max(png, 8u << 20);
    png_read_info(png, info);
    png_get_IHDR(png, info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
    if (scan_check_dims(w, h, limits, NULL, "png", name, err) != 0) {
        ctx.err_set = 1;
        goto out;
    }
    if (scan_pages_push(out, limits, "png", name, (struct scan_image **)&img, err) != 0)
        goto out;
    if (scan_image_alloc(img, w, h, limits, "png", name, err) != 0)
        goto out;
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
    if (passes > 1) {
        /* Adam7: every pass revisits every row, so the whole image is kept. */
        ctx.rows = malloc(rowbytes * h);
        ctx.rowp = ctx.rows ? malloc(sizeof *ctx.rowp * h) : NULL;
        if (ctx.rowp == NULL) {
            err_set(err, "png: out of memory for %s", SCAN_NAME(name));
            ctx.err_set = 1;
            goto out;
        }
        for (png_uint_32 y = 0; y < h; y++)
            ctx.rowp[y] = ctx.rows + rowbytes * y;
        png_read_image(png, ctx.rowp);
        for (png_uint_32 y = 0; y < h; y++)
            row_to_gray(ctx.rows + rowbytes * y, ch, w, img->pix + (size_t)y * w);
    } else {
        ctx.rows = malloc(rowbytes);
        if (ctx.rows == NULL) {
            err_set(err, "png: out of memory for %s", SCAN_NAME(name));
            ctx.err_set = 1;
            goto out;
        }
        for (png_uint_32 y = 0; y < h; y++) {
            png_read_row(png, ctx.rows, NULL);
            row_to_gray(ctx.rows, ch, w, img->pix + (size_t)y * w);
        }
    }
    /* Reading the end checks the last chunk's CRC and IEND. */
    png_read_end(png, NULL);
    rc = 0;
out:
    png_destroy_read_struct(&png, info ? &info : NULL, NULL);
    free(ctx.rowp);
    free(ctx.rows);
    if (rc != 0)
        scan_pages_release(out);
    return rc;
}
