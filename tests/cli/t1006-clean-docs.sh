#!/usr/bin/env bash
# t1006-clean-docs: the examples in docs/ft-clean.md run as written and print exactly the text shown
# under them, so the manual cannot drift from the code.
. "$(dirname "$0")/lib.sh"

doc=$top/docs/ft-clean.md
doc_examples "$doc" ft-clean 4

test_expect_success 'every option in --help is documented in the manual' '
    ft-clean --help | grep -oE "^ +(-[a-zA-Z], )?--[a-z0-9-]+" | grep -oE "\-\-[a-z0-9-]+" | sort -u >opts &&
    while read -r o; do grep -q -- "$o" "$doc" || { echo "undocumented: $o"; exit 1; }; done <opts
'

test_done
