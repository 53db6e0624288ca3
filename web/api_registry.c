/* civreg web: the JSON API over the registry (records, persons, evidence,
 * audit, users). Each handler parses and validates the request, calls one
 * registry function with the session's actor — the same function the CLI
 * calls, so the same checks run and the same signed events are written —
 * and renders its JSON. Built only with the registry module. */
#include "web_int.h"

#ifdef CIVREG_HAVE_REGISTRY

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/timeutil.h"
#include "core/encode.h"
#include "registry/merkle.h"
#include "registry/registry.h"
#include "registry/search.h"

static struct registry_actor *actor_of(struct web_request *rq)
{
    return rq->session->actor;
}

/* The registry answers -1 with a message naming what failed and a kind;
 * web_send_failure turns the kind into the status. */
static int registry_failure(struct web_request *rq, const struct err *err)
{
    return web_send_failure(rq->conn, err);
}

#define ID_MAX 128

/* The whole number in the query parameter NAME, from MIN to MAX, into *V;
 * *V stays as it is when the parameter is absent, empty or too long.
 * Returns -1 when it is not such a number. */
static int query_number(struct web_request *rq, const char *name, long min, long max, long *v)
{
    char num[16], *end;
    long n;

    if (web_query(rq, name, num, sizeof num) != 0 || num[0] == '\0')
        return 0;
    n = strtol(num, &end, 10);
    if (*end != '\0' || n < min || n > max)
        return -1;
    *v = n;
    return 0;
}

/* ---- records ------------------------------------------------------------ */

/* Date filters apply to the date of birth, as YYYY-MM-DD text. */
static int date_arg(struct web_request *rq, const char *name, char *out, size_t size, bool *bad)
{
    struct err err = ERR_INIT;
    int y, m, d, q = web_query(rq, name, out, size);

    if (q == 1)
        return 1;
    if (q < 0 || date_parse(out, &y, &m, &d, &err) != 0) {
        *bad = true;
        return -1;
    }
    return 0;
}

int web_api_records_list(struct web_request *rq)
{
    struct registry_record_filter f = { 0 };
    struct err err = ERR_INIT;
    char status[16], office[16], from[16], to[16];
    json_t *rows = NULL;
    bool bad = false;
    int has_from, has_to;
    long limit = 0, offset = 0;

    WEB_NEED_DB(rq);
    if (web_query(rq, "status", status, sizeof status) == 0 && status[0] != '\0') {
        if (strcmp(status, "draft") != 0 && strcmp(status, "verified") != 0 &&
            strcmp(status, "registered") != 0)
            return web_send_error(rq->conn, 400, "bad_request",
                                  "status must be draft, verified or registered");
        f.status = status;
    }
    if (web_query(rq, "office", office, sizeof office) == 0 && office[0] != '\0') {
        if (datadir_check_office_code(office, &err) != 0)
            return web_send_error(rq->conn, 400, "bad_request", err_msg(&err));
        f.office = office;
    }
    if (query_number(rq, "limit", 0, 500, &limit) != 0)
        return web_send_error(rq->conn, 400, "bad_request", "limit must be a number from 0 to 500");
    if (query_number(rq, "offset", 0, 100000000L, &offset) != 0)
        return web_send_error(rq->conn, 400, "bad_request", "offset must be a number from 0");
    f.limit = (int)limit;
    f.offset = (int)offset;
    has_from = date_arg(rq, "from", from, sizeof from, &bad);
    has_to = date_arg(rq, "to", to, sizeof to, &bad);
    if (bad)
        return web_send_error(rq->conn, 400, "bad_request", "from and to must be YYYY-MM-DD dates");
    /* Dates of birth between FROM and TO, filtered by the registry over all
     * records (not only the page it returns). */
    f.born_from = has_from == 0 ? from : NULL;
    f.born_to = has_to == 0 ? to : NULL;
    if (registry_record_list(rq->w->db, actor_of(rq), &f, &rows, &err) != 0)
        return registry_failure(rq, &err);
    return web_send_owned(rq, 200, json_pack("{s:o}", "records", rows));
}

int web_api_record_example(struct web_request *rq)
{
    return web_send_owned(rq, 200, registry_record_example());
}

/* The plausibility checks of a keyed record (registry_record_plausible):
 * refusals answer 422 with their code and field; doubts answer 422
 * "plausibility" with the list of warnings unless the clerk confirmed them
 * ("confirm_warnings": true after checking the page). Returns 0 when the
 * record may go on to the registry (which validates it again), else the
 * status sent. */
static int plausibility_refused(struct web_request *rq, const json_t *in, const json_t *rec)
{
    struct err err = ERR_INIT;
    json_t *norm = NULL, *warnings = json_array();
    char today[16];
    int y, m, d, rc = 0;

    if (warnings == NULL)
        return web_send_error(rq->conn, 500, "internal", "out of memory");
    date_today(&y, &m, &d);
    (void)snprintf(today, sizeof today, "%04d-%02d-%02d", y, m, d);
    if (registry_record_normalize(rec, &norm, &err) != 0 ||
        registry_record_plausible(norm, today, warnings, &err) != 0) {
        rc = registry_failure(rq, &err);
    } else if (json_array_size(warnings) > 0 &&
               !json_is_true(json_object_get(in, "confirm_warnings"))) {
        rc = web_send_owned(rq, 422, json_pack("{s:{s:s,s:s,s:O}}", "error", "code", "plausibility",
                                           "message",
                                           "check these values against the register, then confirm "
                                           "them (confirm_warnings)",
                                           "warnings", warnings));
    }
    json_decref(norm);
    json_decref(warnings);
    return rc;
}

/* The body of a keying, {record, confirm_warnings}, into *IN (owned by the
 * caller) with *REC its record, past the plausibility checks. Returns 0,
 * or the status of the 4xx answer already sent (nothing left to free). */
static int keyed_record(struct web_request *rq, json_t **in, json_t **rec)
{
    static const char *const keys[] = { "record", "confirm_warnings", NULL };
    struct err err = ERR_INIT;
    int rc;

    if ((rc = web_read_json(rq->conn, in)) != 0)
        return rc;
    *rec = json_object_get(*in, "record");
    if (json_check_keys(*in, keys, &err) != 0 || !json_is_object(*rec))
        rc = web_send_error(rq->conn, 400, "bad_request",
                            err_msg(&err)[0] ? err_msg(&err) : "record must be an object");
    else
        rc = plausibility_refused(rq, *in, *rec);
    if (rc != 0) {
        json_decref(*in);
        *in = NULL;
    }
    return rc;
}

/* ---- writes through the group commit ---------------------------------- */

/* After the commit of a group: the tree-head witness, once. Every write's
 * argument below starts with its actor. */
static void write_committed(struct db *db, void *arg)
{
    registry_witness_refresh(db, *(const struct registry_actor *const *)arg);
}

/* Run FN(db, ARG) as the signed-in user's write: through the server's group
 * commit (many requests share one transaction and one fsync; this returns
 * once the write is durable or failed), else on the worker's own
 * connection. ARG starts with a const struct registry_actor *. */
static int run_write(struct web_request *rq, db_group_fn fn, void *arg, struct err *err)
{
    if (rq->srv->writes != NULL)
        return db_group_run(rq->srv->writes, fn, write_committed, arg, err);
    return fn(rq->w->db, arg, err);
}

/* One step of a record (draft, verify, register) as a group write. The
 * registry function runs as it does alone: its own transactions become
 * savepoints of the group's, kept or rolled back as it decides (a
 * mismatch or the duplicates a registration found are kept with the
 * refusal); what it answers goes to RC, ERR and the outputs, and the group
 * write itself fails only when the group's transaction does. */
struct step_write {
    const struct registry_actor *actor; /* first: see write_committed */
    int (*call)(struct db *db, struct step_write *s);
    const char *id;
    const json_t *rec;
    char *new_id;
    json_t *out, *mism;
    int rc;
    struct err err;
};

static int step_run(struct db *db, void *arg, struct err *err)
{
    struct step_write *s = arg;

    (void)err;
    /* a group rolled back by SQLite runs its writes again */
    free(s->new_id);
    json_decref(s->out);
    json_decref(s->mism);
    s->new_id = NULL;
    s->out = s->mism = NULL;
    s->err = (struct err)ERR_INIT;
    s->rc = s->call(db, s);
    return 0;
}

static void step_release(struct step_write *s)
{
    free(s->new_id);
    json_decref(s->out);
    json_decref(s->mism);
}

/* Run S: 0 with the registry's answer in S, or -1 with ERR when the group
 * could not run it (too many waiting: ERR_BUSY). */
static int run_step(struct web_request *rq, struct step_write *s, struct err *err)
{
    s->actor = actor_of(rq);
    return run_write(rq, step_run, s, err);
}

/* run_step, its failure answered: 0 when the registry call succeeded
 * (its outputs in S), else the status of the error answer already sent. */
static int run_step_answered(struct web_request *rq, struct step_write *s)
{
    struct err err = ERR_INIT;

    if (run_step(rq, s, &err) != 0)
        return registry_failure(rq, &err);
    if (s->rc != 0)
        return registry_failure(rq, &s->err);
    return 0;
}

static int call_draft(struct db *db, struct step_write *s)
{
    return registry_record_draft(db, s->actor, s->rec, &s->new_id, &s->err);
}

static int call_verify(struct db *db, struct step_write *s)
{
    return registry_record_verify(db, s->actor, s->id, s->rec, &s->mism, &s->err);
}

static int call_register(struct db *db, struct step_write *s)
{
    return registry_record_register(db, s->actor, s->id, &s->out, &s->err);
}

int web_api_record_draft(struct web_request *rq)
{
    json_t *in = NULL, *rec;
    int rc;

    WEB_NEED_DB(rq);
    if ((rc = keyed_record(rq, &in, &rec)) != 0)
        return rc;
    {
        struct step_write s = { .call = call_draft, .rec = rec };
        if ((rc = run_step_answered(rq, &s)) == 0)
            rc = web_send_owned(rq, 201,
                                json_pack("{s:s,s:s}", "id", s.new_id, "status", "draft"));
        step_release(&s);
    }
    json_decref(in);
    return rc;
}

/* Blind double entry: a clerk who keyed no version of a draft (and holds
 * no role that reads records for other work) is its possible second keyer,
 * so the draft's values are withheld from them everywhere: the record
 * view and the history answer with the evidence only and "blind": true.
 * Returns 1 when withheld, 0 when not, -1 on a database failure. */
static int blind_withhold(struct web_request *rq, json_t *out)
{
    const unsigned others = WEB_ROLE_REGISTRAR | WEB_ROLE_ENROLMENT_OFFICER | WEB_ROLE_APPROVER |
                            WEB_ROLE_AUDITOR;
    struct err err = ERR_INIT;
    json_t *b = NULL, *versions, *v, *rec, *ev;
    const char *status = json_string_value(json_object_get(out, "status"));
    size_t i;

    if (!(rq->session->roles & WEB_ROLE_CLERK) || (rq->session->roles & others) ||
        status == NULL || strcmp(status, "draft") != 0)
        return 0;
    if (registry_record_blind(rq->w->db, actor_of(rq), json_string_value(json_object_get(out, "id")),
                              &b, &err) != 0) {
        log_error("web: blind check of a draft for %s: %s", rq->session->username, err_msg(&err));
        return -1;
    }
    if (json_is_true(json_object_get(b, "keyed_by_me"))) {
        json_decref(b);
        return 0;
    }
    ev = json_object_get(b, "evidence");
    rec = json_pack("{s:O}", "evidence", ev);
    if (rec == NULL || json_object_set_new(out, "record", rec) != 0 ||
        json_object_set_new(out, "blind", json_true()) != 0) {
        json_decref(b);
        return -1;
    }
    versions = json_object_get(out, "versions_list");
    bool bad = false; /* a version whose record could not be replaced */
    json_array_foreach(versions, i, v) {
        bad |= json_object_set_new(v, "record", json_pack("{s:O}", "evidence", ev)) != 0;
        json_object_del(v, "hash");
        json_object_del(v, "prev_hash");
    }
    json_object_del(out, "hash");
    json_decref(b);
    return bad ? -1 : 1;
}

/* blind_withhold on OUT (a record or its history). Returns 1 when that
 * answered, OUT consumed and the status in *RC: the withheld draft with
 * 200, or 500 when it could not be read; 0 when OUT goes out in full. */
static int answered_withheld(struct web_request *rq, json_t *out, int *rc)
{
    switch (blind_withhold(rq, out)) {
    case 1: /* nothing of the first keying leaves: no view to log */
        *rc = web_send_owned(rq, 200, out);
        return 1;
    case 0:
        return 0;
    default:
        json_decref(out);
        *rc = web_send_error(rq->conn, 500, "internal", "the record could not be read");
        return 1;
    }
}

/* ---- logged views --------------------------------------------------------- */

/* A record.view event to write: the record REF seen through VIA
 * (registry_record_view), or, when OBJECTS is set, the event naming exactly
 * those objects (the version GET /records/{id} showed). */
struct view_write {
    const struct registry_actor *actor; /* first: see write_committed */
    const char *ref, *via;
    const json_t *objects;
};

static int view_append(struct db *db, void *arg, struct err *err)
{
    const struct view_write *v = arg;

    if (v->objects != NULL)
        return registry_event_append(db, v->actor, "record.view", v->objects, NULL, NULL, err);
    return registry_record_view(db, v->actor, v->ref, v->via, err);
}

/* Log the view V of record REF before its data goes out (run_write: the
 * answer waits until the event is durable). Returns 0, or the status of
 * the error answer already sent: 503 when too many writes wait, else 500.
 * No log entry, no view. */
static int log_view(struct web_request *rq, struct view_write *v, const char *ref)
{
    struct err err = ERR_INIT;
    int rc = run_write(rq, view_append, v, &err);

    if (rc == 0)
        return 0;
    log_error("web: cannot log the view of %s by %s through %s: %s", ref,
              rq->session->username, rq->route->path, err_msg(&err));
    if (err.kind == ERR_BUSY)
        return web_send_failure(rq->conn, &err);
    return web_send_error(rq->conn, 500, "internal", "the view could not be logged");
}

int web_api_record_show(struct web_request *rq)
{
    struct err err = ERR_INIT;
    char id[ID_MAX];
    json_t *rec = NULL, *objects;
    const char *hash, *rid;
    long version = 0;
    int rc;

    WEB_NEED_DB(rq);
    if (web_param(rq, 0, id, sizeof id) != 0)
        return web_send_error(rq->conn, 400, "bad_request", "record id too long");
    if (query_number(rq, "version", 1, 1000000, &version) != 0)
        return web_send_error(rq->conn, 400, "bad_request", "version must be a number from 1");
    if (registry_record_show(rq->w->db, actor_of(rq), id, (int)version, &rec, &err) != 0)
        return registry_failure(rq, &err);
    {
        json_t *closed = NULL;
        bool bad = false; /* the closure could not be added */
        const char *cid = json_string_value(json_object_get(rec, "id"));
        if (cid == NULL || registry_record_closed(rq->w->db, cid, &closed, &err) != 0) {
            json_decref(rec);
            return web_send_error(rq->conn, 500, "internal", "the record could not be read");
        }
        if (closed != NULL)
            bad |= json_object_set_new(rec, "closed", closed) != 0;
        if (bad) {
            json_decref(rec);
            return web_send_error(rq->conn, 500, "internal", "out of memory");
        }
    }
    if (answered_withheld(rq, rec, &rc))
        return rc;
    /* Who saw which record: a signed event in the provenance log. */
    rid = json_string_value(json_object_get(rec, "id"));
    hash = json_string_value(json_object_get(rec, "hash"));
    objects = json_pack("[o]", registry_object_ref("record", rid ? rid : id, hash ? hash : "",
                                                    NULL));
    if (objects == NULL) {
        json_decref(rec);
        return web_send_error(rq->conn, 500, "internal", "out of memory");
    }
    {
        struct view_write v = { actor_of(rq), NULL, NULL, objects };
        rc = log_view(rq, &v, id);
    }
    json_decref(objects);
    if (rc != 0) {
        json_decref(rec); /* no log entry, no view */
        return rc;
    }
    return web_send_owned(rq, 200, rec);
}

/* The handlers that act on one object named by the route's first parameter:
 * read it (WHAT names it in the 400 answer), call FN as the signed-in user.
 * Returns 0 with *OUT set, or the status of the error answer already sent. */
typedef int (*by_id_fn)(struct db *db, const struct registry_actor *actor, const char *id,
                        json_t **out, struct err *err);

static int call_by_id(struct web_request *rq, const char *what, by_id_fn fn, json_t **out)
{
    struct err err = ERR_INIT;
    char id[ID_MAX];

    *out = NULL;
    WEB_NEED_DB(rq);
    if (web_param(rq, 0, id, sizeof id) != 0)
        return web_send_error(rq->conn, 400, "bad_request", what);
    if (fn(rq->w->db, actor_of(rq), id, out, &err) != 0)
        return registry_failure(rq, &err);
    return 0;
}

/* call_by_id, then its answer with 200: as it is, or under the member
 * WRAP of an object when WRAP is not NULL. */
static int send_by_id(struct web_request *rq, const char *what, by_id_fn fn, const char *wrap)
{
    json_t *out = NULL;
    int rc = call_by_id(rq, what, fn, &out);

    if (rc != 0)
        return rc;
    return web_send_owned(rq, 200, wrap != NULL ? json_pack("{s:o}", wrap, out) : out);
}

int web_record_viewed(struct web_request *rq, const char *ref)
{
    struct view_write v = { actor_of(rq), ref, rq->route->path, NULL };

    if (ref == NULL) {
        log_error("web: cannot log the view through %s by %s: no record named", rq->route->path,
                  rq->session->username);
        return web_send_error(rq->conn, 500, "internal", "the view could not be logged");
    }
    return log_view(rq, &v, ref);
}

/* Logs the view of the record that OUT names in its member KEY, before OUT
 * (a record's full content) is answered. Returns 0, or frees OUT and returns
 * the status of the error answer already sent. */
static int log_view_of(struct web_request *rq, json_t *out, const char *key)
{
    int rc = web_record_viewed(rq, json_string_value(json_object_get(out, key)));

    if (rc != 0)
        json_decref(out);
    return rc;
}

/* call_by_id for an answer that carries a record's content, the record
 * named by its member KEY: the view is logged before anything is sent. */
static int call_viewed_by_id(struct web_request *rq, const char *what, by_id_fn fn,
                             const char *key, json_t **out)
{
    int rc = call_by_id(rq, what, fn, out);

    if (rc != 0)
        return rc;
    if ((rc = log_view_of(rq, *out, key)) != 0)
        *out = NULL;
    return rc;
}

int web_api_record_history(struct web_request *rq)
{
    json_t *out = NULL;
    int rc = call_by_id(rq, "record id too long", registry_record_history, &out);

    if (rc != 0)
        return rc;
    if (answered_withheld(rq, out, &rc))
        return rc;
    /* every version in full: a view like GET /records/{id} */
    if ((rc = log_view_of(rq, out, "id")) != 0)
        return rc;
    return web_send_owned(rq, 200, out);
}

int web_api_record_verify(struct web_request *rq)
{
    struct err err = ERR_INIT;
    char id[ID_MAX];
    json_t *in = NULL, *rec, *mism = NULL;
    int rc;

    WEB_NEED_DB(rq);
    if (web_param(rq, 0, id, sizeof id) != 0)
        return web_send_error(rq->conn, 400, "bad_request", "record id too long");
    if ((rc = keyed_record(rq, &in, &rec)) != 0)
        return rc;
    {
        struct step_write s = { .call = call_verify, .id = id, .rec = rec };
        if (run_step(rq, &s, &err) != 0) {
            rc = -1;
        } else {
            rc = s.rc;
            err = s.err;
            mism = s.mism;
            s.mism = NULL;
        }
        step_release(&s);
    }
    if (rc == 0) {
        rc = web_send_owned(rq, 200, json_pack("{s:s,s:s}", "id", id, "status", "verified"));
    } else if (mism != NULL && json_array_size(mism) > 0) {
        /* The second keying disagrees: the record stays a draft; the clerk
         * sees each field that differs. */
        json_t *state = NULL;
        struct err e2 = ERR_INIT;
        int back = registry_record_blind(rq->w->db, actor_of(rq), id, &state, &e2) == 0 &&
                   json_is_true(json_object_get(state, "sent_back"));
        json_decref(state);
        rc = web_send_owned(rq, 409, json_pack("{s:{s:s,s:s},s:O,s:b}", "error", "code", "mismatch",
                                           "message", err_msg(&err), "mismatches", mism,
                                           "sent_back", back));
    } else {
        rc = registry_failure(rq, &err);
    }
    json_decref(mism);
    json_decref(in);
    return rc;
}

int web_api_record_blind(struct web_request *rq)
{
    return send_by_id(rq, "record id too long", registry_record_blind, NULL);
}

int web_api_work_queues(struct web_request *rq)
{
    struct err err = ERR_INIT;
    json_t *out = NULL;

    WEB_NEED_DB(rq);
    if (registry_work_queues(rq->w->db, actor_of(rq), 50, &out, &err) != 0)
        return registry_failure(rq, &err);
    return web_send_owned(rq, 200, out);
}

int web_api_record_register(struct web_request *rq)
{
    char id[ID_MAX];
    struct step_write s = { .call = call_register, .id = id };
    int rc;

    WEB_NEED_DB(rq);
    if (web_param(rq, 0, id, sizeof id) != 0)
        return web_send_error(rq->conn, 400, "bad_request", "record id too long");
    if ((rc = run_step_answered(rq, &s)) == 0) {
        rc = web_send_owned(rq, 200, s.out);
        s.out = NULL;
    }
    step_release(&s);
    return rc;
}

int web_api_record_correct(struct web_request *rq)
{
    static const char *const keys[] = { "record", "reason", "evidence", "confirm_warnings", NULL };
    struct err err = ERR_INIT;
    char id[ID_MAX];
    json_t *in = NULL, *rec, *ev;
    const char *reason = NULL;
    int rc, version = 0;

    WEB_NEED_DB(rq);
    if (web_param(rq, 0, id, sizeof id) != 0)
        return web_send_error(rq->conn, 400, "bad_request", "record id too long");
    if ((rc = web_read_json(rq->conn, &in)) != 0)
        return rc;
    rec = json_object_get(in, "record");
    ev = json_object_get(in, "evidence");
    if (json_check_keys(in, keys, &err) != 0 ||
        json_get_string(in, "reason", true, &reason, &err) != 0 || !json_is_object(rec) ||
        (ev != NULL && !json_is_array(ev) && !json_is_null(ev)) || reason[0] == '\0') {
        json_decref(in);
        return web_send_error(rq->conn, 400, "bad_request",
                              err_msg(&err)[0] ? err_msg(&err)
                                               : "record (object) and reason (text) are required");
    }
    if ((rc = plausibility_refused(rq, in, rec)) != 0) {
        json_decref(in);
        return rc;
    }
    if (registry_record_correct(rq->w->db, actor_of(rq), id, rec, reason,
                                json_is_array(ev) ? ev : NULL, &version, &err) != 0)
        rc = registry_failure(rq, &err);
    else
        rc = web_send_owned(rq, 200, json_pack("{s:s,s:i}", "id", id, "version", version));
    json_decref(in);
    return rc;
}

/* ---- persons and evidence ----------------------------------------------- */

int web_api_person_show(struct web_request *rq)
{
    json_t *out = NULL;
    /* the person comes with their birth record */
    int rc = call_viewed_by_id(rq, "uin too long", registry_person_show, "record_id", &out);

    if (rc != 0)
        return rc;
    return web_send_owned(rq, 200, out);
}

/* A record's evidence (a scan it lists), re-hashed by the registry on the
 * way out, under the record's own access rule: the roles that read
 * records, of the record's office. The store has no route of its own: a
 * hash alone opens nothing. Images are shown beside the record; anything
 * else downloads. */
int web_api_record_evidence(struct web_request *rq)
{
    struct err err = ERR_INIT;
    char id[ID_MAX], hash[ID_MAX], disp[ID_MAX + 2]; /* the ETag: the hash in quotes */
    unsigned char *p = NULL;
    size_t len = 0;
    const char *type = "application/octet-stream";
    struct embedded_file f;

    WEB_NEED_DB(rq);
    if (web_param(rq, 0, id, sizeof id) != 0)
        return web_send_error(rq->conn, 400, "bad_request", "record id too long");
    if (web_param(rq, 1, hash, sizeof hash) != 0 || strlen(hash) != 64 ||
        strspn(hash, "0123456789abcdef") != 64)
        return web_send_error(rq->conn, 400, "bad_request", "evidence is named by its SHA-256 (hex)");
    if (registry_record_evidence_get(rq->w->db, rq->srv->dd->blobs_dir, actor_of(rq), id, hash,
                                     &p, &len, &err) != 0)
        return registry_failure(rq, &err);
    if (len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        type = "image/png";
    else if (len >= 3 && memcmp(p, "\xff\xd8\xff", 3) == 0)
        type = "image/jpeg";
    f.name = hash;
    f.data = p;
    f.len = len;
    (void)snprintf(disp, sizeof disp, "\"%s\"", hash);
    /* Content-addressed: the bytes under this name never change. */
    web_send_asset(rq->conn, &f, type, disp, true);
    free(p);
    return 200;
}

/* A scan uploaded as the raw request body (PNG, JPEG, TIFF or PDF), capped
 * at WEB_MAX_UPLOAD; the registry stores it content-addressed and logs
 * evidence.add. Answers {hash}, which records list in their evidence. */
int web_api_evidence_add(struct web_request *rq)
{
    static const char *const types[] = { "image/png", "image/jpeg", "image/tiff",
                                         "application/pdf", NULL };
    const char *ct = mg_get_header(rq->conn, "Content-Type");
    struct err err = ERR_INIT;
    struct buf body = BUF_INIT(WEB_MAX_UPLOAD);
    const char *type = NULL;
    char hash[65], msg[96];
    int st;

    WEB_NEED_DB(rq);
    for (size_t i = 0; ct != NULL && types[i] != NULL; i++)
        if (strcmp(ct, types[i]) == 0)
            type = types[i];
    if (type == NULL)
        return web_send_error(rq->conn, 415, "unsupported_media_type",
                              "evidence must be image/png, image/jpeg, image/tiff or "
                              "application/pdf");
    st = web_read_body(rq->conn, WEB_MAX_UPLOAD, &body);
    if (st != 0 || body.len == 0) {
        buf_release(&body);
        (void)snprintf(msg, sizeof msg, "the scan must be 1 byte to %u MB",
                       WEB_MAX_UPLOAD / (1024 * 1024));
        return web_send_error(rq->conn, st == 413 ? 413 : 400, st == 413 ? "too_large" : "bad_request",
                              msg);
    }
    if (registry_blob_put(rq->w->db, rq->srv->dd->blobs_dir, actor_of(rq), body.data, body.len,
                          type, hash, &err) != 0) {
        buf_release(&body);
        return registry_failure(rq, &err);
    }
    buf_release(&body);
    return web_send_owned(rq, 201, json_pack("{s:s,s:s}", "hash", hash, "media_type", type));
}

/* ---- audit ---------------------------------------------------------------- */

/* 32 bytes from 64 hex digits. */
static bool hash_of(const json_t *v, merkle_hash out)
{
    const char *s = json_string_value(v);
    size_t n = 0;

    return s != NULL && strlen(s) == 64 &&
           hex_decode(s, 64, out, MERKLE_HASH_BYTES, &n, NULL) == 0 && n == MERKLE_HASH_BYTES;
}

/* Check each event's inclusion proof against the signed tree head's root
 * (RFC 6962 §2.1.1, with the registry's verifier) and record the verdict
 * as inclusion_valid, so the timeline shows a mark per proof that the
 * server computed, not one it was told. */
static void check_inclusion(json_t *trace)
{
    const json_t *head = json_object_get(trace, "tree_head");
    json_t *events = json_object_get(trace, "events"), *ev;
    merkle_hash root, leaf, path[MERKLE_MAX_PROOF];
    json_int_t size = json_integer_value(json_object_get(head, "tree_size"));
    bool have_root = hash_of(json_object_get(head, "root_hash"), root);
    size_t i;

    json_array_foreach(events, i, ev) {
        const json_t *proof = json_object_get(ev, "inclusion_proof");
        json_int_t seq = json_integer_value(json_object_get(ev, "seq"));
        size_t n = json_array_size(proof), k;
        bool ok = have_root && size > 0 && seq >= 0 && seq < size && json_is_array(proof) &&
                  n <= MERKLE_MAX_PROOF && hash_of(json_object_get(ev, "leaf_hash"), leaf);

        for (k = 0; ok && k < n; k++)
            ok = hash_of(json_array_get(proof, k), path[k]);
        if (ok)
            ok = merkle_verify_inclusion((uint64_t)seq, (uint64_t)size, leaf, path, n, root,
                                         NULL) == 0;
        (void)json_object_set_new(ev, "inclusion_valid", json_boolean(ok));
    }
}

int web_api_audit_trace(struct web_request *rq)
{
    json_t *out = NULL;
    /* the trace carries every version of the record */
    int rc = call_viewed_by_id(rq, "id too long", registry_audit_trace, "record_id", &out);

    if (rc != 0)
        return rc;
    check_inclusion(out);
    return web_send_owned(rq, 200, out);
}

int web_api_audit_bundle(struct web_request *rq)
{
    struct err err = ERR_INIT;
    char id[ID_MAX], disp[ID_MAX + 64], safe[ID_MAX];
    json_t *out = NULL;
    size_t i;
    int rc;

    WEB_NEED_DB(rq);
    if (web_param(rq, 0, id, sizeof id) != 0)
        return web_send_error(rq->conn, 400, "bad_request", "id too long");
    if (registry_audit_export(rq->w->db, actor_of(rq), id, &out, &err) != 0)
        return registry_failure(rq, &err);
    /* the bundle carries every version of the record */
    if ((rc = web_record_viewed(rq, id)) != 0) {
        json_decref(out);
        return rc;
    }
    /* A file name of safe characters only. */
    for (i = 0; id[i] != '\0'; i++)
        safe[i] = ((id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= 'a' && id[i] <= 'z') ||
                   (id[i] >= '0' && id[i] <= '9') || id[i] == '-') ? id[i] : '_';
    safe[i] = '\0';
    (void)snprintf(disp, sizeof disp, "attachment; filename=\"civreg-bundle-%s.json\"", safe);
    rc = web_send_json_hdrs(rq->conn, 200, out,
                            (const char *[]){ "Content-Disposition", disp, NULL });
    json_decref(out);
    return rc;
}

int web_api_audit_head(struct web_request *rq)
{
    return web_send_read(rq, registry_log_head, NULL);
}

/* ---- users ---------------------------------------------------------------- */

int web_api_users_list(struct web_request *rq)
{
    struct err err = ERR_INIT;
    json_t *out = NULL;

    WEB_NEED_DB(rq);
    if (registry_user_list(rq->w->db, actor_of(rq), &out, &err) != 0)
        return registry_failure(rq, &err);
    return web_send_owned(rq, 200, json_pack("{s:o}", "users", out));
}

/* The account rules of the registry (separation of duties, password
 * policy) checked before the registry call so that the refusal carries a
 * code the UI translates (en, fr); the registry checks them again. Returns
 * 0, or the status already answered. */
static int roles_refused(struct web_request *rq, unsigned roles)
{
    struct err err = ERR_INIT;

    if (registry_roles_check(roles, &err) != 0)
        return web_send_error(rq->conn, 422, "roles_conflict", err_msg(&err));
    return 0;
}

static int password_refused(struct web_request *rq, const char *username, const char *password)
{
    struct err err = ERR_INIT;
    int problem = registry_password_check(username, password, &err);

    if (problem != REGISTRY_PASSWORD_OK)
        return web_send_error(rq->conn, 422, registry_password_problem_code(problem),
                              err_msg(&err));
    return 0;
}

/* After an account change made here: end the user's sessions now, so their
 * unlocked keys are wiped at once rather than at their next request (which
 * the dispatcher would refuse anyway; changes made by the CLI are caught
 * there). */
static void end_sessions_of(struct web_request *rq, const char *user)
{
    size_t n = web_sessions_end_user(rq->srv->sessions, user);
    log_info("web: %s changed the account of %s; %zu session(s) ended", rq->session->username,
             user, n);
}

/* The "roles" array of a request body into a bitmask; 0 or the status answered. */
static int roles_of(struct web_request *rq, const json_t *roles, unsigned *out)
{
    struct err err = ERR_INIT;

    *out = 0;
    if (!json_is_array(roles) || json_array_size(roles) == 0)
        return web_send_error(rq->conn, 400, "bad_request", "roles must be a non-empty array");
    for (size_t i = 0; i < json_array_size(roles); i++) {
        const char *name = json_string_value(json_array_get(roles, i));
        unsigned bit = 0;
        if (name == NULL || registry_roles_parse(name, &bit, &err) != 0)
            return web_send_error(rq->conn, 400, "bad_request",
                                  name ? err_msg(&err) : "roles must be role names");
        *out |= bit;
    }
    return 0;
}

int web_api_user_add(struct web_request *rq)
{
    static const char *const keys[] = { "username", "password", "roles", "office", "name", NULL };
    struct err err = ERR_INIT;
    struct registry_user_new u = { 0 };
    json_t *in = NULL, *roles;
    int rc;

    WEB_NEED_DB(rq);
    if ((rc = web_read_json(rq->conn, &in)) != 0)
        return rc;
    roles = json_object_get(in, "roles");
    if (json_check_keys(in, keys, &err) != 0 ||
        json_get_string(in, "username", true, &u.username, &err) != 0 ||
        json_get_string(in, "password", true, &u.password, &err) != 0 ||
        json_get_string(in, "office", false, &u.office, &err) != 0 ||
        json_get_string(in, "name", false, &u.name, &err) != 0) {
        rc = web_send_error(rq->conn, 400, "bad_request", err_msg(&err));
        goto out;
    }
    if (registry_user_name_check(u.name, &err) != 0) {
        rc = web_send_error(rq->conn, 422, "name_invalid", err_msg(&err));
        goto out;
    }
    if ((rc = roles_of(rq, roles, &u.roles)) != 0 || (rc = roles_refused(rq, u.roles)) != 0 ||
        (rc = password_refused(rq, u.username, u.password)) != 0)
        goto out;
    if (u.office == NULL)
        u.office = rq->session->office;
    if (registry_user_add(rq->w->db, rq->srv->dd->keys_dir, actor_of(rq), &u, &err) != 0)
        rc = registry_failure(rq, &err);
    else
        rc = web_send_owned(rq, 201, json_pack("{s:s,s:s,s:o}", "username", u.username, "office",
                                           u.office, "roles", registry_roles_json(u.roles)));
out:
    if (u.password != NULL)
        secret_wipe((char *)u.password, strlen(u.password));
    json_decref(in);
    return rc;
}

int web_api_user_disable(struct web_request *rq)
{
    struct err err = ERR_INIT;
    char user[ID_MAX];

    WEB_NEED_DB(rq);
    if (web_param(rq, 0, user, sizeof user) != 0)
        return web_send_error(rq->conn, 400, "bad_request", "user name too long");
    if (registry_user_disable(rq->w->db, actor_of(rq), user, &err) != 0)
        return registry_failure(rq, &err);
    end_sessions_of(rq, user);
    return web_send_owned(rq, 200, json_pack("{s:s,s:b}", "username", user, "disabled", 1));
}

/* A change to the account the route names (into USER): its JSON body in
 * *IN, checked against KEYS. Returns 0, or the status of the error answer
 * already sent (*IN, when set, is the caller's to free). */
static int user_change_request(struct web_request *rq, const char *const keys[], char *user,
                               size_t size, json_t **in, struct err *err)
{
    int rc;

    WEB_NEED_DB(rq);
    if (web_param(rq, 0, user, size) != 0)
        return web_send_error(rq->conn, 400, "bad_request", "user name too long");
    if ((rc = web_read_json(rq->conn, in)) != 0)
        return rc;
    if (json_check_keys(*in, keys, err) != 0)
        return web_send_error(rq->conn, 400, "bad_request", err_msg(err));
    return 0;
}

int web_api_user_roles(struct web_request *rq)
{
    static const char *const keys[] = { "roles", NULL };
    struct err err = ERR_INIT;
    char user[ID_MAX];
    json_t *in = NULL;
    unsigned roles = 0;
    int rc;

    if ((rc = user_change_request(rq, keys, user, sizeof user, &in, &err)) != 0)
        goto out;
    if ((rc = roles_of(rq, json_object_get(in, "roles"), &roles)) != 0 ||
        (rc = roles_refused(rq, roles)) != 0)
        goto out;
    if (registry_user_roles(rq->w->db, actor_of(rq), user, roles, &err) != 0) {
        rc = registry_failure(rq, &err);
        goto out;
    }
    end_sessions_of(rq, user);
    rc = web_send_owned(rq, 200, json_pack("{s:s,s:o}", "username", user, "roles",
                                           registry_roles_json(roles)));
out:
    json_decref(in);
    return rc;
}

int web_api_user_reset(struct web_request *rq)
{
    static const char *const keys[] = { "password", NULL };
    struct err err = ERR_INIT;
    const char *pass = NULL;
    char user[ID_MAX];
    json_t *in = NULL;
    int rc;

    if ((rc = user_change_request(rq, keys, user, sizeof user, &in, &err)) != 0)
        goto out;
    if (json_get_string(in, "password", true, &pass, &err) != 0) {
        rc = web_send_error(rq->conn, 400, "bad_request", err_msg(&err));
        goto out;
    }
    if ((rc = password_refused(rq, user, pass)) != 0)
        goto out;
    if (registry_user_reset(rq->w->db, actor_of(rq), user, pass, &err) != 0) {
        rc = registry_failure(rq, &err);
        goto out;
    }
    end_sessions_of(rq, user);
    rc = web_send_owned(rq, 200, json_pack("{s:s,s:b}", "username", user, "reset", 1));
out:
    /* The password lives in the parsed body: wipe it before freeing. */
    if (pass != NULL)
        secret_wipe((char *)pass, strlen(pass));
    json_decref(in);
    return rc;
}

#endif

/* ---- search and duplicates (registry/search.h) ---- */

int web_api_search(struct web_request *rq)
{
    struct err err = ERR_INIT;
    char q[REGISTRY_QUERY_MAX + 1];
    json_t *out = NULL;
    long limit = 20;

    WEB_NEED_DB(rq);
    switch (web_query(rq, "q", q, sizeof q)) {
    case 0:
        break;
    case 1:
        q[0] = '\0';
        break;
    default:
        return web_send_error(rq->conn, 400, "bad_request", "q: the query is at most 1024 bytes");
    }
    /* an empty search box finds nothing, and is no error */
    if (q[0] == '\0')
        return web_send_owned(rq, 200, json_pack("{s:s, s:i, s:[]}", "query", "", "count", 0,
                                             "results"));
    if (query_number(rq, "limit", 1, 200, &limit) != 0)
        return web_send_error(rq->conn, 400, "bad_request", "limit must be 1 to 200");
    if (registry_search(rq->w->db, actor_of(rq), q, (int)limit, &out, &err) != 0)
        return registry_failure(rq, &err);
    /* A relevance floor (search_min_score): weak matches of the loosest
     * passes are not results; "nothing matches" is the honest answer. */
    {
        json_t *results = json_object_get(out, "results"), *r;
        size_t i = 0;
        bool bad = false; /* a count that could not be added */
        while (i < json_array_size(results)) {
            r = json_array_get(results, i);
            if (json_integer_value(json_object_get(r, "score")) <
                (json_int_t)rq->srv->search_min_score)
                json_array_remove(results, i);
            else
                i++;
        }
        bad |= json_object_set_new(out, "count",
                                   json_integer((json_int_t)json_array_size(results))) != 0;
        bad |= json_object_set_new(out, "min_score",
                                   json_integer((json_int_t)rq->srv->search_min_score)) != 0;
        if (bad) {
            json_decref(out);
            return web_send_error(rq->conn, 500, "internal", "out of memory");
        }
    }
    return web_send_owned(rq, 200, out);
}

int web_api_record_duplicates(struct web_request *rq)
{
    return send_by_id(rq, "record id too long", registry_dup_list, "candidates");
}

int web_api_record_duplicate_resolve(struct web_request *rq)
{
    static const char *const keys[] = { "decision", "reason", NULL };
    struct err err = ERR_INIT;
    char id[ID_MAX], other[ID_MAX];
    const char *decision = NULL, *reason = NULL;
    json_t *in = NULL;
    int rc;

    WEB_NEED_DB(rq);
    if (web_param(rq, 0, id, sizeof id) != 0 || web_param(rq, 1, other, sizeof other) != 0)
        return web_send_error(rq->conn, 400, "bad_request", "record id too long");
    if ((rc = web_read_json(rq->conn, &in)) != 0)
        return rc;
    if (json_check_keys(in, keys, &err) != 0 ||
        json_get_string(in, "decision", true, &decision, &err) != 0 ||
        json_get_string(in, "reason", true, &reason, &err) != 0 ||
        (strcmp(decision, "duplicate") != 0 && strcmp(decision, "distinct") != 0) ||
        reason[0] == '\0') {
        json_decref(in);
        return web_send_error(rq->conn, 400, "bad_request",
                              err_msg(&err)[0] ? err_msg(&err)
                                               : "decision (duplicate or distinct) and reason "
                                                 "(text) are required");
    }
    if (registry_dup_resolve(rq->w->db, actor_of(rq), id, other,
                             strcmp(decision, "duplicate") == 0, reason, &err) != 0)
        rc = registry_failure(rq, &err);
    else
        rc = web_send_owned(rq, 200, json_pack("{s:s, s:s, s:s}", "record_id", id, "other_id", other,
                                           "decision", decision));
    json_decref(in);
    return rc;
}
