/* civreg registry: the tables as a projection of the signed log (see
 * projection.h). The expected rows live in an attached temporary database
 * ("civreg_expect", a file with a bounded page cache) in tables named as the stored ones, with the columns the
 * handlers produce and the same primary key, untyped so a value keeps the
 * type the handler gave it. The comparison reads the schema: for each
 * table, rows missing or extra by primary key, then every produced column
 * with IS NOT (type and value), then the content column through its hash.
 *
 * The SQL here is built from table and column names that come from the
 * constant table descriptions and from the schema itself (PRAGMA
 * table_info), each double-quoted; every value is a bound parameter. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encode.h"
#include "db/rows.h"
#include "projection_int.h"

#define PROJ_MODULES_MAX 8
#define PROJ_TABLES_MAX 64
#define PROJ_COLS_MAX 40
#define PROJ_REPORT_MAX 10 /* lines per table and column before a summary */
#define PROJ_STMT_CACHE 64
#define PROJ_CACHE_KIB "32768" /* page cache of the expected tables */

/* The value "the log does not say": a blob no STRICT column of ours holds. */
static const unsigned char unknown_blob[] = "\0civreg:unknown";

/* Stored rowid runs a table checked at once keeps before it is put again. */
#define PROJ_RUNS_MAX 16
/* Rows a merged table (proj_merged) holds by key before the oldest is put. */
#ifndef PROJ_HELD_MAX
#define PROJ_HELD_MAX 2048
#endif
#define UNKNOWN_LEN (sizeof unknown_blob - 1)

static const struct proj_module *registered[PROJ_MODULES_MAX];
static size_t n_registered;

void registry_audit_register(const struct proj_module *m)
{
    for (size_t i = 0; i < n_registered; i++)
        if (registered[i] == m)
            return;
    if (m && n_registered < PROJ_MODULES_MAX)
        registered[n_registered++] = m;
}

struct proj_tab {
    const struct proj_table *spec;
    const char *module;
    bool exists;                 /* in the stored schema */
    char *cols[PROJ_COLS_MAX];   /* produced */
    const char *aff[PROJ_COLS_MAX]; /* each one's affinity in the stored table */
    size_t n_cols;
    char *pk[8];
    size_t n_pk;
    /* compared as the log was read (proj_streamed), not by SQL */
    int (*streamed)(void *ctx, struct err *err);
    void *streamed_ctx;
    bool without_rowid;
    /* rows checked against the stored ones as they are put (proj_at_once):
     * while every row put so far equals a stored row, in increasing rowid,
     * nothing is written; the stored rowids matched are kept as runs */
    bool at_once;
    bool slow; /* a row did not: it and every later one are put */
    sqlite3_int64 n_fast;
    struct {
        sqlite3_int64 a, b;
    } runs[PROJ_RUNS_MAX];
    size_t n_runs;
    /* rows merged by key before they are put (proj_merged): KEY -> the row
     * so far, and the same rows oldest first in a ring */
    json_t *held;
    json_t **ring; /* PROJ_HELD_MAX */
    /* the stored rows in rowid order, after the last one matched: the next
     * row put is most often the next stored row (at_once_next) */
    sqlite3_stmt *next;
    bool next_on; /* NEXT stands on a row (else it is stepped first) */
    size_t ring_head, ring_n;
};

struct proj {
    struct db *db;
    sqlite3 *h;
    void (*report)(void *ctx, const char *line);
    void *ctx;
    void *owner;
    const struct proj_module *modules[PROJ_MODULES_MAX + 1];
    size_t n_modules;
    struct proj_tab tabs[PROJ_TABLES_MAX];
    size_t n_tabs;
    bool attached;
    json_t *cache; /* SQL text -> index into stmts */
    json_t *state; /* module name -> its handlers' shared object */
    sqlite3_stmt *stmts[PROJ_STMT_CACHE];
    size_t n_stmts;
};

void proj_problem(struct proj *p, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    p->report(p->ctx, line);
}

void *proj_owner(struct proj *p)
{
    return p->owner;
}

json_t *proj_unknown(void)
{
    return json_pack("{s:b}", "$unknown", 1);
}

json_t *proj_time(const struct proj_event *ev)
{
    return ev->v >= 2 && ev->time ? json_string(ev->time) : proj_unknown();
}

static bool is_unknown(const json_t *v)
{
    return json_is_object(v) && json_is_true(json_object_get(v, "$unknown"));
}

static struct proj_tab *tab_find(struct proj *p, const char *name)
{
    for (size_t i = 0; i < p->n_tabs; i++)
        if (strcmp(p->tabs[i].spec->name, name) == 0)
            return &p->tabs[i];
    return NULL;
}

/* The index of COL among T's produced columns, or -1. */
static long tab_col(const struct proj_tab *t, const char *col)
{
    for (size_t i = 0; i < t->n_cols; i++)
        if (strcmp(t->cols[i], col) == 0)
            return (long)i;
    return -1;
}

static bool tab_is_pk(const struct proj_tab *t, const char *col)
{
    for (size_t j = 0; j < t->n_pk; j++)
        if (strcmp(t->pk[j], col) == 0)
            return true;
    return false;
}

static bool tab_has(const struct proj_tab *t, const char *col)
{
    return tab_col(t, col) >= 0;
}

/* Whether TYPE holds WORD (upper-case letters), in any case. */
static bool type_has(const char *type, const char *word)
{
    size_t n = strlen(word);
    for (const char *s = type; *s; s++) {
        size_t i = 0;
        while (i < n && s[i] && (s[i] & ~0x20) == word[i])
            i++;
        if (i == n)
            return true;
    }
    return false;
}

/* The column affinity SQLite gives a declared TYPE (its rules, in their
 * order), as one of our own keywords: the stored schema's text never goes
 * into the SQL the audit builds. "" is no affinity (BLOB). */
static const char *affinity_of(const char *type)
{
    if (type == NULL || *type == '\0')
        return "";
    if (type_has(type, "INT"))
        return " INTEGER";
    if (type_has(type, "CHAR") || type_has(type, "CLOB") || type_has(type, "TEXT"))
        return " TEXT";
    if (type_has(type, "BLOB"))
        return "";
    if (type_has(type, "REAL") || type_has(type, "FLOA") || type_has(type, "DOUB"))
        return " REAL";
    return " NUMERIC";
}

/* Whether COL is named in the list "a: why; b: why" or "a,b". */
static bool listed(const char *list, const char *col)
{
    size_t n = strlen(col);
    const char *s = list;

    while (s && *s) {
        while (*s == ' ' || *s == ';' || *s == ',')
            s++;
        if (strncmp(s, col, n) == 0 && (s[n] == ':' || s[n] == ',' || s[n] == '\0'))
            return true;
        s = strpbrk(s, ";,");
    }
    return false;
}

static int exec(struct proj *p, const char *sql, struct err *err)
{
    char *msg = NULL;

    if (sqlite3_exec(p->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        err_set(err, "audit: %s", msg ? msg : "out of memory");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int prep(struct proj *p, sqlite3_stmt **st, const char *sql, struct err *err)
{
    if (sqlite3_prepare_v2(p->h, sql, -1, st, NULL) != SQLITE_OK)
        return err_set(err, "audit: %s: %s", sqlite3_errmsg(p->h), sql);
    return 0;
}

/* Prepare the comparison query just built in SQL; BAD: building it ran out
 * of memory. */
static int prep_built(struct proj *p, sqlite3_stmt **st, const struct buf *sql, int bad,
                      struct err *err)
{
    if (bad)
        return err_oom(err);
    return prep(p, st, buf_str(sql), err);
}

/* The end of a comparison query of T whose last step gave STEP: 0 when it
 * ran to its end, else "audit: TABLE: <SQLite's message>". */
static int compare_end(struct proj *p, const struct proj_tab *t, int step, struct err *err)
{
    if (step == SQLITE_DONE)
        return 0;
    return err_set(err, "audit: %s: %s", t->spec->name, sqlite3_errmsg(p->h));
}

/* Read the stored schema of T, check each column is produced or excluded,
 * and create the expected table. */
static int tab_setup(struct proj *p, struct proj_tab *t, struct err *err)
{
    struct buf sql = BUF_INIT(16384);
    sqlite3_stmt *st = NULL;
    const char *s = t->spec->columns;
    int pks[8] = { 0 }, rc = -1, step, bad = 0;
    char *names[8] = { 0 };
    bool without_rowid = false;

    while (s && *s && t->n_cols < PROJ_COLS_MAX) {
        size_t n = strcspn(s, ",");
        while (*s == ' ')
            s++, n--;
        if ((t->cols[t->n_cols] = strndup(s, n)) == NULL)
            return err_oom(err);
        t->n_cols++;
        s += n;
        if (*s == ',')
            s++;
    }
    if (prep(p, &st, "SELECT name, pk, type FROM pragma_table_info(?1, 'main')", err) != 0)
        goto out;
    sqlite3_bind_text(st, 1, t->spec->name, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(st, 0);
        int pk = sqlite3_column_int(st, 1);
        long ci = c ? tab_col(t, c) : -1;
        t->exists = true;
        if (ci >= 0)
            t->aff[ci] = affinity_of((const char *)sqlite3_column_text(st, 2));
        if (pk > 0 && pk <= 8) {
            pks[pk - 1] = 1;
            names[pk - 1] = strdup(c);
        }
        if (!tab_has(t, c) && !listed(t->spec->excluded, c) &&
            !(t->spec->content && strcmp(t->spec->content, c) == 0))
            proj_problem(p, "%s %s: column neither rebuilt from the log nor listed as excluded "
                            "(the audit does not know it)",
                         t->spec->name, c);
    }
    sqlite3_finalize(st);
    st = NULL;
    /* a stored table without rowid (event_objects: its key is the whole
     * row) gets an expected twin without rowid: one B-tree written per row
     * put instead of the table and its key's index */
    if (prep(p, &st, "SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?1",
             err) != 0)
        goto out;
    sqlite3_bind_text(st, 1, t->spec->name, -1, SQLITE_STATIC);
    without_rowid = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    t->without_rowid = without_rowid;
    sqlite3_finalize(st);
    st = NULL;
    for (int i = 0; i < 8 && pks[i]; i++) {
        if (names[i] == NULL) {
            err_oom(err);
            goto out;
        }
        t->pk[t->n_pk++] = names[i];
        names[i] = NULL;
        if (!tab_has(t, t->pk[t->n_pk - 1]))
            proj_problem(p, "%s: primary key column %s is not rebuilt from the log",
                         t->spec->name, t->pk[t->n_pk - 1]);
    }
    if (!t->exists) {
        rc = 0;
        goto out;
    }
    buf_reset(&sql);
    bad |= buf_printf(&sql, "CREATE TABLE civreg_expect.\"%s\"(", t->spec->name) != 0;
    /* Each column with the stored one's affinity: the comparisons convert
     * values as they did without it (a typed stored column lends its
     * affinity to "e.c IS m.c"), and the key's index can be searched with
     * every key column (without it only the first was, and an import file's
     * thousands of lines were scanned once per line). */
    for (size_t i = 0; i < t->n_cols; i++)
        bad |= buf_printf(&sql, "%s\"%s\"%s", i ? ", " : "", t->cols[i],
                          t->aff[i] ? t->aff[i] : "") != 0;
    if (t->n_pk) {
        bad |= buf_append_str(&sql, ", PRIMARY KEY(") != 0;
        for (size_t i = 0; i < t->n_pk; i++)
            bad |= buf_printf(&sql, "%s\"%s\"", i ? ", " : "", t->pk[i]) != 0;
        bad |= buf_append_str(&sql, ")") != 0;
    }
    bad |= buf_append_str(&sql, t->n_pk && without_rowid ? ") WITHOUT ROWID" : ")") != 0;
    if (bad) {
        err_oom(err);
        goto out;
    }
    rc = exec(p, buf_str(&sql), err);
out:
    for (int i = 0; i < 8; i++)
        free(names[i]);
    sqlite3_finalize(st);
    buf_release(&sql);
    return rc;
}

static int add_module(struct proj *p, const struct proj_module *m, struct err *err)
{
    for (size_t i = 0; i < m->n_tables; i++) {
        struct proj_tab *t;
        if (tab_find(p, m->tables[i].name))
            continue;
        if (p->n_tabs >= PROJ_TABLES_MAX)
            return err_set(err, "audit: too many tables");
        t = &p->tabs[p->n_tabs++];
        memset(t, 0, sizeof *t);
        t->spec = &m->tables[i];
        t->module = m->name;
        if (tab_setup(p, t, err) != 0)
            return -1;
    }
    p->modules[p->n_modules++] = m;
    return 0;
}

int proj_open(struct db *db, const struct proj_module *own, void (*report)(void *, const char *),
              void *ctx, void *owner, struct proj **out, struct err *err)
{
    struct proj *p = calloc(1, sizeof *p);

    *out = NULL;
    if (p == NULL || (p->cache = json_object()) == NULL ||
        (p->state = json_object()) == NULL) {
        if (p)
            json_decref(p->cache);
        free(p);
        return err_oom(err);
    }
    p->db = db;
    p->h = db_handle(db);
    p->report = report;
    p->ctx = ctx;
    p->owner = owner;
    /* A temporary file database, not ':memory:': its page cache is bounded
     * (PROJ_CACHE_KIB) and what does not fit goes to the file, so the
     * audit's memory does not grow with the register. */
    if (exec(p, "ATTACH DATABASE '' AS civreg_expect", err) != 0)
        goto fail;
    p->attached = true;
    if (exec(p, "PRAGMA civreg_expect.cache_size = -" PROJ_CACHE_KIB, err) != 0 ||
        add_module(p, own, err) != 0)
        goto fail;
    for (size_t i = 0; i < n_registered; i++)
        if (add_module(p, registered[i], err) != 0)
            goto fail;
    *out = p;
    return 0;
fail:
    proj_close(p);
    return -1;
}

void proj_close(struct proj *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n_stmts; i++)
        sqlite3_finalize(p->stmts[i]);
    if (p->attached)
        (void)sqlite3_exec(p->h, "DETACH DATABASE civreg_expect", NULL, NULL, NULL);
    for (size_t i = 0; i < p->n_tabs; i++) {
        for (size_t c = 0; c < p->tabs[i].n_cols; c++)
            free(p->tabs[i].cols[c]);
        for (size_t c = 0; c < p->tabs[i].n_pk; c++)
            free(p->tabs[i].pk[c]);
        for (size_t r = 0; r < p->tabs[i].ring_n; r++)
            json_decref(p->tabs[i].ring[(p->tabs[i].ring_head + r) % PROJ_HELD_MAX]);
        json_decref(p->tabs[i].held);
        free(p->tabs[i].ring);
        sqlite3_finalize(p->tabs[i].next);
    }
    json_decref(p->cache);
    json_decref(p->state);
    free(p);
}

json_t *proj_state(struct proj *p, const char *module)
{
    json_t *s = json_object_get(p->state, module);

    if (s == NULL && json_object_set_new(p->state, module, json_object()) == 0)
        s = json_object_get(p->state, module);
    return s;
}

bool proj_handles(struct proj *p, const char *type)
{
    for (size_t m = 0; m < p->n_modules; m++)
        for (size_t i = 0; i < p->modules[m]->n_handlers; i++)
            if (strcmp(p->modules[m]->handlers[i].type, type) == 0)
                return true;
    return false;
}

void proj_replay(struct proj *p, const struct proj_event *ev)
{
    for (size_t m = 0; m < p->n_modules; m++)
        for (size_t i = 0; i < p->modules[m]->n_handlers; i++)
            if (strcmp(p->modules[m]->handlers[i].type, ev->type) == 0)
                p->modules[m]->handlers[i].fn(p, ev);
}

/* ---- values ---- */

static int bind_value(sqlite3_stmt *st, int i, const json_t *v)
{
    if (json_is_string(v))
        return sqlite3_bind_text(st, i, json_string_value(v), (int)json_string_length(v),
                                 SQLITE_TRANSIENT);
    if (json_is_integer(v))
        return sqlite3_bind_int64(st, i, (sqlite3_int64)json_integer_value(v));
    if (json_is_real(v))
        return sqlite3_bind_double(st, i, json_real_value(v));
    if (json_is_boolean(v))
        return sqlite3_bind_int(st, i, json_is_true(v));
    if (v == NULL || json_is_null(v))
        return sqlite3_bind_null(st, i);
    if (is_unknown(v))
        return sqlite3_bind_blob(st, i, unknown_blob, (int)UNKNOWN_LEN, SQLITE_STATIC);
    if (json_is_string(json_object_get(v, "$blob"))) {
        const char *hex = json_string_value(json_object_get(v, "$blob"));
        size_t n = strlen(hex) / 2, got = 0;
        unsigned char *b = malloc(n ? n : 1);
        int rc;
        if (b == NULL || hex_decode(hex, strlen(hex), b, n, &got, NULL) != 0) {
            free(b);
            return sqlite3_bind_blob(st, i, unknown_blob, (int)UNKNOWN_LEN, SQLITE_STATIC);
        }
        rc = sqlite3_bind_blob(st, i, b, (int)got, SQLITE_TRANSIENT);
        free(b);
        return rc;
    }
    /* an array or object where a column was expected: a value no stored row
     * can equal, so the difference is reported */
    return sqlite3_bind_blob(st, i, "\0civreg:bad", 11, SQLITE_STATIC);
}

/* As db_column_json, except that a blob is tagged {"$blob": hex} (or is the
 * unknown marker). */
static json_t *column_json(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_BLOB: {
        size_t n = (size_t)sqlite3_column_bytes(st, i);
        const void *b = sqlite3_column_blob(st, i);
        char *hex;
        json_t *v;
        if (n == UNKNOWN_LEN && memcmp(b, unknown_blob, n) == 0)
            return proj_unknown();
        hex = hex_encode_alloc(b, n);
        v = hex ? json_pack("{s:s}", "$blob", hex) : NULL;
        free(hex);
        return v;
    }
    default:
        return db_column_json(st, i);
    }
}

/* The cached statement stored under KEY (reset and unbound), or NULL. */
static sqlite3_stmt *cache_find(struct proj *p, const char *key)
{
    json_t *ix = json_object_get(p->cache, key);
    sqlite3_stmt *st;

    if (ix == NULL)
        return NULL;
    st = p->stmts[json_integer_value(ix)];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* Prepare SQL and keep it under KEY while there is room (else *OWNED: the
 * caller finalizes it). A statement SQLite refuses is reported unless
 * QUIET. */
static sqlite3_stmt *cache_add(struct proj *p, const char *key, const char *sql, bool quiet,
                               bool *owned)
{
    sqlite3_stmt *st = NULL;

    *owned = false;
    if (sqlite3_prepare_v2(p->h, sql, -1, &st, NULL) != SQLITE_OK) {
        if (!quiet)
            proj_problem(p, "audit: cannot rebuild: %s", sqlite3_errmsg(p->h));
        sqlite3_finalize(st);
        return NULL;
    }
    if (p->n_stmts < PROJ_STMT_CACHE &&
        json_object_set_new(p->cache, key, json_integer((json_int_t)p->n_stmts)) == 0)
        p->stmts[p->n_stmts++] = st;
    else
        *owned = true;
    return st;
}

/* The statement for SQL, prepared once per audit. */
static sqlite3_stmt *cached(struct proj *p, const char *sql, bool quiet, bool *owned)
{
    sqlite3_stmt *st = cache_find(p, sql);

    *owned = false;
    return st ? st : cache_add(p, sql, sql, quiet, owned);
}

/* INSERT ... ON CONFLICT DO UPDATE of ROW's columns into the expected T. */
static int build_put(const struct proj_tab *t, const json_t *row, struct buf *sql)
{
    const char *k;
    json_t *v;
    bool bad = false, first = true;
    int i = 0;

    bad |= buf_printf(sql, "INSERT INTO civreg_expect.\"%s\"(", t->spec->name) != 0;
    json_object_foreach((json_t *)row, k, v) bad |= buf_printf(sql, "%s\"%s\"", i++ ? ", " : "",
                                                               k) != 0;
    bad |= buf_append_str(sql, ") VALUES (") != 0;
    for (int j = 0; j < i; j++)
        bad |= buf_printf(sql, "%s?%d", j ? ", " : "", j + 1) != 0;
    bad |= buf_append_str(sql, ")") != 0;
    if (t->n_pk) {
        bad |= buf_append_str(sql, " ON CONFLICT(") != 0;
        for (size_t j = 0; j < t->n_pk; j++)
            bad |= buf_printf(sql, "%s\"%s\"", j ? ", " : "", t->pk[j]) != 0;
        bad |= buf_append_str(sql, ") DO ") != 0;
        json_object_foreach((json_t *)row, k, v) {
            if (tab_is_pk(t, k))
                continue;
            bad |= buf_printf(sql, "%s\"%s\" = excluded.\"%s\"", first ? "UPDATE SET " : ", ",
                              k, k) != 0;
            first = false;
        }
        if (first)
            bad |= buf_append_str(sql, "NOTHING") != 0;
    }
    return bad ? -1 : 0;
}

/* Add the stored rowid R, matched, to T's runs; false when it does not
 * follow the rows matched so far or the runs are full. */
static bool run_add(struct proj_tab *t, sqlite3_int64 r)
{
    if (t->n_runs && r == t->runs[t->n_runs - 1].b + 1) {
        t->runs[t->n_runs - 1].b = r;
        return true;
    }
    if ((t->n_runs == 0 || r > t->runs[t->n_runs - 1].b) && t->n_runs < PROJ_RUNS_MAX) {
        t->runs[t->n_runs].a = t->runs[t->n_runs].b = r;
        t->n_runs++;
        return true;
    }
    return false;
}

/* Whether the JSON value V is column I of ST, by type and bytes. Only a
 * text, an integer or a NULL is judged (false for any other value, which
 * the key lookup then compares as SQLite does): equal bytes are equal under
 * any collation and affinity. */
static bool same_value(const json_t *v, sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        return json_is_null(v);
    case SQLITE_INTEGER:
        return json_is_integer(v) &&
               (sqlite3_int64)json_integer_value(v) == sqlite3_column_int64(st, i);
    case SQLITE_TEXT:
        if (!json_is_string(v))
            return false;
        {
            const unsigned char *c = sqlite3_column_text(st, i);
            size_t n = (size_t)sqlite3_column_bytes(st, i);
            return c && n == json_string_length(v) && memcmp(c, json_string_value(v), n) == 0;
        }
    default:
        return false;
    }
}

/* Whether ROW equals the next stored row of T in rowid order (the one after
 * the last matched): one step of a cursor instead of a key search. */
static bool at_once_next(struct proj *p, struct proj_tab *t, const json_t *row)
{
    struct buf sql = BUF_INIT(16384);
    bool bad = false, same;

    if (t->next == NULL) {
        bad |= buf_append_str(&sql, "SELECT rowid") != 0;
        for (size_t i = 0; i < t->n_cols; i++)
            bad |= buf_printf(&sql, ", \"%s\"", t->cols[i]) != 0;
        bad |= buf_printf(&sql, " FROM main.\"%s\" WHERE rowid > ?1 ORDER BY rowid",
                          t->spec->name) != 0;
        if (bad || sqlite3_prepare_v2(p->h, buf_str(&sql), -1, &t->next, NULL) != SQLITE_OK) {
            sqlite3_finalize(t->next);
            t->next = NULL;
        }
        buf_release(&sql);
        if (t->next == NULL)
            return false;
    }
    if (!t->next_on) {
        sqlite3_reset(t->next);
        sqlite3_bind_int64(t->next, 1, t->n_runs ? t->runs[t->n_runs - 1].b : INT64_MIN);
        if (sqlite3_step(t->next) != SQLITE_ROW)
            return false; /* no row after: stepped again after a key match */
        t->next_on = true;
    }
    same = true;
    for (size_t i = 0; same && i < t->n_cols; i++) {
        const json_t *v = json_object_get(row, t->cols[i]);
        /* a NULL key matches no row (the key lookup's "=") */
        same = same_value(v, t->next, (int)i + 1) &&
               !(json_is_null(v) && tab_is_pk(t, t->cols[i]));
    }
    if (!same || !run_add(t, sqlite3_column_int64(t->next, 0)))
        return false;
    t->next_on = sqlite3_step(t->next) == SQLITE_ROW;
    return true;
}

/* Whether ROW, every column of T given, equals the stored row of its key
 * whose rowid follows the ones matched so far (kept in T's runs): then the
 * expected table need not hold it. SQLite compares as the expected table
 * would (the stored column's affinity applies to the value), and a value
 * the log does not say (the unknown marker) matches no stored row. The
 * next stored row is tried first (at_once_next). */
static bool at_once_match(struct proj *p, struct proj_tab *t, const json_t *row)
{
    struct buf key = BUF_INIT(4096), sql = BUF_INIT(16384);
    sqlite3_stmt *st = NULL;
    bool owned = false, bad = false, ok = false;

    if (json_object_size(row) != t->n_cols)
        return false;
    if (at_once_next(p, t, row)) {
        t->n_fast++;
        return true;
    }
    bad |= buf_printf(&key, "at once\x1f%s", t->spec->name) != 0;
    if (!bad && (st = cache_find(p, buf_str(&key))) == NULL) {
        bad |= buf_append_str(&sql, "SELECT rowid FROM main.\"") != 0 ||
               buf_append_str(&sql, t->spec->name) != 0 || buf_append_str(&sql, "\" WHERE ") != 0;
        for (size_t i = 0; i < t->n_cols; i++)
            bad |= buf_printf(&sql, "%s\"%s\" %s ?%zu", i ? " AND " : "", t->cols[i],
                              tab_is_pk(t, t->cols[i]) ? "=" : "IS", i + 1) != 0;
        st = bad ? NULL : cache_add(p, buf_str(&key), buf_str(&sql), true, &owned);
    }
    buf_release(&key);
    buf_release(&sql);
    if (st == NULL)
        return false;
    for (size_t i = 0; i < t->n_cols; i++)
        bind_value(st, (int)i + 1, json_object_get(row, t->cols[i]));
    if (sqlite3_step(st) == SQLITE_ROW && run_add(t, sqlite3_column_int64(st, 0))) {
        ok = true;
        t->next_on = false; /* the cursor goes on after this row */
    }
    t->n_fast += ok;
    if (owned)
        sqlite3_finalize(st);
    else
        sqlite3_reset(st);
    return ok;
}

/* Copy the stored rows T matched at once (its runs) into the expected
 * table, once: a row put later for the same key, written, wins as its
 * upsert would have. */
static int at_once_copy(struct proj *p, struct proj_tab *t, struct err *err)
{
    struct buf sql = BUF_INIT(16384);
    sqlite3_stmt *st = NULL;
    int bad = 0, rc, step = SQLITE_DONE;

    if (t->n_runs == 0)
        return 0;
    bad |= buf_printf(&sql, "INSERT OR IGNORE INTO civreg_expect.\"%s\"(", t->spec->name);
    for (size_t i = 0; i < t->n_cols; i++)
        bad |= buf_printf(&sql, "%s\"%s\"", i ? ", " : "", t->cols[i]);
    bad |= buf_append_str(&sql, ") SELECT ");
    for (size_t i = 0; i < t->n_cols; i++)
        bad |= buf_printf(&sql, "%s\"%s\"", i ? ", " : "", t->cols[i]);
    bad |= buf_printf(&sql, " FROM main.\"%s\" WHERE rowid BETWEEN ?1 AND ?2", t->spec->name);
    rc = prep_built(p, &st, &sql, bad, err);
    for (size_t i = 0; rc == 0 && i < t->n_runs && step == SQLITE_DONE; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, t->runs[i].a);
        sqlite3_bind_int64(st, 2, t->runs[i].b);
        step = sqlite3_step(st);
    }
    if (rc == 0)
        rc = compare_end(p, t, step == SQLITE_ROW ? SQLITE_DONE : step, err);
    t->n_runs = 0;
    sqlite3_finalize(st);
    buf_release(&sql);
    return rc;
}

/* Put ROW (a whole or partial row of T, checked) into T's expected rows. */
static void put_row(struct proj *p, struct proj_tab *t, const json_t *row)
{
    struct buf key = BUF_INIT(16384), sql = BUF_INIT(16384);
    const char *table = t->spec->name, *k;
    json_t *v;
    sqlite3_stmt *st;
    bool owned = false, bad = false;
    int i = 0;

    if (t->at_once && !t->slow) {
        struct err err = ERR_INIT;
        if (at_once_match(p, t, row))
            return;
        t->slow = true;
        sqlite3_finalize(t->next);
        t->next = NULL;
        /* the rows matched, first, so that this put and the later ones
         * update them as they would have */
        if (at_once_copy(p, t, &err) != 0)
            proj_problem(p, "%s", err.msg);
    }
    /* Handlers put rows of a few shapes millions of times: the statement
     * is found by the table and column names (plain appends), and the SQL
     * is built only the first time. Names hold no '\x1f'. */
    bad |= buf_append_str(&key, "put\x1f") != 0 || buf_append_str(&key, table) != 0;
    json_object_foreach((json_t *)row, k, v) bad |= buf_append_str(&key, "\x1f") != 0 ||
                                                   buf_append_str(&key, k) != 0;
    if (!bad && (st = cache_find(p, buf_str(&key))) == NULL) {
        bad = build_put(t, row, &sql) != 0;
        st = bad ? NULL : cache_add(p, buf_str(&key), buf_str(&sql), false, &owned);
    }
    buf_release(&key);
    buf_release(&sql);
    if (bad) {
        proj_problem(p, "audit: out of memory");
        return;
    }
    if (st == NULL)
        return;
    json_object_foreach((json_t *)row, k, v) bind_value(st, ++i, v);
    if (sqlite3_step(st) != SQLITE_DONE)
        proj_problem(p, "audit: rebuilding %s: %s", table, sqlite3_errmsg(p->h));
    if (owned)
        sqlite3_finalize(st);
    else
        sqlite3_reset(st);
}

/* The key of ROW in T as text (each key column's type and value), into
 * OUT; false when a key column is missing or NULL (such a row is put at
 * once: NULL keys are distinct, nothing merges with it). */
static bool held_key(const struct proj_tab *t, const json_t *row, struct buf *out)
{
    bool bad = false;

    for (size_t i = 0; i < t->n_pk; i++) {
        const json_t *v = json_object_get(row, t->pk[i]);
        if (json_is_string(v))
            bad |= buf_printf(out, "s%s\x1f", json_string_value(v)) != 0;
        else if (json_is_integer(v))
            bad |= buf_printf(out, "i%lld\x1f", (long long)json_integer_value(v)) != 0;
        else
            return false;
    }
    return !bad;
}

/* Put the oldest row T holds. */
static void held_put_oldest(struct proj *p, struct proj_tab *t)
{
    struct buf key = BUF_INIT(4096);
    json_t *row = t->ring[t->ring_head];

    t->ring_head = (t->ring_head + 1) % PROJ_HELD_MAX;
    t->ring_n--;
    if (held_key(t, row, &key))
        (void)json_object_del(t->held, buf_str(&key));
    buf_release(&key);
    put_row(p, t, row);
    json_decref(row);
}

/* Put every row T holds, oldest first. */
static void held_put_all(struct proj *p, struct proj_tab *t)
{
    while (t->ring_n)
        held_put_oldest(p, t);
}

/* Hold ROW in T, merged into the row held for its key (as the upsert would
 * have merged it); false when it must be put now. */
static bool held_merge(struct proj *p, struct proj_tab *t, const json_t *row)
{
    struct buf key = BUF_INIT(4096);
    json_t *cur, *copy = NULL;
    bool ok = false;

    if (!held_key(t, row, &key))
        goto out;
    if ((cur = json_object_get(t->held, buf_str(&key))) != NULL) {
        ok = json_object_update(cur, (json_t *)row) == 0;
        goto out;
    }
    if (t->ring_n == PROJ_HELD_MAX)
        held_put_oldest(p, t);
    if ((copy = json_copy((json_t *)row)) == NULL ||
        json_object_set(t->held, buf_str(&key), copy) != 0)
        goto out;
    t->ring[(t->ring_head + t->ring_n) % PROJ_HELD_MAX] = copy;
    t->ring_n++;
    copy = NULL;
    ok = true;
out:
    json_decref(copy);
    buf_release(&key);
    return ok;
}

void proj_put(struct proj *p, const char *table, const json_t *row)
{
    struct proj_tab *t = tab_find(p, table);
    const char *k;
    json_t *v;

    if (t == NULL || !t->exists || !json_is_object(row)) {
        proj_problem(p, "audit: no table %s to rebuild", table);
        return;
    }
    json_object_foreach((json_t *)row, k, v) if (!tab_has(t, k)) {
        proj_problem(p, "audit: %s.%s is not a column the log rebuilds", table, k);
        return;
    }
    if (t->held && held_merge(p, t, row))
        return;
    put_row(p, t, row);
}

void proj_put_new(struct proj *p, const char *table, json_t *row)
{
    if (row == NULL)
        proj_problem(p, "audit: out of memory rebuilding %s", table);
    else
        proj_put(p, table, row);
    json_decref(row);
}

/* SELECT <what> FROM <schema>.T WHERE pk = KEY; one row as JSON. */
static json_t *select_one(struct proj *p, const char *schema, const char *table, const json_t *key,
                          const char *column)
{
    struct proj_tab *t = tab_find(p, table);
    struct buf sql = BUF_INIT(4096);
    sqlite3_stmt *st = NULL;
    json_t *row = NULL;
    bool bad = false, owned = true;

    if (t == NULL || !t->exists || t->n_pk == 0)
        return NULL;
    if (t->held && strcmp(schema, "civreg_expect") == 0)
        held_put_all(p, t); /* the rows held are the table's too */
    if (column)
        bad |= buf_printf(&sql, "SELECT \"%s\"", column) != 0;
    else
        for (size_t i = 0; i < t->n_cols; i++)
            bad |= buf_printf(&sql, "%s\"%s\"", i ? ", " : "SELECT ", t->cols[i]) != 0;
    bad |= buf_printf(&sql, " FROM %s.\"%s\" WHERE ", schema, table) != 0;
    for (size_t i = 0; i < t->n_pk; i++)
        bad |= buf_printf(&sql, "%s\"%s\" IS ?%zu", i ? " AND " : "", t->pk[i], i + 1) != 0;
    /* handlers look rows up once or more per event: prepared once */
    if (bad || (st = cached(p, buf_str(&sql), true, &owned)) == NULL)
        goto out;
    for (size_t i = 0; i < t->n_pk; i++)
        bind_value(st, (int)i + 1, json_object_get(key, t->pk[i]));
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (column) {
            row = column_json(st, 0);
        } else {
            row = json_object();
            for (size_t i = 0; row && i < t->n_cols; i++)
                if (json_object_set_new(row, t->cols[i], column_json(st, (int)i)) != 0) {
                    json_decref(row);
                    row = NULL;
                    proj_problem(p, "audit: out of memory reading %s", table);
                }
        }
    }
out:
    if (owned)
        sqlite3_finalize(st);
    else
        sqlite3_reset(st);
    buf_release(&sql);
    return row;
}

json_t *proj_get(struct proj *p, const char *table, const json_t *key)
{
    return select_one(p, "civreg_expect", table, key, NULL);
}

json_t *proj_stored(struct proj *p, const char *table, const json_t *key, const char *column)
{
    return select_one(p, "main", table, key, column);
}

/* ---- the comparison ---- */

static void fmt_value(sqlite3_stmt *st, int i, char *out, size_t size)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        (void)snprintf(out, size, "NULL");
        break;
    case SQLITE_INTEGER:
        (void)snprintf(out, size, "%lld", (long long)sqlite3_column_int64(st, i));
        break;
    case SQLITE_FLOAT:
        (void)snprintf(out, size, "%g", sqlite3_column_double(st, i));
        break;
    case SQLITE_TEXT: {
        int n = sqlite3_column_bytes(st, i);
        (void)snprintf(out, size, "'%.*s'%s", n > 60 ? 60 : n, sqlite3_column_text(st, i),
                       n > 60 ? "..." : "");
        break;
    }
    default: {
        char hex[33];
        int n = sqlite3_column_bytes(st, i);
        hex_encode(sqlite3_column_blob(st, i), (size_t)(n > 16 ? 16 : n), hex);
        (void)snprintf(out, size, "x'%s'%s", hex, n > 16 ? "..." : "");
    }
    }
}

/* The row id: primary key values from column 0 on, joined by '/'. */
static void fmt_id(sqlite3_stmt *st, size_t n_pk, char *out, size_t size)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n_pk && used < size; i++) {
        const unsigned char *v = sqlite3_column_text(st, (int)i);
        int k = snprintf(out + used, size - used, "%s%s", i ? "/" : "", v ? (const char *)v : "NULL");
        if (k < 0)
            break;
        used += (size_t)k;
    }
}

static int build_join(const struct proj_tab *t, struct buf *sql)
{
    int bad = 0;

    for (size_t i = 0; i < t->n_pk; i++)
        bad |= buf_printf(sql, "%se.\"%s\" IS m.\"%s\"", i ? " AND " : "", t->pk[i], t->pk[i]);
    return bad;
}

static int build_pk(const struct proj_tab *t, const char *alias, struct buf *sql)
{
    int bad = 0;

    for (size_t i = 0; i < t->n_pk; i++)
        bad |= buf_printf(sql, "%s%s.\"%s\"", i ? ", " : "", alias, t->pk[i]);
    return bad;
}

/* Into SQL: "SELECT <T's key>, m.MCOL, e.ECOL FROM main.T m JOIN
 * EXPECT.T e ON <same key>", each stored row of T beside the row the log
 * made (EXPECT: civreg_expect, or main when the stored rows are the log's).
 * Nonzero when out of memory. */
static int build_side_by_side(const struct proj_tab *t, const char *mcol, const char *ecol,
                              const char *expect, struct buf *sql)
{
    int bad = buf_append_str(sql, "SELECT ");

    bad |= build_pk(t, "m", sql);
    bad |= buf_printf(sql, ", m.\"%s\", e.\"%s\" FROM main.\"%s\" m JOIN %s.\"%s\" e ON ",
                      mcol, ecol, t->spec->name, expect, t->spec->name);
    bad |= build_join(t, sql);
    return bad;
}

/* Rows on one side only: in MAIN (extra) or in the log (missing). */
static int compare_rows(struct proj *p, const struct proj_tab *t, bool extra, struct err *err)
{
    struct buf sql = BUF_INIT(8192);
    sqlite3_stmt *st = NULL;
    const char *a = extra ? "m" : "e";
    int bad = 0, rc = -1, step, n = 0;
    char id[256];

    bad |= buf_append_str(&sql, "SELECT ");
    bad |= build_pk(t, a, &sql);
    bad |= buf_printf(&sql, " FROM %s.\"%s\" %s WHERE NOT EXISTS (SELECT 1 FROM %s.\"%s\" %s"
                            " WHERE ",
                      extra ? "main" : "civreg_expect", t->spec->name, a,
                      extra ? "civreg_expect" : "main", t->spec->name, extra ? "e" : "m");
    bad |= build_join(t, &sql);
    bad |= buf_printf(&sql, ") ORDER BY 1");
    if (prep_built(p, &st, &sql, bad, err) != 0)
        goto out;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n++ >= PROJ_REPORT_MAX)
            continue;
        fmt_id(st, t->n_pk, id, sizeof id);
        if (extra)
            proj_problem(p, "%s %s: row not in the log (no signed event made it)",
                         t->spec->name, id);
        else
            proj_problem(p, "%s %s: row missing, the log made it (deleted?)", t->spec->name, id);
    }
    if (n > PROJ_REPORT_MAX)
        proj_problem(p, "%s: %d more rows %s", t->spec->name, n - PROJ_REPORT_MAX,
                     extra ? "not in the log" : "missing");
    rc = compare_end(p, t, step, err);
out:
    sqlite3_finalize(st);
    buf_release(&sql);
    return rc;
}

static int compare_column(struct proj *p, const struct proj_tab *t, const char *c,
                          struct err *err)
{
    struct buf sql = BUF_INIT(8192);
    sqlite3_stmt *st = NULL;
    int bad = 0, rc = -1, step, n = 0;
    int k = (int)t->n_pk;

    bad |= build_side_by_side(t, c, c, "civreg_expect", &sql);
    bad |= buf_printf(&sql, " WHERE m.\"%s\" IS NOT e.\"%s\" AND e.\"%s\" IS NOT ?1 ORDER BY 1",
                      c, c, c);
    if (prep_built(p, &st, &sql, bad, err) != 0)
        goto out;
    sqlite3_bind_blob(st, 1, unknown_blob, (int)UNKNOWN_LEN, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char id[256], stored[160], logged[160];
        if (n++ >= PROJ_REPORT_MAX)
            continue;
        fmt_id(st, t->n_pk, id, sizeof id);
        fmt_value(st, k, stored, sizeof stored);
        fmt_value(st, k + 1, logged, sizeof logged);
        proj_problem(p, "%s %s %s: stored %s, log %s", t->spec->name, id, c, stored, logged);
    }
    if (n > PROJ_REPORT_MAX)
        proj_problem(p, "%s %s: %d more rows differ from the log", t->spec->name, c,
                     n - PROJ_REPORT_MAX);
    rc = compare_end(p, t, step, err);
out:
    sqlite3_finalize(st);
    buf_release(&sql);
    return rc;
}

/* Into SQL: "(m.C IS NOT e.C AND e.C IS NOT ?1) OR ..." for each produced
 * column of T other than its key, a stored row differing from the log's
 * where the log says the value. *NONE: T has only key columns (nothing
 * written). Nonzero when out of memory. */
static int build_differ(const struct proj_tab *t, struct buf *sql, bool *none)
{
    int bad = 0;

    *none = true;
    for (size_t c = 0; c < t->n_cols; c++) {
        const char *col = t->cols[c];
        if (tab_is_pk(t, col))
            continue;
        bad |= buf_printf(sql, "%s(m.\"%s\" IS NOT e.\"%s\" AND e.\"%s\" IS NOT ?1)",
                          *none ? "" : " OR ", col, col, col);
        *none = false;
    }
    return bad;
}

/* Whether any row of T differs from the log in any column other than its
 * key (ANY): one join for the whole table. The audit then compares column
 * by column (one join each, to name every difference) only when this says
 * so, which an intact register never does. */
static int columns_differ(struct proj *p, const struct proj_tab *t, bool *any, struct err *err)
{
    struct buf sql = BUF_INIT(65536);
    sqlite3_stmt *st = NULL;
    int bad = 0, rc = -1, step;
    bool none = true;

    *any = false;
    bad |= buf_printf(&sql, "SELECT 1 FROM main.\"%s\" m JOIN civreg_expect.\"%s\" e ON ",
                      t->spec->name, t->spec->name);
    bad |= build_join(t, &sql);
    bad |= buf_append_str(&sql, " WHERE ");
    bad |= build_differ(t, &sql, &none);
    if (none) {
        rc = 0; /* only key columns: compare_rows covers them */
        goto out;
    }
    bad |= buf_append_str(&sql, " LIMIT 1");
    if (prep_built(p, &st, &sql, bad, err) != 0)
        goto out;
    sqlite3_bind_blob(st, 1, unknown_blob, (int)UNKNOWN_LEN, SQLITE_STATIC);
    step = sqlite3_step(st);
    *any = step == SQLITE_ROW;
    rc = compare_end(p, t, step == SQLITE_ROW ? SQLITE_DONE : step, err);
out:
    sqlite3_finalize(st);
    buf_release(&sql);
    return rc;
}

/* Into SQL: "(SELECT count(*) AS n, count(*) FILTER (WHERE <a key column
 * is NULL>) AS nulls FROM SCHEMA.T)" for one side of T. */
static int build_side_count(const struct proj_tab *t, const char *schema, struct buf *sql)
{
    int bad = buf_printf(sql, "(SELECT count(*) AS n, count(*) FILTER (WHERE ");

    for (size_t i = 0; i < t->n_pk; i++)
        bad |= buf_printf(sql, "%s\"%s\" IS NULL", i ? " OR " : "", t->pk[i]);
    bad |= buf_printf(sql, ") AS nulls FROM %s.\"%s\")", schema, t->spec->name);
    return bad;
}

/* Whether T equals the log's rows (SAME): as many stored rows as expected
 * ones, every one paired by key with one of the other side, none differing
 * in a column. One join, where naming each difference takes two anti-joins
 * and a join (compare_rows, columns_differ), which then run only when this
 * says no. The pairing holds when no key on either side holds a NULL (a
 * primary key without NULLs is unique, so the join pairs each row with at
 * most one): then the join's rows, as many as each side's, pair them all. */
static int table_same(struct proj *p, const struct proj_tab *t, bool *same, struct err *err)
{
    struct buf sql = BUF_INIT(65536);
    sqlite3_stmt *st = NULL;
    int bad = 0, rc = -1, step;
    bool none = true;

    *same = false;
    bad |= buf_append_str(&sql, "SELECT sm.n, sm.nulls, se.n, se.nulls, j.n, j.differ FROM ");
    bad |= build_side_count(t, "main", &sql);
    bad |= buf_append_str(&sql, " AS sm, ");
    bad |= build_side_count(t, "civreg_expect", &sql);
    bad |= buf_append_str(&sql, " AS se, (SELECT count(*) AS n, coalesce(max(");
    bad |= build_differ(t, &sql, &none);
    if (none)
        bad |= buf_append_str(&sql, "0");
    bad |= buf_printf(&sql, "), 0) AS differ FROM main.\"%s\" m JOIN civreg_expect.\"%s\" e"
                            " ON ",
                      t->spec->name, t->spec->name);
    bad |= build_join(t, &sql);
    bad |= buf_append_str(&sql, ") AS j");
    if (prep_built(p, &st, &sql, bad, err) != 0)
        goto out;
    sqlite3_bind_blob(st, 1, unknown_blob, (int)UNKNOWN_LEN, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        sqlite3_int64 n = sqlite3_column_int64(st, 0);
        *same = sqlite3_column_int64(st, 1) == 0 && sqlite3_column_int64(st, 3) == 0 &&
                sqlite3_column_int64(st, 2) == n && sqlite3_column_int64(st, 4) == n &&
                sqlite3_column_int64(st, 5) == 0;
    }
    rc = compare_end(p, t, step == SQLITE_ROW ? SQLITE_DONE : step, err);
out:
    sqlite3_finalize(st);
    buf_release(&sql);
    return rc;
}

/* The content column against the hash the log signed, as the expected
 * table in EXPECT has it. */
static int compare_content(struct proj *p, const struct proj_tab *t, const char *expect,
                           struct err *err)
{
    struct buf sql = BUF_INIT(8192);
    sqlite3_stmt *st = NULL;
    int bad = 0, rc = -1, step, n = 0;
    int k = (int)t->n_pk;

    bad |= build_side_by_side(t, t->spec->content, t->spec->content_hash, expect, &sql);
    bad |= buf_append_str(&sql, " ORDER BY 1");
    if (prep_built(p, &st, &sql, bad, err) != 0)
        goto out;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char id[256], got[65];
        const char *want = (const char *)sqlite3_column_text(st, k + 1);
        if (sqlite3_column_type(st, k + 1) != SQLITE_TEXT)
            continue; /* the log does not say */
        reg_sha256_hex(sqlite3_column_blob(st, k), (size_t)sqlite3_column_bytes(st, k), got);
        if (strcmp(got, want) == 0 || n++ >= PROJ_REPORT_MAX)
            continue;
        fmt_id(st, t->n_pk, id, sizeof id);
        proj_problem(p, "%s %s %s: stored content hashes to %s, log %s (edited?)", t->spec->name,
                     id, t->spec->content, got, want);
    }
    if (n > PROJ_REPORT_MAX)
        proj_problem(p, "%s %s: %d more rows differ from the log", t->spec->name,
                     t->spec->content, n - PROJ_REPORT_MAX);
    rc = compare_end(p, t, step, err);
out:
    sqlite3_finalize(st);
    buf_release(&sql);
    return rc;
}

void proj_streamed(struct proj *p, const char *table, int (*fn)(void *ctx, struct err *err),
                   void *ctx)
{
    struct proj_tab *t = tab_find(p, table);

    if (t) {
        t->streamed = fn;
        t->streamed_ctx = ctx;
    }
}

void proj_at_once(struct proj *p, const char *table)
{
    struct proj_tab *t = tab_find(p, table);

    if (t && t->exists && t->n_pk && !t->without_rowid)
        t->at_once = true;
}

void proj_merged(struct proj *p, const char *table)
{
    struct proj_tab *t = tab_find(p, table);

    proj_at_once(p, table);
    if (t && t->at_once && t->held == NULL &&
        (t->ring = calloc(PROJ_HELD_MAX, sizeof *t->ring)) != NULL &&
        (t->held = json_object()) == NULL) {
        free(t->ring);
        t->ring = NULL;
    }
}

/* A table checked at once, before its comparison: *WHOLE when no row was
 * put and the rows matched are all the stored rows (the table is the
 * log's: each stored row matched one put, by its increasing rowid); else
 * the rows matched are copied from their stored rowids into the expected
 * table, which then holds what the puts would have (a later put of the
 * same key, written, wins as its upsert would have), compared by SQL. */
static int at_once_settle(struct proj *p, struct proj_tab *t, bool *whole, struct err *err)
{
    struct buf sql = BUF_INIT(16384);
    sqlite3_stmt *st = NULL;
    int bad = 0, rc = -1, step;

    *whole = false;
    sqlite3_finalize(t->next); /* no statement stays open on the stored table */
    t->next = NULL;
    bad |= buf_printf(&sql, "SELECT count(*) FROM main.\"%s\"", t->spec->name);
    if (prep_built(p, &st, &sql, bad, err) != 0)
        goto out;
    if ((step = sqlite3_step(st)) != SQLITE_ROW) {
        rc = compare_end(p, t, step, err);
        goto out;
    }
    *whole = !t->slow && sqlite3_column_int64(st, 0) == t->n_fast;
    rc = *whole ? 0 : at_once_copy(p, t, err);
out:
    sqlite3_finalize(st);
    buf_release(&sql);
    return rc;
}

int proj_compare(struct proj *p, struct err *err)
{
    for (size_t m = 0; m < p->n_modules; m++)
        if (p->modules[m]->after_replay)
            p->modules[m]->after_replay(p);
    for (size_t i = 0; i < p->n_tabs; i++) {
        struct proj_tab *t = &p->tabs[i];
        bool any = false, same = false, whole = false;
        if (!t->exists || t->n_pk == 0)
            continue;
        if (t->streamed) {
            if (t->streamed(t->streamed_ctx, err) != 0)
                return -1;
            continue;
        }
        if (t->held)
            held_put_all(p, t);
        if (t->at_once && at_once_settle(p, t, &whole, err) != 0)
            return -1;
        if (whole) {
            if (t->spec->content && compare_content(p, t, "main", err) != 0)
                return -1;
            continue;
        }
        if (table_same(p, t, &same, err) != 0)
            return -1;
        if (!same && (compare_rows(p, t, true, err) != 0 || compare_rows(p, t, false, err) != 0))
            return -1;
        if (!same && columns_differ(p, t, &any, err) != 0)
            return -1;
        for (size_t c = 0; any && c < t->n_cols; c++)
            if (!tab_is_pk(t, t->cols[c]) && compare_column(p, t, t->cols[c], err) != 0)
                return -1;
        if (t->spec->content && compare_content(p, t, "civreg_expect", err) != 0)
            return -1;
    }
    return 0;
}

bool proj_covers(struct proj *p, const char *table)
{
    return tab_find(p, table) != NULL;
}
