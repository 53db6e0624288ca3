/* Integration tests: `civreg scan` against zbarimg on a generated corpus of
 * 200 degraded pages, separator sheets through pdftoppm, per-file errors on
 * corrupt inputs, quality reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <zlib.h>

#include "scanner/pagegen.h" /* tests/scanner/ */
#include "support/expect.h"
#include "support/support.h"

#define CORPUS_PAGES 200

static char *dir;

TMP_DIR_FIXTURE(dir, "scancli")

/* A symbol read from one page. */
struct seen {
    char file[64];
    unsigned page;
    char type[24];
    char data[128];
};

struct seen_list {
    struct seen *v;
    size_t n;
};

static void seen_add(struct seen_list *l, const char *file, unsigned page, const char *type,
                     const char *data, size_t len)
{
    struct seen *s;
    l->v = realloc(l->v, (l->n + 1) * sizeof *l->v);
    assert_non_null(l->v);
    s = &l->v[l->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->file, sizeof s->file, "%s", strrchr(file, '/') ? strrchr(file, '/') + 1 : file);
    s->page = page;
    snprintf(s->type, sizeof s->type, "%s", type);
    if (len >= sizeof s->data)
        len = sizeof s->data - 1;
    memcpy(s->data, data, len);
}

static int seen_has(const struct seen_list *l, const char *file, unsigned page, const char *type,
                    const char *data)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].file, file) == 0 && l->v[i].page == page &&
            strcmp(l->v[i].type, type) == 0 && strcmp(l->v[i].data, data) == 0)
            return 1;
    return 0;
}

static int seen_page_count(const struct seen_list *l, const char *file, unsigned page)
{
    int n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += strcmp(l->v[i].file, file) == 0 && l->v[i].page == page;
    return n;
}

/* zbarimg --xml: <source href='F'><index num='N'><symbol type='T' ...>
 * <data><![CDATA[payload]]></data> */
static void parse_zbar_xml(const char *x, struct seen_list *out)
{
    const char *src = x;
    while ((src = strstr(src, "<source href='")) != NULL) {
        char file[4096];
        const char *fe = strchr(src + 14, '\''), *end = strstr(src, "</source>");
        size_t fl = (size_t)(fe - (src + 14));
        const char *idx = src;
        assert_non_null(fe);
        assert_non_null(end);
        memcpy(file, src + 14, fl);
        file[fl] = 0;
        while ((idx = strstr(idx, "<index num='")) != NULL && idx < end) {
            unsigned page = (unsigned)strtoul(idx + 12, NULL, 10) + 1;
            const char *iend = strstr(idx, "</index>"), *sym = idx;
            while ((sym = strstr(sym, "<symbol type='")) != NULL && sym < iend) {
                char type[32];
                const char *te = strchr(sym + 14, '\'');
                const char *d = strstr(sym, "<data><![CDATA["), *de;
                size_t tl = (size_t)(te - (sym + 14));
                assert_true(tl < sizeof type);
                memcpy(type, sym + 14, tl);
                type[tl] = 0;
                assert_non_null(d);
                d += 15;
                de = strstr(d, "]]></data>");
                assert_non_null(de);
                seen_add(out, file, page, type, d, (size_t)(de - d));
                sym = de;
            }
            idx = iend;
        }
        src = end;
    }
}

static void parse_civreg_json(const char *text, struct seen_list *out, size_t *passes_after)
{
    const char *line = text;
    while (*line) {
        const char *nl = strchr(line, '\n');
        json_error_t je;
        json_t *j = json_loadb(line, nl ? (size_t)(nl - line) : strlen(line), 0, &je), *b;
        size_t i;
        assert_non_null(j);
        json_array_foreach(json_object_get(j, "barcodes"), i, b) {
            const char *d = json_string_value(json_object_get(b, "data"));
            assert_non_null(d);
            seen_add(out, json_string_value(json_object_get(j, "file")),
                     (unsigned)json_integer_value(json_object_get(j, "page")),
                     json_string_value(json_object_get(b, "type")), d, strlen(d));
            if (strcmp(json_string_value(json_object_get(b, "pass")), "original") != 0)
                (*passes_after)++;
        }
        json_decref(j);
        if (!nl)
            break;
        line = nl + 1;
    }
}

/* Run ARGV with FILES appended. */
static void run_on_files(const char *const *head, size_t nhead, char **files, size_t nfiles,
                         struct proc_result *r)
{
    char **argv = calloc(nhead + nfiles + 1, sizeof *argv);
    assert_non_null(argv);
    for (size_t i = 0; i < nhead; i++)
        argv[i] = (char *)head[i];
    for (size_t i = 0; i < nfiles; i++)
        argv[nhead + i] = files[i];
    assert_int_equal(proc_run(argv, NULL, 0, 240, r), 0);
    free(argv);
}

static void test_corpus_against_zbarimg(void **state)
{
    struct pg_expect *e = calloc(CORPUS_PAGES, sizeof *e);
    struct seen_list z = { 0 }, c = { 0 };
    struct proc_result r;
    size_t zread = 0, cread = 0, retried = 0;
    int per_type[PG_NONE] = { 0 };
    (void)state;

    assert_non_null(e);
    assert_int_equal(pg_corpus(dir, CORPUS_PAGES, 0x5eed, e, NULL), 0);

    /* zbarimg and civreg side by side (two processes): the same files. */
    {
        char script[8192], *text;
        char *argv[] = { "/bin/sh", "-c", script, NULL };
        snprintf(script, sizeof script,
                 "cd '%s' && { /usr/bin/zbarimg --xml -q page-* > zbar.xml 2>/dev/null & "
                 "'%s' scan decode --json page-* > civreg.jsonl 2> civreg.err; "
                 "echo $? > civreg.rc; wait; }", dir, CIVREG_BIN);
        assert_int_equal(proc_run(argv, NULL, 0, 240, &r), 0);
        proc_result_free(&r);
        text = file_read(tmp_path(dir, "civreg.rc"), NULL);
        assert_non_null(text);
        if (strcmp(text, "0\n") != 0)
            fail_msg("civreg scan decode failed: %s", file_read(tmp_path(dir, "civreg.err"), NULL));
        free(text);
        text = file_read(tmp_path(dir, "zbar.xml"), NULL);
        assert_non_null(text);
        parse_zbar_xml(text, &z);
        free(text);
        text = file_read(tmp_path(dir, "civreg.jsonl"), NULL);
        assert_non_null(text);
        parse_civreg_json(text, &c, &retried);
        free(text);
    }
    for (size_t i = 0; i < CORPUS_PAGES; i++) {
        const char *type = pg_zbar_name(e[i].sym);
        int zn = seen_page_count(&z, e[i].file, e[i].page);
        int cn = seen_page_count(&c, e[i].file, e[i].page);
        /* zbarimg itself never misreads our pages: the generator is right. */
        if (zn > 0 && (zn != 1 || !seen_has(&z, e[i].file, e[i].page, type, e[i].payload)))
            fail_msg("%s page %u: zbarimg read something other than %s:%s", e[i].file,
                     e[i].page, type, e[i].payload);
        /* Whatever zbarimg reads, civreg reads with the same payload. */
        if (zn > 0 && !seen_has(&c, e[i].file, e[i].page, type, e[i].payload))
            fail_msg("%s page %u (%s): zbarimg reads %s:%s, civreg does not", e[i].file,
                     e[i].page, e[i].degradation, type, e[i].payload);
        /* civreg never reports a wrong payload. */
        if (cn > 0 && (cn != 1 || !seen_has(&c, e[i].file, e[i].page, type, e[i].payload)))
            fail_msg("%s page %u (%s): civreg reported a wrong or extra symbol", e[i].file,
                     e[i].page, e[i].degradation);
        zread += zn > 0;
        cread += cn > 0;
        if (zn > 0)
            per_type[e[i].sym]++;
    }
    print_message("corpus: %d pages; zbarimg read %zu, civreg %zu (%zu through retries)\n",
                  CORPUS_PAGES, zread, cread, retried);
    /* The corpus is meaningful: most pages readable, every symbology read. */
    assert_true(zread >= CORPUS_PAGES / 2);
    for (int t = 0; t < PG_NONE; t++)
        if (per_type[t] < 5)
            fail_msg("zbarimg read only %d %s pages", per_type[t], pg_zbar_name((enum pg_symbology)t));
    assert_true(cread >= zread);

    free(z.v);
    free(c.v);
    free(e);
}

/* Plain output is zbarimg's: TYPE:payload per line. */
static void test_text_output_matches_zbarimg(void **state)
{
    struct scan_image page = SCAN_IMAGE_INIT;
    struct proc_result zr, cr;
    static const struct {
        enum pg_symbology s;
        const char *text, *file;
    } v[] = {
        { PG_QR, "Birth register HQ 1987 vol 12", "a.png" },
        { PG_CODE128, "CRVS1|HQ|1987|12", "b.png" },
        { PG_EAN13, "5901234123457", "c.png" },
        { PG_I25, "12345678", "d.png" },
        { PG_CODE39, "HQ-1987", "e.png" },
    };
    char *files[5];
    static const char *const zhead[] = { "/usr/bin/zbarimg", "-q" }, *const zraw[] = { "/usr/bin/zbarimg", "-q", "--raw" };
    static const char *const chead[] = { CIVREG_BIN, "scan", "decode" },
                             *const craw[] = { CIVREG_BIN, "scan", "decode", "--raw" };
    (void)state;
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(pg_page(&page, 500, 300, 255), 0);
        assert_true(pg_barcode(&page, v[i].s, 60, 60, 2 + (v[i].s == PG_QR), 80, v[i].text) > 0);
        assert_int_equal(pg_write_png(tmp_path(dir, v[i].file), &page), 0);
        files[i] = strdup(tmp_path(dir, v[i].file));
        scan_image_release(&page);
    }
    run_on_files(zhead, 2, files, 5, &zr);
    run_on_files(chead, 3, files, 5, &cr);
    assert_int_equal(cr.status, 0);
    assert_string_equal(cr.out, zr.out);
    assert_non_null(strstr(cr.out, "CODE-128:CRVS1|HQ|1987|12\n"));
    proc_result_free(&zr);
    proc_result_free(&cr);
    run_on_files(zraw, 3, files, 5, &zr);
    run_on_files(craw, 4, files, 5, &cr);
    assert_string_equal(cr.out, zr.out);
    proc_result_free(&zr);
    proc_result_free(&cr);
    for (size_t i = 0; i < 5; i++)
        free(files[i]);
}

static void test_separator_roundtrip(void **state)
{
    struct proc_result r;
    static const char *const dpis[] = { "100", "150", "300" };
    (void)state;
    assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "scan", "separator", "--office", "HQ",
                                "--year", "1987", "--volume", "12A", "--out", tmp_path(dir, "sep.pdf"), NULL }), 0);
    if (r.status != 0)
        fail_msg("separator: %s", r.err);
    proc_result_free(&r);
    for (size_t i = 0; i < 3; i++) {
        char prefix[4096], png[4200];
        snprintf(prefix, sizeof prefix, "%s-%s", tmp_path(dir, "sep"), dpis[i]);
        {
            char *argv[] = { "/usr/bin/pdftoppm", "-r", (char *)dpis[i], "-gray", "-png", (char *)tmp_path(dir, "sep.pdf"),
                             prefix, NULL };
            assert_int_equal(proc_run(argv, NULL, 0, 60, &r), 0);
            assert_int_equal(r.status, 0);
            proc_result_free(&r);
        }
        snprintf(png, sizeof png, "%s-1.png", prefix);
        {
            char *argv[] = { "/usr/bin/zbarimg", "-q", png, NULL };
            assert_int_equal(proc_run(argv, NULL, 0, 60, &r), 0);
            assert_string_equal(r.out, "CODE-128:CRVS1|HQ|1987|12A\n");
            proc_result_free(&r);
        }
        assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "scan", "decode", png, NULL }), 0);
        assert_int_equal(r.status, 0);
        assert_string_equal(r.out, "CODE-128:CRVS1|HQ|1987|12A\n");
        proc_result_free(&r);
        assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "scan", "decode", "--json", png, NULL }), 0);
        assert_non_null(strstr(r.out, "\"separator\":{\"office\":\"HQ\",\"year\":1987,\"volume\":\"12A\"}"));
        proc_result_free(&r);
    }
    /* Bad fields are usage errors and write nothing. */
    civreg_expect(NULL, 2, "office code", (const char *[]){ "scan", "separator", "--office", "hq",
                                "--year", "1987", "--volume", "1", "--out", tmp_path(dir, "bad.pdf"), NULL });
    civreg_expect(NULL, 2, NULL, (const char *[]){ "scan", "separator", "--office", "HQ",
                                "--year", "87", "--volume", "1", "--out", tmp_path(dir, "bad.pdf"), NULL });
    assert_null(file_read(tmp_path(dir, "bad.pdf"), NULL));
}

static void test_corrupt_files_reported_per_file(void **state)
{
    struct scan_image page = SCAN_IMAGE_INIT;
    struct proc_result r;
    size_t len;
    char *png;
    static const unsigned char bomb[] = {
        0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
        0x00, 0x01, 0x86, 0xa0, 0x00, 0x01, 0x86, 0xa0, 8, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 'I', 'D', 'A', 'T', 0x35, 0xaf, 0x06, 0x1e, /* empty IDAT */
    };
    unsigned char bombc[sizeof bomb];
    uLong crc = crc32(0, bomb + 12, 17);

    assert_int_equal(crc32(0, (const unsigned char *)"IDAT", 4), 0x35af061eUL);
    (void)state;
    assert_int_equal(pg_page(&page, 400, 300, 255), 0);
    assert_true(pg_barcode(&page, PG_QR, 40, 40, 4, 0, "good page") > 0);
    assert_int_equal(pg_write_png(tmp_path(dir, "good.png"), &page), 0);
    assert_int_equal(pg_write_jpeg(tmp_path(dir, "good.jpg"), &page, 90, 0), 0);
    assert_int_equal(pg_write_tiff_g4(tmp_path(dir, "good.tif"), &page, 1), 0);
    png = file_read(tmp_path(dir, "good.png"), &len);
    assert_int_equal(file_write(tmp_path(dir, "trunc.png"), png, len / 2), 0);
    free(png);
    png = file_read(tmp_path(dir, "good.jpg"), &len);
    assert_int_equal(file_write(tmp_path(dir, "trunc.jpg"), png, len / 2), 0);
    free(png);
    png = file_read(tmp_path(dir, "good.tif"), &len);
    assert_int_equal(file_write(tmp_path(dir, "trunc.tif"), png, len / 2), 0);
    free(png);
    assert_int_equal(file_write(tmp_path(dir, "empty.png"), "", 0), 0);
    assert_int_equal(file_write(tmp_path(dir, "letter.png"), "Dear registrar,\n", 16), 0);
    memcpy(bombc, bomb, sizeof bomb); /* IHDR claiming 100000 x 100000, valid CRC */
    bombc[29] = (unsigned char)(crc >> 24);
    bombc[30] = (unsigned char)(crc >> 16);
    bombc[31] = (unsigned char)(crc >> 8);
    bombc[32] = (unsigned char)crc;
    assert_int_equal(file_write(tmp_path(dir, "bomb.png"), bombc, sizeof bombc), 0);
    scan_image_release(&page);

    assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "scan", "decode", tmp_path(dir, "trunc.png"),
                                tmp_path(dir, "trunc.jpg"), tmp_path(dir, "trunc.tif"), tmp_path(dir, "empty.png"),
                                tmp_path(dir, "letter.png"), tmp_path(dir, "bomb.png"), tmp_path(dir, "missing.png"),
                                tmp_path(dir, "good.png"), NULL }), 0);
    assert_int_equal(r.status, 1);
    assert_string_equal(r.out, "QR-Code:good page\n");
    {
        static const char *const want[][2] = {
            { "trunc.png", "png: " }, { "trunc.jpg", "jpeg: " }, { "trunc.tif", "tiff: " },
            { "empty.png", "empty file" }, { "letter.png", "not an image" },
            { "bomb.png", "refused before decoding" }, { "missing.png", "cannot open" },
        };
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
            const char *line = strstr(r.err, want[i][0]);
            const char *nl = line ? strchr(line, '\n') : NULL;
            while (line != NULL && line > r.err && line[-1] != '\n')
                line--;
            if (line == NULL || nl == NULL)
                fail_msg("no error naming %s in:\n%s", want[i][0], r.err);
            if (strstr(line, want[i][1]) == NULL || strstr(line, want[i][1]) > nl)
                fail_msg("error for %s lacks '%s':\n%s", want[i][0], want[i][1], r.err);
        }
    }
    proc_result_free(&r);
}

static void test_check_reports_flags(void **state)
{
    struct scan_image page = SCAN_IMAGE_INIT;
    struct proc_result r;
    (void)state;
    assert_int_equal(pg_page(&page, 1240, 1754, 240), 0);
    page.dpi_x = page.dpi_y = 150;
    assert_int_equal(pg_write_png(tmp_path(dir, "blank.png"), &page), 0);
    pg_text(&page, 100, 150, 1040, 1450, 21, 5);
    assert_int_equal(pg_rotate(&page, -4.0), 0);
    assert_int_equal(pg_write_png(tmp_path(dir, "skewed.png"), &page), 0);
    scan_image_release(&page);
    assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "scan", "check", tmp_path(dir, "blank.png"),
                                tmp_path(dir, "skewed.png"), NULL }), 0);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "blank.png page 1: 1240x1754 150 dpi (metadata)"));
    assert_non_null(strstr(r.out, "low-resolution,blank\n"));
    assert_non_null(strstr(r.out, "skew 4.0"));
    assert_non_null(strstr(r.out, "low-resolution,skewed\n"));
    proc_result_free(&r);
    assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "scan", "check", "--json",
                                tmp_path(dir, "blank.png"), NULL }), 0);
    assert_non_null(strstr(r.out, "\"flags\":[\"low-resolution\",\"blank\"]"));
    proc_result_free(&r);
}

/* `test_scan_cli corpus` runs the corpus comparison alone (its own CTest
 * test: it is the long one). */
int main(int argc, char **argv)
{
    const struct CMUnitTest corpus[] = {
        cmocka_unit_test(test_corpus_against_zbarimg),
    };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_output_matches_zbarimg),
        cmocka_unit_test(test_separator_roundtrip),
        cmocka_unit_test(test_corrupt_files_reported_per_file),
        cmocka_unit_test(test_check_reports_flags),
    };
    if (argc > 1 && strcmp(argv[1], "corpus") == 0)
        return cmocka_run_group_tests(corpus, setup, teardown);
    return cmocka_run_group_tests(tests, setup, teardown);
}
