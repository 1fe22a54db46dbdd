#!/bin/sh
# Builds the fuzz targets and runs each for SECONDS seconds: `make fuzz` (FUZZ_SECONDS,
# FUZZ_TARGETS) calls it from the repository root. First replays Fuzz/Regressions/<target>/
# (every crash found so far), then fuzzes from a working corpus in .build-fuzz/corpus/<target>
# seeded with Fuzz/Corpus/<target>, so the repository keeps only the seeds. Prints per target
# executions per second and the final corpus size; exits non-zero when any input crashed,
# timed out or ran out of memory (reproducers in .build-fuzz/artifacts/).
set -u
SECONDS_EACH=${1:-60}
shift 2> /dev/null
TARGETS=${*:-FuzzFlow FuzzCSV FuzzPNG FuzzJPEG FuzzSafetensors}
SWIFT=${SWIFT:-swift}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$ROOT/.build-fuzz
# Release (-O keeps every bounds and overflow check, and debug info for the stack traces) runs
# 2-3 times as many inputs a second as debug; FUZZ_CONFIG=debug for exact line numbers.
CONFIG=${FUZZ_CONFIG:-release}
# Swift's own crash backtracer reads the stack in a way ASan reports as an overflow, hiding
# the real finding; libFuzzer prints the stack itself.
export SWIFT_BACKTRACE=enable=no

mkdir -p "$WORK/artifacts" "$WORK/logs"
# -parse-as-library: libFuzzer's main is the program's. Fuzz/Package.swift stays at tools
# version 5.4, below the 5.5 at which SwiftPM would alias main to <target>_main.
# (The linker's "Cannot export local symbol" warnings from ASan are noise and filtered out.)
if ! (cd "$ROOT/Fuzz" && $SWIFT build -c "$CONFIG" --scratch-path "$WORK" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library > "$WORK/logs/build.log" 2>&1); then
    grep -v "Cannot export local symbol" "$WORK/logs/build.log" >&2
    echo "fuzz: the build failed" >&2
    exit 2
fi
grep -v "Cannot export local symbol" "$WORK/logs/build.log" | tail -n 1

max_len() {
    case $1 in
        FuzzPNG|FuzzJPEG|FuzzSafetensors) echo 65536 ;;
        *) echo 16384 ;;
    esac
}

failed=""
summary=""
for target in $TARGETS; do
    binary=$WORK/$CONFIG/$target
    [ -x "$binary" ] || { echo "fuzz: $binary was not built" >&2; exit 2; }
    options="-rss_limit_mb=4096 -timeout=10 -max_len=$(max_len "$target") -dict=$ROOT/Fuzz/Dictionaries/$target.dict"
    log=$WORK/logs/$target.log

    regressions=$ROOT/Fuzz/Regressions/$target
    if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
        echo "== $target: replaying $(ls "$regressions" | wc -l | tr -d ' ') regression input(s)"
        if ! "$binary" $options "$regressions"/* > "$log.regressions" 2>&1; then
            input=$(sed -n 's/^Running: //p' "$log.regressions" | tail -n 1)
            grep -m 1 -E "Fatal error|^==[0-9]+==ERROR" "$log.regressions" >&2
            echo "fuzz: $target still fails on $input; see $log.regressions" >&2
            failed="$failed $target(regression)"
        fi
    fi

    corpus=$WORK/corpus/$target
    mkdir -p "$corpus"
    cp -n "$ROOT/Fuzz/Corpus/$target"/* "$corpus"/ 2> /dev/null
    echo "== $target: fuzzing for ${SECONDS_EACH}s (log: $log)"
    "$binary" $options -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
        -artifact_prefix="$WORK/artifacts/$target-" "$corpus" > "$log" 2>&1
    status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    corp=$(sed -n 's/.*DONE.*corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' "$log" | tail -n 1)
    if [ $status -ne 0 ]; then
        failed="$failed $target"
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        grep -m 1 -E "^==[0-9]+==ERROR|Fatal error|ERROR: libFuzzer" "$log" >&2
        echo "fuzz: $target FAILED (exit $status); reproducer: ${artifact:-see $log}" >&2
        line="$target: FAILED after ${runs:-?} executions, ${rate:-?} exec/s"
    else
        line="$target: ${runs:-?} executions, ${rate:-?} exec/s, corpus ${corp%%/*} inputs (${corp#*/})"
    fi
    echo "$line"
    summary="$summary$line
"
done

echo "== fuzz summary (${SECONDS_EACH}s per target)"
printf "%s" "$summary"
if [ -n "$failed" ]; then
    echo "fuzz: findings in:$failed" >&2
    exit 1
fi
