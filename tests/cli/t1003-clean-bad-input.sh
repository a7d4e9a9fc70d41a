#!/usr/bin/env bash
# t1003-clean-bad-input: truncated JSON, a binary blob, a 50 MB line, invalid UTF-8, a CSV with a missing
# column, an empty file, a missing file, --strict: clear messages with file:line, exact counts, exit status.
. "$(dirname "$0")/lib.sh"

good='{"conversation": [{"human": "What is 2+2?", "assistant": "2+2 equals 4."}]}'

test_expect_success 'truncated JSON: bad-json with file:line, the good lines are kept' '
    { echo "$good"; echo "{\"conversation\": [{\"human\": \"cut"; echo "$good"; } >trunc.jsonl &&
    ft-clean --stats st.json --rejects rej.jsonl trunc.jsonl >out.jsonl 2>err &&
    expect_eq "$(wc -l <out.jsonl)" 2 &&
    grep -q "^ft-clean: trunc.jsonl:2: bad-json: truncated JSON" err &&
    expect_eq "$(jq -c "[.in,.kept,.rejected,.rejected_by_reason[\"bad-json\"]]" st.json)" "[3,2,1,1]" &&
    expect_eq "$(jq -r .where rej.jsonl)" trunc.jsonl:2 &&
    expect_eq "$(jq -r .raw rej.jsonl)" "{\"conversation\": [{\"human\": \"cut"
'

test_expect_success 'a binary blob: every line counted and rejected, exit 0, nothing written' '
    head -c 300000 "$build/bin/ft-clean" >blob.bin &&
    ft-clean -q --stats st.json blob.bin >out.jsonl &&
    test ! -s out.jsonl &&
    expect_eq "$(jq ".in == .rejected and .in > 10" st.json)" true
'

test_expect_success 'messages stop after 50 unparsable records; counts go on' '
    ft-clean --stats st.json blob.bin 2>err >/dev/null &&
    expect_eq "$(grep -c "blob.bin:[0-9]*: " err)" 50 &&
    grep -q "further unparsable records are counted but not reported" err
'

test_expect_success 'a 50 MB single line: dropped as turn-too-long by default, memory stays bounded' '
    { printf "{\"conversation\": [{\"human\": \"long\", \"assistant\": \""; head -c 50000000 /dev/zero | tr "\0" a; printf "\"}]}\n"; echo "$good"; } >big.jsonl &&
    ft-clean --stats st.json big.jsonl >out.jsonl 2>err &&
    expect_eq "$(jq -c "[.in,.kept,.dropped_by_reason[\"turn-too-long\"]]" st.json)" "[2,1,1]" &&
    expect_eq "$(jq -c .conversation[0].human out.jsonl)" "\"What is 2+2?\""
'

test_expect_success 'the same line over --max-line: too-large with file:line, the rest still read' '
    ft-clean --max-line 16M --stats st.json --rejects rej.jsonl big.jsonl >out.jsonl 2>err &&
    grep -q "big.jsonl:1: too-large: record of 50000054 bytes exceeds --max-line 16777216" err &&
    expect_eq "$(jq -c "[.in,.kept,.rejected_by_reason[\"too-large\"]]" st.json)" "[2,1,1]" &&
    expect_eq "$(jq -c "[.truncated, .bytes, (.raw | length)]" rej.jsonl)" "[true,50000054,4096]"
'

test_expect_success 'invalid UTF-8: replaced with U+FFFD by default, rejected with --bad-utf8=reject' '
    printf "{\"conversation\": [{\"human\": \"caf\\351 ok\", \"assistant\": \"fine \\377\\376 here\"}]}\n" >bad8.jsonl &&
    ft-clean --stats st.json bad8.jsonl >out.jsonl &&
    expect_eq "$(jq -r .conversation[0].human out.jsonl)" "caf� ok" &&
    expect_eq "$(jq .fixes[\"utf8-repaired\"] st.json)" 3 &&
    ft-clean --bad-utf8=reject --stats st.json bad8.jsonl >out.jsonl 2>err &&
    test ! -s out.jsonl &&
    grep -q "bad8.jsonl:1: bad-utf8: invalid UTF-8 at byte 32" err
'

test_expect_success 'a CSV row with a missing column: bad-csv naming the line and the field counts' '
    printf "cat,hello there,hi!\ncat,only two\ncat,\"multi\nline\",answer\n" >miss.csv &&
    ft-clean --stats st.json miss.csv >out.jsonl 2>err &&
    grep -q "miss.csv:2: bad-csv: expected 3 fields, got 2" err &&
    expect_eq "$(jq -c "[.in,.kept,.rejected]" st.json)" "[3,2,1]"
'

test_expect_success 'a CSV with an unterminated quote: bad-csv at the line where the record starts' '
    printf "c,hello,world\nc,\"never closed,x\nmore\n" >unterm.csv &&
    ft-clean unterm.csv >out.jsonl 2>err &&
    grep -q "unterm.csv:2: bad-csv: unterminated quoted field at end of input" err &&
    expect_eq "$(wc -l <out.jsonl)" 1
'

test_expect_success 'an empty file: 0 in, exit 0, empty output' '
    : >empty.jsonl &&
    ft-clean --stats st.json empty.jsonl >out.jsonl &&
    test ! -s out.jsonl &&
    expect_eq "$(jq -c "[.in,.kept]" st.json)" "[0,0]"
'

test_expect_success 'a missing file: error naming it, the other inputs processed, exit 1' '
    echo "$good" >ok.jsonl &&
    test_rc=0 && ft-clean nosuch.jsonl ok.jsonl >out.jsonl 2>err || test_rc=$? &&
    expect_eq "$test_rc" 1 exit &&
    grep -q "^ft-clean: cannot open input: .nosuch.jsonl.: No such file or directory" err &&
    expect_eq "$(wc -l <out.jsonl)" 1
'

test_expect_success '--strict: exit 1 at the first bad record, -o output never appears' '
    test_rc=0 && ft-clean --strict -o strict.jsonl trunc.jsonl 2>err || test_rc=$? &&
    expect_eq "$test_rc" 1 exit &&
    test ! -e strict.jsonl &&
    grep -q "trunc.jsonl:2: bad-json: .* (--strict)" err &&
    test -z "$(ls -A | grep "\.tmp\.")"
'

test_expect_success 'non-object JSON and unknown shapes are rejected with their reason' '
    printf "[1,2]\n\"str\"\n{\"foo\": 1}\n" >shapes.jsonl &&
    ft-clean --stats st.json shapes.jsonl 2>err >/dev/null &&
    grep -q "shapes.jsonl:1: bad-record: the record is an array, not an object" err &&
    grep -q "shapes.jsonl:3: unknown-format: no known record shape (keys: foo)" err &&
    expect_eq "$(jq -c "[.rejected_by_reason[\"bad-record\"], .rejected_by_reason[\"unknown-format\"]]" st.json)" "[2,1]"
'

test_expect_success 'usage errors exit 2 with the synopsis; --help exits 0 on stdout' '
    test_rc=0 && ft-clean --format xml 2>err || test_rc=$? && expect_eq "$test_rc" 2 &&
    grep -q "invalid value for --format: .xml." err && grep -q "Try .ft-clean --help." err &&
    test_rc=0 && ft-clean -j 0 2>err || test_rc=$? && expect_eq "$test_rc" 2 &&
    grep -q "invalid value for --jobs: .0.: out of range" err &&
    test_rc=0 && ft-clean --max-repetition 1.5 2>err || test_rc=$? && expect_eq "$test_rc" 2 &&
    test_rc=0 && ft-clean --bogus 2>err || test_rc=$? && expect_eq "$test_rc" 2 &&
    ft-clean --help >help.txt && grep -q "^Usage: ft-clean" help.txt &&
    ft-clean --version | grep -q "^ft-clean (ft) "
'

test_done
