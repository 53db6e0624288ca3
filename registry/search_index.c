/* civreg registry: the search index.
 *
 * search_index holds, per record, the values shown in results and the
 * folded keys the ranking compares; search_fts (FTS5, unicode61) indexes the
 * folded words, their phonetic keys and date tokens; search_tri (FTS5
 * trigram) the folded names. records.c calls registry_search_index_record
 * inside each write transaction, so the index never disagrees with a
 * committed record. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "db/rows.h"
#include "search_int.h"

#define KEY_MAX 4096

static void texts_init(struct search_texts *r)
{
    r->names = (struct buf)BUF_INIT(KEY_MAX * 2);
    r->names_ph = (struct buf)BUF_INIT(KEY_MAX);
    r->parents = (struct buf)BUF_INIT(KEY_MAX * 2);
    r->parents_ph = (struct buf)BUF_INIT(KEY_MAX);
    r->dates = (struct buf)BUF_INIT(64);
    r->place = (struct buf)BUF_INIT(1024);
    r->mother = (struct buf)BUF_INIT(1024);
    r->father = (struct buf)BUF_INIT(1024);
}

static void texts_release(struct search_texts *r)
{
    buf_release(&r->names);
    buf_release(&r->names_ph);
    buf_release(&r->parents);
    buf_release(&r->parents_ph);
    buf_release(&r->dates);
    buf_release(&r->place);
    buf_release(&r->mother);
    buf_release(&r->father);
}

void reg_search_keys_release(struct search_keys *k)
{
    buf_release(&k->given);
    buf_release(&k->family);
    buf_release(&k->place);
    buf_release(&k->mother);
    buf_release(&k->father);
    if (k->has_texts)
        texts_release(&k->texts);
    k->has_texts = false;
}

static const char *sget(const json_t *rec, const char *sect, const char *key)
{
    const char *v = json_string_value(json_object_get(json_object_get(rec, sect), key));
    return v ? v : "";
}

static int fold_into(struct buf *b, const char *s, struct err *err)
{
    if (registry_name_fold(s, strlen(s), b, err) != 0)
        return -1;
    /* an empty key is stored as "" */
    if (b->data == NULL && buf_append(b, "", 0) != 0)
        return err_oom(err);
    return 0;
}

int reg_search_keys(const json_t *rec, struct search_keys *k, struct err *err)
{
    struct buf *all[] = { &k->given, &k->family, &k->place, &k->mother, &k->father };

    for (size_t i = 0; i < 5; i++)
        *all[i] = (struct buf)BUF_INIT(KEY_MAX);
    k->has_texts = false;
    if (fold_into(&k->given, sget(rec, "child", "given_names"), err) != 0 ||
        fold_into(&k->family, sget(rec, "child", "family_name"), err) != 0 ||
        fold_into(&k->place, sget(rec, "birth", "locality"), err) != 0 ||
        fold_into(&k->place, sget(rec, "birth", "district"), err) != 0 ||
        fold_into(&k->place, sget(rec, "birth", "facility"), err) != 0 ||
        fold_into(&k->mother, sget(rec, "mother", "given_names"), err) != 0 ||
        fold_into(&k->mother, sget(rec, "mother", "family_name"), err) != 0 ||
        fold_into(&k->father, sget(rec, "father", "given_names"), err) != 0 ||
        fold_into(&k->father, sget(rec, "father", "family_name"), err) != 0) {
        reg_search_keys_release(k);
        return -1;
    }
    return 0;
}

/* Append the phonetic keys of the words of KEY to OUT. */
static int phonetic_words(const char *key, struct buf *out)
{
    const char *p = key;
    while (*p) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char ph[REGISTRY_PHONETIC_MAX + 1];
        registry_name_phonetic(p, n, ph);
        if (ph[0] && (out->len ? buf_append_byte(out, ' ') : 0) != 0)
            return -1;
        if (ph[0] && buf_append_str(out, ph) != 0)
            return -1;
        p += n;
        while (*p == ' ')
            p++;
    }
    if (out->data == NULL && buf_append(out, "", 0) != 0)
        return -1;
    return 0;
}

static int date_tokens(const char *dob, struct buf *out)
{
    struct registry_pdate d;
    if (reg_pdate_parse_stored(dob, &d) != 0)
        return buf_append(out, "", 0);
    if (buf_printf(out, "Y%04d", d.y) != 0)
        return -1;
    if (d.m && buf_printf(out, " M%04d%02d", d.y, d.m) != 0)
        return -1;
    if (d.d && buf_printf(out, " D%04d%02d%02d", d.y, d.m, d.d) != 0)
        return -1;
    return 0;
}

/* Prepared statements for writing the index, reused across a batch: the
 * connection's cached ones, one for each SQL text of writer_sql. */
enum { W_FIND, W_INS, W_UPD, W_DEL_FTS, W_DEL_TRI, W_INS_FTS, W_INS_TRI, W_GET_FTS, W_GET_TRI,
       W_DEL_KEYS, W_INS_KEY, W_REGISTERED, W_COUNT };

static const char *const writer_sql[W_COUNT] = {
    [W_FIND] = "SELECT rowid FROM search_index WHERE record_id=?1",
    [W_INS] = "INSERT INTO search_index(record_id, office, status, given, family, sex, dob,"
              " place, mother, father, given_key, family_key, place_key, mother_key,"
              " father_key, regno, uin) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,"
              "?13,?14,?15,?16,?17)",
    [W_UPD] = "UPDATE search_index SET office=?2, status=?3, given=?4, family=?5, sex=?6,"
              " dob=?7, place=?8, mother=?9, father=?10, given_key=?11, family_key=?12,"
              " place_key=?13, mother_key=?14, father_key=?15, regno=?16, uin=?17"
              " WHERE record_id=?1",
    [W_DEL_FTS] = "DELETE FROM search_fts WHERE rowid=?1",
    [W_DEL_TRI] = "DELETE FROM search_tri WHERE rowid=?1",
    [W_INS_FTS] = "INSERT INTO search_fts(rowid, names, names_ph, parents, parents_ph, place,"
                  " dates, ids) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
    [W_INS_TRI] = "INSERT INTO search_tri(rowid, names) VALUES (?1, ?2)",
    [W_GET_FTS] = "SELECT names, names_ph, parents, parents_ph, place, dates, ids FROM"
                  " search_fts WHERE rowid=?1",
    [W_GET_TRI] = "SELECT names FROM search_tri WHERE rowid=?1",
    [W_DEL_KEYS] = "DELETE FROM search_name_keys WHERE rec=?1",
    [W_INS_KEY] = "INSERT OR IGNORE INTO search_name_keys(key, dob, rec) VALUES (?1,?2,?3)",
    [W_REGISTERED] = "UPDATE search_index SET status='registered', regno=?2, uin=?3"
                     " WHERE rowid=?1",
};

struct index_writer {
    struct db *db;
    sqlite3_stmt *st[W_COUNT];
};

static void writer_close(struct index_writer *w)
{
    if (w->db == NULL)
        return;
    for (int i = 0; i < W_COUNT; i++)
        reg_release(w->db, w->st[i]);
    memset(w, 0, sizeof *w);
}

/* The statements are taken from the connection's cache on first use
 * (wst): a new draft's entry needs half of them. */
static int writer_open(struct db *db, struct index_writer *w, struct err *err)
{
    (void)err;
    memset(w, 0, sizeof *w);
    w->db = db;
    return 0;
}

/* Statement I of W, or NULL with ERR set when it does not prepare. */
static sqlite3_stmt *wst(struct index_writer *w, int i, struct err *err)
{
    if (w->st[i] == NULL && reg_prepare_cached(w->db, &w->st[i], writer_sql[i], err) != 0)
        return NULL;
    return w->st[i];
}

/* Bind FMT's parameters (db_bind) to writer statement ST and step it once:
 * 1 with the row to read, 0 when done, -1 with "db: WHAT: ..." in ERR. The
 * caller resets ST (writer_reset) after reading the row. */
static int writer_step(struct db *db, sqlite3_stmt *st, const char *what, struct err *err,
                       const char *fmt, ...)
{
    va_list ap;
    int rc;

    if (st == NULL)
        return -1; /* not prepared (wst): ERR says why */
    va_start(ap, fmt);
    rc = db_bindv(db, st, err, fmt, ap);
    va_end(ap);
    return rc == 0 ? db_step_row(db, st, what, err) : -1;
}

static void writer_reset(sqlite3_stmt *st)
{
    if (st == NULL)
        return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Whether the FTS5 row ROWID (statement GET: SELECT its N columns) holds
 * exactly the texts COLS: a verification or a registration that changes no
 * indexed word leaves the row as it is (each FTS5 delete and insert writes
 * index segments that every later query probes). -1 on error. */
static int fts_same(struct db *db, sqlite3_stmt *get, int64_t rowid, const char *const *cols,
                    int n, struct err *err)
{
    int s = writer_step(db, get, "reading the search index", err, "I", (long long)rowid);
    int same = s == 1;

    for (int i = 0; i < n && same; i++) {
        const unsigned char *t = sqlite3_column_text(get, i);
        same = sqlite3_column_type(get, i) == SQLITE_TEXT && t != NULL &&
               strcmp((const char *)t, cols[i]) == 0;
    }
    writer_reset(get);
    return s < 0 ? -1 : same;
}

static int join2(struct buf *out, const char *a, const char *b, const char *sep)
{
    if (buf_append_str(out, a) != 0)
        return -1;
    if (*a && *b && buf_append_str(out, sep) != 0)
        return -1;
    if (buf_append_str(out, b) != 0)
        return -1;
    if (out->data == NULL && buf_append(out, "", 0) != 0)
        return -1;
    return 0;
}

/* R (texts_init'ed): the entry texts of REC with folded names K; -1 when
 * one is too long. */
static int texts_make(const json_t *rec, const struct search_keys *k, struct search_texts *r)
{
    const char *dob = json_string_value(json_object_get(json_object_get(rec, "birth"), "date"));

    return join2(&r->names, buf_str(&k->given), buf_str(&k->family), " ") != 0 ||
                   phonetic_words(buf_str(&r->names), &r->names_ph) != 0 ||
                   join2(&r->parents, buf_str(&k->mother), buf_str(&k->father), " ") != 0 ||
                   phonetic_words(buf_str(&r->parents), &r->parents_ph) != 0 ||
                   date_tokens(dob ? dob : "", &r->dates) != 0 ||
                   join2(&r->place, sget(rec, "birth", "locality"), sget(rec, "birth", "district"),
                         ", ") != 0 ||
                   join2(&r->mother, sget(rec, "mother", "given_names"),
                         sget(rec, "mother", "family_name"), " ") != 0 ||
                   join2(&r->father, sget(rec, "father", "given_names"),
                         sget(rec, "father", "family_name"), " ") != 0
               ? -1
               : 0;
}

int reg_search_keys_texts(const json_t *record, struct search_keys *k)
{
    if (k->has_texts)
        return 0;
    texts_init(&k->texts);
    if (texts_make(record, k, &k->texts) != 0) {
        texts_release(&k->texts);
        return -1;
    }
    k->has_texts = true;
    return 0;
}

int reg_search_name_keys_each(const char *names_ph, const char *dob,
                              int (*fn)(void *, const char *, int), void *ctx)
{
    struct registry_pdate d;
    const char *p = names_ph;

    if (reg_pdate_parse_stored(dob, &d) != 0)
        return 0;
    while (*p) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char key[REGISTRY_PHONETIC_MAX + 1];
        if (n > 0 && n <= REGISTRY_PHONETIC_MAX) {
            memcpy(key, p, n);
            key[n] = '\0';
            if (fn(ctx, key, reg_pdate_key(&d)) != 0)
                return -1;
        }
        p += n;
        while (*p == ' ')
            p++;
    }
    return 0;
}

struct key_put {
    struct db *db;
    struct index_writer *w;
    int64_t rowid;
    struct err *err;
};

static int key_put_one(void *ctx, const char *key, int dob)
{
    struct key_put *k = ctx;
    int s = writer_step(k->db, wst(k->w, W_INS_KEY, k->err), "writing the search index", k->err,
                        "siI", key, dob, (long long)k->rowid);

    writer_reset(k->w->st[W_INS_KEY]);
    return s < 0 ? -1 : 0;
}

/* The search_name_keys rows of index row ROWID (reg_search_name_keys_each
 * of NAMES_PH and DOB). The rows it had before are deleted first when
 * OLD. */
static int keys_put(struct db *db, struct index_writer *w, int64_t rowid, bool old,
                    const char *names_ph, const char *dob, struct err *err)
{
    struct key_put k = { db, w, rowid, err };
    int s = 0;

    if (old)
        s = writer_step(db, wst(w, W_DEL_KEYS, err), "updating the search index", err, "I",
                        (long long)rowid);
    writer_reset(w->st[W_DEL_KEYS]);
    if (s < 0)
        return -1;
    return reg_search_name_keys_each(names_ph, dob, key_put_one, &k);
}

/* The FTS5 ids column: the UIN and the registration number without its
 * slashes (so that "UG01/2026/000123" is found as UG012026000123). */
static int ids_text(const char *regno, const char *uin, struct buf *ids)
{
    if (uin && buf_append_str(ids, uin) != 0)
        return -1;
    if (regno) {
        if (ids->len && buf_append_byte(ids, ' ') != 0)
            return -1;
        for (const char *p = regno; *p; p++)
            if (*p != '/' && buf_append_byte(ids, (unsigned char)*p) != 0)
                return -1;
    }
    if (ids->data == NULL && buf_append(ids, "", 0) != 0)
        return -1;
    return 0;
}

static int held_add(struct reg_fts_held *h, int64_t rowid, const char *const *cols,
                    size_t *at);

void reg_search_entry_release(struct search_entry *e)
{
    if (e->own_keys)
        reg_search_keys_release(&e->own);
    texts_release(&e->texts);
    buf_release(&e->ids);
    json_decref(e->rec);
    memset(e, 0, sizeof *e);
}

int reg_search_entry_build(struct search_entry *e, const char *id, const char *office,
                           const char *status, const json_t *rec, const struct search_keys *keys,
                           const char *regno, const char *uin, struct err *err)
{
    const struct search_keys *k = keys ? keys : &e->own;
    const struct search_texts *r; /* the entry's texts as prepared with K, or made here */
    const char *dob = json_string_value(json_object_get(json_object_get(rec, "birth"), "date"));

    memset(e, 0, sizeof *e);
    texts_init(&e->texts);
    e->ids = (struct buf)BUF_INIT(128);
    e->id = id;
    e->dob = dob ? dob : "";
    if (keys == NULL) {
        if (reg_search_keys(rec, &e->own, err) != 0)
            return -1;
        e->own_keys = true;
    }
    r = k->has_texts ? &k->texts : &e->texts;
    if (r == &e->texts && texts_make(rec, k, &e->texts) != 0) {
        reg_search_entry_release(e);
        return err_set(err, "search index: a name of record %s is too long", id);
    }
    if (ids_text(regno, uin, &e->ids) != 0) {
        reg_search_entry_release(e);
        return err_setk(err, ERR_INTERNAL, "search index: out of memory");
    }
    {
        const char *index[REG_SEARCH_INDEX_COLS] = {
            office, status, sget(rec, "child", "given_names"), sget(rec, "child", "family_name"),
            sget(rec, "child", "sex"), e->dob, buf_str(&r->place), buf_str(&r->mother),
            buf_str(&r->father), buf_str(&k->given), buf_str(&k->family), buf_str(&k->place),
            buf_str(&k->mother), buf_str(&k->father), regno, uin,
        };
        const char *fts[REG_SEARCH_FTS_COLS] = {
            buf_str(&r->names), buf_str(&r->names_ph), buf_str(&r->parents),
            buf_str(&r->parents_ph), buf_str(&k->place), buf_str(&r->dates), buf_str(&e->ids),
        };
        memcpy(e->index, index, sizeof index);
        memcpy(e->fts, fts, sizeof fts);
    }
    return 0;
}

/* Write entry E. FRESH: record E->id was created in this transaction, so
 * it has no entry to look for (one would make the insert fail). HELD (or
 * NULL): the FTS5 row of a fresh entry is held there (its place in
 * *HELD_AT), not written (struct reg_fts_held). */
static int writer_write(struct db *db, struct index_writer *w, const struct search_entry *e,
                        bool fresh, struct reg_fts_held *held, size_t *held_at, struct err *err)
{
    const char *const *c = e->index;
    sqlite3_stmt *st;
    int64_t rowid = -1;
    bool existed;
    int s, same_fts = 0, same_tri = 0;

    s = fresh ? 0
              : writer_step(db, wst(w, W_FIND, err), "reading the search index", err, "s", e->id);
    if (s == 1)
        rowid = sqlite3_column_int64(w->st[W_FIND], 0);
    writer_reset(w->st[W_FIND]);
    if (s < 0)
        return -1;

    existed = rowid >= 0;
    st = wst(w, existed ? W_UPD : W_INS, err);
    s = writer_step(db, st, "writing the search index", err, "sssssssssssssssss", e->id, c[0],
                    c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12],
                    c[13], c[14], c[15]);
    writer_reset(st);
    if (s < 0)
        return -1;
    if (rowid >= 0) {
        if ((same_fts = fts_same(db, wst(w, W_GET_FTS, err), rowid, e->fts, 7, err)) < 0 ||
            (same_tri = fts_same(db, wst(w, W_GET_TRI, err), rowid, e->fts, 1, err)) < 0)
            return -1;
        s = same_fts ? 0 : writer_step(db, wst(w, W_DEL_FTS, err), "updating the search index", err,
                                       "I", (long long)rowid);
        writer_reset(w->st[W_DEL_FTS]);
        if (s >= 0 && !same_tri)
            s = writer_step(db, wst(w, W_DEL_TRI, err), "updating the search index", err, "I",
                            (long long)rowid);
        writer_reset(w->st[W_DEL_TRI]);
        if (s < 0)
            return -1;
    } else {
        rowid = sqlite3_last_insert_rowid(db_handle(db));
    }
    if (held != NULL && !existed) {
        if (held_add(held, rowid, e->fts, held_at) != 0)
            return err_setk(err, ERR_INTERNAL, "search index: out of memory");
        s = 0;
    } else {
        s = same_fts ? 0
                     : writer_step(db, wst(w, W_INS_FTS, err), "writing the search index", err,
                                   "Isssssss", (long long)rowid, e->fts[0], e->fts[1], e->fts[2],
                                   e->fts[3], e->fts[4], e->fts[5], e->fts[6]);
        writer_reset(w->st[W_INS_FTS]);
    }
    if (s >= 0 && !same_fts)
        s = keys_put(db, w, rowid, existed, e->fts[1], e->dob, err);
    if (s >= 0 && !same_tri)
        s = writer_step(db, wst(w, W_INS_TRI, err), "writing the search index", err, "Is",
                        (long long)rowid, e->fts[0]);
    writer_reset(w->st[W_INS_TRI]);
    return s < 0 ? -1 : 0;
}

/* KEYS: REC's folded names (reg_search_keys) when the caller has them, or
 * NULL to fold them here. FRESH, HELD, HELD_AT: as writer_write. */
static int writer_put(struct db *db, struct index_writer *w, const char *id, const char *office,
                      const char *status, const json_t *rec, const struct search_keys *keys,
                      bool fresh, const char *regno, const char *uin, struct reg_fts_held *held,
                      size_t *held_at, struct err *err)
{
    struct search_entry e;
    int rc;

    if (reg_search_entry_build(&e, id, office, status, rec, keys, regno, uin, err) != 0)
        return -1;
    rc = writer_write(db, w, &e, fresh, held, held_at, err);
    reg_search_entry_release(&e);
    return rc;
}

int reg_search_index_put_keys(struct db *db, const char *id, const char *office,
                              const char *status, const json_t *record,
                              const struct search_keys *keys, bool fresh, const char *regno,
                              const char *uin, struct err *err)
{
    struct index_writer w;
    int rc;

    if (writer_open(db, &w, err) != 0)
        return -1;
    rc = writer_put(db, &w, id, office, status, record, keys, fresh, regno, uin, NULL, NULL, err);
    writer_close(&w);
    return rc;
}

int reg_search_index_put_held(struct db *db, const char *id, const char *office,
                              const char *status, const json_t *record,
                              const struct search_keys *keys, struct reg_fts_held *held,
                              size_t *held_at, struct err *err)
{
    struct index_writer w;
    int rc;

    if (writer_open(db, &w, err) != 0)
        return -1;
    rc = writer_put(db, &w, id, office, status, record, keys, true, NULL, NULL, held, held_at,
                    err);
    writer_close(&w);
    return rc;
}

int registry_search_index_put(struct db *db, const char *id, const char *office,
                              const char *status, const json_t *record, const char *regno,
                              const char *uin, struct err *err)
{
    return reg_search_index_put_keys(db, id, office, status, record, NULL, false, regno, uin,
                                     err);
}

int registry_search_index_put_many(struct db *db, const struct registry_search_entry *e,
                                   size_t n, struct err *err)
{
    struct index_writer w;
    int rc = -1;

    if (db_tx_begin(db, err) != 0)
        return -1;
    if (writer_open(db, &w, err) != 0) {
        db_tx_rollback(db);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (writer_put(db, &w, e[i].id, e[i].office, e[i].status, e[i].record, NULL, false,
                       e[i].regno, e[i].uin, NULL, NULL, err) != 0)
            goto out;
    rc = 0;
out:
    writer_close(&w);
    if (rc == 0)
        return db_tx_commit(db, err);
    db_tx_rollback(db);
    return -1;
}

int reg_search_entry_of_row(sqlite3_stmt *st, struct search_entry *e, struct err *err)
{
    json_t *rec = NULL;

    memset(e, 0, sizeof *e);
    if (sqlite3_column_type(st, 5) == SQLITE_NULL)
        return err_setk(err, ERR_NOT_FOUND, "search index: no record %s",
                        (const char *)sqlite3_column_text(st, 0));
    if (db_column_parse(st, 5, &rec, err) != 0)
        return -1;
    if (reg_search_entry_build(e, (const char *)sqlite3_column_text(st, 0),
                               (const char *)sqlite3_column_text(st, 1),
                               (const char *)sqlite3_column_text(st, 2), rec, NULL,
                               (const char *)sqlite3_column_text(st, 3),
                               (const char *)sqlite3_column_text(st, 4), err) != 0) {
        json_decref(rec);
        return -1;
    }
    e->rec = rec;
    return 0;
}

/* Index the record of the row ST stands on (reg_search_entry_of_row).
 * FRESH: the index holds no row for it (no lookup). */
static int index_row(struct db *db, struct index_writer *w, sqlite3_stmt *st, bool fresh,
                     struct err *err)
{
    struct search_entry e;
    int rc;

    if (reg_search_entry_of_row(st, &e, err) != 0)
        return -1;
    rc = writer_write(db, w, &e, fresh, NULL, NULL, err);
    reg_search_entry_release(&e);
    return rc;
}

#define STORE_COLS REG_SEARCH_STORE_COLS
#define STORE_SQL "SELECT " STORE_COLS " WHERE r.id = ?1"

/* The current version of registry record ID, with its state, indexed. */
static int index_from_store(struct db *db, struct index_writer *w, sqlite3_stmt *st,
                            const char *id, struct err *err)
{
    int rc = -1, s;

    s = writer_step(db, st, "reading a record to index", err, "s", id);
    if (s == 0)
        err_setk(err, ERR_NOT_FOUND, "search index: no record %s", id);
    if (s == 1)
        rc = index_row(db, w, st, false, err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int registry_search_index_record(struct db *db, const char *id, struct err *err)
{
    struct index_writer w;
    sqlite3_stmt *st = NULL;
    int rc = -1;

    if (writer_open(db, &w, err) != 0)
        return -1;
    if (reg_prepare_cached(db, &st, STORE_SQL, err) == 0)
        rc = index_from_store(db, &w, st, id, err);
    reg_release(db, st);
    writer_close(&w);
    return rc;
}

/* A registration changes no indexed word of the record: the status and
 * numbers of its search_index row and the ids column of its search_fts row
 * (search_tri holds names only). The other columns are those the record's
 * unchanged version gave them, so they are copied, not computed again from
 * the record: the same row writer_put would write. 1 when the record has
 * no complete index entry (the caller indexes it whole), 0, -1 on error. */
static int index_registered(struct db *db, struct index_writer *w, const char *id,
                            const char *regno, const char *uin, struct err *err)
{
    struct buf ids = BUF_INIT(128);
    char *kept[6] = { NULL };
    sqlite3_stmt *get = wst(w, W_GET_FTS, err);
    int64_t rowid = -1;
    bool same_ids = false;
    int rc = -1, s;

    s = writer_step(db, wst(w, W_FIND, err), "reading the search index", err, "s", id);
    if (s == 1)
        rowid = sqlite3_column_int64(w->st[W_FIND], 0);
    writer_reset(w->st[W_FIND]);
    if (s <= 0)
        return s < 0 ? -1 : 1;
    if (ids_text(regno, uin, &ids) != 0)
        return err_setk(err, ERR_INTERNAL, "search index: out of memory");
    s = writer_step(db, get, "reading the search index", err, "I", (long long)rowid);
    for (int i = 0; i < 6 && s == 1; i++)
        if (sqlite3_column_type(get, i) != SQLITE_TEXT || (kept[i] = db_column_dup(get, i)) == NULL)
            s = 0; /* indexed whole again below */
    if (s == 1)
        same_ids = sqlite3_column_type(get, 6) == SQLITE_TEXT &&
                   strcmp((const char *)sqlite3_column_text(get, 6), buf_str(&ids)) == 0;
    writer_reset(get);
    if (s <= 0) {
        rc = s < 0 ? -1 : 1;
        goto out;
    }
    s = writer_step(db, wst(w, W_REGISTERED, err), "updating the search index", err, "Iss",
                    (long long)rowid, regno, uin);
    writer_reset(w->st[W_REGISTERED]);
    if (s >= 0 && !same_ids) {
        s = writer_step(db, wst(w, W_DEL_FTS, err), "updating the search index", err, "I",
                        (long long)rowid);
        writer_reset(w->st[W_DEL_FTS]);
    }
    if (s >= 0 && !same_ids) {
        s = writer_step(db, wst(w, W_INS_FTS, err), "writing the search index", err, "Isssssss",
                        (long long)rowid, kept[0], kept[1], kept[2], kept[3], kept[4], kept[5],
                        buf_str(&ids));
        writer_reset(w->st[W_INS_FTS]);
    }
    rc = s < 0 ? -1 : 0;
out:
    for (int i = 0; i < 6; i++)
        free(kept[i]);
    buf_release(&ids);
    return rc;
}

int reg_search_index_registered(struct db *db, const char *id, const char *regno,
                                const char *uin, struct err *err)
{
    struct index_writer w;
    int rc;

    if (writer_open(db, &w, err) != 0)
        return -1;
    rc = index_registered(db, &w, id, regno, uin, err);
    writer_close(&w);
    return rc == 1 ? registry_search_index_record(db, id, err) : rc;
}

int reg_search_reindex_tx(struct db *db, void *arg, struct err *err)
{
    long long *count = arg;
    struct index_writer w;
    sqlite3_stmt *list = NULL;
    int rc = -1, s;

    *count = 0;
    if (db_exec(db, "DELETE FROM search_index; DELETE FROM search_fts; DELETE FROM search_tri;"
                    " DELETE FROM search_name_keys;",
                err) != 0)
        return -1;
    if (writer_open(db, &w, err) != 0)
        return -1;
    /* One pass over the records with their current versions: the index
     * was just emptied, so every row is new (no lookup of an old one). */
    if (reg_prepare_cached(db, &list,
                           "SELECT " STORE_COLS " ORDER BY r.created_at, r.id", err) != 0)
        goto out;
    while ((s = sqlite3_step(list)) == SQLITE_ROW) {
        if (index_row(db, &w, list, true, err) != 0)
            goto out;
        (*count)++;
    }
    if (s != SQLITE_DONE) {
        db_sql_fail(db, "listing records to index", err);
        goto out;
    }
    rc = 0;
out:
    reg_release(db, list);
    writer_close(&w);
    return rc;
}

int registry_search_reindex(struct db *db, long long *count, struct err *err)
{
    long long n = 0;
    if (db_tx_run(db, reg_search_reindex_tx, &n, err) != 0)
        return -1;
    if (count)
        *count = n;
    return 0;
}

int reg_search_index_status(struct db *db, const char *id, const char *status,
                            struct err *err)
{
    return db_run(db, "UPDATE search_index SET status=?2 WHERE record_id=?1",
                  "updating the search index", err, "ss", id, status);
}

/* ---- a batch's search_fts rows held back ---- */

/* One held row: its rowid and its seven column texts (the ids column
 * replaced when the record is registered), in one allocation. */
struct reg_fts_held_row {
    int64_t rowid;
    char *cols[6];
    char *ids; /* its own allocation once registered, else in BLOCK */
    bool own_ids;
    char *block;
};

static void held_row_release(struct reg_fts_held_row *r)
{
    if (r->own_ids)
        free(r->ids);
    free(r->block);
    memset(r, 0, sizeof *r);
}

static int held_add(struct reg_fts_held *h, int64_t rowid, const char *const *cols, size_t *at)
{
    struct reg_fts_held_row *r;
    size_t len[7], total = 0;
    char *p;

    if (h->n == h->cap) {
        size_t c = h->cap ? h->cap * 2 : 64;
        struct reg_fts_held_row *rows = realloc(h->rows, c * sizeof *rows);
        if (rows == NULL)
            return -1;
        h->rows = rows;
        h->cap = c;
    }
    for (int i = 0; i < 7; i++)
        total += (len[i] = strlen(cols[i])) + 1;
    r = &h->rows[h->n];
    memset(r, 0, sizeof *r);
    if ((r->block = p = malloc(total)) == NULL)
        return -1;
    r->rowid = rowid;
    for (int i = 0; i < 7; i++) {
        memcpy(p, cols[i], len[i] + 1);
        if (i < 6)
            r->cols[i] = p;
        else
            r->ids = p;
        p += len[i] + 1;
    }
    if (at)
        *at = h->n;
    h->n++;
    return 0;
}

const char *reg_fts_held_names_ph(const struct reg_fts_held *h, size_t at)
{
    return at < h->n ? h->rows[at].cols[1] : NULL;
}

void reg_fts_held_reset(struct reg_fts_held *h)
{
    for (size_t i = 0; i < h->n; i++)
        held_row_release(&h->rows[i]);
    h->n = h->written = 0;
}

void reg_fts_held_release(struct reg_fts_held *h)
{
    reg_fts_held_reset(h);
    free(h->rows);
    h->rows = NULL;
    h->cap = 0;
}

int reg_search_fts_held_flush(struct db *db, struct reg_fts_held *h, struct err *err)
{
    struct index_writer w;
    int s = 0;

    if (h == NULL || h->written == h->n)
        return 0;
    if (writer_open(db, &w, err) != 0)
        return -1;
    /* in rowid order (the drafts' order): FTS5 appends them to its
     * pending terms without flushing them out in between */
    for (; h->written < h->n && s >= 0; h->written++) {
        const struct reg_fts_held_row *r = &h->rows[h->written];
        s = writer_step(db, wst(&w, W_INS_FTS, err), "writing the search index", err, "Isssssss",
                        (long long)r->rowid, r->cols[0], r->cols[1], r->cols[2], r->cols[3],
                        r->cols[4], r->cols[5], r->ids);
        writer_reset(w.st[W_INS_FTS]);
    }
    writer_close(&w);
    return s < 0 ? -1 : 0;
}

int reg_search_fts_held_registered(struct db *db, struct reg_fts_held *h, size_t at,
                                   const char *regno, const char *uin, struct err *err)
{
    struct reg_fts_held_row *r;
    struct buf ids = BUF_INIT(128);
    struct index_writer w;
    char *text;
    int s;

    if (at >= h->n || at < h->written)
        return 1; /* written already: the caller rewrites it */
    r = &h->rows[at];
    if (ids_text(regno, uin, &ids) != 0 || (text = (char *)buf_detach(&ids, NULL)) == NULL) {
        buf_release(&ids);
        return err_setk(err, ERR_INTERNAL, "search index: out of memory");
    }
    if (r->own_ids)
        free(r->ids);
    r->ids = text;
    r->own_ids = true;
    if (writer_open(db, &w, err) != 0)
        return -1;
    s = writer_step(db, wst(&w, W_REGISTERED, err), "updating the search index", err, "Iss",
                    (long long)r->rowid, regno, uin);
    writer_reset(w.st[W_REGISTERED]);
    writer_close(&w);
    return s < 0 ? -1 : 0;
}
