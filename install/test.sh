#!/usr/bin/env bash
# civreg: install dependencies, then build and run the whole test suite twice:
# a normal build (build/) and an AddressSanitizer + UndefinedBehaviorSanitizer
# build (build-asan/). Exit 0 only when both pass.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

"$top/install/deps.sh"

run_suite() {
    local name=$1 dir=$2
    shift 2
    echo "== civreg tests: $name build ($dir)"
    "$top/install/build.sh" "$dir" "$@"
    (cd "$dir" && ctest --output-on-failure -j "$jobs" --timeout 1500)
}

# Every documented build configuration must compile (warnings are errors):
# the README's Release build (-O3, gcc), Debug, the clang build, and the
# coverage-guided fuzzing build (clang, -fsanitize=fuzzer on every target in
# tests/fuzz/). Compile only; RelWithDebInfo (build/) and the sanitizer build
# are compiled and tested by run_suite below. Debug builds only the civreg
# binary and the fuzz build only its fuzz targets, to keep this short.
build_configs() {
    local fuzz_targets
    echo "== civreg builds: Release, Debug (gcc), clang, libFuzzer (clang)"
    cmake -S "$top" -B "$top/build-release" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$top/build-release" -j "$jobs"
    cmake -S "$top" -B "$top/build-debug" -DCMAKE_BUILD_TYPE=Debug >/dev/null
    cmake --build "$top/build-debug" -j "$jobs" --target civreg
    CC=clang cmake -S "$top" -B "$top/build-clang" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$top/build-clang" -j "$jobs"
    cmake -S "$top" -B "$top/build-fuzz" -DCMAKE_C_COMPILER=clang -DCIVREG_FUZZ=ON \
          -DCIVREG_TESTS=ON -DCIVREG_BENCH=OFF >/dev/null
    fuzz_targets=$(sed -n 's/^civreg_fuzz(\([a-z0-9_]*\).*/fuzz_\1/p' "$top/tests/fuzz/CMakeLists.txt")
    # shellcheck disable=SC2086
    cmake --build "$top/build-fuzz" -j "$jobs" --target $fuzz_targets
    # Each really is a libFuzzer binary (-fsanitize=fuzzer linked in).
    for t in $fuzz_targets; do
        local help
        help=$("$top/build-fuzz/tests/fuzz/$t" -help=1 2>&1 || true)
        case $help in
            *libFuzzer*) ;;
            *) echo "build-fuzz/tests/fuzz/$t is not a libFuzzer binary" >&2; return 1 ;;
        esac
    done
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

build_configs
run_suite normal "$top/build"
run_suite "sanitizer (ASan+UBSan)" "$top/build-asan" -DCIVREG_SANITIZE=ON
echo "== civreg tests: both builds passed"
