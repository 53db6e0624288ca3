/* civreg issuance: EF.SOD (Doc 9303-10 §4.6.2): tag 0x77 around a CMS
 * SignedData whose eContent is an LDSSecurityObject holding the hash of each
 * data group.
 *
 *   LDSSecurityObject ::= SEQUENCE { version INTEGER (v0|v1),
 *       hashAlgorithm AlgorithmIdentifier,
 *       dataGroupHashValues SEQUENCE SIZE (2..16) OF DataGroupHash,
 *       ldsVersionInfo LDSVersionInfo OPTIONAL -- v1 only }
 */
#ifndef CIVREG_ISSUANCE_SOD_H
#define CIVREG_ISSUANCE_SOD_H

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"

#define SOD_MAX_DG 16
#define SOD_OID_LSO "2.23.136.1.1.1"

struct sod_dg_in {
    int number; /* 1..16 */
    const unsigned char *data;
    size_t len;
    const unsigned char *sha256; /* its SHA-256 when the caller has it, or NULL */
};

struct sod_build_opts {
    const char *digest;  /* "sha1", "sha224", "sha256" (default), "sha384", "sha512" */
    int lso_version;     /* 0 (default) or 1 (adds ldsVersionInfo "0108"/"040000") */
    time_t signing_time; /* signingTime signed attribute */
};

/* What sod_build signed, as a reader of the result would find it. */
struct sod_built {
    char md_name[32];    /* the LDSSecurityObject's hash algorithm ("sha256") */
    char sig_alg[80];    /* the signer's signatureAlgorithm, OpenSSL's name */
    int lso_version;
};

/* Build EF.SOD over DGS (ascending numbers), signed by DS with KEY (ECDSA, or
 * RSASSA-PSS for RSA keys). Appends the whole EF (0x77 ...) to OUT; fills
 * *INFO when it is not NULL. */
int sod_build(X509 *ds, EVP_PKEY *key, const struct sod_dg_in *dgs, size_t n,
              const struct sod_build_opts *o, struct buf *out, struct sod_built *info,
              struct err *err) __attribute__((warn_unused_result));

struct sod_hash {
    int number;
    unsigned char value[EVP_MAX_MD_SIZE];
    size_t len;
};

/* A parsed EF.SOD (no signature checked yet: see passive_auth.h). */
struct sod {
    CMS_ContentInfo *cms;
    char econtent_type[80];  /* dotted OID */
    int lso_version;
    const EVP_MD *md;        /* hashAlgorithm of the LDSSecurityObject */
    char md_name[32];
    struct sod_hash dg[SOD_MAX_DG];
    size_t ndg;
    char lds_version[8];     /* v1 only */
    char unicode_version[8];
};

/* Parse EF.SOD bytes strictly: the 0x77 wrapper, a CMS SignedData (version
 * 1 or 3) holding an LDSSecurityObject (eContentType 2.23.136.1.1.1 or the
 * older 1.3.27.1.1.1 / 1.2.528.1.1006.1.20.1), version 0 or 1, a known hash
 * algorithm, data group numbers 1..16 without duplicates, hashes of the
 * algorithm's length. *OUT is freed with sod_free (NULL ok). */
int sod_parse(const unsigned char *p, size_t len, struct sod **out, struct err *err)
    __attribute__((warn_unused_result));
void sod_free(struct sod *s);

/* The EVP_MD for a digest name (sha1 ... sha512) or NULL. */
const EVP_MD *sod_digest_by_name(const char *name);

#endif
