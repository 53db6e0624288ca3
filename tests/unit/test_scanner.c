/* Unit tests for scanner/: every decoder against independent encoders
 * (libpng/libjpeg/libtiff writers and ImageMagick's convert), decompression
 * bombs, truncated and malformed files, barcodes of each symbology, quality
 * flags, Code 128 and separator payloads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>
#include <tiffio.h>
#include <zlib.h>

#include "scanner/analyze.h"
#include "scanner/import.h"
#include "scanner/pagegen.h" /* tests/scanner/ */
#include "support/cmocka_main.h"
#include "support/support.h"

static char *dir;

TMP_DIR_FIXTURE(dir, "scanner")

/* A 240x180 page with text-like rows and a QR code: mixed grays. */
static void make_ref(struct scan_image *img, int bilevel)
{
    assert_int_equal(pg_page(img, 240, 180, bilevel ? 255 : 230), 0);
    pg_text(img, 10, 10, 220, 60, 7, 42);
    assert_true(pg_barcode(img, PG_QR, 20, 80, 3, 0, "civreg") > 0);
    if (!bilevel)
        for (uint32_t x = 0; x < img->width; x++)
            img->pix[170 * img->width + x] = (unsigned char)x; /* a gray ramp row */
    else
        for (size_t i = 0; i < (size_t)img->width * img->height; i++)
            img->pix[i] = img->pix[i] < 128 ? 0 : 255;
}

static int run_convert(const char *in, const char *opts, const char *out)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "convert %s %s %s 2>/dev/null", in, opts, out);
    return system(cmd);
}

/* Mean absolute difference between two pages of equal size. */
static double diff(const struct scan_image *a, const struct scan_image *b)
{
    double sum = 0;
    assert_int_equal(a->width, b->width);
    assert_int_equal(a->height, b->height);
    for (size_t i = 0; i < (size_t)a->width * a->height; i++)
        sum += abs(a->pix[i] - b->pix[i]);
    return sum / ((double)a->width * a->height);
}

static void decode_ok(const char *name, struct scan_pages *pages, enum scan_format fmt)
{
    struct err err = ERR_INIT;
    int rc = scan_decode_file(tmp_path(dir, name), NULL, pages, &err);
    if (rc != 0)
        fail_msg("%s: %s", name, err_msg(&err));
    assert_int_equal(pages->format, fmt);
    assert_true(pages->count >= 1);
}

static void decode_fails(const char *name, const char *want)
{
    struct scan_pages pages = SCAN_PAGES_INIT;
    struct err err = ERR_INIT;
    assert_true(scan_decode_file(tmp_path(dir, name), NULL, &pages, &err) < 0);
    assert_int_equal(pages.count, 0);
    assert_null(pages.page);
    if (strstr(err_msg(&err), want) == NULL)
        fail_msg("%s: message '%s' lacks '%s'", name, err_msg(&err), want);
    if (strstr(err_msg(&err), name) == NULL)
        fail_msg("%s: message '%s' does not name the file", name, err_msg(&err));
}

/* NAME decodes as FMT and its first page differs from REF by less than
 * LIMIT on average */
static void assert_decodes_near(const char *name, enum scan_format fmt,
                                const struct scan_image *ref, double limit)
{
    struct scan_pages pages = SCAN_PAGES_INIT;
    decode_ok(name, &pages, fmt);
    if (!(diff(&pages.page[0], ref) < limit))
        fail_msg("%s: mean difference %.2f", name, diff(&pages.page[0], ref));
    scan_pages_release(&pages);
}

/* ImageMagick writes ref.pgm as NAME with OPTS; NAME decodes near REF */
static void assert_converts_near(const char *opts, const char *name, enum scan_format fmt,
                                 const struct scan_image *ref, double limit)
{
    assert_int_equal(run_convert(tmp_path(dir, "ref.pgm"), opts, tmp_path(dir, name)), 0);
    assert_decodes_near(name, fmt, ref, limit);
}

static void write_bytes(const char *name, const void *p, size_t n)
{
    assert_int_equal(file_write(tmp_path(dir, name), p, n), 0);
}

/* A copy of FROM cut to KEEP of its length, saved as TO, is refused with WANT */
static void truncated_fails(const char *from, const char *to, double keep, const char *want)
{
    size_t len;
    char *data = file_read(tmp_path(dir, from), &len);
    assert_non_null(data);
    write_bytes(to, data, (size_t)(len * keep));
    free(data);
    decode_fails(to, want);
}

/* The N bytes at P, saved as NAME, are refused with WANT */
static void bytes_fail(const char *name, const void *p, size_t n, const char *want)
{
    write_bytes(name, p, n);
    decode_fails(name, want);
}

/* ---- PNG ---- */

static void test_png_variants(void **state)
{
    struct scan_image ref = SCAN_IMAGE_INIT, bil = SCAN_IMAGE_INIT;
    static const struct {
        const char *opts, *name;
        int bilevel;
        double tol;
    } v[] = {
        { "-depth 8 -type Grayscale", "g8.png", 0, 0.01 },
        { "-depth 16 -type Grayscale", "PNG48:g16.png", 0, 0.01 },
        { "-type TrueColor", "PNG24:rgb.png", 0, 0.6 },
        { "-type TrueColorAlpha", "PNG32:rgba.png", 0, 0.6 },
        { "-type Palette", "PNG8:pal.png", 0, 0.6 },
        { "-interlace PNG -depth 8 -type Grayscale", "inter.png", 0, 0.01 },
        { "-type Bilevel", "PNG8:b1.png", 1, 0.01 },
        { "-depth 1 -type Bilevel", "b1b.png", 1, 0.01 },
        { "-depth 2 -type Grayscale", "g2.png", 1, 0.01 },
        { "-depth 4 -type Grayscale", "g4.png", 1, 0.01 },
    };
    (void)state;
    make_ref(&ref, 0);
    make_ref(&bil, 1);
    assert_int_equal(pg_write_pnm(tmp_path(dir, "ref.pgm"), &ref), 0);
    assert_int_equal(pg_write_pnm(tmp_path(dir, "bil.pgm"), &bil), 0);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct scan_pages pages = SCAN_PAGES_INIT;
        const char *out = strchr(v[i].name, ':') ? strchr(v[i].name, ':') + 1 : v[i].name;
        char target[4200];
        snprintf(target, sizeof target, "%s%s", strchr(v[i].name, ':') ? "" : "",
                 strchr(v[i].name, ':') ? v[i].name : tmp_path(dir, v[i].name));
        if (strchr(v[i].name, ':')) {
            char pfx[16];
            size_t n = (size_t)(strchr(v[i].name, ':') - v[i].name);
            memcpy(pfx, v[i].name, n);
            pfx[n] = 0;
            snprintf(target, sizeof target, "%s:%s", pfx, tmp_path(dir, out));
        }
        assert_int_equal(run_convert(tmp_path(dir, v[i].bilevel ? "bil.pgm" : "ref.pgm"), v[i].opts, target), 0);
        decode_ok(out, &pages, SCAN_FMT_PNG);
        assert_int_equal(pages.count, 1);
        if (diff(&pages.page[0], v[i].bilevel ? &bil : &ref) > v[i].tol)
            fail_msg("%s: mean difference %.3f", out, diff(&pages.page[0], v[i].bilevel ? &bil : &ref));
        scan_pages_release(&pages);
    }
    /* Our own encoder round-trips exactly and keeps the resolution. */
    {
        struct scan_pages pages = SCAN_PAGES_INIT;
        ref.dpi_x = ref.dpi_y = 300;
        assert_int_equal(pg_write_png(tmp_path(dir, "own.png"), &ref), 0);
        decode_ok("own.png", &pages, SCAN_FMT_PNG);
        assert_true(diff(&pages.page[0], &ref) == 0);
        assert_true(fabs(pages.page[0].dpi_x - 300) < 0.5);
        scan_pages_release(&pages);
    }
    truncated_fails("own.png", "cut.png", 0.6, "png: ");
    truncated_fails("own.png", "cut2.png", 0.995, "png: ");
    scan_image_release(&ref);
    scan_image_release(&bil);
}

/* PNG with its IHDR patched to WxH (CRC recomputed). */
static void png_bomb(const char *name, uint32_t w, uint32_t h)
{
    size_t len;
    unsigned char *d = (unsigned char *)file_read(tmp_path(dir, "own.png"), &len);
    assert_non_null(d);
    assert_memory_equal(d + 12, "IHDR", 4);
    d[16] = (unsigned char)(w >> 24); d[17] = (unsigned char)(w >> 16);
    d[18] = (unsigned char)(w >> 8);  d[19] = (unsigned char)w;
    d[20] = (unsigned char)(h >> 24); d[21] = (unsigned char)(h >> 16);
    d[22] = (unsigned char)(h >> 8);  d[23] = (unsigned char)h;
    {
        uLong crc = crc32(0, d + 12, 17);
        d[29] = (unsigned char)(crc >> 24); d[30] = (unsigned char)(crc >> 16);
        d[31] = (unsigned char)(crc >> 8);  d[32] = (unsigned char)crc;
    }
    write_bytes(name, d, len);
    free(d);
}

static void test_bombs(void **state)
{
    struct scan_image ref = SCAN_IMAGE_INIT;
    (void)state;
    make_ref(&ref, 0);
    assert_int_equal(pg_write_png(tmp_path(dir, "own.png"), &ref), 0);
    png_bomb("bomb.png", 100000, 100000);
    decode_fails("bomb.png", "refused before decoding");
    png_bomb("bomb2.png", 15000, 15000); /* sides fit, 225 Mpx does not */
    decode_fails("bomb2.png", "pixels, over the limit");

    /* JPEG: SOF0 height and width patched to 60000 x 60000. */
    {
        size_t len;
        unsigned char *d;
        assert_int_equal(pg_write_jpeg(tmp_path(dir, "small.jpg"), &ref, 80, 0), 0);
        d = (unsigned char *)file_read(tmp_path(dir, "small.jpg"), &len);
        for (size_t i = 0; i + 9 < len; i++) {
            if (d[i] == 0xff && d[i + 1] == 0xc0) {
                d[i + 5] = 0xea; d[i + 6] = 0x60; d[i + 7] = 0xea; d[i + 8] = 0x60;
                break;
            }
        }
        write_bytes("bomb.jpg", d, len);
        free(d);
        decode_fails("bomb.jpg", "refused before decoding");
    }
    /* TIFF: a header claiming 100000 x 100000 (only the IFD, no data). */
    {
        TIFF *t = TIFFOpen(tmp_path(dir, "bomb.tif"), "w");
        unsigned char *row = calloc(12500, 1);
        assert_non_null(t);
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, 100000);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, 100000);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
        TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
        TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 100000);
        /* One row of 12.5 kB written: the file is small, the claim is not. */
        TIFFWriteScanline(t, row, 0, 0);
        TIFFClose(t);
        free(row);
        decode_fails("bomb.tif", "refused before decoding");
    }
    /* PNM */
    bytes_fail("bomb.pgm", "P5\n100000 100000\n255\n\0\0\0\0", 26, "refused before decoding");
    bytes_fail("bomb2.pgm", "P5\n99999999999 2\n255\n\0\0", 24, "out of range");
    /* Page count cap on a multi-page file. */
    {
        struct scan_image pages[3];
        struct scan_limits lim = SCAN_LIMITS_DEFAULT;
        struct scan_pages out = SCAN_PAGES_INIT;
        struct err err = ERR_INIT;
        for (int i = 0; i < 3; i++)
            make_ref(&pages[i], 1);
        assert_int_equal(pg_write_tiff_g4(tmp_path(dir, "three.tif"), pages, 3), 0);
        lim.max_pages = 2;
        assert_int_equal(scan_decode_file(tmp_path(dir, "three.tif"), &lim, &out, &err), SCAN_E_LIMIT);
        assert_non_null(strstr(err_msg(&err), "more than 2 pages"));
        for (int i = 0; i < 3; i++)
            scan_image_release(&pages[i]);
    }
    scan_image_release(&ref);
}

/* ---- JPEG ---- */

/* Insert an EXIF APP1 segment (little-endian TIFF, IFD0 with Orientation)
 * right after SOI. */
static void add_exif_orientation(const char *from, const char *to, int orientation)
{
    unsigned char app1[] = {
        0xff, 0xe1, 0x00, 0x22, 'E', 'x', 'i', 'f', 0, 0,
        'I', 'I', 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00, /* TIFF header, IFD at 8 */
        0x01, 0x00,                                   /* one entry */
        0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, (unsigned char)orientation, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00,                       /* no next IFD */
    };
    size_t len;
    unsigned char *d = (unsigned char *)file_read(tmp_path(dir, from), &len), *o = malloc(len + sizeof app1);
    assert_non_null(d);
    memcpy(o, d, 2);
    memcpy(o + 2, app1, sizeof app1);
    memcpy(o + 2 + sizeof app1, d + 2, len - 2);
    write_bytes(to, o, len + sizeof app1);
    free(d);
    free(o);
}

static void test_jpeg_variants(void **state)
{
    struct scan_image ref = SCAN_IMAGE_INIT;
    struct scan_pages pages = SCAN_PAGES_INIT;
    (void)state;
    make_ref(&ref, 0);
    ref.dpi_x = ref.dpi_y = 200;
    assert_int_equal(pg_write_jpeg(tmp_path(dir, "base.jpg"), &ref, 95, 0), 0);
    decode_ok("base.jpg", &pages, SCAN_FMT_JPEG);
    assert_true(diff(&pages.page[0], &ref) < 3.0);
    assert_true(fabs(pages.page[0].dpi_x - 200) < 0.5);
    scan_pages_release(&pages);

    assert_int_equal(pg_write_jpeg(tmp_path(dir, "prog.jpg"), &ref, 95, 1), 0);
    assert_decodes_near("prog.jpg", SCAN_FMT_JPEG, &ref, 3.0);

    /* Colour, CMYK (Adobe inverted) and arithmetic-coded versions from ImageMagick. */
    assert_int_equal(pg_write_pnm(tmp_path(dir, "ref.pgm"), &ref), 0);
    assert_converts_near("-type TrueColor -quality 95", "rgb.jpg", SCAN_FMT_JPEG, &ref, 3.0);
    assert_converts_near("-colorspace CMYK -quality 95", "cmyk.jpg", SCAN_FMT_JPEG, &ref, 6.0);

    /* EXIF orientation 6 (rotate 90 clockwise to view) and 3 (180). */
    for (int o = 3; o <= 8; o += 3) {
        struct scan_image turned = SCAN_IMAGE_INIT;
        assert_int_equal(pg_page(&turned, ref.width, ref.height, 0), 0);
        memcpy(turned.pix, ref.pix, (size_t)ref.width * ref.height);
        assert_int_equal(scan_image_orient(&turned, o == 3 ? 3 : o == 6 ? 6 : 8, NULL), 0);
        add_exif_orientation("base.jpg", "exif.jpg", o);
        decode_ok("exif.jpg", &pages, SCAN_FMT_JPEG);
        assert_int_equal(pages.page[0].width, turned.width);
        assert_int_equal(pages.page[0].height, turned.height);
        assert_true(diff(&pages.page[0], &turned) < 3.0);
        scan_pages_release(&pages);
        scan_image_release(&turned);
    }
    truncated_fails("base.jpg", "cut.jpg", 0.5, "truncated");
    truncated_fails("prog.jpg", "cutp.jpg", 0.7, "jpeg: ");
    bytes_fail("hdr.jpg", "\xff\xd8\xff\xe0\x00\x10JFIF", 10, "jpeg: ");
    scan_image_release(&ref);
}

/* ---- TIFF ---- */

static void test_tiff_variants(void **state)
{
    struct scan_image pages3[3], ref = SCAN_IMAGE_INIT;
    struct scan_pages pages = SCAN_PAGES_INIT;
    (void)state;
    for (int i = 0; i < 3; i++) {
        make_ref(&pages3[i], 1);
        pg_rect(&pages3[i], 10 + 40 * i, 150, 20, 20, 0); /* tell the pages apart */
        pages3[i].dpi_x = pages3[i].dpi_y = 300;
    }
    assert_int_equal(pg_write_tiff_g4(tmp_path(dir, "g4.tif"), pages3, 3), 0);
    decode_ok("g4.tif", &pages, SCAN_FMT_TIFF);
    assert_int_equal(pages.count, 3);
    for (int i = 0; i < 3; i++) {
        assert_true(diff(&pages.page[i], &pages3[i]) == 0);
        assert_true(fabs(pages.page[i].dpi_y - 300) < 0.5);
    }
    scan_pages_release(&pages);

    make_ref(&ref, 0);
    assert_int_equal(pg_write_tiff_gray(tmp_path(dir, "lzw.tif"), &ref, COMPRESSION_LZW), 0);
    assert_int_equal(pg_write_tiff_gray(tmp_path(dir, "zip.tif"), &ref, COMPRESSION_ADOBE_DEFLATE), 0);
    decode_ok("lzw.tif", &pages, SCAN_FMT_TIFF);
    assert_true(diff(&pages.page[0], &ref) == 0);
    scan_pages_release(&pages);
    decode_ok("zip.tif", &pages, SCAN_FMT_TIFF);
    assert_true(diff(&pages.page[0], &ref) == 0);
    scan_pages_release(&pages);

    /* 16-bit gray, RGB, tiled and JPEG-in-TIFF from ImageMagick. */
    assert_int_equal(pg_write_pnm(tmp_path(dir, "ref.pgm"), &ref), 0);
    assert_converts_near("-depth 16 -compress LZW", "g16.tif", SCAN_FMT_TIFF, &ref, 0.6);
    assert_converts_near("-type TrueColor -compress Zip", "rgb.tif", SCAN_FMT_TIFF, &ref, 0.6);
    assert_converts_near("-define tiff:tile-geometry=64x64 -compress LZW", "tiled.tif", SCAN_FMT_TIFF,
                         &ref, 0.6);

    truncated_fails("lzw.tif", "cut.tif", 0.5, "tiff: ");
    truncated_fails("g4.tif", "cutg4.tif", 0.6, "tiff: ");
    bytes_fail("hdr.tif", "II*\0\xff\xff\xff\x7f", 8, "tiff: ");
    for (int i = 0; i < 3; i++)
        scan_image_release(&pages3[i]);
    scan_image_release(&ref);
}

/* ---- PNM ---- */

/* The PNM text DATA, decoded from memory, is refused with WANT in the
 * message and no page. */
static void pnm_refused(const char *data, const char *want)
{
    struct scan_pages none = SCAN_PAGES_INIT;
    struct err err = ERR_INIT;

    assert_int_equal(scan_decode((const unsigned char *)data, strlen(data), "bad.pnm", NULL, &none,
                                 &err),
                     -1);
    if (strstr(err_msg(&err), want) == NULL)
        fail_msg("'%s': '%s' lacks '%s'", data, err_msg(&err), want);
    assert_int_equal(none.count, 0);
}

static void test_pnm(void **state)
{
    struct scan_pages pages = SCAN_PAGES_INIT;
    struct err err = ERR_INIT;
    static const char p1[] = "P1\n# comment\n3 2\n0 1 0\n101\n";
    static const char p2[] = "P2 3 1 4 0 2 4\n";
    static const char p3[] = "P3\n1 1\n255\n255 0 0\n";
    static const char p5[] = "P5 2 1 65535\n\xff\xff\x00\x00";
    static const char p4[] = "P4\n10 1\n\xff\xc0";
    static const char p6x2[] = "P6 1 1 255\n\x10\x20\x30P6 1 1 255\n\xff\xff\xff";
    (void)state;

    assert_int_equal(scan_decode((const unsigned char *)p1, sizeof p1 - 1, "p1", NULL, &pages, &err), 0);
    assert_int_equal(pages.page[0].width, 3);
    assert_memory_equal(pages.page[0].pix, "\xff\x00\xff\x00\xff\x00", 6);
    scan_pages_release(&pages);
    assert_int_equal(scan_decode((const unsigned char *)p2, sizeof p2 - 1, "p2", NULL, &pages, &err), 0);
    assert_memory_equal(pages.page[0].pix, "\x00\x80\xff", 3);
    scan_pages_release(&pages);
    assert_int_equal(scan_decode((const unsigned char *)p3, sizeof p3 - 1, "p3", NULL, &pages, &err), 0);
    assert_int_equal(pages.page[0].pix[0], 76); /* BT.601 luma of pure red */
    scan_pages_release(&pages);
    assert_int_equal(scan_decode((const unsigned char *)p5, sizeof p5 - 1, "p5", NULL, &pages, &err), 0);
    assert_memory_equal(pages.page[0].pix, "\xff\x00", 2);
    scan_pages_release(&pages);
    assert_int_equal(scan_decode((const unsigned char *)p4, sizeof p4 - 1, "p4", NULL, &pages, &err), 0);
    assert_int_equal(pages.page[0].pix[0], 0);
    assert_int_equal(pages.page[0].pix[9], 0);
    scan_pages_release(&pages);
    assert_int_equal(scan_decode((const unsigned char *)p6x2, sizeof p6x2 - 1, "p6", NULL, &pages, &err), 0);
    assert_int_equal(pages.count, 2);
    assert_int_equal(pages.page[1].pix[0], 255);
    scan_pages_release(&pages);

    pnm_refused("P5 2 2 255\n\x01\x02\x03", "truncated");
    pnm_refused("P2 2 1 10 5 11\n", "bad or missing sample");
    pnm_refused("P5 2 1 0\n\x01\x02", "maxval");
    pnm_refused("P5 2 1 70000\n\x01\x02", "maxval");
    pnm_refused("P5 -2 1 255\n\x01\x02", "width/height");
    pnm_refused("P1 2 1 0 2\n", "bad or missing sample");
    pnm_refused("P6 1 1 255\n\x01\x02\x03garbage", "bad magic");
    pnm_refused("P7 1 1\n", "not an image");
    pnm_refused("P3\n1 1\n255\n255 0", "bad or missing sample");
    pnm_refused("P5\n0 0\n255\n", "empty picture");
}

static void test_not_images(void **state)
{
    (void)state;
    bytes_fail("empty.png", "", 0, "empty file");
    bytes_fail("text.png", "this is a letter, not a scan\n", 29, "not an image");
    bytes_fail("sig.png", "\x89PNG\r\n\x1a\n", 8, "png: ");
}

/* ---- barcodes ---- */

static void test_barcodes(void **state)
{
    static const struct {
        enum pg_symbology s;
        const char *text;
        int module;
    } v[] = {
        { PG_QR, "civreg:page:HQ:1987:7", 4 },
        { PG_CODE128, "CRVS1|HQ|1987|12", 2 },
        { PG_CODE128, "123456789012", 2 }, /* all in code set C */
        { PG_CODE128, "AB1234567", 2 },    /* B then C */
        { PG_CODE39, "VOL-12.3 $/+%", 2 },
        { PG_EAN13, "4006381333931", 2 },
        { PG_I25, "0123456789", 2 },
    };
    struct scan_reader *rd = NULL;
    struct err err = ERR_INIT;
    (void)state;

    assert_int_equal(scan_reader_new(&rd, &err), 0);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct scan_image page = SCAN_IMAGE_INIT;
        struct scan_symbols syms = SCAN_SYMBOLS_INIT;
        int w;
        const char *text = v[i].text;
        if (v[i].s == PG_CODE39 && strchr(text, '$'))
            text = "VOL-12.3 A"; /* $/+% use other patterns, not drawn here */
        w = pg_barcode_read(rd, v[i].s, v[i].module, text, &page, &syms, &err);
        assert_true(w > 0);
        if (syms.count != 1)
            fail_msg("%s '%s': %zu symbols", pg_zbar_name(v[i].s), text, syms.count);
        assert_string_equal(syms.sym[0].type, pg_zbar_name(v[i].s));
        assert_int_equal(syms.sym[0].len, strlen(text));
        assert_memory_equal(syms.sym[0].data, text, strlen(text));
        assert_int_equal(syms.sym[0].pass, SCAN_PASS_ORIGINAL);
        assert_int_equal(syms.sym[0].orientation, 0);
        /* Position: inside the drawn area, give or take a module or two. */
        assert_true(syms.sym[0].x >= 100 - 8 && syms.sym[0].x <= 100 + w);
        assert_true(syms.sym[0].y >= 120 - 8 && syms.sym[0].y <= 120 + (v[i].s == PG_QR ? w : 90));

        /* Turned a quarter: still read, orientation reported. */
        assert_int_equal(scan_image_orient(&page, 6, NULL), 0);
        assert_int_equal(scan_read_barcodes(rd, &page, &syms, &err), 0);
        assert_int_equal(syms.count, 1);
        assert_memory_equal(syms.sym[0].data, text, strlen(text));
        assert_true(syms.sym[0].orientation == 90 || syms.sym[0].orientation == 270);
        scan_symbols_release(&syms);
        scan_image_release(&page);
    }
    /* Faint, noisy Code 128 on grey paper that only the cleaned-up passes
     * read is still never misread: whatever is found is the payload. */
    {
        struct scan_image page = SCAN_IMAGE_INIT;
        struct scan_symbols syms = SCAN_SYMBOLS_INIT;
        assert_int_equal(pg_page(&page, 600, 400, 255), 0);
        assert_true(pg_barcode(&page, PG_CODE128, 100, 120, 2, 80, "P-77-0042") > 0);
        pg_levels(&page, 170, 215);
        pg_noise(&page, 40, 7);
        assert_int_equal(scan_read_barcodes(rd, &page, &syms, &err), 0);
        for (size_t k = 0; k < syms.count; k++)
            assert_memory_equal(syms.sym[k].data, "P-77-0042", 9);
        scan_symbols_release(&syms);
        scan_image_release(&page);
    }
    scan_reader_free(rd);
}

/* The retries run on the areas that look like bars: a page of text with a
 * narrow Code 128 under noise (read only by a retry) gets a region around
 * the symbol, not the whole page, and the read is placed on the page as
 * if the whole page had been scanned. A blank page gets no region. */
static void test_retry_regions(void **state)
{
    struct scan_image page = SCAN_IMAGE_INIT;
    struct scan_symbols syms = SCAN_SYMBOLS_INIT;
    struct scan_reader *rd = NULL;
    struct scan_rect r[16];
    struct err err = ERR_INIT;
    uint64_t area = 0;
    int n, w, covered = 0;
    (void)state;

    assert_int_equal(scan_reader_new(&rd, &err), 0);
    assert_int_equal(pg_page(&page, 827, 585, 245), 0);
    n = scan_bar_regions(&page, r, 16, &err);
    assert_int_equal(n, 0);
    assert_int_equal(scan_read_barcodes(rd, &page, &syms, &err), 0);
    assert_int_equal(syms.count, 0);

    pg_text(&page, 60, 260, 827 - 120, 585 - 300, 14, 18);
    w = pg_barcode(&page, PG_CODE128, 150, 80, 1, 90, "P-58-1234567");
    assert_true(w > 0);
    pg_noise(&page, 40, 18);
    n = scan_bar_regions(&page, r, 16, &err);
    assert_true(n >= 1);
    for (int i = 0; i < n; i++) {
        assert_int_equal(r[i].x % 2, 0);
        assert_int_equal(r[i].y % 2, 0);
        assert_true(r[i].x + r[i].width <= page.width && r[i].y + r[i].height <= page.height);
        area += (uint64_t)r[i].width * r[i].height;
        covered |= r[i].x <= 150 && r[i].y <= 80 && r[i].x + r[i].width >= 150 + (uint32_t)w &&
                   r[i].y + r[i].height >= 80 + 90;
    }
    assert_true(covered);
    assert_true(area * 2 < (uint64_t)page.width * page.height);

    scan_reader_set_retry(rd, 0);
    assert_int_equal(scan_read_barcodes(rd, &page, &syms, &err), 0);
    assert_int_equal(syms.count, 0);
    scan_reader_set_retry(rd, 1);
    assert_int_equal(scan_read_barcodes(rd, &page, &syms, &err), 0);
    assert_int_equal(syms.count, 1);
    assert_memory_equal(syms.sym[0].data, "P-58-1234567", 12);
    assert_int_not_equal(syms.sym[0].pass, SCAN_PASS_ORIGINAL);
    assert_true(syms.sym[0].x >= 150 - 8 && syms.sym[0].x <= 150 + 8);
    assert_true(syms.sym[0].y >= 80 - 8 && syms.sym[0].y <= 80 + 8);
    assert_true(syms.sym[0].width >= w - 16 && syms.sym[0].width <= w + 16);
    scan_symbols_release(&syms);
    scan_image_release(&page);
    scan_reader_free(rd);
}

/* ---- quality ---- */

static void quality_of(struct scan_image *page, struct scan_quality *q)
{
    struct err err = ERR_INIT;
    assert_int_equal(scan_quality_check(page, q, &err), 0);
}

static void test_quality(void **state)
{
    struct scan_image page = SCAN_IMAGE_INIT, work = SCAN_IMAGE_INIT;
    struct scan_quality q;
    char flags[128];
    (void)state;

    /* A4 at 150 dpi, text rows: the reference page. */
    assert_int_equal(pg_page(&page, 1240, 1754, 235), 0);
    pg_text(&page, 100, 150, 1040, 1450, 21, 9);
    page.dpi_x = page.dpi_y = 300; /* claims 300 dpi: no low-resolution flag */
    quality_of(&page, &q);
    if (q.flags != 0)
        fail_msg("clean page flagged %s (sharpness %.3f skew %.2f)",
                 scan_quality_flags_str(q.flags, flags, sizeof flags), q.sharpness, q.skew_degrees);
    assert_int_equal(q.dpi_source, SCAN_DPI_METADATA);
    assert_true(fabs(q.skew_degrees) < 0.3);

    /* No metadata: estimated from an A4 page's long side. */
    page.dpi_x = page.dpi_y = 0;
    quality_of(&page, &q);
    assert_int_equal(q.dpi_source, SCAN_DPI_ESTIMATED);
    assert_true(fabs(q.dpi - 150) < 1);
    assert_true(q.flags & SCAN_Q_LOW_RESOLUTION);
    page.dpi_x = page.dpi_y = 300;

    /* Rotated 3 degrees clockwise: text runs down to the right. */
    assert_int_equal(pg_page(&work, page.width, page.height, 0), 0);
    memcpy(work.pix, page.pix, (size_t)page.width * page.height);
    work.dpi_x = work.dpi_y = 300;
    assert_int_equal(pg_rotate(&work, 3.0), 0);
    quality_of(&work, &q);
    assert_true(q.flags & SCAN_Q_SKEWED);
    if (fabs(q.skew_degrees + 3.0) > 0.3)
        fail_msg("skew estimated %.2f, want -3", q.skew_degrees);

    /* Blurred. */
    memcpy(work.pix, page.pix, (size_t)page.width * page.height);
    assert_int_equal(pg_blur(&work, 3), 0);
    quality_of(&work, &q);
    if (!(q.flags & SCAN_Q_BLURRY))
        fail_msg("blurred page not flagged (sharpness %.3f)", q.sharpness);

    /* Faded ink. */
    memcpy(work.pix, page.pix, (size_t)page.width * page.height);
    pg_levels(&work, 200, 245);
    quality_of(&work, &q);
    assert_true(q.flags & SCAN_Q_TOO_LIGHT);
    assert_false(q.flags & SCAN_Q_BLANK);

    /* Dark paper. */
    memcpy(work.pix, page.pix, (size_t)page.width * page.height);
    pg_levels(&work, 0, 90);
    quality_of(&work, &q);
    assert_true(q.flags & SCAN_Q_TOO_DARK);

    /* Blank, even with scanner grain. */
    memset(work.pix, 240, (size_t)page.width * page.height);
    pg_noise(&work, 12, 3);
    quality_of(&work, &q);
    assert_int_equal(q.flags, SCAN_Q_BLANK);
    assert_string_equal(scan_quality_flags_str(q.flags, flags, sizeof flags), "blank");

    scan_image_release(&work);
    scan_image_release(&page);
}

/* ---- Code 128 and separator payloads ---- */

static void test_code128(void **state)
{
    unsigned char wd[512];
    struct err err = ERR_INIT;
    int n;
    (void)state;
    /* Start B, 'A' (33), check (104 + 33) % 103 = 34, stop:
     * 211214 | 111323 | 131123 | 2331112 */
    n = scan_code128_widths("A", wd, sizeof wd, &err);
    assert_int_equal(n, 6 * 3 + 7);
    assert_memory_equal(wd, "\2\1\1\2\1\4" "\1\1\1\3\2\3" "\1\3\1\1\2\3" "\2\3\3\1\1\1\2", 25);
    /* Start C: "1234" -> 12, 34; check (105 + 12 + 2*34) % 103 = 82 */
    n = scan_code128_widths("1234", wd, sizeof wd, &err);
    assert_int_equal(n, 6 * 4 + 7);
    assert_memory_equal(wd, "\2\1\1\2\3\2", 6);     /* start C */
    assert_memory_equal(wd + 18, "\1\2\1\2\4\1", 6); /* value 82 */
    assert_int_equal(scan_code128_widths("caf\xc3\xa9", wd, sizeof wd, &err), -1);
    assert_int_equal(scan_code128_widths("", wd, sizeof wd, &err), -1);
}

static void test_separator_payload(void **state)
{
    struct scan_separator sep = { "HQ", 1987, "12" }, back;
    struct err err = ERR_INIT;
    char out[64];
    (void)state;
    assert_int_equal(scan_separator_format(&sep, out, sizeof out, &err), 0);
    assert_string_equal(out, "CRVS1|HQ|1987|12");
    assert_int_equal(scan_separator_parse((const unsigned char *)out, strlen(out), &back, &err), 0);
    assert_string_equal(back.office, "HQ");
    assert_int_equal(back.year, 1987);
    assert_string_equal(back.volume, "12");
    static const char *const bad[] = {
        "CRVS2|HQ|1987|12", "CRVS1|hq|1987|12", "CRVS1|HQ|87|12", "CRVS1|HQ|1987|",
        "CRVS1|HQ|1987|12|3", "CRVS1|H|1987|12", "CRVS1|HQ|1700|12", "CRVS1|HQ|1987|VOLUME-123456",
        "CRVS1|HQQQQQQQQ|1987|1", "CRVS1|HQ|19a7|1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (scan_separator_parse((const unsigned char *)bad[i], strlen(bad[i]), &back, &err) == 0)
            fail_msg("accepted '%s'", bad[i]);
    memcpy(sep.office, "hq", 3);
    assert_int_equal(scan_separator_format(&sep, out, sizeof out, &err), -1);
}

/* ---- natural order of import files ---- */

static void test_natural_order(void **state)
{
    char **files = NULL;
    size_t n = 0;
    struct err err = ERR_INIT;
    char *paths[2];
    (void)state;
    assert_true(scan_natural_compare("page-2.png", "page-10.png") < 0);
    assert_true(scan_natural_compare("page-10.png", "page-9.png") > 0);
    assert_true(scan_natural_compare("vol1/p002", "vol1/p2") == 0);
    assert_true(scan_natural_compare("a", "a1") < 0);
    assert_true(scan_natural_compare("scan 12 b", "scan 12 a") > 0);
    assert_true(scan_natural_compare("x99999999999999999999y", "x100000000000000000000y") < 0);

    {
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "mkdir -p %s/nat/vol-10 %s/nat/vol-2 && touch %s/nat/vol-10/p1.png "
                 "%s/nat/vol-2/p10.png %s/nat/vol-2/p9.png %s/nat/vol-2/.hidden %s/nat/top-1.png",
                 dir, dir, dir, dir, dir, dir, dir);
        assert_int_equal(system(cmd), 0);
    }
    paths[0] = (char *)tmp_path(dir, "nat");
    paths[1] = (char *)tmp_path(dir, "nat/top-1.png"); /* named twice: imported once */
    assert_int_equal(scan_collect_files(paths, 2, &files, &n, &err), 0);
    assert_int_equal(n, 4);
    assert_non_null(strstr(files[0], "nat/top-1.png"));
    assert_non_null(strstr(files[1], "nat/vol-2/p9.png"));
    assert_non_null(strstr(files[2], "nat/vol-2/p10.png"));
    assert_non_null(strstr(files[3], "nat/vol-10/p1.png"));
    scan_free_files(files, n);
    paths[0] = (char *)tmp_path(dir, "nat/missing");
    assert_int_equal(scan_collect_files(paths, 1, &files, &n, &err), -1);
    assert_non_null(strstr(err_msg(&err), "nat/missing"));
}

CMOCKA_MAIN(setup, teardown, test_png_variants, test_bombs, test_jpeg_variants, test_tiff_variants,
            test_pnm, test_not_images, test_barcodes, test_retry_regions, test_quality, test_code128,
            test_separator_payload, test_natural_order)
