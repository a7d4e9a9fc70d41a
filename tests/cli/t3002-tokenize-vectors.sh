#!/usr/bin/env bash
# t3002-tokenize-vectors: the expected ids in each SentencePiece tokenizer's vectors/ folder (llama.cpp's
# 46 strings made with HF transformers for Llama-2, and 20 Chinese/mixed strings per tokenizer made with
# python3-sentencepiece; see their SOURCE.md and tests/tokenize/vectors.py for the format): (a) SentencePiece's
# own Python binding gives them, which checks the reading of the format, and so do firefly_ref.py's plain
# and HF encodings on every string without a special string; (b) ft-tokenize --encode-text (plain: special
# strings are text) and --encode-text --hf-special-tokens give firefly_ref.py's ids for every string: the
# vectors' ids except on the one string made of special strings (zh test 12), where the rule decides.
. "$(dirname "$0")/lib.sh"
. "$top/tests/tokenize/lib.sh"

toks="llama2 baichuan baichuan2 chinese-llama-2"
for t in $toks; do
    need_data "tokenizers/$t/tokenizer.model" "tokenizers/$t/vectors" ||
        { echo "1..0 # SKIP tokenizers/$t/vectors not found at ../shared or \$FT_TESTDATA"; exit 0; }
done
if [ -z "$spm_py" ]; then
    echo "1..0 # SKIP $spm_py_why"
    exit 0
fi
vectors() { "$spm_py" "$tok_dir/vectors.py" "$@"; }

# expected INP: the ids file beside INP (NAME.spm.out made with python3-sentencepiece, else llama.cpp's
# NAME.out).
expected() {
    local b=${1%.inp}
    if [ -f "$b.spm.out" ]; then echo "$b.spm.out"; else echo "$b.out"; fi
}

test_expect_success 'every tokenizer has the llama.cpp set (46 strings) and the zh set (20 strings)' '
    for t in $toks; do
        expect_eq "$(vectors count "$shared/tokenizers/$t/vectors/llama-spm.inp")" 46 "$t llama-spm" &&
            expect_eq "$(vectors count "$shared/tokenizers/$t/vectors/zh.inp")" 20 "$t zh" || exit 1
    done
'

for t in $toks; do
    test_expect_success "$t: python3-sentencepiece reproduces every vector, firefly_ref.py those without specials" '
        for inp in "$shared/tokenizers/'$t'/vectors"/*.inp; do
            vectors check --tokenizer "$shared/tokenizers/'$t'/tokenizer.model" "$inp" "$(expected "$inp")" || exit 1
        done
    '
done

if [ ! -x "$build/bin/ft-tokenize" ] || ! ft_tokenize_has --encode-text; then
    test_skip "ft-tokenize --encode-text against the vectors" "$build/bin/ft-tokenize has no --encode-text yet"
    test_done
    exit
fi

# ft-tokenize --encode-text takes one text per line unless --text-sep names the separator line.
sep=""
if ft_tokenize_has --text-sep; then sep="--text-sep __ggml_vocab_test__"; fi

# encode_text TOKENIZER INP [--hf-special-tokens]: ft-tokenize's ids for the strings of INP equal the
# reference's.
encode_text() {
    local m=$shared/tokenizers/$1/tokenizer.model inp=$2
    shift 2
    vectors expect --tokenizer "$m" "$@" "$inp" >want &&
        ft-tokenize --tokenizer "$m" --encode-text $sep "$@" "$inp" >got &&
        vectors compare "$inp" want got
}

for t in $toks; do
    test_expect_success "$t: ft-tokenize --encode-text gives every vector, plain and --hf-special-tokens" '
        for inp in "$shared/tokenizers/'$t'/vectors"/*.inp; do
            encode_text '$t' "$inp" && encode_text '$t' "$inp" --hf-special-tokens || exit 1
        done
    '
done

test_expect_success '--encode-text reads stdin too' '
    inp=$shared/tokenizers/baichuan2/vectors/llama-spm.inp &&
    ft-tokenize --tokenizer "$shared/tokenizers/baichuan2/tokenizer.model" --encode-text $sep <"$inp" >got &&
    vectors compare "$inp" "$(expected "$inp")" got
'

test_done
