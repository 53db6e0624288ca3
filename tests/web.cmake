# web/ integration tests: the real server over loopback
civreg_test(test_serve SOURCES integration/test_serve.c LIBS civreg_core)
civreg_test(test_web SOURCES unit/test_web.c LIBS civreg_web)
civreg_test(test_web_http SOURCES integration/test_web_http.c LIBS civreg_web)
