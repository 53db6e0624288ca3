# registry/ tests: unit (Merkle tree against the RFC 6962 / CT vectors, UIN,
# record fields), the civreg commands end to end (lifecycle, four-eyes, tamper
# detection, bundles, kill -9 during an import), and two processes
# registering at once.
civreg_test(test_registry SOURCES unit/test_registry.c
            LIBS civreg_registry civreg_db civreg_core)
civreg_test(test_registry_cli SOURCES integration/test_registry_cli.c LIBS civreg_core)
civreg_test(test_registry_concurrency SOURCES integration/test_registry_concurrency.c
            LIBS civreg_registry civreg_db civreg_core)
set_tests_properties(test_registry_cli test_registry_concurrency PROPERTIES TIMEOUT 240)
civreg_test(test_registry_faults SOURCES unit/test_registry_faults.c
            LIBS civreg_registry civreg_db civreg_core)
civreg_test(test_record_import_resume SOURCES integration/test_record_import_resume.c
            LIBS civreg_core)
set_tests_properties(test_record_import_resume PROPERTIES TIMEOUT 400)
# audit verify: every column of every table the log defines edited on a copy
# of a populated data directory (the list read from the schema), every table
# losing a row, two event bodies swapped: each named by the audit.
civreg_test(test_audit_projection SOURCES integration/test_audit_projection.c LIBS civreg_core)
set_tests_properties(test_audit_projection PROPERTIES TIMEOUT 600)
# audit verify with its signature checks in worker threads reports exactly
# what the serial audit reports, forged keys included
civreg_test(test_audit_par SOURCES unit/test_audit_par.c
            LIBS civreg_registry civreg_db civreg_core)
# Plausibility checks of keyed records and the error codes they carry.
civreg_test(test_record_plausible SOURCES unit/test_record_plausible.c
            LIBS civreg_registry civreg_db civreg_core)
