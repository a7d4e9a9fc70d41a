#!/usr/bin/env bash
# tokenize.sh: ft-tokenize against the SentencePiece library's own CLI and a Python Firefly-style loop on
# >= 100 MB of cleaned MOSS-003 conversations (the shared samples through ft-clean --moss-tools=strip,
# repeated), Baichuan2 tokenizer, baichuan2 template, measured in the same run:
#   (a) spm_encode --output_format=id (Debian package sentencepiece), the library's encoder with nothing
#       around it: the floor;
#   (b) tests/tokenize/firefly_ref.py (python3-sentencepiece): per-segment encode + mask, as Firefly does;
#   (c) ft-tokenize -j 1 and -j 2, binary token stream to /dev/null.
# Targets: ft-tokenize -j 1 >= 0.9x spm_encode (template, mask and I/O cost <= 10%), -j 2 >= 1.7x -j 1,
# -j 2 >= 2.5x the Python loop.
# The common basis: every rate is the JSONL input's bytes divided by the seconds a tool takes to encode it.
# spm_encode cannot read JSONL, so it gets the same texts (every human and assistant text, JSON escapes
# decoded, in order, one per line: a text's own newlines just start new lines) and its time is the time to
# encode all the text the JSONL holds; its MB/s of text is printed as well. It encodes slightly less than
# ft-tokenize (no template markers, newlines not encoded), which favours it.
# Rule: a missed target prints FAIL and exits 0; only a broken run (a tool fails) exits 1.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
case $O in /*) ;; *) O="$top/$O" ;; esac
build=$O
if [ -n "${FT_TESTDATA:-}" ]; then shared=$FT_TESTDATA; else shared=$(cd "$top/../shared" 2>/dev/null && pwd); fi
src=${shared:+$shared/data/moss/SFT_data/conversations}
model=${shared:+$shared/tokenizers/baichuan2/tokenizer.model}
MB=${FT_BENCH_MB:-100}    # size of the generated input, in 10^6 bytes
RUNS=${FT_BENCH_RUNS:-1}  # runs of every measurement (each is a minute or two here); the fastest counts
TEMPLATE=baichuan2
bin=$O/bin/ft-tokenize
clean=$O/bin/ft-clean
cache=$O/bench
. "$top/tests/tokenize/lib.sh"

bench_name=tokenize
. "$top/tests/bench/lib.bash"
if [ -z "$src" ] || [ ! -d "$src" ] || [ ! -f "$model" ]; then
    echo "# SKIP tokenize: MOSS-003 samples or the Baichuan2 tokenizer not found (../shared or \$FT_TESTDATA)"
    exit 0
fi
if ! command -v spm_encode >/dev/null 2>&1; then
    echo "# SKIP tokenize: spm_encode, the peer, is not installed (Debian package sentencepiece: make deps)"
    exit 0
fi
if [ ! -x "$bin" ]; then
    echo "# SKIP tokenize: '$bin' is not built yet"
    exit 0
fi
if [ ! -x "$clean" ] || ! command -v jq >/dev/null 2>&1; then
    echo "tokenize: needs '$clean' (make) and jq to build the input" >&2
    exit 1
fi
bench_start "$cache"

# $cache/tokenize-moss.jsonl: every MOSS sample cleaned (tool parts stripped, all 1120 kept), repeated with
# distinct conversation_ids ("<rep>-<id>") until >= MB megabytes; $cache/tokenize-moss.txt: its texts for
# spm_encode. Rebuilt only when the samples, MB, ft-clean or this recipe change.
in=$cache/tokenize-moss.jsonl txt=$cache/tokenize-moss.txt
key=$(cd "$src" && { echo "recipe 1, $MB MB, $(md5sum <"$clean")"; find . -name '*.json' -printf '%P %s %T@\n' |
    LC_ALL=C sort; } | md5sum | cut -d' ' -f1)
if [ ! -s "$in" ] || [ ! -s "$txt" ] || [ "$(cat "$in.key" 2>/dev/null)" != "$key" ]; then
    echo "# building $in (once; cached)"
    (cd "$src" && find . -name '*.json' -print0 | LC_ALL=C sort -z | xargs -0 "$clean" -q --moss-tools=strip) |
        jq -c '.conversation_id = "@REP@-\(.conversation_id)"' >"$tmp/base.jsonl" || exit 1
    size=$(stat -c %s "$tmp/base.jsonl")
    [ "$size" -gt 0 ] || exit 1
    reps=$(((MB * 1000000 + size - 1) / size))
    for ((r = 1; r <= reps; r++)); do
        sed "s/^{\"conversation_id\":\"@REP@-/{\"conversation_id\":\"$r-/" "$tmp/base.jsonl"
    done >"$in.part" || exit 1
    jq -r '.conversation[] | .human, .assistant' "$in.part" >"$txt.part" || exit 1
    mv "$in.part" "$in" && mv "$txt.part" "$txt" && echo "$key" >"$in.key"
fi

measure_out=/dev/null # the token streams are not kept
bytes=$(stat -c %s "$in")
tbytes=$(stat -c %s "$txt")
fmt='%-34s %9s %8s %11s %10s\n'
declare -A rate
row() { # name key: prints the last measurement, remembers its JSONL MB/s under key
    local mbs rss
    mbs=$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.2f", (s > 0 ? b / 1e6 / s : 0) }')
    rss=$([ -n "$rss_kib" ] && awk -v k="$rss_kib" 'BEGIN { printf "%.1f MiB", k / 1024 }' || echo "n/a")
    # shellcheck disable=SC2059
    printf "$fmt" "$1" "$secs" "$cpu" "$mbs" "$rss"
    rate[$2]=$mbs
}

cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')
echo "# $("$bin" --version 2>&1 | head -1); $(spm_encode --version 2>&1 | head -1); $(nproc) cores${cpu:+, $cpu};" \
    "fastest of $RUNS runs"
echo "# input: $(awk -v b="$bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }') JSONL, $(wc -l <"$in") records ($in);" \
    "its texts $(awk -v b="$tbytes" 'BEGIN { printf "%.1f MB", b / 1e6 }') ($txt); model $model"
echo "# MB/s = JSONL MB / seconds for every tool (spm_encode: the seconds to encode the JSONL's texts)"
# shellcheck disable=SC2059
printf "$fmt" tool seconds "cpu s" "JSONL MB/s" "peak RSS"
cat "$in" "$txt" >/dev/null # same page cache state for every tool

measure spm_encode --model="$model" --output_format=id --input="$txt" || exit 1
row "(a) spm_encode" spm
echo "#   spm_encode: $(awk -v b="$tbytes" -v s="$secs" 'BEGIN { printf "%.2f", b / 1e6 / s }') MB/s of text"
if [ -n "$spm_py" ]; then
    measure "$spm_py" "$ref" --tokenizer "$model" --template "$TEMPLATE" "$in" || exit 1
    row "(b) python Firefly loop" py
else
    echo "# (b) python Firefly loop: skipped, $spm_py_why"
fi
measure "$bin" -q -j 1 --tokenizer "$model" --template "$TEMPLATE" "$in" || exit 1
row "(c) ft-tokenize -j 1" j1
measure "$bin" -q -j 2 --tokenizer "$model" --template "$TEMPLATE" "$in" || exit 1
row "(c) ft-tokenize -j 2" j2

verdict() { # ratio target
    if awk -v r="$1" -v t="$2" 'BEGIN { exit !(r >= t) }'; then echo PASS; else echo FAIL; fi
}
ratio() { # label numerator-key denominator-key target
    local r
    if [ -z "${rate[$2]:-}" ] || [ -z "${rate[$3]:-}" ]; then
        printf '%-36s n/a (not measured)\n' "$1"
        return
    fi
    r=$(awk -v a="${rate[$2]}" -v b="${rate[$3]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    printf '%-36s = %sx  %s (target >= %sx)\n' "$1" "$r" "$(verdict "$r" "$4")" "$4"
}
ratio "ft-tokenize -j 1 / spm_encode" j1 spm 0.9
ratio "ft-tokenize -j 2 / ft-tokenize -j 1" j2 j1 1.7
ratio "ft-tokenize -j 2 / python loop" j2 py 2.5
exit 0
