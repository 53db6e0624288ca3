# Decompression bombs and costly pictures: the scanner's decoders (unit),
# `civreg scan decode`, the public seal check of a real server and the
# clerk's batch import, each with its peak resident memory measured.
add_library(civreg_bombgen STATIC scanner/bombgen.c)
civreg_strict(civreg_bombgen)
target_include_directories(civreg_bombgen PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(civreg_bombgen PUBLIC PkgConfig::JPEG z)
civreg_test(test_scan_bombs SOURCES unit/test_scan_bombs.c LIBS civreg_bombgen civreg_scanner)
set_tests_properties(test_scan_bombs PROPERTIES TIMEOUT 120 ENVIRONMENT
    "CMOCKA_MESSAGE_OUTPUT=STDOUT;LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/lsan-zbar.supp:print_suppressions=0")
civreg_test(test_image_bombs SOURCES integration/test_image_bombs.c
            LIBS civreg_bombgen civreg_pagegen civreg_scanner)
set_tests_properties(test_image_bombs PROPERTIES TIMEOUT 300 ENVIRONMENT
    "CMOCKA_MESSAGE_OUTPUT=STDOUT;LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/lsan-zbar.supp:print_suppressions=0")
if(TARGET civreg_issuance)
    civreg_test(test_photo_decode SOURCES unit/test_photo_decode.c LIBS civreg_issuance)
endif()
civreg_test(test_web_gate SOURCES unit/test_web_gate.c LIBS civreg_web)
