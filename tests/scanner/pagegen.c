/* civreg tests: synthetic register-page scans (see pagegen.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <qrencode.h>
#include <tiffio.h>

#include "pagegen.h"
#include "scanner/separator.h"

uint64_t pg_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

const char *pg_zbar_name(enum pg_symbology s)
{
    switch (s) {
    case PG_QR: return "QR-Code";
    case PG_CODE128: return "CODE-128";
    case PG_CODE39: return "CODE-39";
    case PG_EAN13: return "EAN-13";
    case PG_I25: return "I2/5";
    default: return "";
    }
}

int pg_page(struct scan_image *img, uint32_t w, uint32_t h, unsigned char paper)
{
    img->pix = malloc((size_t)w * h);
    if (img->pix == NULL)
        return -1;
    memset(img->pix, paper, (size_t)w * h);
    img->width = w;
    img->height = h;
    img->dpi_x = img->dpi_y = 0;
    return 0;
}

void pg_rect(struct scan_image *img, long x, long y, long w, long h, unsigned char v)
{
    for (long yy = y < 0 ? 0 : y; yy < y + h && yy < (long)img->height; yy++)
        for (long xx = x < 0 ? 0 : x; xx < x + w && xx < (long)img->width; xx++)
            img->pix[(size_t)yy * img->width + (size_t)xx] = v;
}

/* Draw alternating bar/space widths (bar first), in modules. */
static long draw_widths(struct scan_image *img, long x, long y, int module, int height,
                        const unsigned char *wd, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i % 2 == 0)
            pg_rect(img, x, y, (long)wd[i] * module, height, 0);
        x += (long)wd[i] * module;
    }
    return x;
}

/* ---- Code 39 (ISO/IEC 16388): 5 bars and 4 spaces, 3 of 9 wide. The 40
 * characters 1-9,0 / A-J / K-T / U-Z - . space * share ten bar patterns and
 * differ by which space is wide; $ / + % have three wide spaces. */
static const char c39_chars[] = "1234567890ABCDEFGHIJKLMNOPQRSTUVWXYZ-. *";
static const char *const c39_bars[10] = { "WNNNW", "NWNNW", "WWNNN", "NNWNW", "WNWNN",
                                          "NWWNN", "NNNWW", "WNNWN", "NWNWN", "NNWWN" };
static const char *const c39_spaces[4] = { "NWNN", "NNWN", "NNNW", "WNNN" };

static int c39_widths(char c, unsigned char out[10])
{
    const char *p = strchr(c39_chars, c);
    int k;

    if (c == 0 || p == NULL)
        return -1;
    k = (int)(p - c39_chars);
    for (int i = 0; i < 5; i++) {
        out[2 * i] = c39_bars[k % 10][i] == 'W' ? 3 : 1;
        if (i < 4)
            out[2 * i + 1] = c39_spaces[k / 10][i] == 'W' ? 3 : 1;
    }
    out[9] = 1; /* inter-character gap */
    return 0;
}

/* ---- Interleaved 2 of 5 (ISO/IEC 16390): digit pairs, the first's
 * pattern in the bars and the second's in the spaces. */
static const char *const i25_pat[10] = { "NNWWN", "WNNNW", "NWNNW", "WWNNN", "NNWNW",
                                         "WNWNN", "NWWNN", "NNNWW", "WNNWN", "NWNWN" };

/* ---- EAN-13 (ISO/IEC 15420): L and R codes; G is R reversed; the first
 * digit picks the L/G parity of the left half. */
static const char *const ean_l[10] = { "0001101", "0011001", "0010011", "0111101", "0100011",
                                       "0110001", "0101111", "0111011", "0110111", "0001011" };
static const char *const ean_parity[10] = { "LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG",
                                            "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL" };

void pg_ean13_complete(const char *twelve, char *out)
{
    int sum = 0;

    for (int i = 0; i < 12; i++)
        sum += (twelve[i] - '0') * (i % 2 ? 3 : 1);
    memcpy(out, twelve, 12);
    out[12] = (char)('0' + (10 - sum % 10) % 10);
    out[13] = 0;
}

static long draw_bits(struct scan_image *img, long x, long y, int module, int height,
                      const char *bits, int invert, int reverse)
{
    size_t n = strlen(bits);
    for (size_t i = 0; i < n; i++) {
        char b = bits[reverse ? n - 1 - i : i];
        if ((b == '1') != invert)
            pg_rect(img, x, y, module, height, 0);
        x += module;
    }
    return x;
}

static int draw_qr(struct scan_image *img, long x, long y, int module, const char *text)
{
    QRcode *qr = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
    int w;

    if (qr == NULL)
        return -1;
    for (int r = 0; r < qr->width; r++)
        for (int c = 0; c < qr->width; c++)
            if (qr->data[r * qr->width + c] & 1)
                pg_rect(img, x + (long)c * module, y + (long)r * module, module, module, 0);
    w = qr->width * module;
    QRcode_free(qr);
    return w;
}

int pg_barcode(struct scan_image *img, enum pg_symbology s, long x, long y, int module,
               int height, const char *text)
{
    unsigned char wd[1024];
    size_t n = 0, len = strlen(text);
    long x0 = x;

    switch (s) {
    case PG_QR:
        return draw_qr(img, x, y, module, text);
    case PG_CODE128: {
        int k = scan_code128_widths(text, wd, sizeof wd, NULL);
        if (k < 0)
            return -1;
        return (int)(draw_widths(img, x, y, module, height, wd, (size_t)k) - x0);
    }
    case PG_CODE39: {
        char full[96];
        if (len + 3 > sizeof full)
            return -1;
        snprintf(full, sizeof full, "*%s*", text);
        for (size_t i = 0; full[i]; i++) {
            if (c39_widths(full[i], wd + n) != 0)
                return -1;
            n += 10;
        }
        return (int)(draw_widths(img, x, y, module, height, wd, n - 1) - x0);
    }
    case PG_I25: {
        static const unsigned char start[] = { 1, 1, 1, 1 }, stop[] = { 3, 1, 1 };
        if (len == 0 || len % 2 || len > 80)
            return -1;
        memcpy(wd, start, 4);
        n = 4;
        for (size_t i = 0; i < len; i += 2) {
            if (text[i] < '0' || text[i] > '9' || text[i + 1] < '0' || text[i + 1] > '9')
                return -1;
            for (int k = 0; k < 5; k++) {
                wd[n++] = i25_pat[text[i] - '0'][k] == 'W' ? 3 : 1;
                wd[n++] = i25_pat[text[i + 1] - '0'][k] == 'W' ? 3 : 1;
            }
        }
        memcpy(wd + n, stop, 3);
        n += 3;
        return (int)(draw_widths(img, x, y, module, height, wd, n) - x0);
    }
    case PG_EAN13: {
        const char *par;
        if (len != 13)
            return -1;
        par = ean_parity[text[0] - '0'];
        x = draw_bits(img, x, y, module, height + 5 * module, "101", 0, 0);
        for (int i = 1; i <= 6; i++)
            x = draw_bits(img, x, y, module, height, ean_l[text[i] - '0'], par[i - 1] == 'G',
                          par[i - 1] == 'G');
        x = draw_bits(img, x, y, module, height + 5 * module, "01010", 0, 0);
        for (int i = 7; i <= 12; i++)
            x = draw_bits(img, x, y, module, height, ean_l[text[i] - '0'], 1, 0);
        x = draw_bits(img, x, y, module, height + 5 * module, "101", 0, 0);
        return (int)(x - x0);
    }
    default:
        return 0;
    }
}

int pg_barcode_read(struct scan_reader *rd, enum pg_symbology s, int module, const char *text,
                    struct scan_image *page, struct scan_symbols *syms, struct err *err)
{
    int w;
    if (pg_page(page, 600, 400, 255) != 0)
        return -1;
    w = pg_barcode(page, s, 100, 120, module, 80, text);
    if (w <= 0 || scan_read_barcodes(rd, page, syms, err) != 0)
        return -1;
    return w;
}

void pg_text(struct scan_image *img, long x, long y, long w, long h, int size, uint64_t seed)
{
    uint64_t st = seed | 1;
    int gw = size * 5 / 7 > 2 ? size * 5 / 7 : 3, cell = size / 7 > 1 ? size / 7 : 1;

    for (long ly = y; ly + size <= y + h; ly += size * 2) {
        long lx = x;
        while (lx + gw <= x + w) {
            int word = 2 + (int)(pg_rand(&st) % 8);
            for (int c = 0; c < word && lx + gw <= x + w; c++) {
                uint64_t g = pg_rand(&st);
                /* a 5x7 glyph: a vertical stem plus random strokes */
                for (int r = 0; r < 7; r++)
                    for (int k = 0; k < 5; k++)
                        if (k == 0 || ((g >> (r * 5 + k)) & 1 && (r + k) % 2 == 0))
                            pg_rect(img, lx + k * cell, ly + r * cell, cell, cell, 20);
                lx += gw + cell * 2;
            }
            lx += gw;
        }
    }
}

int pg_rotate(struct scan_image *img, double degrees)
{
    double a = degrees * M_PI / 180.0, c = cos(a), s = sin(a);
    double cx = img->width / 2.0, cy = img->height / 2.0;
    unsigned char *out = malloc((size_t)img->width * img->height);

    if (out == NULL)
        return -1;
    for (uint32_t y = 0; y < img->height; y++) {
        for (uint32_t x = 0; x < img->width; x++) {
            /* inverse map: rotating the page by +degrees (clockwise on screen) */
            double dx = x - cx, dy = y - cy;
            double sx = c * dx + s * dy + cx, sy = -s * dx + c * dy + cy;
            long x0 = (long)floor(sx), y0 = (long)floor(sy);
            double fx = sx - x0, fy = sy - y0, v = 0;
            for (int k = 0; k < 4; k++) {
                long xx = x0 + (k & 1), yy = y0 + (k >> 1);
                double wgt = ((k & 1) ? fx : 1 - fx) * ((k >> 1) ? fy : 1 - fy);
                unsigned char p = 255;
                if (xx >= 0 && yy >= 0 && xx < (long)img->width && yy < (long)img->height)
                    p = img->pix[(size_t)yy * img->width + (size_t)xx];
                v += wgt * p;
            }
            out[(size_t)y * img->width + x] = (unsigned char)lround(v);
        }
    }
    free(img->pix);
    img->pix = out;
    return 0;
}

/* One box-filter pass of RADIUS from SRC into DST along LINES lines of N
 * samples each, sample I of line L at L * LINE_STEP + I * STEP (rows:
 * steps W and 1; columns: 1 and W). Near an edge, the mean of what is there. */
static void box_pass(const unsigned char *src, unsigned char *dst, size_t lines, size_t n,
                     size_t line_step, size_t step, int radius)
{
    for (size_t l = 0; l < lines; l++)
        for (size_t i = 0; i < n; i++) {
            int sum = 0, cnt = 0;
            for (long k = -(long)radius; k <= radius; k++) {
                long j = (long)i + k;
                if (j >= 0 && j < (long)n) {
                    sum += src[l * line_step + (size_t)j * step];
                    cnt++;
                }
            }
            dst[l * line_step + i * step] = (unsigned char)(sum / cnt);
        }
}

int pg_blur(struct scan_image *img, int radius)
{
    size_t w = img->width, h = img->height;
    unsigned char *tmp = malloc(w * h);

    if (tmp == NULL)
        return -1;
    for (int pass = 0; pass < 2; pass++) {
        box_pass(img->pix, tmp, h, w, w, 1, radius);
        box_pass(tmp, img->pix, w, h, 1, w, radius);
    }
    free(tmp);
    return 0;
}

void pg_noise(struct scan_image *img, int amplitude, uint64_t seed)
{
    uint64_t st = seed | 1;
    size_t n = (size_t)img->width * img->height;

    for (size_t i = 0; i < n; i++) {
        /* sum of two uniforms: a triangular, roughly Gaussian grain */
        int d = (int)(pg_rand(&st) % (2u * (unsigned)amplitude + 1)) - amplitude;
        d = (d + (int)(pg_rand(&st) % (2u * (unsigned)amplitude + 1)) - amplitude) / 2;
        int v = img->pix[i] + d;
        img->pix[i] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}

void pg_levels(struct scan_image *img, int black, int white)
{
    size_t n = (size_t)img->width * img->height;
    for (size_t i = 0; i < n; i++)
        img->pix[i] = (unsigned char)(black + (white - black) * img->pix[i] / 255);
}

int pg_write_pnm(const char *path, const struct scan_image *img)
{
    FILE *f = fopen(path, "wb");
    int rc;

    if (f == NULL)
        return -1;
    fprintf(f, "P5\n# civreg test page\n%u %u\n255\n", img->width, img->height);
    rc = fwrite(img->pix, 1, (size_t)img->width * img->height, f) ==
                 (size_t)img->width * img->height ? 0 : -1;
    return fclose(f) == 0 ? rc : -1;
}

int pg_write_png(const char *path, const struct scan_image *img)
{
    unsigned char *data = NULL;
    size_t len = 0;
    FILE *f;
    int rc = -1;

    if (scan_image_encode_png(img, &data, &len, NULL) != 0)
        return -1;
    f = fopen(path, "wb");
    if (f != NULL) {
        rc = fwrite(data, 1, len, f) == len ? 0 : -1;
        if (fclose(f) != 0)
            rc = -1;
    }
    free(data);
    return rc;
}

int pg_write_jpeg(const char *path, const struct scan_image *img, int quality, int progressive)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    FILE *f = fopen(path, "wb");

    if (f == NULL)
        return -1;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = img->width;
    c.image_height = img->height;
    c.input_components = 1;
    c.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    if (progressive)
        jpeg_simple_progression(&c);
    if (img->dpi_x > 0) {
        c.density_unit = 1;
        c.X_density = (UINT16)lround(img->dpi_x);
        c.Y_density = (UINT16)lround(img->dpi_y);
    }
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = img->pix + (size_t)c.next_scanline * img->width;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return fclose(f) == 0 ? 0 : -1;
}

static void tiff_quiet(const char *m, const char *fmt, va_list ap)
{
    (void)m;
    (void)fmt;
    (void)ap;
}

/* The tags of one gray (BITS 8) or bilevel (BITS 1) page of IMG's size. */
static void tiff_set_image(TIFF *t, const struct scan_image *img, int bits, int compression,
                           int photometric)
{
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, img->width);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, img->height);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, bits);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(t, TIFFTAG_COMPRESSION, compression);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, photometric);
}

int pg_write_tiff_g4(const char *path, const struct scan_image *pages, size_t n)
{
    TIFF *t;
    int rc = 0;

    TIFFSetWarningHandler(tiff_quiet);
    t = TIFFOpen(path, "w");
    if (t == NULL)
        return -1;
    for (size_t p = 0; p < n && rc == 0; p++) {
        const struct scan_image *img = &pages[p];
        size_t rowbytes = (img->width + 7) / 8;
        unsigned char *row = calloc(rowbytes, 1);
        if (row == NULL)
            return TIFFClose(t), -1;
        tiff_set_image(t, img, 1, COMPRESSION_CCITTFAX4, PHOTOMETRIC_MINISWHITE);
        TIFFSetField(t, TIFFTAG_FILLORDER, FILLORDER_MSB2LSB);
        TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, img->height);
        TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
        TIFFSetField(t, TIFFTAG_PAGENUMBER, (uint16_t)p, (uint16_t)n);
        if (img->dpi_x > 0) {
            TIFFSetField(t, TIFFTAG_XRESOLUTION, (float)img->dpi_x);
            TIFFSetField(t, TIFFTAG_YRESOLUTION, (float)img->dpi_y);
            TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
        }
        for (uint32_t y = 0; y < img->height && rc == 0; y++) {
            memset(row, 0, rowbytes);
            for (uint32_t x = 0; x < img->width; x++)
                if (img->pix[(size_t)y * img->width + x] < 128)
                    row[x >> 3] |= (unsigned char)(0x80 >> (x & 7));
            if (TIFFWriteScanline(t, row, y, 0) < 0)
                rc = -1;
        }
        free(row);
        if (rc == 0 && !TIFFWriteDirectory(t))
            rc = -1;
    }
    TIFFClose(t);
    return rc;
}

int pg_write_tiff_gray(const char *path, const struct scan_image *img, int compression)
{
    TIFF *t = TIFFOpen(path, "w");
    unsigned char *row;
    int rc = 0;

    if (t == NULL)
        return -1;
    tiff_set_image(t, img, 8, compression, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 64);
    if (compression == COMPRESSION_LZW || compression == COMPRESSION_ADOBE_DEFLATE)
        TIFFSetField(t, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL);
    /* libtiff's predictor and codecs work in place on the row given. */
    row = malloc(img->width);
    if (row == NULL)
        rc = -1;
    for (uint32_t y = 0; y < img->height && rc == 0; y++) {
        memcpy(row, img->pix + (size_t)y * img->width, img->width);
        if (TIFFWriteScanline(t, row, y, 0) < 0)
            rc = -1;
    }
    free(row);
    TIFFClose(t);
    return rc;
}
