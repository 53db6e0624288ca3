# The national tier against a real PostgreSQL 15 server each test starts in a
# temporary folder (tests/support/pg_cluster.sh; as the postgres user under
# root): three districts syncing, fork alarms, forged/replayed requests
# (test_national); kill -9 of either side during a 20,000-event push
# (test_national_kill); primary killed, standby promoted (test_national_failover).
# Exit 77 = skipped, only when the PostgreSQL server binaries are missing.
if(CIVREG_NATIONAL)
    civreg_test(test_national SOURCES integration/test_national.c support/national.c LIBS civreg_core)
    add_test(NAME test_national_kill COMMAND test_national kill)
    add_test(NAME test_national_failover COMMAND test_national failover)
    set_tests_properties(test_national test_national_kill test_national_failover PROPERTIES
                         SKIP_RETURN_CODE 77 ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=STDOUT")
    set_tests_properties(test_national PROPERTIES TIMEOUT 600)
    set_tests_properties(test_national_kill PROPERTIES TIMEOUT 1200)
    set_tests_properties(test_national_failover PROPERTIES TIMEOUT 900)
endif()
# The district side: national UIN blocks drawn offline and collisions refused
# at sync, background sync from `civreg serve`, TLS with CA verification.
if(CIVREG_NATIONAL)
    civreg_test(test_national_district SOURCES integration/test_national_district.c support/national.c
                LIBS civreg_core civreg_db)
    set_tests_properties(test_national_district PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1500
                         ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=STDOUT")
endif()
# national_push in process with real signed events: 1,000 registrations
# applied set-based (requests to PostgreSQL bounded), a UIN twice in one push,
# forged signatures found by the verification threads in log order.
if(CIVREG_NATIONAL)
    civreg_test(test_national_push SOURCES integration/test_national_push.c support/national.c
                LIBS civreg_national ${CIVREG_MODULE_LIBS})
    set_tests_properties(test_national_push PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900
                         ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=STDOUT")
endif()
# The registrar's web screen of cross-district duplicate cases: `civreg serve`
# of a district against the real national service (list, resolve, 503 when
# not configured, 502 unreachable, 504 within the timeout).
if(CIVREG_NATIONAL)
    civreg_test(test_national_web SOURCES integration/test_national_web.c support/national.c
                LIBS civreg_core)
    set_tests_properties(test_national_web PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600
                         ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=STDOUT")
endif()
# ... and in the browser (tests/browser/natdup.test.mjs): the registrar
# resolves cases in English and in French; screenshots natdup-*.png.
if(CIVREG_NATIONAL AND CIVREG_NODE AND TARGET civreg_registry)
    civreg_browser_test(natdup TIMEOUT 420 SCREENSHOTS)
endif()
# Every request of a district to the national tier bounded in time, against
# stand-in tiers on loopback (no PostgreSQL): refused at once (502), silent,
# never accepting, trickling a byte at a time: cut at the bound (504), on the
# command line, the web screen and the background sync.
if(CIVREG_NATIONAL)
    civreg_test(test_national_connect SOURCES integration/test_national_connect.c
                LIBS civreg_national ${CIVREG_MODULE_LIBS})
    set_tests_properties(test_national_connect PROPERTIES TIMEOUT 300
                         ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=STDOUT")
endif()
