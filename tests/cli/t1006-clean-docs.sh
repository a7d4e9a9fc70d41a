#!/usr/bin/env bash
# t1006-clean-docs: the examples in docs/ft-clean.md run as written and print exactly the text shown
# under them, so the manual cannot drift from the code.
. "$(dirname "$0")/lib.sh"

doc=$top/docs/ft-clean.md
# Split the manual into example blocks: ex.N.sh (a ```sh block) and ex.N.out (the ```text block after it).
awk -v dir="$tmp" '
    /^```sh$/   { n++; f = dir "/ex." n ".sh"; inblk = 1; next }
    /^```text$/ { f = dir "/ex." n ".out"; inblk = 1; next }
    /^```$/     { inblk = 0; next }
    inblk       { print > f }
' "$doc"

for sh in ex.*.sh; do
    n=${sh#ex.}; n=${n%.sh}
    name="docs/ft-clean.md example $n: $(grep -m1 -o 'ft-clean[^|<>]*' "$sh" | cut -c1-60)"
    if [ -f "ex.$n.out" ]; then
        test_expect_success "$name" "bash -e $sh >got.$n && diff -u ex.$n.out got.$n"
    else
        test_expect_success "$name" "bash -e $sh >/dev/null"
    fi
done
test "$test_count" -ge 4 || { echo "not ok - fewer than 4 examples found in $doc"; exit 1; }

test_expect_success 'every option in --help is documented in the manual' '
    ft-clean --help | grep -oE "^ +(-[a-zA-Z], )?--[a-z0-9-]+" | grep -oE "\-\-[a-z0-9-]+" | sort -u >opts &&
    while read -r o; do grep -q -- "$o" "$doc" || { echo "undocumented: $o"; exit 1; }; done <opts
'

test_done
