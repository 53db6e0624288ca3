/* civreg registry: reading a signed event's fields in the projection's
 * handlers (registry/projection.h). */
#include <string.h>

#include "projection.h"

const char *proj_str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

const json_t *proj_object(const struct proj_event *ev, const char *kind, size_t n)
{
    size_t i;
    json_t *o;

    json_array_foreach(ev->objects, i, o) if (strcmp(proj_str(o, "kind"), kind) == 0 && n-- == 0)
        return o;
    return NULL;
}

const char *proj_object_id(const struct proj_event *ev, const char *kind, size_t n)
{
    return json_string_value(json_object_get(proj_object(ev, kind, n), "id"));
}

void proj_names_none(struct proj *p, const struct proj_event *ev, const char *what)
{
    proj_problem(p, "event %llu: %s names no %s", (unsigned long long)ev->seq, ev->type, what);
}
