/* issuance/ unit tests: BER-TLV, LDS data groups, EF.SOD build and read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/encode.h"
#include "core/json.h"
#include "core/secret.h"
#include "db/datadir.h"
#include "issuance/pki/chip.h"
#include "issuance/icao/lds.h"
#include "issuance/pki/pki.h"
#include "issuance/icao/passive_auth.h"
#include "issuance/icao/sod.h"
#include "issuance/icao/tlv.h"
#include "support/cmocka_main.h"
#include "support/support.h"

static const char specimen_mrz[] = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
                                   "L898902C36UTO7408122F1204159ZE184226B<<<<<10\n";

static void test_tlv_decode_strict(void **state)
{
    struct tlv t;
    struct err e = ERR_INIT;
    (void)state;
    static const struct {
        const char *hex;
        const char *why;
    } bad[] = {
        { "", "no data" },
        { "61", "no length" },
        { "6180", "indefinite" },
        { "618100", "shortest form" },       /* 0 in long form */
        { "61817F" "00", "shortest form" },  /* 127 in long form */
        { "6182000100", "shortest form" },   /* leading zero length byte */
        { "6103AABB", "only 2 follow" },
        { "1F", "truncated tag" },
        { "5F", "truncated tag" },
        { "5F8001", "not in its shortest form" },
        { "5FFFFF0100", "longer than 3 bytes" },
        { "618501000000", "too long" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char b[16];
        size_t n = 0;
        assert_int_equal(hex_decode(bad[i].hex, strlen(bad[i].hex), b, sizeof b, &n, NULL), 0);
        err_clear(&e);
        assert_int_equal(tlv_decode(b, n, &t, NULL, &e), -1);
        if (strstr(err_msg(&e), bad[i].why) == NULL)
            fail_msg("case %zu (%s): message '%s' lacks '%s'", i, bad[i].hex, err_msg(&e),
                     bad[i].why);
    }
    /* trailing bytes */
    {
        const unsigned char b[] = { 0x61, 0x01, 0x00, 0x00 };
        assert_int_equal(tlv_decode_whole(b, sizeof b, &t, &e), -1);
        assert_non_null(strstr(err_msg(&e), "unexpected bytes"));
    }
    /* two- and three-byte tags, long lengths */
    {
        const unsigned char b[] = { 0x7F, 0x61, 0x81, 0x80 };
        unsigned char big[4 + 128] = { 0x7F, 0x61, 0x81, 0x80 };
        assert_int_equal(tlv_decode(b, sizeof b, &t, NULL, &e), -1);
        assert_int_equal(tlv_decode_whole(big, sizeof big, &t, &e), 0);
        assert_int_equal(t.tag, 0x7F61);
        assert_true(t.constructed);
        assert_int_equal(t.len, 128);
    }
    {
        const unsigned char b[] = { 0x5F, 0x81, 0x01, 0x01, 0xAA };
        assert_int_equal(tlv_decode_whole(b, sizeof b, &t, &e), 0);
        assert_int_equal(t.tag, 0x5F8101);
    }
}

static void test_tlv_roundtrip(void **state)
{
    static const unsigned tags[] = { 0x04, 0x61, 0x5F1F, 0x7F61, 0x5F2E, 0x5F8101 };
    static const size_t lens[] = { 0, 1, 127, 128, 255, 256, 65535, 65536, 70000 };
    unsigned char *v = malloc(70000);
    (void)state;
    assert_non_null(v);
    for (size_t i = 0; i < 70000; i++)
        v[i] = (unsigned char)(i * 7);
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
        for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
            struct buf b = BUF_INIT(1 << 20);
            struct tlv t;
            struct err e = ERR_INIT;
            assert_int_equal(tlv_put(&b, tags[i], v, lens[k], &e), 0);
            assert_int_equal(tlv_decode_whole(b.data, b.len, &t, &e), 0);
            assert_int_equal(t.tag, tags[i]);
            assert_int_equal(t.len, lens[k]);
            if (lens[k])
                assert_memory_equal(t.value, v, lens[k]);
            /* tlv_wrap gives the same bytes as tlv_put */
            {
                struct buf w = BUF_INIT(1 << 20);
                assert_int_equal(buf_append(&w, v, lens[k]), 0);
                assert_int_equal(tlv_wrap(&w, 0, tags[i], &e), 0);
                assert_int_equal(w.len, b.len);
                assert_memory_equal(w.data, b.data, b.len);
                buf_release(&w);
            }
            buf_release(&b);
        }
    free(v);
    {
        struct buf b = BUF_INIT(64);
        struct tlv t;
        unsigned long got;
        static const unsigned long vals[] = { 0, 1, 127, 128, 255, 256, 65535, 0x7FFFFFFF };
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
            buf_reset(&b);
            assert_int_equal(tlv_put_uint(&b, vals[i], NULL), 0);
            assert_int_equal(tlv_decode_whole(b.data, b.len, &t, NULL), 0);
            assert_int_equal(tlv_get_uint(&t, &got, NULL), 0);
            assert_int_equal(got, vals[i]);
        }
        /* 128 is 02 02 00 80 */
        buf_reset(&b);
        assert_int_equal(tlv_put_uint(&b, 128, NULL), 0);
        assert_int_equal(b.len, 4);
        assert_int_equal(b.data[2], 0x00);
        buf_release(&b);
    }
}

static void test_dg1_specimen(void **state)
{
    struct buf b = BUF_INIT(4096);
    struct err e = ERR_INIT;
    char *want = file_read(CIVREG_TEST_DATA "/icao/dg1-td3-specimen.hex", NULL);
    unsigned char wb[128];
    size_t wn = 0;
    char mrz[LDS_MRZ_MAX + 1];
    size_t mn;
    (void)state;
    assert_non_null(want);
    assert_int_equal(hex_decode(want, strcspn(want, "\n"), wb, sizeof wb, &wn, NULL), 0);
    assert_int_equal(lds_dg1_encode(specimen_mrz, strlen(specimen_mrz), &b, &e), 0);
    /* Doc 9303-10 worked example: 61 5B 5F 1F 58 50 3C 55 54 4F ... */
    assert_int_equal(b.len, 93);
    assert_int_equal(b.len, wn);
    assert_memory_equal(b.data, wb, wn);
    assert_int_equal(b.data[0], 0x61);
    assert_int_equal(b.data[1], 0x5B);
    assert_int_equal(b.data[2], 0x5F);
    assert_int_equal(b.data[3], 0x1F);
    assert_int_equal(b.data[4], 0x58);
    /* and back */
    assert_int_equal(lds_dg1_mrz(b.data, b.len, mrz, &mn, &e), 0);
    assert_int_equal(mn, 88);
    assert_memory_equal(mrz, "P<UTOERIKSSON", 13);
    free(want);
    buf_release(&b);
}

static void test_dg1_formats_and_errors(void **state)
{
    struct buf b = BUF_INIT(4096);
    struct err e = ERR_INIT;
    (void)state;
    /* TD1, Doc 9303-5 specimen: 3 x 30 -> 61 5D 5F1F 5A */
    static const char td1[] = "I<UTOD231458907<<<<<<<<<<<<<<<\n"
                              "7408122F1204159UTO<<<<<<<<<<<6\n"
                              "ERIKSSON<<ANNA<MARIA<<<<<<<<<<\n";
    assert_int_equal(lds_dg1_encode(td1, strlen(td1), &b, &e), 0);
    assert_int_equal(b.len, 95);
    assert_int_equal(b.data[1], 0x5D);
    assert_int_equal(b.data[4], 0x5A);
    buf_reset(&b);
    assert_int_equal(lds_dg1_encode("P<UTOABC\n", 9, &b, &e), -1);
    assert_non_null(strstr(err_msg(&e), "not TD1"));
    assert_int_equal(lds_dg1_encode("p<utoeriksson", 13, &b, &e), -1);
    assert_non_null(strstr(err_msg(&e), "not A-Z"));
    {
        static const char uneven[] = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
                                     "L898902C36UTO7408122F1204159ZE184226B<<<<<1\n";
        assert_int_equal(lds_dg1_encode(uneven, strlen(uneven), &b, &e), -1);
        assert_non_null(strstr(err_msg(&e), "line 2 has 43"));
    }
    buf_release(&b);
}

static void test_com_dg2_dg11_dg12(void **state)
{
    struct buf b = BUF_INIT(1 << 20);
    struct err e = ERR_INIT;
    struct tlv t, u, v;
    size_t jl = 0;
    char *jpeg = file_read(CIVREG_TEST_DATA "/icao/face-120x160.jpg", &jl);
    (void)state;

    /* EF.COM: 60 15 5F01 04 "0107" 5F36 06 "040000" 5C 03 61 75 6B */
    {
        const unsigned tags[] = { 0x61, 0x75, 0x6B };
        static const unsigned char want[] = { 0x60, 0x15, 0x5F, 0x01, 0x04, '0', '1', '0', '7',
                                              0x5F, 0x36, 0x06, '0', '4', '0', '0', '0', '0',
                                              0x5C, 0x03, 0x61, 0x75, 0x6B };
        assert_int_equal(lds_com_encode(tags, 3, "0107", &b, &e), 0);
        assert_int_equal(b.len, sizeof want);
        assert_memory_equal(b.data, want, sizeof want);
    }

    /* DG2: ISO/IEC 19794-5 in the CBEFF template */
    assert_non_null(jpeg);
    {
        unsigned w, h, c;
        struct lds_face f = { (unsigned char *)jpeg, jl, 'F', 1700000000, 0 };
        struct tlv bit, hdr, bdb, cnt;
        struct tlv_iter it;
        assert_int_equal(lds_jpeg_info((unsigned char *)jpeg, jl, &w, &h, &c, &e), 0);
        assert_int_equal(w, 120);
        assert_int_equal(h, 160);
        buf_reset(&b);
        assert_int_equal(lds_dg2_encode(&f, &b, &e), 0);
        assert_int_equal(tlv_decode_whole(b.data, b.len, &t, &e), 0);
        assert_int_equal(t.tag, 0x75);
        assert_int_equal(tlv_decode_whole(t.value, t.len, &u, &e), 0);
        assert_int_equal(u.tag, 0x7F61);
        tlv_iter_init(&it, u.value, u.len);
        assert_int_equal(tlv_iter_next(&it, &cnt, &e), 1);
        assert_int_equal(cnt.tag, 0x02);
        assert_int_equal(cnt.value[0], 1);
        assert_int_equal(tlv_iter_next(&it, &bit, &e), 1);
        assert_int_equal(bit.tag, 0x7F60);
        assert_int_equal(tlv_iter_next(&it, &v, &e), 0);
        tlv_iter_init(&it, bit.value, bit.len);
        assert_int_equal(tlv_iter_next(&it, &hdr, &e), 1);
        assert_int_equal(hdr.tag, 0xA1);
        assert_int_equal(tlv_iter_next(&it, &bdb, &e), 1);
        assert_int_equal(bdb.tag, 0x5F2E);
        assert_int_equal(tlv_find(&hdr, 0x87, &v, &e), 0);
        assert_int_equal(v.len, 2);
        assert_int_equal(v.value[0], 0x01);
        assert_int_equal(v.value[1], 0x01);
        assert_int_equal(tlv_find(&hdr, 0x88, &v, &e), 0);
        assert_int_equal(v.value[0], 0x00);
        assert_int_equal(v.value[1], 0x08);
        assert_int_equal(tlv_find(&hdr, 0x81, &v, &e), 0);
        assert_int_equal(v.value[0], 0x02);
        assert_int_equal(tlv_find(&hdr, 0x83, &v, &e), 0);
        assert_int_equal(v.len, 7);
        assert_int_equal(v.value[0], 0x20); /* BCD 2023-11-14 */
        assert_int_equal(v.value[1], 0x23);
        assert_memory_equal(bdb.value, "FAC\0" "010\0", 8);
        /* record length field = whole block; one image; gender female = 2 */
        assert_int_equal(((size_t)bdb.value[8] << 24 | (size_t)bdb.value[9] << 16 |
                          (size_t)bdb.value[10] << 8 | bdb.value[11]),
                         bdb.len);
        assert_int_equal(bdb.value[13], 1);
        assert_int_equal(bdb.value[14 + 6], 2);
        assert_int_equal(bdb.value[14 + 20 + 2], 0);  /* width 120 = 0x0078 */
        assert_int_equal(bdb.value[14 + 20 + 3], 120);
        assert_memory_equal(bdb.value + 46, jpeg, jl);
        /* not a JPEG */
        f.jpeg = (const unsigned char *)"GIF89a....";
        f.jpeg_len = 10;
        assert_int_equal(lds_dg2_encode(&f, &b, &e), -1);
        assert_non_null(strstr(err_msg(&e), "not a JPEG"));
    }

    /* DG11 and DG12 */
    {
        json_t *j = json_pack("{s:s, s:s, s:s, s:[s,s]}", "full_name", "ERIKSSON<<ANNA MARIA",
                              "date_of_birth", "1974-08-12", "place_of_birth",
                              "Zenith<Utopia", "other_names", "ANNA", "MARIE");
        buf_reset(&b);
        assert_int_equal(lds_dg11_encode(j, &b, &e), 0);
        assert_int_equal(tlv_decode_whole(b.data, b.len, &t, &e), 0);
        assert_int_equal(t.tag, 0x6B);
        assert_int_equal(tlv_find(&t, 0x5C, &v, &e), 0);
        assert_int_equal(v.len, 8); /* 5F0E 5F0F 5F2B 5F11 */
        assert_int_equal(tlv_find(&t, 0x5F2B, &v, &e), 0);
        assert_memory_equal(v.value, "19740812", 8);
        assert_int_equal(tlv_find(&t, 0xA0, &v, &e), 0);
        json_decref(j);
        j = json_pack("{s:s}", "date_of_birth", "1974-02-30");
        assert_int_equal(lds_dg11_encode(j, &b, &e), -1);
        json_decref(j);
        j = json_pack("{s:s}", "nickname", "Anna");
        assert_int_equal(lds_dg11_encode(j, &b, &e), -1);
        assert_non_null(strstr(err_msg(&e), "nickname"));
        json_decref(j);
        j = json_pack("{s:s, s:s, s:s}", "issuing_authority", "Passport Office Zenith",
                      "date_of_issue", "2012-04-16", "personalization_time",
                      "2012-04-16T10:11:12Z");
        buf_reset(&b);
        assert_int_equal(lds_dg12_encode(j, &b, &e), 0);
        assert_int_equal(tlv_decode_whole(b.data, b.len, &t, &e), 0);
        assert_int_equal(t.tag, 0x6C);
        assert_int_equal(tlv_find(&t, 0x5F26, &v, &e), 0);
        assert_memory_equal(v.value, "20120416", 8);
        assert_int_equal(tlv_find(&t, 0x5F55, &v, &e), 0);
        assert_memory_equal(v.value, "20120416101112", 14);
        json_decref(j);
    }
    free(jpeg);
    buf_release(&b);
}

/* A throwaway self-signed signer made here with OpenSSL, so EF.SOD can be
 * tested without the PKI store. */
static void make_signer(const char *type, const char *param, X509 **cert, EVP_PKEY **key)
{
    X509 *x = X509_new();
    X509_NAME *n;
    *key = strcmp(type, "RSA") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
                                    : EVP_PKEY_Q_keygen(NULL, NULL, "EC", param);
    assert_non_null(*key);
    assert_non_null(x);
    assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
    n = X509_get_subject_name(x);
    assert_int_equal(X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"UT",
                                                -1, -1, 0), 1);
    assert_int_equal(X509_set_issuer_name(x, n), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
    assert_int_equal(X509_set_pubkey(x, *key), 1);
    assert_true(X509_sign(x, *key, EVP_sha256()) > 0);
    *cert = x;
}

static void test_sod_roundtrip(void **state)
{
    static const char *const mds[] = { "sha1", "sha224", "sha256", "sha384", "sha512" };
    static const struct { const char *type, *param; } keys[] = {
        { "EC", "P-256" }, { "EC", "brainpoolP256r1" }, { "RSA", NULL } };
    struct buf dg1 = BUF_INIT(4096);
    struct err e = ERR_INIT;
    (void)state;
    assert_int_equal(lds_dg1_encode(specimen_mrz, strlen(specimen_mrz), &dg1, &e), 0);
    for (size_t k = 0; k < 3; k++) {
        X509 *cert;
        EVP_PKEY *key;
        make_signer(keys[k].type, keys[k].param, &cert, &key);
        for (size_t m = 0; m < 5; m++)
            for (int ver = 0; ver <= 1; ver++) {
                const unsigned char dg2[] = { 0x75, 0x01, 0x00 };
                struct sod_dg_in dgs[2] = { { 1, dg1.data, dg1.len }, { 2, dg2, sizeof dg2 } };
                struct sod_build_opts o = { mds[m], ver, 1700000000 };
                struct buf sod = BUF_INIT(1 << 20);
                struct sod *s = NULL;
                struct pa_trust *trust = NULL;
                struct pa_chip chip = { 0 };
                json_t *report = NULL;
                bool valid = true;
                unsigned char h[64];
                unsigned int hl;
                if (sod_build(cert, key, dgs, 2, &o, &sod, NULL, &e) != 0)
                    fail_msg("sod_build %s %s v%d: %s", keys[k].type, mds[m], ver, err_msg(&e));
                assert_int_equal(sod.data[0], 0x77);
                assert_int_equal(sod_parse(sod.data, sod.len, &s, &e), 0);
                assert_int_equal(s->lso_version, ver);
                assert_string_equal(s->md_name, mds[m]);
                assert_string_equal(s->econtent_type, "2.23.136.1.1.1");
                assert_int_equal(s->ndg, 2);
                assert_int_equal(EVP_Digest(dg1.data, dg1.len, h, &hl, s->md, NULL), 1);
                assert_int_equal(s->dg[0].len, hl);
                assert_memory_equal(s->dg[0].value, h, hl);
                if (ver == 1)
                    assert_string_equal(s->lds_version, "0108");
                sod_free(s);
                /* the signature verifies; the self-signed signer is no CSCA */
                assert_int_equal(pa_trust_new(&trust, &e), 0);
                chip.sod = sod.data;
                chip.sod_len = sod.len;
                chip.dg[1] = dg1.data;
                chip.dg_len[1] = dg1.len;
                assert_int_equal(passive_auth(&chip, trust, NULL, 1700000000, &report, &valid,
                                              &e), 0);
                assert_false(valid);
                {
                    size_t i;
                    json_t *c;
                    int seen = 0;
                    json_array_foreach(json_object_get(report, "checks"), i, c) {
                        const char *name = json_string_value(json_object_get(c, "check"));
                        bool ok = json_is_true(json_object_get(c, "valid"));
                        if (strcmp(name, "sod_signature") == 0 || strcmp(name, "dg1_hash") == 0) {
                            if (!ok)
                                fail_msg("%s: %s", name,
                                         json_string_value(json_object_get(c, "message")));
                            seen++;
                        }
                        if (strcmp(name, "ds_chain") == 0)
                            assert_false(ok);
                    }
                    assert_int_equal(seen, 2);
                    if (strcmp(keys[k].type, "RSA") == 0)
                        assert_string_equal(json_string_value(json_object_get(
                                                json_object_get(report, "sod"),
                                                "signature_algorithm")),
                                            "rsassaPss");
                }
                json_decref(report);
                pa_trust_free(trust);
                buf_release(&sod);
            }
        X509_free(cert);
        EVP_PKEY_free(key);
    }
    buf_release(&dg1);
}

static void test_sod_parse_rejects(void **state)
{
    struct err e = ERR_INIT;
    struct sod *s = NULL;
    size_t n = 0;
    char *bsi = file_read(CIVREG_TEST_DATA "/icao/bsi-tr03105-5/011D", &n);
    unsigned char *copy;
    (void)state;
    assert_non_null(bsi);
    /* the published BSI specimen parses */
    assert_int_equal(sod_parse((unsigned char *)bsi, n, &s, &e), 0);
    assert_int_equal(s->ndg, 5);
    assert_string_equal(s->md_name, "sha256");
    sod_free(s);
    /* truncated anywhere: refused with a message, never a crash */
    for (size_t cut = 0; cut < n; cut += 7) {
        err_clear(&e);
        assert_int_equal(sod_parse((unsigned char *)bsi, cut, &s, &e), -1);
        assert_true(strlen(err_msg(&e)) > 0);
        assert_null(s);
    }
    copy = malloc(n);
    assert_non_null(copy);
    memcpy(copy, bsi, n);
    copy[0] = 0x76;
    assert_int_equal(sod_parse(copy, n, &s, &e), -1);
    assert_non_null(strstr(err_msg(&e), "expected 77"));
    free(copy);
    free(bsi);
}

/* Every PKI action reaches the event sink inside its transaction: a sink
 * that fails rolls the action back. */
struct sink_log {
    json_t *types;
    bool fail;
};

static int sink(void *ctx, struct db *db, const char *type, const json_t *objects,
                const json_t *data, struct err *err)
{
    struct sink_log *l = ctx;
    (void)db;
    assert_true(json_is_array(objects));
    assert_true(json_array_size(objects) >= 1);
    assert_non_null(json_string_value(json_object_get(json_array_get(objects, 0), "hash")));
    assert_true(json_is_object(data));
    if (l->fail)
        return err_set(err, "sink refused");
    json_array_append_new(l->types, json_string(type));
    return 0;
}

static void test_pki_events(void **state)
{
    char *dir = tmp_dir("pki-events"), data[4200], serial[PKI_SERIAL_MAX], link[PKI_SERIAL_MAX];
    struct err e = ERR_INIT;
    struct pki *p = NULL;
    struct sink_log log = { json_array(), false };
    struct pki_init_opts io = { .country = "UT", .now = time(NULL) };
    struct pki_issue_opts is = { .kind = PKI_KIND_DS, .now = time(NULL) };
    struct chip_package pkg = CHIP_PACKAGE_INIT;
    struct chip_input in = { 0 };
    struct buf crl = BUF_INIT(1 << 20);
    json_t *list = NULL;
    size_t jl = 0, before;
    char *jpeg = file_read(CIVREG_TEST_DATA "/icao/face-120x160.jpg", &jl);
    (void)state;
    assert_non_null(dir);
    assert_int_equal(secret_init(&e), 0);
    snprintf(data, sizeof data, "%s/data", dir);
    assert_int_equal(datadir_init(data, NULL, &e), 0);
    assert_int_equal(pki_open(data, true, &p, &e), 0);
    pki_set_event_sink(p, sink, &log);
    assert_int_equal(pki_init(p, &io, serial, &e), 0);
    assert_int_equal(pki_issue(p, &is, serial, &e), 0);
    in.mrz = specimen_mrz;
    in.photo = (unsigned char *)jpeg;
    in.photo_len = jl;
    in.now = time(NULL);
    assert_int_equal(chip_personalize(p, &in, &pkg, &e), 0);
    chip_package_release(&pkg);
    /* the second chip is signed by the signer the first one cached; a
     * revocation after it is still seen by the next chip */
    assert_int_equal(chip_personalize(p, &in, &pkg, &e), 0);
    chip_package_release(&pkg);
    assert_int_equal(pki_revoke(p, serial, "superseded", time(NULL), &e), 0);
    in.ds_serial = serial;
    assert_int_equal(chip_personalize(p, &in, &pkg, &e), -1);
    assert_non_null(strstr(err_msg(&e), "is revoked"));
    in.ds_serial = NULL;
    assert_int_equal(chip_personalize(p, &in, &pkg, &e), -1);
    assert_non_null(strstr(err_msg(&e), "no active document signer"));
    assert_int_equal(pki_crl_issue(p, 30, time(NULL), &crl, &e), 0);
    assert_int_equal(pki_rollover(p, PKI_ALG_ECDSA_P256, time(NULL), serial, link, &e), 0);
    {
        static const char *const want[] = { "pki.csca.create",  "pki.ds.issue",
                                            "chip.personalize", "chip.personalize",
                                            "pki.revoke",       "pki.crl.issue",
                                            "pki.csca.create",  "pki.link.create" };
        assert_int_equal(json_array_size(log.types), 8);
        for (size_t i = 0; i < 8; i++)
            assert_string_equal(json_string_value(json_array_get(log.types, i)), want[i]);
    }
    /* a refusing sink: the DS is not issued */
    assert_int_equal(pki_list(p, &list, &e), 0);
    before = json_array_size(list);
    json_decref(list);
    log.fail = true;
    assert_int_equal(pki_issue(p, &is, serial, &e), -1);
    assert_non_null(strstr(err_msg(&e), "sink refused"));
    assert_int_equal(pki_list(p, &list, &e), 0);
    assert_int_equal(json_array_size(list), before);
    json_decref(list);
    pki_close(p);
    json_decref(log.types);
    buf_release(&crl);
    free(jpeg);
    tmp_free(&dir);
}

CMOCKA_MAIN(NULL, NULL, test_tlv_decode_strict, test_tlv_roundtrip, test_dg1_specimen,
            test_dg1_formats_and_errors, test_com_dg2_dg11_dg12, test_sod_roundtrip,
            test_sod_parse_rejects, test_pki_events)
