# The access policy: docs/access.md generated from registry/access.c, every
# web route and command line check against the one table.
if(TARGET civreg_registry AND TARGET civreg_web)
    civreg_test(test_access_policy SOURCES integration/test_access_policy.c
                LIBS civreg_web civreg_registry)
    set_tests_properties(test_access_policy PROPERTIES TIMEOUT 2400)
endif()
