# issuance/ passport office: the data page PDF (checked with poppler-utils),
# image headers, and (below) the applications workflow.
foreach(tool pdftotext pdffonts pdfinfo pdftoppm)
    string(TOUPPER ${tool} var)
    find_program(CIVREG_${var} ${tool})
    if(NOT CIVREG_${var})
        message(WARNING "${tool} not found (Debian package poppler-utils): the data page tests "
                        "will fail until it is installed (install/deps.sh)")
        set(CIVREG_${var} "")
    endif()
endforeach()
civreg_test(test_datapage SOURCES unit/test_datapage.c LIBS civreg_issuance_print civreg_core)
target_compile_definitions(test_datapage PRIVATE
    PDFTOTEXT="${CIVREG_PDFTOTEXT}" PDFFONTS="${CIVREG_PDFFONTS}"
    PDFINFO="${CIVREG_PDFINFO}" PDFTOPPM="${CIVREG_PDFTOPPM}")
target_link_libraries(test_datapage PRIVATE m Threads::Threads)
target_link_libraries(test_datapage PRIVATE PkgConfig::PNG)
civreg_test(test_office SOURCES unit/test_office.c LIBS civreg_issuance civreg_registry civreg_db civreg_core)
civreg_test(test_passport_cli SOURCES integration/test_passport_cli.c LIBS civreg_core)
target_compile_definitions(test_passport_cli PRIVATE PDFTOTEXT="${CIVREG_PDFTOTEXT}")
set_tests_properties(test_passport_cli PROPERTIES TIMEOUT 240)
civreg_test(test_passport_concurrency SOURCES integration/test_passport_concurrency.c
            LIBS civreg_issuance civreg_registry civreg_db civreg_core)
target_link_libraries(test_passport_concurrency PRIVATE Threads::Threads)

# Browser test of the passport office's screens (node + playwright-core +
# Debian's Chromium, through tests/browser/harness.mjs). Registered when the
# web module carries the passport office's routes.
if(CIVREG_NODE AND EXISTS ${PROJECT_SOURCE_DIR}/tests/browser/harness.mjs
   AND EXISTS ${PROJECT_SOURCE_DIR}/web/routes.c)
    file(READ ${PROJECT_SOURCE_DIR}/web/routes.c CIVREG_WEB_ROUTES_TEXT)
    if(CIVREG_WEB_ROUTES_TEXT MATCHES "CIVREG_PASSPORT_ROUTES")
        civreg_browser_test(passport TIMEOUT 420)
    endif()
endif()
# quality control reads every chip back (PACE/AA/CA): a longer run on a shared machine
set_tests_properties(test_passport_cli PROPERTIES TIMEOUT 600)
