#include "tlv.h"

#include <string.h>

size_t tlv_tag_size(unsigned tag)
{
    if (tag <= 0xFF)
        return (tag & 0x1F) == 0x1F ? 0 : 1;
    if (tag <= 0xFFFF) {
        unsigned b0 = tag >> 8, b1 = tag & 0xFF;
        /* ISO/IEC 7816-6 data objects use two-byte tags below 31 too
         * (5F01, 5F0E, ...), so unlike DER any second byte 00-7F is taken */
        if ((b0 & 0x1F) != 0x1F || (b1 & 0x80))
            return 0;
        return 2;
    }
    if (tag <= 0xFFFFFF) {
        unsigned b0 = tag >> 16, b1 = (tag >> 8) & 0xFF, b2 = tag & 0xFF;
        if ((b0 & 0x1F) != 0x1F || !(b1 & 0x80) || b1 == 0x80 || (b2 & 0x80))
            return 0;
        return 3;
    }
    return 0;
}

int tlv_decode(const unsigned char *p, size_t len, struct tlv *out, size_t *consumed,
               struct err *err)
{
    size_t i = 0, vlen = 0;
    unsigned tag;

    memset(out, 0, sizeof *out);
    if (len == 0)
        return err_set(err, "tlv: no data where a tag was expected");
    tag = p[i++];
    if ((tag & 0x1F) == 0x1F) {
        int n = 0;
        do {
            if (i >= len)
                return err_set(err, "tlv: truncated tag");
            if (++n > 2)
                return err_set(err, "tlv: tag longer than 3 bytes");
            tag = (tag << 8) | p[i++];
        } while (p[i - 1] & 0x80);
    }
    if (tlv_tag_size(tag) == 0)
        return err_set(err, "tlv: tag %X not in its shortest form", tag);
    if (i >= len)
        return err_set(err, "tlv: tag %X has no length", tag);
    if (p[i] < 0x80) {
        vlen = p[i++];
    } else if (p[i] == 0x80) {
        return err_set(err, "tlv: tag %X uses an indefinite length (not allowed)", tag);
    } else {
        size_t n = p[i++] & 0x7F;
        if (n > 4)
            return err_set(err, "tlv: tag %X length field of %zu bytes is too long", tag, n);
        if (len - i < n)
            return err_set(err, "tlv: tag %X truncated length", tag);
        if (p[i] == 0)
            return err_set(err, "tlv: tag %X length not in its shortest form", tag);
        for (size_t k = 0; k < n; k++)
            vlen = (vlen << 8) | p[i++];
        if (vlen < 0x80)
            return err_set(err, "tlv: tag %X length not in its shortest form", tag);
    }
    if (vlen > TLV_MAX_LEN)
        return err_set(err, "tlv: tag %X value of %zu bytes is too large", tag, vlen);
    if (len - i < vlen)
        return err_set(err, "tlv: tag %X declares %zu bytes but only %zu follow", tag, vlen,
                       len - i);
    out->tag = tag;
    out->constructed = (p[0] & 0x20) != 0;
    out->value = p + i;
    out->len = vlen;
    out->raw = p;
    out->raw_len = i + vlen;
    if (consumed)
        *consumed = i + vlen;
    return 0;
}

int tlv_decode_whole(const unsigned char *p, size_t len, struct tlv *out, struct err *err)
{
    size_t used = 0;

    if (tlv_decode(p, len, out, &used, err) != 0)
        return -1;
    if (used != len)
        return err_set(err, "tlv: %zu unexpected bytes after tag %X", len - used, out->tag);
    return 0;
}

void tlv_iter_init(struct tlv_iter *it, const unsigned char *p, size_t len)
{
    it->p = p;
    it->left = len;
}

int tlv_iter_next(struct tlv_iter *it, struct tlv *out, struct err *err)
{
    size_t used = 0;

    if (it->left == 0)
        return 0;
    if (tlv_decode(it->p, it->left, out, &used, err) != 0)
        return -1;
    it->p += used;
    it->left -= used;
    return 1;
}

int tlv_find(const struct tlv *parent, unsigned tag, struct tlv *out, struct err *err)
{
    struct tlv_iter it;
    int r;

    tlv_iter_init(&it, parent->value, parent->len);
    while ((r = tlv_iter_next(&it, out, err)) == 1)
        if (out->tag == tag)
            return 0;
    return r < 0 ? -1 : 1;
}

static size_t length_size(size_t len)
{
    if (len < 0x80)
        return 1;
    if (len <= 0xFF)
        return 2;
    if (len <= 0xFFFF)
        return 3;
    if (len <= 0xFFFFFF)
        return 4;
    return 5;
}

static void write_header(unsigned char *h, unsigned tag, size_t ts, size_t len, size_t ls)
{
    for (size_t k = 0; k < ts; k++)
        h[k] = (unsigned char)(tag >> (8 * (ts - 1 - k)));
    if (ls == 1) {
        h[ts] = (unsigned char)len;
    } else {
        h[ts] = (unsigned char)(0x80 | (ls - 1));
        for (size_t k = 1; k < ls; k++)
            h[ts + k] = (unsigned char)(len >> (8 * (ls - 1 - k)));
    }
}

int tlv_put(struct buf *out, unsigned tag, const void *v, size_t len, struct err *err)
{
    unsigned char h[8];
    size_t ts = tlv_tag_size(tag), ls = length_size(len);

    if (ts == 0)
        return err_set(err, "tlv: %X is not a valid tag", tag);
    if (len > TLV_MAX_LEN)
        return err_set(err, "tlv: value of %zu bytes for tag %X is too large", len, tag);
    write_header(h, tag, ts, len, ls);
    if (buf_append(out, h, ts + ls) != 0 || (len && buf_append(out, v, len) != 0))
        return err_set(err, "tlv: out of memory or over the size cap writing tag %X", tag);
    return 0;
}

int tlv_wrap(struct buf *out, size_t from, unsigned tag, struct err *err)
{
    unsigned char h[8];
    size_t len, ts = tlv_tag_size(tag), ls;

    if (from > out->len)
        return err_set(err, "tlv: wrap start past the end of the buffer");
    len = out->len - from;
    ls = length_size(len);
    if (ts == 0)
        return err_set(err, "tlv: %X is not a valid tag", tag);
    if (len > TLV_MAX_LEN)
        return err_set(err, "tlv: value of %zu bytes for tag %X is too large", len, tag);
    write_header(h, tag, ts, len, ls);
    /* grow by the header size, then shift the value right */
    if (buf_append(out, h, ts + ls) != 0)
        return err_set(err, "tlv: out of memory or over the size cap writing tag %X", tag);
    memmove(out->data + from + ts + ls, out->data + from, len);
    memcpy(out->data + from, h, ts + ls);
    return 0;
}

int tlv_put_uint(struct buf *out, unsigned long v, struct err *err)
{
    unsigned char b[sizeof v + 1];
    size_t n = 0;

    /* DER INTEGER: big-endian two's complement, shortest form, a leading 0
     * when the top bit of the first byte is set */
    do {
        b[sizeof b - 1 - n++] = (unsigned char)(v & 0xFF);
        v >>= 8;
    } while (v);
    if (b[sizeof b - n] & 0x80)
        b[sizeof b - 1 - n++] = 0;
    return tlv_put(out, 0x02, b + sizeof b - n, n, err);
}

int tlv_get_uint(const struct tlv *t, unsigned long *out, struct err *err)
{
    unsigned long v = 0;

    if (t->tag != 0x02 || t->len == 0)
        return err_set(err, "der: expected an INTEGER");
    if (t->value[0] & 0x80)
        return err_set(err, "der: negative INTEGER where a count was expected");
    if (t->len > 1 && t->value[0] == 0 && !(t->value[1] & 0x80))
        return err_set(err, "der: INTEGER not in its shortest form");
    if (t->len > 5)
        return err_set(err, "der: INTEGER too large");
    for (size_t i = 0; i < t->len; i++)
        v = (v << 8) | t->value[i];
    if (v > (unsigned long)0x7FFFFFFF)
        return err_set(err, "der: INTEGER too large");
    *out = v;
    return 0;
}
