/* civreg db: internals shared by the files of db/ (not API). */
#ifndef CIVREG_DB_INT_H
#define CIVREG_DB_INT_H

#include "db.h"

struct db_stmt_cache;

/* The connection's statement cache (NULL until the first cached statement). */
struct db_stmt_cache **db_stmt_cache_slot(struct db *db);

/* Finalize every cached statement and free the cache; NULL is a no-op. */
void db_stmt_cache_free(struct db_stmt_cache *c);

#endif
