/* civreg scanner: TIFF to grayscale with libtiff, read from memory.
 *
 * Every directory is a page (multi-page register scans). Bilevel (CCITT G3,
 * G4, PackBits...), gray 1/2/4/8/16 bits, palette and RGB strips are read
 * line by line; anything else (tiles, YCbCr, CMYK, Lab) goes through
 * libtiff's RGBA reader. Each page's size is checked before its buffer is
 * allocated and libtiff's own allocations are capped. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tiffio.h>

#include "scanner_int.h"

#define TIFF_MAX_ALLOC ((tmsize_t)256 << 20)
/* The RGBA path costs 4 bytes per pixel. */
#define TIFF_MAX_RGBA_PIXELS 50000000ull

struct tiff_mem {
    const unsigned char *data;
    toff_t len, pos;
    const char *name;
    struct err *err;
    int err_set;
};

static tmsize_t mem_read(thandle_t h, void *buf, tmsize_t n)
{
    struct tiff_mem *m = (struct tiff_mem *)h;
    toff_t left = m->pos < m->len ? m->len - m->pos : 0;

    if (n < 0)
        return -1;
    if ((toff_t)n > left)
        n = (tmsize_t)left;
    memcpy(buf, m->data + m->pos, (size_t)n);
    m->pos += (toff_t)n;
    return n;
}

static tmsize_t mem_write(thandle_t h, void *buf, tmsize_t n)
{
    (void)h;
    (void)buf;
    (void)n;
    return -1;
}

static toff_t mem_seek(thandle_t h, toff_t off, int whence)
{
    struct tiff_mem *m = (struct tiff_mem *)h;
    toff_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->len : 0;

    if (off > UINT64_MAX - base)
        return (toff_t)-1;
    /* Seeking past the end is allowed (reads there return nothing). */
    m->pos = base + off;
    return m->pos;
}

static int mem_close(thandle_t h)
{
    (void)h;
    return 0;
}

static toff_t mem_size(thandle_t h)
{
    return ((struct tiff_mem *)h)->len;
}

static int mem_map(thandle_t h, void **base, toff_t *size)
{
    (void)h;
    (void)base;
    (void)size;
    return 0;
}

static void mem_unmap(thandle_t h, void *base, toff_t size)
{
    (void)h;
    (void)base;
    (void)size;
}

/* FMT is libtiff's printf format: the attribute lets compilers check the
 * vsnprintf below instead of refusing a non-literal format. */
__attribute__((format(printf, 4, 0)))
static int tiff_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    struct tiff_mem *m = user;
    char msg[256];

    (void)tif;
    if (!m->err_set) {
        vsnprintf(msg, sizeof msg, fmt, ap);
        err_set(m->err, "tiff: %s%s%s in %s", module ? module : "", module ? ": " : "", msg,
                SCAN_NAME(m->name));
        m->err_set = 1;
    }
    return 1;
}

/* FMT is libtiff's printf format: the attribute lets compilers check the
 * vsnprintf below instead of refusing a non-literal format. */
__attribute__((format(printf, 4, 0)))
static int tiff_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif;
    (void)user;
    (void)module;
    (void)fmt;
    (void)ap;
    return 1;
}

static int fail(struct tiff_mem *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct tiff_mem *m, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    if (m->err_set)
        return -1;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    m->err_set = 1;
    return err_set(m->err, "tiff: %s in %s", msg, SCAN_NAME(m->name));
}

static unsigned char sample(const unsigned char *line, uint32_t i, unsigned bps)
{
    switch (bps) {
    case 1: return (line[i >> 3] >> (7 - (i & 7))) & 1 ? 255 : 0;
    case 2: return (unsigned char)(((line[i >> 2] >> (6 - 2 * (i & 3))) & 3) * 85);
    case 4: return (unsigned char)(((line[i >> 1] >> (4 - 4 * (i & 1))) & 15) * 17);
    case 8: return line[i];
    default: {
        uint16_t v;
        memcpy(&v, line + 2 * (size_t)i, 2); /* libtiff delivers native order */
        return (unsigned char)((v + 128u) / 257u);
    }
    }
}

/* Raw sample value (not scaled), for palette indexes. */
static unsigned index_at(const unsigned char *line, uint32_t i, unsigned bps)
{
    switch (bps) {
    case 1: return (line[i >> 3] >> (7 - (i & 7))) & 1;
    case 2: return (line[i >> 2] >> (6 - 2 * (i & 3))) & 3;
    case 4: return (line[i >> 1] >> (4 - 4 * (i & 1))) & 15;
    case 8: return line[i];
    default: {
        uint16_t v;
        memcpy(&v, line + 2 * (size_t)i, 2);
        return v;
    }
    }
}

static int read_lines(TIFF *tif, struct tiff_mem *m, struct scan_image *img, unsigned bps,
                      unsigned spp, unsigned photo, const struct scan_limits *limits)
{
    uint16_t *cr = NULL, *cg = NULL, *cb = NULL;
    uint16_t nextra = 0, *extra = NULL;
    unsigned char *line = NULL;
    tmsize_t size = TIFFScanlineSize(tif);
    int alpha = 0, rc = -1; /* 1 unassociated, 2 associated */

    if (size <= 0 || (uint64_t)size < ((uint64_t)img->width * spp * bps + 7) / 8)
        return fail(m, "bad scanline size");
    if (photo == PHOTOMETRIC_PALETTE &&
        !TIFFGetField(tif, TIFFTAG_COLORMAP, &cr, &cg, &cb))
        return fail(m, "palette image without a colour map");
    if (TIFFGetField(tif, TIFFTAG_EXTRASAMPLES, &nextra, &extra) && nextra > 0)
        alpha = extra[0] == EXTRASAMPLE_UNASSALPHA ? 1 : extra[0] == EXTRASAMPLE_ASSOCALPHA ? 2 : 0;
    line = malloc((size_t)size);
    if (line == NULL)
        return fail(m, "out of memory");
    for (uint32_t y = 0; y < img->height; y++) {
        unsigned char *dst = img->pix + (size_t)y * img->width;
        int dl = scan_row_deadline(y, limits, "tiff", m->name, m->err);
        if (dl != 0) {
            m->err_set = 1;
            rc = dl;
            goto out;
        }
        if (TIFFReadScanline(tif, line, y, 0) < 0) {
            fail(m, "cannot read line %u (truncated or corrupt)", y);
            goto out;
        }
        for (uint32_t x = 0; x < img->width; x++) {
            uint32_t i = x * spp;
            unsigned g, a = 255;
            switch (photo) {
            case PHOTOMETRIC_MINISWHITE: g = 255u - sample(line, i, bps); break;
            case PHOTOMETRIC_MINISBLACK: g = sample(line, i, bps); break;
            case PHOTOMETRIC_PALETTE: {
                unsigned k = index_at(line, i, bps);
                g = scan_luma(cr[k] >> 8, cg[k] >> 8, cb[k] >> 8);
                break;
            }
            default:
                g = scan_luma(sample(line, i, bps), sample(line, i + 1, bps), sample(line, i + 2, bps));
                break;
            }
            if (alpha && spp > (photo == PHOTOMETRIC_RGB ? 3u : 1u))
                a = sample(line, i + (photo == PHOTOMETRIC_RGB ? 3 : 1), bps);
            if (alpha == 1)
                g = scan_over_white(g, a);
            else if (alpha == 2)
                g = g + (255u - a) > 255u ? 255u : g + (255u - a);
            dst[x] = (unsigned char)g;
        }
    }
    rc = 0;
out:
    free(line);
    return rc;
}

static int read_rgba(TIFF *tif, struct tiff_mem *m, struct scan_image *img)
{
    uint32_t *rgba;
    size_t n = (size_t)img->width * img->height;
    int rc = -1;
    char emsg[1024] = "";

    if ((uint64_t)n > TIFF_MAX_RGBA_PIXELS)
        return fail(m, "%u x %u pixels in a layout only the RGBA path reads (limit %llu pixels)",
                    img->width, img->height, (unsigned long long)TIFF_MAX_RGBA_PIXELS);
    if (!TIFFRGBAImageOK(tif, emsg))
        return fail(m, "unsupported layout: %s", emsg);
    rgba = malloc(n * sizeof *rgba);
    if (rgba == NULL)
        return fail(m, "out of memory");
    if (!TIFFReadRGBAImageOriented(tif, img->width, img->height, rgba, ORIENTATION_TOPLEFT, 1)) {
        fail(m, "cannot read image (truncated or corrupt)");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t px = rgba[i];
        unsigned g = scan_luma(TIFFGetR(px), TIFFGetG(px), TIFFGetB(px));
        /* libtiff's RGBA is premultiplied: add the paper behind. */
        unsigned a = TIFFGetA(px);
        g = g + (255u - a) > 255u ? 255u : g + (255u - a);
        img->pix[i] = (unsigned char)g;
    }
    rc = 0;
out:
    free(rgba);
    return rc;
}

/* How much a compressed byte can expand, or 0 when no bound is known
 * (CCITT codes a blank row in one bit; JPEG and others left to libtiff). */
static uint64_t expansion_ceiling(uint16_t compression)
{
    switch (compression) {
    case COMPRESSION_NONE: return 1;
    case COMPRESSION_PACKBITS: return 64; /* two bytes repeat one 128 times */
    /* RFC 1951: a 258-byte match in two bits at best, 1032:1; plus slack. */
    case COMPRESSION_ADOBE_DEFLATE:
    case COMPRESSION_DEFLATE: return 1100;
    case COMPRESSION_LZW: return 4096; /* 12-bit codes, strings of at most 4096 bytes */
    default: return 0;
    }
}

/* Every strip (or tile) must lie inside the file, and together they must
 * hold enough compressed data for the page they claim: a small file claiming
 * a huge page is refused before the page is allocated. */
static int check_strips(TIFF *tif, struct tiff_mem *m, uint32_t h, uint16_t spp,
                        uint16_t planar)
{
    int tiled = TIFFIsTiled(tif);
    uint32_t n = tiled ? TIFFNumberOfTiles(tif) : TIFFNumberOfStrips(tif);
    uint64_t sum = 0, raw, ceiling;
    uint16_t comp = COMPRESSION_NONE;

    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &comp);
    for (uint32_t i = 0; i < n; i++) {
        int bad = 0;
        uint64_t off = TIFFGetStrileOffsetWithErr(tif, i, &bad);
        uint64_t cnt = TIFFGetStrileByteCountWithErr(tif, i, &bad);
        if (bad || off > m->len || cnt > m->len - off)
            return fail(m, "%s %u lies outside the file (truncated or corrupt)",
                        tiled ? "tile" : "strip", i);
        sum += cnt;
    }
    ceiling = expansion_ceiling(comp);
    raw = tiled ? TIFFTileSize64(tif) * n
                : TIFFScanlineSize64(tif) * h * (planar == PLANARCONFIG_SEPARATE ? spp : 1u);
    if (ceiling != 0 && sum < raw / ceiling) {
        fail(m, "page of %llu bytes claimed from %llu bytes of compressed data, more than they "
                "can hold (refused before decoding)", (unsigned long long)raw,
             (unsigned long long)sum);
        return SCAN_E_LIMIT;
    }
    return 0;
}

/* libtiff's largest single allocation (strip buffers, directories): what a
 * page within the limits needs, within TIFF_MAX_ALLOC. */
static tmsize_t tiff_alloc_cap(const struct scan_limits *limits)
{
    uint64_t px = limits ? limits->max_pixels : 150000000ull;
    uint64_t cap = px * 2 < (16u << 20) ? (16u << 20) : px * 2;

    return cap > (uint64_t)TIFF_MAX_ALLOC ? TIFF_MAX_ALLOC : (tmsize_t)cap;
}

/* Open the TIFF in M, each allocation capped by LIMITS; *OPTS (NULL when
 * none were made) is the caller's to free after TIFFClose. NULL when it
 * cannot be opened, with M's error set. */
static TIFF *tiff_open(struct tiff_mem *m, const struct scan_limits *limits,
                       TIFFOpenOptions **opts)
{
    TIFF *tif;

    if ((*opts = TIFFOpenOptionsAlloc()) == NULL) {
        err_set(m->err, "tiff: out of memory");
        return NULL;
    }
    TIFFOpenOptionsSetMaxSingleMemAlloc(*opts, tiff_alloc_cap(limits));
    TIFFOpenOptionsSetErrorHandlerExtR(*opts, tiff_error, m);
    TIFFOpenOptionsSetWarningHandlerExtR(*opts, tiff_warning, m);
    /* "m": no memory mapping (the data already is in memory). */
    tif = TIFFClientOpenExt(SCAN_NAME(m->name), "rm", (thandle_t)m, mem_read, mem_write,
                            mem_seek, mem_close, mem_size, mem_map, mem_unmap, *opts);
    if (tif == NULL)
        fail(m, "not a readable TIFF (bad header)");
    return tif;
}

int scan_decode_tiff(const unsigned char *p, size_t len, const char *name,
                     const struct scan_limits *limits, struct scan_pages *out, struct err *err)
{
    struct tiff_mem m = { p, len, 0, name, err, 0 };
    TIFFOpenOptions *opts = NULL;
    TIFF *tif = NULL;
    uint64_t total = 0;
    int rc = -1, st;

    out->format = SCAN_FMT_TIFF;
    out->page = NULL;
    out->count = 0;
    if ((tif = tiff_open(&m, limits, &opts)) == NULL)
        goto out;
    do {
        uint32_t w = 0, h = 0;
        uint16_t bps = 1, spp = 1, photo = 0, planar = PLANARCONFIG_CONTIG, orient = 1, unit = 2;
        float xres = 0, yres = 0;
        struct scan_image *img;
        int fast;

        if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w) ||
            !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h)) {
            fail(&m, "page %zu has no dimensions", out->count + 1);
            goto out;
        }
        if ((st = scan_check_dims(w, h, limits, &total, "tiff", name, err)) != 0 ||
            (st = scan_check_deadline(limits, "tiff", name, err)) != 0) {
            m.err_set = 1;
            rc = st;
            goto out;
        }
        TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
        TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
        TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
        TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &orient);
        TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
        if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photo)) {
            /* Baseline readers assume min-is-white for bilevel (TIFF 6.0 §3). */
            photo = bps == 1 ? PHOTOMETRIC_MINISWHITE : PHOTOMETRIC_MINISBLACK;
        }
        if ((st = check_strips(tif, &m, h, spp, planar)) != 0) {
            rc = st;
            goto out;
        }
        if ((st = scan_pages_push(out, limits, "tiff", name, &img, err)) != 0 ||
            (st = scan_image_alloc(img, w, h, limits, "tiff", name, err)) != 0) {
            m.err_set = 1;
            rc = st;
            goto out;
        }
        if (TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xres) &&
            TIFFGetField(tif, TIFFTAG_YRESOLUTION, &yres) && xres > 0 && yres > 0 &&
            xres < 100000 && yres < 100000 && (unit == RESUNIT_INCH || unit == RESUNIT_CENTIMETER)) {
            double f = unit == RESUNIT_CENTIMETER ? 2.54 : 1.0;
            img->dpi_x = xres * f;
            img->dpi_y = yres * f;
        }
        fast = !TIFFIsTiled(tif) && (planar == PLANARCONFIG_CONTIG || spp == 1) &&
               (((photo == PHOTOMETRIC_MINISWHITE || photo == PHOTOMETRIC_MINISBLACK) &&
                 (bps == 1 || bps == 2 || bps == 4 || bps == 8 || bps == 16) && spp >= 1 && spp <= 2) ||
                (photo == PHOTOMETRIC_PALETTE && spp == 1 &&
                 (bps == 1 || bps == 2 || bps == 4 || bps == 8)) ||
                (photo == PHOTOMETRIC_RGB && (bps == 8 || bps == 16) && spp >= 3 && spp <= 4));
        if (fast) {
            if ((st = read_lines(tif, &m, img, bps, spp, photo, limits)) != 0) {
                rc = st;
                goto out;
            }
            if (scan_image_orient(img, orient, err) != 0)
                goto out;
        } else if (read_rgba(tif, &m, img) != 0) {
            goto out;
        }
        if (m.err_set)
            goto out; /* libtiff reported an error while still returning data */
    } while (TIFFReadDirectory(tif));
    if (m.err_set)
        goto out;
    rc = 0;
out:
    if (tif != NULL)
        TIFFClose(tif);
    TIFFOpenOptionsFree(opts);
    if (rc != 0) {
        if (!m.err_set && err != NULL && err->msg[0] == '\0')
            err_set(err, "tiff: cannot decode %s", SCAN_NAME(name));
        scan_pages_release(out);
    }
    return rc;
}

size_t scan_tiff_count_pages(const unsigned char *p, size_t len)
{
    struct err err = ERR_INIT;
    struct tiff_mem m = { p, len, 0, "count", &err, 0 };
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    TIFF *tif;
    size_t n = 1;

    if (opts == NULL)
        return 1;
    TIFFOpenOptionsSetMaxSingleMemAlloc(opts, TIFF_MAX_ALLOC);
    TIFFOpenOptionsSetErrorHandlerExtR(opts, tiff_error, &m);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, tiff_warning, &m);
    tif = TIFFClientOpenExt("count", "rm", (thandle_t)&m, mem_read, mem_write, mem_seek,
                            mem_close, mem_size, mem_map, mem_unmap, opts);
    if (tif != NULL) {
        tdir_t d = TIFFNumberOfDirectories(tif);
        n = d > 0 ? (size_t)d : 1;
        TIFFClose(tif);
    }
    TIFFOpenOptionsFree(opts);
    return n;
}

int scan_tiff_probe(const unsigned char *p, size_t len, const char *name,
                    const struct scan_limits *limits, uint64_t *pixels, uint64_t *largest,
                    struct err *err)
{
    const struct scan_limits deflt = SCAN_LIMITS_DEFAULT;
    const struct scan_limits *l = limits ? limits : &deflt;
    struct tiff_mem m = { p, len, 0, name, err, 0 };
    TIFFOpenOptions *opts = NULL;
    TIFF *tif = NULL;
    uint64_t total = 0;
    size_t pages = 0;
    int rc = -1;

    if ((tif = tiff_open(&m, limits, &opts)) == NULL)
        goto out;
    do {
        uint32_t w = 0, h = 0;
        uint16_t spp = 1, planar = PLANARCONFIG_CONTIG;
        if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w) ||
            !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h)) {
            fail(&m, "page %zu has no dimensions", pages + 1);
            goto out;
        }
        if (++pages > l->max_pages) {
            err_set(err, "tiff: %s has more than %zu pages (refused)", SCAN_NAME(name),
                    l->max_pages);
            rc = SCAN_E_LIMIT;
            goto out;
        }
        if ((rc = scan_check_dims(w, h, limits, &total, "tiff", name, err)) != 0)
            goto out;
        TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
        TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
        if ((rc = check_strips(tif, &m, h, spp, planar)) != 0)
            goto out;
        rc = -1;
        if ((uint64_t)w * h > *largest)
            *largest = (uint64_t)w * h;
    } while (TIFFReadDirectory(tif));
    *pixels = total;
    rc = 0;
out:
    if (tif != NULL)
        TIFFClose(tif);
    TIFFOpenOptionsFree(opts);
    if (rc != 0 && err != NULL && err->msg[0] == '\0')
        err_set(err, "tiff: cannot read %s", SCAN_NAME(name));
    return rc;
}
