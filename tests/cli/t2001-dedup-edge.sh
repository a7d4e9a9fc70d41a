#!/usr/bin/env bash
# t2001-dedup-edge: mixed-script text, empty conversations, a 50 MB record, malformed lines, keys, usage
# errors and damaged signature files, each handled as docs/ft-dedup.md says.
. "$(dirname "$0")/lib.sh"

rec() { # human assistant [id]
    jq -cn --arg h "$1" --arg a "$2" --arg id "${3:-}" \
        'if $id == "" then {} else {conversation_id: $id} end + {conversation: [{human: $h, assistant: $a}]}'
}

test_expect_success 'mixed Chinese/English: case, spacing and width of spaces do not hide an exact duplicate' '
    rec "请把这句话翻译成 English: The quick brown fox" "好的：敏捷的棕色狐狸 jumps over 懒狗。" a >mix.jsonl &&
    rec "请把这句话翻译成   ENGLISH: the QUICK brown fox" "好的：敏捷的棕色狐狸 JUMPS over 懒狗。" b >>mix.jsonl &&
    rec "请把这句话翻译成 English: The quick brown fox!" "好的：敏捷的棕色狐狸 jumps over 懒狗。" c >>mix.jsonl &&
    rec "完全不同的问题，关于天气 and rain" "今天下雨 with 100% probability" d >>mix.jsonl &&
    ft-dedup --stats st.json --dups d.jsonl mix.jsonl >out.jsonl &&
    expect_eq "$(jq -r .conversation_id out.jsonl | tr "\n" " ")" "a d " &&
    expect_eq "$(jq -c "[.dropped_by_kind.exact, .dropped_by_kind.near]" st.json)" "[1,1]" &&
    expect_eq "$(jq -c "[.dup_of, .kind]" d.jsonl | tr "\n" " ")" "[\"a\",\"exact\"] [\"a\",\"near\"] " &&
    ft-dedup --strip-punct -q mix.jsonl >sp.jsonl && ft-dedup --strip-punct --stats st2.json mix.jsonl >/dev/null 2>&1 &&
    expect_eq "$(jq .dropped_by_kind.exact st2.json)" 2
'

test_expect_success 'empty conversations are kept and never made duplicates of each other' '
    { echo "{\"conversation\": []}"; echo "{\"conversation\": []}"; rec "" "" ; rec "   " ""; } >empty.jsonl &&
    ft-dedup --stats st.json empty.jsonl >out.jsonl &&
    expect_eq "$(wc -l <out.jsonl)" 4 && cmp out.jsonl empty.jsonl &&
    expect_eq "$(jq -c "[.in, .kept, .empty, .dropped]" st.json)" "[4,4,4,0]"
'

test_expect_success 'text without any token (only punctuation or emoji) is deduplicated exactly only' '
    { rec "???" "!!!" p1; rec "???" "!!!" p2; rec "?!?" "!!!" p3; rec "😀😀" "🎉" p4; } >punct.jsonl &&
    ft-dedup --stats st.json punct.jsonl >out.jsonl &&
    expect_eq "$(jq -r .conversation_id out.jsonl | tr "\n" " ")" "p1 p3 p4 "
'

test_expect_success 'malformed lines: file:line and reason, counted, kept out of the index, --rejects' '
    { rec "hello there friend" "hi how are you" ok1; echo "{\"conversation\": [{\"human\": \"cut";
      echo "[1,2,3]"; echo "{\"conversation\": [{\"human\": 1, \"assistant\": \"x\"}]}"; echo;
      printf "\xff\xfe garbage\n"; rec "hello there friend" "hi how are you" ok2; } >bad.jsonl &&
    ft-dedup --stats st.json --rejects rej.jsonl bad.jsonl >out.jsonl 2>err &&
    expect_eq "$(jq -r .conversation_id out.jsonl)" ok1 &&
    grep -q "^ft-dedup: bad.jsonl:2: bad-json: truncated JSON" err &&
    grep -q "^ft-dedup: bad.jsonl:3: bad-record: record is not a JSON object" err &&
    grep -q "^ft-dedup: bad.jsonl:4: bad-record: a turn has no string .human." err &&
    grep -q "^ft-dedup: bad.jsonl:6: bad-json" err &&
    expect_eq "$(jq -c "[.in, .kept, .dropped, .rejected, .rejected_by_reason[\"bad-json\"]]" st.json)" "[6,1,1,4,2]" &&
    expect_eq "$(jq -r .where rej.jsonl | tr "\n" " ")" "bad.jsonl:2 bad.jsonl:3 bad.jsonl:4 bad.jsonl:6 " &&
    test_rc=0 && ft-dedup --strict -o s.jsonl bad.jsonl 2>err || test_rc=$? &&
    expect_eq "$test_rc" 1 && test ! -e s.jsonl && grep -q "bad.jsonl:2: bad-json: truncated JSON (--strict)" err
'

test_expect_success 'a 50 MB record: deduplicated like any other, in bounded time; --max-line rejects it' '
    big() { printf "{\"conversation_id\": \"%s\", \"conversation\": [{\"human\": \"long\", \"assistant\": \"" "$1";
            awk "BEGIN { for (i = 1; i <= 2300000; i++) printf \"%d 文字 w%x \", i, i }"; printf "%s\"}]}\n" "$2"; } &&
    { big big1 ""; rec "small one here" "fine" s; big big2 ""; big big3 " 但是 结尾 is different here"; } >big.jsonl &&
    test "$(stat -c %s big.jsonl)" -gt 150000000 &&
    timeout 120 ft-dedup --stats st.json --dups d.jsonl big.jsonl >out.jsonl &&
    expect_eq "$(jq -r .conversation_id out.jsonl | tr "\n" " ")" "big1 s " &&
    expect_eq "$(jq -c "[.dup_of, .kind]" d.jsonl | tr "\n" " ")" "[\"big1\",\"exact\"] [\"big1\",\"near\"] " &&
    ft-dedup --max-line 16M --stats st.json --rejects rej.jsonl big.jsonl >out.jsonl 2>err &&
    grep -Eq "big.jsonl:1: too-large: record of 5[0-9]{7} bytes exceeds --max-line 16777216" err &&
    expect_eq "$(jq -c "[.in, .kept, .rejected]" st.json)" "[4,1,3]" &&
    expect_eq "$(jq -c "[.truncated, .where, (.raw | length > 1000)]" rej.jsonl | head -1)" "[true,\"big.jsonl:1\",true]"
'

test_expect_success '--key human and --key first choose the text compared' '
    q="same question about rivers and lakes" &&
    conv() { jq -cn --argjson id "$1" --arg h1 "$2" --arg a1 "$3" --arg h2 "${4:-}" --arg a2 "${5:-}" \
        "{conversation_id: \$id, conversation: ([{human: \$h1, assistant: \$a1}] +
          if \$h2 == \"\" then [] else [{human: \$h2, assistant: \$a2}] end)}"; } &&
    { conv 1 "$q" "answer one" next more; conv 2 "a wholly different question about mountains" "answer one";
      conv 3 "$q" "answer one" other y; conv 4 "$q" "totally other reply here" next zzz; } >k.jsonl &&
    expect_eq "$(ft-dedup -q k.jsonl | jq -c .conversation_id | tr "\n" " ")" "1 2 3 4 " &&
    expect_eq "$(ft-dedup -q --key first k.jsonl | jq -c .conversation_id | tr "\n" " ")" "1 2 4 " &&
    expect_eq "$(ft-dedup -q --key human k.jsonl | jq -c .conversation_id | tr "\n" " ")" "1 2 3 "
'

test_expect_success 'damaged signature files are refused with the reason, never read past their end' '
    rec "one two three four five six" "seven eight" x >s.jsonl && ft-dedup sign -q -o s.sig s.jsonl &&
    head -c 150 s.sig >short.sig && n=$(stat -c %s s.sig) &&
    test_rc=0 && ft-dedup cluster -o l short.sig 2>err || test_rc=$? && expect_eq "$test_rc" 1 &&
    grep -q "cannot read signature file: .short.sig.: truncated signature file" err &&
    { head -c $((n - 40)) s.sig; printf "\x07"; tail -c 39 s.sig; } >flip.sig &&
    test_rc=0 && ft-dedup cluster -o l flip.sig 2>err || test_rc=$? && expect_eq "$test_rc" 1 &&
    grep -q "checksum mismatch" err &&
    ft-dedup --help >notsig && test_rc=0 && ft-dedup cluster -o l notsig 2>err || test_rc=$? && expect_eq "$test_rc" 1 &&
    grep -q "bad magic" err && test ! -e l
'

test_expect_success 'usage errors exit 2 with the synopsis; --help exits 0 on stdout' '
    test_rc=0 && ft-dedup --key nobody 2>err || test_rc=$? && expect_eq "$test_rc" 2 &&
    grep -q "invalid value for --key: .nobody." err && grep -q "Try .ft-dedup --help." err &&
    test_rc=0 && ft-dedup --threshold 1.5 2>err || test_rc=$? && expect_eq "$test_rc" 2 &&
    test_rc=0 && ft-dedup --bands 100 --rows 100 2>err || test_rc=$? && expect_eq "$test_rc" 2 &&
    test_rc=0 && ft-dedup filter s.jsonl 2>err || test_rc=$? && expect_eq "$test_rc" 2 && grep -q "needs --list" err &&
    test_rc=0 && ft-dedup sign a b 2>err || test_rc=$? && expect_eq "$test_rc" 2 &&
    test_rc=0 && ft-dedup sign -o x.sig <s.jsonl 2>err || test_rc=$? && expect_eq "$test_rc" 2 && grep -q "needs --name" err &&
    ft-dedup --help >help.txt && grep -q "^Usage: ft-dedup" help.txt &&
    ft-dedup --version | grep -q "^ft-dedup (ft) "
'

test_done
