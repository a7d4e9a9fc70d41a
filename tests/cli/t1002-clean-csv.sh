#!/usr/bin/env bash
# t1002-clean-csv: a CSV made from the Firefly data (commas, quotes, embedded newlines, CRLF, BOM)
# round-trips to the same single-turn conversations; header detection and named columns.
. "$(dirname "$0")/lib.sh"

if ! need_data data/firefly/dummy_data.jsonl; then
    echo "1..0 # SKIP Firefly dummy data not found at ../shared or \$FT_TESTDATA"
    exit 0
fi
# the Firefly records plus one with every CSV hazard in its texts
{ cat "$shared/data/firefly/dummy_data.jsonl"
  echo '{"category":"quotes, commas","conversation":[{"human":"She said \"hi, there\", then left","assistant":"a, b\n\n\"c\"\nd"}]}'
} >src.jsonl
ff=src.jsonl

# one row per turn: category,human,assistant; jq's @csv doubles quotes and keeps newlines inside quotes
jq -r '.category as $c | .conversation[] | [$c, .human, .assistant] | @csv' "$ff" >plain.csv
jq -c '.category as $c | .conversation[] | {category: $c, human, assistant}' "$ff" >want.jsonl

test_expect_success 'the generated CSV really has the hard parts' '
    grep -q "\"\"hi, there\"\"" plain.csv &&
    test "$(wc -l <plain.csv)" -gt 160
'

test_expect_success 'LF CSV, no header: 155 rows, same texts in order' '
    ft-clean --stats st.json plain.csv >out.jsonl &&
    expect_eq "$(jq .kept st.json)" 155 &&
    jq -c "{category, human: .conversation[0].human, assistant: .conversation[0].assistant}" out.jsonl >got.jsonl &&
    cmp want.jsonl got.jsonl
'

test_expect_success 'rows are numbered as conversation_id' '
    expect_eq "$(jq -c .conversation_id out.jsonl | head -3 | tr "\n" " ")" "1 2 3 "
'

test_expect_success 'BOM + CRLF everywhere (also inside quoted fields) + no final newline: same result' '
    { printf "\357\273\277"; sed "s/\$/\r/" plain.csv | head -c -2; } >crlf.csv &&
    ft-clean crlf.csv >crlf.jsonl &&
    cmp out.jsonl crlf.jsonl
'

test_expect_success 'a header row is recognized; named columns in any order' '
    { echo "assistant,category,human"; jq -r ".category as \$c | .conversation[] | [.assistant, \$c, .human] | @csv" "$ff"; } >named.csv &&
    ft-clean --stats st2.json named.csv >named.jsonl &&
    expect_eq "$(jq .in st2.json)" 155 &&
    cmp out.jsonl named.jsonl
'

test_expect_success 'stdin needs --format csv; TSV by suffix' '
    ft-clean --format csv <plain.csv >stdin.jsonl && cmp out.jsonl stdin.jsonl &&
    printf "c\thello there\tgeneral kenobi\n" >x.tsv &&
    expect_eq "$(ft-clean x.tsv | jq -r .conversation[0].assistant)" "general kenobi"
'

test_done
