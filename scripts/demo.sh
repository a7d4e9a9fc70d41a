#!/usr/bin/env bash
# demo.sh: what `make demo` shows: the MOSS-003 samples through ft-clean, ft-dedup, ft-tokenize and ft-pack,
# with the summaries, a cleaned record and a rendered one.
# Rule: uses the real samples from ../shared (or $FT_TESTDATA); later stages append themselves here.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
case $O in /*) ;; *) O="$top/$O" ;; esac
data=${FT_TESTDATA:-$top/../shared}
moss=$data/data/moss/SFT_data/conversations
if [ ! -d "$moss" ]; then
    echo "demo: the MOSS samples are not at $moss (set FT_TESTDATA to the shared data directory)" >&2
    exit 1
fi
out=$O/demo
mkdir -p "$out"
mapfile -t files < <(find "$moss" -name '*.json' | LC_ALL=C sort)
echo "== ft-clean: ${#files[@]} MOSS-003 sample conversations -> $out/moss.clean.jsonl"
"$O/bin/ft-clean" -j 2 -o "$out/moss.clean.jsonl" --stats "$out/moss.clean.stats.json" \
    --rejects "$out/moss.clean.rejects.jsonl" "${files[@]}"
echo "== stats ($out/moss.clean.stats.json)"
cat "$out/moss.clean.stats.json"
echo "== the first cleaned record"
head -n 1 "$out/moss.clean.jsonl" | cut -c1-400
echo "== with --moss-tools=strip the tool-using conversations stay, without their tool parts"
"$O/bin/ft-clean" -j 2 --moss-tools=strip -o "$out/moss.strip.jsonl" "${files[@]}"
echo "== ft-dedup: exact and near duplicates out of $out/moss.strip.jsonl"
"$O/bin/ft-dedup" -j 2 --dups "$out/moss.dups.jsonl" -o "$out/moss.dedup.jsonl" "$out/moss.strip.jsonl"
tok=$data/tokenizers/baichuan2/tokenizer.model
if [ -f "$tok" ]; then
    echo "== ft-tokenize: Baichuan2 tokenizer, baichuan2 template -> $out/moss.tok"
    "$O/bin/ft-tokenize" -j 2 -t "$tok" -T baichuan2 --max-seq-len 2048 -o "$out/moss.tok" "$out/moss.dedup.jsonl"
    echo "== the first record as the model sees it (trained tokens between ⟦ and ⟧)"
    head -n 1 "$out/moss.dedup.jsonl" | "$O/bin/ft-tokenize" -q -t "$tok" -T baichuan2 |
        "$O/bin/ft-tokenize" --decode -t "$tok" | head -n 12
    echo "== ft-pack: rows of at most 2048 tokens -> $out/shards"
    "$O/bin/ft-pack" -q -f --seq-len 2048 -o "$out/shards" "$out/moss.tok"
    "$O/bin/ft-pack" stat "$out/shards"
else
    echo "demo: no Baichuan2 tokenizer at $tok: skipping ft-tokenize and ft-pack" >&2
fi
