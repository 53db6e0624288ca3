/* civreg db: the SQLite connection, its pragmas, migrations and transactions.
 *
 * One struct db per thread: a connection is never shared between threads.
 * Module store files (registry/store.c, ...) reach SQLite through
 * db_handle(); nothing else in civreg includes sqlite3.h.
 */
#ifndef CIVREG_DB_H
#define CIVREG_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/err.h"

struct db;
struct sqlite3;
struct sqlite3_stmt;

enum {
    DB_OPEN_CREATE = 1 << 0,  /* create the file when missing */
    DB_OPEN_MIGRATE = 1 << 1, /* apply pending migrations */
    DB_OPEN_CHECK = 1 << 2,   /* open for inspection: no pragmas that write,
                                 no refusal of newer schemas (db check) */
};

/* SQLite configured for civreg (no allocation statistics: one mutex less
 * per allocation). Must come before SQLite's first use in the process to
 * take effect; db_open calls it, a program that uses SQLite directly first
 * (a benchmark's anchor) calls it before. Thread-safe, once. */
void db_library_init(void);

/* Open the database file PATH. Sets WAL, foreign_keys=ON, busy_timeout and
 * synchronous=FULL (a registered birth must survive a power cut). Refuses a
 * database whose schema is newer than this binary, and (without
 * DB_OPEN_MIGRATE) one whose schema is older. *OUT is freed with db_close. */
int db_open(const char *path, unsigned flags, struct db **out, struct err *err)
    __attribute__((warn_unused_result));

/* Close; db_close(NULL) is a no-op. An open transaction is rolled back. */
void db_close(struct db *db);

/* The raw connection, for module store files only. Borrowed. */
struct sqlite3 *db_handle(struct db *db);

/* The path the database was opened from. Borrowed. */
const char *db_path(const struct db *db);

/* Highest schema version this binary knows (its last embedded migration). */
int db_schema_latest(void);

/* Schema version recorded in the database (0 when none). */
int db_schema_version(struct db *db, int *out, struct err *err) __attribute__((warn_unused_result));

/* Apply every pending migration, each in its own transaction, recording it. */
int db_migrate(struct db *db, struct err *err) __attribute__((warn_unused_result));

/* Transactions. db_tx_begin starts a write transaction (BEGIN IMMEDIATE, so
 * writers queue on the busy timeout instead of failing later); nested calls
 * become savepoints. Every begin is matched by one commit or rollback. */
int db_tx_begin(struct db *db, struct err *err) __attribute__((warn_unused_result));
int db_tx_commit(struct db *db, struct err *err) __attribute__((warn_unused_result));
void db_tx_rollback(struct db *db);
/* The time the outermost transaction began (now outside one): the one
 * time every row a transaction writes and the event logging it can carry. */
time_t db_tx_time(struct db *db);

/* A pre-commit step: run once just before the outermost COMMIT of a
 * transaction that armed it, inside that transaction, so what it writes is
 * durable with the rest or not at all (the registry signs the transaction's
 * tree head there). A failing step rolls the whole transaction back and the
 * commit fails. A connection has at most one step: db_tx_precommit_set
 * installs FN with CTX (freed by FREE_CTX at db_close);
 * db_tx_precommit_ctx returns that CTX when FN is the step installed, else
 * NULL. db_tx_precommit_arm, inside a transaction (at any depth), asks for
 * the step at the outermost commit; rolling the outermost transaction back
 * disarms it (a rolled-back savepoint does not: the step must judge the
 * transaction by what it holds). */
typedef int (*db_precommit_fn)(struct db *db, void *ctx, struct err *err);
void *db_tx_precommit_ctx(struct db *db, db_precommit_fn fn);
int db_tx_precommit_set(struct db *db, db_precommit_fn fn, void *ctx, void (*free_ctx)(void *),
                        struct err *err) __attribute__((warn_unused_result));
int db_tx_precommit_arm(struct db *db, struct err *err) __attribute__((warn_unused_result));

/* Run FN inside a transaction: commit when it returns 0, roll back when it
 * fails. A whole transaction that hit SQLITE_BUSY is retried a few times so
 * "database is locked" does not reach the user under normal contention. */
int db_tx_run(struct db *db, int (*fn)(struct db *db, void *arg, struct err *err), void *arg,
              struct err *err) __attribute__((warn_unused_result));

/* Copy the WAL back into the database on a thread beside this connection
 * (a passive checkpoint on a connection of its own, asked for after this
 * connection's commits once 1,000 frames were added; past 10,000 frames
 * the connection checkpoints itself, between its transactions) instead of
 * inside its commits, as SQLite's automatic checkpoint would. For a
 * connection that writes large transactions back to back (the import).
 * Durability is unchanged: a commit is durable in the WAL before it
 * returns. Stopped by db_close; a second call is a no-op. Not for a group
 * commit's connection (db_group_new has its own hook and checkpointer).
 * Returns -1 only without memory; without the thread (logged) the
 * connection checkpoints itself as before. */
int db_checkpoint_beside(struct db *db, struct err *err) __attribute__((warn_unused_result));
/* Bytes of a statement journal held in memory before SQLite moves it to a
 * temporary file (sqlite3_config SQLITE_CONFIG_STMTJRNL_SPILL, set once
 * for the process by db_library_init). */
#define DB_STMT_JOURNAL_MEM (4 * 1024 * 1024)

/* DB set up, from now on, for batches written back to back (the import's,
 * the bulk steps'): its checkpoints beside it (db_checkpoint_beside) and
 * room in its page cache for the pages a batch's transaction changes
 * (DB_BATCH_CACHE_KIB, against SQLite's default of 2,000 KiB): a
 * transaction whose changed pages outgrow the cache has SQLite write
 * ("spill") them into the WAL before its commit and read them back, and
 * write them again at the commit when changed since. Memory is taken as
 * pages are used, up to the bound. A second call is a no-op. */
#define DB_BATCH_CACHE_KIB 32768
int db_for_batches(struct db *db, struct err *err) __attribute__((warn_unused_result));
/* Checkpoints run beside DB since db_checkpoint_beside (0 without). */
unsigned long db_checkpoints_beside(struct db *db);

/* Execute constant SQL (never built from input). */
int db_exec(struct db *db, const char *sql, struct err *err) __attribute__((warn_unused_result));

/* Read and write installation settings (table settings). db_setting_get
 * returns 0 with *OUT malloc'd (caller frees), 1 when the key is absent, -1 on
 * error. */
int db_setting_get(struct db *db, const char *key, char **out, struct err *err);
int db_setting_set(struct db *db, const char *key, const char *value, struct err *err)
    __attribute__((warn_unused_result));

/* Check the database: integrity_check, foreign_key_check and the migration
 * state (pending, unknown newer, or altered since applied). REPORT is called
 * once per problem. Returns the number of problems (0 = healthy), or -1 when
 * the check itself could not run. */
int db_check(struct db *db, void (*report)(void *ctx, const char *problem), void *ctx,
             struct err *err);

/* Statements for constant SQL kept by the connection (db/stmt_cache.c):
 * db_stmt_cached gives a prepared statement for SQL, reset and without
 * bindings, prepared only the first time this connection asks for that text.
 * Give it back with db_stmt_release (which resets it and clears its
 * bindings; never finalize it). A statement still checked out is not
 * shared: asking for the same SQL again gives a fresh statement that
 * db_stmt_release finalizes, so nested use is safe. Returns 0, or -1 with
 * ERR set when SQL does not prepare. db_stmt_release(db, NULL) is a no-op.
 * db_stmt_cache_clear finalizes the cached statements not checked out
 * (call it after creating or dropping a TEMP table that shadows a table the
 * cached statements name). */
int db_stmt_cached(struct db *db, const char *sql, struct sqlite3_stmt **out, struct err *err)
    __attribute__((warn_unused_result));
void db_stmt_release(struct db *db, struct sqlite3_stmt *st);
void db_stmt_cache_clear(struct db *db);

/* Whether the last failure on this connection was SQLITE_BUSY/LOCKED. */
bool db_last_was_busy(struct db *db);

/* The kind of the connection's last SQLite failure: ERR_BUSY when the
 * database stayed locked, ERR_INTERNAL otherwise (storage, I/O, SQL). */
enum err_kind db_error_kind(struct db *db);

#endif
