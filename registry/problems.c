/* civreg registry: the list of problems a verifier reports (the audit of the
 * log, the offline check of an export bundle). */
#include <stdarg.h>
#include <stdio.h>

#include "registry_int.h"

void reg_problem(struct reg_problems *p, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    reg_problemv(p, fmt, ap);
    va_end(ap);
}

void reg_problemv(struct reg_problems *p, const char *fmt, va_list ap)
{
    char line[1024];

    (void)vsnprintf(line, sizeof line, fmt, ap);
    p->count++;
    if (p->report)
        p->report(p->ctx, line);
}
