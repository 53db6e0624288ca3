/* civreg issuance: helpers shared by the passport office's store files
 * (numbers.c, booklets.c, applications.c). Not API. */
#ifndef CIVREG_ISSUANCE_OFFICE_INT_H
#define CIVREG_ISSUANCE_OFFICE_INT_H

#include <sqlite3.h>
#include <stdbool.h>

#include "core/timeutil.h"
#include "db/rows.h"
#include "db/sql.h"
#include "office.h"
#include "registry/registry.h"

/* The current row as an object keyed by NAMES[0..N-1] in column order: a
 * column from JSON_FIRST to JSON_LAST holding JSON text as that JSON value,
 * any other as db_column_json. A new reference, NULL when out of memory. */
json_t *office_row_json(sqlite3_stmt *st, const char *const *names, int n, int json_first,
                        int json_last);

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
