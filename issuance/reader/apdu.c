/* civreg issuance/reader: command APDUs (ISO/IEC 7816-3 §12.1, short and
 * extended length). */
#include <string.h>

#include "reader_int.h"

int apdu_parse(const unsigned char *p, size_t len, struct apdu *out, struct err *err)
{
    memset(out, 0, sizeof *out);
    if (len < 4)
        return err_set(err, "apdu: %zu bytes are shorter than a header", len);
    if (len > APDU_MAX)
        return err_set(err, "apdu: %zu bytes are too long", len);
    out->cla = p[0];
    out->ins = p[1];
    out->p1 = p[2];
    out->p2 = p[3];
    p += 4;
    len -= 4;
    if (len == 0) /* case 1 */
        return 0;
    if (len == 1) { /* case 2 short */
        out->le_present = true;
        out->le = p[0] ? p[0] : 256;
        return 0;
    }
    if (p[0] != 0) { /* short, case 3 or 4 */
        size_t lc = p[0];
        if (len == 1 + lc) {
            out->data = p + 1;
            out->lc = lc;
            return 0;
        }
        if (len == 2 + lc) {
            out->data = p + 1;
            out->lc = lc;
            out->le_present = true;
            out->le = p[1 + lc] ? p[1 + lc] : 256;
            return 0;
        }
        return err_set(err, "apdu: Lc %zu does not match the %zu bytes after the header", lc,
                       len);
    }
    /* extended: 00 then two bytes */
    out->extended = true;
    if (len == 3) { /* case 2 extended */
        size_t le = ((size_t)p[1] << 8) | p[2];
        out->le_present = true;
        out->le = le ? le : 65536;
        return 0;
    }
    if (len < 3)
        return err_set(err, "apdu: truncated extended length");
    {
        size_t lc = ((size_t)p[1] << 8) | p[2];
        if (lc == 0)
            return err_set(err, "apdu: extended Lc of zero");
        if (len == 3 + lc) {
            out->data = p + 3;
            out->lc = lc;
            return 0;
        }
        if (len == 5 + lc) {
            size_t le = ((size_t)p[3 + lc] << 8) | p[4 + lc];
            out->data = p + 3;
            out->lc = lc;
            out->le_present = true;
            out->le = le ? le : 65536;
            return 0;
        }
        return err_set(err, "apdu: extended Lc %zu does not match the %zu bytes after the header",
                       lc, len);
    }
}

int apdu_encode(const struct apdu *a, struct buf *out, struct err *err)
{
    unsigned char h[4] = { a->cla, a->ins, a->p1, a->p2 };
    bool ext = a->extended || a->lc > 255 || (a->le_present && a->le > 256);
    int r;

    if (a->lc > 65535 || (a->le_present && (a->le == 0 || a->le > 65536)))
        return err_set(err, "apdu: length out of range");
    r = buf_append(out, h, 4);
    if (r == 0 && a->lc > 0) {
        if (ext) {
            unsigned char l[3] = { 0, (unsigned char)(a->lc >> 8), (unsigned char)a->lc };
            r = buf_append(out, l, 3);
        } else
            r = buf_append_byte(out, (unsigned char)a->lc);
        if (r == 0)
            r = buf_append(out, a->data, a->lc);
    }
    if (r == 0 && a->le_present) {
        if (ext) {
            unsigned char l[3] = { 0, (unsigned char)((a->le & 0xFFFF) >> 8),
                                   (unsigned char)(a->le & 0xFF) };
            /* with a body the Le field is two bytes, without one three */
            r = a->lc > 0 ? buf_append(out, l + 1, 2) : buf_append(out, l, 3);
        } else
            r = buf_append_byte(out, (unsigned char)(a->le & 0xFF));
    }
    return r == 0 ? 0 : err_set(err, "apdu: too long");
}
