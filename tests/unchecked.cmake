# Results that must not be dropped: json_object_set_new/json_array_append_new
# (a failed insertion gives a silently shorter answer) and snprintf (a
# truncated name or path), in non-test code. See tests/check_unchecked.py.
find_program(CIVREG_PYTHON3 python3)
add_test(NAME unchecked_results
         COMMAND ${CIVREG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/check_unchecked.py ${PROJECT_SOURCE_DIR})
# The check over planted files: it must find the five dropped results of
# data/unchecked/bad and accept every form used in data/unchecked/good.
add_test(NAME unchecked_results_planted
         COMMAND ${CIVREG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/check_unchecked.py --expect 5
                 ${CMAKE_CURRENT_SOURCE_DIR}/data/unchecked/bad)
add_test(NAME unchecked_results_accepts
         COMMAND ${CIVREG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/check_unchecked.py --expect 0
                 ${CMAKE_CURRENT_SOURCE_DIR}/data/unchecked/good)
