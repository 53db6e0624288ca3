# Browser tests: node + playwright-core driving Debian's /usr/bin/chromium
# against the real server (tests/browser/*.test.mjs). Exit code 77 = skipped
# (no browser installed). The tests are registered by the module files that
# own them (web.cmake, passport.cmake) through civreg_browser_test.
find_program(CIVREG_NODE node)

# civreg_browser_test(NAME TIMEOUT SECONDS [SCREENSHOTS]): tests/browser/NAME.test.mjs
# as the CTest test browser_NAME, run alone, with the civreg binary and the
# artifacts folder (and with SCREENSHOTS, the screenshots folder) in its
# environment.
function(civreg_browser_test name)
    cmake_parse_arguments(B "SCREENSHOTS" "TIMEOUT" "" ${ARGN})
    set(env "CIVREG_BIN=$<TARGET_FILE:civreg>;CIVREG_ARTIFACTS=${CMAKE_BINARY_DIR}/tests/artifacts")
    if(B_SCREENSHOTS)
        string(APPEND env ";CIVREG_SCREENSHOTS=${CMAKE_BINARY_DIR}/screenshots")
    endif()
    add_test(NAME browser_${name} COMMAND ${CIVREG_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/browser/${name}.test.mjs)
    set_tests_properties(browser_${name} PROPERTIES ENVIRONMENT "${env}"
                         SKIP_RETURN_CODE 77 TIMEOUT ${B_TIMEOUT} RUN_SERIAL TRUE)
endfunction()
