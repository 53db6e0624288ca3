/* civreg issuance: helpers shared by the passport office's store files
 * (numbers.c, booklets.c, applications.c). Not API. */
#ifndef CIVREG_ISSUANCE_OFFICE_INT_H
#define CIVREG_ISSUANCE_OFFICE_INT_H

#include <sqlite3.h>
#include <stdbool.h>

#include "core/timeutil.h"
#include "db/sql.h"
#include "office.h"
#include "registry/registry.h"

/* Column value as JSON: text, integer or null (new reference). */
json_t *office_column_json(sqlite3_stmt *st, int i);

/* Run SQL, a statement that returns no rows, with the text values
 * ARGS[0..N-1] bound to ?1..?N (NULL binds SQL NULL). Returns the number of
 * rows it changed, or -1 with "db: WHAT: <SQLite's message>" in ERR (a
 * failed prepare: "db: <SQLite's message>"). With ONE set, changing other
 * than exactly one row is a failure reported the same way. */
int office_exec(struct db *db, const char *what, const char *sql, const char *const *args,
                size_t n, bool one, struct err *err) __attribute__((warn_unused_result));

/* office_exec with the text values listed after ERR. */
#define OFFICE_ARGS(...)                                                                       \
    (const char *const[]){ __VA_ARGS__ },                                                      \
        sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *)
#define OFFICE_EXEC(db, what, sql, err, ...)                                                   \
    office_exec((db), (what), (sql), OFFICE_ARGS(__VA_ARGS__), false, (err))
#define OFFICE_EXEC_ONE(db, what, sql, err, ...)                                               \
    office_exec((db), (what), (sql), OFFICE_ARGS(__VA_ARGS__), true, (err))

/* Append ROW(ST) for each remaining row of the bound statement ST to ARR.
 * A NULL row or a failed append is "out of memory" (ERR_INTERNAL); a failed
 * step "db: WHAT: <SQLite's message>". ST stays the caller's. */
int office_rows_append(struct db *db, sqlite3_stmt *st, json_t *(*row)(sqlite3_stmt *st),
                       json_t *arr, const char *what, struct err *err)
    __attribute__((warn_unused_result));

/* The time of DB's transaction (now outside one) as "YYYY-MM-DDTHH:MM:SSZ":
 * every row an operation writes and the event it logs carry this one time,
 * so `audit verify` rebuilds the time columns from the log. */
void office_now(struct db *db, char out[TIME_ISO8601_LEN + 1]);

/* Require one of the roles in NEED: "USER may not WHAT: needs role ...". */
int office_require(const struct office_actor *a, unsigned need, const char *what,
                   struct err *err) __attribute__((warn_unused_result));

/* Log one event through the actor: OBJECTS is built from KIND/ID pairs
 * (up to 4, NULL-terminated), DATA is stolen (may be NULL). */
int office_log(struct db *db, const struct office_actor *a, const char *type, json_t *data,
               struct err *err, ...) __attribute__((warn_unused_result, sentinel));

#endif
