# issuance/reader tests: BAC and secure messaging (Doc 9303-11 worked
# examples), the virtual chip read in-process, and the PC/SC path with a
# real pcscd and vsmartcard-vpcd.
civreg_test(test_reader SOURCES unit/test_reader.c
            LIBS civreg_issuance_reader civreg_issuance civreg_db civreg_core)
