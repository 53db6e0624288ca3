/* civreg issuance: the chip personalization package.
 *
 * A package is a folder with one file per elementary file, named by its file
 * identifier (011E EF.COM, 0101 DG1, 0102 DG2, 010B DG11, 010C DG12, 010F
 * DG15, 011D EF.SOD), plus manifest.json (sizes and SHA-256 of every file,
 * the DS serial, algorithms) and, with DG15, the Active Authentication
 * private key for the chip only (aa-private-key.p8, mode 0600).
 */
#ifndef CIVREG_ISSUANCE_CHIP_H
#define CIVREG_ISSUANCE_CHIP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/err.h"
#include "issuance/icao/icao.h"
#include "pki.h"

#define CHIP_MAX_EF 20

struct chip_ef {
    char fid[5];          /* "0101" */
    int dg;               /* 1..16, 0 EF.COM, -1 EF.SOD */
    unsigned char *data;  /* owned */
    size_t len;
};

struct chip_package {
    struct chip_ef ef[CHIP_MAX_EF];
    size_t n;
    json_t *manifest;          /* owned; NULL for a package read back */
    unsigned char *aa_private; /* PKCS#8 DER of the DG15 key (secret), or NULL */
    size_t aa_private_len;
    unsigned char *ca_private; /* PKCS#8 DER of the DG14 key (secret), or NULL */
    size_t ca_private_len;
};

#define CHIP_PACKAGE_INIT { .n = 0 }

struct chip_input {
    const char *mrz;               /* MRZ lines ('\n' separated) */
    const unsigned char *photo;    /* JPEG */
    size_t photo_len;
    const json_t *dg11;            /* NULL = no DG11 */
    const json_t *dg12;            /* NULL = no DG12 */
    const char *aa_algorithm;      /* NULL = no DG15; "ecdsa-p256" or "rsa-2048" */
    int ca_param;                  /* 0 = no DG14; 12 P-256 or 13 brainpoolP256r1: DG14
                                    * with a new Chip Authentication key (ECDH) */
    const char *digest;            /* NULL = sha256 */
    int lso_version;               /* 0 or 1 */
    const char *ds_serial;         /* NULL = the current document signer */
    time_t now;
};

/* Build every EF and sign EF.SOD with the data directory's document signer. */
int chip_personalize(struct pki *pki, const struct chip_input *in, struct chip_package *out,
                     struct err *err) __attribute__((warn_unused_result));

/* Write the package into DIR, which must not exist or be empty; files are
 * written and synced, then the folder. */
int chip_package_write(const struct chip_package *pkg, const char *dir, struct err *err)
    __attribute__((warn_unused_result));

/* 0 when DIR does not exist or is an empty folder (a package may go there). */
int chip_package_check_dir(const char *dir, struct err *err) __attribute__((warn_unused_result));

/* Read the EFs of a package folder (or a dump of a chip named by FID). */
int chip_package_read(const char *dir, struct chip_package *out, struct err *err)
    __attribute__((warn_unused_result));

/* Parse a package already in memory into the view passive_auth takes. */
void chip_package_view(const struct chip_package *pkg, struct pa_chip *view);

void chip_package_release(struct chip_package *pkg);

#endif
