# issuance/ MRZ: unit and property tests, the civreg mrz commands, and the
# cross-check against the independent npm package mrz.
civreg_test(test_mrz SOURCES unit/test_mrz.c unit/mrz_random.c LIBS civreg_issuance_icao civreg_core)
civreg_test(test_mrz_cli SOURCES integration/test_mrz_cli.c unit/mrz_random.c LIBS civreg_issuance civreg_core)
target_include_directories(test_mrz PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
target_include_directories(test_mrz_cli PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
