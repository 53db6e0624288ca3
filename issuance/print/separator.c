/* civreg issuance/print: the volume separator sheet (A4), whose Code 128
 * barcode the scanner recognises to start a new volume. */
#include "separator.h"

#include <stdio.h>

#include "print_int.h"

/* One A4 page for SEP added to PDF. */
static int separator_page(HPDF_Doc pdf, struct print_status *st, const struct scan_separator *sep,
                          struct err *err)
{
    char payload[64], line[128];
    unsigned char widths[1024];
    HPDF_Page page;
    HPDF_Font regular, bold;
    double pw, ph, module, x, bar_h = 90, bar_y;
    int nw, total = 0;

    if (scan_separator_format(sep, payload, sizeof payload, err) != 0)
        return -1;
    nw = scan_code128_widths(payload, widths, sizeof widths, err);
    if (nw < 0)
        return -1;
    for (int i = 0; i < nw; i++)
        total += widths[i];
    page = HPDF_AddPage(pdf);
    if (page == NULL || st->error)
        return print_failed(st, "separator", err) ? -1 : err_set(err, "separator: no page");
    HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
    pw = HPDF_Page_GetWidth(page);
    ph = HPDF_Page_GetHeight(page);
    regular = HPDF_GetFont(pdf, "Helvetica", NULL);
    bold = HPDF_GetFont(pdf, "Helvetica-Bold", NULL);
    if (st->error || regular == NULL || bold == NULL)
        return print_failed(st, "separator", err) ? -1 : err_set(err, "separator: no font");

    print_text(page, bold, 28, pw / 2, ph - 110, "VOLUME SEPARATOR", 1);
    print_text(page, regular, 12, pw / 2, ph - 135,
               "Place this sheet before the first page of the register volume.", 1);
    /* cannot truncate: office[9], a 4-digit year and volume[13] fit in line[128] */
    (void)snprintf(line, sizeof line, "Office: %s", sep->office);
    print_text(page, bold, 22, 90, ph - 210, line, 0);
    (void)snprintf(line, sizeof line, "Year: %04d", sep->year);
    print_text(page, bold, 22, 90, ph - 245, line, 0);
    (void)snprintf(line, sizeof line, "Volume: %s", sep->volume);
    print_text(page, bold, 22, 90, ph - 280, line, 0);

    /* Bars: a module of at most 0.53 mm (1.5 pt), at least 10 modules of
     * quiet zone each side (ISO/IEC 15417 §4.4.2), centred on the page. */
    module = (pw - 100) / (total + 20);
    if (module > 1.5)
        module = 1.5;
    x = (pw - module * total) / 2;
    bar_y = ph / 2 - bar_h / 2;
    HPDF_Page_SetRGBFill(page, 0, 0, 0);
    for (int i = 0; i < nw; i++) {
        double wdt = widths[i] * module;
        if (i % 2 == 0)
            HPDF_Page_Rectangle(page, (HPDF_REAL)x, (HPDF_REAL)bar_y, (HPDF_REAL)wdt, (HPDF_REAL)bar_h);
        x += wdt;
    }
    HPDF_Page_Fill(page);
    print_text(page, regular, 14, pw / 2, bar_y - 24, payload, 1);
    print_text(page, regular, 9, pw / 2, 60,
               "civreg separator sheet - Code 128 payload CRVS1|office|year|volume", 1);
    if (print_failed(st, "separator", err))
        return -1;
    return 0;
}

int print_separator_pdf(const struct scan_separator *sep, const char *path, struct err *err)
{
    struct print_status st = { 0, 0 };
    char payload[64];
    HPDF_Doc pdf;
    int rc;

    if (scan_separator_format(sep, payload, sizeof payload, err) != 0)
        return -1;
    pdf = print_doc_new(&st, payload);
    if (pdf == NULL)
        return err_set(err, "separator: cannot start a PDF (out of memory)");
    rc = separator_page(pdf, &st, sep, err) == 0 ? print_save_file(pdf, &st, "separator", path, err)
                                                   : -1;
    HPDF_Free(pdf);
    return rc;
}

int print_separator_pdf_buf(const struct scan_separator *seps, size_t n, struct buf *out,
                            struct err *err)
{
    struct print_status st = { 0, 0 };
    char payload[64];
    HPDF_Doc pdf;
    int rc = 0;

    if (n == 0)
        return err_set(err, "separator: no sheet to print");
    if (scan_separator_format(&seps[0], payload, sizeof payload, err) != 0)
        return -1;
    pdf = print_doc_new(&st, payload);
    if (pdf == NULL)
        return err_set(err, "separator: cannot start a PDF (out of memory)");
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = separator_page(pdf, &st, &seps[i], err);
    if (rc == 0)
        rc = print_save(pdf, &st, "separator", out, err);
    HPDF_Free(pdf);
    return rc;
}
