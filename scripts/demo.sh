#!/usr/bin/env bash
# demo.sh: what `make demo` shows: the MOSS-003 samples through ft-clean, then the data build of
# pipelines/sft.mk (ft-clean, ft-dedup, ft-tokenize, ft-pack), with the summaries, a cleaned record, a
# rendered one and the pack statistics; then ft-eval on the tiny stories260K model over two C-Eval subjects.
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
tok=$data/tokenizers/baichuan2/tokenizer.model
if [ ! -f "$tok" ]; then
    echo "demo: no Baichuan2 tokenizer at $tok: skipping the data build (ft-dedup, ft-tokenize, ft-pack)" >&2
    exit 0
fi
# The data build: pipelines/sft.mk over two raw files (the samples with and without plugins, as JSON lines
# (jq -c)), cleaned, signed, filtered and tokenized side by side under make -j2.
mkdir -p "$out/raw"
for part in with without; do
    find "$moss" -path "*/conversation_${part}_plugins/*" -name '*.json' | LC_ALL=C sort | xargs jq -c . \
        >"$out/raw/moss-${part}-plugins.jsonl"
done
echo "== pipelines/sft.mk: ft-clean --moss-tools=strip -> ft-dedup sign/cluster/filter -> ft-tokenize (Baichuan2,"
echo "   baichuan2 template) -> ft-pack, rows of at most 2048 tokens -> $out/shards (steps in $out/shards.work)"
make --no-print-directory -j2 -f "$top/pipelines/sft.mk" FT_BIN="$O/bin" RAW="$out/raw/moss-with-plugins.jsonl \
    $out/raw/moss-without-plugins.jsonl" TOKENIZER="$tok" TEMPLATE=baichuan2 SEQ_LEN=2048 OUT="$out/shards" \
    CLEAN_FLAGS=--moss-tools=strip
echo "== ft-dedup: kept and dropped records per file"
for part in with without; do
    w=$out/shards.work/dedup/moss-${part}-plugins
    echo "moss-${part}-plugins: $(wc -l <"$w.jsonl") kept, $(wc -l <"$w.dups") dropped"
done
echo "== the first record as the model sees it (trained tokens between ⟦ and ⟧)"
head -n 1 "$out/shards.work/dedup/moss-with-plugins.jsonl" | "$O/bin/ft-tokenize" -q -t "$tok" -T baichuan2 |
    "$O/bin/ft-tokenize" --decode -t "$tok" | head -n 12
echo "== ft-pack stat $out/shards"
"$O/bin/ft-pack" stat "$out/shards"
# ft-eval on the tiny real model in ../shared (an English toy: expect chance-level scores; the point is the
# prompt, the shared-prefix KV cache and the report).
st=$data/models/stories260K
if [ -f "$st/hf/model.safetensors" ] && [ -f "$data/data/ceval/mapping.json" ]; then
    echo "== ft-eval: C-Eval val, 5-shot, two subjects, on stories260K (260K parameters, English only)"
    "$O/bin/ft-eval" --model "$st/hf" --tokenizer "$st/tok512.model" --task ceval --data "$data/data/ceval" \
        --subjects high_school_biology,middle_school_geography
fi
