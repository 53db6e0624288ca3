/* One main() for the cmocka test files (cmocka_main.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/secret.h"
#include "cmocka_main.h"

int cmocka_main_run(const struct cmocka_main *m, const char *names,
                    const CMUnitTestFunction *fns, size_t n)
{
    struct CMUnitTest *tests = calloc(n, sizeof *tests);
    char *copy = strdup(names);
    char *p = copy;
    int rc = 1;

    if (tests == NULL || copy == NULL) {
        fprintf(stderr, "cmocka_main: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len;

        p += strspn(p, " \t\n,");
        len = strcspn(p, " \t\n,");
        if (len == 0) {
            fprintf(stderr, "cmocka_main: %zu names for %zu tests in \"%s\"\n", i, n, names);
            goto out;
        }
        tests[i].name = p;
        tests[i].test_func = fns[i];
        tests[i].setup_func = m->setup;
        tests[i].teardown_func = m->teardown;
        p += len;
        if (*p != '\0')
            *p++ = '\0';
    }
    if (m->secret && secret_init(NULL) != 0)
        goto out;
    rc = _cmocka_run_group_tests(m->group != NULL ? m->group : "tests", tests, n,
                                 m->group_setup, m->group_teardown);
out:
    free(tests);
    free(copy);
    return rc;
}
