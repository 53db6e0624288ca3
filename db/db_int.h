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

/* The checkpointer (checkpointer.c): a thread with a connection of its own
 * to the database at PATH that runs passive checkpoints when a writer asks.
 * db_checkpointer_new returns NULL only without memory; without the
 * connection or the thread (logged) the writer checkpoints itself. Free
 * with db_checkpointer_free (joins the thread; NULL is a no-op) once the
 * writer has stopped. */
struct db_checkpointer;
struct db_checkpointer *db_checkpointer_new(const char *path);
/* After a commit of WRITER that left FRAMES frames in the WAL: a checkpoint
 * asked for once 1,000 frames were added since the last request, or run on
 * WRITER itself past 10,000 frames or without a checkpointer (C NULL or
 * not started). Called by the writer's thread only. */
void db_checkpointer_committed(struct db_checkpointer *c, struct db *writer, int frames);
/* Checkpoints the thread has run (0 for NULL). */
unsigned long db_checkpointer_count(struct db_checkpointer *c);
void db_checkpointer_free(struct db_checkpointer *c);

#endif
