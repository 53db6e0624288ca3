/* civreg scanner: page images, limits, format dispatch and the small image
 * operations the barcode reader and quality checks share. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "scanner_int.h"

static const struct scan_limits default_limits = SCAN_LIMITS_DEFAULT;

enum scan_format scan_format_sniff(const unsigned char *p, size_t len)
{
    if (len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return SCAN_FMT_PNG;
    if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
        return SCAN_FMT_JPEG;
    if (len >= 4 && (memcmp(p, "II*\0", 4) == 0 || memcmp(p, "MM\0*", 4) == 0 ||
                     memcmp(p, "II+\0", 4) == 0 || memcmp(p, "MM\0+", 4) == 0))
        return SCAN_FMT_TIFF;
    if (len >= 2 && p[0] == 'P' && p[1] >= '1' && p[1] <= '6')
        return SCAN_FMT_PNM;
    return SCAN_FMT_UNKNOWN;
}

/* The formats civreg reads, by enum scan_format: name, decoder, probe. */
static const struct scan_codec {
    const char *name;
    scan_decode_fn *decode;
    scan_probe_fn *probe;
} codecs[] = {
    [SCAN_FMT_PNG] = { "png", scan_decode_png, scan_png_probe },
    [SCAN_FMT_JPEG] = { "jpeg", scan_decode_jpeg, scan_jpeg_probe },
    [SCAN_FMT_TIFF] = { "tiff", scan_decode_tiff, scan_tiff_probe },
    [SCAN_FMT_PNM] = { "pnm", scan_decode_pnm, scan_pnm_probe },
};

static const struct scan_codec *codec_of(enum scan_format f)
{
    if ((size_t)f >= sizeof codecs / sizeof codecs[0] || codecs[f].name == NULL)
        return NULL;
    return &codecs[f];
}

/* The codec of the file's first bytes; NULL with ERR set when none. */
static const struct scan_codec *codec_sniff(const unsigned char *p, size_t len, const char *name,
                                            struct err *err)
{
    const struct scan_codec *c = codec_of(scan_format_sniff(p, len));

    if (c == NULL)
        err_set(err, "%s: not an image civreg reads (PNG, JPEG, TIFF or PNM expected, "
                     "first bytes do not match any)", SCAN_NAME(name));
    return c;
}

const char *scan_format_name(enum scan_format f)
{
    const struct scan_codec *c = codec_of(f);
    return c ? c->name : "unknown";
}

int scan_decode(const unsigned char *p, size_t len, const char *name,
                const struct scan_limits *limits, struct scan_pages *out, struct err *err)
{
    const struct scan_codec *c;

    out->format = SCAN_FMT_UNKNOWN;
    out->page = NULL;
    out->count = 0;
    if (len == 0)
        return err_set(err, "%s: empty file", SCAN_NAME(name));
    if ((c = codec_sniff(p, len, name, err)) == NULL)
        return -1;
    return c->decode(p, len, name, limits, out, err);
}

int scan_probe(const unsigned char *p, size_t len, const char *name,
               const struct scan_limits *limits, uint64_t *pixels, uint64_t *largest,
               struct err *err)
{
    const struct scan_codec *c;

    *pixels = *largest = 0;
    if ((c = codec_sniff(p, len, name, err)) == NULL)
        return -1;
    return c->probe(p, len, name, limits, pixels, largest, err);
}

size_t scan_count_pages(const unsigned char *p, size_t len)
{
    return scan_format_sniff(p, len) == SCAN_FMT_TIFF ? scan_tiff_count_pages(p, len) : 1;
}

int scan_read_file(const char *path, size_t max, unsigned char **out, size_t *len,
                   struct err *err)
{
    struct stat st;
    unsigned char *data = NULL;
    size_t got = 0;
    int fd, rc = -1;

    *out = NULL;
    *len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0) {
        err_set(err, "%s: cannot stat: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        err_set(err, "%s: not a regular file", path);
        goto out;
    }
    if ((uint64_t)st.st_size > max) {
        err_set(err, "%s: file of %lld bytes is over the %zu byte limit", path,
                (long long)st.st_size, max);
        goto out;
    }
    data = malloc((size_t)st.st_size + 1);
    if (data == NULL) {
        err_set(err, "%s: out of memory", path);
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err_set(err, "%s: read failed: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got != (size_t)st.st_size) {
        err_set(err, "%s: file shrank while being read", path);
        goto out;
    }
    *out = data;
    *len = got;
    data = NULL;
    rc = 0;
out:
    free(data);
    close(fd);
    return rc;
}

int scan_decode_file(const char *path, const struct scan_limits *limits,
                     struct scan_pages *out, struct err *err)
{
    unsigned char *data = NULL;
    size_t len = 0;
    int rc;

    out->format = SCAN_FMT_UNKNOWN;
    out->page = NULL;
    out->count = 0;
    if (scan_read_file(path, (size_t)512 << 20, &data, &len, err) != 0)
        return -1;
    rc = scan_decode(data, len, path, limits, out, err);
    free(data);
    return rc;
}

void scan_image_release(struct scan_image *img)
{
    if (img == NULL)
        return;
    free(img->pix);
    img->pix = NULL;
    img->width = img->height = 0;
}

void scan_pages_release(struct scan_pages *pages)
{
    if (pages == NULL)
        return;
    for (size_t i = 0; i < pages->count; i++)
        scan_image_release(&pages->page[i]);
    free(pages->page);
    pages->page = NULL;
    pages->count = 0;
}

int scan_check_dims(uint64_t width, uint64_t height, const struct scan_limits *limits,
                    uint64_t *total, const char *fmt, const char *name, struct err *err)
{
    const struct scan_limits *l = limits ? limits : &default_limits;

    if (width == 0 || height == 0)
        return err_set(err, "%s: %s claims an empty picture (%llu x %llu)", fmt,
                       SCAN_NAME(name), (unsigned long long)width, (unsigned long long)height);
    if (width > l->max_width || height > l->max_height) {
        err_set(err, "%s: %s claims %llu x %llu pixels, over the limit of %u x %u "
                     "(refused before decoding)", fmt, SCAN_NAME(name),
                (unsigned long long)width, (unsigned long long)height, l->max_width,
                l->max_height);
        return SCAN_E_LIMIT;
    }
    if (width * height > l->max_pixels) {
        err_set(err, "%s: %s claims %llu x %llu = %llu pixels, over the limit of %llu "
                     "(refused before decoding)", fmt, SCAN_NAME(name),
                (unsigned long long)width, (unsigned long long)height,
                (unsigned long long)(width * height), (unsigned long long)l->max_pixels);
        return SCAN_E_LIMIT;
    }
    if (total != NULL) {
        if (*total + width * height > l->max_total_pixels) {
            err_set(err, "%s: %s holds more than %llu pixels over all its pages (refused)", fmt,
                    SCAN_NAME(name), (unsigned long long)l->max_total_pixels);
            return SCAN_E_LIMIT;
        }
        *total += width * height;
    }
    return 0;
}

int64_t scan_clock_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int scan_check_deadline(const struct scan_limits *limits, const char *what, const char *name,
                        struct err *err)
{
    if (limits == NULL || limits->deadline_ms == 0 || scan_clock_ms() < limits->deadline_ms)
        return 0;
    err_set(err, "%s: reading %s took longer than allowed (stopped)", what, SCAN_NAME(name));
    return SCAN_E_DEADLINE;
}

int scan_image_alloc(struct scan_image *img, uint32_t width, uint32_t height,
                     const struct scan_limits *limits, const char *fmt, const char *name,
                     struct err *err)
{
    int rc;

    img->pix = NULL;
    img->width = img->height = 0;
    img->dpi_x = img->dpi_y = 0;
    if ((rc = scan_check_dims(width, height, limits, NULL, fmt, name, err)) != 0)
        return rc;
    img->pix = malloc((size_t)width * height);
    if (img->pix == NULL)
        return err_set(err, "%s: out of memory for %u x %u pixels in %s", fmt, width, height,
                       SCAN_NAME(name));
    memset(img->pix, 255, (size_t)width * height);
    img->width = width;
    img->height = height;
    return 0;
}

int scan_pages_push(struct scan_pages *pages, const struct scan_limits *limits,
                    const char *fmt, const char *name, struct scan_image **slot,
                    struct err *err)
{
    const struct scan_limits *l = limits ? limits : &default_limits;
    struct scan_image *grown;

    if (pages->count >= l->max_pages) {
        err_set(err, "%s: %s has more than %zu pages (refused)", fmt, SCAN_NAME(name),
                l->max_pages);
        return SCAN_E_LIMIT;
    }
    grown = realloc(pages->page, (pages->count + 1) * sizeof *grown);
    if (grown == NULL)
        return err_set(err, "%s: out of memory", fmt);
    pages->page = grown;
    memset(&grown[pages->count], 0, sizeof *grown);
    *slot = &grown[pages->count++];
    return 0;
}

/* ---- image operations ---- */

int scan_otsu_threshold(const struct scan_image *img)
{
    uint64_t hist[256] = { 0 }, total = (uint64_t)img->width * img->height;
    double sum = 0, sum_b = 0, best = -1;
    uint64_t w_b = 0;
    int threshold = 127;

    for (uint64_t i = 0; i < total; i++)
        hist[img->pix[i]]++;
    for (int i = 0; i < 256; i++)
        sum += (double)i * (double)hist[i];
    for (int t = 0; t < 256; t++) {
        uint64_t w_f;
        double m_b, m_f, between;
        w_b += hist[t];
        if (w_b == 0)
            continue;
        w_f = total - w_b;
        if (w_f == 0)
            break;
        sum_b += (double)t * (double)hist[t];
        m_b = sum_b / (double)w_b;
        m_f = (sum - sum_b) / (double)w_f;
        between = (double)w_b * (double)w_f * (m_b - m_f) * (m_b - m_f);
        if (between > best) {
            best = between;
            threshold = t;
        }
    }
    return threshold;
}

static int image_new(struct scan_image *out, uint32_t w, uint32_t h, struct err *err)
{
    scan_image_release(out);
    out->pix = malloc((size_t)w * h);
    if (out->pix == NULL)
        return err_set(err, "image: out of memory for %u x %u pixels", w, h);
    out->width = w;
    out->height = h;
    return 0;
}

int scan_image_binarize(const struct scan_image *img, int threshold, struct scan_image *out,
                        struct err *err)
{
    size_t n = (size_t)img->width * img->height;

    if (image_new(out, img->width, img->height, err) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        out->pix[i] = img->pix[i] <= threshold ? 0 : 255;
    out->dpi_x = img->dpi_x;
    out->dpi_y = img->dpi_y;
    return 0;
}

int scan_image_reduce(const struct scan_image *img, unsigned factor, struct scan_image *out,
                      struct err *err)
{
    uint32_t w, h;

    if (factor == 0)
        factor = 1;
    w = (img->width + factor - 1) / factor;
    h = (img->height + factor - 1) / factor;
    if (image_new(out, w, h, err) != 0)
        return -1;
    for (uint32_t y = 0; y < h; y++) {
        uint32_t y0 = y * factor, y1 = y0 + factor > img->height ? img->height : y0 + factor;
        for (uint32_t x = 0; x < w; x++) {
            uint32_t x0 = x * factor, x1 = x0 + factor > img->width ? img->width : x0 + factor;
            uint32_t sum = 0, n = 0;
            for (uint32_t yy = y0; yy < y1; yy++) {
                const unsigned char *row = img->pix + (size_t)yy * img->width;
                for (uint32_t xx = x0; xx < x1; xx++)
                    sum += row[xx];
                n += x1 - x0;
            }
            out->pix[(size_t)y * w + x] = (unsigned char)((sum + n / 2) / n);
        }
    }
    out->dpi_x = img->dpi_x / factor;
    out->dpi_y = img->dpi_y / factor;
    return 0;
}

int scan_image_fit(const struct scan_image *img, uint32_t max_side, struct scan_image *out,
                   struct err *err)
{
    uint32_t side = img->width > img->height ? img->width : img->height, w, h;
    double scale;

    if (max_side == 0)
        max_side = 1;
    scale = side > max_side ? (double)max_side / side : 1.0;
    w = (uint32_t)fmax(1.0, floor(img->width * scale + 0.5));
    h = (uint32_t)fmax(1.0, floor(img->height * scale + 0.5));
    if (image_new(out, w, h, err) != 0)
        return -1;
    /* Area average over the source rectangle of each target pixel, so thin
     * strokes survive strong reductions (a preview of a 600 dpi page). */
    for (uint32_t y = 0; y < h; y++) {
        uint32_t y0 = (uint32_t)((uint64_t)y * img->height / h);
        uint32_t y1 = (uint32_t)((uint64_t)(y + 1) * img->height / h);
        if (y1 <= y0)
            y1 = y0 + 1;
        for (uint32_t x = 0; x < w; x++) {
            uint32_t x0 = (uint32_t)((uint64_t)x * img->width / w);
            uint32_t x1 = (uint32_t)((uint64_t)(x + 1) * img->width / w);
            uint64_t sum = 0, n;
            if (x1 <= x0)
                x1 = x0 + 1;
            for (uint32_t yy = y0; yy < y1; yy++) {
                const unsigned char *row = img->pix + (size_t)yy * img->width;
                for (uint32_t xx = x0; xx < x1; xx++)
                    sum += row[xx];
            }
            n = (uint64_t)(y1 - y0) * (x1 - x0);
            out->pix[(size_t)y * w + x] = (unsigned char)((sum + n / 2) / n);
        }
    }
    out->dpi_x = img->dpi_x * w / img->width;
    out->dpi_y = img->dpi_y * h / img->height;
    return 0;
}

int scan_image_crop(const struct scan_image *img, uint32_t x, uint32_t y, uint32_t width,
                    uint32_t height, struct scan_image *out, struct err *err)
{
    if (x >= img->width || y >= img->height || width == 0 || height == 0)
        return err_set(err, "image: empty crop at %u,%u of a %u x %u image", x, y, img->width,
                       img->height);
    if (width > img->width - x)
        width = img->width - x;
    if (height > img->height - y)
        height = img->height - y;
    if (image_new(out, width, height, err) != 0)
        return -1;
    for (uint32_t r = 0; r < height; r++)
        memcpy(out->pix + (size_t)r * width, img->pix + (size_t)(y + r) * img->width + x, width);
    out->dpi_x = img->dpi_x;
    out->dpi_y = img->dpi_y;
    return 0;
}

int scan_image_enlarge2(const struct scan_image *img, struct scan_image *out, struct err *err)
{
    uint32_t w = img->width * 2, h = img->height * 2;

    if (img->width > UINT32_MAX / 2 || img->height > UINT32_MAX / 2 ||
        (uint64_t)w * h > 4ull * 150000000ull)
        return err_set(err, "image: too large to enlarge");
    if (image_new(out, w, h, err) != 0)
        return -1;
    for (uint32_t y = 0; y < h; y++) {
        const unsigned char *src = img->pix + (size_t)(y / 2) * img->width;
        unsigned char *dst = out->pix + (size_t)y * w;
        for (uint32_t x = 0; x < w; x++)
            dst[x] = src[x / 2];
    }
    out->dpi_x = img->dpi_x * 2;
    out->dpi_y = img->dpi_y * 2;
    return 0;
}

/* EXIF 2.3 / TIFF 6.0 Orientation: 1 top-left (as stored), 2 mirrored,
 * 3 rotated 180, 4 flipped, 5 transposed, 6 rotate 90 clockwise to view,
 * 7 transverse, 8 rotate 90 counter-clockwise to view. */
int scan_image_orient(struct scan_image *img, int orientation, struct err *err)
{
    uint32_t w = img->width, h = img->height, nw, nh;
    unsigned char *dst;
    double dpi;

    if (orientation <= 1 || orientation > 8)
        return 0;
    nw = orientation >= 5 ? h : w;
    nh = orientation >= 5 ? w : h;
    dst = malloc((size_t)w * h);
    if (dst == NULL)
        return err_set(err, "image: out of memory rotating %u x %u pixels", w, h);
    for (uint32_t y = 0; y < nh; y++) {
        for (uint32_t x = 0; x < nw; x++) {
            uint32_t sx, sy;
            switch (orientation) {
            case 2: sx = w - 1 - x; sy = y; break;
            case 3: sx = w - 1 - x; sy = h - 1 - y; break;
            case 4: sx = x; sy = h - 1 - y; break;
            case 5: sx = y; sy = x; break;
            case 6: sx = y; sy = h - 1 - x; break;
            case 7: sx = w - 1 - y; sy = h - 1 - x; break;
            default: sx = w - 1 - y; sy = x; break; /* 8 */
            }
            dst[(size_t)y * nw + x] = img->pix[(size_t)sy * w + sx];
        }
    }
    free(img->pix);
    img->pix = dst;
    img->width = nw;
    img->height = nh;
    if (orientation >= 5) {
        dpi = img->dpi_x;
        img->dpi_x = img->dpi_y;
        img->dpi_y = dpi;
    }
    return 0;
}
