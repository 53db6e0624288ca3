# core/ unit tests
civreg_test(test_core SOURCES unit/test_core.c LIBS civreg_core)
civreg_test(test_ed25519_batch SOURCES unit/test_ed25519_batch.c LIBS civreg_core)
