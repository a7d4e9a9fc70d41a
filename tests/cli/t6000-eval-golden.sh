#!/usr/bin/env bash
# t6000-eval-golden: the exact C-Eval 5-shot prompt bytes of two subjects (high_school_biology: quoted fields with
# CRLF and LF line breaks, tabs, an option with leading spaces; middle_school_geography) match the committed
# golden file, and tests/eval/ceval_prompts.py, written from DESIGN.md's rule alone with Python's csv module,
# makes the same prompts. --dump-prompts needs no model.
. "$(dirname "$0")/lib.sh"

golden=$top/tests/golden/ceval-prompts.jsonl
subjects=high_school_biology,middle_school_geography

if ! need_data data/ceval/mapping.json; then
    test_skip 'C-Eval golden prompts' 'no ../shared/data/ceval (make fixtures)'
    test_done
    exit
fi
data=$shared/data/ceval

test_expect_success 'ft-eval --dump-prompts matches the golden file byte for byte' '
    ft-eval --task ceval --data "$data" --subjects $subjects --dump-prompts got.jsonl &&
    cmp got.jsonl "$golden"
'

test_expect_success 'the golden file: 31 prompts, header, shots and cue as DESIGN.md states' '
    expect_eq "$(wc -l <"$golden")" 31 lines &&
    jq -r .prompt "$golden" >all.txt &&
    expect_eq "$(jq -r "select(.subject == \"middle_school_geography\") | .prompt" "$golden" |
                 grep -c "^以下是中国关于初中地理考试的单项选择题，请选出其中的正确答案。$")" 12 headers &&
    jq -j "select(.id == \"0\" and .subject == \"high_school_biology\") | .prompt" "$golden" >p0 &&
    expect_eq "$(grep -c "^答案：[ABCD]$" p0)" 5 "answered shots" &&
    expect_eq "$(tail -c 9 p0)" "答案：" "the prompt ends in the full-width cue" &&
    grep -q "^A\. " p0 && grep -q "^D\. " p0
'

test_expect_success '--shots 0 leaves the header and the question only' '
    ft-eval --task ceval --data "$data" --subjects middle_school_geography --shots 0 --dump-prompts z.jsonl &&
    jq -j "select(.id == \"0\") | .prompt" z.jsonl >z0 &&
    expect_eq "$(grep -c "^答案：" z0)" 1 cues
'

if command -v python3 >/dev/null; then
    test_expect_success 'tests/eval/ceval_prompts.py (independent) writes the same prompts' '
        python3 "$top/tests/eval/ceval_prompts.py" "$data" $subjects >py.jsonl &&
        cmp <(jq -j ".subject, .id, .prompt" py.jsonl) <(jq -j ".subject, .id, .prompt" "$golden")
    '
else
    test_skip 'tests/eval/ceval_prompts.py (independent) writes the same prompts' 'no python3'
fi

test_done
