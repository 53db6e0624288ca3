/* civreg issuance/reader: an eMRTD chip seen from both ends (ICAO Doc
 * 9303-11).
 *
 *  - The virtual chip (vchip_*) answers APDUs for a personalization package
 *    with the access rules of a real eMRTD: only the application and
 *    EF.CardAccess before access control, BAC with the MRZ of DG1, then
 *    every command under secure messaging; a plain command or a wrong MAC
 *    ends the session. Active Authentication with the package's key.
 *    vchip_serve_vpcd connects it to the vsmartcard virtual reader.
 *  - The inspection system (rd_*) reads a chip through a transport (PC/SC,
 *    or a virtual chip in-process): SELECT, BAC, READ BINARY (chunked,
 *    extended length when asked), passive authentication with the existing
 *    checks, Active Authentication against DG15, and a JSON report.
 */
#ifndef CIVREG_ISSUANCE_READER_H
#define CIVREG_ISSUANCE_READER_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"
#include "issuance/pki/pki.h"
#include "issuance/icao/icao.h"

/* ---- the virtual chip */
struct vchip;

/* Load the package folder DIR (EFs named by FID, aa-private-key.p8 when
 * DG15 is present). DG1 must hold a valid MRZ (the BAC keys come from it). */
int vchip_open(const char *dir, struct vchip **out, struct err *err)
    __attribute__((warn_unused_result));
void vchip_free(struct vchip *c);
/* The card access number, a second PACE password (6-15 digits). */
int vchip_set_can(struct vchip *c, const char *can, struct err *err)
    __attribute__((warn_unused_result));
/* Power cycle: the session, challenge and selection are forgotten. */
void vchip_reset(struct vchip *c);
/* The chip's answer-to-reset. */
const unsigned char *vchip_atr(size_t *len);
/* Answer one command APDU: RESP gets data + status word (always at least a
 * status word; -1 only when memory runs out). */
int vchip_apdu(struct vchip *c, const unsigned char *cmd, size_t len, struct buf *resp)
    __attribute__((warn_unused_result));
/* Sessions ended by a wrong MAC or a plain command so far (for tests). */
unsigned vchip_aborted_sessions(const struct vchip *c);

/* Connect to the vpcd driver of pcscd at HOST:PORT (retrying for WAIT_S
 * seconds) and answer its requests until the connection closes or *STOP is
 * set. LOG (may be NULL) gets one line per APDU. */
int vchip_serve_vpcd(struct vchip *c, const char *host, int port, int wait_s,
                     volatile sig_atomic_t *stop, FILE *log, struct err *err)
    __attribute__((warn_unused_result));

/* ---- transports */
struct rd_transport {
    /* Send CMD, get the response APDU (data + SW) into RESP. */
    int (*transmit)(void *ctx, const unsigned char *cmd, size_t len, struct buf *resp,
                    struct err *err);
    void *ctx;
};

/* A virtual chip as a transport (in-process; for tests and benchmarks). */
void rd_transport_vchip(struct rd_transport *t, struct vchip *c);

/* PC/SC: connect to the reader whose name contains READER (NULL = the first
 * reader holding a card), waiting WAIT_S seconds for a card. NAME gets the
 * reader's full name. */
struct rd_pcsc;
int rd_pcsc_open(const char *reader, int wait_s, struct rd_pcsc **out, char *name,
                 size_t name_size, struct err *err) __attribute__((warn_unused_result));
void rd_pcsc_close(struct rd_pcsc *p);
void rd_transport_pcsc(struct rd_transport *t, struct rd_pcsc *p);

/* ---- the inspection */
struct rd_options {
    const char *mrz;              /* MRZ lines (BAC/PACE password) */
    const char *can;              /* card access number (PACE only); MRZ or CAN */
    bool bac_only;                /* BAC even when EF.CardAccess offers PACE */
    const struct pa_trust *trust; /* CSCA certificates and CRLs */
    time_t now;                   /* inspection time */
    size_t chunk;                 /* READ BINARY chunk; 0 = 0xDF (short APDUs) */
    bool extended;                /* read with extended-length APDUs */
};

/* Read the chip over T: SELECT the eMRTD application, BAC, EF.COM, every data
 * group it lists, EF.SOD; passive authentication; Active Authentication when
 * DG15 was read. FILES gets what was read (EFs named by FID); *REPORT the
 * JSON report ({"valid", "access", "checks", "sod", "aa", "ca", "files",
 * "timings"}); *VALID whether every check holds. Returns -1 (with ERR) only
 * when the chip could not be read at all (no answer, access control failed,
 * secure messaging broke); the report is then NULL. */
int rd_inspect(const struct rd_transport *t, const struct rd_options *o,
               struct chip_package *files, json_t **report, bool *valid, struct err *err)
    __attribute__((warn_unused_result));

/* EF.CardAccess (file 011C of a package) offering PACE ECDH generic mapping
 * with AES-128 on PARAM_ID (12 NIST P-256, 13 brainpoolP256r1), appended
 * to OUT. PARAM_ID | RD_PACE_IM offers the integrated mapping instead. */
#define RD_PACE_IM 0x100
int rd_card_access_pace(int param_id, struct buf *out, struct err *err)
    __attribute__((warn_unused_result));

/* ---- Active Authentication (Doc 9303-11 §6.1) */
/* Chip side: sign the 8-byte CHALLENGE with KEY (PKCS#8 DER): RSA as
 * ISO/IEC 9796-2 scheme 1 with SHA-1, ECDSA as plain r||s over SHA-256
 * (P-256), SHA-384 or SHA-512 by curve size. */
int aa_sign(const unsigned char *p8, size_t p8_len, const unsigned char *challenge, size_t clen,
            struct buf *sig, struct err *err) __attribute__((warn_unused_result));
/* Inspection side: verify SIG over CHALLENGE with the key of DG15 (the whole
 * EF, 6F L SubjectPublicKeyInfo). *ALG names the algorithm checked. 0 valid,
 * 1 invalid signature, -1 malformed DG15. */
int aa_verify(const unsigned char *dg15, size_t dg15_len, const unsigned char *challenge,
              size_t clen, const unsigned char *sig, size_t sig_len, const char **alg,
              struct err *err) __attribute__((warn_unused_result));

#endif
