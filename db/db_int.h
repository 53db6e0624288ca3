/* civreg db: internals shared by the files of db/ (not API). */
#ifndef CIVREG_DB_INT_H
#define CIVREG_DB_INT_H

#include "db.h"

struct db_stmt_cache;

/* The connection's statement cache (NULL until the first cached statement). */
struct db_stmt_cache **db_stmt_cache_slot(struct db *db);

/* Finalize every cached statement and free the cache; NULL is a no-op. */
void db_stmt_cache_free(struct db_stmt_cache *c);

/* Inside a transaction, whether it can no longer commit: SQLite rolled it
 * back by itself (I/O error, interrupt, out of memory), or a savepoint
 * could not be rolled back (db_tx_commit would then refuse). */
bool db_tx_broken(struct db *db);

#endif
