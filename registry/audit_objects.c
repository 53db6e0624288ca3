/* civreg registry: `audit verify` checks event_objects as the log is read.
 *
 * Every event names its objects; event_objects holds one row (kind,
 * object_id, seq) per object named. Instead of putting the rows the log
 * makes into an expected table and comparing the two tables by SQL, the
 * stored rows are read once in seq order (the event_objects_seq index) and
 * merged with each replayed event's objects: a stored row no replayed event
 * names is "not in the log", an object named with no stored row is
 * "missing". The report is the one the SQL comparison gave: the first ten
 * rows of each side by (kind, object_id, seq), then a count; only those ten
 * are kept, so memory does not grow with the register. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_objects.h"
#include "registry_int.h"

#define OBJ_REPORT_MAX 10 /* as the SQL comparison's PROJ_REPORT_MAX */
#define OBJ_EVENT_MAX 256 /* objects of one event merged at once */

/* A (kind, object_id) pair as SQLite's BINARY collation orders it. */
struct okey {
    const char *kind, *id;
    size_t kind_len, id_len;
};

struct oline {
    char *kind, *id; /* one allocation from kind: "KIND\0ID\0" */
    size_t kind_len, id_len;
    long long seq;
};

/* The first rows of one side by (kind, object_id, seq), and how many. */
struct oside {
    long long n;
    struct oline line[OBJ_REPORT_MAX]; /* the smallest, in order */
};

struct audit_objects {
    struct db *db;
    sqlite3_stmt *st; /* the stored rows by seq, kind, object_id */
    bool opened, have, failed;
    struct oside extra, missing;
};

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);

    return c ? c : an < bn ? -1 : an > bn;
}

static int okey_cmp(const struct okey *a, const struct okey *b)
{
    int c = bytes_cmp(a->kind, a->kind_len, b->kind, b->kind_len);

    return c ? c : bytes_cmp(a->id, a->id_len, b->id, b->id_len);
}

static int okey_qsort(const void *a, const void *b)
{
    return okey_cmp(a, b);
}

static int oline_cmp(const struct okey *k, long long seq, const struct oline *l)
{
    struct okey lk = { l->kind, l->id, l->kind_len, l->id_len };
    int c = okey_cmp(k, &lk);

    return c ? c : seq < l->seq ? -1 : seq > l->seq;
}

/* Count the row (K, SEQ) on side S; keep it when among the first ten. */
static void side_add(struct audit_objects *o, struct oside *s, const struct okey *k, long long seq)
{
    int kept = s->n < OBJ_REPORT_MAX ? (int)s->n : OBJ_REPORT_MAX, at;
    char *kind;

    s->n++;
    if (kept == OBJ_REPORT_MAX && oline_cmp(k, seq, &s->line[OBJ_REPORT_MAX - 1]) > 0)
        return;
    if ((kind = malloc(k->kind_len + k->id_len + 2)) == NULL) {
        o->failed = true;
        return;
    }
    memcpy(kind, k->kind, k->kind_len);
    kind[k->kind_len] = '\0';
    memcpy(kind + k->kind_len + 1, k->id, k->id_len);
    kind[k->kind_len + 1 + k->id_len] = '\0';
    if (kept == OBJ_REPORT_MAX) /* the largest kept makes room */
        free(s->line[--kept].kind);
    for (at = kept; at > 0 && oline_cmp(k, seq, &s->line[at - 1]) < 0; at--)
        s->line[at] = s->line[at - 1];
    s->line[at] = (struct oline){ kind, kind + k->kind_len + 1, k->kind_len, k->id_len, seq };
}

static void cursor_next(struct audit_objects *o)
{
    int step = sqlite3_step(o->st);

    o->have = step == SQLITE_ROW;
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        o->failed = true;
}

/* Open the cursor on first use: inside the audit's snapshot. */
static bool cursor_ready(struct audit_objects *o)
{
    if (!o->opened) {
        struct err err = ERR_INIT;
        o->opened = true;
        if (db_prepare(o->db, &o->st,
                       "SELECT kind, object_id, seq FROM main.event_objects"
                       " ORDER BY seq, kind, object_id",
                       &err) != 0) {
            o->failed = true;
            return false;
        }
        cursor_next(o);
    }
    return o->st != NULL && !o->failed;
}

static long long cursor_seq(const struct audit_objects *o)
{
    return (long long)sqlite3_column_int64(o->st, 2);
}

static struct okey cursor_key(const struct audit_objects *o)
{
    struct okey k;

    k.kind = (const char *)sqlite3_column_text(o->st, 0);
    k.kind_len = (size_t)sqlite3_column_bytes(o->st, 0);
    k.id = (const char *)sqlite3_column_text(o->st, 1);
    k.id_len = (size_t)sqlite3_column_bytes(o->st, 1);
    if (k.kind == NULL)
        k.kind = "";
    if (k.id == NULL)
        k.id = "";
    return k;
}

/* The stored rows before (SEQ, KEY) in the cursor's order (KEY NULL: every
 * row up to SEQ's last): each is one no replayed event names. */
static void extras_before(struct audit_objects *o, long long seq, const struct okey *key)
{
    while (o->have) {
        long long s = cursor_seq(o);
        struct okey k = cursor_key(o);
        if (s > seq || (s == seq && key != NULL && okey_cmp(&k, key) >= 0))
            return;
        side_add(o, &o->extra, &k, s);
        cursor_next(o);
    }
}

int audit_objects_open(struct db *db, struct audit_objects **out, struct err *err)
{
    struct audit_objects *o = calloc(1, sizeof *o);

    *out = o;
    if (o == NULL)
        return err_oom(err);
    o->db = db;
    return 0;
}

void audit_objects_event(struct audit_objects *o, uint64_t seq, const json_t *objects)
{
    struct okey keys[OBJ_EVENT_MAX], *k = keys, *heap = NULL;
    size_t i, n = 0, cap = json_array_size(objects);
    long long s = (long long)seq;
    json_t *ob;

    if (!cursor_ready(o))
        return;
    if (cap > OBJ_EVENT_MAX && (k = heap = malloc(cap * sizeof *k)) == NULL) {
        o->failed = true;
        return;
    }
    json_array_foreach(objects, i, ob) {
        const json_t *kind = json_object_get(ob, "kind"), *id = json_object_get(ob, "id");
        if (!json_is_string(kind) || !json_is_string(id))
            continue;
        k[n++] = (struct okey){ json_string_value(kind), json_string_value(id),
                                json_string_length(kind), json_string_length(id) };
    }
    qsort(k, n, sizeof *k, okey_qsort);
    extras_before(o, s - 1, NULL);
    for (i = 0; i < n; i++) {
        struct okey at;
        if (i > 0 && okey_cmp(&k[i - 1], &k[i]) == 0)
            continue; /* named twice: one row */
        extras_before(o, s, &k[i]);
        if (o->have && cursor_seq(o) == s && (at = cursor_key(o), okey_cmp(&at, &k[i]) == 0))
            cursor_next(o);
        else
            side_add(o, &o->missing, &k[i], s);
    }
    extras_before(o, s, NULL);
    free(heap);
}

static void side_report(const struct oside *s, bool extra, void (*problem)(void *, const char *),
                        void *ctx)
{
    char line[1024], id[256];

    for (long long i = 0; i < s->n && i < OBJ_REPORT_MAX; i++) {
        (void)snprintf(id, sizeof id, "%s/%s/%lld", s->line[i].kind, s->line[i].id,
                       s->line[i].seq);
        (void)snprintf(line, sizeof line,
                       extra ? "event_objects %s: row not in the log (no signed event made it)"
                             : "event_objects %s: row missing, the log made it (deleted?)",
                       id);
        problem(ctx, line);
    }
    if (s->n > OBJ_REPORT_MAX) {
        (void)snprintf(line, sizeof line, "event_objects: %lld more rows %s",
                       s->n - OBJ_REPORT_MAX, extra ? "not in the log" : "missing");
        problem(ctx, line);
    }
}

int audit_objects_finish(struct audit_objects *o, void (*problem)(void *, const char *),
                         void *ctx, struct err *err)
{
    if (cursor_ready(o))
        extras_before(o, INT64_MAX, NULL);
    if (o->failed)
        return err_set(err, "audit: event_objects: %s",
                       o->st ? sqlite3_errmsg(db_handle(o->db)) : "cannot be read");
    side_report(&o->extra, true, problem, ctx);
    side_report(&o->missing, false, problem, ctx);
    return 0;
}

void audit_objects_free(struct audit_objects *o)
{
    if (o == NULL)
        return;
    sqlite3_finalize(o->st);
    for (int i = 0; i < OBJ_REPORT_MAX; i++) {
        free(o->extra.line[i].kind);
        free(o->missing.line[i].kind);
    }
    free(o);
}
