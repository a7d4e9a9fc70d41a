# tests/bench/lib.bash: sourced by the benchmarks (it is not one: run.sh runs tests/bench/*.sh). Set
# bench_name (for messages) and RUNS first.

# bench_start CACHE: checks bash (>= 5, for $EPOCHREALTIME), makes CACHE, and sets gnutime (GNU time's path,
# or empty when it is missing) and tmp (a scratch dir removed at exit). Exits 1 when it cannot.
bench_start() {
    gnutime=/usr/bin/time
    if ! "$gnutime" -f %M true >/dev/null 2>&1; then gnutime=""; fi
    if [ -z "${EPOCHREALTIME:-}" ]; then
        echo "$bench_name: needs bash >= 5 (\$EPOCHREALTIME)" >&2
        exit 1
    fi
    mkdir -p "$1" || exit 1
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/ft-bench.XXXXXX") || exit 1
    trap 'rm -rf "$tmp"' EXIT
}

# measure CMD...: runs CMD RUNS times, its stdout to $measure_out (default $tmp/out); sets secs (wall), cpu
# (user + system, or n/a) and rss_kib (or empty) from the fastest run. cpu well under secs * threads means
# a busy machine. A failing CMD prints its last errors and returns 1.
measure() {
    local i t0 t1 s k c rc best="" bestk="" bestc="" out=${measure_out:-$tmp/out}
    for ((i = 0; i < RUNS; i++)); do
        t0=$EPOCHREALTIME
        if [ -n "$gnutime" ]; then
            "$gnutime" -f '%M %U %S' -o "$tmp/rss" "$@" >"$out" 2>"$tmp/err"
        else
            "$@" >"$out" 2>"$tmp/err"
        fi
        rc=$?
        t1=$EPOCHREALTIME
        if [ "$rc" -ne 0 ]; then
            echo "$bench_name: failed (exit $rc): $*" >&2
            tail -n 5 "$tmp/err" >&2
            return 1
        fi
        s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
        k="" c="n/a"
        if [ -n "$gnutime" ]; then
            read -r k c <<<"$(tail -n 1 "$tmp/rss" | awk '{ printf "%s %.3f", $1, $2 + $3 }')"
        fi
        if [ -z "$best" ] || awk -v a="$s" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best=$s bestk=$k bestc=$c
        fi
    done
    secs=$best rss_kib=$bestk cpu=$bestc
}
