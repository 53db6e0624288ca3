/* civreg issuance: helpers shared by the passport office's store files
 * (numbers.c, booklets.c, applications.c). Not API. */
#ifndef CIVREG_ISSUANCE_OFFICE_INT_H
#define CIVREG_ISSUANCE_OFFICE_INT_H

#include <sqlite3.h>

#include "core/timeutil.h"
#include "office.h"
#include "registry/registry.h"

/* Prepare SQL on DB's connection; on failure a message naming WHAT. */
int office_prepare(struct db *db, const char *sql, sqlite3_stmt **st, struct err *err);
/* A failed step or exec: the SQLite message with context. Returns -1. */
int office_sql_fail(struct db *db, const char *what, struct err *err);
/* Bind text or NULL. */
int office_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Column text as a malloc'd copy (NULL for SQL NULL or out of memory). */
char *office_column_dup(sqlite3_stmt *st, int i);
/* Column value as JSON: text, integer or null (new reference). */
json_t *office_column_json(sqlite3_stmt *st, int i);

/* UTC now as "YYYY-MM-DDTHH:MM:SSZ". */
void office_now(char out[TIME_ISO8601_LEN + 1]);

/* Require one of the roles in NEED: "USER may not WHAT: needs role ...". */
int office_require(const struct office_actor *a, unsigned need, const char *what,
                   struct err *err) __attribute__((warn_unused_result));

/* Log one event through the actor: OBJECTS is built from KIND/ID pairs
 * (up to 4, NULL-terminated), DATA is stolen (may be NULL). */
int office_log(struct db *db, const struct office_actor *a, const char *type, json_t *data,
               struct err *err, ...) __attribute__((warn_unused_result, sentinel));

/* A new identifier "<PREFIX>-<OFFICE>-<16 hex>" (globally unique). */
void office_new_id(const char *prefix, const char *office, char out[64]);

#endif
