# JSON nesting bound and request-body wiping: the pre-scan every JSON input
# goes through (core/json.c), the depth attack against every JSON-reading
# web route and CLI command, and the body reader's wiping.
civreg_test(test_json_depth SOURCES unit/test_json_depth.c LIBS civreg_core)
