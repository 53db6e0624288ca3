/* civreg issuance: strict BER-TLV as used by ICAO Doc 9303-10 (LDS) and
 * ISO/IEC 7816-4.
 *
 * Tags are held as unsigned integers of their bytes (0x61, 0x5F1F, 0x7F61);
 * at most three tag bytes. The decoder is strict: definite lengths only, the
 * shortest length form, tags in their shortest form, and every value inside
 * the bytes given. It never allocates: decoded values point into the input.
 */
#ifndef CIVREG_ISSUANCE_TLV_H
#define CIVREG_ISSUANCE_TLV_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

#define TLV_MAX_LEN ((size_t)1 << 24) /* 16 MiB: far above any LDS file */

struct tlv {
    unsigned tag;
    bool constructed;           /* bit 6 of the first tag byte */
    const unsigned char *value; /* points into the decoded input */
    size_t len;                 /* value length */
    const unsigned char *raw;   /* the whole TLV (header + value) */
    size_t raw_len;
};

/* Decode the TLV starting at P (LEN bytes available). *CONSUMED (may be NULL)
 * gets the header + value length. Returns 0, or -1 naming the defect. */
int tlv_decode(const unsigned char *p, size_t len, struct tlv *out, size_t *consumed,
               struct err *err) __attribute__((warn_unused_result));

/* Decode exactly one TLV filling all LEN bytes (trailing bytes are an error). */
int tlv_decode_whole(const unsigned char *p, size_t len, struct tlv *out, struct err *err)
    __attribute__((warn_unused_result));

/* Walk the children of a constructed TLV (or any byte range). */
struct tlv_iter {
    const unsigned char *p;
    size_t left;
};
void tlv_iter_init(struct tlv_iter *it, const unsigned char *p, size_t len);
/* 1 and *OUT set when a child was read, 0 at the end, -1 on a defect. */
int tlv_iter_next(struct tlv_iter *it, struct tlv *out, struct err *err)
    __attribute__((warn_unused_result));

/* Find the first direct child of PARENT with TAG: 0 found, 1 absent, -1 on
 * a defect in the children. */
int tlv_find(const struct tlv *parent, unsigned tag, struct tlv *out, struct err *err)
    __attribute__((warn_unused_result));

/* Encoding. tlv_put appends TAG, the length and LEN bytes of V to OUT.
 * tlv_wrap rewrites OUT[FROM..] as the value of a new TLV with TAG (for
 * building nested structures: note out->len, append the children, wrap). */
int tlv_put(struct buf *out, unsigned tag, const void *v, size_t len, struct err *err)
    __attribute__((warn_unused_result));
int tlv_wrap(struct buf *out, size_t from, unsigned tag, struct err *err)
    __attribute__((warn_unused_result));
/* The DER encoding of a small non-negative INTEGER (tag 0x02). */
int tlv_put_uint(struct buf *out, unsigned long v, struct err *err)
    __attribute__((warn_unused_result));
/* Read a DER INTEGER value (T must have tag 0x02) that fits in a long and is
 * non-negative. */
int tlv_get_uint(const struct tlv *t, unsigned long *out, struct err *err)
    __attribute__((warn_unused_result));

/* Number of bytes of TAG's encoding (1-3), 0 when TAG is not a valid tag. */
size_t tlv_tag_size(unsigned tag);

#endif
