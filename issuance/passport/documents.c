/* Documents after issuance: status changes with reason and evidence, the
 * alert-list export of lost, stolen and revoked numbers, expiry, and the
 * provenance trace from a document number. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "db/db.h"
#include "office_app_int.h"
#include "registry/registry.h"

static const char *const doc_cols[] = {
    "number", "doc_type", "application_id", "uin", "issuing_state", "status", "booklet_serial",
    "date_of_issue", "date_of_expiry", "status_reason", "status_evidence", "status_at",
    "status_by", "allocated_at",
};

int office_document_show(struct office_env *env, const char *number, json_t **out,
                         struct err *err)
{
    sqlite3_stmt *st = NULL;
    int s, rc = -1;

    *out = NULL;
    s = db_query_row(env->db, &st,
                     "SELECT number, doc_type, application_id, uin, issuing_state, status, "
                     "booklet_serial, date_of_issue, date_of_expiry, status_reason, "
                     "status_evidence, status_at, status_by, allocated_at FROM documents "
                     "WHERE number = ?1", "documents", err, "s", number);
    if (s == 1) {
        /* status_evidence is JSON; a document without its status must not
         * reach a transition */
        rc = json_out(out, office_row_json(st, doc_cols, 14, 10, 10), err);
    } else if (s == 0) {
        err_setk(err, ERR_NOT_FOUND, "document %s: no such document number", number);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Which status may follow which (the ones a status change may set):
 *   lost, stolen    a valid document (the holder reports it)
 *   revoked         a valid, lost or stolen document (the state withdraws it)
 *   cancelled       an allocated, personalized or valid document
 *   expired         a valid document past its expiry date
 * Lost, stolen and revoked numbers go to alert lists; none returns to valid. */
static int transition_ok(const char *from, const char *to)
{
    if (strcmp(to, "lost") == 0 || strcmp(to, "stolen") == 0)
        return strcmp(from, "valid") == 0;
    if (strcmp(to, "revoked") == 0)
        return strcmp(from, "valid") == 0 || strcmp(from, "lost") == 0 ||
               strcmp(from, "stolen") == 0;
    if (strcmp(to, "cancelled") == 0)
        return strcmp(from, "allocated") == 0 || strcmp(from, "personalized") == 0 ||
               strcmp(from, "valid") == 0;
    if (strcmp(to, "expired") == 0)
        return strcmp(from, "valid") == 0;
    return 0;
}

struct set_status_ctx {
    struct office_env *env;
    const char *number, *status, *reason;
    const json_t *evidence;
};

static int set_status_tx(struct db *db, void *arg, struct err *err)
{
    const struct set_status_ctx *c = arg;
    struct office_env *env = c->env;
    const struct office_actor *a = &env->actor;
    const char *number = c->number, *status = c->status, *reason = c->reason;
    const json_t *evidence = c->evidence;
    struct buf ev = BUF_INIT(64 * 1024);
    json_t *doc = NULL;
    const char *from;
    int rc = -1;


    if (office_document_show(env, number, &doc, err) != 0)
        goto out;
    from = json_string_value(json_object_get(doc, "status"));
    if (!transition_ok(from, status)) {
        err_setk(err, ERR_CONFLICT, "document %s is %s: it cannot become %s", number, from, status);
        goto out;
    }
    if (strcmp(status, "expired") == 0) {
        const char *exp = json_string_value(json_object_get(doc, "date_of_expiry"));
        int y, m, d;
        char today[11];
        date_today(&y, &m, &d);
        /* cannot truncate: a gmtime_r date: 10 characters */
        (void)snprintf(today, sizeof today, "%04d-%02d-%02d", y, m, d);
        if (exp == NULL || strcmp(exp, today) >= 0) {
            err_set(err, "document %s expires on %s: not expired yet", number, exp ? exp : "?");
            goto out;
        }
    }
    {
        json_t *none = evidence ? NULL : json_array();
        int r = json_canonical(evidence ? evidence : none, &ev, err);
        json_decref(none);
        if (r != 0)
            goto out;
    }
    if (office_doc_set(db, a, number, status, reason, buf_str(&ev), err) != 0)
        goto out;
    {
        json_t *objs = json_pack("{s:s, s:s, s:s, s:O?}", "from", from, "status", status,
                                 "reason", reason, "evidence", (json_t *)evidence);
        const char *e0 = NULL, *e1 = NULL;
        if (evidence) {
            e0 = json_string_value(json_array_get(evidence, 0));
            e1 = json_string_value(json_array_get(evidence, 1));
        }
        if (office_log(db, a, "document.status", objs, err, "document", number, "person",
                       json_string_value(json_object_get(doc, "uin")), "blob", e0, "blob", e1,
                       NULL) != 0)
            goto out;
    }
    rc = 0;
out:
    json_decref(doc);
    buf_release(&ev);
    return rc;
}

int office_document_set_status(struct office_env *env, const char *number, const char *status,
                               const char *reason, const json_t *evidence, struct err *err)
{
    struct db *db = env->db;
    const struct office_actor *a = &env->actor;
    struct set_status_ctx c = { env, number, status, reason, evidence };
    unsigned need;

    if (status == NULL || (strcmp(status, "lost") != 0 && strcmp(status, "stolen") != 0 &&
                           strcmp(status, "revoked") != 0 && strcmp(status, "cancelled") != 0 &&
                           strcmp(status, "expired") != 0))
        return err_set(err, "document status '%s': lost, stolen, revoked, cancelled or expired",
                       status ? status : "");
    /* Reports of loss and theft are taken at the counter; revoking and
     * cancelling are decisions. */
    need = registry_action_roles(strcmp(status, "lost") == 0 || strcmp(status, "stolen") == 0
                                     ? "document.report_loss"
                                     : "document.revoke");
    if (office_require(a, need, "change document status", err) != 0)
        return -1;
    if (reason == NULL || *reason == '\0' || strlen(reason) > 1000)
        return err_set(err, "document %s: marking it %s needs a reason (1 to 1000 bytes)",
                       number, status);
    if (evidence) {
        size_t i;
        json_t *h;
        if (!json_is_array(evidence))
            return err_set(err, "evidence: an array of blob hashes");
        json_array_foreach(evidence, i, h) {
            if (!json_is_string(h) ||
                registry_blob_exists(db, json_string_value(h), err) != 0)
                return err_prefix(err, "evidence %zu", i);
        }
    }
    return db_tx_run(db, set_status_tx, &c, err);
}

int office_doc_cancel_replaced(struct db *db, const struct office_actor *a, const char *number,
                               const char *reason, struct err *err)
{
    char now[TIME_ISO8601_LEN + 1];

    office_now(db, now);
    return db_run(db,
                  "UPDATE documents SET status = 'cancelled', status_reason = ?2, "
                  "status_at = ?3, status_by = ?4 WHERE number = ?1 AND status IN "
                  "('allocated', 'personalized', 'valid')",
                  "documents", err, "ssss", number, reason, now, a->username);
}

static json_t *number_row(sqlite3_stmt *st, void *ctx)
{
    (void)ctx;
    return db_column_json(st, 0);
}

int office_documents_expire(struct office_env *env, int *count, struct err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *numbers = NULL;
    int rc = -1;
    size_t i;
    json_t *n;

    *count = 0;
    if (db_prepare(env->db, &st,
                   "SELECT number FROM documents WHERE status = 'valid' AND date_of_expiry < "
                   "date('now') ORDER BY number", err) != 0 ||
        db_rows_json(env->db, st, "documents", number_row, NULL, &numbers, err) != 0)
        goto out;
    json_array_foreach(numbers, i, n) {
        if (office_document_set_status(env, json_string_value(n), "expired",
                                       "past its date of expiry", NULL, err) != 0)
            goto out;
        (*count)++;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    json_decref(numbers);
    return rc;
}

/* RFC 4180: quote a field when it holds a comma, quote or line break. A
 * field a spreadsheet would read as a formula (it starts with = + - @, a
 * tab or a carriage return: a reason typed as =HYPERLINK(...) would run on
 * the border agency's desk) is neutralised as OWASP's "CSV injection"
 * guidance says: a single quote in front, the whole field quoted. */
static int csv_field(struct buf *b, const char *s, bool last)
{
    bool formula = s && s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
    bool quote = formula || (s && strpbrk(s, ",\"\r\n") != NULL);
    if (quote && buf_append_byte(b, '"') != 0)
        return -1;
    if (formula && buf_append_byte(b, '\'') != 0)
        return -1;
    for (const char *p = s ? s : ""; *p; p++) {
        if (*p == '"' && buf_append_byte(b, '"') != 0)
            return -1;
        if (buf_append_byte(b, (unsigned char)*p) != 0)
            return -1;
    }
    if (quote && buf_append_byte(b, '"') != 0)
        return -1;
    return buf_append_str(b, last ? "\r\n" : ",");
}

/* One CSV line of ST's nine columns: their names (HEADER) or the current
 * row's values. */
static int csv_line(struct buf *out, sqlite3_stmt *st, bool header)
{
    for (int i = 0; i < 9; i++)
        if (csv_field(out,
                      header ? sqlite3_column_name(st, i)
                             : (const char *)sqlite3_column_text(st, i),
                      i == 8) != 0)
            return -1;
    return 0;
}

int office_documents_alerts(struct office_env *env, const char *format, struct buf *out,
                            struct err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *arr = NULL, *doc = NULL;
    int s; /* 0 done, -1 failed (ERR set), -2 out of memory or output full */

    if (format == NULL || (strcmp(format, "csv") != 0 && strcmp(format, "json") != 0))
        return err_set(err, "alert export format '%s': csv or json", format ? format : "");
    /* the columns are named as the CSV header and the JSON members */
    if (db_prepare(env->db, &st,
                   "SELECT number AS document_number, CASE doc_type WHEN 'TD3' THEN "
                   "'passport' ELSE 'identity card' END AS document_type, issuing_state AS "
                   "issuing_country, upper(status) AS status, status_at AS reported_at, "
                   "date_of_issue, date_of_expiry, CASE WHEN date_of_issue IS NULL THEN "
                   "'blank' ELSE 'personalized' END AS blank_or_personalized, status_reason "
                   "AS reason FROM documents WHERE status IN ('lost', 'stolen', 'revoked') "
                   "ORDER BY status_at, number", err) != 0)
        return -1;
    if (strcmp(format, "csv") == 0) {
        s = csv_line(out, st, true) != 0 ? -2 : 1;
        while (s == 1 && (s = db_step_row(env->db, st, "documents", err)) == 1)
            s = csv_line(out, st, false) != 0 ? -2 : 1;
    } else if ((s = db_rows_json(env->db, st, "documents", NULL, NULL, &arr, err)) == 0) {
        doc = json_pack("{s:s, s:O}", "format", "civreg-sltd-1", "documents", arr);
        if (doc == NULL || json_dump_compact(doc, out, err) != 0 ||
            buf_append_byte(out, '\n') != 0)
            s = -2;
    }
    sqlite3_finalize(st);
    json_decref(arr);
    json_decref(doc);
    if (s == -2)
        err_setk(err, ERR_INTERNAL, "alert export: out of memory or over the output limit");
    return s == 0 ? 0 : -1;
}

/* The trace of a holder enrolled from the national tier: {national_evidence
 * HASH, bundle} from the evidence blob the application.enrol event cites.
 * Fails (keeping ERR) when the application has none. */
static int national_trace(struct office_env *env, const json_t *app, json_t **out,
                          struct err *err)
{
    const char *hash = NULL;
    unsigned char *p = NULL;
    json_t *b = NULL, *c;
    size_t len = 0, i;

    json_array_foreach(json_object_get(app, "checks"), i, c)
        if (json_string_value(json_object_get(c, "check")) &&
            strcmp(json_string_value(json_object_get(c, "check")), "national_evidence") == 0)
            hash = json_string_value(json_object_get(c, "evidence"));
    if (hash == NULL)
        return -1;
    if (registry_blob_get(env->db, env->blobs_dir, hash, &p, &len, err) != 0)
        return -1;
    if (json_parse((const char *)p, len, &b, err) != 0) {
        free(p);
        return -1;
    }
    free(p);
    return json_out(out, json_pack("{s:s, s:o}", "national_evidence", hash, "bundle", b), err);
}

int office_document_trace(struct office_env *env, const char *number, json_t **out,
                          struct err *err)
{
    json_t *doc = NULL, *app = NULL, *person = NULL, *events = NULL;
    int rc = -1;

    *out = NULL;
    if (office_document_show(env, number, &doc, err) != 0)
        return -1;
    if (office_app_show(env, json_string_value(json_object_get(doc, "application_id")), &app,
                        err) != 0)
        goto out;
    /* The registry's trace of the person: every event naming the person
     * (the passport office's events name the UIN too), the record
     * versions, link statements and scans, each event's signature and
     * inclusion proof. */
    if (registry_audit_trace(env->db, env->reg, json_string_value(json_object_get(doc, "uin")),
                             &person, err) != 0) {
        /* a person of another district: the national evidence the
         * enrolment verified and kept (its bundle verifies offline) */
        if (err_kind(err) != ERR_NOT_FOUND || national_trace(env, app, &person, err) != 0)
            goto out;
    }
    /* The events of this document and its application, picked out. */
    events = json_array();
    bool bad = events == NULL; /* an event that could not be added */
    {
        const char *app_id = json_string_value(json_object_get(doc, "application_id"));
        size_t i, k;
        json_t *ev, *o;
        json_array_foreach(json_object_get(person, "events"), i, ev) {
            json_array_foreach(json_object_get(ev, "objects"), k, o) {
                const char *oid = json_string_value(json_object_get(o, "id"));
                if (oid && (strcmp(oid, number) == 0 || strcmp(oid, app_id) == 0)) {
                    bad |= json_array_append(events, ev) != 0;
                    break;
                }
            }
        }
    }
    rc = json_out(out,
                  bad ? NULL
                      : json_pack("{s:O, s:O, s:O, s:O}", "document", doc, "application", app,
                                  "document_events", events, "trace", person),
                  err);
out:
    json_decref(doc);
    json_decref(app);
    json_decref(person);
    json_decref(events);
    return rc;
}
