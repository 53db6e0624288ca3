# JSON nesting bound and request-body wiping: the pre-scan every JSON input
# goes through (core/json.c), the depth attack against every JSON-reading
# web route and CLI command, and the body reader's wiping.
civreg_test(test_json_depth SOURCES unit/test_json_depth.c LIBS civreg_core)
# Every free()/realloc() of civreg's code goes through the test's checks for
# an unwiped password (see the comment at the top of test_web_body.c).
civreg_test(test_web_body SOURCES unit/test_web_body.c LIBS civreg_web)
target_link_options(test_web_body PRIVATE "LINKER:--wrap=free,--wrap=realloc")
if(TARGET civreg_registry)
    civreg_test(test_web_json_depth SOURCES integration/test_web_json_depth.c LIBS civreg_web)
    set_tests_properties(test_web_json_depth PROPERTIES TIMEOUT 300)
endif()
if(TARGET civreg_registry AND TARGET civreg_issuance)
    civreg_test(test_cli_json_depth SOURCES integration/test_cli_json_depth.c LIBS civreg_core)
    set_tests_properties(test_cli_json_depth PROPERTIES TIMEOUT 300)
endif()
if(TARGET test_web_json_depth)
    target_sources(test_web_json_depth PRIVATE support/webtest.c)
endif()
