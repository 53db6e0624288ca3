# issuance/reader tests: BAC and secure messaging (Doc 9303-11 worked
# examples), the virtual chip read in-process, and the PC/SC path with a
# real pcscd and vsmartcard-vpcd.
civreg_test(test_reader SOURCES unit/test_reader.c
            LIBS civreg_issuance_reader civreg_issuance civreg_db civreg_core)
# a real pcscd with vsmartcard-vpcd, `chip emulate` read by `chip read`
add_test(NAME chip_reader
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/chip_reader.sh
                 $<TARGET_FILE:civreg> ${PROJECT_SOURCE_DIR})
set_tests_properties(chip_reader PROPERTIES TIMEOUT 400 SKIP_RETURN_CODE 77)
civreg_test(test_vchip SOURCES integration/test_vchip.c
            LIBS civreg_issuance_reader civreg_issuance civreg_db civreg_core)
set_tests_properties(test_vchip PROPERTIES TIMEOUT 120)
