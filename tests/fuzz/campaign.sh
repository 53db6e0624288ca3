#!/usr/bin/env bash
# civreg: a coverage-guided fuzzing campaign over every target in
# tests/fuzz/ (see docs/fuzzing.md).
#
#   tests/fuzz/campaign.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Builds the clang libFuzzer build in build-fuzz/ (CIVREG_FUZZ=ON: ASan +
# UBSan + -fsanitize=fuzzer), then runs each target for SECONDS (default 60)
# with a memory limit (-rss_limit_mb=512, also the per-allocation limit) and
# a per-target -max_len, starting from its seed corpus tests/fuzz/corpus/NAME.
# What the run finds goes back into that replayed corpus directory:
#   - inputs that reach new coverage are merged (-merge=1, minimized set);
#   - crashes, leaks, out-of-memory and timeouts are saved there as
#     crash-*, leak-*, oom-*, timeout-* files, so every later build replays
#     them as the CTest test fuzz_NAME_corpus until they are fixed.
# Exit status 1 when any target left such a finding, 0 otherwise.
# Environment: FUZZ_JOBS (build parallelism, default nproc), FUZZ_BUILD_DIR.
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
secs=${1:-60}
shift || true
build=${FUZZ_BUILD_DIR:-$top/build-fuzz}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
rss_mb=512

# Every target declared in tests/fuzz/CMakeLists.txt, unless named.
if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(sed -n 's/^civreg_fuzz(\([a-z0-9_]*\).*/\1/p' "$top/tests/fuzz/CMakeLists.txt")
fi

# Inputs larger than a real one only slow the search: JSON documents are
# capped at 64 KiB here (a seal at 8 KiB), images at 1 MiB.
max_len() {
    local images=" png jpeg tiff pnm photo " chips=" sod tlv "
    local small=" web mrz utf8 codec conf docnumber search_query "
    if [[ $images == *" $1 "* ]]; then echo 1048576
    elif [[ $chips == *" $1 "* ]]; then echo 262144
    elif [[ $1 == vds ]]; then echo 8192
    elif [[ $small == *" $1 "* ]]; then echo 16384
    else echo 65536
    fi
}

echo "== building the libFuzzer build in $build"
cmake -S "$top" -B "$build" -DCMAKE_C_COMPILER=clang -DCIVREG_FUZZ=ON -DCIVREG_TESTS=ON \
      -DCIVREG_BENCH=OFF >/dev/null || exit 2
cmake --build "$build" -j "$jobs" --target "${targets[@]/#/fuzz_}" >/dev/null || exit 2

findings=0
for t in "${targets[@]}"; do
    bin=$build/tests/fuzz/fuzz_$t
    corpus=$top/tests/fuzz/corpus/$t
    work=$build/fuzz-work/$t
    mkdir -p "$work" "$corpus"
    before=$(ls "$corpus" | wc -l)
    echo "== fuzz_$t: ${secs}s, -rss_limit_mb=$rss_mb -max_len=$(max_len "$t")"
    "$bin" -max_total_time="$secs" -rss_limit_mb="$rss_mb" -malloc_limit_mb="$rss_mb" \
        -max_len="$(max_len "$t")" -timeout=20 -print_final_stats=1 \
        -artifact_prefix="$corpus/" "$work" "$corpus" >"$work.log" 2>&1
    rc=$?
    grep -E '^stat::(number_of_executed_units|peak_rss_mb|new_units_added)' "$work.log" |
        sed 's/^/   /'
    # Keep only what adds coverage to the replayed corpus.
    "$bin" -merge=1 -rss_limit_mb="$rss_mb" -max_len="$(max_len "$t")" -timeout=20 \
        "$corpus" "$work" >>"$work.log" 2>&1
    after=$(ls "$corpus" | wc -l)
    echo "   corpus: $before -> $after files"
    bad=$(ls "$corpus" | grep -E '^(crash|leak|oom|timeout|slow-unit)-' || true)
    if [ $rc -ne 0 ] || [ -n "$bad" ]; then
        echo "   FINDING (exit $rc), see $work.log:"
        for f in $bad; do echo "     tests/fuzz/corpus/$t/$f"; done
        findings=1
    fi
done
exit $findings
