# scanner/barcode.c: doubtful reads (contained partial reads, too short for
# their symbology) dropped, on synthetic symbol lists and through ZBar.
civreg_test(test_barcode_filter SOURCES unit/test_barcode_filter.c LIBS civreg_pagegen civreg_scanner)
set_tests_properties(test_barcode_filter PROPERTIES ENVIRONMENT
    "CMOCKA_MESSAGE_OUTPUT=STDOUT;LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/lsan-zbar.supp:print_suppressions=0")
