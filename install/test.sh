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

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_suite normal "$top/build"
run_suite "sanitizer (ASan+UBSan)" "$top/build-asan" -DCIVREG_SANITIZE=ON
echo "== civreg tests: both builds passed"
