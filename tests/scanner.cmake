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
set_tests_properties(test_scan_cli PROPERTIES TIMEOUT 300)
