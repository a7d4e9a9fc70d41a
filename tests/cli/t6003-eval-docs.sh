#!/usr/bin/env bash
# t6003-eval-docs: the examples in docs/ft-eval.md run as written (with the shared C-Eval data linked in as ceval/
# and stories260K as stories/) and print exactly the text shown under them; every --help option is in the manual.
. "$(dirname "$0")/lib.sh"

doc=$top/docs/ft-eval.md

test_expect_success 'every option in --help is documented in the manual' '
    ft-eval --help | grep -oE "^ +(-[a-zA-Z], )?--[a-z0-9-]+" | grep -oE "\-\-[a-z0-9-]+" | sort -u >opts &&
    test -s opts &&
    while read -r o; do grep -q -- "\`.*$o" "$doc" || { echo "undocumented: $o"; exit 1; }; done <opts
'

if ! need_data data/ceval/mapping.json models/stories260K/hf/config.json models/stories260K/tok512.model; then
    test_skip 'docs/ft-eval.md examples' 'no ../shared/data/ceval or ../shared/models/stories260K (make fixtures)'
    test_done
    exit
fi
ln -s "$shared/data/ceval" ceval
ln -s "$shared/models/stories260K" stories

doc_examples "$doc" ft-eval 3

test_done
