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

# Split the manual into example blocks: ex.N.sh (a ```sh block) and ex.N.out (the ```text block after it).
awk -v dir="$tmp" '
    /^```sh$/   { n++; f = dir "/ex." n ".sh"; inblk = 1; next }
    /^```text$/ { f = dir "/ex." n ".out"; inblk = 1; next }
    /^```$/     { inblk = 0; next }
    inblk       { print > f }
' "$doc"

for sh in ex.*.sh; do
    n=${sh#ex.}; n=${n%.sh}
    name="docs/ft-tokenize.md example $n: $(grep -m1 -o 'ft-tokenize[^|<>]*' "$sh" | head -1 | cut -c1-60)"
    if [ -f "ex.$n.out" ]; then
        test_expect_success "$name" "bash -e $sh >got.$n && diff -u ex.$n.out got.$n"
    else
        test_expect_success "$name" "bash -e $sh >/dev/null"
    fi
done
test "$test_count" -ge 8 || { echo "not ok - fewer than 8 tests found in $doc"; exit 1; }

test_done
