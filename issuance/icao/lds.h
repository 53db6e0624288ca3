/* civreg issuance: LDS1 elementary files (ICAO Doc 9303-10): EF.COM, DG1,
 * DG2 (ISO/IEC 19794-5 face in a CBEFF template), DG11, DG12, DG15.
 *
 * Encoders append one complete EF (outer tag included) to a struct buf.
 * Nothing here signs; EF.SOD is sod.h.
 */
#ifndef CIVREG_ISSUANCE_LDS_H
#define CIVREG_ISSUANCE_LDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"

#define LDS_MRZ_MAX 90
#define LDS_MAX_EF_BYTES ((size_t)8 << 20) /* cap for any one EF we build or read */

/* Data groups civreg writes or reads, by number (1..16). */
struct lds_dg_desc {
    int number;       /* 1..16; 0 for EF.COM, -1 for EF.SOD */
    unsigned tag;     /* outer tag, e.g. 0x61 */
    const char *fid;  /* "0101" */
    const char *name; /* "DG1" */
};

/* Description of data group N (1..16), EF.COM (0) or EF.SOD (-1); NULL when
 * unknown. Borrowed from a static table. */
const struct lds_dg_desc *lds_dg_by_number(int n);
/* The description whose FID is FID (4 hex digits, any case), or NULL. */
const struct lds_dg_desc *lds_dg_by_fid(const char *fid);

/* Normalize MRZ text (lines separated by '\n', optional trailing newline)
 * into the concatenated characters DG1 holds: TD1 (3x30), TD2 (2x36) or TD3
 * (2x44) of A-Z 0-9 <. OUT gets LDS_MRZ_MAX+1 bytes; *LEN its length. */
int lds_mrz_normalize(const char *text, size_t len, char out[LDS_MRZ_MAX + 1], size_t *outlen,
                      struct err *err) __attribute__((warn_unused_result));

/* DG1: 61 L 5F1F L <MRZ>. MRZ is normalized text as above. */
int lds_dg1_encode(const char *mrz, size_t len, struct buf *out, struct err *err)
    __attribute__((warn_unused_result));
/* The MRZ characters held in a DG1 (copied into OUT, NUL-terminated). */
int lds_dg1_mrz(const unsigned char *dg1, size_t len, char out[LDS_MRZ_MAX + 1], size_t *outlen,
                struct err *err) __attribute__((warn_unused_result));

/* EF.COM: 60 L 5F01 "0107"|"0108" 5F36 "040000" 5C <tags of the DGs present>. */
int lds_com_encode(const unsigned *tags, size_t ntags, const char *lds_version,
                   struct buf *out, struct err *err) __attribute__((warn_unused_result));

struct lds_face {
    const unsigned char *jpeg; /* a baseline or progressive JPEG file */
    size_t jpeg_len;
    char sex;                  /* 'M', 'F' or anything else = unspecified */
    time_t created;            /* capture/creation time for the CBEFF header */
    time_t valid_until;        /* end of the validity period (0 = omit 85) */
};

/* DG2: 75 L 7F61 L { 02 01 01, 7F60 L { A1 L <header>, 5F2E L <19794-5> } }. */
int lds_dg2_encode(const struct lds_face *face, struct buf *out, struct err *err)
    __attribute__((warn_unused_result));

/* Width and height of a JPEG from its SOF marker; *COMPONENTS 1 or 3. */
int lds_jpeg_info(const unsigned char *p, size_t len, unsigned *width, unsigned *height,
                  unsigned *components, struct err *err) __attribute__((warn_unused_result));

/* DG11 from a JSON object: full_name, other_names (array), personal_number,
 * date_of_birth (YYYY-MM-DD), place_of_birth, address, telephone, profession,
 * title, personal_summary, other_td_numbers, custody_information. */
int lds_dg11_encode(const json_t *obj, struct buf *out, struct err *err)
    __attribute__((warn_unused_result));

/* DG12 from a JSON object: issuing_authority, date_of_issue (YYYY-MM-DD),
 * endorsements, tax_exit_requirements, personalization_time
 * (YYYY-MM-DDTHH:MM:SSZ), personalization_device. */
int lds_dg12_encode(const json_t *obj, struct buf *out, struct err *err)
    __attribute__((warn_unused_result));

/* DG15: 6F L <SubjectPublicKeyInfo DER> (Active Authentication key). */
int lds_dg15_encode(const unsigned char *spki, size_t len, struct buf *out, struct err *err)
    __attribute__((warn_unused_result));


/* ---- DG14: Chip Authentication (Doc 9303-11 §6.2, §9.2.5) */
/* id-CA-ECDH-AES-CBC-CMAC-128 (0.4.0.127.0.7.2.2.3.2.2) and id-PK-ECDH
 * (0.4.0.127.0.7.2.2.1.2), DER contents (no tag/length). */
#define LDS_OID_CA_ECDH_AES128_LEN 10
extern const unsigned char lds_oid_ca_ecdh_aes128[LDS_OID_CA_ECDH_AES128_LEN];
#define LDS_OID_PK_ECDH_LEN 9
extern const unsigned char lds_oid_pk_ecdh[LDS_OID_PK_ECDH_LEN];

/* DG14: 6E L SET { ChipAuthenticationInfo (id-CA-ECDH-AES-CBC-CMAC-128,
 * version 1), ChipAuthenticationPublicKeyInfo (id-PK-ECDH, SubjectPublicKey
 * Info with algorithm id-PK-ECDH and the named curve PARAM_ID: 12 NIST
 * P-256, 13 brainpoolP256r1, uncompressed POINT) } */
int lds_dg14_encode(int param_id, const unsigned char *point, size_t point_len,
                    struct buf *out, struct err *err) __attribute__((warn_unused_result));

/* What a reader takes from DG14: the Chip Authentication protocol offered
 * (ECDH with AES-128 only) and the chip's static ECDH key. POINT borrows
 * from the DG14 bytes. */
struct lds_dg14 {
    bool ca_aes128;            /* ChipAuthenticationInfo id-CA-ECDH-AES-CBC-CMAC-128 v1 */
    bool ca_other;             /* another CA protocol (3DES, DH) was offered */
    int param_id;              /* the key's curve: 12 P-256, 13 brainpoolP256r1 */
    const unsigned char *point;
    size_t point_len;
};
/* Parse DG14 strictly. -1 (ERR says why) when it is not a SET of
 * SecurityInfos or has no usable ECDH public key on a supported curve. */
int lds_dg14_parse(const unsigned char *dg14, size_t len, struct lds_dg14 *out, struct err *err)
    __attribute__((warn_unused_result));

#endif
