/* Personalization: one MRZ from the holder data, printed on the data page
 * and (when the data directory has a document signer) written to the chip
 * package, both stored as evidence blobs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "datapage.h"
#include "db/db.h"
#include "office_app_int.h"
#include "registry/registry.h"

#if __has_include("chip.h")
#include "chip.h"
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

int office_app_personalize(struct office_env *env, const char *id, json_t **out,
                           struct err *err)
{
    struct db *db = env->db;
    const struct office_actor *a = &env->actor;
    struct office_app app;
    struct mrz_input mi;
    struct datapage_input dp;
    struct mrz_date dob, issue, expiry;
    struct buf mrz = BUF_INIT(256), pdf = BUF_INIT(32 << 20), manifest = BUF_INIT(1 << 20);
    unsigned char *photo = NULL, *sig = NULL;
    size_t photo_len = 0, sig_len = 0;
    char pdf_hash[65], chip_hash[65] = "", serial[32], name[128], authority[160];
    char issue_s[40], expiry_s[40];
    const char *chip_note = NULL;
    sqlite3_stmt *st = NULL;
    json_t *chip_manifest = NULL;
    bool tx = false;
    int rc = -1, y, m, d;
    const char *doc_code;

    if (out)
        *out = NULL;
    memset(&app, 0, sizeof app);
    if (office_require(a, registry_action_roles("application.produce"), "personalize documents", err) != 0)
        return -1;
    if (office_app_load(db, id, &app, err) != 0)
        return -1;
    if (strcmp(app.status, "approved") != 0 && strcmp(app.status, "qc_failed") != 0) {
        err_setk(err, ERR_CONFLICT, "personalization refused: application %s is %s; only an approved "
                     "application is personalized",
                id, app.status);
        goto out;
    }
#if OFFICE_HAVE_CHIP
    if (env->pki && pki_db(env->pki) != db) {
        /* a second connection would wait on this one's write lock */
        err_set(err, "personalization: the PKI must be opened on the office's connection "
                     "(pki_open_db)");
        goto out;
    }
#endif
    if (app.document_number == NULL) {
        err_setk(err, ERR_CONFLICT, "personalization refused: application %s has no document number", id);
        goto out;
    }

    /* The holder data, one MRZ for page and chip. */
    if (holder_date(app.holder, "date_of_birth", &dob, err) != 0)
        goto out;
    date_today(&y, &m, &d);
    issue = (struct mrz_date){ y, m, d };
    expiry_for(&issue, &dob, &expiry);
    doc_code = strcmp(app.doc_type, "TD3") == 0 ? "P" : "ID";
    memset(&mi, 0, sizeof mi);
    mi.format = strcmp(app.doc_type, "TD3") == 0 ? MRZ_TD3 : MRZ_TD1;
    mi.document_code = doc_code;
    mi.issuing_state = json_string_value(json_object_get(app.holder, "issuing_state"));
    mi.primary_identifier = json_string_value(json_object_get(app.holder, "primary_identifier"));
    mi.secondary_identifier =
        json_string_value(json_object_get(app.holder, "secondary_identifier"));
    mi.document_number = app.document_number;
    mi.nationality = json_string_value(json_object_get(app.holder, "nationality"));
    mi.date_of_birth = dob;
    if (holder_sex(app.holder, &mi.sex, err) != 0)
        goto out;
    mi.date_of_expiry = expiry;
    mi.optional_data = app.uin; /* personal number (TD3) or optional data (TD1) */
    if (mrz_generate(&mi, NULL, &mrz, NULL, err) != 0) {
        err_prefix(err, "personalization: MRZ");
        goto out;
    }
    if (registry_blob_get(db, env->blobs_dir, app.photo_hash, &photo, &photo_len, err) != 0 ||
        (app.signature_hash &&
         registry_blob_get(db, env->blobs_dir, app.signature_hash, &sig, &sig_len, err) != 0))
        goto out;
    if (office_setting(db, "office_name", "Passport office", name, sizeof name, err) != 0)
        goto out;
    (void)snprintf(authority, sizeof authority, "%s", name); /* name[128] fits in 160 */
    memset(&dp, 0, sizeof dp);
    dp.format = mi.format;
    dp.document_name = mi.format == MRZ_TD3 ? "PASSPORT" : "IDENTITY CARD";
    dp.document_code = doc_code;
    dp.issuing_state = mi.issuing_state;
    dp.document_number = app.document_number;
    dp.primary_identifier = mi.primary_identifier;
    dp.secondary_identifier = mi.secondary_identifier;
    dp.nationality = mi.nationality;
    dp.date_of_birth = dob;
    dp.place_of_birth = json_string_value(json_object_get(app.holder, "place_of_birth"));
    dp.sex = mi.sex;
    dp.personal_number = app.uin;
    dp.date_of_issue = issue;
    dp.date_of_expiry = expiry;
    dp.authority = authority;
    dp.photo = photo;
    dp.photo_len = photo_len;
    dp.signature = sig;
    dp.signature_len = sig_len;
    dp.mrz = buf_str(&mrz);
    if (datapage_render(&dp, &pdf, err) != 0)
        goto out;

    /* One transaction from here: the chip's signature (its chip.personalize
     * event, written by the PKI on this same connection), the evidence and
     * the document either all commit or none does. */
    if (db_tx_begin(db, err) != 0)
        goto out;
    tx = true;
#if OFFICE_HAVE_CHIP
    if (env->pki) {
        struct chip_package pkg = CHIP_PACKAGE_INIT;
        struct chip_input ci;
        memset(&ci, 0, sizeof ci);
        ci.mrz = buf_str(&mrz);
        ci.photo = photo;
        ci.photo_len = photo_len;
        ci.now = time(NULL);
        if (chip_personalize(env->pki, &ci, &pkg, err) != 0) {
            err_prefix(err, "personalization: chip");
            goto out;
        }
        chip_manifest = json_object();
        if (chip_manifest == NULL) {
            chip_package_release(&pkg);
            err_setk(err, ERR_INTERNAL, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < pkg.n; i++) {
            char h[65];
            if (registry_blob_put(db, env->blobs_dir, env->reg, pkg.ef[i].data, pkg.ef[i].len,
                                  "application/octet-stream", h, err) != 0) {
                chip_package_release(&pkg);
                goto out;
            }
            if (json_object_set_new(chip_manifest, pkg.ef[i].fid, json_string(h)) != 0) {
                chip_package_release(&pkg);
                err_setk(err, ERR_INTERNAL, "out of memory");
                goto out;
            }
        }
        if (pkg.manifest && json_object_set(chip_manifest, "manifest", pkg.manifest) != 0) {
            chip_package_release(&pkg);
            err_setk(err, ERR_INTERNAL, "out of memory");
            goto out;
        }
        chip_package_release(&pkg);
    } else {
        chip_note = "no document signer: run `civreg pki init` to add chip packages";
    }
#else
    chip_note = "this build has no chip module";
#endif
    if (chip_manifest) {
        if (json_canonical(chip_manifest, &manifest, err) != 0 ||
            registry_blob_put(db, env->blobs_dir, env->reg, manifest.data, manifest.len,
                              "application/json", chip_hash, err) != 0)
            goto out;
    }
    if (registry_blob_put(db, env->blobs_dir, env->reg, pdf.data, pdf.len, "application/pdf",
                          pdf_hash, err) != 0)
        goto out;

    /* A fresh booklet when the reserved one was spoiled at quality control. */
    if (app.booklet_serial == NULL) {
        if (office_booklet_reserve(db, a, app.doc_type, id, serial, err) != 0)
            goto out;
    } else {
        if (snprintf(serial, sizeof serial, "%s", app.booklet_serial) >= (int)sizeof serial) {
            err_set(err, "personalization: booklet serial '%s' is too long", app.booklet_serial);
            goto out;
        }
    }
    if (office_booklet_personalize(db, a, serial, id, err) != 0)
        goto out;
    /* three ints and two dashes: at most 35 characters, the buffers hold 40 */
    (void)snprintf(issue_s, sizeof issue_s, "%04d-%02d-%02d", issue.year, issue.month,
                   issue.day);
    (void)snprintf(expiry_s, sizeof expiry_s, "%04d-%02d-%02d", expiry.year, expiry.month,
                   expiry.day);
    if (office_prepare(db,
                       "UPDATE applications SET status = 'personalized', booklet_serial = ?2, "
                       "mrz = ?3, datapage_hash = ?4, chip_hash = ?5, updated_at = "
                       "strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1 AND status = ?6",
                       &st, err) != 0)
        goto out;
    office_bind_text(st, 1, id);
    office_bind_text(st, 2, serial);
    office_bind_text(st, 3, buf_str(&mrz));
    office_bind_text(st, 4, pdf_hash);
    office_bind_text(st, 5, chip_hash[0] ? chip_hash : NULL);
    office_bind_text(st, 6, app.status);
    if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db_handle(db)) != 1) {
        office_sql_fail(db, "applications", err);
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (office_prepare(db,
                       "UPDATE documents SET status = 'personalized', booklet_serial = ?2, "
                       "date_of_issue = ?3, date_of_expiry = ?4 WHERE number = ?1",
                       &st, err) != 0)
        goto out;
    office_bind_text(st, 1, app.document_number);
    office_bind_text(st, 2, serial);
    office_bind_text(st, 3, issue_s);
    office_bind_text(st, 4, expiry_s);
    if (sqlite3_step(st) != SQLITE_DONE) {
        office_sql_fail(db, "documents", err);
        goto out;
    }
    if (office_log(db, a, "document.personalize",
                   json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "mrz", buf_str(&mrz),
                             "date_of_issue", issue_s, "date_of_expiry", expiry_s, "booklet",
                             serial, "datapage", pdf_hash, "chip",
                             chip_hash[0] ? chip_hash : NULL),
                   err, "document", app.document_number, "application", id, "person", app.uin,
                   "booklet", serial, "blob", pdf_hash, "blob", chip_hash[0] ? chip_hash : NULL,
                   NULL) != 0)
        goto out;
    if (db_tx_commit(db, err) != 0) {
        tx = false;
        goto out;
    }
    tx = false;
    if (out)
        *out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?}", "application", id,
                         "document_number", app.document_number, "booklet", serial, "mrz",
                         buf_str(&mrz), "datapage", pdf_hash, "chip",
                         chip_hash[0] ? chip_hash : NULL, "chip_note", chip_note);
    rc = 0;
out:
    sqlite3_finalize(st);
    if (tx)
        db_tx_rollback(db);
    office_app_release(&app);
    json_decref(chip_manifest);
    free(photo);
    free(sig);
    buf_release(&mrz);
    buf_release(&pdf);
    buf_release(&manifest);
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

int office_app_chip_package(struct office_env *env, const char *id, const char *dir,
                            struct err *err)
{
#if OFFICE_HAVE_CHIP
    struct office_app app;
    struct chip_package pkg = CHIP_PACKAGE_INIT;
    unsigned char *m = NULL;
    size_t mlen = 0;
    json_t *manifest = NULL, *v;
    const char *key;
    int rc = -1;

    if (office_app_load(env->db, id, &app, err) != 0)
        return -1;
    if (app.chip_hash == NULL) {
        err_set(err, "application %s has no chip package (%s)", id,
                app.datapage_hash ? "personalized without a document signer" : "not personalized");
        goto out;
    }
    if (registry_blob_get(env->db, env->blobs_dir, app.chip_hash, &m, &mlen, err) != 0 ||
        json_parse((const char *)m, mlen, &manifest, err) != 0)
        goto out;
    /* Every elementary file back from the evidence store (re-hashed on the
     * way), named by its FID; the signer's manifest beside them. */
    json_object_foreach(manifest, key, v) {
        if (strcmp(key, "manifest") == 0)
            continue;
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
    free(m);
    office_app_release(&app);
    return rc;
#else
    (void)env;
    (void)id;
    (void)dir;
    return err_set(err, "this build of civreg has no chip module");
#endif
}
