/* civreg registry: the birth record lifecycle.
 *
 *   draft (clerk A keys it) -> verified (clerk B re-keys it blind; every
 *   field must agree; B is not A) -> registered (a registrar; registration
 *   number per office and year; a person with a UIN; a signed link).
 *
 * A correction is a new version with a reason and evidence; versions are
 * never updated or deleted. Each step is one transaction with one signed
 * event. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encode.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "db/rows.h"
#include "core/utf8.h"
#include "draft_prep.h"
#include "registry_int.h"
#include "search.h"
#include "search_int.h"

struct rec_head {
    char *id;
    char *office;
    char status[16];
    int version;
    char hash[65];
    json_t *data; /* current version, normalized */
    char *regno;
    char *uin;
};

static void rec_head_release(struct rec_head *h)
{
    free(h->id);
    free(h->office);
    free(h->regno);
    free(h->uin);
    json_decref(h->data);
    memset(h, 0, sizeof *h);
}

int reg_record_resolve(struct db *db, const char *ref, char **id, struct err *err)
{
    int r;

    *id = NULL;
    if (ref == NULL || *ref == '\0' || strlen(ref) > 64)
        return 1;
    r = db_query_text(db,
                      "SELECT id FROM birth_records WHERE id=?1 OR registration_number=?1"
                      " OR uin=?1 LIMIT 1",
                      "finding the record", id, err, "s", ref);
    return r < 0 ? -1 : r == 0;
}

/* One office's staff act on that office's records only: a node may know
 * several offices (their codes prefix every identifier), and a user of one
 * must not read, verify, register or correct another's records. */
int reg_record_office_check(const struct registry_actor *actor, const char *id,
                            const char *office, struct err *err)
{
    if (actor == NULL) /* the local operator at the command line */
        return 0;
    if (office != NULL && strcmp(office, actor->office) == 0)
        return 0;
    return err_setk(err, ERR_FORBIDDEN,
                   "%s (office %s) may not act on record %s of office %s: users act only on "
                   "their own office's records",
                   actor->username, actor->office, id, office ? office : "?");
}

int reg_record_resolve_as(struct db *db, const struct registry_actor *actor, const char *ref,
                          char **id, struct err *err)
{
    char *office = NULL;
    int rc;

    rc = reg_record_resolve(db, ref, id, err);
    if (rc != 0 || actor == NULL)
        return rc;
    rc = db_query_text(db, "SELECT office FROM birth_records WHERE id=?1",
                       "finding the record's office", &office, err, "s", *id);
    if (rc >= 0)
        rc = rc == 0 ? 1 : reg_record_office_check(actor, *id, office, err);
    free(office);
    if (rc != 0) {
        free(*id);
        *id = NULL;
    }
    return rc;
}

int reg_record_find(struct db *db, const struct registry_actor *actor, const char *ref, char **id,
                    struct err *err)
{
    int r = reg_record_resolve_as(db, actor, ref, id, err);

    if (r > 0)
        return err_setk(err, ERR_NOT_FOUND, "no record '%.64s'", ref ? ref : "");
    return r;
}

/* The id of the record REF names (*ID, the caller frees it), for an actor
 * who may read records. */
static int record_readable(struct db *db, const struct registry_actor *actor, const char *ref,
                           char **id, struct err *err)
{
    if (registry_require_action(actor, "record.read", err) != 0)
        return -1;
    return reg_record_find(db, actor, ref, id, err);
}

/* Load the head and current version of the record REF, which must be of
 * ACTOR's office. */
static int rec_load(struct db *db, const struct registry_actor *actor, const char *ref,
                    struct rec_head *h, struct err *err)
{
    sqlite3_stmt *st = NULL;
    char *id = NULL;
    int rc = -1;

    memset(h, 0, sizeof *h);
    if (reg_record_find(db, actor, ref, &id, err) != 0)
        return -1;
    if (reg_prepare_cached(db, &st,
                    "SELECT b.office, b.status, b.version, v.hash, v.data,"
                    " b.registration_number, b.uin FROM birth_records b"
                    " JOIN record_versions v ON v.record_id = b.id AND v.version = b.version"
                    " WHERE b.id=?1",
                    err) != 0)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        err_set(err, "record %s: its current version is missing", id);
        goto out;
    }
    h->id = id;
    id = NULL;
    h->office = db_column_dup(st, 0);
    (void)snprintf(h->status, sizeof h->status, "%s", (const char *)sqlite3_column_text(st, 1));
    h->version = sqlite3_column_int(st, 2);
    (void)snprintf(h->hash, sizeof h->hash, "%s", (const char *)sqlite3_column_text(st, 3));
    h->regno = db_column_dup(st, 5);
    h->uin = db_column_dup(st, 6);
    if (db_column_parse(st, 4, &h->data, err) != 0) {
        err_prefix(err, "record %s version %d", h->id, h->version);
        goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        rec_head_release(h);
    free(id);
    reg_release(db, st);
    return rc;
}

static int check_evidence_list(struct db *db, const json_t *list, struct err *err)
{
    size_t i;
    json_t *h;

    json_array_foreach(list, i, h) {
        if (registry_blob_exists(db, json_string_value(h), err) != 0)
            return -1;
    }
    return 0;
}

static int insert_version(struct db *db, const char *id, int version, const struct buf *data,
                          const char *hash, const char *prev, const char *reason,
                          const char *reason_evidence, const char *by, const char *now,
                          uint64_t seq, struct err *err)
{
    return db_run(db,
                  "INSERT INTO record_versions(record_id, version, data, hash, prev_hash, reason,"
                  " reason_evidence, keyed_by, keyed_at, event_seq)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                  "storing the record version", err, "sIsssssssI", id, (long long)version,
                  buf_str(data), hash, prev, reason, reason_evidence, by, now, (long long)seq);
}

/* ---- draft ---- */

struct draft_ctx {
    const struct registry_actor *actor;
    const json_t *norm;
    char *id;
    const char *file_hash; /* import source, or NULL */
    long line;
    /* bulk: no savepoint around the event (reg_event_append_one_direct);
     * WROTE tells whether a failure came after the first write, when only
     * rolling back the whole transaction undoes it */
    bool direct;
    bool wrote;
    struct reg_frontier_cache *frontier; /* direct: the batch's, or NULL */
    /* NORM's canonical form and folded names prepared beforehand
     * (reg_draft_prepare), or NULL: made here */
    const struct reg_draft_prep *prep;
    char hash[65]; /* out: the stored version's hash */
    /* bulk (or NULL): out, the record's folded names, handed over when the
     * draft is stored (*KEPT), for the registration's duplicate scan */
    struct search_keys *keep;
    bool kept;
    /* bulk (or NULL): the batch's search_fts rows held back; out, the
     * record's place there */
    struct reg_fts_held *held;
    size_t held_at;
    /* bulk (or NULL): the batch's count of duplicate candidates found */
    size_t *dup_found;
    /* out: the duplicate scan's candidates came from the name keys alone
     * (reg_dup_scan_keys's KEYED) */
    bool keyed;
};

/* The row that makes an imported line a record once (derived from the
 * record.draft event's data.source). */
static int store_import_line(struct db *db, const struct draft_ctx *c, uint64_t seq,
                             struct err *err)
{
    return db_run(db,
                  "INSERT INTO record_import_lines(file_hash, line, record_id, event_seq)"
                  " VALUES (?1, ?2, ?3, ?4)",
                  "recording the imported line", err, "sIsI", c->file_hash, (long long)c->line,
                  c->id, (long long)seq);
}

static int draft_tx(struct db *db, void *arg, struct err *err)
{
    struct draft_ctx *c = arg;
    const struct reg_draft_prep *p = c->prep;
    struct buf own = BUF_INIT(RECORD_MAX);
    const struct buf *data = p ? &p->data : &own;
    char hash[65], now[TIME_ISO8601_LEN + 1];
    json_t *edata = NULL;
    struct search_keys keys;
    const struct search_keys *kp = p && p->folded ? &p->keys : &keys;
    bool folded = false;
    uint64_t seq;
    int rc = -1;

    free(c->id);
    c->id = reg_new_id(c->actor->office, 'R');
    if (c->id == NULL) {
        err_oom(err);
        goto out;
    }
    if (check_evidence_list(db, json_object_get(c->norm, "evidence"), err) != 0)
        goto out;
    if (p && p->canon_rc != 0) {
        *err = p->canon_err;
        goto out;
    }
    if (p)
        memcpy(hash, p->hash, sizeof hash);
    else if (reg_record_canonical(c->norm, &own, hash, err) != 0)
        goto out;
    if (reg_now(now, err) != 0)
        goto out;
    memcpy(c->hash, hash, sizeof c->hash);
    edata = json_pack("{s:i, s:s, s:O}", "version", 1, "status", "draft", "evidence",
                      json_object_get(c->norm, "evidence"));
    if (edata && c->file_hash &&
        json_object_set_new(edata, "source",
                            json_pack("{s:s, s:I}", "file_sha256", c->file_hash, "line",
                                      (json_int_t)c->line)) != 0) {
        json_decref(edata);
        edata = NULL;
    }
    if (edata == NULL) {
        err_oom(err);
        goto out;
    }
    /* everything a draft can be refused for is checked above: from here on
     * a failure is the database's, not the draft's */
    c->wrote = true;
    if (c->direct ? reg_event_append_one_cached(db, c->actor, "record.draft", "record", c->id, hash,
                                                NULL, edata, now, c->frontier, &seq, err)
                  : reg_event_append_one(db, c->actor, "record.draft", "record", c->id, hash,
                                         NULL, edata, now, &seq, err))
        goto out;
    if (db_run(db,
               "INSERT INTO birth_records(id, office, status, version, created_at, updated_at,"
               " event_seq) VALUES (?1, ?2, 'draft', 1, ?3, ?3, ?4)",
               "storing the record", err, "sssI", c->id, c->actor->office, now,
               (long long)seq) != 0)
        goto out;
    if (insert_version(db, c->id, 1, data, hash, NULL, NULL, NULL, c->actor->username, now, seq,
                       err) != 0)
        goto out;
    if (c->file_hash && store_import_line(db, c, seq, err) != 0)
        goto out;
    /* the search index and duplicate candidates change with the record:
     * from the normalized record just stored, not read back and parsed,
     * its names folded once for both (or beforehand) */
    if (kp == &keys) {
        if (reg_search_keys(c->norm, &keys, err) != 0)
            goto out;
        folded = true;
    }
    if ((c->held ? reg_search_index_put_held(db, c->id, c->actor->office, "draft", c->norm, kp,
                                             c->held, &c->held_at, err)
                 : reg_search_index_put_keys(db, c->id, c->actor->office, "draft", c->norm, kp,
                                             true, NULL, NULL, err)) != 0 ||
        reg_dup_scan_keys(db, c->id, c->norm, kp, c->held, c->dup_found, &c->keyed, err) != 0)
        goto out;
    if (c->keep && folded) { /* prepared names stay the preparation's */
        *c->keep = keys;
        c->kept = true;
        folded = false;
    }
    rc = 0;
out:
    if (folded)
        reg_search_keys_release(&keys);
    json_decref(edata);
    buf_release(&own);
    return rc;
}

int registry_record_draft(struct db *db, const struct registry_actor *actor, const json_t *record,
                          char **id, struct err *err)
{
    struct draft_ctx c = { actor, NULL, NULL, NULL, 0, false, false, NULL, NULL };
    json_t *norm = NULL;
    int rc = -1;

    *id = NULL;
    if (registry_require_action(actor, "record.draft", err) != 0)
        return -1;
    if (registry_record_normalize(record, &norm, err) != 0)
        return -1;
    c.norm = norm;
    if (db_tx_run(db, draft_tx, &c, err) == 0) {
        *id = c.id;
        c.id = NULL;
        rc = 0;
        reg_after_commit(db, actor);
    }
    free(c.id);
    json_decref(norm);
    return rc;
}

struct batch_ctx {
    const struct registry_actor *actor;
    const struct registry_import_source *source; /* or NULL */
    struct reg_prep_line *prep; /* the drafts, normalized beside the batch */
    size_t n;
    char **ids;
    bool *already; /* with SOURCE */
    struct err *errs;
    size_t done;
    /* the drafts' event signatures made beside the batch (or NULL: inline) */
    struct reg_sign_line *signer;
};

int registry_record_import_lookup(struct db *db, const char *file_hash, long line, char **id,
                                  struct err *err)
{
    int r = db_query_text(db,
                          "SELECT record_id FROM record_import_lines WHERE file_hash = ?1"
                          " AND line = ?2",
                          "reading imported lines", id, err, "sI", file_hash, (long long)line);

    return r < 0 ? -1 : r == 0;
}

/* A step of a bulk transaction (no savepoint per step) failed with STEP_ERR.
 * Returns 0 when the step is refused alone (it failed on what is checked
 * before its first write, and the transaction is intact), -1 with ERR set
 * when the whole transaction must roll back: the step had written (only
 * the whole transaction undoes it), lost the write lock, or SQLite already
 * rolled the transaction back. */
static int bulk_step_failed(struct db *db, bool wrote, const struct err *step_err,
                            struct err *err)
{
    if (wrote || db_last_was_busy(db) || sqlite3_get_autocommit(db_handle(db)))
        return err_set(err, "%s", err_msg(step_err));
    return 0;
}

static int batch_run(struct db *db, struct batch_ctx *b, struct reg_frontier_cache *frontier,
                     struct err *err)
{
    b->done = 0;
    for (size_t i = 0; i < b->n; i++) {
        struct draft_ctx c = { b->actor, NULL, NULL, NULL, 0, true, false, frontier, NULL };
        free(b->ids[i]);
        b->ids[i] = NULL;
        if (b->source) {
            /* read inside the write transaction: two imports of one file
             * queue on the write lock and the second sees the first's lines */
            int r = registry_record_import_lookup(db, b->source->file_hash, b->source->lines[i],
                                                  &b->ids[i], err);
            b->already[i] = r == 0;
            if (r < 0)
                return -1;
            if (r == 0)
                continue;
            c.file_hash = b->source->file_hash;
            c.line = b->source->lines[i];
        }
        c.prep = reg_prep_line_get(b->prep, i);
        c.norm = c.prep->norm;
        if (c.norm == NULL)
            continue; /* refused by the normalization, ERRS[I] says why */
        /* No savepoint per record: SQLite's FTS5 writes its pending terms
         * out as a new index segment at every SAVEPOINT and RELEASE, and
         * one segment per record made every later duplicate query probe
         * them all. A draft is refused (and the others kept) for what
         * draft_tx checks before its first write; a failure after it is
         * the database's and rolls back the whole batch. */
        if (draft_tx(db, &c, &b->errs[i]) != 0) {
            free(c.id);
            if (bulk_step_failed(db, c.wrote, &b->errs[i], err) != 0)
                return -1;
            continue;
        }
        b->ids[i] = c.id;
        b->done++;
    }
    return 0;
}

static int batch_tx(struct db *db, void *arg, struct err *err)
{
    struct batch_ctx *b = arg;
    /* this attempt's own: a retried transaction reads the frontier again,
     * its line emptied of what a rolled-back attempt handed it */
    struct reg_frontier_cache frontier = REG_FRONTIER_CACHE_INIT;

    reg_sign_line_reset(b->signer);
    frontier.signer = b->signer;
    if (batch_run(db, b, &frontier, err) != 0)
        return -1;
    /* the drafts' signatures, leaf hashes and Merkle nodes; the batch's
     * one tree head is signed over them when it commits */
    return reg_sign_line_flush(db, &frontier, err);
}

static int draft_batch(struct db *db, const struct registry_actor *actor,
                       const struct registry_import_source *source, json_t *const *records,
                       size_t n, char **ids, bool *already, struct err *errs, struct err *err)
{
    struct reg_prep_line *line;
    struct batch_ctx b;
    int rc = -1;

    for (size_t i = 0; i < n; i++) {
        ids[i] = NULL;
        if (already)
            already[i] = false;
    }
    if (source) {
        if (source->file_hash == NULL || strlen(source->file_hash) != 64)
            return err_set(err, "record import: the source file hash must be 64 hex digits");
        for (size_t i = 0; i < n; i++)
            if (source->lines[i] < 1)
                return err_set(err, "record import: line numbers start at 1");
    }
    if (registry_require_action(actor, "record.import", err) != 0)
        return -1;
    /* batches back to back: the WAL copied back beside them, not inside
     * their commits (the connection keeps its checkpointer until closed),
     * and a batch's changed pages held in the cache until its commit */
    if (db_for_batches(db, err) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        err_clear(&errs[i]);
    /* normalized, in canonical form and folded on a second thread while
     * this one writes the drafts before them (and freed there after, the
     * normalized records in one go: nothing here keeps a reference to one
     * beyond its draft_tx) */
    line = reg_prep_line_start_pooled(records, n, errs);
    if (line == NULL)
        return err_oom(err);
    b.actor = actor;
    b.source = source;
    b.prep = line;
    b.n = n;
    b.ids = ids;
    b.already = already;
    b.errs = errs;
    b.done = 0;
    /* NULL when no thread starts: the appends sign inline */
    b.signer = reg_sign_line_start();
    if (db_tx_run(db, batch_tx, &b, err) == 0) {
        rc = (int)b.done;
        reg_after_commit(db, actor);
    } else {
        for (size_t i = 0; i < n; i++) {
            free(ids[i]);
            ids[i] = NULL;
            if (already)
                already[i] = false;
        }
    }
    reg_sign_line_end(b.signer);
    reg_prep_line_end(line);
    return rc;
}

int registry_record_draft_batch(struct db *db, const struct registry_actor *actor,
                                json_t *const *records, size_t n, char **ids, struct err *errs,
                                struct err *err)
{
    return draft_batch(db, actor, NULL, records, n, ids, NULL, errs, err);
}

int registry_record_import_batch(struct db *db, const struct registry_actor *actor,
                                 const struct registry_import_source *source,
                                 json_t *const *records, size_t n, char **ids, bool *already,
                                 struct err *errs, struct err *err)
{
    if (source == NULL || already == NULL)
        return err_set(err, "record import: no source given");
    if (n > REGISTRY_BATCH_MAX)
        return err_set(err, "record import: %zu drafts in one batch, at most %d", n,
                       REGISTRY_BATCH_MAX);
    return draft_batch(db, actor, source, records, n, ids, already, errs, err);
}

/* ---- verify ---- */

struct verify_ctx {
    const struct registry_actor *actor;
    const char *ref;
    const json_t *norm;
    json_t *mismatches;
    int rounds; /* disagreements on this version, this one included */
    bool direct; /* bulk: as draft_ctx */
    bool wrote;
    struct reg_frontier_cache *frontier; /* direct: the batch's, or NULL */
    const json_t *known; /* bulk: the draft's record (drafted_head), or NULL */
    /* with KNOWN: the user who keyed the draft, and the disagreements the
     * batch logged on its version (struct drafted), for the four-eyes
     * check and the count of rounds without reading them back */
    const char *keyer;
    int known_rounds;
    /* bulk: the index's status written at the end of the batch (steps_run) */
    bool index_later;
    /* bulk: the birth_records row left as it is (a later step of the batch
     * registers the record); out, the verification's time and event */
    bool row_later;
    char now[TIME_ISO8601_LEN + 1];
    uint64_t seq;
    /* bulk: NORM's canonical form prepared beforehand (reg_draft_prepare), or NULL */
    const struct reg_draft_prep *prep;
    /* bulk (or NULL): the head of a record the batch drafted, known
     * without reading it back (drafted_head), taken over by verify_tx */
    struct rec_head *head;
};

/* A disagreement is logged, naming the fields and never their values: the
 * second disagreement on a version sends the record back to its keyer. */
static int log_mismatch(struct db *db, struct verify_ctx *c, const struct rec_head *h,
                        struct err *err)
{
    json_t *edata = NULL, *names = json_array(), *m;
    size_t i;
    int rc = -1;

    json_array_foreach(c->mismatches, i, m) {
        json_object_del(m, "draft"); /* blind: the verifier never sees the first keying */
        if (names == NULL || json_array_append(names, json_object_get(m, "field")) != 0)
            goto oom;
    }
    edata = json_pack("{s:i, s:i, s:O, s:b}", "version", h->version, "round", c->rounds,
                      "fields", names, "sent_back", c->rounds >= 2);
    if (edata == NULL)
        goto oom;
    c->wrote = true;
    rc = c->direct ? reg_event_append_one_cached(db, c->actor, "record.mismatch", "record", h->id,
                                                 h->hash, NULL, edata, NULL, c->frontier, NULL,
                                                 err)
                   : reg_event_append_one(db, c->actor, "record.mismatch", "record", h->id,
                                          h->hash, NULL, edata, NULL, NULL, err);
    goto out;
oom:
    err_oom(err);
out:
    json_decref(names);
    json_decref(edata);
    return rc;
}

static int keyed_by(struct db *db, const char *id, const char *user, bool *out, struct err *err)
{
    long long one;
    /* Only a clean answer counts: a busy or failing read must not pass for
     * "not keyed by this clerk", or a database error would waive four eyes. */
    int r = db_query_int64(db,
                           "SELECT 1 FROM record_versions WHERE record_id=?1 AND keyed_by=?2 LIMIT 1",
                           "checking who keyed the record", &one, err, "ss", id, user);

    if (r < 0)
        return -1;
    *out = r == 1;
    return 0;
}

/* The record's row after its verification by BY at NOW (event SEQ). */
static int mark_verified(struct db *db, const char *id, const char *by, const char *now,
                         uint64_t seq, struct err *err)
{
    return db_run(db,
                  "UPDATE birth_records SET status='verified', verified_by=?2, updated_at=?3,"
                  " event_seq=?4 WHERE id=?1",
                  "marking the record verified", err, "sssI", id, by, now, (long long)seq);
}

static int verify_tx(struct db *db, void *arg, struct err *err)
{
    struct verify_ctx *c = arg;
    struct rec_head h;
    json_t *edata = NULL;
    struct buf rekeyed = BUF_INIT(RECORD_MAX);
    char rehash[65], now[TIME_ISO8601_LEN + 1];
    uint64_t seq;
    bool mine = false, drafted;
    int rc = -1;

    if (c->head != NULL) {
        h = *c->head;
        memset(c->head, 0, sizeof *c->head);
    } else if (rec_load(db, c->actor, c->ref, &h, err) != 0) {
        return -1;
    }
    if (strcmp(h.status, "draft") != 0) {
        err_setk(err, ERR_CONFLICT, "verification refused: record %s is already %s", h.id, h.status);
        goto out;
    }
    /* the batch's draft (its version read is the draft's) */
    drafted = c->known != NULL && h.data == c->known;
    if (drafted)
        mine = strcmp(c->keyer, c->actor->username) == 0;
    else if (keyed_by(db, h.id, c->actor->username, &mine, err) != 0)
        goto out;
    if (mine) {
        err_set(err,
                "verification refused: %s keyed record %s and may not verify it; a different "
                "clerk must re-key it (four-eyes rule)",
                c->actor->username, h.id);
        goto out;
    }
    if (drafted)
        c->rounds = c->known_rounds;
    else if (reg_mismatch_state(db, h.id, h.version, &c->rounds, NULL, err) != 0)
        goto out;
    if (c->rounds >= 2) {
        err_set(err,
                "verification refused: record %s was sent back to the clerk who keyed it after "
                "two disagreements; it is verified again once corrected",
                h.id);
        goto out;
    }
    json_decref(c->mismatches);
    c->mismatches = NULL;
    if (reg_record_compare(h.data, c->norm, &c->mismatches, err) != 0)
        goto out;
    if (json_array_size(c->mismatches) > 0) {
        c->rounds++;
        /* committed: the disagreement stays in the log */
        rc = log_mismatch(db, c, &h, err);
        goto out;
    }
    /* a re-keying equal to the version has its canonical bytes, so its hash */
    if (json_equal(h.data, c->norm)) {
        memcpy(rehash, h.hash, sizeof rehash);
    } else if (c->prep) {
        if (c->prep->canon_rc != 0) {
            *err = c->prep->canon_err;
            goto out;
        }
        memcpy(rehash, c->prep->hash, sizeof rehash);
    } else if (reg_record_canonical(c->norm, &rekeyed, rehash, err) != 0) {
        goto out;
    }
    if (reg_now(now, err) != 0)
        goto out;
    edata = json_pack("{s:i, s:s, s:s}", "version", h.version, "status", "verified",
                      "rekeyed_hash", rehash);
    if (edata == NULL) {
        err_oom(err);
        goto out;
    }
    /* everything a verification can be refused for is checked above */
    c->wrote = true;
    if (c->direct ? reg_event_append_one_cached(db, c->actor, "record.verify", "record", h.id,
                                                h.hash, NULL, edata, now, c->frontier, &seq, err)
                  : reg_event_append_one(db, c->actor, "record.verify", "record", h.id, h.hash,
                                         NULL, edata, now, &seq, err))
        goto out;
    if (c->row_later) {
        /* its row written once, by its registration or at the end */
        memcpy(c->now, now, sizeof c->now);
        c->seq = seq;
    } else if (mark_verified(db, h.id, c->actor->username, now, seq, err) != 0) {
        goto out;
    }
    /* verification changes no field: only the status in the index; the
     * duplicate scan of the draft stands, and registration scans again */
    if (!c->index_later && reg_search_index_status(db, h.id, "verified", err) != 0)
        goto out;
    rc = 0;
out:
    json_decref(edata);
    buf_release(&rekeyed);
    rec_head_release(&h);
    return rc;
}

/* After verify_tx succeeded: -1 with ERR naming the fields when the
 * re-keying disagreed (the disagreement is logged), else 0. */
static int verify_outcome(const struct verify_ctx *c, const char *id, struct err *err)
{
    struct buf names = BUF_INIT(1024);
    json_t *m;
    size_t i;
    int rc = 0;

    if (json_array_size(c->mismatches) > 0) {
        json_array_foreach(c->mismatches, i, m) {
            if (buf_printf(&names, "%s%s", i ? ", " : "",
                           json_string_value(json_object_get(m, "field"))) != 0)
                break;
        }
        if (c->rounds >= 2)
            err_set(err,
                    "verification: %zu field%s differ%s again from the draft of record %s: %s; "
                    "the record goes back to the clerk who keyed it",
                    json_array_size(c->mismatches), json_array_size(c->mismatches) == 1 ? "" : "s",
                    json_array_size(c->mismatches) == 1 ? "s" : "", id, buf_str(&names));
        else
            err_set(err,
                    "verification: %zu field%s differ%s from the draft of record %s: %s (re-key "
                    "them from the page; a second disagreement sends the record back to its "
                    "keyer)",
                    json_array_size(c->mismatches), json_array_size(c->mismatches) == 1 ? "" : "s",
                    json_array_size(c->mismatches) == 1 ? "s" : "", id, buf_str(&names));
        rc = -1;
    }
    buf_release(&names);
    return rc;
}

int registry_record_verify(struct db *db, const struct registry_actor *actor, const char *id,
                           const json_t *rekeyed, json_t **mismatches, struct err *err)
{
    struct verify_ctx c = { actor, id, NULL, NULL, 0, false, false, NULL };
    json_t *norm = NULL;
    int rc;

    if (mismatches)
        *mismatches = NULL;
    if (registry_require_action(actor, "record.verify", err) != 0)
        return -1;
    if (registry_record_normalize(rekeyed, &norm, err) != 0)
        return -1;
    c.norm = norm;
    rc = db_tx_run(db, verify_tx, &c, err);
    if (rc == 0)
        reg_after_commit(db, actor);
    if (rc == 0)
        rc = verify_outcome(&c, id, err);
    if (mismatches && c.mismatches && json_array_size(c.mismatches) > 0)
        *mismatches = json_incref(c.mismatches);
    json_decref(c.mismatches);
    json_decref(norm);
    return rc;
}

int registry_record_blind(struct db *db, const struct registry_actor *actor, const char *ref,
                          json_t **out, struct err *err)
{
    struct rec_head h;
    json_t *fields = NULL, *ev;
    bool mine = false;
    int rounds = 0, rc = -1;

    *out = NULL;
    if (registry_require_role(actor, ROLE_CLERK, "blind verification", err) != 0)
        return -1;
    if (rec_load(db, actor, ref, &h, err) != 0)
        return -1;
    if (keyed_by(db, h.id, actor->username, &mine, err) != 0 ||
        reg_mismatch_state(db, h.id, h.version, &rounds, &fields, err) != 0)
        goto out;
    ev = json_object_get(h.data, "evidence");
    rc = json_out(out,
                  json_pack("{s:s, s:s, s:i, s:o, s:b, s:i, s:o, s:b}", "id", h.id, "status",
                            h.status, "version", h.version, "evidence",
                            ev ? json_incref(ev) : json_array(), "keyed_by_me", mine, "rounds",
                            rounds, "fields", fields ? fields : json_array(), "sent_back",
                            rounds >= 2),
                  err);
    fields = NULL;
out:
    json_decref(fields);
    rec_head_release(&h);
    return rc;
}

/* ---- register ---- */

struct register_ctx {
    const struct registry_actor *actor;
    const char *ref;
    json_t *result;
    bool direct; /* bulk: as draft_ctx */
    bool wrote;
    /* bulk: the record's search index entry is rewritten at the end of the
     * batch (registry_record_steps) */
    bool index_later;
    struct reg_frontier_cache *frontier; /* direct: the batch's, or NULL */
    const json_t *known; /* bulk: as verify_ctx */
    /* bulk (or NULL): the verifier, when the batch's verification left the
     * row to this registration (verify_ctx's ROW_LATER) */
    const char *verified_by;
    /* bulk (or NULL): whether the office has national UIN blocks, kept for
     * the batch (reg_uin_allocate's POOLED) */
    int *uin_pooled;
    /* bulk (or NULL): the batch's registration numbers, its counters
     * written at its end (db_series_take) */
    struct db_series_cache *series;
    /* bulk: the record was drafted in the batch and no duplicate scan of
     * the batch found a candidate, so it is in no pair: its id was made in
     * the batch, and only a scan stores a pair (always open; resolving one
     * is no step of a batch); the duplicate gate has nothing to read */
    bool no_pairs;
};

/* Register the record whose head H was just read (rec_load, drafted_head). */
static int register_head(struct db *db, struct register_ctx *c, const struct rec_head *h,
                         struct err *err)
{
    char uin[REGISTRY_UIN_LEN + 1], regno[64], now[TIME_ISO8601_LEN + 1];
    char person_hash[65], link_hash[65];
    json_t *objects = NULL, *edata = NULL, *statement = NULL;
    long long n = 0;
    int y, m, d;
    uint64_t seq;
    int rc = -1;
    /* the link statement signed on the batch's signing line with the event */
    bool on_line = c->direct && c->frontier && c->frontier->signer;
    struct reg_line_link link = { BUF_INIT(64 * 1024), NULL, NULL, h->version };

    if (strcmp(h->status, "registered") == 0) {
        err_setk(err, ERR_CONFLICT, "registration refused: record %s is already registered as %s", h->id,
                h->regno ? h->regno : "?");
        goto out;
    }
    if (strcmp(h->status, "verified") != 0) {
        err_setk(err, ERR_CONFLICT,
                "registration refused: record %s is an unverified draft; a second clerk must "
                "verify it first (`civreg record verify`)",
                h->id);
        goto out;
    }
    if ((!c->no_pairs && registry_dup_gate(db, h->id, err) != 0) || reg_now(now, err) != 0)
        goto out;
    /* everything a registration can be refused for is checked above */
    c->wrote = true;
    date_today(&y, &m, &d);
    if ((c->series ? db_series_take(db, c->series, DB_SERIES_REGISTRATION, h->office, y, &n, err)
                   : db_series_next(db, DB_SERIES_REGISTRATION, h->office, y, &n, err)) != 0)
        goto out;
    (void)snprintf(regno, sizeof regno, "%s/%d/%06lld", h->office, y, n);
    if (reg_uin_allocate(db, c->uin_pooled, uin, err) != 0 || reg_person_hash(uin, h->id, person_hash, err) != 0)
        goto out;
    if (reg_link_sign(c->actor, uin, h->id, h->version, h->hash, json_object_get(h->data, "evidence"),
                      now, on_line ? &link.statement : NULL, &statement, link_hash, err) != 0)
        goto out;
    {
        char link_id[128];
        (void)snprintf(link_id, sizeof link_id, "%s:%s:%d", uin, h->id, h->version);
        objects = json_pack("[o, o, o]", registry_object_ref("record", h->id, h->hash, NULL),
                            registry_object_ref("person", uin, person_hash, NULL),
                            registry_object_ref("link", link_id, link_hash, NULL));
    }
    edata = json_pack("{s:i, s:s, s:s, s:s, s:O}", "version", h->version, "status", "registered",
                      "registration_number", regno, "uin", uin, "link", statement);
    if (objects == NULL || edata == NULL) {
        err_oom(err);
        goto out;
    }
    link.uin = uin;
    link.record_id = h->id;
    if (on_line ? reg_event_append_linked(db, c->actor, "record.register", objects, edata, now,
                                          c->frontier, &link, &seq, err)
        : c->direct ? reg_event_append_at_direct(db, c->actor, "record.register", objects, edata,
                                                 now, c->frontier, &seq, err)
                    : registry_event_append_at(db, c->actor, "record.register", objects, edata,
                                               now, &seq, err))
        goto out;
    /* on the line, the link's row is stored when its signature is made */
    if (reg_person_store(db, uin, h->id, c->actor->username, now, seq, err) != 0 ||
        (!on_line && reg_link_store(db, statement, seq, err) != 0))
        goto out;
    if (db_run(db,
               "UPDATE birth_records SET status='registered', registration_number=?2,"
               " registered_by=?3, registered_at=?4, uin=?5, updated_at=?4, event_seq=?6,"
               " verified_by=coalesce(?7, verified_by) WHERE id=?1",
               "marking the record registered", err, "sssssIs", h->id, regno, c->actor->username,
               now, uin, (long long)seq, c->verified_by) != 0)
        goto out;
    if (!c->index_later && reg_search_index_registered(db, h->id, regno, uin, err) != 0)
        goto out;
    json_decref(c->result);
    c->result = NULL;
    rc = json_out(&c->result,
                  json_pack("{s:s, s:s, s:s}", "id", h->id, "registration_number", regno, "uin", uin),
                  err);
out:
    json_decref(objects);
    json_decref(edata);
    json_decref(statement);
    buf_release(&link.statement);
    return rc;
}

static int register_tx(struct db *db, void *arg, struct err *err)
{
    struct register_ctx *c = arg;
    struct rec_head h;
    int rc;

    if (rec_load(db, c->actor, c->ref, &h, err) != 0)
        return -1;
    rc = register_head(db, c, &h, err);
    rec_head_release(&h);
    return rc;
}

static int rescan_tx(struct db *db, void *arg, struct err *err)
{
    struct register_ctx *c = arg;
    char *id = NULL;
    int rc, s;

    s = reg_record_resolve_as(db, c->actor, c->ref, &id, err);
    if (s != 0) /* not found: register_tx names it */
        return s < 0 ? -1 : 0;
    c->wrote = true;
    rc = registry_dup_scan(db, id, err);
    free(id);
    return rc;
}

int registry_record_register(struct db *db, const struct registry_actor *actor, const char *id,
                             json_t **result, struct err *err)
{
    struct register_ctx c = { actor, id, NULL, false, false, false, NULL };
    int rc;

    if (result)
        *result = NULL;
    if (registry_require_action(actor, "record.register", err) != 0)
        return -1;
    /* Look again for duplicates first, in a transaction of its own: a
     * record registered since this one was verified may resemble it, and
     * the candidates found must stay even though registration is refused. */
    if (db_tx_run(db, rescan_tx, &c, err) != 0)
        return -1;
    rc = db_tx_run(db, register_tx, &c, err);
    if (rc == 0) {
        reg_after_commit(db, actor);
        if (result)
            *result = json_incref(c.result);
    }
    json_decref(c.result);
    return rc;
}

/* ---- bulk steps ---- */

/* What a batch's draft step leaves for the steps that follow it. */
struct drafted {
    char hash[65]; /* the version's hash */
    struct search_keys keys; /* its folded names (made in the draft), when HAS_KEYS */
    bool has_keys;
    const struct search_keys *prep_keys; /* else its prepared folded names, or NULL */
    /* disagreements logged on the version by the batch's verification
     * steps: the record's only version and events are this batch's */
    int rounds;
    bool verified, registered; /* by a step of the batch */
    const char *regno; /* REGISTERED: its number (in the step's RESULT) */
    /* the last REGISTER step of the batch naming it (0: none) */
    size_t register_at;
    /* VERIFIED and its row not written yet (verify_ctx's ROW_LATER): by
     * whom, when, its event */
    bool row_later;
    const char *verified_by;
    char verified_at[TIME_ISO8601_LEN + 1];
    uint64_t verified_seq;
    size_t held_at; /* its search_fts row in the batch's held rows */
    /* its duplicate scan's candidates came from the name keys alone
     * (draft_ctx's KEYED) */
    bool keyed;
};

struct steps_ctx {
    struct registry_step *steps;
    json_t **norms; /* DRAFT, VERIFY: normalized RECORD, or NULL when refused */
    /* DRAFT, VERIFY: the record prepared on a second thread (PREP_AT[I]
     * into LINE), SIZE_MAX: not prepared (a REGISTER, or refused before) */
    size_t *prep_at;
    struct reg_prep_line *line;
    /* or NULL: the events signed on a thread of their own */
    struct reg_sign_line *signer;
    struct drafted *drafted; /* DRAFT done */
    size_t n;
    size_t done;
    /* this attempt's: the log's right edge */
    struct reg_frontier_cache frontier;
    /* this attempt's: the drafts' search_fts rows, written at the end */
    struct reg_fts_held held;
    /* this attempt's: the search_name_keys rows of each draft, by its
     * place in HELD (register_drafted) */
    struct reg_name_rows *name_rows;
    int *name_dates; /* and their dates (reg_name_rows_of) */
    /* this attempt's: duplicate candidates found by its scans (or assumed
     * found: a by-id registration's rescan), see register_ctx's NO_PAIRS */
    size_t dup_found;
    /* this attempt's: reg_uin_allocate's POOLED */
    int uin_pooled;
    /* this attempt's: the registration numbers taken (register_ctx's SERIES) */
    struct db_series_cache series;
};

static void step_reset(struct registry_step *s)
{
    free(s->new_id);
    s->new_id = NULL;
    json_decref(s->result);
    s->result = NULL;
    s->done = false;
}

/* The head of the record the batch drafted at step DRAFT, for ACTOR's
 * step, from what the batch's steps did to it instead of read back: no
 * other connection writes while the transaction holds the write lock, and
 * no step but the batch's own on it (they name it by the draft step; its
 * id is made in the batch) changes its row. Its only version is the
 * draft's (the draft's normalized record, its hash), in the draft actor's
 * office (reg_record_find's office check and message), its status that of
 * its last verification or registration done. */
static int drafted_head(const struct steps_ctx *b, size_t draft,
                        const struct registry_actor *actor, struct rec_head *h, struct err *err)
{
    const struct registry_step *s = &b->steps[draft];
    const struct drafted *d = &b->drafted[draft];

    memset(h, 0, sizeof *h);
    h->id = strdup(s->new_id);
    h->office = strdup(s->actor->office);
    h->regno = d->registered && d->regno ? strdup(d->regno) : NULL;
    if (h->id == NULL || h->office == NULL || (d->registered && d->regno && h->regno == NULL)) {
        rec_head_release(h);
        return err_oom(err);
    }
    if (reg_record_office_check(actor, h->id, h->office, err) != 0) {
        rec_head_release(h);
        return -1;
    }
    (void)snprintf(h->status, sizeof h->status, "%s",
                   d->registered ? "registered" : d->verified ? "verified" : "draft");
    h->version = 1;
    memcpy(h->hash, d->hash, sizeof h->hash);
    h->data = json_incref(b->norms[draft]);
    return 0;
}

/* The registration step of a record the batch drafted (step DRAFT): the
 * head known from the batch (drafted_head), then the
 * duplicate scan of rescan_tx, on the version just read with the draft's
 * folded names when it is the draft's record, then register_head. A
 * failure in the scan is the database's (C->WROTE). */
static int register_drafted(struct db *db, struct steps_ctx *b, size_t draft,
                            struct register_ctx *c, struct err *err)
{
    const struct drafted *d = &b->drafted[draft];
    const struct search_keys *keys;
    struct rec_head h;
    bool again = true;
    int rc = 0;

    if (drafted_head(b, draft, c->actor, &h, err) != 0)
        return -1;
    keys = h.data != c->known ? NULL : d->has_keys ? &d->keys : d->prep_keys;
    /* The scan again only when it may find something its draft's scan did
     * not: that scan read the same index but for the drafts since (the
     * batch's steps change no other index row before its end, and no
     * other connection writes), so when it came from the name keys alone
     * and none of the later drafts' name keys would enter the look-up,
     * it would find the same candidates and store the same pairs
     * (reg_dup_rescan_needed). */
    if (d->keyed && keys != NULL && d->held_at < b->held.n) {
        struct err ignored = ERR_INIT; /* then scanned again, which says it */
        if (reg_dup_rescan_needed(h.data, keys, b->name_dates + d->held_at + 1,
                                  b->name_rows + d->held_at + 1,
                                  b->held.n - d->held_at - 1, &again, &ignored) != 0)
            again = true;
    }
    c->wrote = true;
    if (again)
        rc = reg_dup_scan_keys(db, h.id, h.data, keys, &b->held, &b->dup_found, NULL, err);
    if (rc == 0) {
        c->wrote = false;
        c->no_pairs = b->dup_found == 0;
        rc = register_head(db, c, &h, err);
    }
    rec_head_release(&h);
    return rc;
}

/* Run step I inside the batch's transaction. Returns 0 (done or refused
 * alone, see bulk_step_failed) or -1 (the batch rolls back). */
static int step_run(struct db *db, struct steps_ctx *b, size_t i, struct err *err)
{
    struct registry_step *s = &b->steps[i];
    const char *id = s->id;
    const json_t *known = NULL;
    const struct reg_draft_prep *prep = NULL;
    int rc;

    step_reset(s);
    if (b->prep_at[i] != SIZE_MAX) {
        /* prepared on the second thread (waits for it) */
        prep = reg_prep_line_get(b->line, b->prep_at[i]);
        if (prep->norm == NULL) {
            /* refused by the normalization, as before the transaction */
            s->err = b->line->errs[b->prep_at[i]];
            return 0;
        }
        if (b->norms[i] == NULL)
            b->norms[i] = json_incref(prep->norm);
    }
    if (b->norms[i] == NULL)
        return 0; /* refused before the transaction, S->ERR says why */
    err_clear(&s->err);
    if (s->kind != REGISTRY_STEP_DRAFT && id == NULL) {
        if (s->draft >= i || b->steps[s->draft].kind != REGISTRY_STEP_DRAFT)
            return err_set(err, "bulk step %zu: step %zu is not an earlier draft", i, s->draft);
        id = b->steps[s->draft].new_id;
        if (id == NULL) {
            err_set(&s->err, "step %zu: its draft (step %zu) was refused", i, s->draft);
            return 0;
        }
        known = b->norms[s->draft];
    }
    switch (s->kind) {
    case REGISTRY_STEP_DRAFT: {
        struct draft_ctx c = { s->actor, b->norms[i], NULL, NULL, 0, true, false, &b->frontier,
                               prep };
        struct drafted *d = &b->drafted[i];
        if (d->has_keys) /* an earlier attempt's */
            reg_search_keys_release(&d->keys);
        d->has_keys = false;
        d->prep_keys = prep && prep->folded ? &prep->keys : NULL;
        d->rounds = 0;
        d->verified = d->registered = d->row_later = d->keyed = false;
        d->regno = NULL;
        c.keep = &d->keys;
        c.held = &b->held;
        /* the place its held row takes: its name keys not known until
         * the draft is stored */
        if (b->held.n < b->n)
            b->name_dates[b->held.n] = INT_MAX;
        c.dup_found = &b->dup_found;
        if (draft_tx(db, &c, &s->err) != 0) {
            free(c.id);
            return bulk_step_failed(db, c.wrote, &s->err, err);
        }
        d->has_keys = c.kept;
        d->held_at = c.held_at;
        d->keyed = c.keyed;
        if (d->held_at < b->held.n)
            b->name_dates[d->held_at] = reg_name_rows_of(
                reg_fts_held_names_ph(&b->held, d->held_at),
                             json_string_value(json_object_get(
                                 json_object_get(b->norms[i], "birth"), "date")),
                             &b->name_rows[d->held_at]);
        s->new_id = c.id;
        memcpy(d->hash, c.hash, sizeof d->hash);
        break;
    }
    case REGISTRY_STEP_VERIFY: {
        struct verify_ctx c = { s->actor, id,    b->norms[i],  NULL,  0,
                                true,     false, &b->frontier, known };
        struct rec_head head;
        c.prep = prep;
        if (known) {
            c.keyer = b->steps[s->draft].actor->username;
            c.known_rounds = b->drafted[s->draft].rounds;
            c.index_later = true;
            if (drafted_head(b, s->draft, s->actor, &head, &s->err) != 0)
                return bulk_step_failed(db, false, &s->err, err);
            c.head = &head;
            c.row_later = b->drafted[s->draft].register_at > i;
        }
        rc = verify_tx(db, &c, &s->err);
        if (rc == 0 && known && json_array_size(c.mismatches) > 0)
            b->drafted[s->draft].rounds = c.rounds;
        if (rc == 0 && json_array_size(c.mismatches) > 0)
            s->result = json_incref(c.mismatches);
        json_decref(c.mismatches);
        if (rc != 0)
            return bulk_step_failed(db, c.wrote, &s->err, err);
        if (verify_outcome(&c, id, &s->err) != 0)
            return 0; /* the disagreement is logged, the step refused */
        if (known) {
            struct drafted *d = &b->drafted[s->draft];
            d->verified = true;
            d->row_later = c.row_later;
            d->verified_by = s->actor->username;
            memcpy(d->verified_at, c.now, sizeof d->verified_at);
            d->verified_seq = c.seq;
        }
        break;
    }
    case REGISTRY_STEP_REGISTER: {
        struct register_ctx c = { s->actor, id,           NULL,  true,      false,
                                  true,     &b->frontier, known };
        c.uin_pooled = &b->uin_pooled;
        c.series = &b->series;
        if (known && b->drafted[s->draft].row_later)
            c.verified_by = b->drafted[s->draft].verified_by;
        if (known == NULL) {
            /* the duplicate scan first, as registry_record_register does
             * in a transaction of its own: its candidates stay when
             * registration is refused; a failure in it is the database's.
             * It may query search_fts: the rows held so far first. */
            if (reg_search_fts_held_flush(db, &b->held, err) != 0)
                return -1;
            if (rescan_tx(db, &c, &s->err) != 0)
                return bulk_step_failed(db, c.wrote, &s->err, err);
            /* its pairs are not counted: may name a record the batch
             * drafted, whose registration then reads the gate */
            b->dup_found++;
            c.wrote = false;
            rc = register_tx(db, &c, &s->err);
        } else {
            rc = register_drafted(db, b, s->draft, &c, &s->err);
        }
        if (rc != 0) {
            json_decref(c.result);
            return bulk_step_failed(db, c.wrote, &s->err, err);
        }
        s->result = c.result;
        if (known) {
            b->drafted[s->draft].registered = true;
            b->drafted[s->draft].row_later = false;
            b->drafted[s->draft].regno =
                json_string_value(json_object_get(s->result, "registration_number"));
        }
        break;
    }
    default:
        return err_set(err, "bulk step %zu: unknown kind %d", i, (int)s->kind);
    }
    s->done = true;
    b->done++;
    return 0;
}

static int steps_run(struct db *db, struct steps_ctx *b, struct err *err)
{
    for (size_t i = 0; i < b->n; i++)
        if (step_run(db, b, i, err) != 0)
            return -1;
    /* The registered records' search index entries (status, numbers), each
     * rewritten after all steps: SQLite 3.40's FTS5 writes its pending terms
     * out as a new index segment at every statement savepoint of the
     * transaction (sqlite3VtabSavepoint, under the registration's and
     * verification's UPDATEs), so a rewrite inside each registration made
     * about one segment per record, which every later duplicate query
     * probed. No check of the batch reads what changes (the duplicate scans
     * query names, dates and places, never status or numbers). The status
     * of a record the batch drafted and verified, once, at the end too: as
     * registered when the batch registered it, else as verified. */
    for (size_t i = 0; i < b->n; i++) {
        const struct registry_step *s = &b->steps[i];
        const json_t *r = s->result;
        const char *regno = json_string_value(json_object_get(r, "registration_number"));
        const char *uin = json_string_value(json_object_get(r, "uin"));
        int held = 1;
        /* a record the batch drafted: its search_fts row is still held
         * (unless a scan wrote it), and is written once below with these
         * numbers */
        if (s->kind == REGISTRY_STEP_REGISTER && s->done && s->id == NULL &&
            (held = reg_search_fts_held_registered(db, &b->held, b->drafted[s->draft].held_at,
                                                   regno, uin, err)) < 0)
            return -1;
        if (s->kind == REGISTRY_STEP_REGISTER && s->done && held == 1 &&
            reg_search_index_registered(db, json_string_value(json_object_get(r, "id")), regno,
                                        uin, err) != 0)
            return -1;
        if (s->kind == REGISTRY_STEP_DRAFT && s->done && b->drafted[i].verified &&
            !b->drafted[i].registered &&
            reg_search_index_status(db, s->new_id, "verified", err) != 0)
            return -1;
        /* verified, its registration refused: the row as its verification
         * would have left it */
        if (s->kind == REGISTRY_STEP_DRAFT && s->done && b->drafted[i].row_later &&
            mark_verified(db, s->new_id, b->drafted[i].verified_by, b->drafted[i].verified_at,
                          b->drafted[i].verified_seq, err) != 0)
            return -1;
    }
    /* the drafts' search_fts rows, in their order, at their final state;
     * the registration counters the batch advanced */
    if (reg_search_fts_held_flush(db, &b->held, err) != 0 ||
        db_series_cache_write(db, &b->series, err) != 0)
        return -1;
    /* the events' signatures, leaf hashes and Merkle nodes; the batch's
     * one tree head is signed over them when it commits */
    return reg_sign_line_flush(db, &b->frontier, err);
}

static int steps_tx(struct db *db, void *arg, struct err *err)
{
    struct steps_ctx *b = arg;

    /* this attempt's own: a retried transaction reads the frontier again */
    b->frontier = (struct reg_frontier_cache)REG_FRONTIER_CACHE_INIT;
    reg_sign_line_reset(b->signer);
    b->frontier.signer = b->signer;
    reg_fts_held_reset(&b->held);
    b->dup_found = 0;
    b->uin_pooled = REG_UIN_POOL_UNKNOWN;
    b->series = (struct db_series_cache)DB_SERIES_CACHE_INIT;
    b->done = 0;
    return steps_run(db, b, err);
}

static const char *const step_actions[] = {
    [REGISTRY_STEP_DRAFT] = "record.draft",
    [REGISTRY_STEP_VERIFY] = "record.verify",
    [REGISTRY_STEP_REGISTER] = "record.register",
};

/* Whether verification step I re-keys its batch draft's record exactly as
 * the draft keyed it (equal JSON), the draft's record being prepared
 * (PREP_AT). */
static bool same_as_draft(const struct registry_step *steps, size_t i, const size_t *prep_at)
{
    const struct registry_step *s = &steps[i];
    return s->id == NULL && s->draft < i && steps[s->draft].kind == REGISTRY_STEP_DRAFT &&
           prep_at[s->draft] != SIZE_MAX && json_equal(s->record, steps[s->draft].record);
}

void registry_steps_release(struct registry_step *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(steps[i].new_id);
        json_decref(steps[i].result);
        steps[i].new_id = NULL;
        steps[i].result = NULL;
    }
}

int registry_record_steps(struct db *db, struct registry_step *steps, size_t n, struct err *err)
{
    struct steps_ctx b = { .steps = steps, .n = n, .frontier = REG_FRONTIER_CACHE_INIT,
                           .held = REG_FTS_HELD_INIT };
    const struct registry_actor *last = NULL;
    struct reg_prep_line *line = NULL;
    struct err *prep_errs = NULL;
    json_t **records = NULL; /* the records prepared, in the order of their steps */
    size_t np = 0;
    int rc = -1;

    if (n > REGISTRY_BATCH_MAX)
        return err_set(err, "bulk steps: %zu in one transaction, at most %d", n,
                       REGISTRY_BATCH_MAX);
    /* batches back to back, as the import's: the WAL copied back beside
     * them, not inside their commits on this thread; and the batch's
     * changed pages held in the cache until its commit, not spilled into
     * the WAL and read back (1,500 steps change about 4 MB of pages) */
    if (db_for_batches(db, err) != 0)
        return -1;
    b.norms = calloc(n ? n : 1, sizeof *b.norms);
    b.drafted = calloc(n ? n : 1, sizeof *b.drafted);
    b.prep_at = calloc(n ? n : 1, sizeof *b.prep_at);
    b.name_rows = calloc(n ? n : 1, sizeof *b.name_rows);
    b.name_dates = calloc(n ? n : 1, sizeof *b.name_dates);
    prep_errs = calloc(n ? n : 1, sizeof *prep_errs);
    records = calloc(n ? n : 1, sizeof *records);
    if (b.norms == NULL || b.drafted == NULL || b.prep_at == NULL || b.name_rows == NULL ||
        b.name_dates == NULL || prep_errs == NULL || records == NULL) {
        free(b.norms);
        free(b.drafted);
        free(b.prep_at);
        free(b.name_rows);
        free(b.name_dates);
        free(prep_errs);
        free(records);
        return err_oom(err);
    }
    for (size_t i = 0; i < n; i++) {
        struct registry_step *s = &steps[i];
        s->new_id = NULL;
        s->result = NULL;
        s->done = false;
        err_clear(&s->err);
        b.prep_at[i] = SIZE_MAX;
        if ((unsigned)s->kind > REGISTRY_STEP_REGISTER) {
            err_set(err, "bulk step %zu: unknown kind %d", i, (int)s->kind);
            goto out;
        }
        /* refused before the transaction, as the step-by-step calls refuse */
        if (registry_require_action(s->actor, step_actions[s->kind], &s->err) != 0)
            continue;
        if (s->kind == REGISTRY_STEP_REGISTER) {
            b.norms[i] = json_null(); /* allowed to run */
            if (s->id == NULL && s->draft < i && steps[s->draft].kind == REGISTRY_STEP_DRAFT)
                b.drafted[s->draft].register_at = i;
        } else if (s->kind == REGISTRY_STEP_VERIFY && same_as_draft(steps, i, b.prep_at)) {
            /* the same input normalizes to the same record (or is
             * refused with the same error) */
            b.prep_at[i] = b.prep_at[s->draft];
        } else {
            /* normalized, in canonical form and folded on a second thread
             * while the transaction runs the steps before it */
            b.prep_at[i] = np;
            records[np++] = (json_t *)s->record;
        }
    }
    /* the line owns the prepared drafts and frees them on its thread
     * after reg_prep_line_end */
    if ((line = reg_prep_line_start(records, np, prep_errs)) == NULL) {
        err_oom(err);
        goto out;
    }
    b.line = line;
    /* NULL when no thread starts: the appends sign inline */
    b.signer = reg_sign_line_start();
    if (db_tx_run(db, steps_tx, &b, err) == 0) {
        rc = (int)b.done;
        /* the last step allowed to run (not refused before it ran) */
        for (size_t i = 0; i < n; i++)
            if (b.norms[i] != NULL)
                last = steps[i].actor;
        reg_after_commit(db, last);
    } else {
        for (size_t i = 0; i < n; i++)
            step_reset(&steps[i]);
    }
out:
    reg_sign_line_end(b.signer);
    if (line)
        reg_prep_line_end(line);
    for (size_t i = 0; i < n; i++) {
        json_decref(b.norms[i]);
        if (b.drafted[i].has_keys)
            reg_search_keys_release(&b.drafted[i].keys);
    }
    reg_fts_held_release(&b.held);
    free(b.norms);
    free(b.drafted);
    free(b.prep_at);
    free(b.name_rows);
    free(b.name_dates);
    free(prep_errs);
    free(records);
    return rc;
}

/* ---- correct ---- */

struct correct_ctx {
    const struct registry_actor *actor;
    const char *ref;
    const json_t *norm;
    const char *reason;
    const json_t *evidence;
    int version;
};

static int correct_tx(struct db *db, void *arg, struct err *err)
{
    struct correct_ctx *c = arg;
    struct rec_head h;
    struct buf data = BUF_INIT(RECORD_MAX), ev = BUF_INIT(8192);
    char hash[65], now[TIME_ISO8601_LEN + 1], link_hash[65];
    json_t *objects = NULL, *edata = NULL, *statement = NULL;
    const char *status_after;
    bool registered;
    uint64_t seq;
    int rc = -1;

    if (rec_load(db, c->actor, c->ref, &h, err) != 0)
        return -1;
    registered = strcmp(h.status, "registered") == 0;
    if (registered && !(c->actor->roles & ROLE_REGISTRAR)) {
        err_setk(err, ERR_FORBIDDEN, "correction refused: record %s is registered; only a registrar may correct it",
                h.id);
        goto out;
    }
    if (check_evidence_list(db, json_object_get(c->norm, "evidence"), err) != 0 ||
        check_evidence_list(db, c->evidence, err) != 0)
        goto out;
    if (reg_record_canonical(c->norm, &data, hash, err) != 0 || reg_now(now, err) != 0 ||
        json_canonical(c->evidence, &ev, err) != 0)
        goto out;
    if (strcmp(hash, h.hash) == 0) {
        err_set(err, "correction refused: it changes nothing in record %s version %d", h.id,
                h.version);
        goto out;
    }
    status_after = registered ? "registered" : "draft";
    c->version = h.version + 1;
    objects = json_pack("[o]", registry_object_ref("record", h.id, hash, h.hash));
    edata = json_pack("{s:i, s:s, s:s, s:O, s:O}", "version", c->version, "status", status_after,
                      "reason", c->reason, "reason_evidence", c->evidence, "evidence",
                      json_object_get(c->norm, "evidence"));
    if (objects == NULL || edata == NULL) {
        err_oom(err);
        goto out;
    }
    if (registered) {
        char link_id[128];
        if (reg_link_sign(c->actor, h.uin, h.id, c->version, hash,
                          json_object_get(c->norm, "evidence"), now, NULL, &statement, link_hash,
                          err) != 0)
            goto out;
        (void)snprintf(link_id, sizeof link_id, "%s:%s:%d", h.uin, h.id, c->version);
        if (json_array_append_new(objects, registry_object_ref("link", link_id, link_hash,
                                                               NULL)) != 0 ||
            json_object_set(edata, "link", statement) != 0) {
            err_oom(err);
            goto out;
        }
    }
    if (registry_event_append_at(db, c->actor, "record.correct", objects, edata, now, &seq, err) != 0)
        goto out;
    if (insert_version(db, h.id, c->version, &data, hash, h.hash, c->reason, buf_str(&ev),
                       c->actor->username, now, seq, err) != 0)
        goto out;
    if (db_run(db,
               "UPDATE birth_records SET version=?2, status=?3, verified_by=CASE WHEN ?3="
               "'draft' THEN NULL ELSE verified_by END, updated_at=?4, event_seq=?5"
               " WHERE id=?1",
               "updating the record", err, "sIssI", h.id, (long long)c->version, status_after, now,
               (long long)seq) != 0)
        goto out;
    if (registered && reg_link_store(db, statement, seq, err) != 0)
        goto out;
    if (registry_search_index_record(db, h.id, err) != 0 || registry_dup_scan(db, h.id, err) != 0)
        goto out;
    rc = 0;
out:
    json_decref(objects);
    json_decref(edata);
    json_decref(statement);
    buf_release(&data);
    buf_release(&ev);
    rec_head_release(&h);
    return rc;
}

int registry_record_correct(struct db *db, const struct registry_actor *actor, const char *id,
                            const json_t *record, const char *reason, const json_t *evidence,
                            int *version, struct err *err)
{
    struct correct_ctx c = { actor, id, NULL, NULL, NULL, 0 };
    json_t *norm = NULL, *ev = NULL, *reason_j = NULL, *reason_n = NULL;
    int rc = -1;

    if (registry_require_action(actor, "record.correct", err) != 0)
        return -1;
    if (reason == NULL || *reason == '\0')
        return err_set(err, "correction: a reason is required");
    reason_j = json_string(reason);
    if (reason_j == NULL)
        return err_set(err, "correction: reason is not valid UTF-8");
    {
        char *n = NULL;
        size_t nlen = 0;
        if (utf8_normalize(reason, strlen(reason), UTF8_NFC, &n, &nlen, err) != 0) {
            err_prefix(err, "correction reason");
            goto out;
        }
        if (nlen > 1000) {
            free(n);
            err_set(err, "correction reason: longer than 1000 bytes");
            goto out;
        }
        reason_n = json_stringn(n, nlen);
        free(n);
    }
    if (evidence == NULL) {
        ev = json_array();
    } else if (!json_is_array(evidence)) {
        err_set(err, "correction evidence: must be a list of blob hashes");
        goto out;
    } else {
        size_t i;
        json_t *h;
        json_array_foreach(evidence, i, h) if (!reg_is_hash(json_string_value(h))) {
            err_set(err, "correction evidence[%zu]: must be a SHA-256 hash", i);
            goto out;
        }
        ev = json_deep_copy(evidence);
    }
    if (ev == NULL || reason_n == NULL) {
        err_oom(err);
        goto out;
    }
    if (registry_record_normalize(record, &norm, err) != 0)
        goto out;
    c.norm = norm;
    c.reason = json_string_value(reason_n);
    c.evidence = ev;
    if (db_tx_run(db, correct_tx, &c, err) != 0)
        goto out;
    reg_after_commit(db, actor);
    if (version)
        *version = c.version;
    rc = 0;
out:
    json_decref(norm);
    json_decref(ev);
    json_decref(reason_j);
    json_decref(reason_n);
    return rc;
}

/* ---- reading ---- */

static json_t *version_json(sqlite3_stmt *st, struct err *err)
{
    /* columns: version, data, hash, prev_hash, reason, reason_evidence,
     * keyed_by, keyed_at, event_seq */
    json_t *data = NULL, *rev = NULL, *v;

    if (db_column_parse(st, 1, &data, err) != 0)
        return NULL;
    if (sqlite3_column_type(st, 5) != SQLITE_NULL &&
        db_column_parse(st, 5, &rev, err) != 0) {
        json_decref(data);
        return NULL;
    }
    v = json_pack("{s:i, s:o, s:s, s:s?, s:s?, s:o?, s:s, s:s, s:I}", "version",
                  sqlite3_column_int(st, 0), "record", data, "hash", sqlite3_column_text(st, 2),
                  "prev_hash", sqlite3_column_text(st, 3), "reason", sqlite3_column_text(st, 4),
                  "reason_evidence", rev, "keyed_by", sqlite3_column_text(st, 6), "keyed_at",
                  sqlite3_column_text(st, 7), "event", (json_int_t)sqlite3_column_int64(st, 8));
    if (v == NULL)
        err_oom(err);
    return v;
}

static int version_row(sqlite3_stmt *st, void *ctx, json_t **row, struct err *err)
{
    (void)ctx;
    return (*row = version_json(st, err)) != NULL ? 0 : -1;
}

#define VERSION_COLS                                                                               \
    "version, data, hash, prev_hash, reason, reason_evidence, keyed_by, keyed_at, event_seq"

static int head_json(struct db *db, const char *id, json_t **out, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int r, rc = -1;

    *out = NULL;
    r = db_query_row(db, &st,
                     "SELECT id, office, status, version, verified_by, registration_number,"
                     " registered_by, registered_at, uin, created_at, updated_at"
                     " FROM birth_records WHERE id=?1",
                     "reading the record", err, "s", id);
    if (r == 1) {
        *out = json_pack("{s:s, s:s, s:s, s:i, s:s?, s:s?, s:s?, s:s?, s:s?, s:s, s:s}", "id",
                         sqlite3_column_text(st, 0), "office", sqlite3_column_text(st, 1),
                         "status", sqlite3_column_text(st, 2), "versions",
                         sqlite3_column_int(st, 3), "verified_by", sqlite3_column_text(st, 4),
                         "registration_number", sqlite3_column_text(st, 5), "registered_by",
                         sqlite3_column_text(st, 6), "registered_at", sqlite3_column_text(st, 7),
                         "uin", sqlite3_column_text(st, 8), "created_at",
                         sqlite3_column_text(st, 9), "updated_at", sqlite3_column_text(st, 10));
        rc = *out ? 0 : err_oom(err);
        /* a registered person's death shows wherever the record does */
        if (rc == 0 && reg_death_annotate(db, json_string_value(json_object_get(*out, "uin")),
                                          *out, err) != 0) {
            json_decref(*out);
            *out = NULL;
            rc = -1;
        }
    } else if (r == 0) {
        err_setk(err, ERR_NOT_FOUND, "no record '%s'", id);
    }
    reg_release(db, st);
    return rc;
}

int registry_record_show(struct db *db, const struct registry_actor *actor, const char *ref,
                         int version, json_t **out, struct err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *head = NULL, *v = NULL;
    char *id = NULL;
    int rc = -1;

    *out = NULL;
    if (record_readable(db, actor, ref, &id, err) != 0)
        return -1;
    if (head_json(db, id, &head, err) != 0)
        goto out;
    if (version <= 0)
        version = (int)json_integer_value(json_object_get(head, "versions"));
    if (reg_prepare_cached(db, &st,
                    "SELECT " VERSION_COLS " FROM record_versions WHERE record_id=?1 AND version=?2",
                    err) != 0)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, version);
    if (sqlite3_step(st) != SQLITE_ROW) {
        err_set(err, "record %s has no version %d", id, version);
        goto out;
    }
    if ((v = version_json(st, err)) == NULL)
        goto out;
    if (json_object_update(head, v) != 0) {
        err_oom(err);
        goto out;
    }
    *out = head;
    head = NULL;
    rc = 0;
out:
    json_decref(head);
    json_decref(v);
    reg_release(db, st);
    free(id);
    return rc;
}

static int object_event_row(sqlite3_stmt *st, void *ctx, json_t **row, struct err *err)
{
    json_t *body = NULL;

    (void)ctx;
    if (db_column_parse(st, 4, &body, err) != 0)
        return -1;
    *row = json_pack("{s:I, s:s, s:s, s:s, s:O}", "seq", (json_int_t)sqlite3_column_int64(st, 0),
                     "type", sqlite3_column_text(st, 1), "actor", sqlite3_column_text(st, 2),
                     "time", sqlite3_column_text(st, 3), "data", json_object_get(body, "data"));
    json_decref(body);
    return 0;
}

int reg_object_events(struct db *db, const char *kind, const char *id, json_t *out,
                      struct err *err)
{
    return db_query_rows(db,
                         "SELECT e.seq, e.type, e.actor, e.created_at, e.body FROM event_objects o"
                         " JOIN events e ON e.seq = o.seq WHERE o.kind=?1 AND o.object_id=?2"
                         " ORDER BY e.seq",
                         "reading events", object_event_row, NULL, &out, err, "ss", kind, id);
}

int registry_record_history(struct db *db, const struct registry_actor *actor, const char *ref,
                            json_t **out, struct err *err)
{
    char *id = NULL;
    int rc;

    *out = NULL;
    if (record_readable(db, actor, ref, &id, err) != 0)
        return -1;
    rc = reg_record_history(db, id, out, err);
    free(id);
    return rc;
}

int reg_record_history(struct db *db, const char *id, json_t **out, struct err *err)
{
    json_t *head = NULL, *versions = NULL, *events = NULL;
    int rc = -1;

    *out = NULL;
    if (head_json(db, id, &head, err) != 0)
        goto out;
    if ((versions = json_array()) == NULL || (events = json_array()) == NULL) {
        err_oom(err);
        goto out;
    }
    if (db_query_rows(db,
                      "SELECT " VERSION_COLS " FROM record_versions WHERE record_id=?1"
                      " ORDER BY version",
                      "reading versions", version_row, NULL, &versions, err, "s", id) != 0)
        goto out;
    if (reg_object_events(db, "record", id, events, err) != 0)
        goto out;
    if (json_object_set(head, "versions_list", versions) != 0 ||
        json_object_set(head, "events", events) != 0) {
        err_oom(err);
        goto out;
    }
    *out = head;
    head = NULL;
    rc = 0;
out:
    json_decref(head);
    json_decref(versions);
    json_decref(events);
    return rc;
}

static int record_list_row(sqlite3_stmt *st, void *ctx, json_t **row, struct err *err)
{
    json_t *data = NULL, *child;

    (void)ctx;
    if (db_column_parse(st, 6, &data, err) != 0)
        return -1;
    child = json_object_get(data, "child");
    *row = json_pack("{s:s, s:s, s:i, s:s?, s:s?, s:s?, s:s?, s:s?, s:s}", "id",
                     sqlite3_column_text(st, 0), "status", sqlite3_column_text(st, 1), "version",
                     sqlite3_column_int(st, 2), "registration_number", sqlite3_column_text(st, 3),
                     "uin", sqlite3_column_text(st, 4), "given_names",
                     json_string_value(json_object_get(child, "given_names")), "family_name",
                     json_string_value(json_object_get(child, "family_name")), "date_of_birth",
                     json_string_value(json_object_get(json_object_get(data, "birth"), "date")),
                     "updated_at", sqlite3_column_text(st, 5));
    json_decref(data);
    return 0;
}

int registry_record_list(struct db *db, const struct registry_actor *actor,
                         const struct registry_record_filter *f, json_t **out, struct err *err)
{
    int limit = f && f->limit > 0 ? f->limit : 100, offset = f && f->offset > 0 ? f->offset : 0;

    *out = NULL;
    if (registry_require_action(actor, "record.read", err) != 0)
        return -1;
    if (f && f->status && strcmp(f->status, "draft") != 0 && strcmp(f->status, "verified") != 0 &&
        strcmp(f->status, "registered") != 0)
        return err_set(err, "status: must be draft, verified or registered");
    if (limit > 10000)
        limit = 10000;
    /* Only the user's own office's records are listed. */
    if (f && f->office && strcmp(f->office, actor->office) != 0)
        return err_setk(err, ERR_FORBIDDEN, "%s (office %s) may not list records of office %s: users act only "
                            "on their own office's records",
                       actor->username, actor->office, f->office);
    for (int i = 0; f && i < 2; i++) {
        const char *d = i ? f->born_to : f->born_from;
        int y, m, dd;
        if (d != NULL && date_parse(d, &y, &m, &dd, err) != 0)
            return err_prefix(err, "%s", i ? "born_to" : "born_from");
    }
    return db_query_rows(
        db,
        "SELECT b.id, b.status, b.version, b.registration_number, b.uin, b.updated_at,"
        " v.data FROM birth_records b JOIN record_versions v"
        " ON v.record_id = b.id AND v.version = b.version"
        " WHERE (?1 IS NULL OR b.status = ?1) AND (?2 IS NULL OR b.office = ?2)"
        " AND (?5 IS NULL OR json_extract(v.data, '$.birth.date') >= ?5)"
        " AND (?6 IS NULL OR json_extract(v.data, '$.birth.date') <= ?6)"
        " ORDER BY b.updated_at DESC, b.id LIMIT ?3 OFFSET ?4",
        "listing records", record_list_row, NULL, out, err, "ssiiss", f ? f->status : NULL,
        actor->office, limit, offset, f ? f->born_from : NULL, f ? f->born_to : NULL);
}

/* ---- views and attachments ---- */

int registry_record_view(struct db *db, const struct registry_actor *actor, const char *ref,
                         const char *via, struct err *err)
{
    struct rec_head h;
    json_t *data = NULL;
    int rc = -1;

    if (registry_require_action(actor, "record.read", err) != 0)
        return -1;
    if (rec_load(db, actor, ref, &h, err) != 0)
        return -1;
    data = via ? json_pack("{s:s}", "via", via) : NULL;
    if (via && data == NULL) {
        err_oom(err);
        goto out;
    }
    if (reg_event_append_one(db, actor, "record.view", "record", h.id, h.hash, NULL, data, NULL,
                             NULL, err) != 0)
        goto out;
    rc = 0;
out:
    json_decref(data);
    rec_head_release(&h);
    return rc;
}

int registry_record_evidence_get(struct db *db, const char *blobs_dir,
                                 const struct registry_actor *actor, const char *ref,
                                 const char *hash, unsigned char **p, size_t *len,
                                 struct err *err)
{
    char *id = NULL;
    long long one;
    int rc = -1, found;

    *p = NULL;
    *len = 0;
    if (registry_require_action(actor, "record.read", err) != 0)
        return -1;
    if (!reg_is_hash(hash))
        return err_set(err, "evidence: must be named by its SHA-256 (64 lowercase hex digits)");
    if (reg_record_find(db, actor, ref, &id, err) != 0)
        return -1;
    /* Evidence of any version, or of a correction's reason: the record
     * lists it; anything else in the store is not this record's to serve. */
    found = db_query_int64(db,
                           "SELECT 1 FROM record_versions v, json_each(v.data, '$.evidence') j"
                           " WHERE v.record_id=?1 AND j.value=?2 UNION ALL SELECT 1 FROM"
                           " record_versions v, json_each(coalesce(v.reason_evidence, '[]')) j"
                           " WHERE v.record_id=?1 AND j.value=?2 LIMIT 1",
                           "finding the record's evidence", &one, err, "ss", id, hash);
    if (found == 0)
        err_setk(err, ERR_NOT_FOUND, "no such evidence %.16s… in record %s", hash, id);
    else if (found == 1)
        rc = registry_blob_get(db, blobs_dir, hash, p, len, err);
    free(id);
    return rc;
}
