/* civreg registry: finding people. Name keys (folded, transliterated and
 * phonetic forms), the search index kept in the registry's write
 * transactions, ranked search over SQLite FTS5, and duplicate detection with
 * signed resolutions. See docs/search.md.
 *
 * Conventions as in registry.h: 0 on success, -1 with a message in ERR;
 * json_t results are new references. */
#ifndef CIVREG_REGISTRY_SEARCH_H
#define CIVREG_REGISTRY_SEARCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

struct db;
struct registry_actor;

/* ---- name keys (namekey.c) ---- */

/* Fold a name in any script into its key: uppercase A-Z/0-9 words separated
 * by single spaces ("Müller-Lüdenscheidt" -> "MUELLER LUEDENSCHEIDT").
 * Names go through the Doc 9303 transliteration (core/translit.h), so every
 * process writes the same keys. Appends to OUT (nothing when the name has no
 * letters). */
int registry_name_fold(const char *utf8, size_t len, struct buf *out, struct err *err)
    __attribute__((warn_unused_result));

#define REGISTRY_PHONETIC_MAX 8
/* The phonetic key of one folded word (A-Z): first sound, then consonant
 * classes with vowels and doubled letters dropped, so that MUELLER, MULLER
 * and MIULLER (Мюллер) all give "MLR". OUT holds REGISTRY_PHONETIC_MAX + 1. */
void registry_name_phonetic(const char *word, size_t len, char out[REGISTRY_PHONETIC_MAX + 1]);

/* Jaro-Winkler similarity of two byte strings, 0.0 (nothing in common) to
 * 1.0 (equal); prefix scale 0.1 over at most 4 characters. */
double registry_jaro_winkler(const char *a, size_t alen, const char *b, size_t blen);

/* ---- queries (search_query.c) ---- */

#define REGISTRY_QUERY_TERMS 16
#define REGISTRY_QUERY_MAX 1024

/* A partial date: year always, month and day 0 when unknown. */
struct registry_pdate {
    int y, m, d;
};

/* A parsed query. Words go to names unless prefixed:
 *   given: family: name: mother: father: parent: place: sex: status:
 *   uin: reg: born: (or a bare date)
 * Dates: YYYY, YYYY-MM, YYYY-MM-DD, DD.MM.YYYY, MM.YYYY, and ranges A..B.
 * A bare 10-digit number is a UIN, a bare OFFICE/YEAR/N a registration
 * number. Values with spaces in double quotes: mother:"Anna Maria". */
struct registry_search_query {
    char *names;   /* folded name words (given or family), or NULL */
    char *given;   /* folded, or NULL */
    char *family;  /* folded, or NULL */
    char *parents; /* folded, or NULL */
    char *place;   /* folded, or NULL */
    char *uin;
    char *regno;
    char sex; /* 'f', 'm', 'x' (not stated) or 0 */
    char status[12];
    bool has_date;
    struct registry_pdate from, to; /* from == to for one (partial) date */
    /* duplicate detection (dedup.c): a candidate query that leaves the
     * date out still asks for a birth year within one of FROM..TO's */
    bool near_years;
    /* duplicate detection: a name word is asked for by its phonetic key
     * alone (names_ph:"PH"), not "names:"W" OR names_ph:"PH"": every record
     * holding the word holds its key (search_index.c indexes the key of
     * each word), so an unranked query finds the same rows with half the
     * phrases to look up. Ranked queries keep the word for bm25. */
    bool phonetic_only;
};

/* Parse QUERY (LEN bytes of UTF-8, at most REGISTRY_QUERY_MAX). Fails with a
 * message naming the word that is wrong ("search: 'born:1985-13' is not a
 * date"). Release with registry_search_query_release. */
int registry_search_query_parse(const char *query, size_t len, struct registry_search_query *q,
                                struct err *err) __attribute__((warn_unused_result));
void registry_search_query_release(struct registry_search_query *q);

/* ---- search (search.c) ---- */

/* Ranked search. LIMIT 0 = 20 (at most 200). *OUT =
 * {query, count, results:[{record_id, status, score, given_names,
 *  family_name, sex, date_of_birth, place, mother, father,
 *  registration_number, uin, why[]}]}; score 0-1000, best first.
 * ACTOR must hold a role that reads records (any role; NULL only for the
 * local operator's tests and benchmarks). */
int registry_search(struct db *db, const struct registry_actor *actor, const char *query,
                    int limit, json_t **out, struct err *err) __attribute__((warn_unused_result));

/* Index (or re-index) record ID from its current version, inside the
 * caller's transaction. Called by records.c in each write. */
int registry_search_index_record(struct db *db, const char *id, struct err *err)
    __attribute__((warn_unused_result));

/* Index a record that lives outside the registry's tables (benchmarks and
 * the search-quality test populate the index this way, in big
 * transactions). RECORD is a normalized record JSON; REGNO and UIN may be
 * NULL. */
int registry_search_index_put(struct db *db, const char *id, const char *office,
                              const char *status, const json_t *record, const char *regno,
                              const char *uin, struct err *err) __attribute__((warn_unused_result));

/* The same for N records in one transaction (a savepoint inside the
 * caller's), reusing prepared statements: the fast path for building large
 * test populations. */
struct registry_search_entry {
    const char *id, *office, *status;
    const json_t *record;
    const char *regno, *uin; /* may be NULL */
};
int registry_search_index_put_many(struct db *db, const struct registry_search_entry *e,
                                   size_t n, struct err *err) __attribute__((warn_unused_result));

/* Rebuild the whole index from the registry's records (after changing the
 * transliterator). *COUNT (may be NULL) receives the records indexed. */
int registry_search_reindex(struct db *db, long long *count, struct err *err)
    __attribute__((warn_unused_result));

/* ---- duplicate detection (dedup.c) ---- */

/* Score two normalized records as the same birth, 0-1000; WHY (may be NULL)
 * receives the agreeing/disagreeing fields as a JSON array of strings. */
int registry_dup_score(const json_t *a, const json_t *b, json_t **why);

#define REGISTRY_DUP_THRESHOLD 700

/* Candidates in the index for normalized RECORD (other than EXCLUDE_ID, may
 * be NULL) scoring at least REGISTRY_DUP_THRESHOLD: *OUT = [{record_id,
 * score, why[]}], best first. Reads only the index. */
int registry_dup_find(struct db *db, const json_t *record, const char *exclude_id, json_t **out,
                      struct err *err) __attribute__((warn_unused_result));

/* Look for duplicates of record ID and store new candidates (inside the
 * caller's transaction; resolved pairs stay resolved). */
int registry_dup_scan(struct db *db, const char *id, struct err *err)
    __attribute__((warn_unused_result));

/* The same for record ID whose current version is REC (normalized, as
 * stored): a record just written need not be read back and parsed again. */
int registry_dup_scan_record(struct db *db, const char *id, const json_t *rec, struct err *err)
    __attribute__((warn_unused_result));

/* Candidates of a record (by id or registration number), or with ID NULL
 * every open candidate: [{record_id, other_id, score, why[], status,
 * reason, resolved_by, resolved_at}]. Clerk, registrar, auditor or admin. */
int registry_dup_list(struct db *db, const struct registry_actor *actor, const char *id,
                      json_t **out, struct err *err) __attribute__((warn_unused_result));

/* A registrar resolves the candidate pair ID/OTHER: DUPLICATE true = the
 * same birth (ID is linked as a duplicate of OTHER), false = distinct
 * births. REASON is required. Logs record.duplicate (signed). */
int registry_dup_resolve(struct db *db, const struct registry_actor *actor, const char *id,
                         const char *other, bool duplicate, const char *reason, struct err *err)
    __attribute__((warn_unused_result));

/* Registration gate: fails with a message listing open candidates, or
 * naming the registered record ID duplicates. */
int registry_dup_gate(struct db *db, const char *id, struct err *err)
    __attribute__((warn_unused_result));

#endif
