#!/usr/bin/env bash
# pack.sh: packing and loading on the cleaned MOSS-003 samples (Baichuan2 tokenizer and template):
#   1. fill rate at seq_len 1024 and 2048: ft-pack's ffd beside Firefly's per-batch padding of the same
#      records (batches of 16 in input order, each padded to its longest record; computed here), target
#      ffd >= 99%;
#   2. ft-pack's throughput: MB/s of token stream read per second of CPU time (user + sys: ft-pack packs and
#      compresses on one thread, and on a shared machine the wall clock counts time spent waiting for a
#      core), zstd level 3, pinned to one core (target >= 100); the wall-clock figure is printed beside it;
#   3. the loader's delivery rate and memory: one epoch of a >= 2 GB data set (decompressed shard bytes)
#      built in a temp dir from the tokenized corpus repeated, through tests/bench/loader-driver.c pinned
#      to one core with its reader thread (targets >= 2M tokens/s, RSS < 256 MB); the data set is deleted.
# Rule: a missed target prints FAIL and exits 0; a broken run exits 1. FT_BENCH_GB sets the data set size.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
case $O in /*) ;; *) O="$top/$O" ;; esac
if [ -n "${FT_TESTDATA:-}" ]; then shared=$FT_TESTDATA; else shared=$(cd "$top/../shared" 2>/dev/null && pwd); fi
bench_name=pack
RUNS=${FT_BENCH_RUNS:-2}
GB=${FT_BENCH_GB:-2}
. "$top/tests/bench/lib.bash"
src=${shared:+$shared/data/moss/SFT_data/conversations}
tok=${shared:+$shared/tokenizers/baichuan2/tokenizer.model}
cache=$O/bench

if [ -z "$src" ] || [ ! -d "$src" ] || [ ! -f "$tok" ]; then
    echo "# SKIP pack: MOSS samples or the Baichuan2 tokenizer not found (../shared or \$FT_TESTDATA)"
    exit 0
fi
if ! command -v jq >/dev/null 2>&1; then
    echo "# SKIP pack: jq is not installed (make deps)"
    exit 0
fi
for t in ft-clean ft-tokenize ft-pack; do
    [ -x "$O/bin/$t" ] || { echo "pack: '$O/bin/$t' is not built (run make)" >&2; exit 1; }
done
bench_start "$cache"
pin=()
if command -v taskset >/dev/null 2>&1; then pin=(taskset -c 0); fi

pkgs="libcjson libutf8proc opencc libxxhash libzstd sentencepiece"
# shellcheck disable=SC2046
if ! ${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -pthread -I"$top/common" $(pkg-config --cflags $pkgs) \
    -o "$tmp/loader-driver" "$top/tests/bench/loader-driver.c" "$O/libft.a" $(pkg-config --libs $pkgs) \
    -lstdc++ -lpthread -lm -fopenmp; then
    echo "pack: cannot build the loader driver" >&2
    exit 1
fi

# $cache/pack-moss-L.tok (and .len, one record length per line): the MOSS samples cleaned with
# ft-clean --moss-tools=strip, tokenized at --max-seq-len L (the records Firefly would train on).
key=$(cd "$src" && { echo "recipe 1"; find . -name '*.json' -printf '%P %s %T@\n' | LC_ALL=C sort; } | md5sum | cut -d' ' -f1)
if [ "$(cat "$cache/pack-moss.key" 2>/dev/null)" != "$key" ]; then
    echo "# tokenizing the cleaned MOSS samples into $cache/pack-moss-*.tok (once; cached)"
    find "$src" -name '*.json' | LC_ALL=C sort >"$tmp/files"
    mapfile -t files <"$tmp/files"
    "$O/bin/ft-clean" -q --moss-tools=strip -o "$tmp/clean.jsonl" "${files[@]}" || exit 1
    for L in 1024 2048; do
        "$O/bin/ft-tokenize" -q -j 2 -t "$tok" -T baichuan2 --max-seq-len $L -o "$cache/pack-moss-$L.tok" \
            "$tmp/clean.jsonl" || exit 1
        "$O/bin/ft-tokenize" -q -j 2 -t "$tok" -T baichuan2 --max-seq-len $L --format jsonl "$tmp/clean.jsonl" |
            jq '.input_ids | length' >"$cache/pack-moss-$L.len" || exit 1
    done
    echo "$key" >"$cache/pack-moss.key"
fi

stat_field() { # DIR FIELD
    "$O/bin/ft-pack" stat "$1" | awk -v f="$2" '$1 == f { print $2 }'
}
verdict() { # VALUE OP TARGET
    awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { ok = op == ">=" ? v >= t : v < t; print ok ? "PASS" : "FAIL" }'
}

echo "# $(wc -l <"$cache/pack-moss-1024.len") cleaned MOSS-003 records (ft-clean --moss-tools=strip), Baichuan2 +" \
    "baichuan2 template; $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
fmt='%-8s %12s %20s %10s %10s\n'
# shellcheck disable=SC2059
printf "$fmt" seq_len "ffd fill" "Firefly B=16 fill" "ffd rows" "target"
for L in 1024 2048; do
    "$O/bin/ft-pack" -q --seq-len $L -o "$tmp/ffd-$L" "$cache/pack-moss-$L.tok" || exit 1
    ffd=$(stat_field "$tmp/ffd-$L" fill_rate)
    # Firefly: batches of 16 records in input order, each padded to its longest record.
    ff=$(awk '{ n++; s += $1; if ($1 > m) m = $1; if (n % 16 == 0) { p += 16 * m; m = 0 } }
              END { if (n % 16) p += (n % 16) * m; printf "%.4f", s / p }' "$cache/pack-moss-$L.len")
    # shellcheck disable=SC2059
    printf "$fmt" $L "$ffd" "$ff" "$(stat_field "$tmp/ffd-$L" rows)" "$(verdict "$ffd" ">=" 0.99) (>= 0.99)"
done

# ft-pack's throughput: enough copies of the 2048 stream (as operands) for >= 100 MB.
one=$(stat -c %s "$cache/pack-moss-2048.tok")
copies=$(((100000000 + one - 1) / one))
ops=()
for ((i = 0; i < copies; i++)); do ops+=("$cache/pack-moss-2048.tok"); done
measure_out=/dev/null measure "${pin[@]}" "$O/bin/ft-pack" -q -f --seq-len 2048 --zstd-level 3 -o "$tmp/thr" "${ops[@]}" || exit 1
mbs=$(awk -v b="$((one * copies))" -v s="$cpu" 'BEGIN { printf "%.1f", b / 1e6 / s }')
wall_mbs=$(awk -v b="$((one * copies))" -v s="$secs" 'BEGIN { printf "%.1f", b / 1e6 / s }')
echo "ft-pack --seq-len 2048 --zstd-level 3, ${pin[*]:-unpinned}: $(awk -v b="$((one * copies))" 'BEGIN { printf "%.1f", b / 1e6 }') MB" \
    "of token stream in $cpu s of CPU ($secs s wall, $wall_mbs MB/s; RSS $((${rss_kib:-0} / 1024)) MB): $mbs MB/s per core  $(verdict "$mbs" ">=" 100) (target >= 100 MB/s)"
rm -rf "$tmp/thr"

# The loader: a data set of >= GB GB of decompressed shards, 32 MB shards, window 2, prefetch 2, batches of 16.
raw=$(cd "$tmp/ffd-2048" && jq '[.shards[].raw_data.bytes] | add' index.json)
reps=$(((GB * 1000000000 + raw - 1) / raw))
ops=()
for ((i = 0; i < reps; i++)); do ops+=("$cache/pack-moss-2048.tok"); done
echo "# building a data set of $reps copies of the corpus in $tmp/big (deleted at the end)"
"$O/bin/ft-pack" -q --seq-len 2048 --shard-size 32M -o "$tmp/big" "${ops[@]}" || exit 1
rm -rf "$tmp/ffd-1024" "$tmp/ffd-2048"
big_raw=$(jq '[.shards[].raw_data.bytes] | add' "$tmp/big/index.json")
disk=$(du -sb "$tmp/big" | cut -f1)
cat "$tmp/big"/* >/dev/null
measure_out="$tmp/drv" RUNS=1 measure "${pin[@]}" "$tmp/loader-driver" "$tmp/big" 16 2 2 || exit 1
read -r rows tokens dsecs peak peak_shards shards <"$tmp/drv"
rate=$(awk -v t="$tokens" -v s="$dsecs" 'BEGIN { printf "%.2f", t / s / 1e6 }')
rss_mb=$((${rss_kib:-0} / 1024))
echo "loader: $(awk -v b="$big_raw" 'BEGIN { printf "%.2f", b / 1e9 }') GB decompressed ($(awk -v b="$disk" 'BEGIN { printf "%.2f", b / 1e9 }') GB" \
    "on disk), $shards shards of <= 32 MB, $rows rows, $tokens tokens in $dsecs s (cpu $cpu s), batches of 16," \
    "window 2, prefetch 2, ${pin[*]:-unpinned}"
echo "loader delivery: $rate M tokens/s  $(verdict "$rate" ">=" 2) (target >= 2M tokens/s)"
echo "loader memory: RSS $rss_mb MB, peak shard bytes held $(awk -v b="$peak" 'BEGIN { printf "%.1f", b / 1e6 }') MB" \
    "($peak_shards shards)  $(verdict "$rss_mb" "<" 256) (target < 256 MB)"
rm -rf "$tmp/big"
exit 0
