# web/ integration tests: the real server over loopback
civreg_test(test_serve SOURCES integration/test_serve.c LIBS civreg_core)
