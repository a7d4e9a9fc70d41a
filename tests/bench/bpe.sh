#!/usr/bin/env bash
# bpe.sh: the byte-level BPE encoder (Qwen2 vocab.json + merges.txt, one thread) against spm_encode with
# the Llama-2 SentencePiece model, on the same >= 100 MB of cleaned MOSS-003 text in the same run: MB/s,
# tokens, load time, and the ratio ours/spm_encode against the target (>= 1x).
# Rule: both read the same cached text file, one text per line (newlines inside a text end its line, for
# both); the fastest of RUNS runs counts; a missed target prints FAIL and exits 0, a broken run exits 1.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
case $O in /*) ;; *) O="$top/$O" ;; esac
if [ -n "${FT_TESTDATA:-}" ]; then shared=$FT_TESTDATA; else shared=$(cd "$top/../shared" 2>/dev/null && pwd); fi
MB=${FT_BENCH_MB:-100}   # size of the generated text, in 10^6 bytes
RUNS=${FT_BENCH_RUNS:-2}
TARGET_RATIO=1
src=${shared:+$shared/data/moss/SFT_data/conversations}
qwen2=${shared:+$shared/tokenizers/qwen2}
llama2=${shared:+$shared/tokenizers/llama2/tokenizer.model}
cache=$O/bench

if [ -z "$src" ] || [ ! -d "$src" ] || [ ! -f "$qwen2/vocab.json" ] || [ ! -f "$llama2" ]; then
    echo "# SKIP bpe: MOSS samples or the Qwen2/Llama-2 tokenizers not found (../shared or \$FT_TESTDATA)"
    exit 0
fi
for t in spm_encode jq; do
    if ! command -v $t >/dev/null 2>&1; then
        echo "# SKIP bpe: $t is not installed (make deps)"
        exit 0
    fi
done
if [ ! -x "$O/bin/ft-clean" ] || [ ! -f "$O/libft.a" ]; then
    echo "bpe: '$O/bin/ft-clean' or '$O/libft.a' is not built (run make)" >&2
    exit 1
fi
mkdir -p "$cache" || exit 1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ft-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# The driver, built against this build's library.
pkgs="libcjson libutf8proc opencc libxxhash libzstd sentencepiece"
# shellcheck disable=SC2046
if ! ${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -pthread -I"$top/common" $(pkg-config --cflags $pkgs) \
    -o "$tmp/bpe-driver" "$top/tests/bench/bpe-driver.c" "$O/libft.a" $(pkg-config --libs $pkgs) -lstdc++ -lpthread -lm; then
    echo "bpe: cannot build the driver" >&2
    exit 1
fi

# $cache/moss-text.txt: every human/assistant text of the MOSS samples cleaned by ft-clean --moss-tools=strip,
# one per line (inner newlines kept, so long texts span lines), repeated until >= MB megabytes.
text=$cache/moss-text.txt
key=$(cd "$src" && { echo "recipe 1, $MB MB"; find . -name '*.json' -printf '%P %s %T@\n' | LC_ALL=C sort; } |
    md5sum | cut -d' ' -f1)
if ! [ -s "$text" ] || [ "$(cat "$text.key" 2>/dev/null)" != "$key" ]; then
    echo "# building $text (once; cached)"
    find "$src" -name '*.json' | LC_ALL=C sort >"$tmp/files"
    mapfile -t files <"$tmp/files"
    "$O/bin/ft-clean" -q --moss-tools=strip -o "$tmp/clean.jsonl" "${files[@]}" || exit 1
    jq -r '.conversation[] | .human, .assistant' "$tmp/clean.jsonl" >"$tmp/base.txt" || exit 1
    size=$(stat -c %s "$tmp/base.txt")
    reps=$(((MB * 1000000 + size - 1) / size))
    for ((r = 0; r < reps; r++)); do cat "$tmp/base.txt"; done >"$text.part" || exit 1
    mv "$text.part" "$text" && echo "$key" >"$text.key"
fi
bytes=$(stat -c %s "$text")
lines=$(wc -l <"$text")
cat "$text" >/dev/null

best() { # a b: the smaller
    awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a < b) ? a : b }'
}
ours="" load="" spm="" ours_tokens="" spm_tokens=""
for ((i = 0; i < RUNS; i++)); do
    read -r _ ours_tokens s l <<<"$("$tmp/bpe-driver" "$qwen2" "$text")" || exit 1
    [ -n "${s:-}" ] || { echo "bpe: the driver failed" >&2; exit 1; }
    ours=$(best "$s" "$ours") load=$(best "$l" "$load")
    t0=$EPOCHREALTIME
    spm_encode --model "$llama2" --output_format=id <"$text" >"$tmp/spm.out" || { echo "bpe: spm_encode failed" >&2; exit 1; }
    t1=$EPOCHREALTIME
    spm=$(best "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" "$spm")
    spm_tokens=$(wc -w <"$tmp/spm.out")
done
if [ "$(wc -l <"$tmp/spm.out")" != "$lines" ]; then
    echo "bpe: spm_encode wrote $(wc -l <"$tmp/spm.out") lines for $lines" >&2
    exit 1
fi
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')
echo "# $(awk -v b="$bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }') of cleaned MOSS-003 text, $lines lines ($text);" \
    "$(nproc) cores${cpu:+, $cpu}; fastest of $RUNS runs, one thread each"
fmt='%-46s %10s %12s %8s\n'
# shellcheck disable=SC2059
printf "$fmt" encoder seconds tokens MB/s
# shellcheck disable=SC2059
printf "$fmt" "ft bpe (Qwen2 vocab.json + merges.txt)" "$ours" "$ours_tokens" \
    "$(awk -v b="$bytes" -v s="$ours" 'BEGIN { printf "%.1f", b / 1e6 / s }')"
# shellcheck disable=SC2059
printf "$fmt" "spm_encode --output_format=id (Llama-2)" "$spm" "$spm_tokens" \
    "$(awk -v b="$bytes" -v s="$spm" 'BEGIN { printf "%.1f", b / 1e6 / s }')"
echo "# ft bpe load time (vocab.json + merges.txt): ${load} s; spm_encode's time includes its load and id output"
ratio=$(awk -v a="$ours" -v b="$spm" 'BEGIN { printf "%.2f", b / a }')
verdict=$(awk -v r="$ratio" -v t="$TARGET_RATIO" 'BEGIN { print (r >= t) ? "PASS" : "FAIL" }')
echo "ratio ft bpe / spm_encode (MB/s, one thread) = ${ratio}x  $verdict (target >= ${TARGET_RATIO}x)"
exit 0
