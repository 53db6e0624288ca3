# Benchmarks are part of the product: bench/all runs every one of them at a
# tiny size and fails when any stops working (a refused registration, a
# missing --help, a broken server start). It measures, it asserts no speed.
if(TARGET bench_registry)
    add_test(NAME bench_all_tiny
             COMMAND ${PROJECT_SOURCE_DIR}/bench/all --size tiny --build ${CMAKE_BINARY_DIR}
                     --out ${CMAKE_BINARY_DIR}/bench-tiny.json)
    set_tests_properties(bench_all_tiny PROPERTIES LABELS bench TIMEOUT 600)
endif()
