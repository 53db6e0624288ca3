/* Fuzz: secure-messaging unwrapping (issuance/reader/sm.c) and the APDU
 * codec. The first byte picks the path:
 *   0 the input as a protected response, raw (3DES and AES sessions): a MAC
 *     forgery must never open;
 *   1 the input as the data objects of a response whose MAC the harness
 *     computes, so the decryption, padding and status-word paths see hostile
 *     content behind a valid MAC;
 *   2 the input as a command APDU parsed and, when it parses, unwrapped by
 *     the chip side (also with a valid MAC recomputed), re-encoded;
 *   3 the MRZ information of BAC from the input as MRZ text.
 * Accepted results must round-trip where a round trip exists. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "issuance/reader/reader_int.h"

static const unsigned char k1[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                      17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
                                      31, 32 };
static const unsigned char k2[32] = { 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19,
                                      18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3,
                                      2, 1 };

static void with_mac(enum sm_cipher cipher, const uint8_t *p, size_t n)
{
    struct sm_ctx c, mac_side;
    struct buf resp = BUF_INIT(RESP_MAX), m = BUF_INIT(RESP_MAX), data = BUF_INIT(RESP_MAX);
    unsigned char mac[8];
    unsigned sw;

    sm_init(&c, cipher, k1, k2, NULL, 0);
    mac_side = c;
    /* the MAC the chip would send: over SSC+1 || pad(DOs) */
    for (size_t i = mac_side.bs; i-- > 0;)
        if (++mac_side.ssc[i] != 0)
            break;
    if (buf_append(&m, mac_side.ssc, mac_side.bs) == 0 && buf_append(&m, p, n) == 0 &&
        sm_pad(&m, mac_side.bs) == 0 && sm_mac(&mac_side, m.data, m.len, mac, NULL) == 0 &&
        buf_append(&resp, p, n) == 0 && buf_append(&resp, "\x8E\x08", 2) == 0 &&
        buf_append(&resp, mac, 8) == 0 && buf_append(&resp, "\x90\x00", 2) == 0) {
        if (sm_unwrap_response(&c, resp.data, resp.len, &data, &sw, NULL) == 0 &&
            data.len > n)
            abort(); /* decrypted data cannot exceed what was sent */
    }
    buf_release(&resp);
    buf_release(&m);
    buf_release(&data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum sm_cipher ciphers[] = { SM_3DES, SM_AES128, SM_AES256 };
    if (size < 1 || size > 4096)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 4) {
    case 0:
        for (size_t i = 0; i < 3; i++) {
            struct sm_ctx c;
            struct buf out = BUF_INIT(RESP_MAX);
            unsigned sw;
            sm_init(&c, ciphers[i], k1, k2, NULL, 0);
            if (sm_unwrap_response(&c, p, n, &out, &sw, NULL) == 0)
                abort(); /* a random MAC that verifies: 2^-64 */
            buf_release(&out);
        }
        break;
    case 1:
        for (size_t i = 0; i < 3; i++)
            with_mac(ciphers[i], p, n);
        break;
    case 2: {
        struct apdu a, o;
        struct buf re = BUF_INIT(APDU_MAX), plain = BUF_INIT(APDU_MAX);
        if (apdu_parse(p, n, &a, NULL) == 0) {
            struct sm_ctx c;
            if (apdu_encode(&a, &re, NULL) != 0 || re.len != n || memcmp(re.data, p, n) != 0)
                abort(); /* the codec is exact both ways */
            sm_init(&c, SM_3DES, k1, k2, NULL, 0);
            if (sm_unwrap_command(&c, &a, &plain, &o, NULL) == 0 && o.lc > a.lc)
                abort();
            /* and a command we protect ourselves opens to the same plain one */
            if ((a.cla & 0x0C) == 0 && !(a.ins & 1) && a.lc <= 1024) {
                struct sm_ctx ifd, icc;
                struct buf w = BUF_INIT(APDU_MAX);
                struct apdu wa;
                sm_init(&ifd, SM_AES128, k1, k2, NULL, 0);
                icc = ifd;
                if (sm_wrap_command(&ifd, &a, &w, NULL) == 0) {
                    if (apdu_parse(w.data, w.len, &wa, NULL) != 0 ||
                        sm_unwrap_command(&icc, &wa, &plain, &o, NULL) != 0 || o.lc != a.lc ||
                        (a.lc && memcmp(o.data, a.data, a.lc) != 0) || o.ins != a.ins ||
                        o.le_present != a.le_present || (a.le_present && o.le != a.le))
                        abort();
                }
                buf_release(&w);
            }
        }
        buf_release(&re);
        buf_release(&plain);
        break;
    }
    default: {
        char *s = malloc(n + 1);
        char info[BAC_MRZ_INFO_MAX + 1];
        if (s == NULL)
            return 0;
        memcpy(s, p, n);
        s[n] = '\0';
        if (bac_mrz_info(s, info, NULL) == 0 && strlen(info) < 24)
            abort();
        free(s);
        break;
    }
    }
    return 0;
}
