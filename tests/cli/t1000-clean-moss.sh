#!/usr/bin/env bash
# t1000-clean-moss: ft-clean over the real MOSS-003 samples: exact counts per reason, no marker left,
# valid JSON / UTF-8 / NFC output, the same result from the pretty files, their JSONL form and -j 2.
. "$(dirname "$0")/lib.sh"

if ! need_data data/moss/SFT_data/conversations; then
    echo "1..0 # SKIP MOSS samples not found at ../shared or \$FT_TESTDATA"
    exit 0
fi
moss=$shared/data/moss/SFT_data/conversations
find "$moss" -name '*.json' | LC_ALL=C sort >files
mapfile -t F <files

# An independent check with Python's own json and unicodedata (skipped without python3).
check_jsonl() { # file: every line a JSON object with a conversation of non-empty, NFC, marker-free texts
    command -v python3 >/dev/null || { echo "no python3: structural check only" >&2; jq -e . "$1" >/dev/null; return; }
    python3 - "$1" <<'PY'
import json, sys, unicodedata
bad = 0
with open(sys.argv[1], 'rb') as f:
    for n, raw in enumerate(f, 1):
        line = raw.decode('utf-8')           # raises on invalid UTF-8
        d = json.loads(line)
        texts = [t[k] for t in d['conversation'] for k in ('human', 'assistant')]
        texts += [d[k] for k in ('system', 'category') if k in d]
        for t in texts:
            assert isinstance(t, str) and t == t.strip(), (n, t[:40])
            assert unicodedata.is_normalized('NFC', t), (n, t[:40])
            for m in ('<|Human|>', '<|MOSS|>', '<|Inner Thoughts|>', '<|Commands|>', '<|Results|>',
                      '<eoh>', '<eom>', '<eot>', '<eoc>', '<eor>'):
                assert m not in t, (n, m)
        assert d['conversation'], n
PY
}

test_expect_success 'default run: 1120 in, 623 kept, 497 tool-use' '
    ft-clean --stats stats.json --rejects rej.jsonl -o out.jsonl "${F[@]}" 2>err &&
    expect_eq "$(jq .in stats.json)" 1120 in &&
    expect_eq "$(jq .kept stats.json)" 623 kept &&
    expect_eq "$(jq .dropped_by_reason["\"tool-use\""] stats.json)" 497 tool-use &&
    expect_eq "$(jq .rejected stats.json)" 0 rejected &&
    expect_eq "$(wc -l <out.jsonl)" 623 lines &&
    grep -q "1120 in, 623 kept, 497 dropped (tool-use 497), 0 rejected" err
'

test_expect_success 'in = kept + dropped + rejected, and per reason sums match' '
    expect_eq "$(jq ".kept + .dropped + .rejected" stats.json)" "$(jq .in stats.json)" &&
    expect_eq "$(jq "[.dropped_by_reason[]] | add" stats.json)" "$(jq .dropped stats.json)"
'

test_expect_success 'every output line is JSON, UTF-8, NFC, trimmed and free of MOSS markers' '
    check_jsonl out.jsonl &&
    ! grep -E "<\|(Human|MOSS|Inner Thoughts|Commands|Results)\|>|<eo[hmtcr]>" out.jsonl
'

test_expect_success 'the first turn of conversation 1 of harmless_conversations is stripped exactly' '
    f=$(grep -m1 harmless_conversations files) &&
    want=$(jq -r ".chat.turn_1.Human" "$f" | sed -e "s/^<|Human|>: //" -e "s/<eoh>\$//") &&
    got=$(ft-clean "$f" | jq -r ".conversation[0].human") &&
    expect_eq "$got" "$want"
'

test_expect_success 'rejects: one line per tool-use conversation, with file:line and the raw record' '
    expect_eq "$(wc -l <rej.jsonl)" 497 &&
    expect_eq "$(jq -r .reason rej.jsonl | sort -u)" tool-use &&
    f=$(jq -r "select(.where | test(\"calculator\")) | .where" rej.jsonl | head -1) &&
    expect_eq "${f##*:}" 1 line &&
    jq -j "select(.where == \"$f\") | .raw" rej.jsonl >raw.json &&
    cmp raw.json "${f%:1}"
'

test_expect_success '--moss-tools=strip keeps all 1120 without tool parts or citations' '
    ft-clean --moss-tools=strip --stats s2.json -o strip.jsonl "${F[@]}" &&
    expect_eq "$(jq .kept s2.json)" 1120 &&
    test "$(jq ".fixes[\"tools-stripped\"]" s2.json)" -gt 497 &&
    check_jsonl strip.jsonl &&
    ! grep -E "<\|/?[0-9]+\|>" strip.jsonl
'

test_expect_success '--keep-meta carries meta_instruction as system' '
    f=$(grep -m1 honest_conversations files) &&
    ft-clean --keep-meta "$f" >meta.jsonl &&
    want=$(jq -r .meta_instruction "$f" | sed -e "s/[[:space:]]*\$//") &&
    expect_eq "$(jq -r .system meta.jsonl)" "$want"
'

test_expect_success 'one-object-per-line MOSS input gives the same output as the pretty files' '
    while read -r f; do jq -c . "$f"; done <files >moss.jsonl &&
    ft-clean moss.jsonl >from-jsonl.jsonl &&
    cmp out.jsonl from-jsonl.jsonl
'

test_expect_success '-j 2 output is byte-identical to -j 1, also through stdin' '
    ft-clean -j 2 <moss.jsonl >j2.jsonl &&
    cmp out.jsonl j2.jsonl
'

test_expect_success 'the user_prompts files are not conversations: rejected as unknown-format, counted' '
    ft-clean --stats up.json "$shared"/data/moss/SFT_data/user_prompts/harmless_prompts.jsonl >up.jsonl 2>up.err &&
    expect_eq "$(jq .rejected_by_reason[\"unknown-format\"] up.json)" 100 &&
    test ! -s up.jsonl &&
    grep -q "harmless_prompts.jsonl:1: unknown-format: no known record shape (keys: user_prompt)" up.err
'

test_done
