/* issuance/reader unit tests: the ICAO Doc 9303-11 Appendix D worked example
 * of Basic Access Control reproduced byte for byte (key derivation, mutual
 * authentication, session keys, SSC, the first protected APDU and its
 * response), secure messaging both ways (3DES and AES), and the APDU codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bn.h>

#include "core/encode.h"
#include "core/secret.h"
#include "issuance/reader/reader.h"
#include "issuance/reader/reader_int.h"
#include "support/cmocka_main.h"

/* hex -> bytes; fails the test on a malformed literal */
static size_t hx(const char *s, unsigned char *out, size_t max)
{
    size_t n = 0;
    if (hex_decode(s, strlen(s), out, max, &n, NULL) != 0)
        fail_msg("bad hex literal %s", s);
    return n;
}

static void assert_hex(const unsigned char *p, size_t len, const char *want)
{
    unsigned char w[512];
    size_t n = hx(want, w, sizeof w);
    char got[1100];
    hex_encode(p, len, got);
    if (n != len || memcmp(p, w, n) != 0)
        fail_msg("got %s, want %s", got, want);
}

/* Doc 9303-11 Appendix D.2: the MRZ information of the specimen passport */
static void test_bac_mrz_info(void **state)
{
    char info[BAC_MRZ_INFO_MAX + 1];
    struct err e = ERR_INIT;
    (void)state;
    assert_int_equal(bac_mrz_info("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
                                  "L898902C<3UTO6908061F9406236ZE184226B<<<<<14\n",
                                  info, &e),
                     0);
    assert_string_equal(info, "L898902C<369080619406236");
    /* TD1: the document number is on line 1, the dates on line 2 */
    assert_int_equal(bac_mrz_info("I<UTOD231458907<<<<<<<<<<<<<<<\n"
                                  "7408122F1204159UTO<<<<<<<<<<<6\n"
                                  "ERIKSSON<<ANNA<MARIA<<<<<<<<<<\n",
                                  info, &e),
                     0);
    assert_string_equal(info, "D23145890774081221204159");
    /* a wrong check digit is refused before any radio traffic */
    assert_int_equal(bac_mrz_info("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
                                  "L898902C<4UTO6908061F9406236ZE184226B<<<<<14\n",
                                  info, &e),
                     -1);
    assert_non_null(strstr(err_msg(&e), "document number"));
}

/* Appendix D.2 / D.3: K_seed, K_Enc, K_MAC */
static void test_bac_keys(void **state)
{
    unsigned char seed[16], kenc[16], kmac[16];
    struct err e = ERR_INIT;
    (void)state;
    assert_int_equal(bac_keys("L898902C<369080619406236", seed, kenc, kmac, &e), 0);
    assert_hex(seed, 16, "239AB9CB282DAF66231DC5A4DF6BFBAE");
    assert_hex(kenc, 16, "AB94FDECF2674FDFB9B391F85D7F76F2");
    assert_hex(kmac, 16, "7962D9ECE03D1ACD4C76089DCE131543");
}

/* Appendix D.3: mutual authentication, both sides, and the session keys */
static void test_bac_mutual_auth(void **state)
{
    unsigned char seed[16], kenc[16], kmac[16], rnd_icc[8], rnd_ifd[8], k_ifd[16], k_icc[16];
    unsigned char cmd[40], resp[40];
    struct sm_ctx ifd, icc;
    struct err e = ERR_INIT;
    (void)state;
    assert_int_equal(bac_keys("L898902C<369080619406236", seed, kenc, kmac, &e), 0);
    hx("4608F91988702212", rnd_icc, 8);
    hx("781723860C06C226", rnd_ifd, 8);
    hx("0B795240CB7049B01C19B33E32804F0B", k_ifd, 16);
    hx("0B4F80323EB3191CB04970CB4052790B", k_icc, 16);
    assert_int_equal(bac_ifd_command(kenc, kmac, rnd_icc, rnd_ifd, k_ifd, cmd, &e), 0);
    assert_hex(cmd, 40, "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"
                        "5F1448EEA8AD90A7");
    assert_int_equal(bac_icc_answer(kenc, kmac, rnd_icc, k_icc, cmd, resp, &icc, &e), 0);
    assert_hex(resp, 40, "46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F"
                         "2F2D235D074D7449");
    assert_int_equal(bac_ifd_finish(kenc, kmac, rnd_icc, rnd_ifd, k_ifd, resp, &ifd, &e), 0);
    assert_hex(ifd.enc, 16, "979EC13B1CBFE9DCD01AB0FED307EAE5");
    assert_hex(ifd.mac, 16, "F1CB1F1FB5ADF208806B89DC579DC1F8");
    assert_hex(ifd.ssc, 8, "887022120C06C226");
    assert_memory_equal(&ifd, &icc, sizeof ifd);

    /* a flipped bit in M_IFD: the chip refuses; another RND.ICC: refused */
    cmd[39] ^= 1;
    assert_int_equal(bac_icc_answer(kenc, kmac, rnd_icc, k_icc, cmd, resp, &icc, &e), -1);
    cmd[39] ^= 1;
    rnd_icc[0] ^= 1;
    assert_int_equal(bac_icc_answer(kenc, kmac, rnd_icc, k_icc, cmd, resp, &icc, &e), -1);
    /* keys of another MRZ: the MAC does not verify */
    assert_int_equal(bac_keys("L898902C<369080619406245", seed, kenc, kmac, &e), 0);
    rnd_icc[0] ^= 1;
    assert_int_equal(bac_icc_answer(kenc, kmac, rnd_icc, k_icc, cmd, resp, &icc, &e), -1);
}

/* Appendix D.4: SELECT EF.COM protected with SSC 887022120C06C227 and the
 * chip's answer checked with SSC ...C228 */
static void test_bac_first_protected_apdu(void **state)
{
    unsigned char ksenc[16], ksmac[16], ssc[8], resp[64];
    static const unsigned char fid[2] = { 0x01, 0x1E };
    struct sm_ctx ifd, icc;
    struct buf out = BUF_INIT(APDU_MAX), data = BUF_INIT(RESP_MAX), plain = BUF_INIT(APDU_MAX);
    struct apdu sel = { .cla = 0x00, .ins = 0xA4, .p1 = 0x02, .p2 = 0x0C, .data = fid, .lc = 2 };
    struct apdu got, opened;
    unsigned sw = 0;
    size_t rl;
    struct err e = ERR_INIT;
    (void)state;
    hx("979EC13B1CBFE9DCD01AB0FED307EAE5", ksenc, 16);
    hx("F1CB1F1FB5ADF208806B89DC579DC1F8", ksmac, 16);
    hx("887022120C06C226", ssc, 8);
    sm_init(&ifd, SM_3DES, ksenc, ksmac, ssc, 8);
    sm_init(&icc, SM_3DES, ksenc, ksmac, ssc, 8);
    assert_int_equal(sm_wrap_command(&ifd, &sel, &out, &e), 0);
    assert_hex(ifd.ssc, 8, "887022120C06C227");
    assert_hex(out.data, out.len, "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800");

    /* the chip opens it with its own copy of the session */
    assert_int_equal(apdu_parse(out.data, out.len, &got, &e), 0);
    assert_int_equal(sm_unwrap_command(&icc, &got, &plain, &opened, &e), 0);
    assert_int_equal(opened.ins, 0xA4);
    assert_int_equal(opened.lc, 2);
    assert_memory_equal(opened.data, fid, 2);

    /* the chip's answer from the worked example */
    rl = hx("990290008E08FA855A5D4C50A8ED9000", resp, sizeof resp);
    assert_int_equal(sm_unwrap_response(&ifd, resp, rl, &data, &sw, &e), 0);
    assert_hex(ifd.ssc, 8, "887022120C06C228");
    assert_int_equal(sw, 0x9000);
    assert_int_equal(data.len, 0);
    /* our chip's own wrapping gives the same bytes */
    buf_reset(&out);
    assert_int_equal(sm_wrap_response(&icc, NULL, 0, 0x9000, &out, &e), 0);
    assert_hex(out.data, out.len, "990290008E08FA855A5D4C50A8ED9000");

    /* replay of the same response: the SSC moved on, the MAC fails */
    assert_int_equal(sm_unwrap_response(&ifd, resp, rl, &data, &sw, &e), -1);
    assert_non_null(strstr(err_msg(&e), "MAC"));
    buf_release(&out);
    buf_release(&data);
    buf_release(&plain);
}

/* READ BINARY both ways with data, 3DES and AES-128/256; a flipped bit in
 * any byte of a protected response or command is refused. */
static void roundtrip(enum sm_cipher cipher)
{
    unsigned char k1[32], k2[32], payload[300];
    struct sm_ctx ifd, icc;
    struct buf cmd = BUF_INIT(APDU_MAX), resp = BUF_INIT(RESP_MAX), data = BUF_INIT(RESP_MAX),
               plain = BUF_INIT(APDU_MAX);
    struct apdu rb = { .ins = 0xB0, .p1 = 0x00, .p2 = 0x10, .le_present = true, .le = 0xDF };
    struct apdu got, opened;
    unsigned sw;
    struct err e = ERR_INIT;

    for (size_t i = 0; i < sizeof k1; i++) {
        k1[i] = (unsigned char)(i * 7 + 1);
        k2[i] = (unsigned char)(i * 13 + 5);
    }
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (unsigned char)i;
    sm_init(&ifd, cipher, k1, k2, NULL, 0);
    sm_init(&icc, cipher, k1, k2, NULL, 0);
    for (int round = 0; round < 3; round++) {
        buf_reset(&cmd);
        buf_reset(&resp);
        assert_int_equal(sm_wrap_command(&ifd, &rb, &cmd, &e), 0);
        assert_int_equal(apdu_parse(cmd.data, cmd.len, &got, &e), 0);
        assert_int_equal(sm_unwrap_command(&icc, &got, &plain, &opened, &e), 0);
        assert_int_equal(opened.le, 0xDF);
        assert_int_equal(opened.p2, 0x10);
        assert_int_equal(sm_wrap_response(&icc, payload, opened.le, 0x9000, &resp, &e), 0);
        assert_int_equal(sm_unwrap_response(&ifd, resp.data, resp.len, &data, &sw, &e), 0);
        assert_int_equal(sw, 0x9000);
        assert_int_equal(data.len, 0xDF);
        assert_memory_equal(data.data, payload, 0xDF);
    }
    /* tamper: every byte of the response body in turn */
    buf_reset(&cmd);
    buf_reset(&resp);
    assert_int_equal(sm_wrap_command(&ifd, &rb, &cmd, &e), 0);
    assert_int_equal(apdu_parse(cmd.data, cmd.len, &got, &e), 0);
    assert_int_equal(sm_unwrap_command(&icc, &got, &plain, &opened, &e), 0);
    assert_int_equal(sm_wrap_response(&icc, payload, 8, 0x9000, &resp, &e), 0);
    for (size_t i = 0; i + 2 < resp.len; i++) {
        struct sm_ctx copy = ifd;
        resp.data[i] ^= 0x01;
        assert_int_equal(sm_unwrap_response(&copy, resp.data, resp.len, &data, &sw, &e), -1);
        resp.data[i] ^= 0x01;
    }
    /* tamper: a command byte (P2) after the MAC was computed */
    buf_reset(&cmd);
    assert_int_equal(sm_wrap_command(&ifd, &rb, &cmd, &e), 0);
    cmd.data[3] ^= 0x01;
    assert_int_equal(apdu_parse(cmd.data, cmd.len, &got, &e), 0);
    assert_int_equal(sm_unwrap_command(&icc, &got, &plain, &opened, &e), -1);
    assert_non_null(strstr(err_msg(&e), "wrong MAC"));
    buf_release(&cmd);
    buf_release(&resp);
    buf_release(&data);
    buf_release(&plain);
}

static void test_sm_roundtrip_3des(void **state)
{
    (void)state;
    roundtrip(SM_3DES);
}

static void test_sm_roundtrip_aes(void **state)
{
    (void)state;
    roundtrip(SM_AES128);
    roundtrip(SM_AES256);
}

static void test_apdu_codec(void **state)
{
    static const struct {
        const char *hex;
        size_t lc, le;
        bool le_present, ok;
    } cases[] = {
        { "00A4040C", 0, 0, false, true },
        { "0084000008", 0, 8, true, true },
        { "00B0000000", 0, 256, true, true },
        { "00A4020C02011E", 2, 0, false, true },
        { "00A4020C02011E00", 2, 256, true, true },
        { "00B00000000000", 0, 65536, true, true },
        { "00B00000000400", 0, 1024, true, true },
        { "00820000000002AABB0028", 2, 40, true, true },
        { "00A4020C03011E", 0, 0, false, false },    /* Lc beyond the data */
        { "00A4", 0, 0, false, false },              /* no header */
        { "00B000000000", 0, 0, false, false },      /* truncated extended */
        { "008200000000000000", 0, 0, false, false }, /* extended Lc 0 */
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char b[64];
        size_t n = hx(cases[i].hex, b, sizeof b);
        struct apdu a;
        struct buf re = BUF_INIT(APDU_MAX);
        struct err e = ERR_INIT;
        int r = apdu_parse(b, n, &a, &e);
        if (!cases[i].ok) {
            if (r == 0)
                fail_msg("%s accepted", cases[i].hex);
            continue;
        }
        if (r != 0)
            fail_msg("%s refused: %s", cases[i].hex, err_msg(&e));
        assert_int_equal(a.lc, cases[i].lc);
        assert_int_equal(a.le_present, cases[i].le_present);
        assert_int_equal(a.le, cases[i].le);
        assert_int_equal(apdu_encode(&a, &re, &e), 0);
        assert_hex(re.data, re.len, cases[i].hex);
        buf_release(&re);
    }
}

/* What a PACE run gives once both sides share the mapped generator G': each
 * side's ephemeral key pair (from a fixed private key), the shared secret,
 * K_Enc/K_MAC and the two authentication tokens, as a worked example lists them */
struct pace_session_want {
    const char *pcd_priv, *pcd_eph, *picc_priv, *picc_eph, *k, *kenc, *kmac, *t_pcd, *t_picc;
};

struct pace_session {
    unsigned char pcd_eph[PACE_PT_MAX], picc_eph[PACE_PT_MAX], kmac[16];
    size_t l_pcd, l_picc;
};

/* Runs the steps after the mapping on both sides (im: tokens over the
 * integrated mapping's OID) and checks each value against the example;
 * out receives both ephemeral public keys and K_MAC */
static void check_pace_session(struct pace_ec *pcd, struct pace_ec *picc, bool im,
                               const struct pace_session_want *w, struct pace_session *out)
{
    unsigned char k[66], k2[66], kenc[16], tok[8];
    size_t kl, kl2;
    struct err e = ERR_INIT;
    /* ephemeral key pairs on G' */
    assert_int_equal(pace_ec_keypair(pcd, w->pcd_priv, out->pcd_eph, &out->l_pcd, &e), 0);
    assert_hex(out->pcd_eph, out->l_pcd, w->pcd_eph);
    assert_int_equal(pace_ec_keypair(picc, w->picc_priv, out->picc_eph, &out->l_picc, &e), 0);
    assert_hex(out->picc_eph, out->l_picc, w->picc_eph);
    /* the shared secret, equal on both sides, and the session keys */
    assert_int_equal(pace_ec_shared(pcd, out->picc_eph, out->l_picc, k, &kl, &e), 0);
    assert_int_equal(pace_ec_shared(picc, out->pcd_eph, out->l_pcd, k2, &kl2, &e), 0);
    assert_hex(k, kl, w->k);
    assert_memory_equal(k, k2, kl);
    assert_int_equal(sm_kdf(SM_AES128, k, kl, 1, kenc, &e), 0);
    assert_int_equal(sm_kdf(SM_AES128, k, kl, 2, out->kmac, &e), 0);
    assert_hex(kenc, 16, w->kenc);
    assert_hex(out->kmac, 16, w->kmac);
    /* authentication tokens over the other side's ephemeral public key */
    assert_int_equal(pace_token(im, out->kmac, out->picc_eph, out->l_picc, tok, &e), 0);
    assert_hex(tok, 8, w->t_pcd);
    assert_int_equal(pace_token(im, out->kmac, out->pcd_eph, out->l_pcd, tok, &e), 0);
    assert_hex(tok, 8, w->t_picc);
}

/* Doc 9303-11 Appendix G.1: PACE, ECDH generic mapping on brainpoolP256r1
 * with the MRZ password of the worked example, both sides */
static void test_pace_worked_example(void **state)
{
    unsigned char kpi[16], z[16], s[16], pub[PACE_PT_MAX], pcd_map[PACE_PT_MAX],
        picc_map[PACE_PT_MAX], k[66];
    size_t pl, l_pcd_map, l_picc_map, kl;
    struct pace_session ses;
    struct pace_ec *pcd = NULL, *picc = NULL;
    struct sm_ctx c;
    struct err e = ERR_INIT;
    (void)state;
    assert_int_equal(pace_kpi("T22000129364081251010318", true, kpi, &e), 0);
    assert_hex(kpi, 16, "89DED1B26624EC1E634C1989302849DD");
    /* the chip encrypts its nonce s with K_pi (AES-128-CBC, IV 0) */
    hx("3F00C4D39D153F2B2A214A078D899B22", s, 16);
    sm_init(&c, SM_AES128, kpi, kpi, NULL, 0);
    assert_int_equal(sm_cbc(&c, true, true, s, 16, z, &e), 0);
    assert_hex(z, 16, "95A3A016522EE98D01E76CB6B98B42C3");
    assert_int_equal(sm_cbc(&c, false, true, z, 16, s, &e), 0);
    assert_hex(s, 16, "3F00C4D39D153F2B2A214A078D899B22");

    assert_int_equal(pace_ec_new(13, &pcd, &e), 0);
    assert_int_equal(pace_ec_new(13, &picc, &e), 0);
    /* mapping key pairs */
    assert_int_equal(pace_ec_keypair(pcd, "7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99",
                                     pcd_map, &l_pcd_map, &e), 0);
    assert_hex(pcd_map, l_pcd_map,
               "04" "7ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E"
               "544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D");
    assert_int_equal(pace_ec_keypair(picc, "498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560",
                                     picc_map, &l_picc_map, &e), 0);
    assert_hex(picc_map, l_picc_map,
               "04" "824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57"
               "30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54");
    /* G' on both sides */
    assert_int_equal(pace_ec_map(pcd, s, 16, picc_map, l_picc_map, &e), 0);
    assert_int_equal(pace_ec_map(picc, s, 16, pcd_map, l_pcd_map, &e), 0);
    check_pace_session(pcd, picc, false, &(const struct pace_session_want){
        .pcd_priv = "A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595",
        .pcd_eph = "04" "2DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C"
                   "3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462",
        .picc_priv = "107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A",
        .picc_eph = "04" "9E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"
                    "7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094",
        .k = "28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925",
        .kenc = "F5F0E35C0D7161EE6724EE513A0D9A7F",
        .kmac = "FE251C7858B356B24514B3BD5F4297D1",
        .t_pcd = "C2B0BD78D94BA866",
        .t_picc = "3ABB9674BCE93C08",
    }, &ses);
    /* a point off the curve is refused */
    memcpy(pub, ses.picc_eph, ses.l_picc);
    pl = ses.l_picc;
    pub[pl - 1] ^= 1;
    assert_int_equal(pace_ec_shared(pcd, pub, pl, k, &kl, &e), -1);
    pace_ec_free(pcd);
    pace_ec_free(picc);
}

/* Doc 9303-11 worked example of PACE with the integrated mapping (Appendix
 * H.1: ECDH, brainpoolP256r1, id-PACE-ECDH-IM-AES-CBC-CMAC-128, CAN 123456):
 * K_pi, nonces s and t, the
 * pseudo-random function R(s,t), R_p, the mapped generator f_G(R_p), the
 * ephemeral keys on it, the shared secret, K_Enc/K_MAC and both tokens. */
static void test_pace_im_worked_example(void **state)
{
    unsigned char kpi[16], z[16], s[16], t[16], x[48], g[PACE_PT_MAX], tok[8], rp[32];
    size_t gl;
    struct pace_session ses;
    struct pace_ec *pcd = NULL, *picc = NULL;
    struct sm_ctx c;
    struct err e = ERR_INIT;
    BIGNUM *r, *p;
    BN_CTX *bn = BN_CTX_new();
    (void)state;
    /* K_pi from the example's CAN decrypts the chip's encrypted nonce z to s */
    assert_int_equal(pace_kpi("123456", false, kpi, &e), 0);
    assert_hex(kpi, 16, "591468CDA83D65219CCCB8560233600F");
    hx("143DC40C08C8E891FBED7DEDB92B64AD", z, 16);
    sm_init(&c, SM_AES128, kpi, kpi, NULL, 0);
    assert_int_equal(sm_cbc(&c, false, true, z, 16, s, &e), 0);
    sm_wipe(&c);
    assert_hex(s, 16, "2923BE84E16CD6AE529049F1F1BBE9EB");
    /* R(s,t): three AES blocks for a 256-bit prime */
    hx("5DD4CBFC96F5453B130D890A1CDBAE32", t, 16);
    assert_int_equal(pace_im_prf(s, t, 3, x, &e), 0);
    assert_hex(x, 48, "E4447E2DFB3586BAC05DDB00156B57FBB2179A3949294C97254189800C517BAA"
                      "8DA0FF397ED8C445D3E421E4FEB57322");
    r = BN_bin2bn(x, 48, NULL);
    p = BN_new();
    assert_non_null(r);
    assert_non_null(p);
    assert_int_equal(BN_hex2bn(&p, "A9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5377"), 64);
    assert_non_null(bn);
    assert_int_equal(BN_mod(r, r, p, bn), 1);
    assert_int_equal(BN_bn2binpad(r, rp, 32), 32);
    assert_hex(rp, 32, "A2F8FF2DF50E52C6599F386ADCB595D229F6A167ADE2BE5F2C3296ADD5B7430E");
    BN_free(r);
    BN_free(p);
    BN_CTX_free(bn);
    /* the mapped generator G' = f_G(R_p(s,t)), the same on both sides */
    assert_int_equal(pace_ec_new(13 | RD_PACE_IM, &pcd, &e), 0);
    assert_int_equal(pace_ec_new(13 | RD_PACE_IM, &picc, &e), 0);
    assert_int_equal(pace_ec_map_im(pcd, s, t, &e), 0);
    assert_int_equal(pace_ec_map_im(picc, s, t, &e), 0);
    assert_int_equal(pace_ec_generator(pcd, g, &gl, &e), 0);
    assert_hex(g, gl, "04" "8E82D31559ED0FDE92A4D0498ADD3C23BABA94FB77691E31E90AEA77FB17D427"
                      "4C1AE14BD0C3DBAC0C871B7F3608169364437CA30AC243A089D3F266C1E60FAD");
    /* ephemeral key pairs on G', the session keys, tokens over the integrated mapping's OID */
    check_pace_session(pcd, picc, true, &(const struct pace_session_want){
        .pcd_priv = "A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595",
        .pcd_eph = "04" "89CBA23FFE96AA18D824627C3E934E54A9FD0B87A95D1471DC1C0ABFDCD640D4"
                   "6755DE9B7B778280B6BEBD57439ADFEB0E21FD4ED6DF42578C13418A59B34C37",
        .picc_priv = "107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A",
        .picc_eph = "04" "67F78E5F7F7686082B293E8D087E056916D0F74BC01A5F8957D0DE45691E51E8"
                    "932B69A962B52A0985AD2C0A271EE6A13A8ADDDCD1A3A994B9DED257F4D22753",
        .k = "4F150FDE1D4F0E38E95017B891BAE17133A0DF45B0D3E18B60BA7BEAFDC2C713",
        .kenc = "0D3FEB33251A6370893D62AE8DAAF51B",
        .kmac = "B01E89E3D9E8719E586B50B4A7506E0B",
        .t_pcd = "450F02B86F6A0909",
        .t_picc = "75D4D96E8D5B0308",
    }, &ses);
    /* the generic mapping's OID gives another token */
    assert_int_equal(pace_token(false, ses.kmac, ses.pcd_eph, ses.l_pcd, tok, &e), 0);
    assert_true(memcmp(tok, "\x75\xD4\xD9\x6E\x8D\x5B\x03\x08", 8) != 0);
    pace_ec_free(pcd);
    pace_ec_free(picc);
}

/* f_G on random nonces: each mapped generator is a point of the curve
 * (pace_ec_map_im checks it; the encoding's two branches, X2 and X3, are each
 * met among 64 nonces but for a chance of 2^-64), and the mapping depends on t. */
static void test_pace_im_random(void **state)
{
    unsigned char s[16], t[16], g[PACE_PT_MAX], g2[PACE_PT_MAX];
    size_t gl, gl2;
    struct err e = ERR_INIT;
    int id, i;
    (void)state;
    for (id = 12; id <= 13; id++)
        for (i = 0; i < 64; i++) {
            struct pace_ec *a = NULL, *b = NULL;
            secret_random(s, sizeof s);
            secret_random(t, sizeof t);
            assert_int_equal(pace_ec_new(id | RD_PACE_IM, &a, &e), 0);
            assert_int_equal(pace_ec_new(id | RD_PACE_IM, &b, &e), 0);
            assert_int_equal(pace_ec_map_im(a, s, t, &e), 0);
            t[0] ^= 1;
            assert_int_equal(pace_ec_map_im(b, s, t, &e), 0);
            assert_int_equal(pace_ec_generator(a, g, &gl, &e), 0);
            assert_int_equal(pace_ec_generator(b, g2, &gl2, &e), 0);
            assert_int_equal(gl, 65);
            assert_true(memcmp(g, g2, gl) != 0);
            pace_ec_free(a);
            pace_ec_free(b);
        }
}

static void test_pace_card_access(void **state)
{
    struct buf b = BUF_INIT(256);
    struct err e = ERR_INIT;
    int id = 0;
    (void)state;
    assert_int_equal(pace_card_access(13, &b, &e), 0);
    assert_hex(b.data, b.len, "3114301206" "0A04007F0007020204020202010202010D");
    assert_int_equal(pace_card_access_parse(b.data, b.len, &id, &e), 0);
    assert_int_equal(id, 13);
    b.data[b.len - 1] = 0x0A; /* an unsupported parameter id: no PACE we speak */
    assert_int_equal(pace_card_access_parse(b.data, b.len, &id, &e), 1);
    buf_release(&b);
}

/* Chip Authentication with fixed keys (brainpoolP256r1): the expected values
 * were computed independently (Python `cryptography`: ECDH, then SHA-1 of
 * K || counter): both sides derive the same K_Enc and K_MAC from
 * x(SK * PK_other), and the send sequence counter starts again at zero. */
static void test_ca_fixed_keys(void **state)
{
    static const char sk_chip[] = "7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99";
    static const char sk_term[] = "1BD0D76D8E4EA9FD8A1D4C28E4B5D1AB6E4CEA2D33C56B08A56B2FC2A1B6E6E8";
    static const char pk_chip[] = "047ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E"
                                  "544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D";
    static const char pk_term[] = "047541A7D9823F64EFFB6B55FD4A513EC04F2871E02EECA287FD97FFB65AE8C198"
                                  "14B8B69F4631B059205FD2C7B61D131F6F63D940FD8C6C1293FCDFAE17E201C7";
    unsigned char pc[65], pt[65], pub[PACE_PT_MAX], zero[16] = { 0 }, k16[16] = { 1 };
    unsigned char ssc[16];
    size_t pl = 0;
    struct sm_ctx chip, term;
    struct err e = ERR_INIT;
    struct buf cmd = BUF_INIT(APDU_MAX), plain = BUF_INIT(APDU_MAX);
    struct apdu in, out;
    const struct apdu sel = { .ins = 0xA4, .p1 = 0x02, .p2 = 0x0C,
                              .data = (const unsigned char *)"\x01\x1E", .lc = 2 };
    (void)state;

    assert_int_equal(hx(pk_chip, pc, sizeof pc), 65);
    assert_int_equal(hx(pk_term, pt, sizeof pt), 65);
    /* sessions that have run for a while: counters far from zero */
    memset(ssc, 0x5A, sizeof ssc);
    sm_init(&chip, SM_AES128, k16, k16, ssc, 16);
    sm_init(&term, SM_AES128, k16, k16, ssc, 16);
    /* the chip: its static key, the terminal's ephemeral key */
    assert_int_equal(ca_keys(13, sk_chip, pt, sizeof pt, pub, &pl, &chip, &e), 0);
    assert_int_equal(pl, 65);
    assert_memory_equal(pub, pc, 65);
    assert_hex(chip.enc, 16, "2EC95E1B05BDE8FD83341A1FAED635A3");
    assert_hex(chip.mac, 16, "6935A272233C5F24425D76E49CDC6AA5");
    assert_memory_equal(chip.ssc, zero, 16);
    assert_int_equal(chip.cipher, SM_AES128);
    /* the terminal: its ephemeral key, DG14's public key */
    assert_int_equal(ca_keys(13, sk_term, pc, sizeof pc, pub, &pl, &term, &e), 0);
    assert_memory_equal(pub, pt, 65);
    assert_memory_equal(term.enc, chip.enc, 16);
    assert_memory_equal(term.mac, chip.mac, 16);
    assert_memory_equal(term.ssc, zero, 16);
    /* the first protected command after re-keying carries SSC 1 */
    assert_int_equal(sm_wrap_command(&term, &sel, &cmd, &e), 0);
    assert_int_equal(term.ssc[15], 1);
    assert_int_equal(apdu_parse(cmd.data, cmd.len, &in, &e), 0);
    assert_int_equal(sm_unwrap_command(&chip, &in, &plain, &out, &e), 0);
    assert_int_equal(out.lc, 2);
    assert_memory_equal(out.data, "\x01\x1E", 2);
    /* a chip that kept the old counter (not re-keyed) refuses it */
    sm_init(&chip, SM_AES128, term.enc, term.mac, ssc, 16);
    assert_int_equal(sm_unwrap_command(&chip, &in, &plain, &out, &e), -1);
    /* a peer key off the curve, or our own key sent back, is refused */
    pt[64] ^= 0x01;
    assert_int_equal(ca_keys(13, sk_chip, pt, sizeof pt, pub, &pl, &chip, &e), -1);
    assert_int_equal(ca_keys(13, sk_chip, pc, sizeof pc, pub, &pl, &chip, &e), -1);
    sm_wipe(&chip);
    sm_wipe(&term);
    buf_release(&cmd);
    buf_release(&plain);
}

CMOCKA_MAIN(NULL, NULL, test_bac_mrz_info, test_bac_keys, test_bac_mutual_auth,
            test_bac_first_protected_apdu, test_sm_roundtrip_3des, test_sm_roundtrip_aes,
            test_apdu_codec, test_pace_worked_example, test_pace_im_worked_example,
            test_pace_im_random, test_pace_card_access, test_ca_fixed_keys)
