#!/usr/bin/env bash
# t2002-dedup-docs: the examples in docs/ft-dedup.md run as written and print exactly the text shown
# under them, and its make -j recipe runs, so the manual cannot drift from the code.
. "$(dirname "$0")/lib.sh"

doc=$top/docs/ft-dedup.md
# Split the manual into example blocks: ex.N.sh (a ```sh block) and ex.N.out (the ```text block after it).
awk -v dir="$tmp" '
    /^```sh$/   { n++; f = dir "/ex." n ".sh"; inblk = 1; next }
    /^```text$/ { f = dir "/ex." n ".out"; inblk = 1; next }
    /^```$/     { inblk = 0; next }
    inblk       { print > f }
' "$doc"

for sh in ex.*.sh; do
    n=${sh#ex.}; n=${n%.sh}
    name="docs/ft-dedup.md example $n: $(grep -m1 -o 'ft-dedup[^|<>]*' "$sh" | cut -c1-60)"
    if [ -f "ex.$n.out" ]; then
        test_expect_success "$name" "bash -e $sh >got.$n && diff -u ex.$n.out got.$n"
    else
        test_expect_success "$name" "bash -e $sh >/dev/null"
    fi
done
test "$test_count" -ge 3 || { echo "not ok - fewer than 3 examples found in $doc"; exit 1; }

# The make -j recipe of "Scale-out mode", as written, on MOSS-like shards of planted duplicates.
awk '/^```make$/ { inblk = 1; next } /^```$/ { inblk = 0 } inblk' "$doc" >recipe.mk
test_expect_success 'the manual'"'"'s make -j recipe gives the streaming result' '
    test -s recipe.mk && mkdir -p shards &&
    for i in $(seq 1 60); do
        printf "{\"conversation_id\": %d, \"conversation\": [{\"human\": \"question %d about rivers lakes and seas\", \"assistant\": \"answer number %d is here with some words\"}]}\n" $i $((i % 17)) $((i % 17))
    done >all.jsonl &&
    split -n l/5 -d --additional-suffix=.jsonl all.jsonl shards/part- &&
    make -s -j2 -f recipe.mk &&
    cat kept/part-0*.jsonl >scaled.jsonl &&
    ft-dedup -q shards/part-0*.jsonl >stream.jsonl &&
    cmp scaled.jsonl stream.jsonl && expect_eq "$(wc -l <stream.jsonl)" 17
'

test_expect_success 'every option in --help is documented in the manual' '
    ft-dedup --help | grep -oE "^ +(-[a-zA-Z], )?--[a-z0-9-]+" | grep -oE "\-\-[a-z0-9-]+" | sort -u >opts &&
    while read -r o; do grep -q -- "$o" "$doc" || { echo "undocumented: $o"; exit 1; }; done <opts
'

test_done
