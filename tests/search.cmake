# registry search and duplicate detection: name keys, Jaro-Winkler, the
# query parser, and quality on a generated population of 100,000 people.
civreg_test(test_search SOURCES unit/test_search.c
            LIBS civreg_registry civreg_issuance civreg_db civreg_core m)
set_tests_properties(test_search PROPERTIES TIMEOUT 120)
