#!/usr/bin/env bash
# clean.sh: ft-clean against `jq -c` on a >= 200 MB MOSS-003 JSONL built from the shared samples, measured
# in the same run: records/s, MB/s, peak RSS, and the ratio ft-clean/jq against the targets (>= 3x jq's
# records/s on one thread with all default filters, peak RSS < 64 MiB).
# Rule: both tools read the same cached input and write their output to a file through stdout (ft-clean's
# -o would also fsync it, jq does not); a missed target prints FAIL and exits 0, only a broken run (a tool
# fails, counts do not add up) exits 1.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
case $O in /*) ;; *) O="$top/$O" ;; esac
if [ -n "${FT_TESTDATA:-}" ]; then shared=$FT_TESTDATA; else shared=$(cd "$top/../shared" 2>/dev/null && pwd); fi
src=${shared:+$shared/data/moss/SFT_data/conversations}
MB=${FT_BENCH_MB:-200}     # size of the generated input, in 10^6 bytes
RUNS=${FT_BENCH_RUNS:-2}   # runs of every measurement; the fastest counts, the same for every tool
TARGET_RATIO=3
TARGET_RSS_MIB=64
bin=$O/bin/ft-clean
cache=$O/bench

bench_name=clean
. "$top/tests/bench/lib.bash"
if [ -z "$src" ] || [ ! -d "$src/conversation_without_plugins" ]; then
    echo "# SKIP clean: MOSS-003 samples not found (../shared/data/moss or \$FT_TESTDATA)"
    exit 0
fi
if ! command -v jq >/dev/null 2>&1; then
    echo "# SKIP clean: jq, the peer, is not installed (Debian package jq: make deps)"
    exit 0
fi
if [ ! -x "$bin" ]; then
    echo "clean: '$bin' is not built (run make)" >&2
    exit 1
fi
bench_start "$cache"

# The peer's program: the same conversion ft-clean does to the Firefly shape, minus normalization and
# filters. MOSS texts are "<|Human|>: ...<eoh>\n" and "<|MOSS|>: ...<eom>\n"; the markers are cut with
# ltrimstr/rtrimstr, jq's fastest way (a regex sub() is about 2.5x slower), so jq is not handicapped.
cat >"$tmp/moss-to-firefly.jq" <<'EOF'
{conversation_id, category,
 conversation: [.chat[] | {human: (.Human | ltrimstr("<|Human|>: ") | rtrimstr("\n") | rtrimstr("<eoh>")),
                           assistant: (.MOSS | ltrimstr("<|MOSS|>: ") | rtrimstr("\n") | rtrimstr("<eom>"))}]}
EOF

# make_input NAME SUBDIR: $cache/moss-NAME.jsonl holds every sample file under SUBDIR compacted to one
# line (jq -c), repeated with distinct conversation_ids ("<rep>-<id>") until it is >= MB megabytes.
# Rebuilt only when the samples, MB or this recipe change.
make_input() {
    local name=$1 dir=$src/$2 key size reps r
    local out=$cache/moss-$name.jsonl
    key=$(cd "$dir" && { echo "recipe 1, $MB MB"; find . -name '*.json' -printf '%P %s %T@\n' | LC_ALL=C sort; } |
        md5sum | cut -d' ' -f1)
    if [ -s "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then return 0; fi
    echo "# building $out (once; cached)"
    (cd "$dir" && find . -name '*.json' -print0 | LC_ALL=C sort -z |
        xargs -0 jq -c '.conversation_id = "@REP@-\(.conversation_id)"') >"$tmp/base.jsonl" || return 1
    size=$(stat -c %s "$tmp/base.jsonl")
    [ "$size" -gt 0 ] || return 1
    reps=$(((MB * 1000000 + size - 1) / size))
    for ((r = 1; r <= reps; r++)); do
        sed "s/^{\"conversation_id\":\"@REP@-/{\"conversation_id\":\"$r-/" "$tmp/base.jsonl"
    done >"$out.part" || return 1
    mv "$out.part" "$out" && echo "$key" >"$out.key"
}

fmt='%-16s %-14s %8s %8s %8s %8s %10s %8s %10s\n'
row() { # input tool records out
    local rps mbs rss
    rps=$(awk -v n="$3" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
    mbs=$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.1f", (s > 0 ? b / 1e6 / s : 0) }')
    rss=$([ -n "$rss_kib" ] && awk -v k="$rss_kib" 'BEGIN { printf "%.1f MiB", k / 1024 }' || echo "n/a")
    # shellcheck disable=SC2059
    printf "$fmt" "$1" "$2" "$3" "$4" "$secs" "$cpu" "$rps" "$mbs" "$rss"
    last_rps=$rps
}

# bench NAME: the three measurements on moss-NAME.jsonl; sets ratio[NAME] and rss[NAME].
declare -A ratio rss
bench() {
    local name=$1 records kept lines ft_rps jq_rps
    local in=$cache/moss-$name.jsonl
    bytes=$(stat -c %s "$in")
    records=$(wc -l <"$in")
    cat "$in" >/dev/null # same page cache state for every tool
    measure "$bin" -j 1 -q --stats "$tmp/stats.json" -o - "$in" || return 1
    kept=$(jq .kept "$tmp/stats.json")
    if [ "$(jq .in "$tmp/stats.json")" != "$records" ] || [ "$(wc -l <"$tmp/out")" != "$kept" ]; then
        echo "clean: ft-clean's counts do not add up on $in: $(tr -d ' \n' <"$tmp/stats.json")" >&2
        return 1
    fi
    row "$name" "ft-clean -j 1" "$records" "$kept"
    ft_rps=$last_rps
    rss[$name]=$rss_kib
    measure jq -c -f "$tmp/moss-to-firefly.jq" "$in" || return 1
    lines=$(wc -l <"$tmp/out")
    if [ "$lines" != "$records" ]; then
        echo "clean: jq wrote $lines records for $records on $in" >&2
        return 1
    fi
    row "$name" "jq -c" "$records" "$lines"
    jq_rps=$last_rps
    ratio[$name]=$(awk -v a="$ft_rps" -v b="$jq_rps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    measure "$bin" -j 2 -q -o - "$in" || return 1
    row "$name" "ft-clean -j 2" "$records" "$(wc -l <"$tmp/out")"
    rm -f "$tmp/out"
}

make_input all . || exit 1
make_input without-plugins conversation_without_plugins || exit 1

cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')
echo "# $("$bin" --version), $(jq --version); $(nproc) cores${cpu:+, $cpu}; fastest of $RUNS runs"
for name in all without-plugins; do
    in=$cache/moss-$name.jsonl
    echo "# $name: $(awk -v b="$(stat -c %s "$in")" 'BEGIN { printf "%.1f MB", b / 1e6 }'), $(wc -l <"$in")" \
        "records ($in)"
done
echo "# ft-clean: all default filters (MOSS tool-use conversations are dropped early: 'all' has them," \
    "'without-plugins' has none, so there both tools convert every record); jq: marker stripping only"
# shellcheck disable=SC2059
printf "$fmt" input tool records out seconds "cpu s" records/s MB/s "peak RSS"
bench all || exit 1
bench without-plugins || exit 1

verdict() { # ok-condition text
    if awk "BEGIN { exit !($1) }"; then echo "PASS"; else echo "FAIL"; fi
}
for name in all without-plugins; do
    r=${ratio[$name]} k=${rss[$name]}
    printf '%-16s ratio ft-clean/jq (records/s, one thread) = %sx  %s (target >= %sx)\n' "$name" "$r" \
        "$(verdict "$r >= $TARGET_RATIO")" "$TARGET_RATIO"
    if [ -n "$k" ]; then
        printf '%-16s peak RSS ft-clean -j 1 = %s MiB  %s (target < %s MiB)\n' "$name" \
            "$(awk -v k="$k" 'BEGIN { printf "%.1f", k / 1024 }')" \
            "$(verdict "$k < $TARGET_RSS_MIB * 1024")" "$TARGET_RSS_MIB"
    else
        printf '%-16s peak RSS not measured: GNU time missing (Debian package time: make deps)\n' "$name"
    fi
done
exit 0
