/* civreg issuance: the passport office's tables as a projection of the
 * signed log (registry/projection.h). `audit verify` replays each office
 * event into the rows it wrote -- applications, documents, the number
 * series, booklet deliveries, booklets and their movements -- and compares
 * every column with what is stored: a stolen passport set back to `valid`
 * by hand no longer verifies.
 *
 * Times: from event version 2 on, every row an office operation writes
 * carries its transaction's time (office_now), which is the event's time;
 * version-1 events leave the time columns unknown (not compared). What an
 * event lacked in version 1 (an application's contact, the number series
 * after an allocation) is likewise unknown for those events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "office.h"
#include "registry/projection.h"

#define OFFICE_BATCH_MAX 100000 /* as booklets.c receives at most */

/* A logged value as a column: the value when it has type TYPE, else
 * unknown (an older event that did not carry it). New reference. */
static json_t *logged(const json_t *data, const char *key, json_type type)
{
    const json_t *v = json_object_get(data, key);
    return v && json_typeof(v) == type ? json_incref((json_t *)v) : proj_unknown();
}

/* V's canonical JSON text, as the office stores JSON columns (RFC 8785);
 * unknown when V is missing. New reference. */
static json_t *canonical(const json_t *v)
{
    struct buf b = BUF_INIT(1 << 20);
    json_t *s;

    if (v == NULL || json_canonical(v, &b, NULL) != 0) {
        buf_release(&b);
        return proj_unknown();
    }
    s = json_stringn((const char *)b.data, b.len);
    buf_release(&b);
    return s;
}

/* The expected row of TABLE keyed by COL = ID (new reference or NULL). */
static json_t *row_of(struct proj *p, const char *table, const char *col, const char *id)
{
    json_t *key = json_pack("{s:s}", col, id ? id : ""), *row;

    row = key ? proj_get(p, table, key) : NULL;
    json_decref(key);
    return row;
}

/* ---- applications ---- */

static void on_enrol(struct proj *p, const struct proj_event *ev)
{
    const json_t *d = ev->data;
    const char *id = proj_object_id(ev, "application", 0);
    const char *replaces = json_string_value(json_object_get(d, "replaces"));

    if (replaces && *replaces == '\0')
        replaces = NULL; /* stored as NULL */
    if (id == NULL) {
        proj_names_none(p, ev, "application");
        return;
    }
    proj_put_new(p, "applications",
                 json_pack("{s:s, s:s, s:s?, s:s?, s:o, s:o, s:s?, s:s, s:o, s:o, s:o, s:o, "
                           "s:s?, s:s, s:o, s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:o}",
                           "id", id, "office", ev->office, "uin", proj_object_id(ev, "person", 0),
                           "record_id", proj_object_id(ev, "record", 0), "doc_type",
                           logged(d, "doc_type", JSON_STRING), "kind",
                           logged(d, "kind", JSON_STRING), "replaces", replaces, "status",
                           "submitted", "holder", canonical(json_object_get(d, "holder")),
                           "contact", canonical(json_object_get(d, "contact")), "checks",
                           canonical(json_object_get(d, "checks")), "photo_hash",
                           logged(d, "photo", JSON_STRING), "signature_hash",
                           json_string_value(json_object_get(d, "signature")), "enrolled_by",
                           ev->actor, "enrolled_at", proj_time(ev), "decided_by", "decided_at",
                           "decision_reason", "document_number", "booklet_serial", "mrz",
                           "datapage_hash", "chip_hash", "updated_at", proj_time(ev)));
}

/* The number series after an approval allocated from it: version 2 logs
 * the row ({pattern, next_seq}); the first allocation creates it. */
static void series_after_allocation(struct proj *p, const struct proj_event *ev,
                                    const char *doc_type)
{
    const json_t *s = json_object_get(ev->data, "series");
    json_t *cur = row_of(p, "doc_number_series", "doc_type", doc_type);

    if (cur == NULL)
        proj_put_new(p, "doc_number_series",
                     json_pack("{s:s, s:o, s:o, s:o, s:s}", "doc_type", doc_type, "pattern",
                               logged(s, "pattern", JSON_STRING), "next_seq",
                               logged(s, "next_seq", JSON_INTEGER), "updated_at", proj_time(ev),
                               "updated_by", ev->actor));
    else
        proj_put_new(p, "doc_number_series",
                     json_pack("{s:s, s:o}", "doc_type", doc_type, "next_seq",
                               logged(s, "next_seq", JSON_INTEGER)));
    json_decref(cur);
}

static void on_approve(struct proj *p, const struct proj_event *ev)
{
    const char *id = proj_object_id(ev, "application", 0);
    const char *number = json_string_value(json_object_get(ev->data, "document_number"));
    const char *serial = json_string_value(json_object_get(ev->data, "booklet"));
    json_t *app = row_of(p, "applications", "id", id), *holder = NULL;
    const char *doc_type = proj_str(app, "doc_type"), *state = NULL;

    if (id == NULL || number == NULL || app == NULL) {
        proj_problem(p, "event %llu: approves an application the log never enrolled",
                     (unsigned long long)ev->seq);
        json_decref(app);
        return;
    }
    /* the document's issuing state is the holder's, as enrolled */
    if (json_is_string(json_object_get(app, "holder")) &&
        json_parse(proj_str(app, "holder"), strlen(proj_str(app, "holder")), &holder, NULL) == 0)
        state = json_string_value(json_object_get(holder, "issuing_state"));
    series_after_allocation(p, ev, doc_type);
    proj_put_new(p, "documents",
                 json_pack("{s:s, s:s, s:s, s:O, s:s, s:s, s:s?, s:n, s:n, s:n, s:n, s:o, s:s, "
                           "s:o}",
                           "number", number, "doc_type", doc_type, "application_id", id, "uin",
                           json_object_get(app, "uin") ? json_object_get(app, "uin")
                                                       : json_null(),
                           "issuing_state", state ? state : "UTO", "status", "allocated",
                           "booklet_serial", serial, "date_of_issue", "date_of_expiry",
                           "status_reason", "status_evidence", "status_at", proj_time(ev),
                           "status_by", ev->actor, "allocated_at", proj_time(ev)));
    proj_put_new(p, "applications",
                 json_pack("{s:s, s:s, s:s, s:o, s:n, s:s, s:s?, s:o}", "id", id, "status",
                           "approved", "decided_by", ev->actor, "decided_at", proj_time(ev),
                           "decision_reason", "document_number", number, "booklet_serial",
                           serial, "updated_at", proj_time(ev)));
    json_decref(holder);
    json_decref(app);
}

static void on_reject(struct proj *p, const struct proj_event *ev)
{
    const char *id = proj_object_id(ev, "application", 0);

    if (id == NULL)
        return;
    proj_put_new(p, "applications",
                 json_pack("{s:s, s:s, s:s, s:o, s:o, s:n, s:n, s:o}", "id", id, "status",
                           "rejected", "decided_by", ev->actor, "decided_at", proj_time(ev),
                           "decision_reason", logged(ev->data, "reason", JSON_STRING),
                           "document_number", "booklet_serial", "updated_at", proj_time(ev)));
}

/* Only the status moves (office_app_set_status). */
static void app_status(struct proj *p, const struct proj_event *ev, const char *status)
{
    const char *id = proj_object_id(ev, "application", 0);

    if (id)
        proj_put_new(p, "applications", json_pack("{s:s, s:s, s:o}", "id", id, "status", status,
                                                  "updated_at", proj_time(ev)));
}

/* A document's status columns (office_doc_set). */
static void doc_status(struct proj *p, const struct proj_event *ev, const char *number,
                       const char *status, json_t *reason, json_t *evidence)
{
    if (number == NULL) {
        json_decref(reason);
        json_decref(evidence);
        return;
    }
    proj_put_new(p, "documents",
                 json_pack("{s:s, s:s, s:o, s:o, s:o, s:s}", "number", number, "status", status,
                           "status_reason", reason ? reason : json_null(), "status_evidence",
                           evidence ? evidence : json_null(), "status_at", proj_time(ev),
                           "status_by", ev->actor));
}

static void on_qc(struct proj *p, const struct proj_event *ev)
{
    bool pass = strcmp(ev->type, "application.qc.pass") == 0;

    app_status(p, ev, pass ? "qc_passed" : "qc_failed");
    /* the number stays with the application and goes on a fresh booklet */
    if (!pass)
        doc_status(p, ev, proj_object_id(ev, "document", 0), "allocated", NULL, NULL);
}

static void on_personalize(struct proj *p, const struct proj_event *ev)
{
    const json_t *d = ev->data;
    const char *id = proj_object_id(ev, "application", 0);
    const char *number = proj_object_id(ev, "document", 0);

    if (id == NULL || number == NULL)
        return;
    proj_put_new(p, "applications",
                 json_pack("{s:s, s:s, s:o, s:o, s:o, s:s?, s:o}", "id", id, "status",
                           "personalized", "booklet_serial", logged(d, "booklet", JSON_STRING),
                           "mrz", logged(d, "mrz", JSON_STRING), "datapage_hash",
                           logged(d, "datapage", JSON_STRING), "chip_hash",
                           json_string_value(json_object_get(d, "chip")), "updated_at",
                           proj_time(ev)));
    proj_put_new(p, "documents",
                 json_pack("{s:s, s:s, s:o, s:o, s:o}", "number", number, "status",
                           "personalized", "booklet_serial", logged(d, "booklet", JSON_STRING),
                           "date_of_issue", logged(d, "date_of_issue", JSON_STRING),
                           "date_of_expiry", logged(d, "date_of_expiry", JSON_STRING)));
}

static void on_issue(struct proj *p, const struct proj_event *ev)
{
    const char *number = proj_object_id(ev, "document", 0);
    const char *cancels = json_string_value(json_object_get(ev->data, "cancels"));
    json_t *app, *old;

    app_status(p, ev, "issued");
    doc_status(p, ev, number, "valid", NULL, NULL);
    if (cancels == NULL || number == NULL)
        return;
    /* office_doc_cancel_replaced: a lost, stolen or revoked document keeps
     * that status for the alert lists; anything still counting is cancelled */
    app = row_of(p, "applications", "id", proj_object_id(ev, "application", 0));
    old = row_of(p, "documents", "number", cancels);
    if (old && (strcmp(proj_str(old, "status"), "allocated") == 0 ||
                strcmp(proj_str(old, "status"), "personalized") == 0 ||
                strcmp(proj_str(old, "status"), "valid") == 0)) {
        char reason[128];
        if (snprintf(reason, sizeof reason, "%s by %s",
                     strcmp(proj_str(app, "kind"), "renewal") == 0 ? "renewed" : "replaced",
                     number) >= (int)sizeof reason)
            proj_problem(p, "event %llu: document number too long", (unsigned long long)ev->seq);
        else
            proj_put_new(p, "documents",
                         json_pack("{s:s, s:s, s:s, s:o, s:s}", "number", cancels, "status",
                                   "cancelled", "status_reason", reason, "status_at",
                                   proj_time(ev), "status_by", ev->actor));
    }
    json_decref(app);
    json_decref(old);
}

static void on_collect(struct proj *p, const struct proj_event *ev)
{
    app_status(p, ev, "collected");
}

static void on_doc_status(struct proj *p, const struct proj_event *ev)
{
    const json_t *d = ev->data, *evidence = json_object_get(d, "evidence");
    json_t *none;

    /* status_evidence: the evidence array, canonical; "[]" when none (the
     * event then holds null) */
    if (!json_is_array(evidence))
        evidence = NULL;
    none = evidence ? NULL : json_array();
    doc_status(p, ev, proj_object_id(ev, "document", 0), proj_str(d, "status"),
               logged(d, "reason", JSON_STRING), canonical(evidence ? evidence : none));
    json_decref(none);
}

static void on_series_set(struct proj *p, const struct proj_event *ev)
{
    const char *doc_type = proj_str(ev->data, "doc_type");
    json_t *cur = row_of(p, "doc_number_series", "doc_type", doc_type);

    /* a new pattern never restarts the sequence */
    proj_put_new(p, "doc_number_series",
                 json_pack("{s:s, s:o, s:o, s:s}", "doc_type", doc_type, "pattern",
                           logged(ev->data, "pattern", JSON_STRING), "updated_at", proj_time(ev),
                           "updated_by", ev->actor));
    if (cur == NULL)
        proj_put_new(p, "doc_number_series",
                     json_pack("{s:s, s:i}", "doc_type", doc_type, "next_seq", 1));
    json_decref(cur);
}

/* ---- booklet stock ---- */

/* One booklet_movements row: the rows are numbered in the order the
 * movements were made, which is the order of their events. */
static void movement(struct proj *p, const struct proj_event *ev, const char *serial,
                     const char *batch, const char *what, const char *application_id,
                     json_t *reason)
{
    json_t *st = proj_state(p, "office");
    json_int_t id = json_integer_value(json_object_get(st, "movements")) + 1;

    if (st == NULL || json_object_set_new(st, "movements", json_integer(id)) != 0) {
        proj_problem(p, "audit: out of memory rebuilding booklet_movements");
        json_decref(reason);
        return;
    }
    proj_put_new(p, "booklet_movements",
                 json_pack("{s:I, s:s?, s:s?, s:s, s:s?, s:o, s:o, s:s}", "id", id, "serial",
                           serial, "batch_id", batch, "movement", what, "application_id",
                           application_id, "reason", reason ? reason : json_null(), "at",
                           proj_time(ev), "by", ev->actor));
}

/* A serial as booklets.c splits it: 0-8 letters A-Z, then 1-16 digits. */
static bool serial_split(const char *s, size_t *prefix, unsigned long long *num, size_t *digits)
{
    size_t i = 0, n = strlen(s);
    char *end;

    while (i < n && i < 8 && s[i] >= 'A' && s[i] <= 'Z')
        i++;
    if (i == n || n - i > 16)
        return false;
    for (size_t k = i; k < n; k++)
        if (s[k] < '0' || s[k] > '9')
            return false;
    *prefix = i;
    *digits = n - i;
    *num = strtoull(s + i, &end, 10);
    return true;
}

static void on_booklet_receive(struct proj *p, const struct proj_event *ev)
{
    const json_t *d = ev->data;
    const char *id = proj_object_id(ev, "booklet_batch", 0), *first = proj_str(d, "first");
    const char *last = proj_str(d, "last");
    size_t p1, p2, d1, d2;
    unsigned long long a, b;

    if (id == NULL || !serial_split(first, &p1, &a, &d1) || !serial_split(last, &p2, &b, &d2) ||
        p1 != p2 || d1 != d2 || b < a || b - a >= OFFICE_BATCH_MAX) {
        proj_problem(p, "event %llu: booklet delivery '%.40s'..'%.40s' cannot be read",
                     (unsigned long long)ev->seq, first, last);
        return;
    }
    proj_put_new(p, "booklet_batches",
                 json_pack("{s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:s}", "id", id, "doc_type",
                           logged(d, "doc_type", JSON_STRING), "first", first, "last", last,
                           "count", logged(d, "count", JSON_INTEGER), "reference",
                           logged(d, "reference", JSON_STRING), "received_at", proj_time(ev),
                           "received_by", ev->actor));
    for (unsigned long long k = a; k <= b; k++) {
        char serial[40];
        (void)snprintf(serial, sizeof serial, "%.*s%0*llu", (int)p1, first, (int)d1, k);
        proj_put_new(p, "booklets",
                     json_pack("{s:s, s:o, s:s, s:s, s:n, s:n, s:o, s:s}", "serial", serial,
                               "doc_type", logged(d, "doc_type", JSON_STRING), "batch_id", id,
                               "status", "blank", "application_id", "reason", "updated_at",
                               proj_time(ev), "updated_by", ev->actor));
    }
    movement(p, ev, NULL, id, "receive", NULL, logged(d, "reference", JSON_STRING));
}

/* Booklet SERIAL moved to STATUS (booklet_move, office_booklet_reserve). */
static void booklet_to(struct proj *p, const struct proj_event *ev, const char *serial,
                       const char *status, json_t *extra)
{
    json_t *row = json_pack("{s:s, s:s, s:o, s:s}", "serial", serial, "status", status,
                            "updated_at", proj_time(ev), "updated_by", ev->actor);

    if (row && extra && json_object_update(row, extra) != 0) {
        json_decref(row);
        row = NULL;
    }
    json_decref(extra);
    proj_put_new(p, "booklets", row);
}

static void on_booklet_reserve(struct proj *p, const struct proj_event *ev)
{
    const char *serial = proj_object_id(ev, "booklet", 0);
    const char *app = proj_object_id(ev, "application", 0);

    if (serial == NULL)
        return;
    booklet_to(p, ev, serial, "reserved", json_pack("{s:s?}", "application_id", app));
    movement(p, ev, serial, NULL, "reserve", app, NULL);
}

static void on_booklet_personalize(struct proj *p, const struct proj_event *ev)
{
    const char *serial = proj_object_id(ev, "booklet", 0);

    if (serial == NULL)
        return;
    booklet_to(p, ev, serial, "personalized", NULL);
    movement(p, ev, serial, NULL, "personalize", proj_object_id(ev, "application", 0), NULL);
}

static void on_booklet_spoil(struct proj *p, const struct proj_event *ev)
{
    const char *serial = proj_object_id(ev, "booklet", 0);
    const char *id = proj_object_id(ev, "application", 0);
    json_t *app;

    if (serial == NULL)
        return;
    booklet_to(p, ev, serial, "spoiled",
               json_pack("{s:o}", "reason", logged(ev->data, "reason", JSON_STRING)));
    movement(p, ev, serial, NULL, "spoil", id, logged(ev->data, "reason", JSON_STRING));
    /* the spoiled booklet leaves the application it was reserved for */
    app = id ? row_of(p, "applications", "id", id) : NULL;
    if (app && strcmp(proj_str(app, "booklet_serial"), serial) == 0)
        proj_put_new(p, "applications", json_pack("{s:s, s:n}", "id", id, "booklet_serial"));
    json_decref(app);
}

static const struct proj_handler office_handlers[] = {
    { "application.enrol", on_enrol },
    { "application.approve", on_approve },
    { "application.reject", on_reject },
    { "application.qc.pass", on_qc },
    { "application.qc.fail", on_qc },
    { "document.personalize", on_personalize },
    { "document.issue", on_issue },
    { "document.collect", on_collect },
    { "document.status", on_doc_status },
    { "document.series.set", on_series_set },
    { "booklet.receive", on_booklet_receive },
    { "booklet.reserve", on_booklet_reserve },
    { "booklet.personalize", on_booklet_personalize },
    { "booklet.spoil", on_booklet_spoil },
};

/* Every column of the office's tables is rebuilt from the log: none is
 * excluded (docs/registry.md, "What audit verify guarantees"). */
static const struct proj_table office_tables[] = {
    { "doc_number_series", "doc_type, pattern, next_seq, updated_at, updated_by", NULL, NULL,
      NULL },
    { "booklet_batches",
      "id, doc_type, first, last, count, reference, received_at, received_by", NULL, NULL, NULL },
    { "booklets", "serial, doc_type, batch_id, status, application_id, reason, updated_at, "
                  "updated_by",
      NULL, NULL, NULL },
    { "booklet_movements", "id, serial, batch_id, movement, application_id, reason, at, by", NULL,
      NULL, NULL },
    { "applications",
      "id, office, uin, record_id, doc_type, kind, replaces, status, holder, contact, checks, "
      "photo_hash, signature_hash, enrolled_by, enrolled_at, decided_by, decided_at, "
      "decision_reason, document_number, booklet_serial, mrz, datapage_hash, chip_hash, "
      "updated_at",
      NULL, NULL, NULL },
    { "documents",
      "number, doc_type, application_id, uin, issuing_state, status, booklet_serial, "
      "date_of_issue, date_of_expiry, status_reason, status_evidence, status_at, status_by, "
      "allocated_at",
      NULL, NULL, NULL },
};

static const struct proj_module office_module =
    PROJ_MODULE("office", office_tables, office_handlers, NULL);

const struct proj_module *office_projection(void)
{
    return &office_module;
}
