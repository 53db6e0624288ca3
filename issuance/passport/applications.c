/* Passport office applications: enrolment with evidence checks, four-eyes
 * approval, quality control, issuance and collection (personalization is in
 * personalize.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/translit.h"
#include "core/utf8.h"
#include "db/db.h"
#include "db/rows.h"
#include "office_app_int.h"
#include "issuance/icao/icao.h"
#include "registry/registry.h"

/* ---- the registry side: actor, log, person ----------------------------- */

static int registry_log(void *ctx, struct db *db, const char *type, const json_t *objects,
                        const json_t *data, const char *time, struct err *err)
{
    const struct registry_actor *a = ctx;
    return registry_event_append_at(db, a, type, objects, data, time, NULL, err);
}

void office_env_init(struct office_env *env)
{
    env->actor.username = registry_actor_username(env->reg);
    env->actor.office = registry_actor_office(env->reg);
    env->actor.roles = registry_actor_roles(env->reg);
    env->actor.log = registry_log;
    env->actor.log_ctx = (void *)env->reg;
}

/* Deaths are recorded by the registry; a person is deceased when the
 * registry's view of them says so in any of the forms it may take: a
 * "deceased" flag, a "status" of "deceased", or a death record/date. This
 * check reads the registry's person state only, never its tables. */
bool office_person_deceased(const json_t *person)
{
    const json_t *v;

    if (json_is_true(json_object_get(person, "deceased")))
        return true;
    v = json_object_get(person, "status");
    if (json_is_string(v) && strcmp(json_string_value(v), "deceased") == 0)
        return true;
    v = json_object_get(person, "death");
    if (v && !json_is_null(v))
        return true;
    v = json_object_get(person, "date_of_death");
    return v && !json_is_null(v);
}

/* Compare names ignoring case and Unicode form (NFKC then case fold by
 * the MRZ transliteration): "Amélie" and "AMÉLIE" agree. */
static int names_agree(const char *a, const char *b, bool *same, struct err *err)
{
    struct buf ta = BUF_INIT(512), tb = BUF_INIT(512);
    int rc = -1;

    if (translit_mrz(a, strlen(a), &ta, NULL, err) != 0 ||
        translit_mrz(b, strlen(b), &tb, NULL, err) != 0)
        goto out;
    *same = strcmp(buf_str(&ta), buf_str(&tb)) == 0;
    rc = 0;
out:
    buf_release(&ta);
    buf_release(&tb);
    return rc;
}

/* ---- small helpers ------------------------------------------------------ */

int office_setting(struct db *db, const char *key, const char *deflt, char *out, size_t size,
                   struct err *err)
{
    char *v = NULL;
    int rc = db_setting_get(db, key, &v, err);

    if (rc < 0)
        return -1;
    if (snprintf(out, size, "%s", rc == 0 && v ? v : deflt) >= (int)size) {
        free(v);
        return err_set(err, "office setting %s: longer than %zu characters", key, size - 1);
    }
    free(v);
    return 0;
}

int office_app_load(struct db *db, const char *id, struct office_app *app, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = -1, s;

    memset(app, 0, sizeof *app);
    if (id == NULL || *id == '\0')
        return err_set(err, "application: no id given");
    s = db_query_row(db, &st,
                     "SELECT id, office, uin, record_id, doc_type, kind, replaces, status, "
                     "holder, photo_hash, signature_hash, enrolled_by, decided_by, "
                     "document_number, booklet_serial, mrz, datapage_hash, chip_hash "
                     "FROM applications WHERE id = ?1", "applications", err, "s", id);
    if (s == 0)
        err_setk(err, ERR_NOT_FOUND, "application %s: not found", id);
    if (s != 1)
        goto out;
    char **cols[] = { &app->id, &app->office, &app->uin, &app->record_id, &app->doc_type,
                      &app->kind, &app->replaces, &app->status, NULL, &app->photo_hash,
                      &app->signature_hash, &app->enrolled_by, &app->decided_by,
                      &app->document_number, &app->booklet_serial, &app->mrz,
                      &app->datapage_hash, &app->chip_hash };
    for (int i = 0; i < (int)(sizeof cols / sizeof cols[0]); i++)
        if (cols[i])
            *cols[i] = db_column_dup(st, i);
    if (db_column_parse(st, 8, &app->holder, err) != 0)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(st);
    if (rc != 0)
        office_app_release(app);
    return rc;
}

void office_app_release(struct office_app *app)
{
    char *ptrs[] = { app->id, app->office, app->uin, app->record_id, app->doc_type, app->kind,
                     app->replaces, app->status, app->photo_hash, app->signature_hash,
                     app->enrolled_by, app->decided_by, app->document_number,
                     app->booklet_serial, app->mrz, app->datapage_hash, app->chip_hash };
    for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++)
        free(ptrs[i]);
    json_decref(app->holder);
    memset(app, 0, sizeof *app);
}

int office_app_set_status(struct db *db, const char *id, const char *from, const char *to,
                          struct err *err)
{
    char now[TIME_ISO8601_LEN + 1];

    office_now(db, now);
    if (db_run(db,
               "UPDATE applications SET status = ?3, updated_at = ?4 WHERE id = ?1 AND "
               "status = ?2", "applications", err, "ssss", id, from, to, now) != 0)
        return -1;
    if (db_rows_changed(db) != 1)
        return err_set(err, "application %s: changed meanwhile (no longer %s)", id, from);
    return 0;
}

int office_doc_set(struct db *db, const struct office_actor *a, const char *number,
                   const char *status, const char *reason, const char *evidence,
                   struct err *err)
{
    char now[TIME_ISO8601_LEN + 1];

    office_now(db, now);
    if (db_run(db,
               "UPDATE documents SET status = ?2, status_reason = ?3, status_evidence = "
               "?4, status_at = ?5, status_by = ?6 WHERE number = ?1", "documents", err,
               "ssssss", number, status, reason, evidence, now, a->username) != 0)
        return -1;
    if (db_rows_changed(db) != 1)
        return err_setk(err, ERR_NOT_FOUND, "document %s: not found", number);
    return 0;
}

/* ---- enrolment ---------------------------------------------------------- */

static int add_check(json_t *checks, const char *name, bool passed, const char *detail)
{
    json_t *c = json_pack("{s:s, s:b, s:s}", "check", name, "passed", passed, "detail", detail);
    return c && json_array_append_new(checks, c) == 0 ? 0 : -1;
}

/* Documents of UIN and DOC_TYPE that still count: valid ones and any in
 * the making (allocated, personalized), plus open applications. */
static int open_documents(struct db *db, const char *uin, const char *doc_type, json_t **out,
                          struct err *err)
{
    /* a document left out would let a second one through: every row or none */
    return db_query_objects(db,
                            "SELECT number, status, application_id AS application FROM documents "
                            "WHERE uin = ?1 AND doc_type = ?2 AND status IN ('allocated', "
                            "'personalized', 'valid') UNION ALL SELECT NULL, status, id FROM "
                            "applications WHERE uin = ?1 AND doc_type = ?2 AND status = "
                            "'submitted'",
                            "documents", out, err, "ss", uin, doc_type);
}

/* The "no other valid document" check: one valid (or pending) document of
 * a type per person, unless this application renews or replaces it.
 * CHECKS (may be NULL) gets the result. Run before anything is stored and
 * again inside the enrolment's transaction. */
static int check_documents(struct office_env *env, const struct office_enrolment *e,
                           const char *doc_type, const char *kind, json_t *checks,
                           struct err *err)
{
    json_t *open = NULL;
    int rc = -1;

    /* One valid document of a type per person: a second is refused unless
     * this renews or replaces it. */
    if (open_documents(env->db, e->uin, doc_type, &open, err) != 0)
        goto out;
    {
        size_t i;
        json_t *o;
        json_array_foreach(open, i, o) {
            const char *num = json_string_value(json_object_get(o, "number"));
            if (num && e->replaces && strcmp(num, e->replaces) == 0)
                continue;
            err_setk(err, ERR_CONFLICT, "enrolment refused: %s already has %s %s (%s): a second valid %s is "
                         "not allowed; apply for a renewal or replacement of it",
                    e->uin, num ? "document" : "an open application",
                    num ? num : json_string_value(json_object_get(o, "application")),
                    json_string_value(json_object_get(o, "status")),
                    strcmp(doc_type, "TD3") == 0 ? "passport" : "identity card");
            goto out;
        }
    }
    if (e->replaces && *e->replaces) {
        json_t *doc = NULL;
        struct err e2 = ERR_INIT;
        const char *ds;
        if (office_document_show(env, e->replaces, &doc, &e2) != 0) {
            err_setk(err, ERR_CONFLICT, "enrolment refused: document %s to %s: %s", e->replaces,
                    strcmp(kind, "renewal") == 0 ? "renew" : "replace", err_msg(&e2));
            goto out;
        }
        ds = json_string_value(json_object_get(doc, "status"));
        if (strcmp(json_string_value(json_object_get(doc, "uin")), e->uin) != 0 ||
            strcmp(json_string_value(json_object_get(doc, "doc_type")), doc_type) != 0) {
            err_setk(err, ERR_CONFLICT, "enrolment refused: document %s is not a %s of %s", e->replaces,
                    doc_type, e->uin);
            json_decref(doc);
            goto out;
        }
        if (strcmp(kind, "renewal") == 0 && strcmp(ds, "valid") != 0 &&
            strcmp(ds, "expired") != 0) {
            err_setk(err, ERR_CONFLICT, "enrolment refused: document %s is %s: only a valid or expired "
                         "document is renewed (a lost or stolen one is replaced)",
                    e->replaces, ds);
            json_decref(doc);
            goto out;
        }
        json_decref(doc);
        if (checks)
            add_check(checks, "no_other_valid_document", true,
                      strcmp(kind, "renewal") == 0
                          ? "renews the document named; it is cancelled at issuance"
                          : "replaces the document named; it is cancelled at issuance");
    } else if (checks) {
        add_check(checks, "no_other_valid_document", true, "no valid or pending document");
    }
    rc = 0;
out:
    json_decref(open);
    return rc;
}

static char sex_code(const char *s)
{
    if (s && strcmp(s, "female") == 0)
        return 'F';
    if (s && strcmp(s, "male") == 0)
        return 'M';
    return 'X';
}

/* The holder data from the birth record: what the page prints and the chip
 * carries. Refuses records whose birth date is incomplete. */
static int holder_from_record(struct db *db, const json_t *record, const char *primary,
                              const char *secondary, json_t **out, struct err *err)
{
    const json_t *child = json_object_get(record, "child");
    const json_t *birth = json_object_get(record, "birth");
    const char *dob = json_string_value(json_object_get(birth, "date"));
    const char *locality = json_string_value(json_object_get(birth, "locality"));
    const char *district = json_string_value(json_object_get(birth, "district"));
    char country[8], place[256];
    int y, m, d;

    if (dob == NULL || date_parse(dob, &y, &m, &d, NULL) != 0)
        return err_set(err, "birth record: the date of birth '%s' is incomplete: a travel "
                            "document needs a full date (correct the record first)",
                       dob ? dob : "");
    if (office_setting(db, "country", "UTO", country, sizeof country, err) != 0)
        return -1;
    if ((locality && district && strcmp(locality, district) != 0
             ? snprintf(place, sizeof place, "%s, %s", locality, district)
             : snprintf(place, sizeof place, "%s",
                        locality ? locality : district ? district : "")) >= (int)sizeof place)
        return err_set(err, "place of birth: longer than %zu characters", sizeof place - 1);
    return json_out(out,
                    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "primary_identifier",
                              primary, "secondary_identifier", secondary ? secondary : "",
                              "date_of_birth", dob, "sex",
                              (char[]){ sex_code(json_string_value(json_object_get(child, "sex"))),
                                        0 },
                              "place_of_birth", place, "nationality", country, "issuing_state",
                              country),
                    err);
}

/* What an enrolment may hold before anything is looked up: the kind and
 * what it replaces, the images, the contact, printable names. */
static int enrol_check_input(const struct office_enrolment *e, const char *kind, struct err *err)
{
    if (strcmp(kind, "new") != 0 && strcmp(kind, "renewal") != 0 &&
        strcmp(kind, "replacement") != 0)
        return err_set(err, "application kind '%s': new, renewal or replacement", kind);
    if (strcmp(kind, "new") != 0 && (e->replaces == NULL || *e->replaces == '\0'))
        return err_set(err, "a %s names the document it replaces (--replaces NUMBER)", kind);
    if (strcmp(kind, "new") == 0 && e->replaces && *e->replaces)
        return err_set(err, "a new application replaces nothing: use kind renewal or "
                            "replacement");
    if (photo_check_portrait(e->photo, e->photo_len, NULL, err) != 0)
        return -1;
    if (e->signature_len > 0 && photo_check_signature(e->signature, e->signature_len, NULL,
                                                      err) != 0)
        return -1;
    if (e->contact && !json_is_object(e->contact))
        return err_set(err, "contact: must be a JSON object");
    if (e->contact) {
        static const char *const ck[] = { "phone", "email", "address", NULL };
        if (json_check_keys(e->contact, ck, err) != 0)
            return err_prefix(err, "contact");
    }
    /* Names as presented and the contact are printed or kept as personal
     * data: no invisible or reordering characters (core/utf8.h). */
    {
        const char *label[] = { "surname", "given names", "contact phone", "contact email",
                                "contact address" };
        const char *text[] = { e->primary_identifier, e->secondary_identifier,
                               json_string_value(json_object_get(e->contact, "phone")),
                               json_string_value(json_object_get(e->contact, "email")),
                               json_string_value(json_object_get(e->contact, "address")) };
        for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
            if (text[i] != NULL && utf8_check_printable(text[i], strlen(text[i]), err) != 0)
                return err_prefix(err, "%s", label[i]);
    }
    return 0;
}

/* Evidence of identity: the person's registered birth record, and no death
 * recorded. Adds the checks passed to CHECKS. */
static int enrol_check_person(struct db *db, const struct office_enrolment *e,
                              const json_t *person, json_t *checks, struct err *err)
{
    const json_t *rec = json_object_get(person, "record");
    const char *rec_status = json_string_value(json_object_get(rec, "status"));
    const char *rec_id = json_string_value(json_object_get(person, "record_id"));
    bool dead = false;

    if (rec_id == NULL)
        return err_set(err, "enrolment: person %s has no birth record", e->uin);
    if (rec_status == NULL || strcmp(rec_status, "registered") != 0)
        return err_setk(err, ERR_CONFLICT, "enrolment refused: the birth record %s of %s is %s, not registered",
                       rec_id, e->uin, rec_status ? rec_status : "in an unknown state");
    add_check(checks, "record_registered", true, json_string_value(json_object_get(
                                                      person, "registration_number")));
    /* the registry's own answer (registry_person_is_deceased), and the
     * person view it annotates, must both say alive */
    if (registry_person_is_deceased(db, e->uin, &dead, NULL, err) != 0)
        return -1;
    if (dead || office_person_deceased(person))
        return err_setk(err, ERR_CONFLICT, "enrolment refused: %s is recorded as deceased", e->uin);
    add_check(checks, "not_deceased", true, "no death recorded for the person");
    return 0;
}

/* Names: as presented at the counter, they must agree with the record.
 * *HOLDER (new reference) gets the holder's data for the document. */
static int enrol_check_names(struct db *db, const struct office_enrolment *e,
                             const json_t *rec_json, json_t *checks, json_t **holder,
                             struct err *err)
{
    const json_t *child = json_object_get(rec_json, "child");
    const char *family = json_string_value(json_object_get(child, "family_name"));
    const char *given = json_string_value(json_object_get(child, "given_names"));
    const char *primary, *secondary;
    bool same;

    if (family == NULL)
        return err_set(err, "enrolment: the birth record has no family name");
    primary = e->primary_identifier && *e->primary_identifier ? e->primary_identifier : family;
    secondary = e->secondary_identifier ? e->secondary_identifier : given;
    if (names_agree(primary, family, &same, err) != 0)
        return -1;
    if (!same)
        return err_setk(err, ERR_CONFLICT, "enrolment refused: surname '%s' does not match the birth record's "
                            "'%s'", primary, family);
    if (names_agree(secondary ? secondary : "", given ? given : "", &same, err) != 0)
        return -1;
    if (!same)
        return err_setk(err, ERR_CONFLICT, "enrolment refused: given names '%s' do not match the birth "
                            "record's '%s'", secondary ? secondary : "", given ? given : "");
    add_check(checks, "names_consistent", true, "names agree with the birth record");
    return holder_from_record(db, rec_json, primary, secondary, holder, err);
}

/* Store the images (evidence, content-addressed) before the write
 * transaction: the blob store logs its own events. */
static int enrol_store_images(struct office_env *env, const struct office_enrolment *e,
                              char photo_hash[65], char sig_hash[65], struct err *err)
{
    struct photo_info si;

    if (registry_blob_put(env->db, env->blobs_dir, env->reg, e->photo, e->photo_len,
                          "image/jpeg", photo_hash, err) != 0)
        return -1;
    if (e->signature_len == 0)
        return 0;
    if (photo_inspect(e->signature, e->signature_len, &si, err) != 0 ||
        registry_blob_put(env->db, env->blobs_dir, env->reg, e->signature, e->signature_len,
                          photo_media_type(si.type), sig_hash, err) != 0)
        return -1;
    return 0;
}

/* A person this office does not hold: ask the national tier, verify its
 * answer (registry_national_person: pinned office key, signed head,
 * inclusion proofs, signed link and record) and keep the answer as an
 * evidence blob. *PERSON the person view, NAT_HASH the blob. */
static int enrol_from_nation(struct office_env *env, const char *uin, json_t **person,
                             char nat_hash[65], json_t *checks, struct err *err)
{
    struct buf b = BUF_INIT((size_t)64 << 20);
    json_t *answer = NULL;
    char detail[300];
    int rc = -1;

    err_clear(err);
    if (env->national(env->national_ctx, env->db, env->keys_dir, uin, &answer, err) != 0) {
        err_prefix(err, "enrolment: %s is not held by this office; asking the national tier",
                   uin);
        goto out;
    }
    if (registry_national_person(env->db, answer, uin, person, err) != 0)
        goto out;
    if (json_canonical(answer, &b, err) != 0 ||
        registry_blob_put(env->db, env->blobs_dir, env->reg, b.data, b.len, "application/json",
                          nat_hash, err) != 0)
        goto out;
    {
        const json_t *n = json_object_get(*person, "national");
        (void)snprintf(detail, sizeof detail,
                       "held by office %s: record, signed link and inclusion proofs against its "
                       "signed tree head of %lld events verified (evidence %s)",
                       json_string_value(json_object_get(n, "office")),
                       (long long)json_integer_value(json_object_get(n, "tree_size")), nat_hash);
    }
    if (add_check(checks, "national_evidence", true, detail) != 0 ||
        json_object_set_new(json_array_get(checks, json_array_size(checks) - 1), "evidence",
                            json_string(nat_hash)) != 0) {
        err_oom(err);
        goto out;
    }
    rc = 0;
out:
    json_decref(answer);
    buf_release(&b);
    return rc;
}

struct enrol_ctx {
    struct office_env *env;
    const struct office_enrolment *e;
    const char *doc_type, *kind, *rec_id, *photo_hash, *sig_hash, *nat_hash;
    json_t *holder, *checks;
    size_t nchecks; /* the checks made before the transaction */
    char id[64];
};

/* The application row and its event, after the documents check again
 * inside the write transaction. */
static int enrol_tx(struct db *db, void *arg, struct err *err)
{
    struct enrol_ctx *c = arg;
    const struct office_enrolment *e = c->e;
    const struct office_actor *a = &c->env->actor;
    struct buf contact_s = BUF_INIT(8192), holder_s = BUF_INIT(8192), checks_s = BUF_INIT(16384);
    char now[TIME_ISO8601_LEN + 1];
    const char *sig = c->sig_hash[0] ? c->sig_hash : NULL;
    json_t *contact = NULL;
    int rc = -1;

    /* a retried transaction starts from the checks made before it */
    while (json_array_size(c->checks) > c->nchecks)
        json_array_remove(c->checks, c->nchecks);
    if (check_documents(c->env, e, c->doc_type, c->kind, c->checks, err) != 0)
        goto out;
    db_id_new(a->office, 'A', c->id);
    office_now(db, now);
    contact = e->contact ? json_deep_copy(e->contact) : json_object();
    if (json_canonical(contact, &contact_s, err) != 0 ||
        json_canonical(c->holder, &holder_s, err) != 0 ||
        json_canonical(c->checks, &checks_s, err) != 0)
        goto out;
    if (db_run(db,
               "INSERT INTO applications (id, office, uin, record_id, doc_type, kind, "
               "replaces, status, holder, contact, checks, photo_hash, signature_hash, "
               "enrolled_by, enrolled_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
               "?7, 'submitted', ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)",
               "applications", err, "ssssssssssssss", c->id, a->office, e->uin, c->rec_id,
               c->doc_type, c->kind, e->replaces && *e->replaces ? e->replaces : NULL,
               buf_str(&holder_s), buf_str(&contact_s), buf_str(&checks_s), c->photo_hash, sig,
               a->username, now) != 0)
        goto out;
    if (office_log(db, a, "application.enrol",
                   json_pack("{s:s, s:s, s:s?, s:O, s:O, s:s, s:s?, s:O, s:s?}", "doc_type",
                             c->doc_type, "kind", c->kind, "replaces", e->replaces, "holder",
                             c->holder, "checks", c->checks, "photo", c->photo_hash, "signature",
                             sig, "contact", contact, "national_evidence", c->nat_hash),
                   err, "application", c->id, "person", e->uin, "record", c->rec_id, "blob",
                   c->photo_hash, "blob", c->nat_hash, "blob", sig, NULL) != 0)
        goto out;
    rc = 0;
out:
    json_decref(contact);
    buf_release(&contact_s);
    buf_release(&holder_s);
    buf_release(&checks_s);
    return rc;
}

int office_app_enrol(struct office_env *env, const struct office_enrolment *e, json_t **out,
                     struct err *err)
{
    struct db *db = env->db;
    const struct office_actor *a = &env->actor;
    struct enrol_ctx c = { .env = env, .e = e };
    json_t *person = NULL;
    const json_t *rec_json;
    char photo_hash[65], sig_hash[65] = "", nat_hash[65] = "";
    int rc = -1;

    c.doc_type = e->doc_type && *e->doc_type ? e->doc_type : "TD3";
    c.kind = e->kind && *e->kind ? e->kind : "new";
    if (out)
        *out = NULL;
    if (office_require(a, registry_action_roles("application.enrol"), "enrol applicants", err) != 0 ||
        office_doc_type_check(c.doc_type, err) != 0 || enrol_check_input(e, c.kind, err) != 0)
        return -1;
    if ((c.checks = json_array()) == NULL)
        return err_oom(err);
    if (registry_person_show(db, env->reg, e->uin ? e->uin : "", &person, err) != 0) {
        if (err_kind(err) != ERR_NOT_FOUND || env->national == NULL) {
            err_prefix(err, "enrolment");
            goto out;
        }
        if (enrol_from_nation(env, e->uin, &person, nat_hash, c.checks, err) != 0)
            goto out;
        c.nat_hash = nat_hash;
    }
    rec_json = json_object_get(json_object_get(person, "record"), "record");
    c.rec_id = json_string_value(json_object_get(person, "record_id"));
    if (enrol_check_person(db, e, person, c.checks, err) != 0 ||
        enrol_check_names(db, e, rec_json, c.checks, &c.holder, err) != 0)
        goto out;
    /* A second valid document is refused before anything is stored. */
    if (check_documents(env, e, c.doc_type, c.kind, NULL, err) != 0 ||
        enrol_store_images(env, e, photo_hash, sig_hash, err) != 0)
        goto out;
    c.photo_hash = photo_hash;
    c.sig_hash = sig_hash;
    c.nchecks = json_array_size(c.checks);
    if (db_tx_run(db, enrol_tx, &c, err) != 0)
        goto out;
    rc = 0;
    if (out && office_app_show(env, c.id, out, err) != 0)
        rc = -1;
out:
    json_decref(person);
    json_decref(c.checks);
    json_decref(c.holder);
    return rc;
}

/* ---- four-eyes decision ------------------------------------------------- */

/* DOC_TYPE's number series row as {pattern, next_seq} (new reference). */
static int series_state(struct db *db, const char *doc_type, json_t **out, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = -1, s;

    *out = NULL;
    s = db_query_row(db, &st, "SELECT pattern, next_seq FROM doc_number_series WHERE doc_type = ?1",
                     "number series", err, "s", doc_type);
    if (s == 0)
        db_sql_fail(db, "number series", err);
    else if (s == 1 &&
             (*out = json_pack("{s:s, s:I}", "pattern", (const char *)sqlite3_column_text(st, 0),
                               "next_seq", (json_int_t)sqlite3_column_int64(st, 1))) == NULL)
        err_oom(err);
    else if (s == 1)
        rc = 0;
    sqlite3_finalize(st);
    return rc;
}

/* The application a call names, for the transactions below. */
struct app_ctx {
    struct office_env *env;
    const char *id;
    bool flag; /* approve, or quality check passed */
    const char *reason;
    const json_t *report; /* quality control: the chip read-back report, or NULL */
    char *report_hash;    /* gets its blob hash (65 bytes), or NULL */
};

/* Load application ID for a step that takes it from STATUS: in any other
 * status a conflict "application ID is ITS-STATUS: WHY". APP is released on
 * failure. */
static int app_load_in(struct db *db, const char *id, const char *status, const char *why,
                       struct office_app *app, struct err *err)
{
    if (office_app_load(db, id, app, err) != 0)
        return -1;
    if (strcmp(app->status, status) != 0) {
        err_setk(err, ERR_CONFLICT, "application %s is %s: %s", id, app->status, why);
        office_app_release(app);
        return -1;
    }
    return 0;
}

/* A step that takes an application from one status (issue, collect). */
struct app_step {
    const char *action, *what; /* the access it needs: "may not WHAT" */
    const char *from, *why;    /* the status it takes the application from */
    int (*run)(struct db *db, struct office_env *env, const char *id,
               const struct office_app *app, struct err *err);
};

struct app_step_ctx {
    struct office_env *env;
    const char *id;
    const struct app_step *step;
};

static int app_step_tx(struct db *db, void *arg, struct err *err)
{
    const struct app_step_ctx *c = arg;
    struct office_app app;
    int rc;

    if (app_load_in(db, c->id, c->step->from, c->step->why, &app, err) != 0)
        return -1;
    rc = c->step->run(db, c->env, c->id, &app, err);
    office_app_release(&app);
    return rc;
}

/* Run STEP on application ID in one transaction. */
static int app_step_run(struct office_env *env, const char *id, const struct app_step *step,
                        struct err *err)
{
    struct app_step_ctx c = { env, id, step };

    if (office_require(&env->actor, registry_action_roles(step->action), step->what, err) != 0)
        return -1;
    return db_tx_run(env->db, app_step_tx, &c, err);
}

static int decide_tx(struct db *db, void *arg, struct err *err)
{
    const struct app_ctx *c = arg;
    struct office_env *env = c->env;
    const struct office_actor *a = &env->actor;
    const char *id = c->id;
    const bool approve = c->flag;
    const char *reason = c->reason;
    struct office_app app;
    char number[32] = "", serial[32] = "", now[TIME_ISO8601_LEN + 1];
    int rc = -1;

    if (app_load_in(db, id, "submitted",
                    approve ? "only a submitted application is approved"
                            : "only a submitted application is rejected",
                    &app, err) != 0)
        goto out;
    /* Doc 9303-2 recommends, and civreg enforces, four eyes: the officer
     * who enrolled an applicant never decides on the application. */
    if (strcmp(app.enrolled_by, a->username) == 0) {
        err_setk(err, ERR_FORBIDDEN, "four-eyes rule: %s enrolled application %s and may not %s it; another "
                     "approver must decide",
                a->username, id, approve ? "approve" : "reject");
        goto out;
    }
    /* a death registered after enrolment stops the application here */
    if (approve) {
        bool dead = false;
        if (registry_person_is_deceased(db, app.uin, &dead, NULL, err) != 0)
            goto out;
        if (dead) {
            err_setk(err, ERR_CONFLICT, "approval refused: %s is recorded as deceased (death registered after "
                         "enrolment); reject the application",
                    app.uin);
            goto out;
        }
    }
    office_now(db, now);
    if (approve) {
        const char *state = json_string_value(json_object_get(app.holder, "issuing_state"));
        if (office_number_allocate(db, a, app.doc_type, number, err) != 0 ||
            office_booklet_reserve(db, a, app.doc_type, id, serial, err) != 0)
            goto out;
        if (db_run(db,
                   "INSERT INTO documents (number, doc_type, application_id, uin, "
                   "issuing_state, status, booklet_serial, status_at, status_by, "
                   "allocated_at) VALUES (?1, ?2, ?3, ?4, ?5, 'allocated', ?6, ?7, ?8, ?7)",
                   "documents", err, "ssssssss", number, app.doc_type, id, app.uin,
                   state ? state : "UTO", serial, now, a->username) != 0)
            goto out;
    }
    if (db_run(db,
               "UPDATE applications SET status = ?2, decided_by = ?3, decided_at = ?4, "
               "decision_reason = ?5, document_number = ?6, booklet_serial = ?7, "
               "updated_at = ?4 WHERE id = ?1 AND status = 'submitted'",
               "applications", err, "sssssss", id, approve ? "approved" : "rejected",
               a->username, now, reason, approve ? number : NULL, approve ? serial : NULL) != 0)
        goto out;
    if (db_rows_changed(db) != 1) {
        db_sql_fail(db, "applications", err);
        goto out;
    }
    if (approve) {
        json_t *series = NULL;
        /* the number series as the allocation left it, for the audit */
        if (series_state(db, app.doc_type, &series, err) != 0)
            goto out;
        if (office_log(db, a, "application.approve",
                       json_pack("{s:s, s:s, s:s, s:o}", "document_number", number, "booklet",
                                 serial, "enrolled_by", app.enrolled_by, "series", series),
                       err, "application", id, "document", number, "booklet", serial, "person",
                       app.uin, NULL) != 0)
            goto out;
    } else if (office_log(db, a, "application.reject",
                          json_pack("{s:s, s:s}", "reason", reason, "enrolled_by",
                                    app.enrolled_by),
                          err, "application", id, "person", app.uin, NULL) != 0) {
        goto out;
    }
    rc = 0;
out:
    office_app_release(&app);
    return rc;
}

static int decide(struct office_env *env, const char *id, bool approve, const char *reason,
                  json_t **out, struct err *err)
{
    struct app_ctx c = { env, id, approve, reason, NULL, NULL };
    struct db *db = env->db;
    const struct office_actor *a = &env->actor;

    if (out)
        *out = NULL;
    if (office_require(a, registry_action_roles("application.approve"),
                       approve ? "approve applications" : "reject applications", err) != 0)
        return -1;
    if (!approve && (reason == NULL || *reason == '\0' || strlen(reason) > 1000))
        return err_set(err, "a rejection needs a reason (1 to 1000 bytes)");
    if (db_tx_run(db, decide_tx, &c, err) != 0)
        return -1;
    if (out)
        return office_app_show(env, id, out, err);
    return 0;
}

int office_app_approve(struct office_env *env, const char *id, json_t **out, struct err *err)
{
    return decide(env, id, true, NULL, out, err);
}

int office_app_reject(struct office_env *env, const char *id, const char *reason,
                      struct err *err)
{
    return decide(env, id, false, reason, NULL, err);
}

/* ---- quality control, issuance, collection ------------------------------ */

static int qc_tx(struct db *db, void *arg, struct err *err)
{
    const struct app_ctx *c = arg;
    struct office_env *env = c->env;
    const struct office_actor *a = &env->actor;
    const char *id = c->id;
    const bool pass = c->flag;
    const char *reason = c->reason;
    struct office_app app;
    struct buf rep = BUF_INIT(1 << 22);
    char rep_hash[65] = "";
    int rc = -1;

    if (office_app_load(db, id, &app, err) != 0)
        goto out;
    if (c->report) { /* the chip read-back report is evidence of this check */
        /* canonical JSON has no floating point: the timings (not evidence)
         * are left out, the APDU count kept */
        json_t *ev = json_deep_copy(c->report), *tim;
        int r;
        if (ev == NULL) {
            err_oom(err);
            goto out;
        }
        tim = json_object_get(ev, "timings");
        if (json_is_object(tim))
            (void)json_object_set(ev, "apdus", json_object_get(tim, "apdus"));
        (void)json_object_del(ev, "timings");
        r = json_canonical(ev, &rep, err);
        json_decref(ev);
        if (r != 0 ||
            registry_blob_put(db, env->blobs_dir, env->reg, rep.data, rep.len, "application/json",
                              rep_hash, err) != 0)
            goto out;
        if (c->report_hash)
            memcpy(c->report_hash, rep_hash, sizeof rep_hash);
    }
    if (strcmp(app.status, "personalized") != 0) {
        err_setk(err, ERR_CONFLICT, "application %s is %s: quality control follows personalization", id,
                app.status);
        goto out;
    }
    if (office_app_set_status(db, id, "personalized", pass ? "qc_passed" : "qc_failed", err) !=
        0)
        goto out;
    if (!pass) {
        /* The misprinted booklet is spoiled; the number stays with the
         * application and goes on a fresh booklet. */
        if (office_booklet_spoil_personalized(db, a, app.booklet_serial, id, reason, err) != 0 ||
            office_doc_set(db, a, app.document_number, "allocated", NULL, NULL, err) != 0)
            goto out;
    }
    if (office_log(db, a, pass ? "application.qc.pass" : "application.qc.fail",
                   json_pack("{s:s?, s:s?}", "reason", pass ? NULL : reason, "chip_readback",
                             rep_hash[0] ? rep_hash : NULL),
                   err, "application", id, "document", app.document_number, "person", app.uin,
                   "booklet", app.booklet_serial, "blob", rep_hash[0] ? rep_hash : NULL,
                   NULL) != 0)
        goto out;
    rc = 0;
out:
    buf_release(&rep);
    office_app_release(&app);
    return rc;
}

int office_app_qc(struct office_env *env, const char *id, bool pass, const char *reason,
                  struct err *err)
{
    return office_app_qc_report(env, id, pass, reason, NULL, NULL, err);
}

int office_app_qc_report(struct office_env *env, const char *id, bool pass, const char *reason,
                         const json_t *report, char *report_hash, struct err *err)
{
    struct app_ctx c = { env, id, pass, reason, report, report_hash };
    struct db *db = env->db;
    const struct office_actor *a = &env->actor;

    if (office_require(a, registry_action_roles("application.produce"), "check personalized documents", err) !=
        0)
        return -1;
    if (!pass && (reason == NULL || *reason == '\0' || strlen(reason) > 500))
        return err_set(err, "a failed quality check needs a reason (1 to 500 bytes)");
    return db_tx_run(db, qc_tx, &c, err);
}

static int issue_run(struct db *db, struct office_env *env, const char *id,
                     const struct office_app *app, struct err *err)
{
    const struct office_actor *a = &env->actor;

    if (office_app_set_status(db, id, "qc_passed", "issued", err) != 0 ||
        office_doc_set(db, a, app->document_number, "valid", NULL, NULL, err) != 0)
        return -1;
    if (app->replaces) {
        char reason[128];
        if (snprintf(reason, sizeof reason, "%s by %s", strcmp(app->kind, "renewal") == 0
                                                            ? "renewed"
                                                            : "replaced",
                     app->document_number) >= (int)sizeof reason) {
            err_set(err, "document number %.40s...: too long", app->document_number);
            return -1;
        }
        /* A lost or stolen document keeps that status for alert lists;
         * anything else still counting is cancelled. */
        if (office_doc_cancel_replaced(db, a, app->replaces, reason, err) != 0)
            return -1;
    }
    if (office_log(db, a, "document.issue",
                   json_pack("{s:s, s:s?}", "status", "valid", "cancels", app->replaces), err,
                   "document", app->document_number, "application", id, "person", app->uin,
                   "document", app->replaces, NULL) != 0)
        return -1;
    return 0;
}

static int collect_run(struct db *db, struct office_env *env, const char *id,
                       const struct office_app *app, struct err *err)
{
    if (office_app_set_status(db, id, "issued", "collected", err) != 0 ||
        office_log(db, &env->actor, "document.collect", NULL, err, "document",
                   app->document_number, "application", id, "person", app->uin, NULL) != 0)
        return -1;
    return 0;
}

static const struct app_step issue_step = {
    "application.produce", "issue documents", "qc_passed",
    "a document is issued after it passes quality control", issue_run,
};

static const struct app_step collect_step = {
    "application.collect", "hand documents over", "issued",
    "only an issued document is collected", collect_run,
};

int office_app_issue(struct office_env *env, const char *id, struct err *err)
{
    return app_step_run(env, id, &issue_step, err);
}

int office_app_collect(struct office_env *env, const char *id, struct err *err)
{
    return app_step_run(env, id, &collect_step, err);
}

/* ---- reading ------------------------------------------------------------ */

static const char *const app_cols[] = {
    "id", "office", "uin", "record_id", "doc_type", "kind", "replaces", "status", "holder",
    "contact", "checks", "photo_hash", "signature_hash", "enrolled_by", "enrolled_at",
    "decided_by", "decided_at", "decision_reason", "document_number", "booklet_serial", "mrz",
    "datapage_hash", "chip_hash", "updated_at",
};

/* holder, contact and checks are JSON; NULL when out of memory (the
 * callers report it) */
static json_t *app_row(sqlite3_stmt *st, void *ctx)
{
    (void)ctx;
    return office_row_json(st, app_cols, (int)(sizeof app_cols / sizeof app_cols[0]), 8, 10);
}

#define APP_SELECT                                                                              \
    "SELECT id, office, uin, record_id, doc_type, kind, replaces, status, holder, contact, "    \
    "checks, photo_hash, signature_hash, enrolled_by, enrolled_at, decided_by, decided_at, "   \
    "decision_reason, document_number, booklet_serial, mrz, datapage_hash, chip_hash, "        \
    "updated_at FROM applications "

int office_app_show(struct office_env *env, const char *id, json_t **out, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int s, rc = -1;

    *out = NULL;
    s = db_query_row(env->db, &st, APP_SELECT "WHERE id = ?1", "applications", err, "s", id);
    if (s == 1) {
        rc = json_out(out, app_row(st, NULL), err);
    } else if (s == 0) {
        err_setk(err, ERR_NOT_FOUND, "application %s: not found", id);
    }
    sqlite3_finalize(st);
    if (rc == 0 && json_is_string(json_object_get(*out, "document_number"))) {
        json_t *doc = NULL;
        if (office_document_show(env, json_string_value(json_object_get(*out, "document_number")),
                                 &doc, err) == 0 &&
            json_object_set_new(*out, "document", doc) != 0) {
            json_decref(*out);
            *out = NULL;
            rc = err_oom(err);
        }
    }
    return rc;
}

int office_app_list(struct office_env *env, const char *status, int limit, json_t **out,
                    struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;

    *out = NULL;
    if (db_prepare(env->db, &st,
                   APP_SELECT "WHERE ?1 IS NULL OR status = ?1 ORDER BY enrolled_at DESC, id "
                              "LIMIT ?2", err) != 0 ||
        db_bind(env->db, st, err, "si", status, limit > 0 ? limit : 100) != 0 ||
        db_rows_json(env->db, st, "applications", app_row, NULL, out, err) != 0)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}
