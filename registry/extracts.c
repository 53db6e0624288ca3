/* civreg registry: certified extracts of birth records.
 *
 * The registry decides what an extract certifies (the "data" of a visible
 * digital seal: header and message built from the registered record) and
 * records that it was issued (table extracts, signed extract.issue event).
 * The seal's signature comes from the caller's callback, since the barcode
 * signer's key belongs to the PKI (issuance/), which the registry does not
 * depend on; the CLI joins them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encode.h"
#include "core/json.h"
#include "db/rows.h"
#include "core/utf8.h"
#include "registry_int.h"

#define PAYLOAD_MAX 8192

struct extract_src {
    char *record_id;
    char *office;
    char *office_name;
    char *country;
    char *regno;
    char *uin;
    char *status;
    char hash[65];
    json_t *data;
};

static void src_release(struct extract_src *s)
{
    free(s->record_id);
    free(s->office);
    free(s->office_name);
    free(s->country);
    free(s->regno);
    free(s->uin);
    free(s->status);
    json_decref(s->data);
    memset(s, 0, sizeof *s);
}

static int src_load(struct db *db, const struct registry_actor *actor, const char *ref,
                    struct extract_src *s, struct err *err)
{
    sqlite3_stmt *st = NULL;
    char *id = NULL;
    int r, rc = -1;

    memset(s, 0, sizeof *s);
    if (reg_record_find(db, actor, ref, &id, err) != 0)
        return -1;
    r = db_query_row(db, &st,
                     "SELECT b.office, o.name, o.country, b.registration_number, b.uin, b.status,"
                     " v.hash, v.data FROM birth_records b"
                     " JOIN offices o ON o.code = b.office"
                     " JOIN record_versions v ON v.record_id = b.id AND v.version = b.version"
                     " WHERE b.id = ?1",
                     "reading the record", err, "s", id);
    if (r != 1) {
        if (r == 0)
            err_set(err, "record %s: its office or current version is missing", id);
        goto out;
    }
    s->record_id = id;
    id = NULL;
    s->office = db_column_dup(st, 0);
    s->office_name = db_column_dup(st, 1);
    s->country = db_column_dup(st, 2);
    s->regno = db_column_dup(st, 3);
    s->uin = db_column_dup(st, 4);
    s->status = db_column_dup(st, 5);
    (void)snprintf(s->hash, sizeof s->hash, "%s", (const char *)sqlite3_column_text(st, 6));
    if (s->office == NULL || s->office_name == NULL || s->country == NULL || s->status == NULL) {
        err_oom(err);
        goto out;
    }
    if (db_column_parse(st, 7, &s->data, err) != 0)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(st);
    free(id);
    return rc;
}

static const char *str_at(const json_t *rec, const char *sec, const char *key)
{
    return json_string_value(json_object_get(json_object_get(rec, sec), key));
}

/* "Given Family" of a parent section, or NULL when absent. */
static json_t *full_name(const json_t *rec, const char *sec)
{
    const char *g = str_at(rec, sec, "given_names"), *f = str_at(rec, sec, "family_name");
    struct buf b = BUF_INIT(1024);
    json_t *v;

    if (g == NULL && f == NULL)
        return NULL;
    if (buf_printf(&b, "%s%s%s", g ? g : "", g && f ? " " : "", f ? f : "") != 0)
        return NULL;
    v = json_string(buf_str(&b));
    buf_release(&b);
    return v;
}

/* The sealed message. Short keys keep the QR code small enough to scan from
 * a phone photo; docs/extracts.md lists them. */
static int build_data(const struct extract_src *s, const char *xid, const char *doi,
                      const json_t *death, json_t **out, struct err *err)
{
    const json_t *rec = s->data;
    const char *sex = str_at(rec, "child", "sex");
    const char *loc = str_at(rec, "birth", "locality"), *dist = str_at(rec, "birth", "district");
    struct buf pob = BUF_INIT(1024);
    json_t *msg = NULL, *v;
    int rc = -1;

    *out = NULL;
    if ((msg = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "xid", xid, "rn", s->regno,
                         "uin", s->uin, "gn", str_at(rec, "child", "given_names"), "fn",
                         str_at(rec, "child", "family_name"), "dob", str_at(rec, "birth", "date"),
                         "of", s->office, "doi", doi)) == NULL)
        goto oom;
    /* Doc 9303-4 sex codes */
    if (json_object_set_new(msg, "sx", json_string(sex && strcmp(sex, "female") == 0 ? "F"
                                                   : sex && strcmp(sex, "male") == 0 ? "M"
                                                                                      : "X")) != 0)
        goto oom;
    if (buf_printf(&pob, "%s, %s", loc ? loc : "", dist ? dist : "") != 0 ||
        json_object_set_new(msg, "pob", json_string(buf_str(&pob))) != 0)
        goto oom;
    if ((v = full_name(rec, "mother")) != NULL && json_object_set_new(msg, "mo", v) != 0)
        goto oom;
    if ((v = full_name(rec, "father")) != NULL && json_object_set_new(msg, "fa", v) != 0)
        goto oom;
    if (json_object_get(rec, "registration_date") &&
        json_object_set(msg, "rd", json_object_get(rec, "registration_date")) != 0)
        goto oom;
    if (death && json_object_set(msg, "dod", json_object_get(death, "date_of_death")) != 0)
        goto oom;
    rc = json_out(out,
                  json_pack("{s:{s:s, s:i, s:s}, s:O}", "hdr", "t", REGISTRY_EXTRACT_TYPE, "v", 1,
                            "is", s->country, "msg", msg),
                  err);
    goto out;
oom:
    err_oom(err);
out:
    buf_release(&pob);
    json_decref(msg);
    return rc;
}

struct extract_ctx {
    const struct registry_actor *actor;
    const char *ref;
    registry_seal_fn seal;
    void *seal_ctx;
    json_t *result;
    bool reprint_rule; /* a second extract of a record needs REASON */
    const char *reason;
};

/* The extracts of record ID so far: *N. */
static int extracts_of(struct db *db, const char *id, long long *n, struct err *err)
{
    return db_query_int64(db, "SELECT count(*) FROM extracts WHERE record_id = ?1",
                          "counting the record's extracts", n, err, "s", id) < 0
               ? -1
               : 0;
}

static int extract_tx(struct db *db, void *arg, struct err *err)
{
    struct extract_ctx *c = arg;
    struct extract_src s;
    struct buf payload = BUF_INIT(PAYLOAD_MAX);
    json_t *death = NULL, *data = NULL, *seal = NULL, *edata = NULL;
    char now[TIME_ISO8601_LEN + 1], doi[11], seal_hash[65], signer_hash[65] = "";
    char *xid = NULL;
    unsigned char *cer = NULL;
    size_t cer_len = 0;
    const char *cer_b64;
    bool deceased = false;
    uint64_t seq;
    int rc = -1;

    if (src_load(db, c->actor, c->ref, &s, err) != 0)
        return -1;
    if (strcmp(s.status, "registered") != 0 || s.regno == NULL || s.uin == NULL) {
        err_setk(err, ERR_CONFLICT, "extract refused: record %s is %s; only registered births are certified",
                s.record_id, s.status);
        goto out;
    }
    if (c->reprint_rule) {
        long long before = 0;
        if (extracts_of(db, s.record_id, &before, err) != 0)
            goto out;
        if (before > 0 && (c->reason == NULL || c->reason[0] == '\0')) {
            err_set(err,
                    "extract refused: record %s already has %lld extract%s; a reprint needs a "
                    "reason",
                    s.record_id, before, before == 1 ? "" : "s");
            goto out;
        }
    }
    if (registry_person_is_deceased(db, s.uin, &deceased, &death, err) != 0)
        goto out;
    if (reg_now(now, err) != 0)
        goto out;
    memcpy(doi, now, 10);
    doi[10] = '\0';
    if ((xid = reg_new_id(c->actor->node_office, 'X')) == NULL) {
        err_oom(err);
        goto out;
    }
    if (build_data(&s, xid, doi, death, &data, err) != 0)
        goto out;
    if (c->seal(c->seal_ctx, data, &seal, err) != 0) {
        err_prefix(err, "extract: sealing failed");
        goto out;
    }
    if (!json_equal(json_object_get(seal, "data"), data)) {
        err_set(err, "extract: the sealer changed the sealed data");
        goto out;
    }
    /* ASCII only, like issuance's vds_payload: see there why */
    if (json_dump_ascii(seal, &payload, err) != 0)
        goto out;
    reg_sha256_hex(payload.data, payload.len, seal_hash);
    cer_b64 = json_string_value(json_object_get(json_object_get(seal, "sig"), "cer"));
    if (cer_b64 == NULL || b64url_decode(cer_b64, strlen(cer_b64), 8192, &cer, &cer_len, err) != 0) {
        err_set(err, "extract: the seal carries no signer certificate");
        goto out;
    }
    reg_sha256_hex(cer, cer_len, signer_hash);
    edata = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "type", REGISTRY_EXTRACT_TYPE,
                      "registration_number", s.regno, "uin", s.uin, "date_of_issue", doi,
                      "signer_cert_sha256", signer_hash, "deceased", deceased);
    if (edata == NULL ||
        (c->reason != NULL && c->reason[0] != '\0' &&
         json_object_set_new(edata, "reason", json_string(c->reason)) != 0)) {
        err_oom(err);
        goto out;
    }
    if (reg_event_append_two(db, c->actor, "extract.issue", "extract", xid, seal_hash, "record",
                             s.record_id, s.hash, edata, now, &seq, err) != 0)
        goto out;
    if (db_run(db,
               "INSERT INTO extracts(id, record_id, uin, seal, seal_hash, signer, issued_by,"
               " issued_at, event_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
               "storing the extract", err, "ssssssssI", xid, s.record_id, s.uin, buf_str(&payload),
               seal_hash, signer_hash, c->actor->username, now, (long long)seq) != 0)
        goto out;
    json_decref(c->result);
    c->result = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:s, s:s, s:I,"
                          " s:O, s:b}",
                          "id", xid, "record_id", s.record_id, "registration_number", s.regno,
                          "uin", s.uin, "office", s.office, "office_name", s.office_name,
                          "country", s.country, "issued_at", now, "issued_by",
                          c->actor->username, "seal", seal, "payload", buf_str(&payload),
                          "seal_sha256", seal_hash, "event", (json_int_t)seq, "record", s.data,
                          "deceased", deceased);
    if (c->result == NULL) {
        err_oom(err);
        goto out;
    }
    if (death && json_object_set(c->result, "death", death) != 0) {
        err_oom(err);
        goto out;
    }
    rc = 0;
out:
    buf_release(&payload);
    json_decref(death);
    json_decref(data);
    json_decref(seal);
    json_decref(edata);
    free(xid);
    free(cer);
    src_release(&s);
    return rc;
}

int registry_extract_issue(struct db *db, const struct registry_actor *actor, const char *ref,
                           registry_seal_fn seal, void *seal_ctx, json_t **out, struct err *err)
{
    return registry_extract_print(db, actor, ref, NULL, false, seal, seal_ctx, out, err);
}

int registry_extract_print(struct db *db, const struct registry_actor *actor, const char *ref,
                           const char *reason, bool reprint_rule, registry_seal_fn seal,
                           void *seal_ctx, json_t **out, struct err *err)
{
    struct extract_ctx c = { actor, ref, seal, seal_ctx, NULL, reprint_rule, reason };
    int rc;

    *out = NULL;
    if (registry_require_action(actor, "extract.issue", err) != 0)
        return -1;
    if (reason != NULL && (strlen(reason) > 500 || !utf8_valid(reason, strlen(reason))))
        return err_set(err, "reason: at most 500 bytes of UTF-8 text");
    if (seal == NULL)
        return err_set(err, "extract issue: no seal signer (the barcode signer of the PKI)");
    rc = db_tx_run(db, extract_tx, &c, err);
    if (rc == 0) {
        reg_after_commit(db, actor);
        *out = json_incref(c.result);
    }
    json_decref(c.result);
    return rc;
}

static int extract_row(sqlite3_stmt *st, void *ctx, json_t **row, struct err *err)
{
    (void)ctx;
    (void)err;
    *row = json_pack("{s:s, s:s, s:s, s:s?}", "id", sqlite3_column_text(st, 0), "issued_by",
                     sqlite3_column_text(st, 1), "issued_at", sqlite3_column_text(st, 2),
                     "reason", sqlite3_column_text(st, 3));
    return 0;
}

int registry_extract_list(struct db *db, const struct registry_actor *actor, const char *ref,
                          json_t **out, struct err *err)
{
    char *id = NULL;
    json_t *list = NULL;
    int r, rc = -1;

    *out = NULL;
    if (registry_require_role(actor, ROLE_CLERK | ROLE_REGISTRAR | ROLE_AUDITOR, "extract list",
                              err) != 0)
        return -1;
    r = reg_record_resolve_as(db, actor, ref, &id, err);
    if (r != 0)
        return r > 0 ? err_set(err, "no record '%.64s'", ref ? ref : "") : -1;
    if (db_query_rows(db,
                      "SELECT x.id, x.issued_by, x.issued_at, json_extract(e.body, '$.data.reason')"
                      " FROM extracts x JOIN events e ON e.seq = x.event_seq"
                      " WHERE x.record_id = ?1 ORDER BY x.event_seq",
                      "listing the record's extracts", extract_row, NULL, &list, err, "s", id) != 0)
        goto out;
    rc = json_out(out, json_pack("{s:s, s:O}", "record_id", id, "extracts", list), err);
out:
    json_decref(list);
    free(id);
    return rc;
}
