/* civreg db: the statement helpers every store file uses (registry/,
 * scanner/, issuance/pki/, issuance/passport/): one way to prepare, to
 * report a failed statement, to bind and read text, to make an identifier
 * and to take the next number of a series.
 *
 * Store files include sqlite3.h themselves; this header names SQLite's types
 * only as incomplete structs.
 */
#ifndef CIVREG_DB_SQL_H
#define CIVREG_DB_SQL_H

#include <stddef.h>

#include "core/err.h"

struct db;
struct sqlite3_stmt;

/* Prepare the constant SQL on DB's connection into *ST (NULL on failure,
 * with "db: <SQLite's message>" in ERR). The caller finalizes *ST. */
int db_prepare(struct db *db, struct sqlite3_stmt **st, const char *sql, struct err *err)
    __attribute__((warn_unused_result));

/* A failed step or exec: "db: WHAT: <SQLite's message>". Returns -1. */
int db_sql_fail(struct db *db, const char *what, struct err *err);

/* Bind text (copied) or, for NULL, SQL NULL. Returns SQLite's code. */
int db_bind_text(struct sqlite3_stmt *st, int i, const char *s);

/* Column text as a malloc'd copy (NULL for SQL NULL or out of memory). */
char *db_column_dup(struct sqlite3_stmt *st, int i);

/* Identifiers meant to travel to a national tier are globally unique
 * without coordination: "<OFFICE>-<KIND>-<20 hex>", KIND a letter naming
 * what is identified (R record, D death, X extract, A passport application,
 * B booklet batch). OFFICE NULL writes "XX". The 20 lowercase hex digits
 * are time-ordered (RFC 9562 §6.2, as UUIDv7): 12 of milliseconds since the
 * Unix epoch, then 8 random for the first id of a millisecond and counted
 * up for the later ones, so that the ids one process makes only ever grow
 * (thread-safe; a clock stepped back counts on from the last id) and a
 * table keyed by them is appended to. Two processes of one office meet
 * only if both draw overlapping counters in the same millisecond (32
 * random bits); the insert of such an id fails on the key. An id tells
 * when it was made, to the millisecond. */
#define DB_ID_MAX 32
void db_id_new(const char *office, char kind, char out[DB_ID_MAX]);

/* Numbered series: registration numbers and death registration numbers per
 * office and year, the sequence of each document number series. */
enum db_series {
    DB_SERIES_REGISTRATION, /* registration_counters (office, year) */
    DB_SERIES_DEATH,        /* death_counters (office, year) */
    DB_SERIES_DOCUMENT,     /* doc_number_series (doc_type); YEAR unused */
};

/* Take the next number of the series KEY (and YEAR) inside the caller's
 * transaction: 1 for a new (office, year) counter; a document series must
 * exist. 0 with *N set, -1 on failure. */
int db_series_next(struct db *db, enum db_series series, const char *key, int year,
                   long long *n, struct err *err) __attribute__((warn_unused_result));

/* The numbers of series a transaction takes, counted in memory after the
 * first of each (SERIES, KEY, YEAR) and written back once
 * (db_series_cache_write) before it commits: the same numbers and final
 * counters as db_series_next at each take, one statement a key instead of
 * one a number. No other connection writes while the transaction holds the
 * write lock; a retried transaction starts from DB_SERIES_CACHE_INIT. */
struct db_series_cache {
    size_t n;
    struct {
        enum db_series series;
        char key[16];
        int year;
        long long last, stored;
    } e[4];
};
#define DB_SERIES_CACHE_INIT { 0 }
/* db_series_next through CACHE (registration and death series; a document
 * series, a key too long or a fifth key: db_series_next each time). */
int db_series_take(struct db *db, struct db_series_cache *cache, enum db_series series,
                   const char *key, int year, long long *n, struct err *err)
    __attribute__((warn_unused_result));
/* The counters CACHE advanced past the stored ones, written. */
int db_series_cache_write(struct db *db, struct db_series_cache *cache, struct err *err)
    __attribute__((warn_unused_result));

#endif
