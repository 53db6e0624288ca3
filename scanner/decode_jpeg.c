/* civreg scanner: JPEG to grayscale with libjpeg-turbo (baseline,
 * progressive, arithmetic, CMYK/YCCK; EXIF orientation applied).
 *
 * libjpeg treats a truncated or corrupt stream as a warning and fills the
 * rest with grey; a register page decoded that way would be stored half
 * blank, so corrupt-data warnings are errors here. Progressive files get a
 * cap on their number of scans (a known CPU exhaustion pattern) and the
 * library's memory is capped. */
#include <limits.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "scanner_int.h"

#define JPEG_MAX_SCANS 500
#define JPEG_MAX_MEMORY (768L << 20)

struct jpeg_ctx {
    struct jpeg_error_mgr pub;
    struct jpeg_progress_mgr progress;
    jmp_buf jmp;
    const char *name;
    struct err *err;
    int err_set;
    const struct scan_limits *limits; /* for the deadline */
    int kind;                         /* SCAN_E_DEADLINE when that stopped it */
};

static void jpeg_fail(j_common_ptr cinfo)
{
    struct jpeg_ctx *c = (struct jpeg_ctx *)cinfo->err;
    char msg[JMSG_LENGTH_MAX];

    if (!c->err_set) {
        cinfo->err->format_message(cinfo, msg);
        err_set(c->err, "jpeg: %s in %s", msg, SCAN_NAME(c->name));
        c->err_set = 1;
    }
    longjmp(c->jmp, 1);
}

static void jpeg_message(j_common_ptr cinfo, int level)
{
    struct jpeg_ctx *c = (struct jpeg_ctx *)cinfo->err;
    int code = cinfo->err->msg_code;

    if (level >= 0)
        return; /* trace messages */
    /* Harmless oddities seen in real scanner output. */
    if (code == JWRN_EXTRANEOUS_DATA || code == JWRN_JFIF_MAJOR || code == JWRN_ADOBE_XFORM ||
        code == JWRN_BOGUS_ICC)
        return;
    if (code == JWRN_JPEG_EOF && !c->err_set) {
        err_set(c->err, "jpeg: truncated file %s (image data ends early)", SCAN_NAME(c->name));
        c->err_set = 1;
    }
    jpeg_fail(cinfo);
}

/* Called by libjpeg between MCU rows, also while jpeg_start_decompress
 * absorbs every scan of a progressive file before the first row comes out:
 * the deadline is checked here too. */
static void jpeg_progress(j_common_ptr cinfo)
{
    struct jpeg_ctx *c = (struct jpeg_ctx *)cinfo->err;

    if (c->limits != NULL && c->limits->deadline_ms != 0 &&
        scan_check_deadline(c->limits, "jpeg", c->name, c->err_set ? NULL : c->err) != 0) {
        c->err_set = 1;
        c->kind = SCAN_E_DEADLINE;
        longjmp(c->jmp, 1);
    }

    if (cinfo->is_decompressor &&
        ((j_decompress_ptr)cinfo)->input_scan_number > JPEG_MAX_SCANS) {
        if (!c->err_set) {
            err_set(c->err, "jpeg: %s has more than %d progressive scans (refused)",
                    SCAN_NAME(c->name), JPEG_MAX_SCANS);
            c->err_set = 1;
        }
        longjmp(c->jmp, 1);
    }
}

/* ---- EXIF (CIPA DC-008): IFD0 Orientation (0x0112), XResolution (0x011A),
 * YResolution (0x011B), ResolutionUnit (0x0128). All offsets are checked
 * against the segment; anything odd just leaves the defaults. */
struct exif_info {
    int orientation;
    double xres, yres;
    int unit; /* 2 inch, 3 cm */
};

static unsigned rd16(const unsigned char *p, int le)
{
    return le ? (unsigned)(p[0] | p[1] << 8) : (unsigned)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const unsigned char *p, int le)
{
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
              : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static double exif_rational(const unsigned char *t, size_t n, uint32_t off, int le)
{
    uint32_t num, den;

    if (off > n || n - off < 8)
        return 0;
    num = rd32(t + off, le);
    den = rd32(t + off + 4, le);
    return den ? (double)num / den : 0;
}

static void exif_parse(const unsigned char *p, size_t len, struct exif_info *ex)
{
    const unsigned char *t;
    size_t n;
    uint32_t ifd;
    unsigned count;
    int le;

    if (len < 14 || memcmp(p, "Exif\0\0", 6) != 0)
        return;
    t = p + 6;
    n = len - 6;
    if (memcmp(t, "II*\0", 4) == 0)
        le = 1;
    else if (memcmp(t, "MM\0*", 4) == 0)
        le = 0;
    else
        return;
    ifd = rd32(t + 4, le);
    if (ifd > n || n - ifd < 2)
        return;
    count = rd16(t + ifd, le);
    if ((n - ifd - 2) / 12 < count)
        return;
    for (unsigned i = 0; i < count; i++) {
        const unsigned char *e = t + ifd + 2 + 12 * i;
        unsigned tag = rd16(e, le), type = rd16(e + 2, le);
        uint32_t cnt = rd32(e + 4, le);
        if (tag == 0x0112 && type == 3 && cnt == 1)
            ex->orientation = (int)rd16(e + 8, le);
        else if (tag == 0x0128 && type == 3 && cnt == 1)
            ex->unit = (int)rd16(e + 8, le);
        else if (tag == 0x011a && type == 5 && cnt == 1)
            ex->xres = exif_rational(t, n, rd32(e + 8, le), le);
        else if (tag == 0x011b && type == 5 && cnt == 1)
            ex->yres = exif_rational(t, n, rd32(e + 8, le), le);
    }
}

static long jpeg_memory_cap(const struct scan_limits *limits)
{
    uint64_t px = limits ? limits->max_pixels : 150000000ull;
    uint64_t cap = px * 8 < (16u << 20) ? (16u << 20) : px * 8;

    return cap > (uint64_t)JPEG_MAX_MEMORY ? JPEG_MAX_MEMORY : (long)cap;
}

/* A JPEG's pixels are bounded by its size (see max_jpeg_pixels_per_byte):
 * a header claiming a page its data cannot hold is refused before the page
 * is allocated. Arithmetic coding can go below one bit a block, so its
 * ceiling is eight times higher. */
static int check_ratio(const struct jpeg_decompress_struct *cinfo, size_t len,
                       const struct scan_limits *limits, const char *name, struct err *err)
{
    const struct scan_limits deflt = SCAN_LIMITS_DEFAULT;
    const struct scan_limits *l = limits ? limits : &deflt;
    uint64_t px = (uint64_t)cinfo->image_width * cinfo->image_height;
    uint64_t ceiling = (uint64_t)l->max_jpeg_pixels_per_byte * (cinfo->arith_code ? 8u : 1u);

    if (ceiling == 0 || px / ceiling <= len)
        return 0;
    err_set(err, "jpeg: %s claims %u x %u pixels in %zu bytes, more than its data can hold "
                 "(refused before decoding)", SCAN_NAME(name), (unsigned)cinfo->image_width,
            (unsigned)cinfo->image_height, len);
    return SCAN_E_LIMIT;
}

/* Ready CTX and CINFO to decode LEN bytes named NAME, with LIMITS' deadline
 * (NULL: none). Returns 0, -1 when LEN is more than libjpeg takes. */
static int jpeg_start(struct jpeg_ctx *ctx, struct jpeg_decompress_struct *cinfo, size_t len,
                      const char *name, const struct scan_limits *limits, struct err *err)
{
    if (len > ULONG_MAX)
        return err_set(err, "jpeg: %s is too large", SCAN_NAME(name));
    memset(ctx, 0, sizeof *ctx);
    memset(cinfo, 0, sizeof *cinfo);
    ctx->name = name;
    ctx->err = err;
    ctx->limits = limits;
    cinfo->err = jpeg_std_error(&ctx->pub);
    ctx->pub.error_exit = jpeg_fail;
    ctx->pub.emit_message = jpeg_message;
    return 0;
}

/* After the caller's setjmp on CTX: create the decompressor (*CREATED set:
 * the caller destroys it), cap its memory, read the header of the LEN bytes
 * at P and check the page's claimed size against LIMITS. DECODING: the
 * pixels will be read too, so watch the deadline through the progress
 * monitor and keep the EXIF markers. Returns 0, or SCAN_E_LIMIT or -1 with
 * ERR set. */
static int jpeg_read_checked_header(struct jpeg_ctx *ctx, struct jpeg_decompress_struct *cinfo,
                                    volatile int *created, const unsigned char *p, size_t len,
                                    const struct scan_limits *limits, bool decoding,
                                    struct err *err)
{
    int rc;

    jpeg_create_decompress(cinfo);
    *created = 1;
    /* Progressive and multi-scan files keep every coefficient (2 bytes a
     * sample, 3 components): what the page limit allows, within the cap. */
    cinfo->mem->max_memory_to_use = jpeg_memory_cap(limits);
    if (decoding) {
        ctx->progress.progress_monitor = jpeg_progress;
        cinfo->progress = &ctx->progress;
    }
    jpeg_mem_src(cinfo, p, (unsigned long)len);
    if (decoding)
        jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xffff);
    if (jpeg_read_header(cinfo, TRUE) != JPEG_HEADER_OK)
        return err_set(err, "jpeg: %s holds no image", SCAN_NAME(ctx->name));
    if ((rc = scan_check_dims(cinfo->image_width, cinfo->image_height, limits, NULL, "jpeg",
                              ctx->name, err)) != 0)
        return rc;
    return check_ratio(cinfo, len, limits, ctx->name, err);
}

int scan_decode_jpeg(const unsigned char *p, size_t len, const char *name,
                     const struct scan_limits *limits, struct scan_pages *out, struct err *err)
{
    struct jpeg_decompress_struct cinfo;
    struct jpeg_ctx ctx;
    struct scan_image *volatile img = NULL;
    unsigned char *volatile row = NULL;
    volatile int created = 0, rc = -1;
    struct exif_info ex = { 1, 0, 0, 0 };
    int cmyk, inverted;

    out->format = SCAN_FMT_JPEG;
    out->page = NULL;
    out->count = 0;
    if (jpeg_start(&ctx, &cinfo, len, name, limits, err) != 0)
        return -1;
    if (setjmp(ctx.jmp)) {
        if (!ctx.err_set)
            err_set(err, "jpeg: cannot decode %s", SCAN_NAME(name));
        rc = ctx.kind ? ctx.kind : -1;
        goto out;
    }
    if ((rc = jpeg_read_checked_header(&ctx, &cinfo, &created, p, len, limits, true, err)) != 0)
        goto out;
    rc = -1;
    for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != NULL; m = m->next)
        if (m->marker == JPEG_APP0 + 1)
            exif_parse(m->data, m->data_length, &ex);
    cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    /* Adobe's CMYK JPEGs (APP14) store inverted ink values. */
    inverted = cmyk && cinfo.saw_Adobe_marker;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_GRAYSCALE;
    if (scan_pages_push(out, limits, "jpeg", name, (struct scan_image **)&img, err) != 0 ||
        scan_image_alloc(img, cinfo.image_width, cinfo.image_height, limits, "jpeg", name,
                         err) != 0)
        goto out;
    if (cinfo.saw_JFIF_marker && cinfo.X_density > 0 && cinfo.Y_density > 0 &&
        (cinfo.density_unit == 1 || cinfo.density_unit == 2)) {
        double f = cinfo.density_unit == 2 ? 2.54 : 1.0;
        img->dpi_x = cinfo.X_density * f;
        img->dpi_y = cinfo.Y_density * f;
    } else if (ex.xres > 0 && ex.yres > 0 && (ex.unit == 2 || ex.unit == 3)) {
        double f = ex.unit == 3 ? 2.54 : 1.0;
        img->dpi_x = ex.xres * f;
        img->dpi_y = ex.yres * f;
    }
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_width != img->width || cinfo.output_height != img->height ||
        cinfo.output_components != (cmyk ? 4 : 1)) {
        err_set(err, "jpeg: unexpected output layout in %s", SCAN_NAME(name));
        goto out;
    }
    if (cmyk) {
        row = malloc((size_t)img->width * 4);
        if (row == NULL) {
            err_set(err, "jpeg: out of memory for %s", SCAN_NAME(name));
            goto out;
        }
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        int dl = scan_row_deadline(cinfo.output_scanline, limits, "jpeg", name, err);
        unsigned char *dst = img->pix + (size_t)cinfo.output_scanline * img->width;
        JSAMPROW rows[1] = { cmyk ? row : dst };
        if (dl != 0) {
            rc = dl;
            goto out;
        }
        if (jpeg_read_scanlines(&cinfo, rows, 1) != 1) {
            err_set(err, "jpeg: truncated file %s", SCAN_NAME(name));
            goto out;
        }
        if (cmyk) {
            for (uint32_t x = 0; x < img->width; x++) {
                unsigned c = row[4 * x], m = row[4 * x + 1], y = row[4 * x + 2], k = row[4 * x + 3];
                if (!inverted) {
                    c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k;
                }
                /* now c,m,y,k are "amount of paper showing": RGB = (1-C)(1-K) */
                dst[x] = scan_luma(c * k / 255, m * k / 255, y * k / 255);
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    if (scan_image_orient(img, ex.orientation, err) != 0)
        goto out;
    rc = 0;
out:
    if (created)
        jpeg_destroy_decompress(&cinfo);
    free(row);
    if (rc != 0)
        scan_pages_release(out);
    return rc;
}

int scan_jpeg_probe(const unsigned char *p, size_t len, const char *name,
                    const struct scan_limits *limits, uint64_t *pixels, uint64_t *largest,
                    struct err *err)
{
    struct jpeg_decompress_struct cinfo;
    struct jpeg_ctx ctx;
    volatile int created = 0, rc = -1;

    if (jpeg_start(&ctx, &cinfo, len, name, NULL, err) != 0)
        return -1;
    if (setjmp(ctx.jmp)) {
        if (!ctx.err_set)
            err_set(err, "jpeg: cannot decode %s", SCAN_NAME(name));
        goto out;
    }
    if ((rc = jpeg_read_checked_header(&ctx, &cinfo, &created, p, len, limits, false, err)) != 0)
        goto out;
    *pixels = *largest = (uint64_t)cinfo.image_width * cinfo.image_height;
out:
    if (created)
        jpeg_destroy_decompress(&cinfo);
    return rc;
}
