/* The data page PDF (libharu): true-size pages, the zones of Doc 9303-4
 * section 4 (TD3) and Doc 9303-5 section 4 (TD1), the MRZ in OCR-B.
 *
 * Coordinates are millimetres from the page's bottom-left corner (PDF's own
 * origin), turned into points (1/72 inch) only when talking to libharu.
 */
#include "datapage.h"

#include <hpdf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/translit.h"
#include "core/utf8.h"
#include "issuance/icao/icao.h"
#include "print_int.h"
#include "scanner/image.h"

#define MM(x) PRINT_MM(x)

/* ---- MRZ geometry ------------------------------------------------------ */

/* Doc 9303-3 section 4.4 (and ISO 1073-2): the MRZ is OCR-B size I, constant
 * stroke width, at a horizontal printing density of 10 characters per
 * 25.4 mm, i.e. a character pitch of 2.54 mm. */
#define MRZ_PITCH_MM 2.54

int datapage_mrz_geometry(enum mrz_format format, struct datapage_mrz_geometry *g,
                          struct err *err)
{
    memset(g, 0, sizeof *g);
    g->pitch = MRZ_PITCH_MM;
    if (format == MRZ_TD3) {
        /* Doc 9303-4 section 4.2.1.3 and figure 3 (MRZ of the TD3 data
         * page): two lines whose reference centre lines lie 15.75 mm and
         * 9.40 mm above the bottom edge (6.35 mm apart); each line's
         * printing zone is 4.3 mm tall (13.6-17.9 mm and 7.25-11.55 mm);
         * the left edge of the first character lies 6.0 +/- 1.0 mm from the
         * left edge of the page; the MRZ is 23.2 mm tall, and the visual
         * zone stays above it. */
        g->lines = 2;
        g->chars = 44;
        g->first_left = 6.0;
        g->centre[0] = 15.75;
        g->centre[1] = 9.40;
        g->zone_low[0] = 13.6;
        g->zone_high[0] = 17.9;
        g->zone_low[1] = 7.25;
        g->zone_high[1] = 11.55;
        g->mrz_top = 23.2;
        g->page = 1;
        return 0;
    }
    if (format == MRZ_TD1) {
        /* Doc 9303-5 section 4.2.1.3 and figure 6 (MRZ on the back of a TD1
         * card): three lines 4.23 mm apart (6 lines per 25.4 mm), reference
         * centre lines 14.63, 10.40 and 6.17 mm above the bottom edge, each
         * line's printing zone 2.95 mm tall around its centre line; first
         * character 5.0 +/- 1.0 mm from the left edge. */
        static const double centre[3] = { 14.63, 10.40, 6.17 };
        g->lines = 3;
        g->chars = 30;
        g->first_left = 5.0;
        for (int i = 0; i < 3; i++) {
            g->centre[i] = centre[i];
            g->zone_low[i] = centre[i] - 2.95 / 2;
            g->zone_high[i] = centre[i] + 2.95 / 2;
        }
        g->mrz_top = 17.9;
        g->page = 2;
        return 0;
    }
    return err_set(err, "data page: format %s has no data page layout (TD3 or TD1)",
                   mrz_format_name(format));
}

/* ---- libharu errors ---------------------------------------------------- */

struct doc {
    struct print_doc *pd;
    HPDF_Doc pdf;
    struct print_status *st; /* first libharu error */
    HPDF_Font ocrb, viz;
    /* the visual zone's font in CP1252, a simple TrueType font, when its
     * text allows (libharu's UTF-8 font maps all 65,536 code points into
     * each document: a third of a page's time); UNENCODABLE when some text
     * was not */
    bool latin, unencodable;
    struct err *err;
    char *strings[32]; /* NFC copies of the inputs, freed with the doc */
    size_t nstrings;
};

static int hpdf_failed(struct doc *d, const char *what)
{
    char step[96];

    (void)snprintf(step, sizeof step, "data page: %s", what);
    return print_failed(d->st, step, d->err);
}

/* ---- input checks ------------------------------------------------------ */

#define VIZ_TEXT_MAX 200

/* Validate a UTF-8 field (no control characters, bounded) and keep its NFC
 * form for printing; *OUT is "" for an absent optional field. */
static int viz_text(struct doc *d, const char *field, const char *in, int required,
                    const char **out)
{
    size_t len = in ? strlen(in) : 0;
    char *nfc = NULL;

    *out = "";
    if (len == 0) {
        if (required)
            return err_set(d->err, "data page: %s: required", field);
        return 0;
    }
    if (len > VIZ_TEXT_MAX)
        return err_set(d->err, "data page: %s: %zu bytes, at most %d", field, len,
                       VIZ_TEXT_MAX);
    if (!utf8_valid(in, len))
        return err_set(d->err, "data page: %s: invalid UTF-8", field);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)in[i] < 0x20 || in[i] == 0x7f)
            return err_set(d->err, "data page: %s: control character at byte %zu", field, i);
    if (d->nstrings == sizeof d->strings / sizeof d->strings[0])
        return err_set(d->err, "data page: too many fields");
    if (utf8_normalize(in, len, UTF8_NFC, &nfc, NULL, d->err) != 0)
        return err_prefix(d->err, "data page: %s", field);
    d->strings[d->nstrings++] = nfc;
    *out = nfc;
    return 0;
}

static int check_date(struct doc *d, const char *field, const struct mrz_date *dt)
{
    if (dt->year < 1 || dt->year > 9999 || dt->month < 1 || dt->month > 12 || dt->day < 1 ||
        dt->day > 31)
        return err_set(d->err, "data page: %s: not a date", field);
    return 0;
}

/* "12 AUG 1974": dates in the visual zone as day, three-letter month and
 * year (Doc 9303-3, representation of dates in the VIZ). */
static void viz_date(const struct mrz_date *dt, char out[16])
{
    static const char *const months[12] = { "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                            "JUL", "AUG", "SEP", "OCT", "NOV", "DEC" };
    /* cannot truncate: a validated date, 3-letter month: 11 characters */
    (void)snprintf(out, 16, "%02d %s %04d", dt->day, months[dt->month - 1], dt->year);
}

static int same_yymmdd(const struct mrz_date *a, const struct mrz_date *b)
{
    return a->year % 100 == b->year % 100 && a->month == b->month && a->day == b->day;
}

/* The MRZ must be valid, of the page's format, and agree with the visual
 * zone on what both show (Doc 9303-3 section 4: the two zones carry the same
 * data). */
static int check_mrz(struct doc *d, const struct datapage_input *in, char lines[3][45])
{
    struct mrz_result *res;
    struct err perr = ERR_INIT;
    const char *p, *nl;
    int n = 0, width = mrz_format_width(in->format), rc = -1;
    char want_sex, got_sex;

    if (in->mrz == NULL || in->mrz[0] == '\0')
        return err_set(d->err, "data page: mrz: required");
    res = calloc(1, sizeof *res);
    if (res == NULL)
        return err_set(d->err, "data page: out of memory");
    if (mrz_parse(in->mrz, strlen(in->mrz), NULL, res, &perr) != 0) {
        err_set(d->err, "data page: mrz: %s", err_msg(&perr));
        goto out;
    }
    if (res->format != in->format) {
        err_set(d->err, "data page: mrz: a %s MRZ on a %s page", mrz_format_name(res->format),
                mrz_format_name(in->format));
        goto out;
    }
    if (!res->valid) {
        err_set(d->err, "data page: mrz: invalid (%s: %s)",
                res->nerrors ? res->errors[0].field : "?",
                res->nerrors ? res->errors[0].message : "?");
        goto out;
    }
    if (strcmp(res->fields.document_number, in->document_number) != 0) {
        err_set(d->err, "data page: mrz: document number %s differs from %s",
                res->fields.document_number, in->document_number);
        goto out;
    }
    if (!same_yymmdd(&res->fields.date_of_birth, &in->date_of_birth) ||
        !same_yymmdd(&res->fields.date_of_expiry, &in->date_of_expiry)) {
        err_set(d->err, "data page: mrz: date of birth or expiry differs from the visual zone");
        goto out;
    }
    want_sex = in->sex == 'X' ? '<' : in->sex;
    got_sex = res->fields.sex == 'X' ? '<' : res->fields.sex;
    if (want_sex != got_sex) {
        err_set(d->err, "data page: mrz: sex %c differs from %c", res->fields.sex, in->sex);
        goto out;
    }
    /* Split into lines exactly as printed: the parser accepted the shape. */
    p = in->mrz;
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
        p++;
    while (*p && n < 3) {
        size_t len;
        nl = strchr(p, '\n');
        len = nl ? (size_t)(nl - p) : strlen(p);
        while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == ' '))
            len--;
        if (len == (size_t)width) {
            memcpy(lines[n], p, len);
            lines[n][len] = '\0';
            n++;
        } else if (len != 0) {
            break;
        }
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    if (n != mrz_format_lines(in->format)) {
        err_set(d->err, "data page: mrz: give %d lines of %d characters separated by line breaks",
                mrz_format_lines(in->format), width);
        goto out;
    }
    rc = 0;
out:
    free(res);
    return rc;
}

/* ---- drawing helpers --------------------------------------------------- */

/* S as the visual zone's font encodes it: unchanged with "UTF-8"; in
 * CP1252 (ASCII and Latin-1's U+00A0..U+00FF, the same bytes there) into
 * TMP when the page is tried with the single-byte encoding. Text that
 * encoding cannot carry gives "" and marks the attempt (D->unencodable),
 * and the page is drawn again with "UTF-8". */
static const char *viz_enc(struct doc *d, const char *s, char *tmp, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;

    if (!d->latin)
        return s;
    while (*p) {
        unsigned cp = *p++;
        if (cp >= 0x80) {
            /* two-byte UTF-8 sequences C2 80..C3 BF are U+0080..U+00FF */
            if ((cp != 0xC2 && cp != 0xC3) || (*p & 0xC0) != 0x80)
                goto refuse;
            cp = ((cp & 0x1F) << 6) | (*p++ & 0x3F);
            if (cp < 0xA0)
                goto refuse;
        }
        if (n + 1 >= max)
            goto refuse;
        tmp[n++] = (char)cp;
    }
    tmp[n] = '\0';
    return tmp;
refuse:
    d->unencodable = true;
    return "";
}

#define VIZ_ENC_MAX 1024

/* Text in the visual zone's font at (x, y) mm, baseline; shrunk to fit
 * MAXW mm when wider (a long place name must not run over the next zone).
 * Returns the width used. */
static double text_at(struct doc *d, HPDF_Page page, double size, double x, double y,
                      double maxw, const char *text)
{
    char tmp[VIZ_ENC_MAX];
    const char *s = text ? viz_enc(d, text, tmp, sizeof tmp) : NULL;
    HPDF_REAL w;

    if (s == NULL || s[0] == '\0')
        return 0;
    HPDF_Page_SetFontAndSize(page, d->viz, (HPDF_REAL)size);
    w = HPDF_Page_TextWidth(page, s);
    if (maxw > 0 && w > MM(maxw) && w > 0) {
        size = size * MM(maxw) / w;
        HPDF_Page_SetFontAndSize(page, d->viz, (HPDF_REAL)size);
        w = HPDF_Page_TextWidth(page, s);
    }
    HPDF_Page_BeginText(page);
    HPDF_Page_TextOut(page, MM(x), MM(y), s);
    HPDF_Page_EndText(page);
    return w * 25.4 / 72.0;
}

static void text_right(struct doc *d, HPDF_Page page, double size, double xr, double y,
                       const char *text)
{
    char tmp[VIZ_ENC_MAX];
    const char *s = viz_enc(d, text, tmp, sizeof tmp);
    HPDF_REAL w;

    HPDF_Page_SetFontAndSize(page, d->viz, (HPDF_REAL)size);
    w = HPDF_Page_TextWidth(page, s);
    HPDF_Page_BeginText(page);
    HPDF_Page_TextOut(page, MM(xr) - w, MM(y), s);
    HPDF_Page_EndText(page);
}

struct style {
    double caption, value, translit; /* font sizes in points */
    double caption_gap;              /* caption baseline to value baseline, mm */
    double translit_gap;             /* value baseline to transliteration baseline */
};

/* A caption (small, grey) above its value. */
static void field(struct doc *d, HPDF_Page page, const struct style *st, double x, double y,
                  double maxw, const char *caption, const char *value)
{
    HPDF_Page_SetRGBFill(page, 0.35f, 0.38f, 0.42f);
    text_at(d, page, st->caption, x, y, maxw, caption);
    HPDF_Page_SetRGBFill(page, 0.05f, 0.05f, 0.08f);
    text_at(d, page, st->value, x, y - st->caption_gap, maxw, value);
}

/* A name in national characters, with its MRZ transliteration below it when
 * the two differ (Doc 9303-3 section 6: the visual zone may show national
 * characters; the MRZ carries their transliteration). */
static int name_field(struct doc *d, HPDF_Page page, const struct style *st, double x, double y,
                      double maxw, const char *caption, const char *name)
{
    struct buf mrzform = BUF_INIT(256);
    int rc = -1;

    field(d, page, st, x, y, maxw, caption, name);
    if (name[0] == '\0')
        return 0;
    if (translit_mrz(name, strlen(name), &mrzform, NULL, d->err) != 0) {
        err_prefix(d->err, "data page: %s", caption);
        goto out;
    }
    for (size_t i = 0; i < mrzform.len; i++)
        if (mrzform.data[i] == '<')
            mrzform.data[i] = ' ';
    if (mrzform.len > 0 && strcmp(buf_str(&mrzform), name) != 0) {
        HPDF_Page_SetRGBFill(page, 0.30f, 0.30f, 0.35f);
        text_at(d, page, st->translit, x, y - st->caption_gap - st->translit_gap, maxw,
                buf_str(&mrzform));
        HPDF_Page_SetRGBFill(page, 0.05f, 0.05f, 0.08f);
    }
    rc = 0;
out:
    buf_release(&mrzform);
    return rc;
}

/* A PNG as 8-bit grey for the PDF. libharu's own PNG reader copies 16-bit
 * samples as if they were 8-bit (the picture drawn twice, squashed, in false
 * colour) and mishandles some palette and alpha files; civreg's decoder
 * takes every depth and colour type (palette expanded, 16 bits scaled,
 * alpha composited over white) to grey, which is how a signature is
 * printed. NULL with the decoder's message in D->err. */
static HPDF_Image png_as_grey(struct doc *d, const unsigned char *data, size_t len,
                              const char *what)
{
    struct scan_limits lim = SCAN_LIMITS_DEFAULT;
    struct scan_pages pages = SCAN_PAGES_INIT;
    HPDF_Image img = NULL;

    lim.max_width = lim.max_height = PHOTO_MAX_SIDE;
    lim.max_pixels = lim.max_total_pixels = (uint64_t)PHOTO_MAX_SIDE * PHOTO_MAX_SIDE;
    lim.max_pages = 1;
    if (scan_decode(data, len, what, &lim, &pages, d->err) != 0)
        return NULL;
    if (pages.count == 1 && pages.page[0].pix != NULL)
        img = HPDF_LoadRawImageFromMem(d->pdf, pages.page[0].pix, pages.page[0].width,
                                       pages.page[0].height, HPDF_CS_DEVICE_GRAY, 8);
    else
        err_set(d->err, "%s: not one picture", what);
    scan_pages_release(&pages);
    return img;
}

/* Draw an image inside the box (x, y, w, h) mm, keeping its aspect ratio,
 * centred horizontally when FIT_CENTRE, else left-aligned; bottom-aligned. */
static int image_in_box(struct doc *d, HPDF_Page page, const char *what,
                        const unsigned char *data, size_t len, double x, double y, double w,
                        double h, int centre)
{
    struct photo_info info;
    HPDF_Image img;
    double sw, sh, scale;

    if (photo_inspect(data, len, &info, d->err) != 0)
        return err_prefix(d->err, "data page: %s", what);
    /* libharu reads PNGs with libpng and no limits of ours: only an image
     * that decodes cleanly within them is handed over. */
    if (photo_check_decodes(data, len, what, d->err) != 0)
        return err_prefix(d->err, "data page");
    if (info.type == PHOTO_PNG)
        img = png_as_grey(d, data, len, what);
    else
        img = HPDF_LoadJpegImageFromMem(d->pdf, data, (HPDF_UINT)len);
    if (img == NULL || d->st->error) {
        hpdf_failed(d, what);
        return err_prefix(d->err, "%s image not readable by the PDF writer", what);
    }
    sw = (double)info.width;
    sh = (double)info.height;
    scale = w / sw < h / sh ? w / sw : h / sh;
    sw *= scale;
    sh *= scale;
    HPDF_Page_DrawImage(page, img, MM(centre ? x + (w - sw) / 2 : x), MM(y), MM(sw), MM(sh));
    return 0;
}

/* The MRZ lines in OCR-B: the font size makes one advance exactly the
 * character pitch, and each line's capitals are centred on its reference
 * centre line. */
static int draw_mrz(struct doc *d, HPDF_Page page, const struct datapage_mrz_geometry *g,
                    char lines[3][45])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<";
    HPDF_INT adv = HPDF_Font_GetUnicodeWidth(d->ocrb, 'A');
    HPDF_INT cap = HPDF_Font_GetCapHeight(d->ocrb);
    double size, capmm;

    /* OCR-B is monospaced: every MRZ character must share one advance, else
     * the pitch below would be wrong for some of them. */
    for (const char *c = alphabet; *c; c++)
        if (HPDF_Font_GetUnicodeWidth(d->ocrb, (HPDF_UNICODE)*c) != adv)
            return err_set(d->err, "data page: OCR-B font: '%c' has another advance width", *c);
    if (adv <= 0 || cap <= 0)
        return err_set(d->err, "data page: OCR-B font: no metrics");
    size = MRZ_PITCH_MM * 72.0 / 25.4 * 1000.0 / (double)adv;
    capmm = (double)cap * size / 1000.0 * 25.4 / 72.0;
    HPDF_Page_SetRGBFill(page, 0, 0, 0);
    HPDF_Page_SetFontAndSize(page, d->ocrb, (HPDF_REAL)size);
    for (int i = 0; i < g->lines; i++) {
        HPDF_Page_BeginText(page);
        HPDF_Page_TextOut(page, MM(g->first_left), MM(g->centre[i] - capmm / 2), lines[i]);
        HPDF_Page_EndText(page);
    }
    return 0;
}

static void page_background(HPDF_Page page, double w, double h, double mrz_top)
{
    /* A pale tint for the visual zone and plain white behind the MRZ: the
     * reading zone must keep its contrast (Doc 9303-3 section 4.5). */
    HPDF_Page_SetRGBFill(page, 0.95f, 0.94f, 0.89f);
    HPDF_Page_Rectangle(page, 0, MM(mrz_top), MM(w), MM(h - mrz_top));
    HPDF_Page_Fill(page);
    HPDF_Page_SetRGBFill(page, 1, 1, 1);
    HPDF_Page_Rectangle(page, 0, 0, MM(w), MM(mrz_top));
    HPDF_Page_Fill(page);
}

static void specimen(struct doc *d, HPDF_Page page, const char *utf8, double cx, double cy,
                     double size)
{
    char tmp[VIZ_ENC_MAX];
    const char *text = utf8 ? viz_enc(d, utf8, tmp, sizeof tmp) : NULL;
    HPDF_REAL w;
    const double c = 0.955336, s = 0.295520; /* cos and sin of 0.3 rad (17 degrees) */

    if (text == NULL || text[0] == '\0')
        return;
    HPDF_Page_SetRGBFill(page, 0.93f, 0.78f, 0.78f);
    HPDF_Page_SetFontAndSize(page, d->viz, (HPDF_REAL)size);
    w = HPDF_Page_TextWidth(page, text);
    HPDF_Page_BeginText(page);
    HPDF_Page_SetTextMatrix(page, (HPDF_REAL)c, (HPDF_REAL)s, (HPDF_REAL)-s, (HPDF_REAL)c,
                            (HPDF_REAL)(MM(cx) - c * w / 2), (HPDF_REAL)(MM(cy) - s * w / 2));
    HPDF_Page_ShowText(page, text);
    HPDF_Page_EndText(page);
}

static HPDF_Page new_page(struct doc *d, double w, double h)
{
    HPDF_Page page = HPDF_AddPage(d->pdf);
    if (page == NULL)
        return NULL;
    HPDF_Page_SetWidth(page, MM(w));
    HPDF_Page_SetHeight(page, MM(h));
    return page;
}

/* ---- the two layouts --------------------------------------------------- */

struct viz {
    const char *document_name, *document_code, *issuing_state, *issuing_state_name;
    const char *document_number, *primary, *secondary, *nationality, *nationality_name;
    const char *place_of_birth, *personal_number, *authority, *specimen;
    char dob[16], doi[16], doe[16], sex[2], nat[64];
};

/* A new page of W x H mm: its background (white below MRZ_TOP mm) and the
 * specimen overprint centred at (CX, CY) mm in SIZE points. NULL when the
 * PDF writer failed. */
static HPDF_Page layout_page(struct doc *d, const struct viz *v, double w, double h,
                             double mrz_top, double cx, double cy, double size)
{
    HPDF_Page page = new_page(d, w, h);

    if (page == NULL || hpdf_failed(d, "page"))
        return NULL;
    page_background(page, w, h, mrz_top);
    specimen(d, page, v->specimen, cx, cy, size);
    return page;
}

/* Zone I: the issuing state (its name where known, within STATE_W mm) from
 * X and the document's name up to RIGHT, SIZE points on the baseline Y mm,
 * over a rule of RULE_W points at RULE_Y mm. */
static void zone_header(struct doc *d, HPDF_Page page, const struct viz *v, double size,
                        double x, double right, double y, double state_w, double rule_y,
                        float rule_w)
{
    HPDF_Page_SetRGBFill(page, 0.10f, 0.20f, 0.40f);
    text_at(d, page, size, x, y, state_w,
            v->issuing_state_name[0] ? v->issuing_state_name : v->issuing_state);
    text_right(d, page, size, right, y, v->document_name);
    HPDF_Page_SetRGBStroke(page, 0.10f, 0.20f, 0.40f);
    HPDF_Page_SetLineWidth(page, rule_w);
    HPDF_Page_MoveTo(page, MM(x), MM(rule_y));
    HPDF_Page_LineTo(page, MM(right), MM(rule_y));
    HPDF_Page_Stroke(page);
}

/* What a field of the visual zone shows. */
enum viz_item {
    VIZ_CODE, VIZ_STATE, VIZ_NUMBER, VIZ_PRIMARY, VIZ_SECONDARY, VIZ_NATIONALITY, VIZ_NAT,
    VIZ_PERSONAL, VIZ_DOB, VIZ_SEX, VIZ_PLACE, VIZ_DOI, VIZ_AUTHORITY, VIZ_DOE
};

static const char *viz_value(const struct viz *v, enum viz_item item)
{
    switch (item) {
    case VIZ_CODE: return v->document_code;
    case VIZ_STATE: return v->issuing_state;
    case VIZ_NUMBER: return v->document_number;
    case VIZ_PRIMARY: return v->primary;
    case VIZ_SECONDARY: return v->secondary;
    case VIZ_NATIONALITY: return v->nationality;
    case VIZ_NAT: return v->nat;
    case VIZ_PERSONAL: return v->personal_number;
    case VIZ_DOB: return v->dob;
    case VIZ_SEX: return v->sex;
    case VIZ_PLACE: return v->place_of_birth;
    case VIZ_DOI: return v->doi;
    case VIZ_AUTHORITY: return v->authority;
    case VIZ_DOE: return v->doe;
    }
    return "";
}

/* One field of a layout: its CAPTION and value DX mm right of the fields'
 * left edge, W mm wide (0: up to the right edge); NEXT starts a new row
 * below it. A name (VIZ_PRIMARY, VIZ_SECONDARY) always ends its row, with
 * room for its transliteration below. */
struct field_spec {
    enum viz_item item;
    double dx, w;
    const char *caption;
    bool next;
};

/* The fields of F (up to the one without a caption) in rows from *Y mm,
 * PITCH mm apart, between X and RIGHT mm; *Y ends on the last row. */
static int fields(struct doc *d, HPDF_Page page, const struct style *st, double x, double right,
                  double *y, double pitch, const struct field_spec *f, const struct viz *v)
{
    for (size_t i = 0; f[i].caption != NULL; i++) {
        double w = f[i].w > 0 ? f[i].w : right - x - f[i].dx;
        const char *value = viz_value(v, f[i].item);

        if (f[i].item == VIZ_PRIMARY || f[i].item == VIZ_SECONDARY) {
            if (name_field(d, page, st, x + f[i].dx, *y, w, f[i].caption, value) != 0)
                return -1;
            *y -= pitch + st->translit_gap;
            continue;
        }
        field(d, page, st, x + f[i].dx, *y, w, f[i].caption, value);
        if (f[i].next)
            *y -= pitch;
    }
    return 0;
}

/* Zone IV: CAPTION at (CX, CY) mm and the holder's signature, when there
 * is one, in the box (X, Y, W, H) mm. */
static int signature_zone(struct doc *d, HPDF_Page page, const struct style *st,
                          const struct datapage_input *in, const char *caption, double cx,
                          double cy, double x, double y, double w, double h)
{
    HPDF_Page_SetRGBFill(page, 0.35f, 0.38f, 0.42f);
    text_at(d, page, st->caption, cx, cy, 0, caption);
    if (in->signature_len > 0 &&
        image_in_box(d, page, "signature", in->signature, in->signature_len, x, y, w, h, 0) != 0)
        return -1;
    return 0;
}

/* Zones II and III of the TD3 data page (Doc 9303-4 section 4). */
static const struct field_spec td3_fields[] = {
    { VIZ_CODE, 0.0, 11.0, "Type", false },
    { VIZ_STATE, 13.0, 24.0, "Code of issuing state", false },
    { VIZ_NUMBER, 43.0, 0, "Passport No.", true },
    { VIZ_PRIMARY, 0.0, 0, "1. Surname", true },
    { VIZ_SECONDARY, 0.0, 0, "2. Given names", true },
    { VIZ_NAT, 0.0, 41.0, "3. Nationality", false },
    { VIZ_PERSONAL, 43.0, 0, "5. Personal No.", true },
    { VIZ_DOB, 0.0, 25.0, "4. Date of birth", false },
    { VIZ_SEX, 27.0, 8.0, "6. Sex", false },
    { VIZ_PLACE, 37.0, 0, "7. Place of birth", true },
    { VIZ_DOI, 0.0, 25.0, "8. Date of issue", false },
    { VIZ_AUTHORITY, 27.0, 0, "9. Authority", true },
    { VIZ_DOE, 0.0, 25.0, "10. Date of expiry", false },
    { 0 },
};

/* The TD1 card's front (zone II) and back (zone III), Doc 9303-5 section 4;
 * the back's fields are placed from the card's left edge. */
static const struct field_spec td1_front[] = {
    { VIZ_CODE, 0.0, 8.0, "Type", false },
    { VIZ_STATE, 9.0, 14.0, "Code", false },
    { VIZ_NUMBER, 24.0, 0, "Document No.", true },
    { VIZ_PRIMARY, 0.0, 0, "Surname", true },
    { VIZ_SECONDARY, 0.0, 0, "Given names", true },
    { VIZ_SEX, 0.0, 7.0, "Sex", false },
    { VIZ_NATIONALITY, 8.0, 20.0, "Nationality", false },
    { VIZ_DOB, 29.0, 0, "Date of birth", true },
    { VIZ_DOE, 0.0, 27.0, "Date of expiry", false },
    { 0 },
};
static const struct field_spec td1_back[] = {
    { VIZ_PLACE, 4.0, 0, "Place of birth", true },
    { VIZ_DOI, 4.0, 24.0, "Date of issue", false },
    { VIZ_AUTHORITY, 30.0, 0, "Authority", true },
    { VIZ_PERSONAL, 4.0, 38.0, "Personal No.", false },
    { VIZ_NUMBER, 44.0, 0, "Document No.", true },
    { VIZ_NAT, 4.0, 0, "Nationality", false },
    { 0 },
};

/* TD3 data page, Doc 9303-4 section 4 (zones I-VII): I header with the
 * issuing state and the document name; V the portrait (35 x 45 mm, within
 * the 26-35 x 32-45 mm the part allows) on the left; II and III the personal
 * and document data on the right, each with a caption; IV the holder's
 * signature; VII the MRZ along the bottom edge. */
static int layout_td3(struct doc *d, const struct datapage_input *in, const struct viz *v,
                      char lines[3][45])
{
    static const struct style st = { 5.0, 8.0, 6.5, 3.0, 2.9 };
    struct datapage_mrz_geometry g;
    const double W = DATAPAGE_TD3_WIDTH_MM, H = DATAPAGE_TD3_HEIGHT_MM;
    const double x1 = 45.0, right = W - 4.0, pitch = 6.3;
    double y = 73.0;
    HPDF_Page page;

    if (datapage_mrz_geometry(MRZ_TD3, &g, d->err) != 0)
        return -1;
    if ((page = layout_page(d, v, W, H, g.mrz_top, 80.0, 52.0, 28.0)) == NULL)
        return -1;

    /* zone I */
    zone_header(d, page, v, 9.0, 6.0, right, 80.5, 60.0, 77.5, 0.6f);

    /* zone V: the portrait */
    if (image_in_box(d, page, "photo", in->photo, in->photo_len, 6.0, 28.0, 35.0, 45.0, 1) != 0)
        return -1;

    /* zones II and III */
    if (fields(d, page, &st, x1, right, &y, pitch, td3_fields, v) != 0)
        return -1;

    /* zone IV: the holder's signature */
    if (signature_zone(d, page, &st, in, "11. Holder's signature", x1 + 27.0, y, x1 + 27.0,
                       24.0, right - x1 - 27.0, y - 24.0 - 1.0) != 0)
        return -1;

    /* zone VII */
    if (draw_mrz(d, page, &g, lines) != 0)
        return -1;
    return hpdf_failed(d, "page") ? -1 : 0;
}

/* TD1 card, Doc 9303-5 section 4: the front carries zones I, II, IV and V
 * (header, personal data, signature, portrait); the back carries zone III
 * (document data) and the three-line MRZ (zone VII). */
static int layout_td1(struct doc *d, const struct datapage_input *in, const struct viz *v,
                      char lines[3][45])
{
    static const struct style st = { 4.0, 6.2, 5.0, 2.3, 2.2 };
    struct datapage_mrz_geometry g;
    const double W = DATAPAGE_TD1_WIDTH_MM, H = DATAPAGE_TD1_HEIGHT_MM;
    const double x1 = 29.5, right = W - 3.5, pitch = 5.1;
    double y = 45.0;
    HPDF_Page page;

    if (datapage_mrz_geometry(MRZ_TD1, &g, d->err) != 0)
        return -1;

    /* front */
    if ((page = layout_page(d, v, W, H, 0, 50.0, 27.0, 18.0)) == NULL)
        return -1;
    zone_header(d, page, v, 7.0, 4.0, right, 49.5, 40.0, 47.8, 0.5f);
    if (image_in_box(d, page, "photo", in->photo, in->photo_len, 4.0, 15.5, 22.0, 28.3, 1) != 0)
        return -1;
    if (fields(d, page, &st, x1, right, &y, pitch, td1_front, v) != 0)
        return -1;
    if (signature_zone(d, page, &st, in, "Holder's signature", 4.0, 12.8, 4.0, 4.0, 40.0,
                       7.8) != 0)
        return -1;

    /* back */
    if ((page = layout_page(d, v, W, H, g.mrz_top, 45.0, 36.0, 16.0)) == NULL)
        return -1;
    y = 50.0;
    if (fields(d, page, &st, 0.0, right, &y, pitch + 1.0, td1_back, v) != 0)
        return -1;
    if (draw_mrz(d, page, &g, lines) != 0)
        return -1;
    return hpdf_failed(d, "page") ? -1 : 0;
}

/* ---- entry point ------------------------------------------------------- */

static int load_fonts(struct doc *d)
{
    if (print_font_embedded(d->pd, PRINT_FONT_OCRB, NULL, &d->ocrb, d->err) != 0 ||
        print_font_embedded(d->pd, PRINT_FONT_VIZ, d->latin ? "CP1252" : "UTF-8", &d->viz,
                            d->err) != 0) {
        err_prefix(d->err, "data page");
        return -1;
    }
    return 0;
}

static int check_code(struct doc *d, const char *field, const char *s, size_t maxlen)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0)
        return err_set(d->err, "data page: %s: required", field);
    if (n > maxlen)
        return err_set(d->err, "data page: %s: at most %zu characters", field, maxlen);
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            return err_set(d->err, "data page: %s: only A-Z and 0-9 allowed", field);
    return 0;
}

/* One attempt at the page, appended to PDF: 0, -1 with D->err set, 1 when
 * D->latin and some text of the visual zone is not in CP1252 (nothing
 * appended: draw again without D->latin). */
static int draw(struct doc *d, const struct datapage_input *in, const struct viz *v,
                char lines[3][45], struct buf *pdf)
{
    int rc = -1;

    d->unencodable = false;
    d->pd = print_doc_take(in->format == MRZ_TD3 ? "TD3 data page" : "TD1 card");
    if (d->pd == NULL)
        return err_set(d->err, "data page: libharu could not start (out of memory)");
    d->pdf = d->pd->pdf;
    d->st = &d->pd->st;
    if (hpdf_failed(d, "document") || load_fonts(d) != 0)
        goto out;
    if ((in->format == MRZ_TD3 ? layout_td3 : layout_td1)(d, in, v, lines) != 0)
        goto out;
    if (d->unencodable) {
        rc = 1;
        goto out;
    }
    if (print_save(d->pdf, d->st, "data page", pdf, d->err) != 0)
        goto out;
    rc = 0;
out:
    print_doc_give(d->pd, rc >= 0);
    d->pd = NULL;
    d->pdf = NULL;
    d->st = NULL;
    return rc;
}

static int render(const struct datapage_input *in, struct buf *pdf, struct err *err)
{
    struct doc d = { 0 };
    struct viz v;
    struct photo_info info;
    char lines[3][45];
    size_t start = pdf->len;
    int rc = -1;

    d.err = err;
    memset(&v, 0, sizeof v);
    if (in->format != MRZ_TD3 && in->format != MRZ_TD1)
        return err_set(err, "data page: format %s has no data page layout (TD3 or TD1)",
                       mrz_format_name(in->format));
    if (check_code(&d, "document_code", in->document_code, 2) != 0 ||
        check_code(&d, "issuing_state", in->issuing_state, 3) != 0 ||
        check_code(&d, "nationality", in->nationality, 3) != 0 ||
        check_code(&d, "document_number", in->document_number, 22) != 0)
        goto out;
    if (check_date(&d, "date_of_birth", &in->date_of_birth) != 0 ||
        check_date(&d, "date_of_issue", &in->date_of_issue) != 0 ||
        check_date(&d, "date_of_expiry", &in->date_of_expiry) != 0)
        goto out;
    if (in->sex != 'F' && in->sex != 'M' && in->sex != 'X' && in->sex != '<') {
        err_set(err, "data page: sex: F, M, X or <");
        goto out;
    }
    if (viz_text(&d, "document_name", in->document_name, 1, &v.document_name) != 0 ||
        viz_text(&d, "issuing_state_name", in->issuing_state_name, 0,
                 &v.issuing_state_name) != 0 ||
        viz_text(&d, "primary_identifier", in->primary_identifier, 1, &v.primary) != 0 ||
        viz_text(&d, "secondary_identifier", in->secondary_identifier, 0, &v.secondary) != 0 ||
        viz_text(&d, "nationality_name", in->nationality_name, 0, &v.nationality_name) != 0 ||
        viz_text(&d, "place_of_birth", in->place_of_birth, 0, &v.place_of_birth) != 0 ||
        viz_text(&d, "personal_number", in->personal_number, 0, &v.personal_number) != 0 ||
        viz_text(&d, "authority", in->authority, 1, &v.authority) != 0 ||
        viz_text(&d, "specimen_text", in->specimen_text, 0, &v.specimen) != 0)
        goto out;
    v.document_code = in->document_code;
    v.issuing_state = in->issuing_state;
    v.document_number = in->document_number;
    v.nationality = in->nationality;
    viz_date(&in->date_of_birth, v.dob);
    viz_date(&in->date_of_issue, v.doi);
    viz_date(&in->date_of_expiry, v.doe);
    v.sex[0] = in->sex == '<' ? 'X' : in->sex;
    if ((v.nationality_name[0]
             ? snprintf(v.nat, sizeof v.nat, "%s (%s)", v.nationality_name, in->nationality)
             : snprintf(v.nat, sizeof v.nat, "%s", in->nationality)) >= (int)sizeof v.nat) {
        err_set(err, "data page: nationality: longer than %zu characters", sizeof v.nat - 1);
        goto out;
    }
    if (photo_inspect(in->photo, in->photo_len, &info, err) != 0) {
        err_prefix(err, "data page: photo");
        goto out;
    }
    if (info.type != PHOTO_JPEG) {
        err_set(err, "data page: photo: must be JPEG");
        goto out;
    }
    if (in->signature_len > 0 && photo_inspect(in->signature, in->signature_len, &info, err) != 0) {
        err_prefix(err, "data page: signature");
        goto out;
    }
    if (check_mrz(&d, in, lines) != 0)
        goto out;

    d.latin = true;
    rc = draw(&d, in, &v, lines, pdf);
    if (rc == 1) {
        d.latin = false;
        rc = draw(&d, in, &v, lines, pdf);
    }
out:
    for (size_t i = 0; i < d.nstrings; i++)
        free(d.strings[i]);
    if (rc != 0 && pdf->data != NULL && pdf->len > start)
        pdf->len = start; /* nothing appended on failure */
    return rc;
}

/* Rendering runs on a thread with a stack that fits libharu
 * (print_on_render_thread). */
struct render_job {
    const struct datapage_input *in;
    struct buf *pdf;
    struct err *err;
    int rc;
};

static void *render_thread(void *arg)
{
    struct render_job *j = arg;
    j->rc = render(j->in, j->pdf, j->err);
    return NULL;
}

int datapage_render(const struct datapage_input *in, struct buf *pdf, struct err *err)
{
    struct render_job job = { in, pdf, err, -1 };

    if (print_on_render_thread(render_thread, &job, "data page", err) != 0)
        return -1;
    return job.rc;
}
