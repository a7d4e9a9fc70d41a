#!/usr/bin/env bash
# run.sh: runs every unit test, fuzz-corpus replay and CLI test, and sums their TAP results.
# Rule: a file that exits non-zero without a "not ok" line still counts one failure; the last line is
# "N passed, N failed, N skipped".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
case $O in /*) ;; *) O="$top/$O" ;; esac
export FT_BUILD="$O"
# The shared test data: $FT_TESTDATA, else ../shared beside the checkout (unit tests read it from here).
if [ -z "${FT_TESTDATA:-}" ] && [ -d "$top/../shared" ]; then FT_TESTDATA=$(cd "$top/../shared" && pwd); fi
export FT_TESTDATA="${FT_TESTDATA:-}"
pass=0 fail=0 skipped=0
failed_files=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_one() { # name, command...
    local name=$1
    shift
    "$@" >"$log" 2>&1
    local rc=$? p=0 f=0 s=0
    p=$(grep -cE '^ok [0-9]+' "$log" | head -1)
    s=$(grep -cE '^ok [0-9]+.*# SKIP' "$log")
    f=$(grep -cE '^not ok [0-9]+' "$log")
    p=$((p - s))
    if grep -qE '^1\.\.0 # SKIP' "$log"; then s=$((s + 1)); fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then f=1; echo "# $name ran no test" >>"$log"; fi
    pass=$((pass + p)) fail=$((fail + f)) skipped=$((skipped + s))
    if [ "$f" -gt 0 ]; then
        failed_files+=("$name")
        echo "FAIL $name ($p passed, $f failed, $s skipped)"
        sed 's/^/    /' "$log" | tail -n 60
    else
        printf '%-44s %3d passed%s\n' "$name" "$p" "$([ "$s" -gt 0 ] && echo ", $s skipped: $(grep -m1 -oE '# SKIP.*' "$log")")"
    fi
}

for t in "$O"/tests/test-*; do
    [ -x "$t" ] && run_one "unit/$(basename "$t")" "$t"
done
for t in "$O"/tests/fuzz-*-replay; do
    [ -x "$t" ] || continue
    n=$(basename "$t" -replay)
    run_one "fuzz/$n (corpus)" "$t" "$top/tests/fuzz/corpus/$n"
done
for t in "$top"/tests/cli/t[0-9]*.sh; do
    [ -f "$t" ] && run_one "cli/$(basename "$t")" bash "$t"
done
if [ ${#failed_files[@]} -gt 0 ]; then echo "failed: ${failed_files[*]}"; fi
echo "$pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
