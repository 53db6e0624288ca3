# web/ integration tests: the real server over loopback
civreg_test(test_serve SOURCES integration/test_serve.c LIBS civreg_core)
civreg_test(test_web SOURCES unit/test_web.c LIBS civreg_web)
civreg_test(test_web_http SOURCES integration/test_web_http.c LIBS civreg_web)
# With real users and records: only when the registry module is built.
if(TARGET civreg_registry)
    civreg_test(test_web_access SOURCES integration/test_web_access.c LIBS civreg_web)
    set_tests_properties(test_web_access PROPERTIES TIMEOUT 180)
endif()

# Browser tests: node + playwright-core driving Debian's /usr/bin/chromium
# against the real server. Exit code 77 = skipped (no browser installed).
find_program(CIVREG_NODE node)
if(CIVREG_NODE)
    set(CIVREG_BROWSER_TESTS signin)
    # Tests that need users and records: only with the registry module.
    if(TARGET civreg_registry)
        list(APPEND CIVREG_BROWSER_TESTS flow keying search)
    endif()
    foreach(t IN LISTS CIVREG_BROWSER_TESTS)
        add_test(NAME browser_${t}
                 COMMAND ${CIVREG_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/browser/${t}.test.mjs)
        set_tests_properties(browser_${t} PROPERTIES
            ENVIRONMENT "CIVREG_BIN=$<TARGET_FILE:civreg>;CIVREG_ARTIFACTS=${CMAKE_BINARY_DIR}/tests/artifacts"
            SKIP_RETURN_CODE 77 TIMEOUT 180 RUN_SERIAL TRUE)
    endforeach()
endif()
# Idle and slowloris connections from one address (about 10 s on loopback).
civreg_test(test_web_conn SOURCES integration/test_web_conn.c LIBS civreg_core)
set_tests_properties(test_web_conn PROPERTIES TIMEOUT 60)
# Sign-in throttling with short delays, trusted and spoofed X-Forwarded-For.
if(TARGET civreg_registry)
    civreg_test(test_web_signin SOURCES integration/test_web_signin.c LIBS civreg_core)
    set_tests_properties(test_web_signin PROPERTIES TIMEOUT 300)
endif()
# Account changes (disable, roles, password) end open sessions; account rules; log escaping.
if(TARGET civreg_registry)
    civreg_test(test_web_sessions SOURCES integration/test_web_sessions.c LIBS civreg_core)
    set_tests_properties(test_web_sessions PROPERTIES TIMEOUT 300)
endif()
# The users screen: roles, password reset, the account rules in en and fr.
if(CIVREG_NODE AND TARGET civreg_registry)
    add_test(NAME browser_users COMMAND ${CIVREG_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/browser/users.test.mjs)
    set_tests_properties(browser_users PROPERTIES
        ENVIRONMENT "CIVREG_BIN=$<TARGET_FILE:civreg>;CIVREG_ARTIFACTS=${CMAKE_BINARY_DIR}/tests/artifacts"
        SKIP_RETURN_CODE 77 TIMEOUT 180 RUN_SERIAL TRUE)
endif()
# Stored files through their objects, logged views, one office's records (registry).
if(TARGET civreg_registry)
    civreg_test(test_web_confine SOURCES integration/test_web_confine.c LIBS civreg_web)
    set_tests_properties(test_web_confine PROPERTIES TIMEOUT 300)
endif()
# Blind double entry and work queues; the screens of issue "a clerk's day" (browser).
if(CIVREG_NODE AND TARGET civreg_registry)
    foreach(t IN ITEMS blind screens extract)
        add_test(NAME browser_${t} COMMAND ${CIVREG_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/browser/${t}.test.mjs)
        set_tests_properties(browser_${t} PROPERTIES
            ENVIRONMENT "CIVREG_BIN=$<TARGET_FILE:civreg>;CIVREG_ARTIFACTS=${CMAKE_BINARY_DIR}/tests/artifacts;CIVREG_SCREENSHOTS=${CMAKE_BINARY_DIR}/screenshots"
            SKIP_RETURN_CODE 77 TIMEOUT 420 RUN_SERIAL TRUE)
    endforeach()
endif()
# Separator sheets and keying progress; the auditor's chain; a clerk's day in French (browser).
if(CIVREG_NODE AND TARGET civreg_registry)
    set(CIVREG_BROWSER_N15 chain)
    # printing separator sheets and the passport office need issuance
    if(TARGET civreg_issuance)
        list(APPEND CIVREG_BROWSER_N15 volumes day-fr)
    endif()
    foreach(t IN LISTS CIVREG_BROWSER_N15)
        add_test(NAME browser_${t} COMMAND ${CIVREG_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/browser/${t}.test.mjs)
        set_tests_properties(browser_${t} PROPERTIES
            ENVIRONMENT "CIVREG_BIN=$<TARGET_FILE:civreg>;CIVREG_ARTIFACTS=${CMAKE_BINARY_DIR}/tests/artifacts;CIVREG_SCREENSHOTS=${CMAKE_BINARY_DIR}/screenshots"
            SKIP_RETURN_CODE 77 TIMEOUT 420 RUN_SERIAL TRUE)
    endforeach()
endif()
# Every error code the server can send has an English and a French text in
# the browser's catalogues (web/assets/i18n, keys error.<code>); the second
# run checks a catalogue that lacks them, so a scan that finds nothing fails.
find_program(CIVREG_PYTHON3 python3)
add_test(NAME web_error_codes_i18n
         COMMAND ${CIVREG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/check_error_codes.py ${PROJECT_SOURCE_DIR})
add_test(NAME web_error_codes_i18n_planted
         COMMAND ${CIVREG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/check_error_codes.py ${PROJECT_SOURCE_DIR}
                 --catalogue ${CMAKE_CURRENT_SOURCE_DIR}/data/error_codes --expect-fail)
# Forms that help (pick-lists, register dates, errors beside the field,
# plausibility checks, keyboard-only keying) and every screen in French with
# the axe-core accessibility audit (browser).
if(CIVREG_NODE AND TARGET civreg_registry)
    foreach(t IN ITEMS forms french)
        add_test(NAME browser_${t} COMMAND ${CIVREG_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/browser/${t}.test.mjs)
        set_tests_properties(browser_${t} PROPERTIES
            ENVIRONMENT "CIVREG_BIN=$<TARGET_FILE:civreg>;CIVREG_ARTIFACTS=${CMAKE_BINARY_DIR}/tests/artifacts"
            SKIP_RETURN_CODE 77 TIMEOUT 420 RUN_SERIAL TRUE)
    endforeach()
endif()
target_sources(test_web_http PRIVATE support/webtest.c)
if(TARGET test_web_access)
    target_sources(test_web_access PRIVATE support/webtest.c)
endif()
if(TARGET test_web_confine)
    target_sources(test_web_confine PRIVATE support/webtest.c)
endif()
