/* civreg registry: deaths.
 *
 * A death is registered against a person (by UIN) by a registrar, from the
 * informant's declaration and, when there is one, the medical certificate of
 * the cause of death (only its reference is kept: the cause itself is
 * confidential health data and does not belong in a civil register extract).
 * Fields follow the UN Principles and Recommendations for a Vital Statistics
 * System (Rev. 3), topics for deaths: date and place of occurrence, certifier,
 * informant, date of registration. One signed death.register event carries
 * the death's hash and touches the person, so `audit trace` shows it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "db/rows.h"
#include "registry_int.h"

#define DEATH_TEXT_MAX 200

/* YYYY-MM-DD into ISO date string comparisons: lexicographic order is date
 * order for full dates. A partial birth date (YYYY, YYYY-MM) compares on the
 * prefix it has. */
static int full_date(const char *path, const json_t *v, json_t **out, struct err *err)
{
    int y, m, d;

    if (!json_is_string(v))
        return err_set(err, "%s: must be a string YYYY-MM-DD", path);
    if (json_string_length(v) != 10 || date_parse(json_string_value(v), &y, &m, &d, NULL) != 0)
        return err_set(err, "%s: '%.32s' is not a valid date YYYY-MM-DD", path,
                       json_string_value(v));
    *out = json_incref((json_t *)v);
    return 0;
}

static int opt_text(const json_t *in, const char *key, const char *path, int max, json_t *out,
                    bool required, struct err *err)
{
    const json_t *v = json_object_get(in, key);
    json_t *n = NULL;

    if (v == NULL || json_is_null(v)) {
        if (required)
            return err_set(err, "%s: required", path);
        return 0;
    }
    if (reg_norm_text(path, v, max, &n, err) != 0)
        return -1;
    return json_object_set_new(out, key, n) == 0 ? 0 : err_oom(err);
}

static int section(const json_t *in, const char *key, bool required, json_t **sec,
                   const char *const *allowed, struct err *err)
{
    const json_t *v = json_object_get(in, key);

    *sec = NULL;
    if (v == NULL || json_is_null(v)) {
        if (required)
            return err_set(err, "%s: required", key);
        return 0;
    }
    if (!json_is_object(v))
        return err_set(err, "%s: must be an object", key);
    if (json_check_keys(v, allowed, err) != 0)
        return err_prefix(err, "%s", key);
    *sec = (json_t *)v;
    return 0;
}

int registry_death_normalize(const json_t *in, json_t **out, struct err *err)
{
    static const char *const top[] = { "date_of_death", "time_of_death", "place",
                                       "cause_certificate", "informant", "registration_date",
                                       "remarks", NULL };
    static const char *const place_keys[] = { "type", "facility", "locality", "district", NULL };
    static const char *const cert_keys[] = { "reference", "certifier", NULL };
    static const char *const inf_keys[] = { "name", "relationship", "address", NULL };
    json_t *o = NULL, *place = NULL, *cert = NULL, *inf = NULL, *d = NULL;
    json_t *sec;
    const char *s;
    int today_y, today_m, today_d;
    char today[11];
    int rc = -1;

    *out = NULL;
    if (!json_is_object(in))
        return err_set(err, "death: must be a JSON object");
    if (json_check_keys(in, top, err) != 0)
        return err_prefix(err, "death");
    if ((o = json_object()) == NULL || (place = json_object()) == NULL ||
        (inf = json_object()) == NULL)
        goto oom;
    date_today(&today_y, &today_m, &today_d);
    (void)snprintf(today, sizeof today, "%04d-%02d-%02d", today_y, today_m, today_d);

    if (json_object_get(in, "date_of_death") == NULL) {
        err_set(err, "date_of_death: required");
        goto out;
    }
    if (full_date("date_of_death", json_object_get(in, "date_of_death"), &d, err) != 0)
        goto out;
    if (strcmp(json_string_value(d), today) > 0) {
        err_set(err, "date_of_death: %s is in the future", json_string_value(d));
        goto out;
    }
    if (json_object_set_new(o, "date_of_death", d) != 0)
        goto oom;
    d = NULL;
    if ((sec = json_object_get(in, "time_of_death")) != NULL) {
        s = json_string_value(sec);
        if (s == NULL || strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '2' ||
            s[1] < '0' || s[1] > '9' || s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9' ||
            (s[0] == '2' && s[1] > '3')) {
            err_set(err, "time_of_death: must be HH:MM (24 hours)");
            goto out;
        }
        if (json_object_set(o, "time_of_death", sec) != 0)
            goto oom;
    }

    if (section(in, "place", true, &sec, place_keys, err) != 0)
        goto out;
    s = json_string_value(json_object_get(sec, "type"));
    if (s == NULL || (strcmp(s, "facility") != 0 && strcmp(s, "home") != 0 &&
                      strcmp(s, "other") != 0)) {
        err_set(err, "place.type: must be facility, home or other");
        goto out;
    }
    if (json_object_set_new(place, "type", json_string(s)) != 0 ||
        opt_text(sec, "facility", "place.facility", DEATH_TEXT_MAX, place, false, err) != 0 ||
        opt_text(sec, "locality", "place.locality", DEATH_TEXT_MAX, place, true, err) != 0 ||
        opt_text(sec, "district", "place.district", DEATH_TEXT_MAX, place, true, err) != 0)
        goto out;
    if (json_object_set(o, "place", place) != 0)
        goto oom;

    if (section(in, "cause_certificate", false, &sec, cert_keys, err) != 0)
        goto out;
    if (sec != NULL) {
        if ((cert = json_object()) == NULL)
            goto oom;
        if (opt_text(sec, "reference", "cause_certificate.reference", 64, cert, true, err) != 0 ||
            opt_text(sec, "certifier", "cause_certificate.certifier", DEATH_TEXT_MAX, cert, false,
                     err) != 0)
            goto out;
        if (json_object_set(o, "cause_certificate", cert) != 0)
            goto oom;
    }

    if (section(in, "informant", true, &sec, inf_keys, err) != 0)
        goto out;
    if (opt_text(sec, "name", "informant.name", DEATH_TEXT_MAX, inf, true, err) != 0 ||
        opt_text(sec, "relationship", "informant.relationship", DEATH_TEXT_MAX, inf, false,
                 err) != 0 ||
        opt_text(sec, "address", "informant.address", 400, inf, false, err) != 0)
        goto out;
    if (json_object_set(o, "informant", inf) != 0)
        goto oom;

    if ((sec = json_object_get(in, "registration_date")) != NULL) {
        if (full_date("registration_date", sec, &d, err) != 0)
            goto out;
        if (strcmp(json_string_value(d), today) > 0 ||
            strcmp(json_string_value(d),
                   json_string_value(json_object_get(o, "date_of_death"))) < 0) {
            err_set(err, "registration_date: %s must lie between the date of death and today",
                    json_string_value(d));
            goto out;
        }
    } else if ((d = json_string(today)) == NULL) {
        goto oom;
    }
    if (json_object_set_new(o, "registration_date", d) != 0)
        goto oom;
    d = NULL;
    if (opt_text(in, "remarks", "remarks", 2000, o, false, err) != 0)
        goto out;
    *out = o;
    o = NULL;
    rc = 0;
    goto out;
oom:
    err_oom(err);
out:
    json_decref(o);
    json_decref(place);
    json_decref(cert);
    json_decref(inf);
    json_decref(d);
    return rc;
}

/* The person's record id and current record data (new reference). Returns 1
 * when no person holds UIN. */
static int person_record(struct db *db, const char *uin, char **record_id, json_t **record,
                         struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = -1, step;

    *record_id = NULL;
    *record = NULL;
    step = db_query_row(db, &st,
                        "SELECT p.record_id, v.data FROM persons p"
                        " JOIN birth_records b ON b.id = p.record_id"
                        " JOIN record_versions v ON v.record_id = b.id AND v.version = b.version"
                        " WHERE p.uin = ?1",
                        "reading the person", err, "s", uin);
    if (step == 0) {
        rc = 1;
    } else if (step < 0) {
        rc = -1;
    } else if ((*record_id = strdup((const char *)sqlite3_column_text(st, 0))) == NULL) {
        err_oom(err);
    } else if (db_column_parse(st, 1, record, err) == 0) {
        rc = 0;
    }
    if (rc != 0) {
        free(*record_id);
        *record_id = NULL;
    }
    sqlite3_finalize(st);
    return rc;
}

struct death_ctx {
    const struct registry_actor *actor;
    const char *uin;
    const json_t *death; /* normalized */
    json_t *result;
};

static int death_tx(struct db *db, void *arg, struct err *err)
{
    struct death_ctx *c = arg;
    char *record_id = NULL, *id = NULL;
    json_t *record = NULL, *edata = NULL;
    struct buf body = BUF_INIT(1 << 20);
    char now[TIME_ISO8601_LEN + 1], hash[65], person_hash[65], regno[64];
    const char *dod = json_string_value(json_object_get(c->death, "date_of_death"));
    const char *dob;
    bool deceased = false;
    long long n = 0;
    int y, m, d, r, rc = -1;
    uint64_t seq;

    r = person_record(db, c->uin, &record_id, &record, err);
    if (r != 0) {
        if (r > 0)
            err_setk(err, ERR_NOT_FOUND, "death registration refused: no person with UIN %s", c->uin);
        goto out;
    }
    if (registry_person_is_deceased(db, c->uin, &deceased, NULL, err) != 0)
        goto out;
    if (deceased) {
        err_setk(err, ERR_CONFLICT, "death registration refused: the death of %s is already registered "
                     "(`civreg death show %s`)", c->uin, c->uin);
        goto out;
    }
    /* A death cannot precede the birth; with a partial date of birth only
     * the part that is known can be compared. */
    dob = json_string_value(json_object_get(json_object_get(record, "birth"), "date"));
    if (dob && strncmp(dod, dob, strlen(dob)) < 0) {
        err_set(err, "date_of_death: %s is before the date of birth %s", dod, dob);
        goto out;
    }
    if (reg_now(now, err) != 0 || json_canonical(c->death, &body, err) != 0)
        goto out;
    reg_sha256_hex(body.data, body.len, hash);
    date_today(&y, &m, &d);
    if (db_series_next(db, DB_SERIES_DEATH, c->actor->node_office, y, &n, err) != 0)
        goto out;
    (void)snprintf(regno, sizeof regno, "%s/D/%d/%06lld", c->actor->node_office, y, n);
    if ((id = reg_new_id(c->actor->node_office, 'D')) == NULL) {
        err_oom(err);
        goto out;
    }
    if (reg_person_hash(c->uin, record_id, person_hash, err) != 0)
        goto out;
    edata = json_pack("{s:s, s:s, s:s, s:s}", "registration_number", regno, "uin", c->uin,
                      "date_of_death", dod, "record_id", record_id);
    if (edata == NULL) {
        err_oom(err);
        goto out;
    }
    if (reg_event_append_two(db, c->actor, "death.register", "death", id, hash, "person", c->uin,
                             person_hash, edata, now, &seq, err) != 0)
        goto out;
    if (db_run(db,
               "INSERT INTO deaths(id, uin, office, registration_number, date_of_death, data,"
               " hash, registered_by, registered_at, event_seq)"
               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
               "storing the death", err, "sssssssssI", id, c->uin, c->actor->node_office, regno,
               dod, buf_str(&body), hash, c->actor->username, now, (long long)seq) != 0)
        goto out;
    json_decref(c->result);
    c->result = NULL;
    rc = json_out(&c->result,
                  json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "id", id, "registration_number",
                            regno, "uin", c->uin, "date_of_death", dod, "hash", hash, "event",
                            (json_int_t)seq),
                  err);
out:
    buf_release(&body);
    json_decref(record);
    json_decref(edata);
    free(record_id);
    free(id);
    return rc;
}

int registry_death_register(struct db *db, const struct registry_actor *actor, const char *uin,
                            const json_t *death, json_t **result, struct err *err)
{
    struct death_ctx c = { actor, uin, NULL, NULL };
    json_t *norm = NULL;
    int rc;

    if (result)
        *result = NULL;
    if (registry_require_action(actor, "death.register", err) != 0)
        return -1;
    if (registry_uin_check(uin, err) != 0)
        return -1;
    if (registry_death_normalize(death, &norm, err) != 0)
        return -1;
    c.death = norm;
    rc = db_tx_run(db, death_tx, &c, err);
    if (rc == 0) {
        reg_after_commit(db, actor);
        if (result)
            *result = json_incref(c.result);
    }
    json_decref(c.result);
    json_decref(norm);
    return rc;
}

int registry_person_is_deceased(struct db *db, const char *uin, bool *deceased, json_t **death,
                                struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = -1, step;

    *deceased = false;
    if (death)
        *death = NULL;
    if (db_prepare(db, &st,
                   "SELECT id, registration_number, date_of_death, data, registered_by,"
                   " registered_at, event_seq, hash FROM deaths WHERE uin = ?1",
                   err) != 0)
        return -1;
    sqlite3_bind_text(st, 1, uin ? uin : "", -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        /* not registered here: a death another district registered and the
         * national tier passed on counts as well (national_evidence.c) */
        json_t *nd = NULL;
        if (registry_national_death_of(db, uin, &nd, err) == 0) {
            rc = 0;
            *deceased = nd != NULL;
            if (nd && death && json_object_set_new(nd, "national", json_true()) == 0)
                *death = json_incref(nd);
            json_decref(nd);
        }
    } else if (step != SQLITE_ROW) {
        db_sql_fail(db, "reading deaths", err);
    } else {
        *deceased = true;
        rc = 0;
        if (death) {
            json_t *data = NULL;
            if (db_column_parse(st, 3, &data, err) != 0) {
                rc = -1;
            } else if ((*death = json_pack(
                            "{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:I, s:s}", "id",
                            sqlite3_column_text(st, 0), "uin", uin, "registration_number",
                            sqlite3_column_text(st, 1), "date_of_death",
                            sqlite3_column_text(st, 2), "death", data, "registered_by",
                            sqlite3_column_text(st, 4), "registered_at",
                            sqlite3_column_text(st, 5), "event",
                            (json_int_t)sqlite3_column_int64(st, 6), "hash",
                            sqlite3_column_text(st, 7))) == NULL) {
                rc = err_oom(err);
            }
        }
    }
    sqlite3_finalize(st);
    return rc;
}

int registry_death_show(struct db *db, const struct registry_actor *actor, const char *ref,
                        json_t **out, struct err *err)
{
    char *uin = NULL;
    bool deceased = false;
    int r, rc = -1;

    *out = NULL;
    if (registry_require_action(actor, "death.read", err) != 0)
        return -1;
    if (ref == NULL || *ref == '\0')
        return err_set(err, "death show: a UIN or death registration number is required");
    r = db_query_text(db,
                      "SELECT uin FROM deaths WHERE uin = ?1 OR registration_number = ?1"
                      " OR id = ?1",
                      "finding the death", &uin, err, "s", ref);
    if (r < 0)
        goto out;
    if (r == 0) {
        err_set(err, "no registered death for '%.64s'", ref);
        goto out;
    }
    if (registry_person_is_deceased(db, uin, &deceased, out, err) != 0)
        goto out;
    rc = deceased ? 0 : err_set(err, "no registered death for '%.64s'", ref);
out:
    free(uin);
    return rc;
}

int reg_death_annotate(struct db *db, const char *uin, json_t *obj, struct err *err)
{
    json_t *death = NULL;
    bool deceased = false;

    if (uin == NULL)
        return 0;
    if (registry_person_is_deceased(db, uin, &deceased, &death, err) != 0)
        return -1;
    if (json_object_set_new(obj, "deceased", json_boolean(deceased)) != 0 ||
        (deceased && json_object_set_new(obj, "death", death) != 0))
        return err_oom(err);
    return 0;
}
