/* civreg issuance/reader: internals shared by the reader (inspection system)
 * and the virtual chip: APDUs, secure messaging, BAC (ICAO Doc 9303-11).
 *
 * Everything that reads bytes from the other side treats them as hostile:
 * lengths are bounded, every data object is checked, MACs are compared in
 * constant time before anything is decrypted.
 */
#ifndef CIVREG_READER_INT_H
#define CIVREG_READER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

/* Largest APDU either side builds or accepts (extended length, 64 KiB data
 * plus headers and secure-messaging objects). */
#define APDU_MAX (65536 + 64)
#define RESP_MAX (65536 + 64)

/* ---- command APDUs (ISO/IEC 7816-3/-4, short and extended) */
struct apdu {
    unsigned char cla, ins, p1, p2;
    const unsigned char *data; /* Lc bytes, borrowed; NULL when Lc absent */
    size_t lc;
    size_t le;                 /* expected length; 0 = no Le field */
    bool le_present;           /* Le present (le 0 with le_present = 256 / 65536) */
    bool extended;
};

/* Parse LEN bytes of a command APDU (all four cases, short or extended).
 * A Le of 00 (0000 extended) means 256 (65536): le holds that number. */
int apdu_parse(const unsigned char *p, size_t len, struct apdu *out, struct err *err)
    __attribute__((warn_unused_result));
/* Encode A into OUT (extended when Lc > 255 or Le > 256, or A->extended). */
int apdu_encode(const struct apdu *a, struct buf *out, struct err *err)
    __attribute__((warn_unused_result));

/* ---- secure messaging (Doc 9303-11 §9.8) */
enum sm_cipher { SM_NONE = 0, SM_3DES, SM_AES128, SM_AES192, SM_AES256 };

struct sm_ctx {
    enum sm_cipher cipher;
    unsigned char enc[32], mac[32];
    size_t klen;             /* 16 (3DES, AES-128), 24, 32 */
    unsigned char ssc[16];   /* send sequence counter, bs bytes */
    size_t bs;               /* block size: 8 (3DES) or 16 (AES) */
};

/* Doc 9303-11 §9.7.1: key derivation KDF(K, c) from a shared secret for
 * CIPHER (SHA-1 for 3DES and AES-128, SHA-256 for AES-192/256); 3DES keys
 * get DES parity. OUT gets the key length of CIPHER (16, 24 or 32). */
int sm_kdf(enum sm_cipher cipher, const unsigned char *secret, size_t len, uint32_t counter,
           unsigned char *out, struct err *err) __attribute__((warn_unused_result));
size_t sm_key_len(enum sm_cipher cipher);
void sm_des_parity(unsigned char *k, size_t len);

/* Set up a context: keys from K_Enc/K_MAC, SSC of SSC_LEN bytes (8 for 3DES,
 * 16 for AES; a shorter SSC is right-aligned, 0 means all zero). */
void sm_init(struct sm_ctx *c, enum sm_cipher cipher, const unsigned char *kenc,
             const unsigned char *kmac, const unsigned char *ssc, size_t ssc_len);
void sm_wipe(struct sm_ctx *c);

/* ISO/IEC 9797-1 padding method 2 to the block size. */
int sm_pad(struct buf *b, size_t bs) __attribute__((warn_unused_result));
/* Strip padding method 2 from P (*LEN updated); -1 when malformed. */
int sm_unpad(const unsigned char *p, size_t *len);

/* MAC of already padded bytes: retail MAC (ISO/IEC 9797-1 MAC algorithm 3,
 * DES) for 3DES, AES-CMAC truncated to 8 bytes for AES. */
int sm_mac(const struct sm_ctx *c, const unsigned char *p, size_t len, unsigned char mac[8],
           struct err *err) __attribute__((warn_unused_result));
/* CBC over whole blocks with the encryption key: IV zero for 3DES, E(K, SSC)
 * for AES (or zero when ZERO_IV, as in BAC and PACE nonce encryption). */
int sm_cbc(const struct sm_ctx *c, bool encrypt, bool zero_iv, const unsigned char *in,
           size_t len, unsigned char *out, struct err *err) __attribute__((warn_unused_result));

/* Inspection-system side: protect command A into OUT (SSC incremented). */
int sm_wrap_command(struct sm_ctx *c, const struct apdu *a, struct buf *out, struct err *err)
    __attribute__((warn_unused_result));
/* Inspection-system side: check and open a protected response (data + SW)
 * of LEN bytes: SSC incremented, MAC checked, DO87 decrypted into DATA,
 * *SW from DO99. -1 (session over) on any defect. */
int sm_unwrap_response(struct sm_ctx *c, const unsigned char *resp, size_t len,
                       struct buf *data, unsigned *sw, struct err *err)
    __attribute__((warn_unused_result));

/* Chip side: check and open a protected command (SSC incremented, MAC
 * checked in constant time, DO87 decrypted into PLAIN, DO97 into Le): *OUT
 * is the plain command whose data points into PLAIN. */
int sm_unwrap_command(struct sm_ctx *c, const struct apdu *in, struct buf *plain,
                      struct apdu *out, struct err *err) __attribute__((warn_unused_result));
/* Chip side: protect response DATA with status word SW into OUT. */
int sm_wrap_response(struct sm_ctx *c, const unsigned char *data, size_t len, unsigned sw,
                     struct buf *out, struct err *err) __attribute__((warn_unused_result));

/* ---- BAC (Doc 9303-11 §4.3) */
#define BAC_MRZ_INFO_MAX 40

/* The MRZ information of BAC from printed MRZ lines (TD1, TD2, TD3):
 * document number + check digit + date of birth + check digit + date of
 * expiry + check digit. A document number longer than 9 characters (TD1,
 * TD2 with '<' in the check digit position) continues in the optional data. */
int bac_mrz_info(const char *mrz, char out[BAC_MRZ_INFO_MAX + 1], struct err *err)
    __attribute__((warn_unused_result));
/* K_seed = SHA-1(MRZ information)[0..15]; K_Enc, K_MAC from it. */
int bac_keys(const char *mrz_info, unsigned char kseed[16], unsigned char kenc[16],
             unsigned char kmac[16], struct err *err) __attribute__((warn_unused_result));
/* Inspection system: EXTERNAL AUTHENTICATE data E_IFD || M_IFD (40 bytes). */
int bac_ifd_command(const unsigned char kenc[16], const unsigned char kmac[16],
                    const unsigned char rnd_icc[8], const unsigned char rnd_ifd[8],
                    const unsigned char k_ifd[16], unsigned char out[40], struct err *err)
    __attribute__((warn_unused_result));
/* Inspection system: check the chip's answer (E_IC || M_IC) and derive the
 * session (KS_Enc, KS_MAC, SSC) into SM. */
int bac_ifd_finish(const unsigned char kenc[16], const unsigned char kmac[16],
                   const unsigned char rnd_icc[8], const unsigned char rnd_ifd[8],
                   const unsigned char k_ifd[16], const unsigned char resp[40],
                   struct sm_ctx *sm, struct err *err) __attribute__((warn_unused_result));
/* Chip: check the inspection system's command against RND.ICC and answer
 * with K_ICC; derive the session into SM. -1 = authentication failed. */
int bac_icc_answer(const unsigned char kenc[16], const unsigned char kmac[16],
                   const unsigned char rnd_icc[8], const unsigned char k_icc[16],
                   const unsigned char cmd[40], unsigned char resp[40], struct sm_ctx *sm,
                   struct err *err) __attribute__((warn_unused_result));

/* ---- status words */
#define SW_OK 0x9000u
#define SW_WRONG_LENGTH 0x6700u
#define SW_SECURITY_STATUS 0x6982u
#define SW_AUTH_FAILED 0x6300u
#define SW_SM_MISSING 0x6987u
#define SW_SM_WRONG 0x6988u
#define SW_FILE_NOT_FOUND 0x6A82u
#define SW_WRONG_P1P2 0x6B00u
#define SW_INS_UNKNOWN 0x6D00u
#define SW_CLA_UNKNOWN 0x6E00u
#define SW_WRONG_DATA 0x6A80u
#define SW_CONDITIONS 0x6985u
#define SW_END_OF_FILE 0x6282u



/* ---- PACE, generic mapping over ECDH (Doc 9303-11 §4.4, worked example
 * in Appendix G.1). Both sides use the same steps. */
#define PACE_OID_ECDH_GM_AES128_LEN 10
extern const unsigned char pace_oid_ecdh_gm_aes128[PACE_OID_ECDH_GM_AES128_LEN];
extern const unsigned char pace_oid_ecdh_im_aes128[PACE_OID_ECDH_GM_AES128_LEN];
#define PACE_PT_MAX 133 /* uncompressed point on a curve up to 521 bits */

struct pace_ec; /* curve, generator (mapped once), own key pairs */

/* K_pi (AES-128) from the password: MRZ = MRZ information (SHA-1 first),
 * CAN = the digits. */
int pace_kpi(const char *password, bool mrz, unsigned char kpi[16], struct err *err)
    __attribute__((warn_unused_result));
/* PARAM_ID: 12 = NIST P-256, 13 = brainpoolP256r1 (Doc 9303-11 §9.5.1). */
int pace_ec_new(int param_id, struct pace_ec **out, struct err *err)
    __attribute__((warn_unused_result));
void pace_ec_free(struct pace_ec *p);
/* New key pair on the current generator (SK fixed when SK_HEX is non-NULL,
 * for the worked example); PUB gets the uncompressed point. */
int pace_ec_keypair(struct pace_ec *p, const char *sk_hex, unsigned char *pub, size_t *pub_len,
                    struct err *err) __attribute__((warn_unused_result));
/* Generic mapping: G' = s*G + SK*PK_other (SK the current key pair). */
int pace_ec_map(struct pace_ec *p, const unsigned char *s, size_t slen,
                const unsigned char *pk_other, size_t pk_len, struct err *err)
    __attribute__((warn_unused_result));
/* Integrated mapping (Doc 9303-11 §4.4.3.3.2, worked example in Appendix
 * H): G' = f_G(R_p(s, t)) with the chip's nonce S and the terminal's nonce T
 * (16 bytes each, AES-128); no key pair is used. */
int pace_ec_map_im(struct pace_ec *p, const unsigned char s[16], const unsigned char t[16],
                   struct err *err) __attribute__((warn_unused_result));
/* The pseudo-random function R(s,t) from AES-128: N blocks of 16 bytes. */
int pace_im_prf(const unsigned char s[16], const unsigned char t[16], size_t n,
                unsigned char *out, struct err *err) __attribute__((warn_unused_result));
/* The current generator, uncompressed (for the worked example). */
int pace_ec_generator(struct pace_ec *p, unsigned char *out, size_t *out_len, struct err *err)
    __attribute__((warn_unused_result));
/* Shared secret: the x-coordinate of SK*PK_other (OUT gets the field size,
 * *OUT_LEN). */
int pace_ec_shared(struct pace_ec *p, const unsigned char *pk_other, size_t pk_len,
                   unsigned char *out, size_t *out_len, struct err *err)
    __attribute__((warn_unused_result));
/* Authentication token: CMAC(K_MAC, 7F49 { 06 OID, 86 PK_other })[0..7],
 * OID the generic mapping's, or the integrated mapping's when IM. */
int pace_token(bool im, const unsigned char kmac[16], const unsigned char *pk_other, size_t pk_len,
               unsigned char token[8], struct err *err) __attribute__((warn_unused_result));
/* EF.CardAccess offering PACE ECDH-GM-AES-128 on PARAM_ID (ECDH-IM when
 * PARAM_ID has RD_PACE_IM). */
int pace_card_access(int param_id, struct buf *out, struct err *err)
    __attribute__((warn_unused_result));
/* The parameter id of a PACEInfo with ECDH-GM-AES-128 in EF.CardAccess, or
 * else of one with ECDH-IM-AES-128 (then with RD_PACE_IM set); 1 when none
 * (the chip offers no PACE this reader speaks). */
int pace_card_access_parse(const unsigned char *p, size_t len, int *param_id, struct err *err)
    __attribute__((warn_unused_result));

/* ---- Chip Authentication, ECDH with AES-128 (Doc 9303-11 §6.2) */
#define CA_HEX_MAX 80 /* a 256-bit private scalar in hex, with room */
/* Either side: a key pair on PARAM_ID (SK_HEX the chip's static key, or
 * NULL for a fresh ephemeral key), PUB its public point, K = x(SK * PEER),
 * and SM re-keyed: AES-128, K_Enc = KDF(K,1), K_MAC = KDF(K,2), SSC zero. */
int ca_keys(int param_id, const char *sk_hex, const unsigned char *peer, size_t peer_len,
            unsigned char *pub, size_t *pub_len, struct sm_ctx *sm, struct err *err)
    __attribute__((warn_unused_result));
/* Chip side: the curve and private scalar (hex, secret: wipe it) of the
 * PKCS#8 key behind DG14. */
int ca_private_load(const unsigned char *p8, size_t len, int *param_id, char sk_hex[CA_HEX_MAX],
                    struct err *err) __attribute__((warn_unused_result));
#endif
