#!/usr/bin/env bash
# demo.sh: what `make demo` shows: ft-clean over the MOSS-003 samples, with the summary and a record.
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
