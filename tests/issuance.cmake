# issuance/ tests: LDS, EF.SOD, PKI, passive authentication.
civreg_test(test_issuance SOURCES unit/test_issuance.c LIBS civreg_issuance_pki civreg_db civreg_core)
civreg_test(test_chip SOURCES integration/test_chip.c LIBS civreg_core)
set_tests_properties(test_chip PROPERTIES TIMEOUT 120)
# foreign issuers: PKI and EF.SOD made with the openssl command line only
add_test(NAME chip_foreign
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/chip_foreign.sh
                 $<TARGET_FILE:civreg> ${PROJECT_SOURCE_DIR})
