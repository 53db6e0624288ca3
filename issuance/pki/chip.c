/* Chip personalization packages: build, write, read. */
#include "chip.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/encode.h"
#include "core/json.h"
#include "core/secret.h"
#include "core/timeutil.h"
#include "issuance/icao/icao.h"
#include "pki_int.h"
#include "issuance/icao/sod.h"

/* A private key's bytes: wiped, then freed. */
static void key_free(unsigned char *key, size_t len)
{
    if (key) {
        secret_wipe(key, len);
        free(key);
    }
}

void chip_package_release(struct chip_package *pkg)
{
    if (pkg == NULL)
        return;
    for (size_t i = 0; i < pkg->n; i++)
        free(pkg->ef[i].data);
    json_decref(pkg->manifest);
    key_free(pkg->aa_private, pkg->aa_private_len);
    key_free(pkg->ca_private, pkg->ca_private_len);
    memset(pkg, 0, sizeof *pkg);
}

static int add_ef(struct chip_package *pkg, int dg, struct buf *b, struct err *err)
{
    const struct lds_dg_desc *d = lds_dg_by_number(dg);
    size_t len = 0;
    unsigned char *data;

    if (pkg->n >= CHIP_MAX_EF || d == NULL)
        return err_set(err, "chip: too many elementary files");
    data = buf_detach(b, &len);
    if (data == NULL)
        return err_set(err, "chip: out of memory");
    memcpy(pkg->ef[pkg->n].fid, d->fid, 5);
    pkg->ef[pkg->n].dg = dg;
    pkg->ef[pkg->n].data = data;
    pkg->ef[pkg->n].len = len;
    pkg->n++;
    return 0;
}

/* The private half of the chip key K as PKCS#8 DER, copied into a malloc'd
 * *PRIV for the chip only (chip_package_release wipes it). WHAT names the
 * key in errors ("chip: encoding the WHAT key failed"). */
static int chip_key_pkcs8(EVP_PKEY *k, const char *what, unsigned char **priv,
                          size_t *priv_len, struct err *err)
{
    PKCS8_PRIV_KEY_INFO *p8 = NULL;
    unsigned char *pd = NULL;
    int pn = 0, rc = -1;

    if ((p8 = EVP_PKEY2PKCS8(k)) == NULL || (pn = i2d_PKCS8_PRIV_KEY_INFO(p8, &pd)) <= 0) {
        pki_ossl_err(err, "chip: encoding the %s key failed", what);
        goto out;
    }
    if ((*priv = malloc((size_t)pn)) == NULL) {
        err_set(err, "chip: out of memory");
        goto out;
    }
    memcpy(*priv, pd, (size_t)pn);
    *priv_len = (size_t)pn;
    rc = 0;
out:
    if (pd)
        OPENSSL_clear_free(pd, (size_t)pn);
    PKCS8_PRIV_KEY_INFO_free(p8);
    return rc;
}

static int aa_key(const char *alg, struct buf *spki, unsigned char **priv, size_t *priv_len,
                  struct err *err)
{
    EVP_PKEY *k = NULL;
    unsigned char *der = NULL;
    int n, rc = -1;

    /* Doc 9303-11 §6.1: Active Authentication with RSA (ISO/IEC 9796-2) or
     * ECDSA; the public key goes to DG15 as SubjectPublicKeyInfo */
    if (strcmp(alg, "ecdsa-p256") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    else if (strcmp(alg, "rsa-2048") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    else
        return err_set(err, "chip: unknown Active Authentication algorithm '%s' (ecdsa-p256, "
                            "rsa-2048)", alg);
    if (k == NULL) {
        pki_ossl_err(err, "chip: generating the Active Authentication key failed");
        goto out;
    }
    n = i2d_PUBKEY(k, &der);
    if (n <= 0 || buf_append(spki, der, (size_t)n) != 0) {
        pki_ossl_err(err, "chip: encoding the Active Authentication key failed");
        goto out;
    }
    rc = chip_key_pkcs8(k, "Active Authentication", priv, priv_len, err);
out:
    OPENSSL_free(der);
    EVP_PKEY_free(k);
    return rc;
}

/* Doc 9303-11 §6.2: a static ECDH key for Chip Authentication; the public
 * point goes to DG14, the private half (PKCS#8) to the chip only. */
static int ca_key(int param_id, struct buf *dg14, unsigned char **priv, size_t *priv_len,
                  struct err *err)
{
    EVP_PKEY *k = NULL;
    unsigned char pt[65];
    size_t ptl = 0;
    int rc = -1;

    if (param_id != 12 && param_id != 13)
        return err_set(err, "chip: Chip Authentication curve %d is not supported (12 P-256, "
                            "13 brainpoolP256r1)", param_id);
    k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", param_id == 12 ? "P-256" : "brainpoolP256r1");
    if (k == NULL) {
        pki_ossl_err(err, "chip: generating the Chip Authentication key failed");
        goto out;
    }
    if (EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt, &ptl) != 1) {
        pki_ossl_err(err, "chip: encoding the Chip Authentication key failed");
        goto out;
    }
    if (lds_dg14_encode(param_id, pt, ptl, dg14, err) != 0)
        goto out;
    rc = chip_key_pkcs8(k, "Chip Authentication", priv, priv_len, err);
out:
    EVP_PKEY_free(k);
    return rc;
}

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_fetched;

static void sha256_fetch(void)
{
    sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* The SHA-256 of the package's elementary files from FROM on into H (one
 * per file, in order): the LDSSecurityObject (when it uses SHA-256), the
 * manifest and the provenance event share them, where each hashed every
 * file again (the 16 KiB face three times). The digest is fetched once per
 * process. */
static int hash_efs(const struct chip_package *pkg, size_t from, unsigned char (*h)[32],
                    struct err *err)
{
    pthread_once(&sha256_once, sha256_fetch);
    for (size_t i = from; i < pkg->n; i++) {
        unsigned int hl = 0;
        if (sha256_fetched == NULL ||
            EVP_Digest(pkg->ef[i].data, pkg->ef[i].len, h[i], &hl, sha256_fetched, NULL) != 1 ||
            hl != 32)
            return pki_ossl_err(err, "chip: hashing failed");
    }
    return 0;
}

static int manifest_build(struct chip_package *pkg, X509 *ds, const struct chip_input *in,
                          const struct sod_built *s, unsigned char (*h)[32], struct err *err)
{
    json_t *m = NULL, *files;
    char serial[PKI_SERIAL_MAX], when[TIME_ISO8601_LEN + 1];

    if (pki_cert_serial(ds, serial, err) != 0 || time_iso8601(in->now, when) != 0)
        return -1;
    m = json_pack("{s:s, s:s, s:[], s:{s:s, s:s, s:s, s:i, s:s}}", "format",
                  "civreg-chip-package/1", "created_at", when, "files", "sod", "ds_serial",
                  serial, "digest_algorithm", s->md_name, "signature_algorithm", s->sig_alg,
                  "lso_version", s->lso_version, "signing_time", when);
    if (m == NULL)
        return err_set(err, "chip: out of memory");
    files = json_object_get(m, "files");
    for (size_t i = 0; i < pkg->n; i++) {
        const struct lds_dg_desc *d = lds_dg_by_number(pkg->ef[i].dg);
        char hex[65];
        hex_encode(h[i], 32, hex);
        if (json_array_append_new(files, json_pack("{s:s, s:s, s:I, s:s}", "fid", pkg->ef[i].fid,
                                                   "name", d->name, "size",
                                                   (json_int_t)pkg->ef[i].len, "sha256", hex)) !=
            0) {
            json_decref(m);
            return err_set(err, "chip: out of memory");
        }
    }
    /* the private keys the package carries, each in its own file */
    const struct {
        bool present;
        const char *member, *file;
    } keys[] = {
        { pkg->aa_private != NULL, "active_authentication_private_key", "aa-private-key.p8" },
        { pkg->ca_private != NULL, "chip_authentication_private_key", "ca-private-key.p8" },
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].present &&
            json_object_set_new(m, keys[i].member,
                                json_pack("{s:s, s:s}", "file", keys[i].file, "note",
                                          "PKCS#8 DER for loading into the chip only; delete "
                                          "after personalization")) != 0) {
            json_decref(m);
            return err_set(err, "chip: out of memory");
        }
    pkg->manifest = m;
    return 0;
}

int chip_personalize(struct pki *pki, const struct chip_input *in, struct chip_package *out,
                     struct err *err)
{
    struct buf b = BUF_INIT(LDS_MAX_EF_BYTES), spki = BUF_INIT(4096);
    X509 *ds = NULL;
    EVP_PKEY *key = NULL;
    struct sod_dg_in dgs[SOD_MAX_DG];
    struct sod_built built;
    unsigned char sha[CHIP_MAX_EF][32];
    unsigned tags[SOD_MAX_DG];
    size_t ndg = 0;
    char mrz[LDS_MRZ_MAX + 1];
    size_t mlen = 0;
    int rc = -1;

    memset(out, 0, sizeof *out);
    if (in->mrz == NULL || in->photo == NULL)
        return err_set(err, "chip: the MRZ and the photo are required");
    if (lds_mrz_normalize(in->mrz, strlen(in->mrz), mrz, &mlen, err) != 0)
        return err_prefix(err, "chip");
    if (lds_dg1_encode(mrz, mlen, &b, err) != 0 || add_ef(out, 1, &b, err) != 0)
        goto out;
    {
        /* sex is at TD3 line 2 position 21, TD2 line 2 position 21, TD1 line 2 position 8 */
        char sex = mlen == 90 ? mrz[30 + 7] : mlen == 72 ? mrz[36 + 20] : mrz[44 + 20];
        struct lds_face f = { in->photo, in->photo_len, sex, in->now, 0 };
        if (lds_dg2_encode(&f, &b, err) != 0 || add_ef(out, 2, &b, err) != 0)
            goto out;
    }
    if (in->dg11 && (lds_dg11_encode(in->dg11, &b, err) != 0 || add_ef(out, 11, &b, err) != 0))
        goto out;
    if (in->dg12 && (lds_dg12_encode(in->dg12, &b, err) != 0 || add_ef(out, 12, &b, err) != 0))
        goto out;
    if (in->ca_param &&
        (ca_key(in->ca_param, &b, &out->ca_private, &out->ca_private_len, err) != 0 ||
         add_ef(out, 14, &b, err) != 0))
        goto out;
    if (in->aa_algorithm) {
        if (aa_key(in->aa_algorithm, &spki, &out->aa_private, &out->aa_private_len, err) != 0 ||
            lds_dg15_encode(spki.data, spki.len, &b, err) != 0 || add_ef(out, 15, &b, err) != 0)
            goto out;
    }
    /* input errors are reported first; then a DS must be allowed to sign now */
    if (pki_signer_load(pki, PKI_KIND_DS, in->ds_serial, in->now, &ds, &key, err) != 0)
        goto out;
    if (hash_efs(out, 0, sha, err) != 0)
        goto out;
    for (size_t i = 0; i < out->n; i++) {
        dgs[ndg].number = out->ef[i].dg;
        dgs[ndg].data = out->ef[i].data;
        dgs[ndg].len = out->ef[i].len;
        dgs[ndg].sha256 = sha[i];
        tags[ndg] = lds_dg_by_number(out->ef[i].dg)->tag;
        ndg++;
    }
    {
        struct sod_build_opts so = { in->digest, in->lso_version, in->now };
        if (lds_com_encode(tags, ndg, in->lso_version == 1 ? "0108" : "0107", &b, err) != 0 ||
            add_ef(out, 0, &b, err) != 0)
            goto out;
        if (sod_build(ds, key, dgs, ndg, &so, &b, &built, err) != 0 ||
            add_ef(out, -1, &b, err) != 0)
            goto out;
    }
    /* EF.COM and EF.SOD */
    if (hash_efs(out, out->n - 2, sha, err) != 0 ||
        manifest_build(out, ds, in, &built, sha, err) != 0)
        goto out;
    {
        /* the signature made is a provenance event: EF.SOD's hash, the DS,
         * and the hash of every data group it covers */
        char hex[65];
        json_t *objs = json_array(), *dgl = json_array();
        bool bad = false; /* an object or digest that could not be added */
        hex_encode(sha[out->n - 1], 32, hex);
        if (objs) {
            bad |= json_array_append_new(objs, json_pack("{s:s, s:s, s:s}", "kind", "ef.sod", "id", hex,
                                                         "hash", hex)) != 0;
            bad |= json_array_append_new(objs, pki_cert_object("certificate", ds)) != 0;
        }
        for (size_t i = 0; dgl && i < out->n; i++)
            if (out->ef[i].dg >= 1) {
                hex_encode(sha[i], 32, hex);
                bad |= json_array_append_new(dgl, json_pack("{s:i, s:s}", "dg", out->ef[i].dg,
                                                            "sha256", hex)) != 0;
            }
        if (bad) {
            json_decref(objs);
            json_decref(dgl);
            err_setk(err, ERR_INTERNAL, "chip: out of memory");
            goto out;
        }
        if (pki_emit(pki, "chip.personalize", objs,
                     json_pack("{s:o, s:s, s:i}", "data_groups", dgl ? dgl : json_null(),
                               "digest_algorithm", built.md_name, "lso_version",
                               built.lso_version),
                     err) != 0)
            goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        chip_package_release(out);
    buf_release(&b);
    buf_release(&spki);
    X509_free(ds);
    EVP_PKEY_free(key);
    return rc;
}

static int write_file(const char *dir, const char *name, const void *p, size_t len, mode_t mode,
                      struct err *err)
{
    char path[PATH_MAX];
    int fd, rc = -1;
    size_t off = 0;

    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return err_set(err, "chip: path too long in %s", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return err_set(err, "chip: %s: %s", path, strerror(errno));
    while (off < len) {
        ssize_t w = write(fd, (const char *)p + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            err_set(err, "chip: writing %s: %s", path, strerror(errno));
            goto out;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        err_set(err, "chip: syncing %s: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    close(fd);
    return rc;
}

int chip_package_check_dir(const char *dir, struct err *err)
{
    DIR *d;
    struct dirent *de;
    struct stat st;

    if (stat(dir, &st) != 0)
        return errno == ENOENT ? 0 : err_set(err, "chip: %s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return err_set(err, "chip: %s exists and is not a folder", dir);
    d = opendir(dir);
    if (d == NULL)
        return err_set(err, "chip: %s exists and is not a readable folder", dir);
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            closedir(d);
            return err_set(err, "chip: %s is not empty; refusing to mix packages", dir);
        }
    closedir(d);
    return 0;
}

int chip_package_write(const struct chip_package *pkg, const char *dir, struct err *err)
{
    struct buf m = BUF_INIT(1 << 20);
    int dfd, rc = -1;

    if (chip_package_check_dir(dir, err) != 0)
        return -1;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return err_set(err, "chip: cannot create %s: %s", dir, strerror(errno));
    for (size_t i = 0; i < pkg->n; i++)
        if (write_file(dir, pkg->ef[i].fid, pkg->ef[i].data, pkg->ef[i].len, 0644, err) != 0)
            goto out;
    if (pkg->aa_private && write_file(dir, "aa-private-key.p8", pkg->aa_private,
                                      pkg->aa_private_len, 0600, err) != 0)
        goto out;
    if (pkg->ca_private && write_file(dir, "ca-private-key.p8", pkg->ca_private,
                                      pkg->ca_private_len, 0600, err) != 0)
        goto out;
    if (pkg->manifest) {
        char *s = json_dumps(pkg->manifest, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s == NULL || buf_append_str(&m, s) != 0 || buf_append_byte(&m, '\n') != 0) {
            free(s);
            err_set(err, "chip: out of memory");
            goto out;
        }
        free(s);
        if (write_file(dir, "manifest.json", m.data, m.len, 0644, err) != 0)
            goto out;
    }
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    rc = 0;
out:
    buf_release(&m);
    return rc;
}

static int read_file(const char *path, unsigned char **out, size_t *len, struct err *err)
{
    struct buf b = BUF_INIT(LDS_MAX_EF_BYTES);
    unsigned char chunk[65536];
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return errno == ENOENT ? 1 : err_set(err, "chip: %s: %s", path, strerror(errno));
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            close(fd);
            buf_release(&b);
            return err_set(err, "chip: reading %s: %s", path, strerror(errno));
        }
        if (r == 0)
            break;
        if (buf_append(&b, chunk, (size_t)r) != 0) {
            close(fd);
            return err_set(err, "chip: %s is larger than %zu bytes", path, LDS_MAX_EF_BYTES);
        }
    }
    close(fd);
    *out = buf_detach(&b, len);
    return *out ? 0 : err_set(err, "chip: out of memory");
}

int chip_package_read(const char *dir, struct chip_package *out, struct err *err)
{
    static const int order[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, -1 };
    struct stat st;

    memset(out, 0, sizeof *out);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return err_set(err, "chip: %s is not a folder", dir);
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const struct lds_dg_desc *d = lds_dg_by_number(order[i]);
        char path[PATH_MAX];
        unsigned char *data = NULL;
        size_t len = 0;
        int r;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, d->fid) >= sizeof path) {
            chip_package_release(out);
            return err_set(err, "chip: path too long");
        }
        r = read_file(path, &data, &len, err);
        if (r < 0) {
            chip_package_release(out);
            return -1;
        }
        if (r > 0)
            continue;
        memcpy(out->ef[out->n].fid, d->fid, 5);
        out->ef[out->n].dg = d->number;
        out->ef[out->n].data = data;
        out->ef[out->n].len = len;
        out->n++;
    }
    if (out->n == 0)
        return err_set(err, "chip: %s holds no elementary files named by FID (011D, 0101, ...)",
                       dir);
    return 0;
}

void chip_package_view(const struct chip_package *pkg, struct pa_chip *view)
{
    memset(view, 0, sizeof *view);
    for (size_t i = 0; i < pkg->n; i++) {
        const struct chip_ef *e = &pkg->ef[i];
        if (e->dg == -1) {
            view->sod = e->data;
            view->sod_len = e->len;
        } else if (e->dg == 0) {
            view->com = e->data;
            view->com_len = e->len;
        } else if (e->dg >= 1 && e->dg <= 16) {
            view->dg[e->dg] = e->data;
            view->dg_len[e->dg] = e->len;
        }
    }
}
