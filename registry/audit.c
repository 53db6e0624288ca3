/* civreg registry: `audit verify`. Replays the whole log from its first
 * event: checks each event's canonical form, position and signature (with
 * the keys the log itself published), rebuilds the Merkle tree and checks
 * every signed tree head and the witness file, then compares every row of
 * the registry's tables with the state the signed events describe, and
 * re-hashes every evidence file. Each problem is reported as one line naming
 * the row, event or file. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_objects.h"
#include "audit_par.h"
#include "core/encode.h"
#include "core/json.h"
#include "db/rows.h"
#include "projection_int.h"

#define TREE_HEAD_REPORT_MAX 3
#define LINK_STATEMENT_MAX (64 * 1024) /* canonical bytes of a link statement the audit reads */

struct audit {
    struct db *db;
    struct reg_problems problems;
    unsigned char office_pk[REG_PK_BYTES];
    bool have_office_pk;
    bool office_key_pinned; /* given by the caller (--office-key) */
    char node_office[REG_OFFICE_MAX + 1];
    /* what the rules need from the replayed log (the rows themselves are
     * rebuilt in the projection, projection.c) */
    json_t *keys;  /* username -> public key hex */
    json_t *users; /* username -> {roles[], disabled} */
    /* per record and person (rule_get): a table beside the expected ones,
     * not in memory, so that the audit's memory does not grow with the
     * register */
    sqlite3_stmt *rule_get, *rule_put;
    struct proj *proj;
    struct audit_objects *objects; /* event_objects, checked as the log is read */
    /* witness */
    json_t *witness;
    bool witness_checked;
    struct audit_par *par; /* signature checks in worker threads (audit_par.c) */
};

static void problem(struct audit *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct audit *a, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    reg_problemv(&a->problems, fmt, ap);
    va_end(ap);
}

/* The projection reports through the same counter. */
static void proj_report(void *ctx, const char *line)
{
    problem(ctx, "%s", line);
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* ---- the rules' state per record and person ---- */

/* What the rules remember of each record ({status, hash, keyers{}}), of
 * each person (the record that created them) and of each death (by the
 * person's number). */
enum rule_kind { RULE_RECORD, RULE_PERSON, RULE_DEATH };

static int rules_open(struct audit *a, struct err *err)
{
    if (db_exec(a->db,
                "CREATE TABLE civreg_expect.audit_rules(kind INTEGER NOT NULL, id TEXT NOT NULL,"
                " state TEXT NOT NULL, PRIMARY KEY(kind, id)) WITHOUT ROWID",
                err) != 0 ||
        db_prepare(a->db, &a->rule_get,
                   "SELECT state FROM civreg_expect.audit_rules WHERE kind = ?1 AND id = ?2",
                   err) != 0 ||
        db_prepare(a->db, &a->rule_put,
                   "INSERT INTO civreg_expect.audit_rules(kind, id, state) VALUES (?1, ?2, ?3)"
                   " ON CONFLICT(kind, id) DO UPDATE SET state = excluded.state",
                   err) != 0)
        return -1;
    return 0;
}

/* Whether ID has a state; with V, the state (an object, new reference;
 * NULL when there is none). */
static bool rule_find(struct audit *a, enum rule_kind kind, const char *id, json_t **v)
{
    sqlite3_stmt *st = a->rule_get;
    bool found;

    sqlite3_bind_int(st, 1, (int)kind);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    found = sqlite3_step(st) == SQLITE_ROW;
    if (v && (!found || json_parse((const char *)sqlite3_column_text(st, 0),
                                   (size_t)sqlite3_column_bytes(st, 0), v, NULL) != 0))
        *v = NULL;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return found;
}

/* The state (an object) of ID, new reference, or NULL when none was stored. */
static json_t *rule_get(struct audit *a, enum rule_kind kind, const char *id)
{
    json_t *v = NULL;

    (void)rule_find(a, kind, id, &v);
    return v;
}

static void rule_put(struct audit *a, enum rule_kind kind, const char *id, const json_t *v)
{
    sqlite3_stmt *st = a->rule_put;
    struct buf text = BUF_INIT(1 << 20);

    if (v == NULL || json_canonical(v, &text, NULL) != 0) {
        problem(a, "audit: out of memory (rule state of %s)", id);
    } else {
        sqlite3_bind_int(st, 1, (int)kind);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, (const char *)text.data, (int)text.len, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            problem(a, "audit: rule state of %s: %s", id, sqlite3_errmsg(db_handle(a->db)));
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    buf_release(&text);
}

static void rule_put_new(struct audit *a, enum rule_kind kind, const char *id, json_t *v)
{
    rule_put(a, kind, id, v);
    json_decref(v);
}

static bool rule_has(struct audit *a, enum rule_kind kind, const char *id)
{
    return rule_find(a, kind, id, NULL);
}

/* ---- replay: what each registry event says about the tables ---- */

#define SEQ(ev) ((unsigned long long)(ev)->seq)
#define AUDIT(p) ((struct audit *)proj_owner(p))

static const json_t *find_object(const json_t *objects, const char *kind)
{
    size_t i;
    json_t *o;

    json_array_foreach(objects, i, o) if (strcmp(jstr(o, "kind"), kind) == 0) return o;
    return NULL;
}

/* A logged value as a column: the value when it has type TYPE, else
 * unknown (an older event that did not carry it). New reference. */
static json_t *logged(const json_t *data, const char *key, json_type type)
{
    const json_t *v = json_object_get(data, key);
    return v && json_typeof(v) == type ? json_incref((json_t *)v) : proj_unknown();
}

/* "OFFICE/YEAR/NNNNNN" (or "OFFICE/D/YEAR/NNNNNN"): the counter row that
 * allocated it, {office, year, last}, raised to N when lower. */
static void counter_raise(struct proj *p, const char *table, const char *regno, bool death)
{
    char office[REG_OFFICE_MAX + 1];
    const char *s = strchr(regno, '/'), *y;
    char *end;
    long year, n;
    json_t *key, *cur;

    if (s == NULL || (size_t)(s - regno) > REG_OFFICE_MAX)
        goto bad;
    memcpy(office, regno, (size_t)(s - regno));
    office[s - regno] = '\0';
    y = s + 1;
    if (death) {
        if (strncmp(y, "D/", 2) != 0)
            goto bad;
        y += 2;
    }
    year = strtol(y, &end, 10);
    if (end == y || *end != '/')
        goto bad;
    n = strtol(end + 1, &end, 10);
    if (*end != '\0' || n < 1)
        goto bad;
    key = json_pack("{s:s, s:I}", "office", office, "year", (json_int_t)year);
    cur = key ? proj_get(p, table, key) : NULL;
    if (cur == NULL || json_integer_value(json_object_get(cur, "last")) < n)
        proj_put_new(p, table, json_pack("{s:s, s:I, s:I}", "office", office, "year",
                                         (json_int_t)year, "last", (json_int_t)n));
    json_decref(key);
    json_decref(cur);
    return;
bad:
    proj_problem(p, "%s: registration number '%.64s' in the log is malformed", table, regno);
}

static void replay_link(struct proj *p, const struct proj_event *ev, const json_t *link)
{
    struct audit *a = AUDIT(p);
    const json_t *lo = find_object(ev->objects, "link");
    const json_t *st = json_object_get(link, "statement");
    const char *signer = jstr(link, "signer");
    /* one canonical form for the hash (registry_json_hash allows 16 MiB)
     * and the signature (at most LINK_STATEMENT_MAX, as before) */
    struct buf body = BUF_INIT(16 << 20);
    unsigned char pk[REG_PK_BYTES], sig[REG_SIG_BYTES];
    const char *sig_hex = jstr(link, "signature");
    size_t n = 0;
    char h[65];
    bool canon_ok;

    if (lo == NULL || !json_is_object(st)) {
        problem(a, "event %llu: link statement missing from the event", SEQ(ev));
        return;
    }
    canon_ok = json_canonical(st, &body, NULL) == 0;
    if (canon_ok)
        reg_sha256_hex(body.data ? body.data : (const unsigned char *)"", body.len, h);
    if (!canon_ok || strcmp(h, jstr(lo, "hash")) != 0)
        problem(a, "event %llu: link statement does not match its hash", SEQ(ev));
    /* what reg_link_signature_ok checks (the canonical statement under the
     * signer's key), answered by a worker when one checked exactly that */
    if (!canon_ok || body.len > LINK_STATEMENT_MAX || strlen(sig_hex) != 2 * REG_SIG_BYTES ||
        hex_decode(sig_hex, strlen(sig_hex), sig, sizeof sig, &n, NULL) != 0 ||
        n != REG_SIG_BYTES) {
        problem(a, "event %llu: link statement signature by '%s' is invalid", SEQ(ev), signer);
        problem(a, "event %llu: link statement cannot be read", SEQ(ev));
        buf_release(&body);
        return;
    }
    if (reg_hex32(jstr(a->keys, signer), pk, "key", NULL) != 0 ||
        !audit_par_sig_ok(a->par, AUDIT_PAR_LINK, ev->seq, pk, body.data, body.len, sig,
                          sizeof sig, NULL, NULL))
        problem(a, "event %llu: link statement signature by '%s' is invalid", SEQ(ev), signer);
    proj_put_new(p, "person_links",
                 json_pack("{s:s, s:s, s:O, s:s, s:{s:s}, s:s, s:I}", "uin", jstr(st, "uin"),
                           "record_id", jstr(st, "record_id"), "record_version",
                           json_object_get(st, "record_version")
                               ? json_object_get(st, "record_version")
                               : json_null(),
                           "statement", buf_str(&body), "signature", "$blob", sig_hex, "signer",
                           signer, "event_seq", (json_int_t)ev->seq));
    buf_release(&body);
}

/* Whether the replayed user ACTOR held ROLE when signing. A hostile log may
 * hold anything in "roles": only strings count. */
static bool held_role(struct audit *a, const char *actor, const char *role)
{
    const json_t *roles = json_object_get(json_object_get(a->users, actor), "roles");
    size_t i;
    json_t *r;

    json_array_foreach(roles, i, r) if (json_is_string(r) && strcmp(json_string_value(r), role) == 0)
        return true;
    return false;
}

static void on_office_key(struct proj *p, const struct proj_event *ev)
{
    struct audit *a = AUDIT(p);
    unsigned char pk[REG_PK_BYTES];
    const char *office = jstr(ev->data, "office");

    if (reg_hex32(jstr(ev->data, "public_key"), pk, "key", NULL) != 0 || !a->have_office_pk ||
        memcmp(pk, a->office_pk, REG_PK_BYTES) != 0)
        problem(a, "event %llu: the office key published in the log is not the trusted office key",
                SEQ(ev));
    /* version-1 office.key events carried only the code and the key */
    proj_put_new(p, "offices",
                 json_pack("{s:s, s:o, s:o, s:o}", "code", office, "name",
                           logged(ev->data, "name", JSON_STRING), "country",
                           logged(ev->data, "country", JSON_STRING), "created_at",
                           logged(ev->data, "created_at", JSON_STRING)));
    proj_put_new(p, "office_keys",
                 json_pack("{s:s, s:{s:s}, s:o}", "office", office, "public_key", "$blob",
                           jstr(ev->data, "public_key"), "created_at",
                           logged(ev->data, "key_created_at", JSON_STRING)));
}

/* The roles bit mask of a logged roles list (-1 when a name is unknown). */
static json_int_t roles_mask(const json_t *roles)
{
    unsigned mask = 0, bit = 0;
    size_t i;
    json_t *r;

    if (!json_is_array(roles))
        return -1;
    json_array_foreach(roles, i, r) {
        if (!json_is_string(r) || registry_roles_parse(json_string_value(r), &bit, NULL) != 0)
            return -1;
        mask |= bit;
    }
    return (json_int_t)mask;
}

static void on_user_add(struct proj *p, const struct proj_event *ev)
{
    struct audit *a = AUDIT(p);
    const char *u = jstr(ev->data, "username");
    const json_t *o = find_object(ev->objects, "user");
    const json_t *roles = json_object_get(ev->data, "roles");
    char h[65];

    if (registry_json_hash(ev->data, h, NULL) != 0 || o == NULL || strcmp(h, jstr(o, "hash")) != 0)
        problem(a, "event %llu: user.add data does not match its object hash", SEQ(ev));
    if (json_object_get(a->keys, u))
        problem(a, "event %llu: user '%s' added a second time", SEQ(ev), u);
    /* only the first user adds themselves; every later one needs an admin */
    if (json_object_size(a->keys) > 0 && !held_role(a, ev->actor, "admin"))
        problem(a, "event %llu: user '%s' added by '%s', who is not an admin", SEQ(ev), u,
                ev->actor);
    (void)json_object_set_new(a->keys, u, json_string(jstr(ev->data, "public_key")));
    (void)json_object_set_new(a->users, u,
                              json_pack("{s:O, s:b}", "roles",
                                        json_is_array(roles) ? roles : json_null(), "disabled",
                                        0));
    proj_put_new(p, "users",
                 json_pack("{s:s, s:s, s:I, s:{s:s}, s:i, s:o, s:I, s:O}", "username", u, "office",
                           jstr(ev->data, "office"), "roles", roles_mask(roles), "public_key",
                           "$blob", jstr(ev->data, "public_key"), "disabled", 0, "created_at",
                           proj_time(ev), "event_seq", (json_int_t)ev->seq, "name",
                           json_is_string(json_object_get(ev->data, "name"))
                               ? json_object_get(ev->data, "name")
                               : json_null()));
}

static void on_user_key(struct proj *p, const struct proj_event *ev)
{
    struct audit *a = AUDIT(p);
    const char *u = jstr(ev->data, "username");
    const json_t *o = find_object(ev->objects, "user");
    char h[65];

    if (registry_json_hash(ev->data, h, NULL) != 0 || o == NULL || strcmp(h, jstr(o, "hash")) != 0)
        problem(a, "event %llu: user.key data does not match its object hash", SEQ(ev));
    if (json_object_get(a->users, u) == NULL || !held_role(a, ev->actor, "admin")) {
        problem(a, "event %llu: new key for '%s' by '%s' (needs an admin and a known user)",
                SEQ(ev), u, ev->actor);
        return;
    }
    /* later events by U verify under the new key */
    (void)json_object_set_new(a->keys, u, json_string(jstr(ev->data, "public_key")));
    proj_put_new(p, "users", json_pack("{s:s, s:{s:s}}", "username", u, "public_key", "$blob",
                                       jstr(ev->data, "public_key")));
}

static void on_user_disable(struct proj *p, const struct proj_event *ev)
{
    struct audit *a = AUDIT(p);
    const char *u = jstr(ev->data, "username");
    json_t *us = json_object_get(a->users, u);

    if (us == NULL || !held_role(a, ev->actor, "admin")) {
        problem(a, "event %llu: '%s' disabled by '%s' (needs an admin and a known user)",
                SEQ(ev), u, ev->actor);
        return;
    }
    (void)json_object_set_new(us, "disabled", json_true());
    proj_put_new(p, "users", json_pack("{s:s, s:i}", "username", u, "disabled", 1));
}

static void on_user_roles(struct proj *p, const struct proj_event *ev)
{
    struct audit *a = AUDIT(p);
    const char *u = jstr(ev->data, "username");
    const json_t *o = find_object(ev->objects, "user");
    const json_t *roles = json_object_get(ev->data, "roles");
    json_t *us = json_object_get(a->users, u);
    char h[65];

    if (registry_json_hash(ev->data, h, NULL) != 0 || o == NULL || strcmp(h, jstr(o, "hash")) != 0)
        problem(a, "event %llu: user.roles data does not match its object hash", SEQ(ev));
    if (us == NULL || !held_role(a, ev->actor, "admin") || strcmp(ev->actor, u) == 0) {
        problem(a, "event %llu: roles of '%s' changed by '%s' (needs another user who is an "
                   "admin, and a known user)",
                SEQ(ev), u, ev->actor);
        return;
    }
    /* later events by U are checked against the new roles */
    (void)json_object_set_new(us, "roles", json_is_array(roles) ? json_incref((json_t *)roles)
                                                                 : json_null());
    proj_put_new(p, "users", json_pack("{s:s, s:I}", "username", u, "roles", roles_mask(roles)));
}

static void on_evidence_add(struct proj *p, const struct proj_event *ev)
{
    const json_t *o = find_object(ev->objects, "blob");

    if (o == NULL) {
        proj_problem(p, "event %llu: evidence.add names no blob", SEQ(ev));
        return;
    }
    proj_put_new(p, "blobs",
                 json_pack("{s:s, s:o, s:o, s:s, s:o, s:I}", "hash", jstr(o, "id"), "size",
                           logged(ev->data, "size", JSON_INTEGER), "media_type",
                           logged(ev->data, "media_type", JSON_STRING), "added_by", ev->actor,
                           "added_at", proj_time(ev), "event_seq", (json_int_t)ev->seq));
}

/* A record's rule state, created on first use (new reference). */
static json_t *record_state(struct audit *a, const char *id)
{
    json_t *rec = rule_get(a, RULE_RECORD, id);

    return rec ? rec : json_pack("{s:{}}", "keyers");
}

static void on_record_version(struct proj *p, const struct proj_event *ev)
{
    struct audit *a = AUDIT(p);
    const json_t *o = find_object(ev->objects, "record");
    const json_t *v = json_object_get(ev->data, "version");
    const json_t *rev = json_object_get(ev->data, "reason_evidence");
    bool draft = strcmp(ev->type, "record.draft") == 0;
    struct buf ev_text = BUF_INIT(64 * 1024);
    json_t *rec, *head;
    const char *status = jstr(ev->data, "status");

    if (o == NULL || !json_is_integer(v)) {
        problem(a, "event %llu: %s names no record version", SEQ(ev), ev->type);
        return;
    }
    rec = record_state(a, jstr(o, "id"));
    if (rec) {
        (void)json_object_set_new(json_object_get(rec, "keyers"), ev->actor, json_true());
        (void)json_object_set_new(rec, "status", json_string(status));
        (void)json_object_set_new(rec, "hash", json_string(jstr(o, "hash")));
    }
    rule_put(a, RULE_RECORD, jstr(o, "id"), rec);
    json_decref(rec);
    if (rev && json_canonical(rev, &ev_text, NULL) != 0)
        buf_reset(&ev_text);
    proj_put_new(p, "record_versions",
                 json_pack("{s:s, s:O, s:s, s:s?, s:s?, s:s?, s:s, s:o, s:I}", "record_id",
                           jstr(o, "id"), "version", v, "hash", jstr(o, "hash"), "prev_hash",
                           json_string_value(json_object_get(o, "prev")), "reason",
                           draft ? NULL : json_string_value(json_object_get(ev->data, "reason")),
                           "reason_evidence", rev && !draft ? buf_str(&ev_text) : NULL,
                           "keyed_by", ev->actor, "keyed_at", proj_time(ev), "event_seq",
                           (json_int_t)ev->seq));
    buf_release(&ev_text);
    /* record import: the line a draft came from (record.draft data.source) */
    if (draft && json_is_object(json_object_get(ev->data, "source"))) {
        const json_t *src = json_object_get(ev->data, "source");
        proj_put_new(p, "record_import_lines",
                     json_pack("{s:o, s:o, s:s, s:I}", "file_hash",
                               logged(src, "file_sha256", JSON_STRING), "line",
                               logged(src, "line", JSON_INTEGER), "record_id", jstr(o, "id"),
                               "event_seq", (json_int_t)ev->seq));
    }
    if (draft)
        head = json_pack("{s:s, s:s, s:s, s:O, s:n, s:n, s:n, s:n, s:n, s:o, s:o, s:I}", "id",
                         jstr(o, "id"), "office", ev->office, "status", status, "version", v,
                         "verified_by", "registration_number", "registered_by", "registered_at",
                         "uin", "created_at", proj_time(ev), "updated_at", proj_time(ev),
                         "event_seq", (json_int_t)ev->seq);
    else
        head = json_pack("{s:s, s:s, s:O, s:o, s:I}", "id", jstr(o, "id"), "status", status,
                         "version", v, "updated_at", proj_time(ev), "event_seq",
                         (json_int_t)ev->seq);
    /* a correction of an unregistered record goes back to draft and needs
     * a new verification */
    if (head && !draft && strcmp(status, "draft") == 0)
        (void)json_object_set_new(head, "verified_by", json_null());
    proj_put_new(p, "birth_records", head);
    if (json_object_get(ev->data, "link"))
        replay_link(p, ev, json_object_get(ev->data, "link"));
}

static void on_record_verify(struct proj *p, const struct proj_event *ev)
{
    struct audit *a = AUDIT(p);
    const json_t *o = find_object(ev->objects, "record");
    json_t *rec = o ? rule_get(a, RULE_RECORD, jstr(o, "id")) : NULL;

    if (rec == NULL) {
        problem(a, "event %llu: verifies a record the log never drafted", SEQ(ev));
        return;
    }
    if (strcmp(jstr(o, "hash"), jstr(rec, "hash")) != 0)
        problem(a, "event %llu: verifies a version that is not the record's current one",
                SEQ(ev));
    if (json_object_get(json_object_get(rec, "keyers"), ev->actor) ||
        !held_role(a, ev->actor, "clerk"))
        problem(a, "event %llu: verification by '%s' breaks the four-eyes rule (keyed the "
                   "record, or not a clerk)",
                SEQ(ev), ev->actor);
    (void)json_object_set_new(rec, "status", json_string("verified"));
    rule_put_new(a, RULE_RECORD, jstr(o, "id"), rec);
    proj_put_new(p, "birth_records",
                 json_pack("{s:s, s:s, s:s, s:o, s:I}", "id", jstr(o, "id"), "status", "verified",
                           "verified_by", ev->actor, "updated_at", proj_time(ev), "event_seq",
                           (json_int_t)ev->seq));
}

static void on_record_register(struct proj *p, const struct proj_event *ev)
{
    struct audit *a = AUDIT(p);
    const json_t *po = find_object(ev->objects, "person");
    const json_t *o = find_object(ev->objects, "record");
    json_t *rec = o ? rule_get(a, RULE_RECORD, jstr(o, "id")) : NULL;
    const char *uin = po ? jstr(po, "id") : "";
    const char *regno = jstr(ev->data, "registration_number");

    if (rec == NULL || po == NULL) {
        problem(a, "event %llu: registers a record the log never drafted", SEQ(ev));
        json_decref(rec);
        return;
    }
    if (strcmp(jstr(rec, "status"), "verified") != 0 || !held_role(a, ev->actor, "registrar"))
        problem(a, "event %llu: registration by '%s' of a record that was %s (needs a "
                   "registrar and a verified record)",
                SEQ(ev), ev->actor, jstr(rec, "status"));
    (void)json_object_set_new(rec, "status", json_string("registered"));
    rule_put_new(a, RULE_RECORD, jstr(o, "id"), rec);
    if (rule_has(a, RULE_PERSON, uin))
        problem(a, "event %llu: identity number %s issued a second time", SEQ(ev), uin);
    rule_put_new(a, RULE_PERSON, uin, json_string(jstr(o, "id")));
    proj_put_new(p, "birth_records",
                 json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:I}", "id", jstr(o, "id"),
                           "status", "registered", "registration_number", regno, "registered_by",
                           ev->actor, "registered_at", proj_time(ev), "uin",
                           jstr(ev->data, "uin"), "updated_at", proj_time(ev), "event_seq",
                           (json_int_t)ev->seq));
    proj_put_new(p, "persons",
                 json_pack("{s:s, s:s, s:s, s:o, s:I}", "uin", uin, "record_id", jstr(o, "id"),
                           "created_by", ev->actor, "created_at", proj_time(ev), "event_seq",
                           (json_int_t)ev->seq));
    counter_raise(p, "registration_counters", regno, false);
    replay_link(p, ev, json_object_get(ev->data, "link"));
}

/* A resolution re-orients its pair: "record_id is the duplicate of
 * other_id". The candidate itself was found by the search (not logged). */
static void on_record_duplicate(struct proj *p, const struct proj_event *ev)
{
    struct audit *a = AUDIT(p);
    const char *decision = jstr(ev->data, "decision");
    const char *r1 = jstr(ev->data, "record");
    const char *r2 = jstr(ev->data, strcmp(decision, "duplicate") == 0 ? "duplicate_of" : "other");
    sqlite3_stmt *st = NULL;
    json_t *row;

    if (!held_role(a, ev->actor, "registrar"))
        problem(a, "event %llu: duplicate pair resolved by '%s', who is not a registrar",
                SEQ(ev), ev->actor);
    if (db_prepare(a->db, &st,
                   "DELETE FROM civreg_expect.dup_candidates WHERE (record_id = ?1 AND"
                   " other_id = ?2) OR (record_id = ?2 AND other_id = ?1) RETURNING why,"
                   " found_at",
                   NULL) != 0) {
        problem(a, "audit: cannot rebuild dup_candidates");
        return;
    }
    sqlite3_bind_text(st, 1, r1, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r2, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        row = json_pack("{s:s, s:s, s:s, s:s}", "why", (const char *)sqlite3_column_text(st, 0),
                        "found_at", (const char *)sqlite3_column_text(st, 1), "record_id", r1,
                        "other_id", r2);
    else
        row = json_pack("{s:o, s:o, s:s, s:s}", "why", proj_unknown(), "found_at",
                        proj_unknown(), "record_id", r1, "other_id", r2);
    while (sqlite3_step(st) == SQLITE_ROW)
        ;
    sqlite3_finalize(st);
    if (row) {
        (void)json_object_set_new(row, "score", logged(ev->data, "score", JSON_INTEGER));
        (void)json_object_set_new(row, "status", json_string(decision));
        (void)json_object_set_new(row, "resolved_by", json_string(ev->actor));
        (void)json_object_set_new(row, "resolved_at", proj_time(ev));
        (void)json_object_set_new(row, "reason", logged(ev->data, "reason", JSON_STRING));
        (void)json_object_set_new(row, "event_seq", json_integer((json_int_t)ev->seq));
    }
    proj_put_new(p, "dup_candidates", row);
}

static void on_death_register(struct proj *p, const struct proj_event *ev)
{
    struct audit *a = AUDIT(p);
    const json_t *po = find_object(ev->objects, "person");
    const json_t *o = find_object(ev->objects, "death");
    const char *regno = jstr(ev->data, "registration_number");
    const char *slash = strchr(regno, '/');
    char office[REG_OFFICE_MAX + 1] = "";

    if (o == NULL || po == NULL || !rule_has(a, RULE_PERSON, jstr(po, "id"))) {
        problem(a, "event %llu: registers the death of a person the log never created", SEQ(ev));
        return;
    }
    if (!held_role(a, ev->actor, "registrar"))
        problem(a, "event %llu: death registered by '%s', who is not a registrar", SEQ(ev),
                ev->actor);
    if (rule_has(a, RULE_DEATH, jstr(po, "id")))
        problem(a, "event %llu: a second death registered for %s", SEQ(ev), jstr(po, "id"));
    rule_put_new(a, RULE_DEATH, jstr(po, "id"), json_string(jstr(o, "id")));
    /* the death's office is the one its number was allocated in */
    if (slash && (size_t)(slash - regno) <= REG_OFFICE_MAX) {
        memcpy(office, regno, (size_t)(slash - regno));
        office[slash - regno] = '\0';
    }
    proj_put_new(p, "deaths",
                 json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:I}", "id", jstr(o, "id"),
                           "uin", jstr(po, "id"), "office", office, "registration_number", regno,
                           "date_of_death", logged(ev->data, "date_of_death", JSON_STRING), "hash",
                           jstr(o, "hash"), "registered_by", ev->actor, "registered_at",
                           proj_time(ev), "event_seq", (json_int_t)ev->seq));
    counter_raise(p, "death_counters", regno, true);
}

static void on_extract_issue(struct proj *p, const struct proj_event *ev)
{
    struct audit *a = AUDIT(p);
    const json_t *ro = find_object(ev->objects, "record");
    json_t *rec = ro ? rule_get(a, RULE_RECORD, jstr(ro, "id")) : NULL;
    const json_t *o = find_object(ev->objects, "extract");
    bool registered = rec && strcmp(jstr(rec, "status"), "registered") == 0;

    json_decref(rec);
    if (o == NULL || !registered) {
        problem(a, "event %llu: an extract of a record that is not registered", SEQ(ev));
        return;
    }
    if (!held_role(a, ev->actor, "clerk") && !held_role(a, ev->actor, "registrar"))
        problem(a, "event %llu: extract issued by '%s', who is neither clerk nor registrar",
                SEQ(ev), ev->actor);
    proj_put_new(p, "extracts",
                 json_pack("{s:s, s:s, s:o, s:s, s:o, s:s, s:o, s:I}", "id", jstr(o, "id"),
                           "record_id", jstr(ro, "id"), "uin", logged(ev->data, "uin", JSON_STRING),
                           "seal_hash", jstr(o, "hash"), "signer",
                           logged(ev->data, "signer_cert_sha256", JSON_STRING), "issued_by",
                           ev->actor, "issued_at", proj_time(ev), "event_seq",
                           (json_int_t)ev->seq));
}

/* scan.import: one row per page object. Since scanner's "at", the rows'
 * time is in the data. The columns the scanner learned about each page are
 * in its meta, signed by hash: after_scan_pages reads them from a stored
 * meta that matches. */
static void on_scan_import(struct proj *p, const struct proj_event *ev)
{
    size_t i;
    json_t *o;

    json_array_foreach(ev->objects, i, o) {
        if (strcmp(jstr(o, "kind"), "scan_page") != 0)
            continue;
        proj_put_new(p, "scan_pages",
                     json_pack("{s:s, s:s, s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
                               "s:o}",
                               "id", jstr(o, "id"), "meta_hash", jstr(o, "hash"), "file_name",
                               logged(ev->data, "file_name", JSON_STRING), "import_id",
                               logged(ev->data, "import", JSON_STRING), "event_seq",
                               (json_int_t)ev->seq, "created_at",
                               logged(ev->data, "at", JSON_STRING), "file_hash", proj_unknown(),
                               "page_index", proj_unknown(), "volume_id", proj_unknown(),
                               "page_number", proj_unknown(), "is_separator", proj_unknown(),
                               "quality_flags", proj_unknown(), "preview_hash",
                               proj_unknown()));
    }
}

static void page_from_meta(struct proj *p, const char *id, const char *created_at,
                           const json_t *meta)
{
    const json_t *vol = json_object_get(meta, "volume"), *sep = json_object_get(meta, "separator");
    const json_t *flags = json_object_get(json_object_get(meta, "quality"), "flags");
    struct buf fl = BUF_INIT(1024), vid = BUF_INIT(256);
    size_t i;
    json_t *f;
    bool bad = false;

    json_array_foreach(flags, i, f) bad |= buf_printf(&fl, "%s%s", i ? "," : "",
                                                      json_string_value(f) ? json_string_value(f)
                                                                           : "?") != 0;
    if (json_is_object(vol))
        bad |= buf_printf(&vid, "%s|%04d|%s", jstr(vol, "office"),
                          (int)json_integer_value(json_object_get(vol, "year")),
                          jstr(vol, "volume")) != 0;
    if (bad) {
        proj_problem(p, "scan_pages %s: meta cannot be read", id);
        goto out;
    }
    proj_put_new(p, "scan_pages",
                 json_pack("{s:s, s:o, s:o, s:s?, s:O, s:i, s:s, s:o}", "id", id, "file_hash",
                           logged(meta, "file_hash", JSON_STRING), "page_index",
                           logged(meta, "page_index", JSON_INTEGER), "volume_id",
                           json_is_object(vol) ? buf_str(&vid) : NULL, "page_number",
                           json_is_integer(json_object_get(meta, "page_number"))
                               ? json_object_get(meta, "page_number")
                               : json_null(),
                           "is_separator", json_is_object(sep) ? 1 : 0, "quality_flags",
                           buf_str(&fl), "preview_hash",
                           logged(meta, "preview_hash", JSON_STRING)));
    /* a volume row is made by the first separator that names it */
    if (json_is_object(sep)) {
        json_t *key = json_pack("{s:s}", "id", buf_str(&vid)), *cur = NULL;
        if (key && (cur = proj_get(p, "scan_volumes", key)) == NULL)
            proj_put_new(p, "scan_volumes",
                         json_pack("{s:s, s:s, s:I, s:s, s:s?}", "id", buf_str(&vid), "office",
                                   jstr(sep, "office"), "year",
                                   (json_int_t)json_integer_value(json_object_get(sep, "year")),
                                   "volume", jstr(sep, "volume"), "created_at", created_at));
        json_decref(key);
        json_decref(cur);
    }
out:
    buf_release(&fl);
    buf_release(&vid);
}

static void after_scan_pages(struct proj *p)
{
    struct audit *a = AUDIT(p);
    sqlite3_stmt *st = NULL;

    if (db_prepare(a->db, &st,
                   "SELECT e.id, e.meta_hash, e.created_at, m.meta FROM civreg_expect.scan_pages e"
                   " JOIN main.scan_pages m ON m.id = e.id ORDER BY e.event_seq, m.page_index",
                   NULL) != 0) {
        problem(a, "audit: cannot read scan_pages");
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *meta = (const char *)sqlite3_column_text(st, 3);
        json_t *m = NULL;
        char h[65];
        if (meta == NULL || sqlite3_column_type(st, 1) != SQLITE_TEXT)
            continue;
        reg_sha256_hex(meta, (size_t)sqlite3_column_bytes(st, 3), h);
        /* a meta that differs from what the log signed is reported by the
         * comparison; its columns stay unknown */
        if (strcmp(h, (const char *)sqlite3_column_text(st, 1)) != 0 ||
            json_parse(meta, (size_t)sqlite3_column_bytes(st, 3), &m, NULL) != 0)
            continue;
        page_from_meta(p, (const char *)sqlite3_column_text(st, 0),
                       sqlite3_column_type(st, 2) == SQLITE_TEXT
                           ? (const char *)sqlite3_column_text(st, 2)
                           : NULL,
                       m);
        json_decref(m);
    }
    sqlite3_finalize(st);
}

static const struct proj_handler registry_handlers[] = {
    { "office.key", on_office_key },
    { "user.add", on_user_add },
    { "user.key", on_user_key },
    { "user.disable", on_user_disable },
    { "user.roles", on_user_roles },
    { "evidence.add", on_evidence_add },
    { "record.draft", on_record_version },
    { "record.correct", on_record_version },
    { "record.verify", on_record_verify },
    { "record.register", on_record_register },
    { "record.duplicate", on_record_duplicate },
    { "death.register", on_death_register },
    { "extract.issue", on_extract_issue },
    { "scan.import", on_scan_import },
};

/* The registry's tables as the log defines them. docs/registry.md lists the
 * same, column by column; the excluded columns carry their reason here. */
static const struct proj_table registry_tables[] = {
    { "offices", "code, name, country, created_at", NULL, NULL, NULL },
    { "office_keys", "office, public_key, created_at",
      "sealed_key: the office log key sealed under keys/office-<CODE>.key, a secret; its public "
      "half is logged and every tree head proves it",
      NULL, NULL },
    { "users", "username, office, roles, public_key, disabled, created_at, event_seq, name",
      "pw_hash: the password verifier, a secret that user.passwd changes without logging it; "
      "key_salt: the salt sealing the user's key, changes with the password; sealed_key: the "
      "user's signing key sealed under the password, a secret (its public half is logged); "
      "epoch: a session generation counter bumped by every account change (including a "
      "password change, which is not logged), compared by the server to end sessions",
      NULL, NULL },
    { "blobs", "hash, size, media_type, added_by, added_at, event_seq", NULL, NULL, NULL },
    { "record_import_lines", "file_hash, line, record_id, event_seq", NULL, NULL, NULL },
    { "birth_records",
      "id, office, status, version, verified_by, registration_number, registered_by, "
      "registered_at, uin, created_at, updated_at, event_seq",
      NULL, NULL, NULL },
    { "record_versions",
      "record_id, version, hash, prev_hash, reason, reason_evidence, keyed_by, keyed_at, "
      "event_seq",
      NULL, "data", "hash" },
    { "registration_counters", "office, year, last", NULL, NULL, NULL },
    { "persons", "uin, record_id, created_by, created_at, event_seq", NULL, NULL, NULL },
    { "person_links", "uin, record_id, record_version, statement, signature, signer, event_seq",
      NULL, NULL, NULL },
    { "dup_candidates",
      "record_id, other_id, score, why, status, found_at, resolved_by, resolved_at, reason, "
      "event_seq",
      NULL, NULL, NULL },
    { "deaths",
      "id, uin, office, registration_number, date_of_death, hash, registered_by, registered_at, "
      "event_seq",
      NULL, "data", "hash" },
    { "death_counters", "office, year, last", NULL, NULL, NULL },
    { "extracts", "id, record_id, uin, seal_hash, signer, issued_by, issued_at, event_seq", NULL,
      "seal", "seal_hash" },
    { "event_objects", "kind, object_id, seq", NULL, NULL, NULL },
    { "scan_volumes", "id, office, year, volume, created_at", NULL, NULL, NULL },
    { "scan_pages",
      "id, file_hash, page_index, file_name, volume_id, page_number, is_separator, "
      "quality_flags, preview_hash, meta_hash, import_id, event_seq, created_at",
      NULL, "meta", "meta_hash" },
};

static const struct proj_module registry_projection = {
    "registry",
    registry_tables,
    sizeof registry_tables / sizeof registry_tables[0],
    registry_handlers,
    sizeof registry_handlers / sizeof registry_handlers[0],
    after_scan_pages,
};

/* Open duplicate candidates are found by the search, not logged: the
 * expected table starts from the stored pairs, open and unresolved, with
 * their score, reasons and time as stored; each resolution event then
 * re-orients and resolves its pair. */
static int seed_duplicates(struct audit *a, struct err *err)
{
    char *msg = NULL;

    if (sqlite3_exec(db_handle(a->db),
                     "INSERT OR IGNORE INTO civreg_expect.dup_candidates(record_id, other_id, score,"
                     " why, status, found_at, resolved_by, resolved_at, reason, event_seq)"
                     " SELECT record_id, other_id, score, why, 'open', found_at, NULL, NULL, NULL,"
                     " NULL FROM main.dup_candidates",
                     NULL, NULL, &msg) != SQLITE_OK) {
        err_set(err, "audit: dup_candidates: %s", msg ? msg : "out of memory");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Every event names its objects in event_objects: compared with the
 * stored rows as the events are read (audit_objects.c), reported where the
 * table's comparison comes in proj_compare. */
static int objects_report(void *ctx, struct err *err)
{
    struct audit *a = ctx;

    return audit_objects_finish(a->objects, proj_report, a, err);
}

static void replay(struct audit *a, uint64_t seq, const json_t *body)
{
    struct proj_event ev;
    const json_t *v = json_object_get(body, "v");

    ev.seq = seq;
    ev.v = json_is_integer(v) ? (int)json_integer_value(v) : 0;
    ev.type = jstr(body, "type");
    ev.actor = jstr(body, "actor");
    ev.office = jstr(body, "office");
    ev.time = jstr(body, "time");
    ev.objects = json_object_get(body, "objects");
    ev.data = json_object_get(body, "data");
    if (json_is_true(json_object_get(json_object_get(a->users, ev.actor), "disabled")))
        problem(a, "event %llu: signed by '%s' after the account was disabled", SEQ(&ev),
                ev.actor);
    audit_objects_event(a->objects, ev.seq, ev.objects);
    proj_replay(a->proj, &ev);
}

/* ---- the log ---- */

/* The stored complete subtrees are read as the rebuild emits them: one
 * cursor per level walking its rows in index order (the rebuild completes
 * the subtrees of one level in increasing index), instead of one B-tree
 * lookup per node. A row the cursor passes without its index being asked
 * for is one the rebuilt tree does not have, ignored as before. */
struct node_check {
    struct audit *a;
    sqlite3_stmt *lv[64];
    bool have[64]; /* the cursor of the level is on a row */
    uint64_t bad;
};

static void node_cursor_next(struct node_check *c, unsigned level)
{
    c->have[level] = sqlite3_step(c->lv[level]) == SQLITE_ROW;
}

static int check_node(void *ctx, unsigned level, uint64_t index, const merkle_hash hash,
                      struct err *err)
{
    struct node_check *c = ctx;
    sqlite3_stmt *st;
    bool found = false;

    if (level >= 64)
        return err_setk(err, ERR_INTERNAL, "merkle: level %u", level);
    if (c->lv[level] == NULL) {
        if (db_prepare(c->a->db, &c->lv[level],
                       "SELECT idx, hash FROM merkle_nodes WHERE level=?1 ORDER BY idx",
                       err) != 0)
            return -1;
        sqlite3_bind_int(c->lv[level], 1, (int)level);
        node_cursor_next(c, level);
    }
    st = c->lv[level];
    while (c->have[level] && (uint64_t)sqlite3_column_int64(st, 0) < index)
        node_cursor_next(c, level);
    found = c->have[level] && (uint64_t)sqlite3_column_int64(st, 0) == index;
    if (!found || sqlite3_column_bytes(st, 1) != MERKLE_HASH_BYTES ||
        memcmp(sqlite3_column_blob(st, 1), hash, MERKLE_HASH_BYTES) != 0) {
        if (c->bad++ == 0)
            problem(c->a, "merkle_nodes: subtree level %u index %llu %s", level,
                    (unsigned long long)index,
                    found ? "differs from the rebuilt tree" : "is missing");
    }
    return 0;
}

struct heads {
    sqlite3_stmt *st;
    bool have;
    uint64_t size;
    uint64_t last; /* the size of the head checked last, 0 before the first */
    uint64_t checked, bad;
};

static void heads_next(struct audit *a, struct heads *h)
{
    int step = sqlite3_step(h->st);

    h->have = step == SQLITE_ROW;
    if (h->have)
        h->size = (uint64_t)sqlite3_column_int64(h->st, 0);
    else if (step != SQLITE_DONE)
        problem(a, "tree_heads: cannot be read: %s", sqlite3_errmsg(db_handle(a->db)));
}

/* Check the head the statement is on against the rebuilt ROOT: its chain
 * (a v1 head claims the size before it, a v2 head its previous_size; the
 * claim must be the size of the head checked before it, so a deleted head
 * row is caught by the one after it), its body and its signature. */
static void head_check(struct audit *a, struct heads *h, const merkle_hash root)
{
    sqlite3_stmt *st = h->st;
    const char *body = (const char *)sqlite3_column_text(st, 4);
    json_t *b = NULL;
    char root_hex[65];
    uint64_t previous = 0;
    int version;
    bool ok = true;

    h->checked++;
    hex_encode(root, 32, root_hex);
    if (body != NULL && json_parse(body, strlen(body), &b, NULL) != 0)
        b = NULL;
    version = reg_tree_head_previous_of(b, h->size, &previous);
    if (sqlite3_column_bytes(st, 1) != 32 || memcmp(sqlite3_column_blob(st, 1), root, 32) != 0) {
        if (h->bad++ < TREE_HEAD_REPORT_MAX)
            problem(a, "tree head %llu: its root hash differs from the tree rebuilt from the "
                       "events (events changed, deleted or reordered)",
                    (unsigned long long)h->size);
        ok = false;
    }
    if (ok && (version < 0 ||
               json_integer_value(json_object_get(b, "tree_size")) != (json_int_t)h->size ||
               strcmp(jstr(b, "root_hash"), root_hex) != 0 ||
               sqlite3_column_type(st, 2) != SQLITE_TEXT || sqlite3_column_type(st, 3) != SQLITE_TEXT ||
               strcmp(jstr(b, "office"), (const char *)sqlite3_column_text(st, 2)) != 0 ||
               strcmp(jstr(b, "time"), (const char *)sqlite3_column_text(st, 3)) != 0)) {
        if (h->bad++ < TREE_HEAD_REPORT_MAX)
            problem(a, "tree head %llu: its signed body does not name this size, root, office "
                       "and time%s",
                    (unsigned long long)h->size, version == 1 ? " and the previous size" : "");
        ok = false;
    }
    if (ok && previous != h->last) {
        if (h->bad++ < TREE_HEAD_REPORT_MAX)
            problem(a, "tree head %llu: the head before it (size %llu) is missing or changed",
                    (unsigned long long)h->size, (unsigned long long)previous);
    }
    if (ok && (!a->have_office_pk ||
               !audit_par_sig_ok(a->par, AUDIT_PAR_HEAD, h->size, a->office_pk, body,
                                 strlen(body), sqlite3_column_blob(st, 5),
                                 (size_t)sqlite3_column_bytes(st, 5), NULL, NULL))) {
        if (h->bad++ < TREE_HEAD_REPORT_MAX)
            problem(a, "tree head %llu: office signature invalid", (unsigned long long)h->size);
    }
    h->last = h->size;
    json_decref(b);
}

static void witness_check(struct audit *a, uint64_t size, const merkle_hash root)
{
    struct buf body = BUF_INIT(4096);
    unsigned char sig[REG_SIG_BYTES];
    char root_hex[65];
    const char *sig_hex = jstr(a->witness, "signature");
    size_t n = 0;

    a->witness_checked = true;
    hex_encode(root, 32, root_hex);
    if (strcmp(root_hex, jstr(a->witness, "root_hash")) != 0) {
        problem(a, "keys/tree-head.json: the office signed a different root for tree size %llu "
                   "(events changed or reordered since)",
                (unsigned long long)size);
    } else if (reg_tree_head_body_of(a->witness, NULL, &body, NULL) != 0 ||
               strlen(sig_hex) != 2 * REG_SIG_BYTES ||
               hex_decode(sig_hex, strlen(sig_hex), sig, sizeof sig, &n, NULL) != 0 ||
               !a->have_office_pk ||
               !reg_sig_ok(a->office_pk, body.data, body.len, sig, sizeof sig)) {
        problem(a, "keys/tree-head.json: office signature invalid");
    }
    buf_release(&body);
}

/* The office key trusted (the stored one, no --office-key given) does not
 * verify an office.key event: when the key that event publishes does, the
 * stored key was replaced. */
static void office_key_replaced(struct audit *a, const json_t *b, const char *body,
                                size_t body_len, const unsigned char *sig, size_t sig_len)
{
    unsigned char pk[REG_PK_BYTES];
    char stored[65];

    if (a->office_key_pinned || strcmp(jstr(b, "type"), "office.key") != 0 ||
        reg_hex32(jstr(json_object_get(b, "data"), "public_key"), pk, "key", NULL) != 0 ||
        !reg_sig_ok(pk, body, body_len, sig, sig_len))
        return;
    hex_encode(a->office_pk, REG_PK_BYTES, stored);
    problem(a, "office_keys %s public_key: stored x'%.32s...', log x'%.32s...' (the stored key "
               "does not verify the log; replaced?)",
            a->node_office, stored, jstr(json_object_get(b, "data"), "public_key"));
}

static int check_events(struct audit *a, struct registry_audit_stats *stats, struct err *err)
{
    sqlite3_stmt *st = NULL;
    struct heads h = { 0 };
    struct node_check nc = { .a = a };
    struct merkle_frontier f = MERKLE_FRONTIER_INIT;
    uint64_t expected = 0, witness_size = 0;
    int rc = -1, step;

    if (a->witness)
        witness_size = (uint64_t)json_integer_value(json_object_get(a->witness, "tree_size"));
    if (db_prepare(a->db, &st,
                   "SELECT seq, type, actor, office, created_at, body, signature, leaf_hash"
                   " FROM events ORDER BY seq",
                   err) != 0 ||
        db_prepare(a->db, &h.st,
                   "SELECT tree_size, root_hash, office, signed_at, body, signature"
                   " FROM tree_heads ORDER BY tree_size",
                   err) != 0)
        goto out;
    a->par = audit_par_start(a->db, a->have_office_pk ? a->office_pk : NULL);
    heads_next(a, &h);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
        const char *body = (const char *)sqlite3_column_text(st, 5);
        size_t body_len = (size_t)sqlite3_column_bytes(st, 5);
        const unsigned char *sig = sqlite3_column_blob(st, 6);
        size_t sig_len = (size_t)sqlite3_column_bytes(st, 6);
        merkle_hash leaf, root = { 0 };
        json_t *b = NULL;
        const char *actor;
        bool have_leaf = false; /* from the events' worker, with its signature */
        unsigned char pk[REG_PK_BYTES];
        bool signed_ok = false, canonical = false;

        if (seq > expected) {
            if (seq - expected == 1)
                problem(a, "event %llu: missing from the log (deleted?)",
                        (unsigned long long)expected);
            else
                problem(a, "events %llu to %llu: missing from the log (deleted?)",
                        (unsigned long long)expected, (unsigned long long)(seq - 1));
        }
        expected = seq + 1;
        stats->events++;
        if (body == NULL || json_parse_canonical(body, body_len, &b, &canonical, NULL) != 0) {
            problem(a, "event %llu: body is not valid JSON", (unsigned long long)seq);
        } else {
            if (!canonical)
                problem(a, "event %llu: body is not in canonical form (edited?)",
                        (unsigned long long)seq);
            if (json_integer_value(json_object_get(b, "seq")) != (json_int_t)seq)
                problem(a, "event %llu: the signed body says it is event %lld (events swapped or "
                           "renumbered)",
                        (unsigned long long)seq, (long long)json_integer_value(json_object_get(b, "seq")));
            if (strcmp(jstr(b, "type"), (const char *)sqlite3_column_text(st, 1)) != 0 ||
                strcmp(jstr(b, "actor"), (const char *)sqlite3_column_text(st, 2)) != 0 ||
                strcmp(jstr(b, "office"), (const char *)sqlite3_column_text(st, 3)) != 0 ||
                strcmp(jstr(b, "time"), (const char *)sqlite3_column_text(st, 4)) != 0)
                problem(a, "event %llu: type, actor, office or time columns differ from the "
                           "signed body",
                        (unsigned long long)seq);
            actor = jstr(b, "actor");
            /* Only an event whose signature holds says anything about the
             * tables: a forged or damaged one is reported, never replayed. */
            if (strncmp(actor, "office:", 7) == 0) {
                if (!a->have_office_pk || strcmp(actor + 7, a->node_office) != 0) {
                    problem(a, "event %llu: signed by unknown office '%s'",
                            (unsigned long long)seq, actor);
                } else if (!audit_par_sig_ok(a->par, AUDIT_PAR_EVENT, seq, a->office_pk, body,
                                             body_len, sig, sig_len, leaf, &have_leaf)) {
                    problem(a, "event %llu (%s by %s): signature invalid",
                            (unsigned long long)seq, jstr(b, "type"), actor);
                    office_key_replaced(a, b, body, body_len, sig, sig_len);
                } else {
                    signed_ok = true;
                }
            } else if (strcmp(jstr(b, "type"), "user.add") == 0 &&
                       strcmp(jstr(json_object_get(b, "data"), "username"), actor) == 0 &&
                       json_object_size(a->keys) == 0) {
                /* the first admin signs their own creation with the key it publishes */
                if (reg_hex32(jstr(json_object_get(b, "data"), "public_key"), pk, "key", NULL) !=
                        0 ||
                    !audit_par_sig_ok(a->par, AUDIT_PAR_EVENT, seq, pk, body, body_len, sig,
                                      sig_len, leaf, &have_leaf))
                    problem(a, "event %llu (%s by %s): signature invalid",
                            (unsigned long long)seq, jstr(b, "type"), actor);
                else
                    signed_ok = true;
            } else if (reg_hex32(jstr(a->keys, actor), pk, "key", NULL) != 0) {
                problem(a, "event %llu: signed by '%s', who no earlier event added",
                        (unsigned long long)seq, actor);
            } else if (!audit_par_sig_ok(a->par, AUDIT_PAR_EVENT, seq, pk, body, body_len, sig,
                                         sig_len, leaf, &have_leaf)) {
                problem(a, "event %llu (%s by %s): signature invalid", (unsigned long long)seq,
                        jstr(b, "type"), actor);
            } else {
                signed_ok = true;
            }
            if (signed_ok && json_is_object(b))
                replay(a, seq, b);
        }
        if (!have_leaf)
            merkle_event_leaf(body ? body : "", body_len,
                              sig ? sig : (const unsigned char *)"", sig_len, leaf);
        if (sqlite3_column_bytes(st, 7) != 32 || memcmp(sqlite3_column_blob(st, 7), leaf, 32) != 0)
            problem(a, "event %llu: stored leaf hash does not match the event",
                    (unsigned long long)seq);
        json_decref(b);
        if (merkle_frontier_append(&f, leaf, check_node, &nc, err) != 0)
            goto out;
        while (h.have && h.size < f.size) {
            if (h.bad++ < TREE_HEAD_REPORT_MAX)
                problem(a, "tree head %llu: no tree of that size can be rebuilt from the events",
                        (unsigned long long)h.size);
            heads_next(a, &h);
        }
        /* heads come at the sizes transactions committed at (one per
         * event in older logs); a missing one is caught by the chain of
         * the next (head_check) */
        if ((h.have && h.size == f.size) || (a->witness && witness_size == f.size))
            merkle_frontier_root(&f, root);
        if (h.have && h.size == f.size) {
            head_check(a, &h, root);
            heads_next(a, &h);
        }
        if (a->witness && witness_size == f.size)
            witness_check(a, witness_size, root);
    }
    if (step != SQLITE_DONE) {
        db_sql_fail(a->db, "reading events", err);
        goto out;
    }
    if (h.bad > TREE_HEAD_REPORT_MAX)
        problem(a, "tree heads: %llu more do not match the events",
                (unsigned long long)(h.bad - TREE_HEAD_REPORT_MAX));
    if (nc.bad > 1)
        problem(a, "merkle_nodes: %llu subtrees in all differ from the rebuilt tree",
                (unsigned long long)nc.bad);
    if (h.have) {
        problem(a, "tree head %llu: signed for %llu events but the log holds only %llu "
                   "(log truncated?)",
                (unsigned long long)h.size, (unsigned long long)h.size,
                (unsigned long long)f.size);
    } else {
        sqlite3_stmt *last = NULL;
        step = db_query_row(a->db, &last, "SELECT coalesce(max(tree_size), 0) FROM tree_heads",
                            "reading tree heads", err, "");
        if (step < 0) {
            sqlite3_finalize(last);
            goto out;
        }
        if (step == 1 && (uint64_t)sqlite3_column_int64(last, 0) < f.size)
            problem(a, "events %llu to %llu: not covered by any signed tree head",
                    (unsigned long long)sqlite3_column_int64(last, 0),
                    (unsigned long long)(f.size - 1));
        sqlite3_finalize(last);
    }
    if (a->witness && !a->witness_checked && witness_size > f.size)
        problem(a, "keys/tree-head.json: the office signed a log of %llu events but the database "
                   "holds only %llu (log truncated)",
                (unsigned long long)witness_size, (unsigned long long)f.size);
    stats->tree_heads = h.checked;
    rc = 0;
out:
    audit_par_stop(a->par);
    a->par = NULL;
    sqlite3_finalize(st);
    sqlite3_finalize(h.st);
    for (unsigned l = 0; l < 64; l++)
        sqlite3_finalize(nc.lv[l]);
    return rc;
}

/* ---- the tables against the replayed state ---- */

/* Evidence files: each stored blob row's file re-hashed. */
static int check_blob_files(struct audit *a, const char *blobs_dir,
                            struct registry_audit_stats *stats, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (db_prepare(a->db, &st, "SELECT hash, size FROM blobs ORDER BY hash", err) != 0)
        return -1;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct err e = ERR_INIT;
        stats->blobs++;
        if (reg_blob_check_file(blobs_dir, (const char *)sqlite3_column_text(st, 0),
                                sqlite3_column_int64(st, 1), &e) != 0)
            problem(a, "evidence file %s", err_msg(&e));
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return db_sql_fail(a->db, "reading blobs", err);
    return 0;
}

static int count_versions(struct audit *a, struct registry_audit_stats *stats, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int step = db_query_row(a->db, &st, "SELECT count(*) FROM record_versions",
                            "counting record versions", err, "");

    if (step == 1)
        stats->records = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return step < 0 ? -1 : 0;
}

/* A signed tree head is a few hundred bytes. */
#define WITNESS_MAX (64u << 10)

static void load_witness(struct audit *a, const char *keys_dir)
{
    char path[PATH_MAX];
    struct err err = ERR_INIT;

    if (keys_dir == NULL || snprintf(path, sizeof path, "%s/tree-head.json", keys_dir) >=
                                (int)sizeof path)
        return;
    if (access(path, F_OK) != 0)
        return;
    /* Through json_parse (depth bounded before the recursive parser). */
    if (json_parse_file(path, WITNESS_MAX, &a->witness, &err) != 0 ||
        !json_is_integer(json_object_get(a->witness, "tree_size"))) {
        problem(a, "keys/tree-head.json: not a signed tree head (%s)",
                a->witness ? "no tree_size" : err_msg(&err));
        json_decref(a->witness);
        a->witness = NULL;
    }
}

/* The witness exists to notice a log cut short: once the office has signed
 * a tree head, deleting keys/tree-head.json must not pass unnoticed (a new
 * data directory with no signed head has none yet, rightly). */
static int witness_missing_check(struct audit *a, const char *keys_dir, struct err *err)
{
    char path[PATH_MAX];
    sqlite3_stmt *st = NULL;
    int step;

    if (a->witness != NULL || keys_dir == NULL ||
        snprintf(path, sizeof path, "%s/tree-head.json", keys_dir) >= (int)sizeof path)
        return 0;
    if (access(path, F_OK) == 0 || errno != ENOENT) /* present: load_witness judged it */
        return 0;
    step = db_query_row(a->db, &st, "SELECT max(tree_size) FROM tree_heads", "reading tree heads",
                        err, "");
    if (step == 1 && sqlite3_column_type(st, 0) != SQLITE_NULL)
        problem(a, "keys/tree-head.json: missing, but the office signed a tree head of %lld "
                   "events; the witness of the log's size was deleted",
                (long long)sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    return step < 0 ? -1 : 0;
}

int registry_audit_verify(struct db *db, const char *keys_dir, const char *blobs_dir,
                          const unsigned char *office_key,
                          void (*report)(void *ctx, const char *problem), void *ctx,
                          struct registry_audit_stats *stats, struct err *err)
{
    struct audit a;
    struct registry_audit_stats dummy;
    struct audit_search_job *search = NULL;
    char *office = NULL;
    int rc = -1, r;

    memset(&a, 0, sizeof a);
    if (stats == NULL)
        stats = &dummy;
    memset(stats, 0, sizeof *stats);
    /* The audit attaches (and afterwards detaches) its own database of the
     * expected tables, which SQLite cannot detach inside a transaction, and it
     * must read one committed state, not a caller's half-done writes. */
    if (db == NULL || !sqlite3_get_autocommit(db_handle(db)))
        return err_setk(err, ERR_INTERNAL, "audit: cannot run inside an open transaction");
    a.db = db;
    a.problems.report = report;
    a.problems.ctx = ctx;
    a.keys = json_object();
    a.users = json_object();
    if (!a.keys || !a.users) {
        err_oom(err);
        goto out;
    }
    r = db_setting_get(db, "office", &office, err);
    if (r < 0)
        goto out;
    if (r > 0 || strlen(office) > REG_OFFICE_MAX) {
        err_set(err, "settings: no office code");
        goto out;
    }
    memcpy(a.node_office, office, strlen(office) + 1);
    if (registry_office_public_key(db, office, a.office_pk, NULL) == 0) {
        a.have_office_pk = true;
        if (office_key && memcmp(office_key, a.office_pk, REG_PK_BYTES) != 0)
            problem(&a, "office_keys %s: public key differs from the trusted key given", office);
    } else if (office_key == NULL) {
        uint64_t n = 0;
        if (reg_log_size(db, &n, err) != 0)
            goto out;
        if (n > 0)
            problem(&a, "office_keys %s: the office log key is missing", office);
    }
    if (office_key) {
        memcpy(a.office_pk, office_key, REG_PK_BYTES);
        a.have_office_pk = true;
        a.office_key_pinned = true;
    }
    load_witness(&a, keys_dir);
    if (witness_missing_check(&a, keys_dir, err) != 0)
        goto out;
    if (proj_open(db, &registry_projection, proj_report, &a, &a, &a.proj, err) != 0 ||
        rules_open(&a, err) != 0 || seed_duplicates(&a, err) != 0 ||
        audit_objects_open(db, &a.objects, err) != 0)
        goto out;
    proj_streamed(a.proj, "event_objects", objects_report, &a);
    proj_at_once(a.proj, "record_versions");
    proj_at_once(a.proj, "record_import_lines");
    proj_merged(a.proj, "birth_records");
    search = audit_search_start(db); /* beside the event loop, reported after the tables */
    /* One transaction for the replay: each row put into the expected tables
     * was its own commit; and the log and the tables are read in one
     * snapshot. Only the expected tables are written. */
    if (db_exec(db, "SAVEPOINT audit_replay", err) != 0)
        goto out;
    r = check_events(&a, stats, err) != 0 || proj_compare(a.proj, err) != 0 ? -1 : 0;
    audit_objects_free(a.objects); /* its cursor ends before the snapshot does */
    a.objects = NULL;
    if (db_exec(db, r == 0 ? "RELEASE audit_replay" : "ROLLBACK TO audit_replay; RELEASE audit_replay",
                r == 0 ? err : NULL) != 0 || r != 0)
        goto out;
    r = audit_search_finish(search, db, proj_report, &a, err);
    search = NULL;
    if (r != 0 || check_blob_files(&a, blobs_dir, stats, err) != 0 ||
        count_versions(&a, stats, err) != 0)
        goto out;
    rc = a.problems.count;
out:
    audit_search_drop(search);
    sqlite3_finalize(a.rule_get); /* before the expected tables are detached */
    sqlite3_finalize(a.rule_put);
    audit_objects_free(a.objects);
    proj_close(a.proj);
    free(office);
    json_decref(a.keys);
    json_decref(a.users);
    json_decref(a.witness);
    return rc;
}
