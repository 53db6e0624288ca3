/* Personalization: one MRZ from the holder data, printed on the data page
 * and (when the data directory has a document signer) written to the chip
 * package, both stored as evidence blobs. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/seal.h"
#include "core/secret.h"
#include "issuance/print/print.h"
#include "db/db.h"
#include "office_app_int.h"
#include "registry/registry.h"

#if __has_include("issuance/pki/pki.h")
#include "issuance/pki/pki.h"
#define OFFICE_HAVE_CHIP 1
#else
#define OFFICE_HAVE_CHIP 0
#endif

/* Validity: ten years for adults, five for minors (a common national rule;
 * Doc 9303 leaves it to the issuing state). */
static void expiry_for(const struct mrz_date *issue, const struct mrz_date *dob,
                       struct mrz_date *out)
{
    int age = issue->year - dob->year -
              (issue->month < dob->month || (issue->month == dob->month && issue->day < dob->day));
    *out = *issue;
    out->year += age < 18 ? 5 : 10;
    /* the day before the anniversary; 29 February moves to the 28th */
    if (out->month == 2 && out->day == 29)
        out->day = 28;
    if (out->day > 1) {
        out->day--;
    } else {
        static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        out->month = out->month == 1 ? 12 : out->month - 1;
        if (out->month == 12)
            out->year--;
        out->day = mdays[out->month - 1];
        if (out->month == 2 && date_valid(out->year, 2, 29))
            out->day = 29;
    }
}

static int holder_date(const json_t *holder, const char *key, struct mrz_date *d,
                       struct err *err)
{
    const char *s = json_string_value(json_object_get(holder, key));
    if (s == NULL || date_parse(s, &d->year, &d->month, &d->day, err) != 0)
        return err_set(err, "application holder data: %s missing or invalid", key);
    return 0;
}

/* The stored holder data is the application's, written at enrolment; a row
 * altered since (or from an older civreg) may lack the field. */
static int holder_sex(const json_t *holder, char *out, struct err *err)
{
    const char *s = json_string_value(json_object_get(holder, "sex"));
    if (s == NULL || s[0] == '\0' || s[1] != '\0')
        return err_set(err, "application holder data: sex missing or invalid");
    *out = s[0];
    return 0;
}

/* One personalization: the application, the MRZ and the data page made
 * from it before the transaction, and what the transaction records. */
struct personalization {
    struct office_env *env;
    const char *id;
    struct office_app app;
    struct mrz_input mi;
    struct mrz_date dob, issue, expiry;
    struct buf mrz, pdf;
    unsigned char *photo, *sig;
    size_t photo_len, sig_len;
    /* set by the transaction */
    json_t *chip_manifest;
    const char *chip_note;
    char pdf_hash[65], chip_hash[65], serial[32];
    char issue_s[40], expiry_s[40];
};

/* Only an approved application (or one that failed quality control) with
 * a document number is personalized, with the PKI on the same connection. */
static int personalize_check(struct personalization *p, struct err *err)
{
    const struct office_app *app = &p->app;

    if (strcmp(app->status, "approved") != 0 && strcmp(app->status, "qc_failed") != 0)
        return err_setk(err, ERR_CONFLICT, "personalization refused: application %s is %s; only an approved "
                            "application is personalized",
                       p->id, app->status);
#if OFFICE_HAVE_CHIP
    if (p->env->pki && pki_db(p->env->pki) != p->env->db)
        /* a second connection would wait on this one's write lock */
        return err_set(err, "personalization: the PKI must be opened on the office's "
                            "connection (pki_open_db)");
#endif
    if (app->document_number == NULL)
        return err_setk(err, ERR_CONFLICT, "personalization refused: application %s has no document number",
                       p->id);
    /* a death registered (here, or in any district the national tier
     * passed on) after approval stops the document before it is made */
    {
        bool dead = false;
        if (registry_person_is_deceased(p->env->db, app->uin, &dead, NULL, err) != 0)
            return -1;
        if (dead)
            return err_setk(err, ERR_CONFLICT, "personalization refused: %s is recorded as "
                                               "deceased; reject the application",
                            app->uin);
    }
    return 0;
}

/* The holder data, one MRZ for page and chip; issued today. */
static int personalize_mrz(struct personalization *p, struct err *err)
{
    const struct office_app *app = &p->app;
    struct mrz_input *mi = &p->mi;
    int y, m, d;

    if (holder_date(app->holder, "date_of_birth", &p->dob, err) != 0)
        return -1;
    date_today(&y, &m, &d);
    p->issue = (struct mrz_date){ y, m, d };
    expiry_for(&p->issue, &p->dob, &p->expiry);
    memset(mi, 0, sizeof *mi);
    mi->format = strcmp(app->doc_type, "TD3") == 0 ? MRZ_TD3 : MRZ_TD1;
    mi->document_code = mi->format == MRZ_TD3 ? "P" : "ID";
    mi->issuing_state = json_string_value(json_object_get(app->holder, "issuing_state"));
    mi->primary_identifier =
        json_string_value(json_object_get(app->holder, "primary_identifier"));
    mi->secondary_identifier =
        json_string_value(json_object_get(app->holder, "secondary_identifier"));
    mi->document_number = app->document_number;
    mi->nationality = json_string_value(json_object_get(app->holder, "nationality"));
    mi->date_of_birth = p->dob;
    if (holder_sex(app->holder, &mi->sex, err) != 0)
        return -1;
    mi->date_of_expiry = p->expiry;
    mi->optional_data = app->uin; /* personal number (TD3) or optional data (TD1) */
    if (mrz_generate(mi, NULL, &p->mrz, NULL, err) != 0)
        return err_prefix(err, "personalization: MRZ");
    /* three ints and two dashes: at most 35 characters, the buffers hold 40 */
    (void)snprintf(p->issue_s, sizeof p->issue_s, "%04d-%02d-%02d", p->issue.year,
                   p->issue.month, p->issue.day);
    (void)snprintf(p->expiry_s, sizeof p->expiry_s, "%04d-%02d-%02d", p->expiry.year,
                   p->expiry.month, p->expiry.day);
    return 0;
}

/* The data page PDF, with the portrait and signature from the evidence. */
static int personalize_datapage(struct personalization *p, struct err *err)
{
    struct office_env *env = p->env;
    const struct office_app *app = &p->app;
    struct datapage_input dp;
    char name[128], authority[160];

    if (registry_blob_get(env->db, env->blobs_dir, app->photo_hash, &p->photo, &p->photo_len,
                          err) != 0 ||
        (app->signature_hash && registry_blob_get(env->db, env->blobs_dir, app->signature_hash,
                                                  &p->sig, &p->sig_len, err) != 0))
        return -1;
    if (office_setting(env->db, "office_name", "Passport office", name, sizeof name, err) != 0)
        return -1;
    (void)snprintf(authority, sizeof authority, "%s", name); /* name[128] fits in 160 */
    memset(&dp, 0, sizeof dp);
    dp.format = p->mi.format;
    dp.document_name = p->mi.format == MRZ_TD3 ? "PASSPORT" : "IDENTITY CARD";
    dp.document_code = p->mi.document_code;
    dp.issuing_state = p->mi.issuing_state;
    dp.document_number = app->document_number;
    dp.primary_identifier = p->mi.primary_identifier;
    dp.secondary_identifier = p->mi.secondary_identifier;
    dp.nationality = p->mi.nationality;
    dp.date_of_birth = p->dob;
    dp.place_of_birth = json_string_value(json_object_get(app->holder, "place_of_birth"));
    dp.sex = p->mi.sex;
    dp.personal_number = app->uin;
    dp.date_of_issue = p->issue;
    dp.date_of_expiry = p->expiry;
    dp.authority = authority;
    dp.photo = p->photo;
    dp.photo_len = p->photo_len;
    dp.signature = p->sig;
    dp.signature_len = p->sig_len;
    dp.mrz = buf_str(&p->mrz);
    return datapage_render(&dp, &p->pdf, err);
}

#if OFFICE_HAVE_CHIP
/* The chip's private keys (Active Authentication, Chip Authentication) are
 * sealed under keys/chip.key and stored as blobs: only the office, loading
 * the chip or its virtual twin for quality control, can open them. */
#define CHIP_KEYFILE "chip.key"

static int chip_seal_key(struct db *db, struct office_env *env, const char *which,
                         const unsigned char *p8, size_t len, json_t *sealed, struct err *err)
{
    unsigned char key[SEAL_KEY_BYTES];
    char path[4096], ad[64], h[65];
    struct buf b = BUF_INIT(16384);
    int rc = -1;

    if (env->keys_dir == NULL)
        return err_set(err, "personalization: no keys folder to seal the chip keys under");
    if ((size_t)snprintf(path, sizeof path, "%s/%s", env->keys_dir, CHIP_KEYFILE) >= sizeof path)
        return err_set(err, "personalization: keys folder path too long");
    (void)snprintf(ad, sizeof ad, "chip-key:%s", which); /* WHICH is "aa" or "ca" */
    if (seal_keyfile_load(path, true, key, err) != 0 ||
        seal_encrypt(key, p8, len, ad, &b, err) != 0 ||
        registry_blob_put(db, env->blobs_dir, env->reg, b.data, b.len,
                          "application/octet-stream", h, err) != 0)
        goto out;
    if (json_object_set_new(sealed, which, json_string(h)) != 0) {
        err_oom(err);
        goto out;
    }
    rc = 0;
out:
    secret_wipe(key, sizeof key);
    buf_release(&b);
    return rc;
}
#endif

/* The chip package, signed by the document signer (its chip.personalize
 * event is written by the PKI on this connection), each file stored as
 * evidence: P->CHIP_MANIFEST maps file identifiers to blob hashes. */
static int personalize_chip(struct db *db, struct personalization *p, struct err *err)
{
#if OFFICE_HAVE_CHIP
    struct office_env *env = p->env;
    struct chip_package pkg = CHIP_PACKAGE_INIT;
    struct chip_input ci;
    int rc = -1;

    if (env->pki == NULL) {
        p->chip_note = "no document signer: run `civreg pki init` to add chip packages";
        return 0;
    }
    memset(&ci, 0, sizeof ci);
    ci.mrz = buf_str(&p->mrz);
    ci.photo = p->photo;
    ci.photo_len = p->photo_len;
    ci.now = time(NULL);
    /* a chip that proves it is not a copy: Active Authentication (DG15)
     * and Chip Authentication (DG14), their private keys sealed */
    if (env->keys_dir) {
        ci.aa_algorithm = "ecdsa-p256";
        ci.ca_param = 13;
    }
    if (chip_personalize(env->pki, &ci, &pkg, err) != 0)
        return err_prefix(err, "personalization: chip");
    if ((p->chip_manifest = json_object()) == NULL) {
        err_oom(err);
        goto out;
    }
    for (size_t i = 0; i < pkg.n; i++) {
        char h[65];
        if (registry_blob_put(db, env->blobs_dir, env->reg, pkg.ef[i].data, pkg.ef[i].len,
                              "application/octet-stream", h, err) != 0)
            goto out;
        if (json_object_set_new(p->chip_manifest, pkg.ef[i].fid, json_string(h)) != 0) {
            err_oom(err);
            goto out;
        }
    }
    if (pkg.aa_private || pkg.ca_private) {
        json_t *sealed = json_object();
        if (sealed == NULL || json_object_set_new(p->chip_manifest, "sealed_keys", sealed) != 0) {
            err_oom(err);
            goto out;
        }
        if ((pkg.aa_private && chip_seal_key(db, env, "aa", pkg.aa_private, pkg.aa_private_len,
                                             sealed, err) != 0) ||
            (pkg.ca_private && chip_seal_key(db, env, "ca", pkg.ca_private, pkg.ca_private_len,
                                             sealed, err) != 0))
            goto out;
    }
    if (pkg.manifest && json_object_set(p->chip_manifest, "manifest", pkg.manifest) != 0) {
        err_oom(err);
        goto out;
    }
    rc = 0;
out:
    chip_package_release(&pkg);
    return rc;
#else
    (void)db;
    (void)err;
    p->chip_note = "this build has no chip module";
    return 0;
#endif
}

/* The evidence (chip manifest, data page), the booklet (a fresh one when
 * the reserved one was spoiled at quality control), the application and
 * the document. */
static int personalize_record(struct db *db, struct personalization *p, struct err *err)
{
    struct office_env *env = p->env;
    const struct office_actor *a = &env->actor;
    const struct office_app *app = &p->app;
    const char *chip = p->chip_hash[0] ? p->chip_hash : NULL;
    struct buf manifest = BUF_INIT(1 << 20);
    char now[TIME_ISO8601_LEN + 1];
    int rc = -1;

    if (p->chip_manifest) {
        if (json_canonical(p->chip_manifest, &manifest, err) != 0 ||
            registry_blob_put(db, env->blobs_dir, env->reg, manifest.data, manifest.len,
                              "application/json", p->chip_hash, err) != 0)
            goto out;
        chip = p->chip_hash;
    }
    if (registry_blob_put(db, env->blobs_dir, env->reg, p->pdf.data, p->pdf.len,
                          "application/pdf", p->pdf_hash, err) != 0)
        goto out;
    if (app->booklet_serial == NULL) {
        if (office_booklet_reserve(db, a, app->doc_type, p->id, p->serial, err) != 0)
            goto out;
    } else if (snprintf(p->serial, sizeof p->serial, "%s", app->booklet_serial) >=
               (int)sizeof p->serial) {
        err_set(err, "personalization: booklet serial '%s' is too long", app->booklet_serial);
        goto out;
    }
    if (office_booklet_personalize(db, a, p->serial, p->id, err) != 0)
        goto out;
    office_now(db, now);
    if (db_run(db,
               "UPDATE applications SET status = 'personalized', booklet_serial = ?2, "
               "mrz = ?3, datapage_hash = ?4, chip_hash = ?5, updated_at = ?7 "
               "WHERE id = ?1 AND status = ?6",
               "applications", err, "sssssss", p->id, p->serial, buf_str(&p->mrz), p->pdf_hash,
               chip, app->status, now) != 0)
        goto out;
    if (db_rows_changed(db) != 1) {
        db_sql_fail(db, "applications", err);
        goto out;
    }
    if (db_run(db,
               "UPDATE documents SET status = 'personalized', booklet_serial = ?2, "
               "date_of_issue = ?3, date_of_expiry = ?4 WHERE number = ?1",
               "documents", err, "ssss", app->document_number, p->serial, p->issue_s,
               p->expiry_s) != 0)
        goto out;
    if (office_log(db, a, "document.personalize",
                   json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "mrz", buf_str(&p->mrz),
                             "date_of_issue", p->issue_s, "date_of_expiry", p->expiry_s,
                             "booklet", p->serial, "datapage", p->pdf_hash, "chip", chip),
                   err, "document", app->document_number, "application", p->id, "person",
                   app->uin, "booklet", p->serial, "blob", p->pdf_hash, "blob", chip,
                   NULL) != 0)
        goto out;
    rc = 0;
out:
    buf_release(&manifest);
    return rc;
}

/* One transaction: the chip's signature, the evidence and the document
 * either all commit or none does. */
static int personalize_tx(struct db *db, void *arg, struct err *err)
{
    struct personalization *p = arg;

    /* a retried transaction starts again */
    json_decref(p->chip_manifest);
    p->chip_manifest = NULL;
    p->chip_note = NULL;
    p->chip_hash[0] = '\0';
    if (personalize_chip(db, p, err) != 0)
        return -1;
    return personalize_record(db, p, err);
}

int office_app_personalize(struct office_env *env, const char *id, json_t **out,
                           struct err *err)
{
    struct personalization p = { .env = env, .id = id, .mrz = BUF_INIT(256),
                                 .pdf = BUF_INIT(32 << 20) };
    int rc = -1;

    if (out)
        *out = NULL;
    memset(&p.app, 0, sizeof p.app);
    if (office_require(&env->actor, registry_action_roles("application.produce"), "personalize documents",
                       err) != 0)
        return -1;
    if (office_app_load(env->db, id, &p.app, err) != 0)
        return -1;
    if (personalize_check(&p, err) != 0 || personalize_mrz(&p, err) != 0 ||
        personalize_datapage(&p, err) != 0 || db_tx_run(env->db, personalize_tx, &p, err) != 0)
        goto out;
    if (out)
        *out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?}", "application", id,
                         "document_number", p.app.document_number, "booklet", p.serial, "mrz",
                         buf_str(&p.mrz), "datapage", p.pdf_hash, "chip",
                         p.chip_hash[0] ? p.chip_hash : NULL, "chip_note", p.chip_note);
    rc = 0;
out:
    office_app_release(&p.app);
    json_decref(p.chip_manifest);
    free(p.photo);
    free(p.sig);
    buf_release(&p.mrz);
    buf_release(&p.pdf);
    return rc;
}

int office_app_datapage(struct office_env *env, const char *id, unsigned char **pdf,
                        size_t *len, struct err *err)
{
    struct office_app app;
    int rc = -1;

    *pdf = NULL;
    if (office_app_load(env->db, id, &app, err) != 0)
        return -1;
    if (app.datapage_hash == NULL)
        err_setk(err, ERR_CONFLICT, "application %s is %s: no data page yet", id, app.status);
    else
        rc = registry_blob_get(env->db, env->blobs_dir, app.datapage_hash, pdf, len, err);
    office_app_release(&app);
    return rc;
}

#if OFFICE_HAVE_CHIP
/* Load application ID into APP (the caller releases it in every case) and
 * its chip manifest into *MANIFEST (the caller's): 0, 1 when the
 * application has no chip package (ERR untouched), -1 with ERR set. */
static int chip_manifest_load(struct office_env *env, const char *id, struct office_app *app,
                              json_t **manifest, struct err *err)
{
    unsigned char *m = NULL;
    size_t mlen = 0;
    int rc = -1;

    *manifest = NULL;
    if (office_app_load(env->db, id, app, err) != 0)
        return -1;
    if (app->chip_hash == NULL)
        return 1;
    if (registry_blob_get(env->db, env->blobs_dir, app->chip_hash, &m, &mlen, err) == 0 &&
        json_parse((const char *)m, mlen, manifest, err) == 0)
        rc = 0;
    free(m);
    return rc;
}

int office_app_chip_package(struct office_env *env, const char *id, const char *dir,
                            struct err *err)
{
    struct office_app app;
    struct chip_package pkg = CHIP_PACKAGE_INIT;
    json_t *manifest = NULL, *v;
    const char *key;
    int rc = -1, s;

    s = chip_manifest_load(env, id, &app, &manifest, err);
    if (s == 1)
        err_set(err, "application %s has no chip package (%s)", id,
                app.datapage_hash ? "personalized without a document signer" : "not personalized");
    if (s != 0)
        goto out;
    /* Every elementary file back from the evidence store (re-hashed on the
     * way), named by its FID; the signer's manifest beside them. */
    json_object_foreach(manifest, key, v) {
        if (strcmp(key, "manifest") == 0 || strcmp(key, "sealed_keys") == 0)
            continue; /* the private keys never leave in a package */
        if (pkg.n == CHIP_MAX_EF || strlen(key) != 4 || !json_is_string(v)) {
            err_set(err, "application %s: chip manifest entry '%s' is not an EF", id, key);
            goto out;
        }
        memcpy(pkg.ef[pkg.n].fid, key, 5);
        if (registry_blob_get(env->db, env->blobs_dir, json_string_value(v), &pkg.ef[pkg.n].data,
                              &pkg.ef[pkg.n].len, err) != 0)
            goto out;
        pkg.n++;
    }
    pkg.manifest = json_incref(json_object_get(manifest, "manifest"));
    rc = chip_package_write(&pkg, dir, err);
out:
    chip_package_release(&pkg);
    json_decref(manifest);
    office_app_release(&app);
    return rc;
}

int office_app_chip_keys(struct office_env *env, const char *id, const char *dir,
                         struct err *err)
{
    static const char *const which[2] = { "aa", "ca" };
    static const char *const file[2] = { "aa-private-key.p8", "ca-private-key.p8" };
    struct office_app app;
    unsigned char key[SEAL_KEY_BYTES];
    json_t *manifest = NULL, *sealed;
    char path[4096];
    int rc = -1, s;

    s = chip_manifest_load(env, id, &app, &manifest, err);
    if (s == 1)
        err_set(err, "application %s has no chip package", id);
    if (s != 0)
        goto out;
    sealed = json_object_get(manifest, "sealed_keys");
    if (sealed == NULL) {
        rc = 0; /* a chip personalized without AA/CA keys */
        goto out;
    }
    if (env->keys_dir == NULL ||
        (size_t)snprintf(path, sizeof path, "%s/%s", env->keys_dir, CHIP_KEYFILE) >= sizeof path ||
        seal_keyfile_load(path, false, key, err) != 0) {
        err_prefix(err, "the chip keys cannot be opened");
        goto out;
    }
    for (int i = 0; i < 2; i++) {
        const char *h = json_string_value(json_object_get(sealed, which[i]));
        unsigned char *blob = NULL, *p8 = NULL;
        size_t bl = 0, pl = 0;
        char ad[64];
        FILE *f;
        int fd, ok;
        if (h == NULL)
            continue;
        (void)snprintf(ad, sizeof ad, "chip-key:%s", which[i]); /* fits: a constant */
        if (registry_blob_get(env->db, env->blobs_dir, h, &blob, &bl, err) != 0)
            goto wipe;
        ok = seal_decrypt(key, blob, bl, ad, &p8, &pl, err) == 0;
        free(blob);
        if (!ok)
            goto wipe;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file[i]) >= sizeof path ||
            (fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 ||
            (f = fdopen(fd, "wb")) == NULL) {
            seal_free(p8, pl);
            err_set(err, "cannot write %s", path);
            goto wipe;
        }
        ok = fwrite(p8, 1, pl, f) == pl;
        ok &= fclose(f) == 0;
        seal_free(p8, pl);
        if (!ok) {
            err_set(err, "cannot write %s", path);
            goto wipe;
        }
    }
    rc = 0;
wipe:
    secret_wipe(key, sizeof key);
out:
    json_decref(manifest);
    office_app_release(&app);
    return rc;
}
#else
/* A build without the chip module: the chip exports say so. */
static int no_chip_module(struct office_env *env, const char *id, const char *dir,
                          struct err *err)
{
    (void)env;
    (void)id;
    (void)dir;
    return err_set(err, "this build of civreg has no chip module");
}

int office_app_chip_package(struct office_env *env, const char *id, const char *dir,
                            struct err *err)
{
    return no_chip_module(env, id, dir, err);
}

int office_app_chip_keys(struct office_env *env, const char *id, const char *dir,
                         struct err *err)
{
    return no_chip_module(env, id, dir, err);
}
#endif
