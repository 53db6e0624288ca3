# scanner/ tests: decoders, barcodes, quality, separator sheets, and the
# generated corpus compared with zbarimg.
add_library(civreg_pagegen STATIC scanner/pagegen.c scanner/corpus.c)
civreg_strict(civreg_pagegen)
target_link_libraries(civreg_pagegen PUBLIC civreg_scanner PkgConfig::QRENCODE PkgConfig::JPEG
                                            PkgConfig::TIFF m)
add_executable(scan_corpus scanner/scan_corpus.c)
civreg_strict(scan_corpus)
target_link_libraries(scan_corpus PRIVATE civreg_pagegen)

civreg_test(test_scanner SOURCES unit/test_scanner.c LIBS civreg_pagegen civreg_scanner z)
civreg_test(test_scan_cli SOURCES integration/test_scan_cli.c LIBS civreg_pagegen civreg_scanner z)
add_test(NAME test_scan_corpus COMMAND test_scan_cli corpus)
set_tests_properties(test_scan_corpus PROPERTIES TIMEOUT 300)
# ZBar's own small leaks (see the file) must not fail the sanitizer build.
set_tests_properties(test_scanner test_scan_cli test_scan_corpus PROPERTIES ENVIRONMENT
    "CMOCKA_MESSAGE_OUTPUT=STDOUT;LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/lsan-zbar.supp:print_suppressions=0")
# scan import with the real registry (evidence, signed events, audit verify)
civreg_test(test_scan_import SOURCES integration/test_scan_import.c LIBS civreg_pagegen civreg_scanner)
add_test(NAME test_scan_import_kill COMMAND test_scan_import kill)
set_tests_properties(test_scan_import test_scan_import_kill PROPERTIES TIMEOUT 300 ENVIRONMENT
    "CMOCKA_MESSAGE_OUTPUT=STDOUT;LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/lsan-zbar.supp:print_suppressions=0")
