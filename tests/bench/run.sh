#!/usr/bin/env bash
# run.sh: runs every benchmark in tests/bench/ (make bench), or those named (make bench BENCH=NAME), and
# prints what each one reports.
# Rule: a result that misses its target is printed as FAIL, not turned into an exit status; only a
# benchmark that breaks (a tool that fails, output that does not add up) makes this exit 1.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
O=${O:-build}
case $O in /*) ;; *) O="$top/$O" ;; esac
export O FT_BUILD="$O"
# The shared test data: $FT_TESTDATA, else ../shared beside the checkout; each benchmark prints
# '# SKIP reason' and exits 0 when what it needs is absent.
if [ -z "${FT_TESTDATA:-}" ] && [ -d "$top/../shared" ]; then FT_TESTDATA=$(cd "$top/../shared" && pwd); fi
export FT_TESTDATA="${FT_TESTDATA:-}"

# Arguments name benchmarks to run (make bench BENCH="dedup tokenize"); none runs them all.
rc=0
if [ $# -gt 0 ]; then
    set -- $(for n in "$@"; do echo "$here/${n%.sh}.sh"; done)
else
    set -- "$here"/*.sh
fi
for b in "$@"; do
    [ "$b" = "$here/run.sh" ] && continue
    [ -f "$b" ] || { echo "# no benchmark $(basename "$b" .sh) in tests/bench/"; rc=1; continue; }
    echo "## bench/$(basename "$b")"
    bash "$b"
    brc=$?
    if [ "$brc" -ne 0 ]; then
        echo "# bench/$(basename "$b") broke (exit $brc)"
        rc=1
    fi
done
exit $rc
