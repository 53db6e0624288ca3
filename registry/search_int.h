/* civreg registry: internals shared by search.c and dedup.c (not API). */
#ifndef CIVREG_REGISTRY_SEARCH_INT_H
#define CIVREG_REGISTRY_SEARCH_INT_H

#include <stdint.h>

#include "registry_int.h"
#include "search.h"

/* One row of search_index, owned strings. */
struct search_row {
    int64_t rowid;
    char *record_id, *office, *status;
    char *given, *family, *sex, *dob, *place, *mother, *father;
    char *given_key, *family_key, *place_key, *mother_key, *father_key;
    char *regno, *uin;
};
void reg_search_row_release(struct search_row *r);

/* Rebuild the search index of every record (ARG: long long count out), in
 * the caller's transaction. Unqualified table names: `audit verify` runs it
 * into TEMP tables of the same names to recompute the index. */
int reg_search_reindex_tx(struct db *db, void *arg, struct err *err);

/* Load row ROWID of search_index with the prepared statement ST (from
 * reg_search_row_stmt). Returns 1 when absent. */
int reg_search_row_stmt(struct db *db, sqlite3_stmt **st, struct err *err);
int reg_search_row_load(struct db *db, sqlite3_stmt *st, int64_t rowid, struct search_row *r,
                        struct err *err);

/* Candidate rowids for Q from PASS 1 (every query group matches), 2 (all
 * groups but one) or 3 (name trigrams), best bm25 first, appended to IDS
 * (*N in use, MAX room) without repeats. RANKED false skips the bm25
 * ordering (whose cost grows with the matches) and takes the first MAX. */
int reg_search_candidates(struct db *db, const struct registry_search_query *q, int pass,
                          bool ranked, size_t max, int64_t *ids, size_t *n, struct err *err);

/* Unranked passes 1 and 2 of reg_search_candidates, one after the other,
 * with the same candidates in the same order, but asked with pass 2's
 * queries alone when they return every row they match (pass 1 is then
 * their intersection): one FTS5 query fewer. */
int reg_search_dup_candidates(struct db *db, const struct registry_search_query *q, size_t max,
                              int64_t *ids, size_t *n, struct err *err);

/* Similarity 0..1 of the folded words QW against the folded words RW: each
 * word of QW against its best match in RW (Jaro-Winkler, phonetic key,
 * initials), weighted by length. */
double reg_words_sim(const char *qw, const char *rw);

/* A parsed date as search_name_keys.dob stores it: YYYYMMDD, 0 for the
 * parts not known. */
int reg_pdate_key(const struct registry_pdate *d);

/* Passes 1 and 2 of reg_search_dup_candidates, the same candidates in the
 * same order, from search_name_keys (one B-tree range per phonetic key of
 * the names over the years around the date) instead of FTS5 queries, for
 * the queries duplicate detection makes: names all whole words with a
 * phonetic key (at least two), one date, near_years and phonetic_only,
 * nothing else. Returns 1, IDS untouched, for any other query. */
int reg_search_dup_key_candidates(struct db *db, const struct registry_search_query *q,
                                  size_t max, int64_t *ids, size_t *n, struct err *err);

/* Parse a stored partial date; 0 on success. */
int reg_pdate_parse_stored(const char *s, struct registry_pdate *d);

/* Agreement 0..1 of a record's birth date with a query date or range. */
double reg_date_sim(const struct registry_pdate *from, const struct registry_pdate *to,
                    const struct registry_pdate *rec, const char **why);

/* Fold the name fields of a normalized record into OUT (keys). */
struct search_keys {
    struct buf given, family, place, mother, father;
};
void reg_search_keys_release(struct search_keys *k);
int reg_search_keys(const json_t *record, struct search_keys *k, struct err *err);

/* registry_search_index_put and registry_dup_scan_record with RECORD's
 * folded names KEYS (reg_search_keys) already at hand, or NULL: a draft
 * folds its names once for its index entry and its duplicate scan. FRESH:
 * record ID was created in the caller's transaction (no entry to look
 * for; an entry there would make the insert fail). */
int reg_search_index_put_keys(struct db *db, const char *id, const char *office,
                              const char *status, const json_t *record,
                              const struct search_keys *keys, bool fresh, const char *regno,
                              const char *uin, struct err *err) __attribute__((warn_unused_result));

/* A bulk transaction's search_fts rows held back (registry_record_steps):
 * a record the batch drafts gets its search_index row, name keys and
 * trigram row at once (the duplicate scans read them), and its search_fts
 * row once, at its final state, when the batch ends
 * (reg_search_fts_held_flush), with the numbers its registration gave it
 * (reg_search_fts_held_registered) instead of written as a draft and
 * deleted and written again. A duplicate scan about to query search_fts
 * (reg_dup_scan_keys with HELD) writes the rows held so far first, so
 * every read sees what the unheld path would have written; a row written
 * so is registered as any other (reg_search_index_registered). */
struct reg_fts_held_row;
struct reg_fts_held {
    struct reg_fts_held_row *rows;
    size_t n, cap;
    size_t written; /* rows [0, WRITTEN) are in search_fts */
};
#define REG_FTS_HELD_INIT { NULL, 0, 0, 0 }
/* reg_search_index_put_keys for a record created in the caller's
 * transaction, with no numbers, its search_fts row held in HELD (its place
 * in *HELD_AT). */
int reg_search_index_put_held(struct db *db, const char *id, const char *office,
                              const char *status, const json_t *record,
                              const struct search_keys *keys, struct reg_fts_held *held,
                              size_t *held_at, struct err *err)
    __attribute__((warn_unused_result));
/* Write the rows held and not yet written, in the order they were held. */
int reg_search_fts_held_flush(struct db *db, struct reg_fts_held *held, struct err *err)
    __attribute__((warn_unused_result));
/* The record of held row AT was registered as REGNO with UIN: its
 * search_index row's status and numbers written, its held row's ids set;
 * 1 when the row was written already (the caller rewrites it,
 * reg_search_index_registered), 0, -1 on error. */
int reg_search_fts_held_registered(struct db *db, struct reg_fts_held *held, size_t at,
                                   const char *regno, const char *uin, struct err *err)
    __attribute__((warn_unused_result));
/* Drop every row (a new attempt of the transaction); release frees. */
void reg_fts_held_reset(struct reg_fts_held *held);
void reg_fts_held_release(struct reg_fts_held *held);

/* HELD: as above, or NULL. */
int reg_dup_scan_keys(struct db *db, const char *id, const json_t *record,
                      const struct search_keys *keys, struct reg_fts_held *held,
                      struct err *err) __attribute__((warn_unused_result));

/* Record ID was just registered as REGNO with UIN (its version unchanged):
 * its index entry's status and numbers, the rest kept as it is (a record
 * without a complete entry is indexed whole, as
 * registry_search_index_record does). */
int reg_search_index_registered(struct db *db, const char *id, const char *regno,
                                const char *uin, struct err *err)
    __attribute__((warn_unused_result));

/* Set the status of record ID in the index (its content unchanged). */
int reg_search_index_status(struct db *db, const char *id, const char *status,
                            struct err *err);

#endif
