#!/usr/bin/env bash
# t3100-bpe-vectors: the byte-level BPE tokenizer on real data: test-bpe-qwen (the llama.cpp/HF vectors,
# tiktoken ranks vs vocab.json ids, C-Eval texts) run once more over the MOSS-003 samples as ft-clean
# --moss-tools=strip cleans them: every text gives the same ids through vocab.json + merges.txt,
# qwen.tiktoken and tokenizer.json, equals a plain rescanning merge, and decodes back to itself.
. "$(dirname "$0")/lib.sh"

prog=$build/tests/test-bpe-qwen
if ! need_data tokenizers/qwen2/vocab.json tokenizers/qwen/qwen.tiktoken data/moss/SFT_data/conversations; then
    test_skip 'Qwen tokenizers on cleaned MOSS' 'shared test data not found (../shared or $FT_TESTDATA)'
    test_done
    exit
fi

test_expect_success 'ft-clean --moss-tools=strip cleans every MOSS sample' '
    find "$shared/data/moss/SFT_data/conversations" -name "*.json" | LC_ALL=C sort >files &&
    mapfile -t F <files &&
    ft-clean --moss-tools=strip -q -o moss.jsonl "${F[@]}" &&
    expect_eq "$(wc -l <moss.jsonl)" 1120 records
'

test_expect_success 'the vectors, C-Eval and every cleaned MOSS text pass test-bpe-qwen' '
    FT_TESTDATA=$shared "$prog" moss.jsonl >tap.txt 2>&1 || { grep -v "^ok" tap.txt; false; } &&
    grep -q "^ok .*moss.jsonl: vocab.json+merges.txt, qwen.tiktoken and tokenizer.json give identical ids" tap.txt &&
    grep -q "^ok .*moss.jsonl: every text is NFC, so decode(encode(x)) == x exactly" tap.txt &&
    ! grep -q "^not ok" tap.txt
'

test_done
