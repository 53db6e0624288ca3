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

/* The texts of a record's index entry that follow from its fields and its
 * folded names alone: the search_fts columns names, names_ph, parents,
 * parents_ph and dates, and the place, mother and father shown in results
 * (registry/search_index.c). */
struct search_texts {
    struct buf names, names_ph, parents, parents_ph, dates, place, mother, father;
};

/* Fold the name fields of a normalized record into OUT (keys). */
struct search_keys {
    struct buf given, family, place, mother, father;
    bool has_texts;          /* TEXTS hold the record's entry texts (reg_search_keys_texts) */
    struct search_texts texts;
};
void reg_search_keys_release(struct search_keys *k);
int reg_search_keys(const json_t *record, struct search_keys *k, struct err *err);
/* Also derive RECORD's index entry texts into K->texts (K: its folded names,
 * reg_search_keys), so that the index writer takes them as they are: a
 * draft's are made with its names, before its transaction (the import's
 * preparing thread). -1 when a text is too long; K keeps its names. */
int reg_search_keys_texts(const json_t *record, struct search_keys *k);

/* The rows the index holds for one record, computed from its current
 * version without writing them: search_index's columns after record_id
 * (INDEX, in its column order; the last two, regno and uin, may be NULL),
 * search_fts's (FTS; search_tri's names is FTS[0]) and the birth date the
 * name keys carry (reg_search_name_keys_each of FTS[1] and DOB). The
 * indexing code writes exactly these; `audit verify` compares them with
 * the stored rows. The strings point into the caller's arguments and the
 * entry's own buffers. */
enum { REG_SEARCH_INDEX_COLS = 16, REG_SEARCH_FTS_COLS = 7 };
struct search_entry {
    const char *id, *dob;
    const char *index[REG_SEARCH_INDEX_COLS];
    const char *fts[REG_SEARCH_FTS_COLS];
    /* owned */
    json_t *rec;
    struct search_keys own;
    bool own_keys;
    struct search_texts texts; /* made here when KEYS has none (reg_search_keys_texts) */
    struct buf ids;
};
/* KEYS: REC's folded names (reg_search_keys), or NULL to fold them. */
int reg_search_entry_build(struct search_entry *e, const char *id, const char *office,
                           const char *status, const json_t *rec, const struct search_keys *keys,
                           const char *regno, const char *uin, struct err *err);
void reg_search_entry_release(struct search_entry *e);

/* A record with its state and current version (NULL when missing), in the
 * columns reg_search_entry_of_row reads: "SELECT " REG_SEARCH_STORE_COLS,
 * then a WHERE or ORDER BY on r. */
#define REG_SEARCH_STORE_COLS                                                                      \
    "r.id, r.office, r.status, r.registration_number, r.uin, v.data FROM birth_records r"         \
    " LEFT JOIN record_versions v ON v.record_id = r.id AND v.version = r.version"
/* The entry of the record of the row ST stands on; "search index: no
 * record ID" when its version is missing. E's id and state point into
 * ST's columns: valid until ST steps. */
int reg_search_entry_of_row(sqlite3_stmt *st, struct search_entry *e, struct err *err);

/* Call FN with each search_name_keys row (key, dob) of an entry whose
 * search_fts.names_ph is NAMES_PH and birth date DOB: each phonetic key,
 * repeats included (the table keeps one), none without a date. Stops at
 * FN's first non-zero return (then -1). */
int reg_search_name_keys_each(const char *names_ph, const char *dob,
                              int (*fn)(void *, const char *, int), void *ctx);

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
/* The search_fts names_ph of held row AT (as reg_search_index_put_held
 * gave it), or NULL when there is none. */
const char *reg_fts_held_names_ph(const struct reg_fts_held *h, size_t at);
void reg_fts_held_reset(struct reg_fts_held *held);
void reg_fts_held_release(struct reg_fts_held *held);

/* The name-key look-up of a duplicate query (reg_search_dup_key_candidates):
 * the distinct phonetic keys of its names' words, each word's key, its
 * birth date. */
#define REG_DUP_KEY_WORDS 32
struct reg_dup_key_query {
    char keys[REG_DUP_KEY_WORDS][REGISTRY_PHONETIC_MAX + 1];
    size_t word_key[REG_DUP_KEY_WORDS], nw, nk;
    struct registry_pdate from;
};
/* 0: K made from Q; 1: Q is not one the look-up answers (the passes do). */
int reg_dup_key_query_make(const struct registry_search_query *q, struct reg_dup_key_query *k);
/* How many of K's groups (its words, then its date) a record born DOB
 * (reg_pdate_key) that holds K's keys KEYS (bit i: K->keys[i]) misses,
 * *MISSED the last one missed. A record missing two or more is in none of
 * the look-up's passes. */
size_t reg_dup_key_miss(const struct reg_dup_key_query *k, uint64_t keys, int dob,
                        size_t *missed);

/* HELD: as above, or NULL. FOUND (or NULL): increased by the number of
 * candidates the scan found (at least the pairs it stored). */
int reg_dup_scan_keys(struct db *db, const char *id, const json_t *record,
                      const struct search_keys *keys, struct reg_fts_held *held,
                      size_t *found_n, bool *keyed, struct err *err)
    __attribute__((warn_unused_result));

/* The search_name_keys rows of one record (reg_search_name_keys_each of its
 * search_fts.names_ph and birth date): the date's key DOB and its distinct
 * phonetic keys, packed; NONE: no row (no date); MANY: more keys than
 * REG_NAME_ROWS_MAX, or rows not known (taken as matching any query). */
#define REG_NAME_ROWS_MAX 12
struct reg_name_rows {
    int dob;
    bool none, many;
    unsigned n;
    uint64_t key[REG_NAME_ROWS_MAX];
};
/* DOB: the record's birth.date, or NULL (no rows); NAMES_PH NULL: not known.
 * Returns the record's entry of the dates reg_dup_rescan_needed reads first:
 * R->dob, INT_MIN when it has no row, INT_MAX when MANY. */
int reg_name_rows_of(const char *names_ph, const char *dob, struct reg_name_rows *r);
/* Whether record REC's duplicate scan (its folded names KEYS), done with
 * *KEYED set (reg_dup_scan_keys) when LATER's N records were not indexed
 * yet and nothing else of the index changed since, could find anything
 * else now: *NEEDED is false only when none of LATER's rows would be in
 * one of the name-key look-up's passes (each misses two or more of its
 * groups, or is out of its years), so the look-up reads the same rows as
 * then and the scan finds the same candidates, with the same pairs stored.
 * DATES: LATER's dates as reg_name_rows_of returned them. */
int reg_dup_rescan_needed(const json_t *rec, const struct search_keys *keys,
                          const int *dates, const struct reg_name_rows *later, size_t n,
                          bool *needed, struct err *err) __attribute__((warn_unused_result));

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
