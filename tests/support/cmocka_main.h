/* The main() of a cmocka test file, written once: the file names its test
 * functions in order and the fixtures they run under. */
#ifndef CIVREG_TESTS_CMOCKA_MAIN_H
#define CIVREG_TESTS_CMOCKA_MAIN_H

#include <stddef.h>

/* How a file's tests run. */
struct cmocka_main {
    const char *group;              /* cmocka's group name; NULL: "tests" */
    CMFixtureFunction group_setup;  /* once before and after the group (or NULL) */
    CMFixtureFunction group_teardown;
    CMFixtureFunction setup;        /* before and after each test (or NULL) */
    CMFixtureFunction teardown;
    int secret;                     /* libsodium initialised first (secret_init) */
};

/* Run the N test functions FNS, whose names are NAMES separated by commas
 * (the stringified list), as one cmocka group as M says. Returns main's exit
 * status: cmocka's, or 1 when it could not start. */
int cmocka_main_run(const struct cmocka_main *m, const char *names,
                    const CMUnitTestFunction *fns, size_t n);

/* main() running the test functions named after the options, in order, with
 * the struct cmocka_main fields given as designated initialisers in OPTS
 * (in parentheses), e.g. CMOCKA_MAIN_WITH((.setup = setup, .teardown =
 * teardown, .secret = 1), test_a, test_b). */
#define CMOCKA_MAIN_WITH(opts, ...)                                                        \
    int main(void)                                                                         \
    {                                                                                      \
        const struct cmocka_main m = { CMOCKA_MAIN_UNPAREN_ opts };                        \
        static const CMUnitTestFunction fns[] = { __VA_ARGS__ };                           \
        return cmocka_main_run(&m, #__VA_ARGS__, fns, sizeof fns / sizeof fns[0]);         \
    }
#define CMOCKA_MAIN_UNPAREN_(...) __VA_ARGS__

/* main() running the test functions named, in order, as the group "tests"
 * with the group fixture SETUP and TEARDOWN (either may be NULL). */
#define CMOCKA_MAIN(setup_, teardown_, ...)                                                \
    CMOCKA_MAIN_WITH((.group_setup = (setup_), .group_teardown = (teardown_)), __VA_ARGS__)

#endif
