/* civreg db: binding parameters and reading rows into JSON, the part every
 * store file's query repeats: bind, step, report the database's error, turn
 * each row into a JSON value.
 *
 *     if (db_bind(db, st, err, "si", office, year) != 0 ||
 *         db_rows_json(db, st, "listing volumes", volume_row, NULL, &list, err) != 0)
 *         goto out;
 *
 * Works on any prepared statement (db_prepare, db_stmt_cached); the caller
 * still finalizes or releases it. Failures of SQLite are reported as
 * db_sql_fail does ("db: WHAT: <SQLite's message>", kind busy or internal).
 */
#ifndef CIVREG_DB_ROWS_H
#define CIVREG_DB_ROWS_H

#include <stdarg.h>

#include "core/err.h"
#include "core/json.h"

struct db;
struct sqlite3_stmt;

/* Bind parameters 1, 2, ... of ST from FMT, one letter a parameter:
 *   s  const char *           text (copied; NULL binds SQL NULL)
 *   i  int                    integer
 *   I  long long              integer
 *   p  const long long *      integer read through the pointer; NULL binds
 *                             SQL NULL
 *   b  const void *, size_t   blob (copied; NULL binds SQL NULL)
 *   n  (no argument)          SQL NULL
 * Returns 0, or -1 with "db: binding parameter N: ..." in ERR (an unknown
 * letter is a programming error and fails the same way). */
int db_bind(struct db *db, struct sqlite3_stmt *st, struct err *err, const char *fmt, ...)
    __attribute__((warn_unused_result));
int db_bindv(struct db *db, struct sqlite3_stmt *st, struct err *err, const char *fmt,
             va_list ap) __attribute__((warn_unused_result));

/* Run the constant SQL once with FMT's parameters (as db_bind) to its end:
 * an INSERT, UPDATE or DELETE, or a statement whose rows are not read. The
 * statement comes from the connection's cache (db_stmt_cached). Returns 0,
 * or -1 with ERR set ("db: WHAT: ..." when the statement failed). */
int db_run(struct db *db, const char *sql, const char *what, struct err *err, const char *fmt,
           ...) __attribute__((warn_unused_result));

/* Step ST once: 1 when it gave a row, 0 when it is done (no row, or a write
 * completed), -1 with "db: WHAT: ..." in ERR when the step failed. */
int db_step_row(struct db *db, struct sqlite3_stmt *st, const char *what, struct err *err)
    __attribute__((warn_unused_result));

/* Prepare the constant SQL into *ST (db_prepare), bind FMT's parameters
 * (db_bind) and step once (db_step_row): 1 with *ST on the row to read, 0
 * when there is no row, -1 with ERR set. The caller finalizes *ST in every
 * case. */
int db_query_row(struct db *db, struct sqlite3_stmt **st, const char *sql, const char *what,
                 struct err *err, const char *fmt, ...) __attribute__((warn_unused_result));

/* Column I of the current row as JSON by its SQLite type: integer, real,
 * string, null; a blob as lowercase hex. A new reference, or NULL when out
 * of memory. */
json_t *db_column_json(struct sqlite3_stmt *st, int i);

/* The current row as an object keyed by the column names (the SQL's
 * aliases), values as db_column_json. New reference, NULL when out of
 * memory. */
json_t *db_row_object(struct sqlite3_stmt *st);

/* One row to JSON: a new reference, or NULL when out of memory. CTX is the
 * caller's. */
typedef json_t *(*db_row_json_fn)(struct sqlite3_stmt *st, void *ctx);

/* Step ST to its end, appending ROW(st, CTX) for each row (db_row_object
 * when ROW is NULL) to a new array *OUT the caller owns. Returns 0, or -1
 * with *OUT NULL and ERR set: "db: WHAT: ..." when a step failed, "out of
 * memory" (internal) when a row could not be built. */
int db_rows_json(struct db *db, struct sqlite3_stmt *st, const char *what, db_row_json_fn row,
                 void *ctx, json_t **out, struct err *err) __attribute__((warn_unused_result));

/* One row to JSON where building it can fail or leave the row out: 0 with
 * *ROW a new reference (NULL: out of memory), 1 to skip the row, -1 with
 * ERR set. */
typedef int (*db_row_fn)(struct sqlite3_stmt *st, void *ctx, json_t **row, struct err *err);

/* Step ST to its end, appending ROW's value for each row to the array *OUT,
 * or to a new array stored in *OUT when *OUT is NULL (the caller owns it).
 * Returns 0, or -1 with ERR set ("db: WHAT: ..." when a step failed, ROW's
 * message, or "out of memory"); a new array is then freed and *OUT stays
 * NULL, an array of the caller's keeps the rows appended so far. */
int db_rows_collect(struct db *db, struct sqlite3_stmt *st, const char *what, db_row_fn row,
                    void *ctx, json_t **out, struct err *err) __attribute__((warn_unused_result));

/* Run the constant SQL (from the connection's cache, as db_run) with FMT's
 * parameters (as db_bind) and collect its rows as db_rows_collect does:
 * into the array *OUT, or a new one when *OUT is NULL. Returns 0, or -1
 * with ERR set. */
int db_query_rows(struct db *db, const char *sql, const char *what, db_row_fn row, void *ctx,
                  json_t **out, struct err *err, const char *fmt, ...)
    __attribute__((warn_unused_result));

/* Run the constant SQL (cached, as db_run) with FMT's parameters and read
 * the first column of its first row: 1 with *OUT a copy of its text the
 * caller frees (NULL when the column is SQL NULL), 0 when there is no row
 * (*OUT NULL), -1 with ERR set ("db: WHAT: ...", or "out of memory"). */
int db_query_text(struct db *db, const char *sql, const char *what, char **out, struct err *err,
                  const char *fmt, ...) __attribute__((warn_unused_result));

/* The same for an integer (a count, a flag, an identifier): 1 with *OUT
 * set, 0 when there is no row (*OUT unchanged), -1 with ERR set. */
int db_query_int64(struct db *db, const char *sql, const char *what, long long *out,
                   struct err *err, const char *fmt, ...) __attribute__((warn_unused_result));

/* Rows the last completed INSERT, UPDATE or DELETE on DB's connection
 * changed (sqlite3_changes): read it right after db_run for "exactly one
 * row" and "was anything there" checks. */
int db_rows_changed(struct db *db);

/* Run the constant SQL (cached, as db_run) with FMT's parameters and make
 * each row an object keyed by the column names (db_row_object), in a new
 * array stored in *OUT (the caller's). Returns 0, or -1 with ERR set
 * ("db: WHAT: ..." when a step failed, or "out of memory") and *OUT NULL. */
int db_query_objects(struct db *db, const char *sql, const char *what, json_t **out,
                     struct err *err, const char *fmt, ...) __attribute__((warn_unused_result));

/* Column I of the current row: a JSON document stored as text, parsed by
 * json_parse (duplicate keys, nesting depth and UTF-8 checked). The text is
 * read before its length, as SQLite asks. *OUT is a new reference. */
int db_column_parse(struct sqlite3_stmt *st, int i, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

#endif
