# registry search and duplicate detection: name keys, Jaro-Winkler, the
# query parser, and quality on a generated population of 100,000 people.
civreg_test(test_search SOURCES unit/test_search.c
            LIBS civreg_registry civreg_db civreg_core m)
set_tests_properties(test_search PROPERTIES TIMEOUT 120)
civreg_test(test_search_cli SOURCES integration/test_search_cli.c LIBS civreg_core PkgConfig::JANSSON)
set_tests_properties(test_search_cli PROPERTIES TIMEOUT 120)
# duplicate detection among namesakes born in other years; FTS5 automerge (migration 0014)
civreg_test(test_dedup_near SOURCES unit/test_dedup_near.c
            LIBS civreg_registry civreg_db civreg_core m)
set_tests_properties(test_dedup_near PROPERTIES TIMEOUT 120)
