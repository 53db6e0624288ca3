/* Fuzz: the strict BER-TLV decoder (issuance/tlv.c), walking every
 * constructed object it accepts, and the LDS readers built on it. */
#include "fuzz.h"
#include "issuance/icao/lds.h"
#include "issuance/icao/tlv.h"

static void walk(const unsigned char *p, size_t len, int depth)
{
    struct tlv_iter it;
    struct tlv t;
    unsigned long v;

    if (depth > 16)
        return;
    tlv_iter_init(&it, p, len);
    while (tlv_iter_next(&it, &t, NULL) == 1) {
        if (t.tag == 0x02)
            if (tlv_get_uint(&t, &v, NULL) != 0) {
        /* rejected input is fine */
    }
        if (t.constructed)
            walk(t.value, t.len, depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char mrz[LDS_MRZ_MAX + 1];
    size_t n;
    unsigned w, h, c;
    struct buf b = BUF_INIT(1 << 20);

    walk(data, size, 0);
    if (lds_dg1_mrz(data, size, mrz, &n, NULL) != 0) {
        /* rejected input is fine */
    }
    if (lds_jpeg_info(data, size, &w, &h, &c, NULL) != 0) {
        /* rejected input is fine */
    }
    /* re-encoding what decodes gives the same bytes back */
    {
        struct tlv t;
        if (tlv_decode_whole(data, size, &t, NULL) == 0) {
            if (tlv_put(&b, t.tag, t.value, t.len, NULL) != 0 || b.len != size)
                __builtin_trap();
            for (size_t i = 0; i < size; i++)
                if (b.data[i] != data[i])
                    __builtin_trap();
        }
    }
    buf_release(&b);
    return 0;
}
