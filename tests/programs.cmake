# Every external program that tests/, bench/ and install/ run comes from a
# Debian package that install/deps.sh installs (tests/check_programs.py).
find_program(CIVREG_PYTHON3 python3)
if(CIVREG_PYTHON3)
    add_test(NAME check_programs
             COMMAND ${CIVREG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/check_programs.py
                     ${PROJECT_SOURCE_DIR})
    set_tests_properties(check_programs PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)
endif()
