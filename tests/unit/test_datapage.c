/* Data page PDF (issuance/datapage.c) checked with independent tools from
 * poppler-utils: pdftotext extracts exactly the MRZ; pdffonts shows OCR-B
 * embedded; pdfinfo gives the true page size; pdftoppm renders at 300 dpi
 * and the test measures, on the pixels, that the MRZ characters stand in
 * their printing zones at the pitch Doc 9303 prescribes. Also: image header
 * checks (issuance/photo.c) and refusals with clear messages. */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <png.h>
#include <sodium.h>

#include "issuance/print/datapage.h"
#include "issuance/icao/mrz.h"
#include "issuance/icao/photo.h"
#include "support/cmocka_main.h"
#include "support/support.h"

static char *tmp;

TMP_DIR_FIXTURE(tmp, "datapage")

/* ---- the page of the Doc 9303-4 specimen (tests/data/mrz/td3.*) ------- */

struct page {
    struct datapage_input in;
    unsigned char *photo, *signature;
    size_t photo_len, signature_len;
    struct buf mrz;
};

static void page_init(struct page *p, enum mrz_format f)
{
    struct mrz_input mi = { 0 };
    struct err err = ERR_INIT;

    memset(p, 0, sizeof *p);
    p->mrz = (struct buf)BUF_INIT(256);
    p->photo = (unsigned char *)test_data_read("issuance", "portrait.jpg", &p->photo_len);
    p->signature = (unsigned char *)test_data_read("issuance", "signature.png", &p->signature_len);
    p->in.format = f;
    p->in.document_name = f == MRZ_TD3 ? "PASSPORT" : "IDENTITY CARD";
    p->in.document_code = f == MRZ_TD3 ? "P" : "I";
    p->in.issuing_state = "UTO";
    p->in.issuing_state_name = "Utopia";
    p->in.document_number = f == MRZ_TD3 ? "L898902C3" : "D23145890";
    p->in.primary_identifier = "Eriksson";
    p->in.secondary_identifier = "Anna María";
    p->in.nationality = "UTO";
    p->in.date_of_birth = (struct mrz_date){ 1974, 8, 12 };
    p->in.place_of_birth = "Zenith";
    p->in.sex = 'F';
    p->in.personal_number = f == MRZ_TD3 ? "ZE184226B" : NULL;
    p->in.date_of_issue = (struct mrz_date){ 2002, 4, 16 };
    p->in.date_of_expiry = (struct mrz_date){ 2012, 4, 15 };
    p->in.authority = "Passport Office";
    p->in.photo = p->photo;
    p->in.photo_len = p->photo_len;
    p->in.signature = p->signature;
    p->in.signature_len = p->signature_len;

    mi.format = f;
    mi.document_code = p->in.document_code;
    mi.issuing_state = "UTO";
    mi.primary_identifier = p->in.primary_identifier;
    mi.secondary_identifier = p->in.secondary_identifier;
    mi.document_number = p->in.document_number;
    mi.nationality = "UTO";
    mi.date_of_birth = p->in.date_of_birth;
    mi.sex = 'F';
    mi.date_of_expiry = p->in.date_of_expiry;
    mi.optional_data = p->in.personal_number;
    static const struct mrz_date today = { 2010, 1, 1 };
    if (mrz_generate(&mi, &today, &p->mrz, NULL, &err) != 0)
        fail_msg("mrz_generate: %s", err_msg(&err));
    p->in.mrz = buf_str(&p->mrz);
}

static void page_free(struct page *p)
{
    free(p->photo);
    free(p->signature);
    buf_release(&p->mrz);
}

static char *render_to_file(const struct datapage_input *in, const char *name)
{
    struct buf pdf = BUF_INIT(16 << 20);
    struct err err = ERR_INIT;
    char *path = malloc(1024);

    assert_non_null(path);
    if (datapage_render(in, &pdf, &err) != 0)
        fail_msg("datapage_render: %s", err_msg(&err));
    assert_true(pdf.len > 1000);
    assert_memory_equal(pdf.data, "%PDF-", 5);
    snprintf(path, 1024, "%s/%s", tmp, name);
    assert_int_equal(file_write(path, pdf.data, pdf.len), 0);
    buf_release(&pdf);
    return path;
}

static void run_tool(const char *tool, const char *const *args, struct proc_result *r)
{
    char *argv[16];
    size_t n = 0;

    if (tool[0] == '\0')
        fail_msg("poppler-utils tool not found at configure time: run install/deps.sh");
    argv[n++] = (char *)tool;
    for (; args[n - 1] && n < 15; n++)
        argv[n] = (char *)args[n - 1];
    argv[n] = NULL;
    assert_int_equal(proc_run(argv, NULL, 0, 60, r), 0);
    if (r->status != 0)
        fail_msg("%s failed (%d): %s", tool, r->status, r->err);
}

/* ---- pdftotext / pdffonts / pdfinfo ----------------------------------- */

/* The MRZ lines appear in the extracted text, each as a whole line, in
 * order and adjacent. */
static void check_text_has_mrz(const char *text, const char *mrz)
{
    char *copy = strdup(mrz);
    const char *prev_end = NULL;
    assert_non_null(copy);
    for (char *line = copy;;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        const char *at = strstr(prev_end ? prev_end : text, line);
        if (at == NULL)
            fail_msg("MRZ line '%s' not in pdftotext output:\n%s", line, text);
        assert_true(at == text || at[-1] == '\n');
        assert_true(at[strlen(line)] == '\n');
        if (prev_end)
            assert_ptr_equal(at, prev_end); /* the next line follows directly */
        prev_end = at + strlen(line) + 1;
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    free(copy);
}

static void check_fonts(const char *pdf)
{
    struct proc_result r;
    int ocrb = 0;

    run_tool(PDFFONTS, (const char *[]){ pdf, NULL }, &r);
    for (char *line = r.out; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (strstr(line, "OCRB") != NULL) {
            /* name type... encoding emb sub uni object-id generation: the
             * embedded column is the fifth field from the end. */
            char *tok[16];
            size_t n = 0;
            char *save = NULL;
            for (char *t = strtok_r(line, " ", &save); t && n < 16; t = strtok_r(NULL, " ", &save))
                tok[n++] = t;
            assert_true(n >= 6);
            assert_string_equal(tok[n - 5], "yes");
            ocrb = 1;
        }
        line = nl ? nl + 1 : NULL;
    }
    if (!ocrb)
        fail_msg("no OCR-B font in pdffonts output");
    proc_result_free(&r);
}

static void check_page_size(const char *pdf, double wmm, double hmm, int pages)
{
    struct proc_result r;
    const char *at;
    char *end;
    double w, h;

    run_tool(PDFINFO, (const char *[]){ pdf, NULL }, &r);
    at = strstr(r.out, "Page size:");
    assert_non_null(at);
    w = strtod(at + 10, &end);
    assert_true(strncmp(end, " x ", 3) == 0);
    h = strtod(end + 3, &end);
    assert_true(fabs(w - wmm * 72.0 / 25.4) < 0.01);
    assert_true(fabs(h - hmm * 72.0 / 25.4) < 0.01);
    at = strstr(r.out, "Pages:");
    assert_non_null(at);
    assert_int_equal(strtol(at + 6, NULL, 10), pages);
    proc_result_free(&r);
}

/* ---- measuring the rendered MRZ ---------------------------------------- */

#define DPI 300
#define PX_PER_MM (DPI / 25.4)

struct pgm {
    int w, h;
    unsigned char *px;
    char *file;
};

static void read_pgm(const char *path, struct pgm *img)
{
    size_t len;
    char *p = file_read(path, &len), *end;
    long v[3];
    size_t i = 2;

    assert_non_null(p);
    assert_true(len > 16 && p[0] == 'P' && p[1] == '5');
    for (int k = 0; k < 3; k++) {
        while (i < len && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t'))
            i++;
        v[k] = strtol(p + i, &end, 10);
        i = (size_t)(end - p);
    }
    i++; /* the single white space after maxval */
    assert_int_equal(v[2], 255);
    img->w = (int)v[0];
    img->h = (int)v[1];
    assert_true((size_t)img->w * (size_t)img->h == len - i);
    img->px = (unsigned char *)p + i;
    img->file = p;
}

static int ink(const struct pgm *img, int x, int y)
{
    return img->px[(size_t)y * (size_t)img->w + (size_t)x] < 128;
}

/* mm from the bottom edge of a pixel row's centre, and from the left edge */
static double row_mm(const struct pgm *img, int y)
{
    return (img->h - y - 0.5) / PX_PER_MM;
}

static double col_mm(int x)
{
    return (x + 0.5) / PX_PER_MM;
}

static void measure_mrz(const char *pdf, enum mrz_format f, const char *mrz)
{
    struct datapage_mrz_geometry g;
    struct err err = ERR_INIT;
    char page[8], prefix[1024], pgm[1100];
    struct proc_result r;
    struct pgm img;
    int top_px, rows[3][2], nrows = 0, in_run = 0;

    assert_int_equal(datapage_mrz_geometry(f, &g, &err), 0);
    snprintf(page, sizeof page, "%d", g.page);
    snprintf(prefix, sizeof prefix, "%s/render-%s", tmp, mrz_format_name(f));
    run_tool(PDFTOPPM, (const char *[]){ "-r", "300", "-gray", "-f", page, "-l", page,
                                         "-singlefile", pdf, prefix, NULL }, &r);
    proc_result_free(&r);
    snprintf(pgm, sizeof pgm, "%s.pgm", prefix);
    read_pgm(pgm, &img);

    /* The page at 300 dpi. */
    double wmm = f == MRZ_TD3 ? DATAPAGE_TD3_WIDTH_MM : DATAPAGE_TD1_WIDTH_MM;
    assert_true(fabs(img.w - wmm * PX_PER_MM) <= 1.0);

    /* Rows with ink between the bottom edge and the top of the MRZ: exactly
     * one band per MRZ line, nothing else (the visual zone stays out). */
    top_px = img.h - (int)(g.mrz_top * PX_PER_MM);
    for (int y = top_px; y < img.h; y++) {
        int any = 0;
        for (int x = 0; x < img.w && !any; x++)
            any = ink(&img, x, y);
        if (any && !in_run) {
            if (nrows == 3)
                fail_msg("more ink bands than MRZ lines in the MRZ zone");
            rows[nrows][0] = y;
            in_run = 1;
        } else if (!any && in_run) {
            rows[nrows++][1] = y - 1;
            in_run = 0;
        }
    }
    if (in_run)
        fail_msg("ink reaches the bottom edge");
    assert_int_equal(nrows, g.lines);

    const char *line = mrz;
    for (int l = 0; l < g.lines; l++) {
        double top = row_mm(&img, rows[l][0]), bottom = row_mm(&img, rows[l][1]);
        double mid = (top + bottom) / 2;
        /* Each line lies inside its printing zone (up to one pixel of
         * rounding at 300 dpi), centred on its reference centre line within
         * 0.3 mm (OCR-B digits stand taller than the capitals the line is
         * centred by). */
        const double px = 1.0 / PX_PER_MM;
        if (top > g.zone_high[l] + px || bottom < g.zone_low[l] - px)
            fail_msg("line %d spans %.2f-%.2f mm, zone %.2f-%.2f mm", l + 1, bottom, top,
                     g.zone_low[l], g.zone_high[l]);
        if (fabs(mid - g.centre[l]) > 0.3)
            fail_msg("line %d centred at %.2f mm, reference centre line %.2f mm", l + 1, mid,
                     g.centre[l]);

        /* Characters: runs of ink columns within the band. */
        double centre[64];
        int n = 0, run = 0, x0 = 0;
        for (int x = 0; x <= img.w; x++) {
            int any = 0;
            for (int y = rows[l][0]; x < img.w && y <= rows[l][1] && !any; y++)
                any = ink(&img, x, y);
            if (any && !run) {
                x0 = x;
                run = 1;
            } else if (!any && run) {
                if (n == 64)
                    fail_msg("too many glyphs on line %d", l + 1);
                centre[n++] = (col_mm(x0) + col_mm(x - 1)) / 2;
                run = 0;
            }
        }
        /* One glyph per character of the line. */
        assert_int_equal(n, g.chars);

        /* A least-squares line through the glyph centres: its slope is the
         * pitch (2.54 mm, within 0.01 mm), and every glyph stands in its own
         * character cell (within a fifth of the pitch of its position). */
        double sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (int i = 0; i < n; i++) {
            sx += i;
            sy += centre[i];
            sxx += (double)i * i;
            sxy += i * centre[i];
        }
        double pitch = (n * sxy - sx * sy) / (n * sxx - sx * sx);
        double a = (sy - pitch * sx) / n;
        if (fabs(pitch - g.pitch) > 0.01)
            fail_msg("line %d: measured pitch %.4f mm, prescribed %.2f mm", l + 1, pitch, g.pitch);
        for (int i = 0; i < n; i++)
            if (fabs(centre[i] - (a + pitch * i)) > g.pitch / 5)
                fail_msg("line %d: character %d off its cell by %.2f mm", l + 1, i + 1,
                         centre[i] - (a + pitch * i));
        /* The first character cell starts at its prescribed distance from
         * the left edge (+/- 1.0 mm). */
        double first = a - pitch / 2;
        if (fabs(first - g.first_left) > 1.0)
            fail_msg("line %d starts %.2f mm from the left edge, prescribed %.1f mm", l + 1,
                     first, g.first_left);
        const char *nl = strchr(line, '\n');
        line = nl ? nl + 1 : line + strlen(line);
    }
    free(img.file);
}

static void check_pdf(const char *pdf, enum mrz_format f, const char *mrz, double wmm, double hmm,
                      int pages)
{
    struct proc_result r;

    run_tool(PDFTOTEXT, (const char *[]){ pdf, "-", NULL }, &r);
    check_text_has_mrz(r.out, mrz);
    proc_result_free(&r);
    check_fonts(pdf);
    check_page_size(pdf, wmm, hmm, pages);
    measure_mrz(pdf, f, mrz);
}

static void test_td3_specimen(void **state)
{
    struct page p;
    char *want;
    (void)state;

    page_init(&p, MRZ_TD3);
    /* The MRZ is the Doc 9303-4 specimen's, byte for byte. */
    want = test_data_read("mrz", "td3.mrz", NULL);
    if (want[strlen(want) - 1] == '\n')
        want[strlen(want) - 1] = '\0';
    assert_string_equal(p.in.mrz, want);
    char *pdf = render_to_file(&p.in, "td3.pdf");
    check_pdf(pdf, MRZ_TD3, p.in.mrz, 125.0, 88.0, 1);
    free(pdf);
    free(want);
    page_free(&p);
}

static void test_td1_card(void **state)
{
    struct page p;
    (void)state;

    page_init(&p, MRZ_TD1);
    char *pdf = render_to_file(&p.in, "td1.pdf");
    check_pdf(pdf, MRZ_TD1, p.in.mrz, 85.6, 54.0, 2);
    free(pdf);
    page_free(&p);
}

/* National characters in the visual zone, their transliteration beside
 * them, and a long place name shrunk rather than cut. */
static void test_national_characters(void **state)
{
    struct page p;
    struct proc_result r;
    (void)state;

    page_init(&p, MRZ_TD3);
    p.in.primary_identifier = "Ivanova-Müller";
    p.in.secondary_identifier = "Анна";
    p.in.place_of_birth = "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch, Gwynedd";
    p.in.specimen_text = "SPECIMEN";
    struct mrz_input mi = { .format = MRZ_TD3, .document_code = "P", .issuing_state = "UTO",
                            .primary_identifier = p.in.primary_identifier,
                            .secondary_identifier = p.in.secondary_identifier,
                            .document_number = "L898902C3", .nationality = "UTO",
                            .date_of_birth = p.in.date_of_birth, .sex = 'F',
                            .date_of_expiry = p.in.date_of_expiry,
                            .optional_data = "ZE184226B" };
    struct err err = ERR_INIT;
    static const struct mrz_date today = { 2010, 1, 1 };
    buf_reset(&p.mrz);
    assert_int_equal(mrz_generate(&mi, &today, &p.mrz, NULL, &err), 0);
    p.in.mrz = buf_str(&p.mrz);
    char *pdf = render_to_file(&p.in, "national.pdf");
    run_tool(PDFTOTEXT, (const char *[]){ "-q", pdf, "-", NULL }, &r);
    assert_non_null(strstr(r.out, "Ivanova-Müller"));
    assert_non_null(strstr(r.out, "IVANOVA MUELLER"));
    assert_non_null(strstr(r.out, "Анна"));
    assert_non_null(strstr(r.out, "ANNA"));
    assert_non_null(strstr(r.out, "Llanfairpwll"));
    assert_non_null(strstr(r.out, "12 AUG 1974"));
    check_text_has_mrz(r.out, p.in.mrz);
    proc_result_free(&r);
    measure_mrz(pdf, MRZ_TD3, p.in.mrz);
    free(pdf);
    page_free(&p);
}

static void expect_refusal(const struct datapage_input *in, const char *want)
{
    struct buf pdf = BUF_INIT(16 << 20);
    struct err err = ERR_INIT;

    assert_int_equal(datapage_render(in, &pdf, &err), -1);
    if (strstr(err_msg(&err), want) == NULL)
        fail_msg("expected '%s' in '%s'", want, err_msg(&err));
    assert_int_equal(pdf.len, 0);
    buf_release(&pdf);
}

/* A member of struct datapage_input, changed by a table row */
enum change { CHANGE_TEXT, CHANGE_INT, CHANGE_CHAR, CHANGE_SIZE };

/* Sets the member at offset AT of IN to TEXT or NUMBER, as KIND says */
static void change_member(struct datapage_input *in, size_t at, enum change kind, const char *text,
                          long number)
{
    unsigned char *m = (unsigned char *)in + at;
    int i = (int)number;
    char c = (char)number;
    size_t z = (size_t)number;

    const struct {
        const void *from;
        size_t len;
    } value[] = { [CHANGE_TEXT] = { &text, sizeof text }, [CHANGE_INT] = { &i, sizeof i },
                  [CHANGE_CHAR] = { &c, sizeof c }, [CHANGE_SIZE] = { &z, sizeof z } };

    _Static_assert(sizeof(enum mrz_format) == sizeof(int), "the format is written as an int");
    memcpy(m, value[kind].from, value[kind].len);
}

static void test_refusals(void **state)
{
    struct page p;
    struct datapage_input in;
    char bad[200];
    (void)state;

    page_init(&p, MRZ_TD3);

    /* One member changed at a time */
    static const struct {
        size_t at; /* offset in struct datapage_input */
        enum change kind;
        const char *text;
        long number;
        const char *want;
    } changes[] = {
        { offsetof(struct datapage_input, format), CHANGE_INT, NULL, MRZ_TD2, "no data page layout" },
        { offsetof(struct datapage_input, format), CHANGE_INT, NULL, MRZ_TD1, "a TD3 MRZ on a TD1 page" },
        { offsetof(struct datapage_input, document_number), CHANGE_TEXT, "L898902C4", 0, "document number L898902C3 differs from L898902C4" },
        { offsetof(struct datapage_input, date_of_birth.day), CHANGE_INT, NULL, 13, "date of birth or expiry differs" },
        { offsetof(struct datapage_input, sex), CHANGE_CHAR, NULL, 'M', "sex F differs from M" },
        { offsetof(struct datapage_input, mrz), CHANGE_TEXT, "", 0, "mrz: required" },
        { offsetof(struct datapage_input, primary_identifier), CHANGE_TEXT, "Erik\xC3sson", 0, "primary_identifier: invalid UTF-8" },
        { offsetof(struct datapage_input, place_of_birth), CHANGE_TEXT, "Zenith\nUtopia", 0, "place_of_birth: control character" },
        { offsetof(struct datapage_input, authority), CHANGE_TEXT, NULL, 0, "authority: required" },
        { offsetof(struct datapage_input, issuing_state), CHANGE_TEXT, "ut", 0, "issuing_state: only A-Z" },
        { offsetof(struct datapage_input, date_of_expiry.month), CHANGE_INT, NULL, 13, "date_of_expiry: not a date" },
        { offsetof(struct datapage_input, sex), CHANGE_CHAR, NULL, 'Q', "sex: F, M, X or <" },
        { offsetof(struct datapage_input, photo_len), CHANGE_SIZE, NULL, 100, "photo: jpeg" }, /* headers only, cut before the frame header */
        { offsetof(struct datapage_input, signature_len), CHANGE_SIZE, NULL, 20, "signature: png: truncated header" },
    };
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
        in = p.in;
        change_member(&in, changes[i].at, changes[i].kind, changes[i].text, changes[i].number);
        expect_refusal(&in, changes[i].want);
    }
    in = p.in;
    snprintf(bad, sizeof bad, "%s", p.in.mrz);
    bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '4' ? '5' : '4'; /* composite check digit */
    in.mrz = bad;
    expect_refusal(&in, "mrz: invalid");
    in = p.in;
    in.photo = p.signature; /* a PNG */
    in.photo_len = p.signature_len;
    expect_refusal(&in, "photo: must be JPEG");
    /* Stored images that only decoding finds wrong, refused before the PDF
     * writer reads them: a photo cut in half, and a signature PNG whose
     * tEXt chunk claims 2 GB (libharu's own libpng would allocate it). */
    in = p.in;
    in.photo_len = p.photo_len / 2;
    expect_refusal(&in, "photo: the image does not decode cleanly");
    {
        static const char b64[] = "iVBORw0KGgoAAAANSUhEUgAAACgAAAAeAQAAAAB2pmFwAAAABGdBTUEAALGPC/"
                                  "xhpAAAAAd0SU1FB+oLGg8zB1IsowB2pmEldEVYdGRkAAAAAElFTkSuQmCC";
        unsigned char png[128];
        size_t n = 0;
        assert_int_equal(sodium_base642bin(png, sizeof png, b64, strlen(b64), NULL, &n, NULL,
                                           sodium_base64_VARIANT_ORIGINAL), 0);
        in = p.in;
        in.signature = png;
        in.signature_len = n;
        expect_refusal(&in, "signature: the image does not decode cleanly");
    }
    page_free(&p);
}

/* The web server's worker threads have small stacks (about 100 KB with
 * CivetWeb's defaults); libharu needs more. Rendering from such a thread
 * must work. */
struct small_job {
    const struct datapage_input *in;
    int rc;
    char msg[ERR_MSG_MAX];
};

static void *small_stack_render(void *arg)
{
    struct small_job *j = arg;
    struct buf pdf = BUF_INIT(16 << 20);
    struct err err = ERR_INIT;
    j->rc = datapage_render(j->in, &pdf, &err);
    snprintf(j->msg, sizeof j->msg, "%s", err_msg(&err));
    buf_release(&pdf);
    return NULL;
}

/* ---- signature images of every PNG depth and colour type ------------- */

struct pngbuf {
    unsigned char *p;
    size_t len, cap;
};

static void png_mem_write(png_structp png, png_bytep data, png_size_t n)
{
    struct pngbuf *b = png_get_io_ptr(png);
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void png_mem_flush(png_structp png)
{
    (void)png;
}

#define SIG_W 400
#define SIG_H 100

/* Ink of the test signature: a long bar and a small square above its left
 * end, so a picture drawn twice, squashed or shifted shows. */
static int sig_ink(int x, int y)
{
    return (x >= 40 && x < 360 && y >= 55 && y < 80) || (x >= 60 && x < 100 && y >= 10 && y < 35);
}

/* The signature as a PNG of colour type CTYPE and bit DEPTH. Where there
 * is no ink, images with alpha are transparent over BLACK, so a writer
 * ignoring alpha prints a black box. Malloc'd; *LEN its size. */
static unsigned char *sig_png(int ctype, int depth, size_t *len)
{
    struct pngbuf b = { NULL, 0, 0 };
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    int ch = ctype == PNG_COLOR_TYPE_RGB ? 3 : ctype == PNG_COLOR_TYPE_RGBA ? 4
             : ctype == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : 1;
    size_t bps = depth == 16 ? 2 : 1, rowbytes = (size_t)SIG_W * (size_t)ch * bps;
    unsigned char *row = calloc(1, rowbytes + 8);

    assert_non_null(png);
    assert_non_null(info);
    assert_non_null(row);
    if (setjmp(png_jmpbuf(png)))
        fail_msg("libpng could not write the test signature");
    png_set_write_fn(png, &b, png_mem_write, png_mem_flush);
    png_set_IHDR(png, info, SIG_W, SIG_H, depth, ctype, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (ctype == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[2] = { { 255, 255, 255 }, { 20, 20, 20 } };
        png_set_PLTE(png, info, pal, 2);
    }
    png_write_info(png, info);
    for (int y = 0; y < SIG_H; y++) {
        memset(row, 0, rowbytes + 8);
        for (int x = 0; x < SIG_W; x++) {
            int inked = sig_ink(x, y);
            unsigned v = inked ? 20 : 255, a = inked ? 255 : 0;
            unsigned s[4];
            int n = 0;
            if (ctype == PNG_COLOR_TYPE_PALETTE) {
                /* 1-bit indices, most significant bit first */
                if (depth == 1) {
                    if (inked)
                        row[x / 8] |= (unsigned char)(0x80 >> (x % 8));
                } else {
                    row[x] = (unsigned char)inked;
                }
                continue;
            }
            if (ctype == PNG_COLOR_TYPE_GRAY_ALPHA || ctype == PNG_COLOR_TYPE_RGBA)
                v = inked ? 20 : 0; /* transparent black where there is no ink */
            for (int c = 0; c < (ctype == PNG_COLOR_TYPE_RGB || ctype == PNG_COLOR_TYPE_RGBA ? 3 : 1); c++)
                s[n++] = v;
            if (ctype == PNG_COLOR_TYPE_GRAY_ALPHA || ctype == PNG_COLOR_TYPE_RGBA)
                s[n++] = a;
            for (int c = 0; c < n; c++) {
                size_t at = ((size_t)x * (size_t)ch + (size_t)c) * bps;
                if (depth == 16) {
                    unsigned w = s[c] * 257u;
                    row[at] = (unsigned char)(w >> 8);
                    row[at + 1] = (unsigned char)(w & 0xff);
                } else {
                    row[at] = (unsigned char)s[c];
                }
            }
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    *len = b.len;
    return b.p;
}

/* The data page rendered with SIG as the signature, at 150 dpi in grey. */
static void render_with_signature(const unsigned char *sig, size_t len, const char *name,
                                  struct pgm *img)
{
    struct page p;
    struct proc_result r;
    char prefix[1024], pgm[1100];

    page_init(&p, MRZ_TD3);
    p.in.signature = sig;
    p.in.signature_len = len;
    char *pdf = render_to_file(&p.in, name);
    snprintf(prefix, sizeof prefix, "%s/%s", tmp, name);
    run_tool(PDFTOPPM, (const char *[]){ "-r", "150", "-gray", "-singlefile", pdf, prefix, NULL },
             &r);
    proc_result_free(&r);
    snprintf(pgm, sizeof pgm, "%s.pgm", prefix);
    read_pgm(pgm, img);
    /* CIVREG_DATAPAGE_KEEP=DIR keeps each rendering for a person to look at */
    if (getenv("CIVREG_DATAPAGE_KEEP") != NULL) {
        char keep[1200];
        snprintf(keep, sizeof keep, "%s/%s.pgm", getenv("CIVREG_DATAPAGE_KEEP"), name);
        size_t header = (size_t)(img->px - (unsigned char *)img->file);
        assert_int_equal(file_write(keep, img->file, header + (size_t)img->w * (size_t)img->h), 0);
    }
    free(pdf);
    page_free(&p);
}

/* A signature PNG of any depth and colour type prints as the same picture:
 * the page rendered with each matches the page rendered with the 8-bit grey
 * one (libharu alone printed a 16-bit one twice, squashed, in false colour). */
static void test_signature_depths(void **state)
{
    static const struct {
        int ctype, depth;
        const char *name;
    } kinds[] = {
        { PNG_COLOR_TYPE_RGB, 16, "rgb16" },    { PNG_COLOR_TYPE_GRAY, 16, "grey16" },
        { PNG_COLOR_TYPE_RGBA, 16, "rgba16" },  { PNG_COLOR_TYPE_RGBA, 8, "rgba8" },
        { PNG_COLOR_TYPE_GRAY_ALPHA, 8, "greyalpha8" },
        { PNG_COLOR_TYPE_PALETTE, 1, "palette1" }, { PNG_COLOR_TYPE_PALETTE, 8, "palette8" },
        { PNG_COLOR_TYPE_RGB, 8, "rgb8" },
    };
    struct pgm ref, img;
    size_t len, inked = 0;
    unsigned char *png;
    (void)state;

    png = sig_png(PNG_COLOR_TYPE_GRAY, 8, &len);
    render_with_signature(png, len, "sig-grey8", &ref);
    free(png);
    for (size_t i = 0; i < (size_t)ref.w * (size_t)ref.h; i++)
        inked += ref.px[i] < 128;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        char name[64];
        size_t differ = 0;
        snprintf(name, sizeof name, "sig-%s", kinds[k].name);
        png = sig_png(kinds[k].ctype, kinds[k].depth, &len);
        render_with_signature(png, len, name, &img);
        free(png);
        assert_int_equal(img.w, ref.w);
        assert_int_equal(img.h, ref.h);
        for (size_t i = 0; i < (size_t)ref.w * (size_t)ref.h; i++)
            differ += abs((int)img.px[i] - (int)ref.px[i]) > 60;
        if (differ > 20)
            fail_msg("signature %s: %zu pixels of the page differ from the 8-bit grey one's", kinds[k].name,
                     differ);
        free(img.file);
    }
    assert_true(inked > 1000); /* the reference page has ink at all */
    free(ref.file);
}

static void test_small_stack_caller(void **state)
{
    struct page p;
    struct small_job job = { 0 };
    pthread_attr_t attr;
    pthread_t t;
    (void)state;

    page_init(&p, MRZ_TD3);
    job.in = &p.in;
    assert_int_equal(pthread_attr_init(&attr), 0);
    assert_int_equal(pthread_attr_setstacksize(&attr, 128 * 1024), 0);
    assert_int_equal(pthread_create(&t, &attr, small_stack_render, &job), 0);
    pthread_join(t, NULL);
    pthread_attr_destroy(&attr);
    if (job.rc != 0)
        fail_msg("render from a small stack: %s", job.msg);
    page_free(&p);
}

/* ---- photo.c ----------------------------------------------------------- */

/* Pages rendered one after another reuse libharu documents whose fonts
 * are already parsed: a page is the same bytes whether it is the first of
 * the process or follows others that drew other glyphs (each embeds only
 * the glyphs it draws), and a page that failed leaves nothing behind. A
 * visual zone in Latin-1 is set in a simple TrueType font (CP1252), not
 * libharu's UTF-8 CID font, which maps all 65,536 code points per page;
 * Cyrillic or Greek text still gets the CID font. */
static void test_reused_documents(void **state)
{
    struct page td3, td1;
    struct buf first = BUF_INIT(16 << 20), pdf = BUF_INIT(16 << 20);
    struct err err = ERR_INIT;
    (void)state;

    page_init(&td3, MRZ_TD3);
    page_init(&td1, MRZ_TD1);
    if (datapage_render(&td3.in, &first, &err) != 0)
        fail_msg("datapage_render: %s", err_msg(&err));
    assert_null(memmem(first.data, first.len, "/CIDFontType2", 13));
    for (int round = 0; round < 3; round++) {
        struct datapage_input other = td1.in;
        other.secondary_identifier = round == 1 ? "Анна Ξένια" : "Zoë";
        other.photo_len = round == 2 ? 10 : other.photo_len; /* refused: no page */
        buf_reset(&pdf);
        assert_int_equal(datapage_render(&other, &pdf, &err), round == 2 ? -1 : 0);
        if (round < 2)
            assert_true((memmem(pdf.data, pdf.len, "/CIDFontType2", 13) != NULL) == (round == 1));
        buf_reset(&pdf);
        if (datapage_render(&td3.in, &pdf, &err) != 0)
            fail_msg("datapage_render: %s", err_msg(&err));
        assert_int_equal(pdf.len, first.len);
        assert_memory_equal(pdf.data, first.data, first.len);
    }
    buf_release(&first);
    buf_release(&pdf);
    page_free(&td3);
    page_free(&td1);
}

static void test_photo_inspect(void **state)
{
    struct photo_info info;
    struct err err = ERR_INIT;
    size_t len;
    unsigned char *p;
    (void)state;

    p = (unsigned char *)test_data_read("issuance", "portrait.jpg", &len);
    assert_int_equal(photo_inspect(p, len, &info, &err), 0);
    assert_int_equal(info.type, PHOTO_JPEG);
    assert_int_equal(info.width, 420);
    assert_int_equal(info.height, 540);
    assert_int_equal(info.components, 3);
    assert_int_equal(info.progressive, 0);
    assert_int_equal(photo_check_portrait(p, len, NULL, &err), 0);
    /* Every truncation fails cleanly before the frame header is complete. */
    for (size_t cut = 0; cut < 200; cut++) {
        struct photo_info i2;
        int rc = photo_inspect(p, cut, &i2, &err);
        if (rc == 0)
            assert_int_equal(i2.width, 420);
    }
    free(p);

    p = (unsigned char *)test_data_read("issuance", "portrait-progressive.jpg", &len);
    assert_int_equal(photo_inspect(p, len, &info, &err), 0);
    assert_int_equal(info.progressive, 1);
    assert_int_equal(photo_check_portrait(p, len, NULL, &err), 0);
    free(p);

    p = (unsigned char *)test_data_read("issuance", "landscape.jpg", &len);
    assert_int_equal(photo_check_portrait(p, len, NULL, &err), -1);
    assert_non_null(strstr(err_msg(&err), "photo: aspect ratio 600x450"));
    free(p);

    p = (unsigned char *)test_data_read("issuance", "small.jpg", &len);
    assert_int_equal(photo_check_portrait(p, len, NULL, &err), -1);
    assert_non_null(strstr(err_msg(&err), "photo: 200x257 pixels, at least 240x300 needed"));
    free(p);

    p = (unsigned char *)test_data_read("issuance", "signature.png", &len);
    assert_int_equal(photo_inspect(p, len, &info, &err), 0);
    assert_int_equal(info.type, PHOTO_PNG);
    assert_int_equal(info.width, 600);
    assert_int_equal(info.height, 150);
    assert_int_equal(photo_check_signature(p, len, NULL, &err), 0);
    assert_int_equal(photo_check_portrait(p, len, NULL, &err), -1);
    assert_non_null(strstr(err_msg(&err), "photo: must be a JPEG image"));
    free(p);

    static const unsigned char gif[] = "GIF89a\x01\x00\x01\x00";
    assert_int_equal(photo_inspect(gif, sizeof gif - 1, &info, &err), -1);
    assert_string_equal(err_msg(&err), "image: neither JPEG nor PNG");
    /* SOI then straight into a scan */
    static const unsigned char noframe[] = { 0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02 };
    assert_int_equal(photo_inspect(noframe, sizeof noframe, &info, &err), -1);
    assert_string_equal(err_msg(&err), "jpeg: no frame header before the scan");
    /* a segment whose length runs past the end */
    static const unsigned char longseg[] = { 0xFF, 0xD8, 0xFF, 0xE0, 0x40, 0x00, 0x00 };
    assert_int_equal(photo_inspect(longseg, sizeof longseg, &info, &err), -1);
    assert_non_null(strstr(err_msg(&err), "runs past the end"));
    /* arithmetic-coded frame (SOF9) */
    static const unsigned char sof9[] = { 0xFF, 0xD8, 0xFF, 0xC9, 0x00, 0x0B, 8, 0x01, 0x00,
                                          0x01, 0x00, 1, 1, 0x11, 0 };
    assert_int_equal(photo_inspect(sof9, sizeof sof9, &info, &err), -1);
    assert_non_null(strstr(err_msg(&err), "unsupported coding process (SOF9)"));
    /* a zero-height frame (DNL) */
    static const unsigned char dnl[] = { 0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 8, 0x00, 0x00,
                                         0x01, 0x00, 1, 1, 0x11, 0 };
    assert_int_equal(photo_inspect(dnl, sizeof dnl, &info, &err), -1);
    assert_non_null(strstr(err_msg(&err), "DNL"));
    /* PNG whose first chunk is not IHDR */
    unsigned char png[33] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13,
                              'I', 'D', 'A', 'T' };
    assert_int_equal(photo_inspect(png, sizeof png, &info, &err), -1);
    assert_string_equal(err_msg(&err), "png: first chunk is not a 13-byte IHDR");
    assert_int_equal(photo_inspect(NULL, 0, &info, &err), -1);
    assert_string_equal(err_msg(&err), "image: empty");
}

CMOCKA_MAIN(setup, teardown, test_photo_inspect, test_td3_specimen, test_td1_card,
            test_national_characters, test_refusals, test_small_stack_caller, test_signature_depths,
            test_reused_documents)
