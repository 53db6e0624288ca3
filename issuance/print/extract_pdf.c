/* The certified birth extract: one A4 page, the facts as sealed, the seal as
 * a QR code sized to scan from a 200 dpi scan or a phone photo. */
#include "extract_pdf.h"

#include <hpdf.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "print_int.h"

/* At version 25-30 (what a seal with its certificate needs) a 75 mm symbol
 * has modules of about 0.55 mm: over 4 pixels at 200 dpi. */
#define QR_SIDE_MM 75.0

int extract_qr_modules(const char *payload, unsigned char **modules, int *size, struct err *err)
{
    QRcode *qr;
    size_t n;

    *modules = NULL;
    *size = 0;
    if (payload == NULL || *payload == '\0')
        return err_set(err, "extract: empty seal payload");
    qr = QRcode_encodeData((int)strlen(payload), (const unsigned char *)payload, 0,
                           QR_ECLEVEL_M);
    if (qr == NULL)
        return err_set(err, "extract: the seal (%zu bytes) does not fit in a QR code",
                       strlen(payload));
    n = (size_t)qr->width * (size_t)qr->width;
    if ((*modules = malloc(n)) == NULL) {
        QRcode_free(qr);
        return err_oom(err);
    }
    for (size_t i = 0; i < n; i++)
        (*modules)[i] = qr->data[i] & 1; /* bit 0: dark module */
    *size = qr->width;
    QRcode_free(qr);
    return 0;
}

/* The string at KEY of the object O (NULL when absent or not a string). */
static const char *str_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static const char *sex_text(const char *sx)
{
    if (sx && strcmp(sx, "F") == 0)
        return "female";
    if (sx && strcmp(sx, "M") == 0)
        return "male";
    return "not stated";
}

static int render_extract(const json_t *extract, const char *font, struct buf *out,
                          struct err *err)
{
    struct print_status st = { 0, 0 };
    const json_t *data = json_object_get(json_object_get(extract, "seal"), "data");
    const json_t *msg = json_object_get(data, "msg");
    const char *payload = str_of(extract, "payload");
    const char *office_name = str_of(extract, "office_name");
    const char *issued_by = str_of(extract, "issued_by");
    const char *state = str_of(json_object_get(data, "hdr"), "is");
    const char *fname;
    unsigned char *mods = NULL;
    HPDF_Doc pdf = NULL;
    HPDF_Page page;
    HPDF_Font reg, bold;
    char line[512];
    double pw, ph, y, side, m, qx, qy;
    int qsize = 0, rc = -1;
    struct {
        const char *label, *key;
    } rows[] = {
        { "Given names", "gn" },
        { "Family name", "fn" },
        { "Sex", "sx" },
        { "Date of birth", "dob" },
        { "Place of birth", "pob" },
        { "Mother", "mo" },
        { "Father", "fa" },
        { "Date of registration", "rd" },
        { "Registration number", "rn" },
        { "Identification number (UIN)", "uin" },
        { "Date of death", "dod" },
    };

    if (!json_is_object(msg) || payload == NULL || office_name == NULL || state == NULL ||
        str_of(msg, "rn") == NULL || str_of(msg, "doi") == NULL || str_of(msg, "xid") == NULL)
        return err_set(err, "extract: incomplete extract (seal data, payload or office missing)");
    if (extract_qr_modules(payload, &mods, &qsize, err) != 0)
        return -1;
    if ((pdf = print_doc_new(&st, "Certified extract of a birth registration")) == NULL) {
        free(mods);
        return err_set(err, "extract: cannot start a PDF (out of memory)");
    }
    HPDF_SetCurrentEncoder(pdf, "UTF-8");
    fname = HPDF_LoadTTFontFromFile(pdf, font ? font : EXTRACT_FONT_DEFAULT, HPDF_TRUE);
    if (fname == NULL || st.error) {
        err_set(err, "extract: cannot load the font %s (Debian package fonts-dejavu-core)",
                font ? font : EXTRACT_FONT_DEFAULT);
        goto out;
    }
    reg = HPDF_GetFont(pdf, fname, "UTF-8");
    bold = reg;
    page = HPDF_AddPage(pdf);
    HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
    pw = HPDF_Page_GetWidth(page);
    ph = HPDF_Page_GetHeight(page);
    if (st.error || reg == NULL || page == NULL)
        goto fail;

    (void)snprintf(line, sizeof line, "%s — %s", state, office_name);
    print_text(page, reg, 12, pw / 2, ph - 60, line, 1);
    print_text(page, bold, 19, pw / 2, ph - 92, "CERTIFIED EXTRACT OF A BIRTH REGISTRATION", 1);
    print_text(page, reg, 10, pw / 2, ph - 112,
               "Issued from the civil register; the QR code below is a visible digital seal", 1);
    HPDF_Page_SetLineWidth(page, 0.8);
    HPDF_Page_MoveTo(page, 50, (HPDF_REAL)(ph - 124));
    HPDF_Page_LineTo(page, (HPDF_REAL)(pw - 50), (HPDF_REAL)(ph - 124));
    HPDF_Page_Stroke(page);

    y = ph - 155;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *v = str_of(msg, rows[i].key);
        if (v == NULL)
            continue;
        if (strcmp(rows[i].key, "sx") == 0)
            v = sex_text(v);
        print_text(page, reg, 10, 60, y, rows[i].label, 0);
        print_text(page, bold, 12, 230, y, v, 0);
        y -= 22;
    }
    if (str_of(msg, "dod") != NULL)
        print_text(page, bold, 12, 60, y - 4, "DECEASED: a death is registered for this person.", 0);
    y -= 30;
    (void)snprintf(line, sizeof line, "Registry office: %s (%s)", office_name,
                   str_of(msg, "of") ? str_of(msg, "of") : "");
    print_text(page, reg, 10, 60, y, line, 0);
    (void)snprintf(line, sizeof line, "Date of issue: %s    Extract number: %s",
                   str_of(msg, "doi"), str_of(msg, "xid"));
    print_text(page, reg, 10, 60, y - 16, line, 0);
    (void)snprintf(line, sizeof line, "Issued by: %s", issued_by ? issued_by : "");
    print_text(page, reg, 10, 60, y - 32, line, 0);

    /* The seal, with a quiet zone of 4 modules (ISO/IEC 18004 §6.3.8). */
    side = PRINT_MM(QR_SIDE_MM);
    m = side / qsize;
    qx = (pw - side) / 2;
    qy = 95;
    HPDF_Page_SetRGBFill(page, 0, 0, 0);
    for (int r = 0; r < qsize; r++)
        for (int c = 0; c < qsize; c++)
            if (mods[(size_t)r * (size_t)qsize + (size_t)c])
                HPDF_Page_Rectangle(page, (HPDF_REAL)(qx + c * m),
                                    (HPDF_REAL)(qy + (qsize - 1 - r) * m), (HPDF_REAL)m,
                                    (HPDF_REAL)m);
    HPDF_Page_Fill(page);
    print_text(page, reg, 8, pw / 2, qy - 18,
               "ICAO VDS-NC seal (ES256). Verify offline: civreg seal verify SCAN --csca CSCA.pem", 1);
    print_text(page, reg, 8, pw / 2, qy - 30,
               "Any change to the data above or in the code makes the seal fail.", 1);
    if (st.error)
        goto fail;
    if (print_save(pdf, &st, "extract", out, err) != 0)
        goto out;
    rc = 0;
    goto out;
fail:
    if (!print_failed(&st, "extract", err))
        err_set(err, "extract: the PDF writer failed");
out:
    free(mods);
    HPDF_Free(pdf);
    return rc;
}

/* Like the data page, the extract is rendered on a thread with a stack that
 * fits libharu (print_on_render_thread). */
struct extract_job {
    const json_t *extract;
    const char *font;
    struct buf *out;
    struct err *err;
    int rc;
};

static void *extract_thread(void *arg)
{
    struct extract_job *j = arg;
    j->rc = render_extract(j->extract, j->font, j->out, j->err);
    return NULL;
}

int extract_pdf_render(const json_t *extract, const char *font, struct buf *out, struct err *err)
{
    struct extract_job job = { extract, font, out, err, -1 };

    if (print_on_render_thread(extract_thread, &job, "extract", err) != 0)
        return -1;
    return job.rc;
}
