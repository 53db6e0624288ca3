# web/ integration tests: the real server over loopback
# An integration test that needs real users and records (the registry module)
# and may run for up to TIMEOUT seconds.
function(civreg_web_registry_test name lib timeout)
    if(TARGET civreg_registry)
        civreg_test(${name} SOURCES integration/${name}.c LIBS ${lib})
        set_tests_properties(${name} PROPERTIES TIMEOUT ${timeout})
    endif()
endfunction()
civreg_test(test_serve SOURCES integration/test_serve.c LIBS civreg_core)
civreg_test(test_web SOURCES unit/test_web.c LIBS civreg_web)
civreg_test(test_web_http SOURCES integration/test_web_http.c LIBS civreg_web)
# With real users and records: only when the registry module is built.
civreg_web_registry_test(test_web_access civreg_web 180)

# Browser tests (tests/browser.cmake).
if(CIVREG_NODE)
    set(CIVREG_BROWSER_TESTS signin)
    # Tests that need users and records: only with the registry module.
    if(TARGET civreg_registry)
        list(APPEND CIVREG_BROWSER_TESTS flow keying search)
    endif()
    foreach(t IN LISTS CIVREG_BROWSER_TESTS)
        civreg_browser_test(${t} TIMEOUT 180)
    endforeach()
endif()
# Idle and slowloris connections from one address (about 10 s on loopback).
civreg_test(test_web_conn SOURCES integration/test_web_conn.c LIBS civreg_core)
set_tests_properties(test_web_conn PROPERTIES TIMEOUT 60)
# Sign-in throttling with short delays, trusted and spoofed X-Forwarded-For.
civreg_web_registry_test(test_web_signin civreg_core 300)
# Account changes (disable, roles, password) end open sessions; account rules; log escaping.
civreg_web_registry_test(test_web_sessions civreg_core 300)
# The users screen: roles, password reset, the account rules in en and fr.
if(CIVREG_NODE AND TARGET civreg_registry)
    civreg_browser_test(users TIMEOUT 180)
endif()
# Stored files through their objects, logged views, one office's records (registry).
civreg_web_registry_test(test_web_confine civreg_web 300)
# Blind double entry and work queues; the screens of issue "a clerk's day" (browser).
if(CIVREG_NODE AND TARGET civreg_registry)
    foreach(t IN ITEMS blind screens extract)
        civreg_browser_test(${t} TIMEOUT 420 SCREENSHOTS)
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
        civreg_browser_test(${t} TIMEOUT 420 SCREENSHOTS)
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
        civreg_browser_test(${t} TIMEOUT 420)
    endforeach()
endif()
target_sources(test_web_http PRIVATE support/webtest.c)
if(TARGET test_web_access)
    target_sources(test_web_access PRIVATE support/webtest.c)
endif()
if(TARGET test_web_confine)
    target_sources(test_web_confine PRIVATE support/webtest.c)
endif()
