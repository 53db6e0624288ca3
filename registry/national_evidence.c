/* civreg registry: what the national tier says about a person of another
 * district, checked before this office relies on it.
 *
 * The national tier answers with a civreg.bundle.v1 of the district that
 * holds the person (registry/national/query.c). Nothing in it is trusted
 * because it came from the nation: the holding district's key is pinned here
 * on first use (setting national.office_key.OFFICE, never replaced), the
 * tree head must carry that key's signature, every event must be included in
 * that head (RFC 6962) and signed by a key the district's own log vouches
 * for, the link statement and record version must hash to what signed events
 * name (registry_bundle_verify). Only then is the person view built from the
 * signed bytes. A death the national tier reports is kept in
 * national_deaths: it refuses issuance here too, offline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "db/datadir.h"
#include "db/rows.h"
#include "registry_int.h"

static const char *s_of(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* An office code as every office is named: 2 to 8 of A-Z, 0-9. */
static bool office_code_ok(const char *s)
{
    return datadir_check_office_code(s, NULL) == 0;
}

int registry_national_death_add(struct db *db, const char *uin, const char *office,
                                const char *registration_number, const char *date_of_death,
                                long long event_seq, struct err *err)
{
    char now[TIME_ISO8601_LEN + 1];

    if (registry_uin_check(uin, err) != 0)
        return err_prefix(err, "national death");
    if (!office_code_ok(office ? office : ""))
        return err_set(err, "national death of %s: office code '%s' malformed", uin,
                       office ? office : "");
    if (time_iso8601(time(NULL), now) != 0)
        return err_setk(err, ERR_INTERNAL, "clock unavailable");
    return db_run(db,
                  "INSERT INTO national_deaths (uin, office, registration_number, date_of_death,"
                  " event_seq, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                  " ON CONFLICT (uin) DO UPDATE SET office = excluded.office,"
                  " registration_number = excluded.registration_number,"
                  " date_of_death = excluded.date_of_death, event_seq = excluded.event_seq"
                  " WHERE national_deaths.event_seq = -1 AND excluded.event_seq >= 0",
                  "national deaths", err, "ssssIs", uin, office,
                  registration_number ? registration_number : "",
                  date_of_death ? date_of_death : "", event_seq < -1 ? -1LL : event_seq, now);
}

int registry_national_death_cursors(struct db *db, json_t **out, struct err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *o = json_object();
    int s = -1;

    *out = NULL;
    if (o == NULL)
        return err_oom(err);
    if (db_prepare(db, &st,
                   "SELECT office, max(event_seq) FROM national_deaths GROUP BY office", err) == 0)
        while ((s = db_step_row(db, st, "national deaths", err)) == 1)
            if (json_object_set_new(o, (const char *)sqlite3_column_text(st, 0),
                                    json_integer(sqlite3_column_int64(st, 1))) != 0) {
                s = err_oom(err);
                break;
            }
    sqlite3_finalize(st);
    if (s != 0) {
        json_decref(o);
        return -1;
    }
    *out = o;
    return 0;
}

int registry_national_death_of(struct db *db, const char *uin, json_t **death, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int s;

    *death = NULL;
    s = db_query_row(db, &st,
                     "SELECT office, registration_number, date_of_death, received_at"
                     " FROM national_deaths WHERE uin = ?1",
                     "national deaths", err, "s", uin ? uin : "");
    if (s == 1)
        s = json_out(death,
                     json_pack("{s:s, s:s, s:s, s:s, s:s}", "uin", uin, "office",
                               sqlite3_column_text(st, 0), "registration_number",
                               sqlite3_column_text(st, 1), "date_of_death",
                               sqlite3_column_text(st, 2), "received_at",
                               sqlite3_column_text(st, 3)),
                     err);
    sqlite3_finalize(st);
    return s < 0 ? -1 : 0;
}

/* The key pinned for OFFICE, pinning KEY_HEX when none is. */
static int office_key_pin(struct db *db, const char *office, const char *key_hex,
                          struct err *err)
{
    char name[64], *pinned = NULL;
    int rc;

    (void)snprintf(name, sizeof name, "national.office_key.%s", office);
    rc = db_setting_get(db, name, &pinned, err);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        bool same = pinned && strlen(pinned) == strlen(key_hex) &&
                    sodium_memcmp(pinned, key_hex, strlen(key_hex)) == 0;
        free(pinned);
        if (!same)
            return err_setk(err, ERR_CONFLICT,
                            "national evidence refused: the key given for office %s is not the "
                            "one this office pinned for it (%s); an office key never changes",
                            office, name);
        return 0;
    }
    free(pinned);
    return db_setting_set(db, name, key_hex, err);
}

struct first_problem {
    char text[300];
};

static void keep_first(void *ctx, const char *problem)
{
    struct first_problem *f = ctx;
    if (f->text[0] == '\0')
        (void)snprintf(f->text, sizeof f->text, "%s", problem);
}

/* The signed event of TYPE naming record RECORD_ID among the bundle's
 * events (all verified when this runs), parsed. */
static json_t *signed_event_of(const json_t *bundle, const char *type, const char *record_id)
{
    size_t i, j;
    json_t *e, *o;

    json_array_foreach(json_object_get(bundle, "events"), i, e) {
        const char *body = s_of(e, "body");
        json_t *eb = NULL;
        if (json_parse(body, strlen(body), &eb, NULL) != 0)
            continue;
        if (strcmp(s_of(eb, "type"), type) == 0)
            json_array_foreach(json_object_get(eb, "objects"), j, o)
                if (strcmp(s_of(o, "kind"), "record") == 0 &&
                    strcmp(s_of(o, "id"), record_id) == 0)
                    return eb;
        json_decref(eb);
    }
    return NULL;
}

int registry_national_person(struct db *db, const json_t *answer, const char *uin,
                             json_t **person, struct err *err)
{
    const json_t *nat = json_object_get(answer, "national"), *head;
    const char *office = s_of(nat, "office"), *key_hex = s_of(nat, "office_key");
    const char *record_id = s_of(nat, "record_id");
    unsigned char key[REG_PK_BYTES];
    struct first_problem fp = { "" };
    json_t *hb = NULL, *stmt = NULL, *data = NULL, *reg = NULL, *e;
    const char *hbody;
    json_int_t version = -1;
    size_t i;
    int problems, rc = -1;

    *person = NULL;
    if (!json_is_object(answer) || strcmp(s_of(answer, "format"), "civreg.bundle.v1") != 0 ||
        !json_is_object(nat))
        return err_setk(err, ERR_INVALID, "national evidence refused: the answer is not a "
                                          "civreg.bundle.v1 with its national part");
    if (strcmp(s_of(nat, "uin"), uin) != 0)
        return err_setk(err, ERR_INVALID, "national evidence refused: asked for %s, the answer "
                                          "is about '%s'", uin, s_of(nat, "uin"));
    if (!office_code_ok(office) || reg_hex32(key_hex, key, "office key", NULL) != 0 ||
        *record_id == '\0')
        return err_setk(err, ERR_INVALID, "national evidence refused: holding office, its key "
                                          "or the record id malformed");
    /* the head must be the holding office's */
    head = json_object_get(answer, "tree_head");
    hbody = s_of(head, "body");
    if (json_parse(hbody, strlen(hbody), &hb, NULL) != 0 ||
        strcmp(s_of(hb, "office"), office) != 0) {
        err_setk(err, ERR_INVALID, "national evidence refused: the signed tree head is not "
                                   "office %s's", office);
        goto out;
    }
    problems = registry_bundle_verify(answer, key, keep_first, &fp, err);
    if (problems < 0)
        goto out;
    if (problems > 0) {
        err_setk(err, ERR_INVALID, "national evidence refused: %s (%d problem%s)", fp.text,
                 problems, problems == 1 ? "" : "s");
        goto out;
    }
    /* the link of this UIN to the record, verified above */
    json_array_foreach(json_object_get(answer, "links"), i, e) {
        const char *st = s_of(e, "statement");
        json_t *sj = NULL;
        if (json_parse(st, strlen(st), &sj, NULL) == 0 && strcmp(s_of(sj, "uin"), uin) == 0 &&
            strcmp(s_of(sj, "record_id"), record_id) == 0) {
            json_decref(stmt);
            stmt = sj;
        } else {
            json_decref(sj);
        }
    }
    if (stmt == NULL) {
        err_setk(err, ERR_INVALID, "national evidence refused: no signed link of %s to record "
                                   "%s", uin, record_id);
        goto out;
    }
    /* the latest verified version of the record */
    json_array_foreach(json_object_get(answer, "record_versions"), i, e) {
        json_int_t v = json_integer_value(json_object_get(e, "version"));
        if (strcmp(s_of(e, "record_id"), record_id) == 0 && v > version) {
            const char *d = s_of(e, "data");
            json_decref(data);
            data = NULL;
            if (json_parse(d, strlen(d), &data, NULL) != 0 || !json_is_object(data)) {
                err_setk(err, ERR_INVALID, "national evidence refused: record %s version "
                                           "%lld is not a JSON object", record_id,
                         (long long)v);
                goto out;
            }
            version = v;
        }
    }
    if (data == NULL || (reg = signed_event_of(answer, "record.register", record_id)) == NULL) {
        err_setk(err, ERR_INVALID, "national evidence refused: record %s has no signed version "
                                   "or registration in the answer", record_id);
        goto out;
    }
    if (office_key_pin(db, office, key_hex, err) != 0)
        goto out;
    if (json_is_true(json_object_get(nat, "deceased"))) {
        const json_t *d = json_object_get(nat, "death");
        if (registry_national_death_add(db, uin, s_of(d, "office")[0] ? s_of(d, "office") : office,
                                        s_of(d, "registration_number"), s_of(d, "date_of_death"),
                                        -1, err) != 0)
            goto out;
    }
    rc = json_out(person,
                  json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:I, s:O}, s:b, s:{s:s, s:s, s:I, s:s}}",
                            "uin", uin, "record_id", record_id, "registration_number",
                            s_of(json_object_get(reg, "data"), "registration_number"), "record",
                            "id", record_id, "status", "registered", "version", version, "record",
                            data, "deceased", json_is_true(json_object_get(nat, "deceased")),
                            "national", "office", office, "office_key", key_hex, "tree_size",
                            json_integer_value(json_object_get(hb, "tree_size")), "root_hash",
                            s_of(hb, "root_hash")),
                  err);
out:
    json_decref(hb);
    json_decref(stmt);
    json_decref(data);
    json_decref(reg);
    return rc;
}

struct dup_ctx {
    const struct registry_actor *actor;
    json_t *objects, *data;
    long long seq;
};

static int dup_tx(struct db *db, void *arg, struct err *err)
{
    struct dup_ctx *c = arg;
    char now[TIME_ISO8601_LEN + 1];
    uint64_t seq = 0;

    if (reg_now(now, err) != 0 ||
        registry_event_append_at(db, c->actor, "national.duplicate", c->objects, c->data, now,
                                 &seq, err) != 0)
        return -1;
    c->seq = (long long)seq;
    return 0;
}

int registry_national_dup_resolve(struct db *db, const struct registry_actor *actor,
                                  const json_t *dcase, bool same, const char *reason,
                                  long long *seq, struct err *err)
{
    const char *oa = s_of(dcase, "office_a"), *ra = s_of(dcase, "record_a");
    const char *ob = s_of(dcase, "office_b"), *rb = s_of(dcase, "record_b");
    const char *mine = registry_actor_office(actor), *local;
    struct dup_ctx c = { actor, NULL, NULL, -1 };
    sqlite3_stmt *st = NULL;
    char key[300];
    json_t *rj = NULL;
    int rc = -1;

    *seq = -1;
    if (registry_require_action(actor, "duplicate.resolve", err) != 0)
        return -1;
    if (reason == NULL || *reason == '\0')
        return err_set(err, "duplicate case: a reason is required");
    if (strlen(reason) > 2000 || (rj = json_string(reason)) == NULL)
        return err_set(err, "duplicate case: the reason must be UTF-8 text of at most 2000 bytes");
    json_decref(rj);
    if (!office_code_ok(oa) || !office_code_ok(ob) || *ra == '\0' || *rb == '\0' ||
        strlen(ra) > 100 || strlen(rb) > 100 || strcmp(oa, ob) == 0)
        return err_set(err, "duplicate case: two offices and two record ids expected");
    if (strcmp(mine, oa) != 0 && strcmp(mine, ob) != 0)
        return err_setk(err, ERR_FORBIDDEN, "duplicate case between %s and %s: office %s is not "
                                            "party to it", oa, ob, mine);
    local = strcmp(mine, oa) == 0 ? ra : rb;
    /* this office's record of the case must be one it holds */
    rc = db_query_row(db, &st, "SELECT 1 FROM birth_records WHERE id = ?1", "reading the record",
                      err, "s", local);
    sqlite3_finalize(st);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return err_setk(err, ERR_NOT_FOUND, "duplicate case: record %s is not held by office %s",
                        local, mine);
    rc = -1;
    (void)snprintf(key, sizeof key, "%s/%s|%s/%s", oa, ra, ob, rb);
    c.objects = json_pack("[{s:s, s:s}, {s:s, s:s}]", "kind", "dup_case", "id", key, "kind",
                          "record", "id", local);
    c.data = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "case",
                       json_integer_value(json_object_get(dcase, "id")), "office_a", oa,
                       "record_a", ra, "office_b", ob, "record_b", rb, "decision",
                       same ? "same" : "distinct", "reason", reason);
    if (c.objects == NULL || c.data == NULL) {
        err_oom(err);
        goto out;
    }
    if (reg_tx_run(db, actor, dup_tx, &c, err) != 0)
        goto out;
    *seq = c.seq;
    rc = 0;
out:
    json_decref(c.objects);
    json_decref(c.data);
    return rc;
}
