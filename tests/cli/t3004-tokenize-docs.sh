#!/usr/bin/env bash
# t3004-tokenize-docs: the examples in docs/ft-tokenize.md run as written (with the shared Llama-2, Baichuan
# and Baichuan2 models linked in as llama2/, baichuan/, baichuan2/) and print exactly the text shown under
# them, so the manual's template renderings cannot drift from the code.
. "$(dirname "$0")/lib.sh"

doc=$top/docs/ft-tokenize.md

test_expect_success 'every option in --help is documented in the manual' '
    ft-tokenize --help | grep -oE "^ +(-[a-zA-Z], )?--[a-z0-9-]+" | grep -oE "\-\-[a-z0-9-]+" | sort -u >opts &&
    while read -r o; do grep -q -- "$o" "$doc" || { echo "undocumented: $o"; exit 1; }; done <opts
'

if ! need_data tokenizers/llama2/tokenizer.model tokenizers/baichuan/tokenizer.model \
        tokenizers/baichuan2/tokenizer.model; then
    test_skip 'docs/ft-tokenize.md examples' 'no ../shared/tokenizers/{llama2,baichuan,baichuan2} (make fixtures)'
    test_done
    exit
fi
for m in llama2 baichuan baichuan2; do ln -s "$shared/tokenizers/$m" "$m"; done

doc_examples "$doc" ft-tokenize 8

test_done
