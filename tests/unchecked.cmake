# Results that must not be dropped: json_object_set_new/json_array_append_new
# (a failed insertion gives a silently shorter answer) and snprintf (a
# truncated name or path), in non-test code. See tests/check_unchecked.py.
find_program(CIVREG_PYTHON3 python3)
add_test(NAME unchecked_results
         COMMAND ${CIVREG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/check_unchecked.py ${PROJECT_SOURCE_DIR})
