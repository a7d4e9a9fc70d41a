#!/usr/bin/env bash
# t1005-clean-options: normalization options (--halfwidth, --t2s, --mask-pii), the quality filters and
# their switches, and atomic output under errors and signals.
. "$(dirname "$0")/lib.sh"

conv() { # human assistant -> one Firefly line (texts given as JSON string bodies)
    printf '{"conversation": [{"human": "%s", "assistant": "%s"}]}\n' "$1" "$2"
}
first_reply() { jq -r '.conversation[0].assistant'; }

test_expect_success 'normalization: markers, zero-width, controls, CRLF, NFC, trim, blank-line runs' '
    conv "<|Human|>: hi\u200b there<eoh>" "  e\u0301te\r\n\r\n\r\n\r\nnext\u0007 line\u3000 " >n.jsonl &&
    out=$(ft-clean n.jsonl) &&
    expect_eq "$(echo "$out" | jq -r .conversation[0].human)" "hi there" &&
    expect_eq "$(echo "$out" | first_reply)" "$(printf "\303\251te\n\nnext line")"
'

test_expect_success 'a single blank line and blank lines inside code fences are kept' '
    conv "show code" "para one\n\npara two\n\`\`\`py\na = 1\n\n\n\nb = 2\n\`\`\`" >code.jsonl &&
    expect_eq "$(ft-clean code.jsonl | first_reply)" "$(printf "para one\n\npara two\n\`\`\`py\na = 1\n\n\n\nb = 2\n\`\`\`")"
'

test_expect_success '--halfwidth converts full-width ASCII outside code only' '
    conv "ＡＢＣ１２３？" "ｘ＝１\n\`\`\`\nｙ＝２\n\`\`\`" >hw.jsonl &&
    out=$(ft-clean --halfwidth hw.jsonl) &&
    expect_eq "$(echo "$out" | jq -r .conversation[0].human)" "ABC123?" &&
    expect_eq "$(echo "$out" | first_reply)" "$(printf "x=1\n\`\`\`\nｙ＝２\n\`\`\`")"
'

test_expect_success '--t2s converts Traditional to Simplified Chinese with OpenCC, not inside code' '
    conv "請問這個軟體怎麼安裝？" "下載後執行。\n\`\`\`\n# 說明\n\`\`\`" >t2s.jsonl &&
    out=$(ft-clean --t2s t2s.jsonl) &&
    expect_eq "$(echo "$out" | jq -r .conversation[0].human)" "请问这个软体怎么安装？" &&
    expect_eq "$(echo "$out" | first_reply)" "$(printf "下载后执行。\n\`\`\`\n# 說明\n\`\`\`")"
'

test_expect_success '--t2s with a missing OpenCC config is a clear error, exit 1' '
    test_rc=0 && ft-clean --t2s=nope.json t2s.jsonl >/dev/null 2>err || test_rc=$? &&
    expect_eq "$test_rc" 1 && grep -q "t2s: .nope.json.: cannot load the OpenCC configuration" err
'

test_expect_success '--mask-pii replaces e-mail, phones, ID numbers, IPv4 and URLs, keeps the rest' '
    conv "mail me: li.lei@example.com.cn or call 13812345678 / +86 138 1234 5678 / 010-62345678" "ID 11010519491231002X, host 192.168.1.20, see https://example.org/a?b=1. Order 123456789012345678901 and version 1.2.3.4.5 stay." >pii.jsonl &&
    out=$(ft-clean --mask-pii --stats st.json pii.jsonl) &&
    expect_eq "$(echo "$out" | jq -r .conversation[0].human)" "mail me: <EMAIL> or call <PHONE> / <PHONE> / <PHONE>" &&
    expect_eq "$(echo "$out" | first_reply)" "ID <ID_NUMBER>, host <IP>, see <URL>. Order 123456789012345678901 and version 1.2.3.4.5 stay." &&
    expect_eq "$(jq ".fixes[\"pii-masked\"]" st.json)" 7
'

test_expect_success '--mask-pii: combining marks after a match go with it (no tag glued to a mark by NFC)' '
    conv "mail a@b.com\u0338 now" "ok sure" >mark.jsonl &&
    expect_eq "$(ft-clean --mask-pii mark.jsonl | jq -r .conversation[0].human)" "mail <EMAIL> now"
'

test_expect_success 'without --mask-pii nothing is masked' '
    ft-clean pii.jsonl | grep -q "li.lei@example.com.cn"
'

loop=$(printf "I am sorry, I cannot help with that. %.0s" $(seq 30))
test_expect_success 'a looping reply is dropped as repeated-sentences; --no-filters keeps it' '
    conv "help?" "$loop" >loop.jsonl &&
    ft-clean --stats st.json -v loop.jsonl >out.jsonl 2>err &&
    test ! -s out.jsonl &&
    expect_eq "$(jq -r ".dropped_by_reason | keys[0]" st.json)" repeated-sentences &&
    grep -q "loop.jsonl:1: repeated-sentences: turn 1: assistant turn: 97% of 30 sentences are repeats" err &&
    ft-clean --no-filters loop.jsonl | grep -q sorry
'

test_expect_success 'a reply that is one character run is dropped as char-repetition' '
    conv "laugh?" "Sure: $(printf "%0200d" 0 | tr 0 h) and more" >run.jsonl &&
    ft-clean --stats st.json -v run.jsonl >out.jsonl 2>err &&
    test ! -s out.jsonl &&
    grep -q "run.jsonl:1: char-repetition: turn 1: assistant turn: character 10-gram repetition 0.9" err
'

test_expect_success 'a reply looping on a short unit is dropped as looping; a short laugh is not' '
    conv "ok?" "好的，$(for i in $(seq 40); do printf 好的; done)" >loopy.jsonl &&
    ft-clean --stats st.json -v loopy.jsonl >out.jsonl 2>err &&
    test ! -s out.jsonl &&
    grep -q "loopy.jsonl:1: looping: turn 1: assistant turn: a 2-character unit repeated 40 times" err &&
    ft-clean --max-loop-share 0 loopy.jsonl | grep -q 好的 &&
    conv "joke" "哈哈哈哈哈哈哈哈哈哈，这个笑话确实很有意思。它的妙处在于双关语的运用，让人在意想不到的地方会心一笑。" >laugh.jsonl &&
    expect_eq "$(ft-clean laugh.jsonl | wc -l)" 1
'

test_expect_success 'repeated sentences and special characters have their own reasons and switches' '
    conv "tell me" "这是第一句话。这是重复的句子。这是重复的句子。这是重复的句子。这是重复的句子。这是重复的句子。这是最后一句。" >sent.jsonl &&
    ft-clean --max-repetition 0 --stats st.json sent.jsonl >/dev/null &&
    expect_eq "$(jq -r ".dropped_by_reason | keys[0]" st.json)" repeated-sentences &&
    ft-clean --max-repetition 0 --max-sentence-repeat 0 sent.jsonl | grep -q 最后 &&
    conv "draw" "★★★☆☆ ♠♣♥♦ ☀☁☂☃ ✓✗✓✗ ➀➁➂➃ ⚡⚡ ok" >sp.jsonl &&
    ft-clean --stats st.json sp.jsonl >/dev/null &&
    expect_eq "$(jq -r ".dropped_by_reason | keys[0]" st.json)" special-chars &&
    conv "calc" "x = (a + b) * c / 2 - d % 3 == e && f || !g; y <= z >= w" >ops.jsonl &&
    expect_eq "$(ft-clean ops.jsonl | wc -l)" 1
'

test_expect_success 'length filters: empty turn, too short, too long, --keep-empty' '
    { conv "" "answer"; conv "q" "a"; conv "question" "$(printf "%0300d" 0)"; } >len.jsonl &&
    ft-clean --max-turn-chars 200 --stats st.json len.jsonl >/dev/null &&
    expect_eq "$(jq -c .dropped_by_reason st.json)" "{\"empty-turn\":1,\"turn-too-long\":1,\"conv-too-short\":1}" &&
    ft-clean --keep-empty --min-turn-chars 0 --min-conv-chars 0 --max-turn-chars 0 --max-repetition 0 len.jsonl | wc -l | grep -qx 3
'

test_expect_success '-o is atomic: no temp file is left, and SIGTERM leaves no output at all' '
    conv "hello there" "general kenobi" >one.jsonl &&
    ft-clean -o result.jsonl one.jsonl && test -s result.jsonl &&
    mkfifo fifo &&
    { ft-clean -o killed.jsonl fifo & pid=$!; } &&
    exec 3>fifo && cat one.jsonl >&3 && sleep 0.3 &&
    ls -A | grep -q "^\.killed\.jsonl\.tmp\." &&
    kill -TERM $pid && exec 3>&- && { wait $pid || true; } &&
    test ! -e killed.jsonl &&
    test -z "$(ls -A | grep "\.tmp\.")"
'

test_expect_success '-o onto a FIFO writes into it and leaves it a FIFO (never renamed over); a directory is an error' '
    mkfifo out.fifo &&
    { cat out.fifo >from-fifo & reader=$!; } &&
    ft-clean -o out.fifo one.jsonl && wait $reader &&
    test -p out.fifo && cmp result.jsonl from-fifo &&
    mkdir adir && test_rc=0 && ft-clean -o adir one.jsonl 2>err || test_rc=$? &&
    expect_eq "$test_rc" 1 && grep -q "cannot create output: .adir.: Is a directory" err
'

test_expect_success 'a closed pipe ends the tool quietly' '
    for i in $(seq 2000); do cat one.jsonl; done >many.jsonl &&
    ft-clean many.jsonl 2>err | head -1 >/dev/null &&
    ! grep -qi "broken pipe\|error" err
'

test_done
