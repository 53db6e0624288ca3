/* civreg issuance: passive authentication of a chip's contents, as a border
 * inspection system does it (Doc 9303-11 §5.1, Doc 9303-12 §4):
 *   the EF.SOD signature with the Document Signer certificate it carries,
 *   the DS -> CSCA path to a trusted CSCA, validity at signing time, the DS
 *   private key usage period, revocation against CRLs, each data group's hash,
 *   and DG1 against the printed MRZ.
 */
#ifndef CIVREG_ISSUANCE_PASSIVE_AUTH_H
#define CIVREG_ISSUANCE_PASSIVE_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/err.h"

/* Trust material: CSCA certificates (and link certificates) and CRLs. */
struct pa_trust;

int pa_trust_new(struct pa_trust **out, struct err *err) __attribute__((warn_unused_result));
void pa_trust_free(struct pa_trust *t);

/* Add CSCA certificates from LEN bytes: PEM (one or more CERTIFICATE blocks
 * or a CMS master list), a DER certificate, or a DER ICAO master list (CMS,
 * 2.23.136.1.1.2), whose signature and signer are checked first. NAME labels
 * messages. */
int pa_trust_add_csca(struct pa_trust *t, const unsigned char *p, size_t len, const char *name,
                      struct err *err) __attribute__((warn_unused_result));
/* Add CRLs (PEM, one or more, or one DER CRL). */
int pa_trust_add_crl(struct pa_trust *t, const unsigned char *p, size_t len, const char *name,
                     struct err *err) __attribute__((warn_unused_result));
/* Number of CSCA certificates held. */
int pa_trust_count(const struct pa_trust *t);

/* The elementary files read from a chip: EF.SOD plus any data groups
 * (index 1..16) and EF.COM; NULL data = not read. Borrowed. */
struct pa_chip {
    const unsigned char *sod;
    size_t sod_len;
    const unsigned char *com;
    size_t com_len;
    const unsigned char *dg[17];
    size_t dg_len[17];
};

/* Run passive authentication. MRZ (may be NULL) is the printed MRZ (lines,
 * '\n' separated or concatenated). NOW is the inspection time (CRL
 * freshness; the signing time is taken from EF.SOD). *REPORT gets a new JSON
 * object {"valid": bool, "checks": [{"check","valid","message"}], "sod":
 * {...}}; *VALID whether every check holds. Returns -1 only when the report
 * itself cannot be built (out of memory). */
int passive_auth(const struct pa_chip *chip, const struct pa_trust *trust, const char *mrz,
                 time_t now, json_t **report, bool *valid, struct err *err)
    __attribute__((warn_unused_result));

#endif
