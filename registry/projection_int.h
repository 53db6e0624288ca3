/* civreg registry: the projection's driver, used by audit.c (not API). */
#ifndef CIVREG_REGISTRY_PROJECTION_INT_H
#define CIVREG_REGISTRY_PROJECTION_INT_H

#include "projection.h"
#include "registry_int.h"

/* Attach the expected tables for OWN and every registered module; REPORT
 * receives each problem line; OWNER is what proj_owner returns. */
int proj_open(struct db *db, const struct proj_module *own, void (*report)(void *, const char *),
              void *ctx, void *owner, struct proj **out, struct err *err);
/* Detach and free (NULL: no-op). */
void proj_close(struct proj *p);
/* Run every handler of EV's type. */
void proj_replay(struct proj *p, const struct proj_event *ev);
/* Run the after-replay passes, then compare every table. -1 when the
 * comparison itself could not run. */
int proj_compare(struct proj *p, struct err *err);
void *proj_owner(struct proj *p);
/* Compare TABLE by FN(CTX) where proj_compare would compare it by SQL: its
 * rows were checked as the log was read, FN reports what differed. */
void proj_streamed(struct proj *p, const char *table, int (*fn)(void *ctx, struct err *err),
                   void *ctx);
/* Check TABLE's rows against the stored ones as they are put, writing none
 * while they match (for a table with a key whose rows each event makes
 * whole); the report is the same as by the expected table. */
void proj_at_once(struct proj *p, const char *table);
/* As proj_at_once, for a table whose row several events make (each putting
 * some columns): the puts are merged by key in memory, the last 2,048 keys
 * put, and each merged row is checked when its key is the oldest held or
 * before the table is read or compared. The report is the same. */
void proj_merged(struct proj *p, const char *table);
/* Whether some module handles TYPE / rebuilds TABLE. */
bool proj_handles(struct proj *p, const char *type);
bool proj_covers(struct proj *p, const char *table);

/* Recompute the search index into TEMP tables and report each difference
 * with the stored one through PROBLEM (audit_search.c). */
int reg_audit_search(struct db *db, void (*problem)(void *, const char *), void *ctx,
                     struct err *err);

#endif
