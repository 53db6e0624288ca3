# core/ unit tests
civreg_test(test_core SOURCES unit/test_core.c LIBS civreg_core)
