#!/usr/bin/env bash
# Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#
# Runs libFuzzer targets one after the other, each for a bounded time on a copy of its seed corpus:
#   tests/fuzz/run.sh <build dir> <seconds> [target...]     (no target: every tests/fuzz/corpus/<target>)
# The fuzzer of <target> is <build dir>/tests/fuzz/fuzz_<target>. Its working corpus is
# <build dir>/fuzz/corpus/<target>: the committed seeds are copied in (and never written to), and what a run finds
# stays there for the next run. Crashes go to <build dir>/fuzz/artifacts/<target>/, the whole output to
# <build dir>/fuzz/logs/<target>.log. Prints one summary line per target; exits non-zero when any target failed
# (crash, sanitizer report, broken invariant, leak, timeout, out of memory).
set -euo pipefail

if [[ $# -lt 2 ]]; then
    echo "usage: $0 <build dir> <seconds> [target...]" >&2
    exit 2
fi
build_dir=$1
seconds=$2
shift 2
seeds_dir=$(cd "$(dirname "$0")" && pwd)/corpus
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    for dir in "$seeds_dir"/*/; do targets+=("$(basename "$dir")"); done
fi

# "#123 DONE cov: 1 ft: 2 corp: 3/4b ..." -> the value after <key>.
stat_of() { sed -n "s/.* $1: \([^ ]*\).*/\1/p" <<<"$2"; }

failed=()
for target in "${targets[@]}"; do
    fuzzer=$build_dir/tests/fuzz/fuzz_$target
    corpus=$build_dir/fuzz/corpus/$target
    artifacts=$build_dir/fuzz/artifacts/$target
    log=$build_dir/fuzz/logs/$target.log
    if [[ ! -x $fuzzer || ! -d $seeds_dir/$target ]]; then
        echo "fuzz_$target: no such fuzzer or seed corpus ($fuzzer, $seeds_dir/$target)" >&2
        failed+=("$target")
        continue
    fi
    mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
    cp -R "$seeds_dir/$target/." "$corpus/"

    touch "$artifacts/.started" # tells this run's crash inputs from earlier ones
    echo "fuzz_$target: fuzzing for ${seconds} s ..."
    status=0
    "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || status=$?

    if [[ $status -ne 0 ]]; then
        echo "fuzz_$target: FAILED (exit $status); from $log:" >&2
        # The log from the first report (broken invariant, sanitizer, libFuzzer) on: the stack traces are long.
        first_report='/invariant broken|runtime error|==ERROR|ERROR: libFuzzer/'
        awk "$first_report { found = 1 } found" "$log" | head -n 80 >&2 || true
        crashes=$(find "$artifacts" -type f -newer "$artifacts/.started" | tr "\n" " ")
        echo "fuzz_$target: inputs that failed: ${crashes:-none saved}" >&2
        failed+=("$target")
        continue
    fi
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
    echo "fuzz_$target: ok: ${runs} executions in ${seconds} s (${rate}/s), coverage $(stat_of cov "$done_line")" \
        "edges / $(stat_of ft "$done_line") features, corpus $(find "$corpus" -type f | wc -l) inputs," \
        "peak RSS ${rss} MB"
done

echo "fuzz: $((${#targets[@]} - ${#failed[@]})) passed, ${#failed[@]} failed"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzzing failed: ${failed[*]}" >&2
    exit 1
fi
