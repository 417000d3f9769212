#!/usr/bin/env bash
# Fuzz/run.sh [TARGET...]: runs each libFuzzer target (default: all), one after the other, for FUZZ_SECONDS (default
# 60), or to FUZZ_RUNS executions when that is set (libFuzzer's -runs; FUZZ_SECONDS, when given too, caps each run's
# time), on its seed corpus (Fuzz/corpus/<target>, read only) and a working corpus (Fuzz/.build/corpus/<target>,
# where new inputs go), with AddressSanitizer and LeakSanitizer on, then prints a table of executions, seconds and
# results. Exits 1 when any target crashed, leaked, timed out or ran out of memory; the input that did it is in
# Fuzz/.build/artifacts/<target>/. Build first with `make fuzz-build` (optimised, into .build/release; FUZZ_BIN
# picks another build). `Fuzz/run.sh --list` prints the targets.
set -uo pipefail
cd "$(dirname "$0")"
SECONDS_EACH="${FUZZ_SECONDS:-60}"
RUNS="${FUZZ_RUNS:-}"
BIN="${FUZZ_BIN:-.build/release}"
if [ -n "$RUNS" ]; then
    case "$RUNS" in *[!0-9]*) echo "FUZZ_RUNS must be a number of executions, not '$RUNS'" >&2; exit 2 ;; esac
    LIMIT=(-runs="$RUNS"); MODE="to $RUNS executions"
    if [ -n "${FUZZ_SECONDS:-}" ]; then LIMIT+=(-max_total_time="$SECONDS_EACH"); MODE="$MODE or ${SECONDS_EACH}s"; fi
else
    LIMIT=(-max_total_time="$SECONDS_EACH"); MODE="${SECONDS_EACH}s"
fi

# Longest input per target: past these sizes a parser only sees more of the same, and shorter inputs run faster.
declare -A MAX_LEN=(
    [FuzzClientDialog]=4096 [FuzzServerDialog]=4096 [FuzzHTTP]=4096 [FuzzLineReader]=2048 [FuzzBER]=1024
    [FuzzLDAPMessage]=2048 [FuzzFTPPassive]=256 [FuzzClientHello]=17000 [FuzzServerHello]=17000 [FuzzScenarioLoader]=8192
    [FuzzChainSpec]=4096 [FuzzPEM]=8192 [FuzzCertificateFacts]=6144
)
ALL=(FuzzClientDialog FuzzServerDialog FuzzHTTP FuzzLineReader FuzzBER FuzzLDAPMessage FuzzFTPPassive FuzzClientHello
    FuzzServerHello FuzzScenarioLoader FuzzChainSpec FuzzPEM FuzzCertificateFacts)
if [ "${1:-}" = --list ]; then printf '%s\n' "${ALL[@]}"; exit 0; fi
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL[@]}")

mkdir -p .build/fuzz-logs
failed=0
rows=()
for target in "${TARGETS[@]}"; do
    if [ -z "${MAX_LEN[$target]:-}" ]; then echo "unknown target $target (known: ${ALL[*]})" >&2; exit 2; fi
    if [ ! -x "$BIN/$target" ]; then echo "$BIN/$target is missing: run make fuzz-build" >&2; exit 2; fi
    mkdir -p ".build/corpus/$target" ".build/artifacts/$target"
    log=".build/fuzz-logs/$target.log"
    echo "== $target: $MODE, max_len ${MAX_LEN[$target]}"
    started=$(date +%s)
    ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}" "$BIN/$target" \
        "${LIMIT[@]}" -max_len="${MAX_LEN[$target]}" -timeout=10 -rss_limit_mb=2048 \
        -detect_leaks=1 -print_final_stats=1 -artifact_prefix=".build/artifacts/$target/" \
        ".build/corpus/$target" "corpus/$target" >"$log" 2>&1
    status=$?
    elapsed=$(( $(date +%s) - started ))
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    result=ok
    if [ $status -ne 0 ]; then
        failed=1
        if grep -q "ERROR: LeakSanitizer" "$log"; then result=leak
        elif grep -q "ERROR: libFuzzer: timeout" "$log"; then result=timeout
        elif grep -q "out-of-memory" "$log"; then result=oom
        else result=crash; fi
        result="$result ($(ls -t ".build/artifacts/$target" | head -1))"
        tail -40 "$log"
    fi
    rows+=("$(printf '| %-20s | %12s | %7s | %-8s |' "$target" "${executions:-?}" "$elapsed" "$result")")
done
echo
echo "Fuzzing, $MODE per target, $(date -u +%Y-%m-%d), $BIN:"
printf '| %-20s | %12s | %7s | %-8s |\n' target executions seconds result
echo "|----------------------|--------------|---------|----------|"
printf '%s\n' "${rows[@]}"
exit $failed
