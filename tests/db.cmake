# db/ unit tests, and the civreg command's integration tests (init, db check)
civreg_test(test_db SOURCES unit/test_db.c LIBS civreg_db civreg_core)
civreg_test(test_cli SOURCES integration/test_cli.c LIBS civreg_core)
civreg_test(test_db_check_cli SOURCES integration/test_db_check_cli.c LIBS civreg_core)
