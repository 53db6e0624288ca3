/* civreg registry: event_objects checked as `audit verify` reads the log
 * (audit_objects.c; not API). */
#ifndef CIVREG_REGISTRY_AUDIT_OBJECTS_H
#define CIVREG_REGISTRY_AUDIT_OBJECTS_H

#include <stdint.h>

#include "core/err.h"
#include "core/json.h"
#include "db/db.h"

struct audit_objects;

/* The check of DB's event_objects; its cursor opens at the first event, in
 * the snapshot the audit reads. */
int audit_objects_open(struct db *db, struct audit_objects **out, struct err *err);
/* The replayed event SEQ names OBJECTS ([{kind, id, ...}]): merged with the
 * stored rows up to SEQ. Events come in increasing SEQ. */
void audit_objects_event(struct audit_objects *o, uint64_t seq, const json_t *objects);
/* The stored rows after the last event, then the report through PROBLEM:
 * rows not in the log, then rows missing, each by (kind, object_id, seq),
 * ten and a count. -1 when the stored rows could not be read. */
int audit_objects_finish(struct audit_objects *o, void (*problem)(void *, const char *),
                         void *ctx, struct err *err);
void audit_objects_free(struct audit_objects *o);

#endif
