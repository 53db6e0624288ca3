/* Decompression bombs against the scanner's decoders, each run in a child
 * whose peak resident memory is measured (wait4's ru_maxrss): the 90-byte
 * PNG whose tEXt chunk claims 2 GB, huge zero pages in PNG, deflate TIFF,
 * JPEG and plain PGM; the public seal check's limits (one page, 12 Mpx)
 * refusing them before decoding; deadlines stopping decoding and barcode
 * retries; header-only probing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "scanner/barcode.h"
#include "scanner/bombgen.h" /* tests/scanner/ */
#include "scanner/image.h"
#include "support/cmocka_main.h"

#define MB (1024LL * 1024)

/* From the penetration test report, as given. */
static const char png_text_b64[] =
    "iVBORw0KGgoAAAANSUhEUgAAACgAAAAeAQAAAAB2pmFwAAAABGdBTUEAALGPC/xhpAAAAAd0SU1FB+oLGg8zB1Is"
    "owB2pmEldEVYdGRkAAAAAElFTkSuQmCC";

struct job {
    const unsigned char *p;
    size_t len;
    const struct scan_limits *limits;
    const char *want; /* in the message */
    int want_rc;      /* what scan_decode must return */
};

/* Child: decode, check the outcome; exit 0 when it is as expected. */
static int decode_child(void *arg)
{
    const struct job *j = arg;
    struct scan_pages pages = SCAN_PAGES_INIT;
    struct err err = ERR_INIT;
    int rc = scan_decode(j->p, j->len, "bomb", j->limits, &pages, &err);

    if (rc != j->want_rc || pages.count != 0 || strstr(err_msg(&err), j->want) == NULL) {
        fprintf(stderr, "decode returned %d: %s (want %d and '%s')\n", rc, err_msg(&err),
                j->want_rc, j->want);
        scan_pages_release(&pages);
        return 1;
    }
    return 0;
}

/* Decode in a child: refused as wanted, with at most MAX_RSS resident. */
static void refused_small(const struct job *j, long long max_rss)
{
    int status = -1;
    long long rss = bomb_peak_rss(decode_child, (void *)j, &status);

    assert_true(rss > 0);
    assert_int_equal(status, 0);
    if (rss > max_rss)
        fail_msg("peak resident memory %lld MB, over %lld MB", rss / MB, max_rss / MB);
}

static void test_png_text_chunk(void **state)
{
    unsigned char bin[128];
    size_t n = 0;
    struct job j = { bomb_png_text, sizeof bomb_png_text, NULL, "claims 1990615333 bytes", -1 };
    (void)state;
    assert_int_equal(sodium_base642bin(bin, sizeof bin, png_text_b64, strlen(png_text_b64), NULL,
                                       &n, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
    assert_int_equal(n, 90);
    assert_memory_equal(bin, bomb_png_text, 90);
    refused_small(&j, 100 * MB);
}

/* The public seal check's limits: one page, 12 Mpx. */
static struct scan_limits public_limits(void)
{
    struct scan_limits l = SCAN_LIMITS_DEFAULT;
    l.max_pages = 1;
    l.max_pixels = l.max_total_pixels = 12000000;
    return l;
}

static void test_bombs_public_limits(void **state)
{
    struct scan_limits pub = public_limits();
    unsigned char *p = NULL;
    size_t len = 0;
    uint64_t px = 0, big = 0;
    struct err err = ERR_INIT;
    (void)state;

    /* 4 pages of 20000 x 7500 zeros: a few hundred kB. */
    assert_int_equal(bomb_tiff(20000, 7500, 4, &p, &len), 0);
    assert_true(len < 1024 * 1024);
    {
        struct job j = { p, len, &pub, "refused before decoding", SCAN_E_LIMIT };
        refused_small(&j, 60 * MB);
    }
    assert_int_equal(scan_probe(p, len, "bomb", NULL, &px, &big, &err), 0);
    assert_int_equal(px, 4ull * 20000 * 7500);
    assert_int_equal(big, 20000ull * 7500);
    /* Small enough pages, but more than the one page the public check reads. */
    free(p);
    assert_int_equal(bomb_tiff(100, 100, 2, &p, &len), 0);
    {
        struct job j = { p, len, &pub, "more than 1 pages", SCAN_E_LIMIT };
        refused_small(&j, 60 * MB);
    }
    free(p);

    assert_int_equal(bomb_png(12000, 12000, &p, &len), 0);
    assert_true(len < 1024 * 1024);
    {
        struct job j = { p, len, &pub, "refused before decoding", SCAN_E_LIMIT };
        refused_small(&j, 60 * MB);
    }
    assert_int_equal(scan_probe(p, len, "bomb", &pub, &px, &big, &err), SCAN_E_LIMIT);
    free(p);

    assert_int_equal(bomb_jpeg(20000, 7500, &p, &len), 0);
    {
        struct job j = { p, len, &pub, "refused before decoding", SCAN_E_LIMIT };
        refused_small(&j, 60 * MB);
    }
    free(p);
    assert_int_equal(bomb_pgm_plain(20000, 7500, &p, &len), 0);
    {
        struct job j = { p, len, &pub, "refused before decoding", SCAN_E_LIMIT };
        refused_small(&j, 60 * MB);
    }
    free(p);
}

/* With a clerk's (default) limits the claims fit, but the data cannot hold
 * them: refused before the 150 MB page is allocated. */
static void test_bombs_size_bound(void **state)
{
    unsigned char *p = NULL;
    size_t len = 0;
    (void)state;

    assert_int_equal(bomb_jpeg(20000, 7500, &p, &len), 0);
    {
        struct job j = { p, len, NULL, "more than its data can hold", SCAN_E_LIMIT };
        refused_small(&j, 60 * MB);
    }
    free(p);
    assert_int_equal(bomb_pgm_plain(20000, 7500, &p, &len), 0);
    {
        struct job j = { p, len, NULL, "truncated", -1 };
        refused_small(&j, 60 * MB);
    }
    free(p);
}

/* Set the value of the first IFD's tag TAG (a LONG) in a little-endian
 * TIFF from bomb_tiff. */
static void tiff_patch(unsigned char *p, size_t len, uint16_t tag, uint32_t value)
{
    uint32_t ifd = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
                   (uint32_t)p[7] << 24;
    unsigned n;
    assert_true(ifd + 2 <= len);
    n = (unsigned)(p[ifd] | p[ifd + 1] << 8);
    for (unsigned i = 0; i < n; i++) {
        unsigned char *e = p + ifd + 2 + 12 * i;
        if ((unsigned)(e[0] | e[1] << 8) == tag) {
            e[8] = (unsigned char)value;
            e[9] = (unsigned char)(value >> 8);
            e[10] = (unsigned char)(value >> 16);
            e[11] = (unsigned char)(value >> 24);
            return;
        }
    }
    fail_msg("tag %u not found", tag);
}

/* A deflate TIFF page of 20000 x 7500 whose strip holds 100 bytes (or lies
 * past the end): refused from its strip sizes before the 150 MB page is
 * allocated, under a clerk's limits. */
static void test_tiff_strip_sizes(void **state)
{
    unsigned char *p = NULL;
    size_t len = 0;
    uint64_t px, big;
    struct err err = ERR_INIT;
    (void)state;

    assert_int_equal(bomb_tiff(20000, 7500, 1, &p, &len), 0);
    tiff_patch(p, len, 279, 100); /* StripByteCounts */
    {
        struct job j = { p, len, NULL, "more than they can hold", SCAN_E_LIMIT };
        refused_small(&j, 60 * MB);
    }
    assert_int_equal(scan_probe(p, len, "bomb", NULL, &px, &big, &err), SCAN_E_LIMIT);
    tiff_patch(p, len, 279, (uint32_t)len); /* runs past the end */
    {
        struct job j = { p, len, NULL, "outside the file", -1 };
        refused_small(&j, 60 * MB);
    }
    free(p);
}

static void test_deadline(void **state)
{
    struct scan_limits lim = SCAN_LIMITS_DEFAULT;
    struct scan_pages pages = SCAN_PAGES_INIT;
    struct scan_symbols syms = SCAN_SYMBOLS_INIT;
    struct scan_reader *rd = NULL;
    struct err err = ERR_INIT;
    unsigned char *p = NULL;
    size_t len = 0;
    (void)state;

    /* A deadline already past stops every decoder at its first check. */
    lim.deadline_ms = scan_clock_ms() - 1;
    assert_int_equal(bomb_png(600, 600, &p, &len), 0);
    assert_int_equal(scan_decode(p, len, "late.png", &lim, &pages, &err), SCAN_E_DEADLINE);
    assert_non_null(strstr(err_msg(&err), "took longer than allowed"));
    assert_int_equal(pages.count, 0);
    free(p);
    assert_int_equal(bomb_tiff(600, 600, 1, &p, &len), 0);
    assert_int_equal(scan_decode(p, len, "late.tif", &lim, &pages, &err), SCAN_E_DEADLINE);
    free(p);
    /* Progressive JPEG: stopped while its scans are absorbed, before any row. */
    assert_int_equal(bomb_jpeg_progressive(600, 600, &p, &len), 0);
    assert_int_equal(scan_decode(p, len, "late.jpg", &lim, &pages, &err), SCAN_E_DEADLINE);
    assert_int_equal(pages.count, 0);
    lim.deadline_ms = 0;
    assert_int_equal(scan_decode(p, len, "late.jpg", &lim, &pages, &err), 0);
    scan_pages_release(&pages);
    lim.deadline_ms = scan_clock_ms() - 1;
    free(p);
    assert_int_equal(bomb_pgm_plain(2, 2, &p, &len), 0);
    assert_int_equal(scan_decode(p, len, "late.pgm", &lim, &pages, &err), SCAN_E_DEADLINE);
    free(p);

    /* Barcode retries: a blank page gets no retry once the deadline is past. */
    lim.deadline_ms = 0;
    assert_int_equal(bomb_png(600, 600, &p, &len), 0);
    if (scan_decode(p, len, "blank.png", &lim, &pages, &err) != 0)
        fail_msg("%s", err_msg(&err));
    free(p);
    assert_int_equal(scan_reader_new(&rd, &err), 0);
    assert_int_equal(scan_read_barcodes(rd, &pages.page[0], &syms, &err), 0);
    assert_int_equal(syms.count, 0);
    scan_reader_set_deadline(rd, scan_clock_ms() - 1);
    assert_int_equal(scan_read_barcodes(rd, &pages.page[0], &syms, &err), SCAN_E_DEADLINE);
    scan_reader_set_deadline(rd, scan_clock_ms() + 60000);
    assert_int_equal(scan_read_barcodes(rd, &pages.page[0], &syms, &err), 0);
    scan_reader_free(rd);
    scan_symbols_release(&syms);
    scan_pages_release(&pages);
}

CMOCKA_MAIN_WITH((.secret = 1), test_png_text_chunk, test_bombs_public_limits,
                 test_bombs_size_bound, test_tiff_strip_sizes, test_deadline)
