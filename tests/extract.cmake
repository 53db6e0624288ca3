# Deaths and certified extracts: the registry and issuance APIs (unit), and
# the civreg binary end to end with independent tools (pdftoppm, qrencode,
# openssl) in a shell check.
civreg_test(test_extract SOURCES unit/test_extract.c
            LIBS civreg_registry civreg_issuance civreg_db civreg_core)
set_tests_properties(test_extract PROPERTIES TIMEOUT 120)
add_test(NAME extract_seal_cli
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/extract_seal.sh
                 $<TARGET_FILE:civreg> ${PROJECT_SOURCE_DIR})
set_tests_properties(extract_seal_cli PROPERTIES TIMEOUT 120)
set_tests_properties(extract_seal_cli PROPERTIES TIMEOUT 900)
