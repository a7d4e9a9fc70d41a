#!/usr/bin/env bash
# t4001-pack-docs: the examples in docs/ft-pack.md run as written (with the shared Baichuan2 model linked in
# as baichuan2/) and print exactly the text shown under them; every --help option is in the manual.
. "$(dirname "$0")/lib.sh"

doc=$top/docs/ft-pack.md

test_expect_success 'every option in --help is documented in the manual' '
    ft-pack --help | grep -oE "^ +(-[a-zA-Z], )?--[a-z0-9-]+" | grep -oE "\-\-[a-z0-9-]+" | sort -u >opts &&
    while read -r o; do grep -q -- "$o" "$doc" || { echo "undocumented: $o"; exit 1; }; done <opts
'

if ! need_data tokenizers/baichuan2/tokenizer.model; then
    test_skip 'docs/ft-pack.md examples' 'no ../shared/tokenizers/baichuan2 (make fixtures)'
    test_done
    exit
fi
ln -s "$shared/tokenizers/baichuan2" baichuan2

doc_examples "$doc" ft-pack 3

test_done
