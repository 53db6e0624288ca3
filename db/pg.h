/* civreg db: PostgreSQL through libpq, for the national tier.
 *
 * Prepared statements only: pg_exec prepares each distinct SQL text once per
 * connection (PQprepare) and runs it with text parameters (PQexecPrepared);
 * the only SQL run as text is the embedded migrations. Bulk loads go through
 * COPY ... FROM STDIN (pg_copy). libpq-fe.h is included here only.
 *
 * Functions return 0 on success and -1 with a message in ERR. Built as its
 * own static library (civreg_pg) so a district build does not need libpq.
 */
#ifndef CIVREG_DB_PG_H
#define CIVREG_DB_PG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct pg;
struct pg_res;

/* Connect to URL (a libpq connection string or postgresql:// URI). *OUT is
 * closed with pg_close. */
int pg_open(const char *url, struct pg **out, struct err *err) __attribute__((warn_unused_result));
/* Close; NULL is a no-op. */
void pg_close(struct pg *pg);

/* Run SQL (a constant text, one statement) with N text parameters
 * (PARAMS[i] NULL is SQL NULL). *RES (may be NULL) receives the rows,
 * freed with pg_res_free. */
int pg_exec(struct pg *pg, const char *sql, int n, const char *const *params,
            struct pg_res **res, struct err *err) __attribute__((warn_unused_result));

int pg_res_rows(const struct pg_res *r);
/* The value at ROW, COL as text ("" for NULL), valid until pg_res_free. */
const char *pg_res_value(const struct pg_res *r, int row, int col);
bool pg_res_null(const struct pg_res *r, int row, int col);
/* Rows affected by an INSERT/UPDATE/DELETE. */
long long pg_res_affected(const struct pg_res *r);
void pg_res_free(struct pg_res *r);

/* How many requests this connection sent the server so far (prepared
 * statements run, COPYs, transaction control; preparing is not counted):
 * the statement count of a piece of work is the difference. */
unsigned long long pg_round_trips(const struct pg *pg);

/* Transactions. pg_begin takes ISOLATION "" (read committed) or
 * "SERIALIZABLE". pg_rollback is harmless outside a transaction. */
int pg_begin(struct pg *pg, struct err *err) __attribute__((warn_unused_result));
int pg_commit(struct pg *pg, struct err *err) __attribute__((warn_unused_result));
void pg_rollback(struct pg *pg);

/* COPY: run COPY_SQL (a constant "COPY t(cols) FROM STDIN") and send DATA
 * (LEN bytes of COPY text format). */
int pg_copy(struct pg *pg, const char *copy_sql, const char *data, size_t len, struct err *err)
    __attribute__((warn_unused_result));

/* Append S to a COPY text-format field buffer with the escapes COPY needs
 * (backslash, tab, newline, carriage return). Returns 0 or -1 when the
 * buffer's cap is reached. */
struct buf;
int pg_copy_field(struct buf *out, const char *s, size_t len);

/* Apply the embedded national migrations (db/national/NNNN_name.sql) that
 * are not applied yet, each in its own transaction, recorded in
 * schema_migrations (version, name, sha256). A database recording a higher
 * version than this binary knows is refused. *VERSION (may be NULL) gets
 * the version reached. */
int pg_migrate(struct pg *pg, int *version, struct err *err) __attribute__((warn_unused_result));

/* Whether the server is a standby (pg_is_in_recovery). */
int pg_in_recovery(struct pg *pg, bool *standby, struct err *err)
    __attribute__((warn_unused_result));

#endif
