# Module layering: a module may include only the headers of the modules below
# it, as declared in tests/check_layers.py (docs/architecture.md draws the
# same graph). The second test runs the check over a tree with planted
# violations, so a check that stops finding them fails too.
find_program(CIVREG_PYTHON3 python3)
if(NOT CIVREG_PYTHON3)
    message(FATAL_ERROR "python3 not found: install the Debian package python3 (or run install/deps.sh)")
endif()
add_test(NAME module_layers
         COMMAND ${CIVREG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/check_layers.py ${PROJECT_SOURCE_DIR})
add_test(NAME module_layers_planted
         COMMAND ${CIVREG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/check_layers.py
                 --expect ${CMAKE_CURRENT_SOURCE_DIR}/data/layers/expected.txt
                 ${CMAKE_CURRENT_SOURCE_DIR}/data/layers)
