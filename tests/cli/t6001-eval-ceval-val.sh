#!/usr/bin/env bash
# t6001-eval-ceval-val: ft-eval on the real stories260K Llama (tok512 SentencePiece) over the full C-Eval val split
# runs to completion with 52 subjects and 1,346 questions; the question- and subject-weighted averages, the
# category means and Hard agree with a recount from --json and with the table; the KV-cache prefix reuse gives
# the predictions of full recomputation with fewer tokens; BOS (tokenizer_config.json too), letter-id rules, the
# length limit, bf16 and NF4 weights, an adapter, CMMLU and MMLU. --max-length 64 keeps the full run to seconds.
. "$(dirname "$0")/lib.sh"

if ! need_data data/ceval/mapping.json models/stories260K/hf/config.json models/stories260K/tok512.model; then
    test_skip 'ft-eval on stories260K' 'no ../shared/data/ceval or ../shared/models/stories260K (make fixtures)'
    test_done
    exit
fi
model=$shared/models/stories260K/hf
tok=$shared/models/stories260K/tok512.model
ev() { ft-eval --threads 1 --model "$model" --tokenizer "$tok" "$@"; }
ceval=(--task ceval --data "$shared/data/ceval")

test_expect_success 'the full C-Eval val split runs to completion: 52 subjects, 1346 questions' '
    ev "${ceval[@]}" --max-length 64 --json r.json >table 2>err &&
    expect_eq "$(jq ".subjects | length" r.json)" 52 subjects &&
    expect_eq "$(jq ".summary.total" r.json)" 1346 questions &&
    expect_eq "$(jq ".summary.subjects" r.json)" 52 "subjects with questions" &&
    expect_eq "$(jq "[.subjects[].total] | add" r.json)" 1346 "questions over subjects" &&
    expect_eq "$(grep -cE "^[a-z_]+ +(STEM|Social Sciences|Humanities|Other) +[0-9]+ +[0-9]+ +[0-9.]+$" table)" 52 \
        "table rows"
'

test_expect_success 'question- and subject-weighted averages agree with a recount from --json' '
    jq -e "
        def close(a; b): ((a - b) | fabs) < 1e-9;
        (.subjects | map(.correct) | add) as \$c | (.subjects | map(.total) | add) as \$t |
        (.subjects | map(.correct / .total) | add / length) as \$s |
        close(.summary.avg_questions; \$c / \$t) and close(.summary.avg_subjects; \$s) and
        .summary.correct == \$c and .summary.total == \$t and
        all(.subjects[]; close(.acc; .correct / .total))
    " r.json
'

test_expect_success 'category means and Hard agree with a recount from --json' '
    jq -e "
        def close(a; b): ((a - b) | fabs) < 1e-9;
        . as \$r |
        all(.summary.categories | to_entries[];
            .key as \$k | ([\$r.subjects[] | select(.category == \$k) | .correct / .total]) as \$v |
            .value.subjects == (\$v | length) and close(.value.acc; \$v | add / length)) and
        ([.subjects[] | select(.hard) | .subject] | sort) == ([\"advanced_mathematics\", \"college_chemistry\",
            \"college_physics\", \"discrete_mathematics\", \"high_school_chemistry\", \"high_school_mathematics\",
            \"high_school_physics\", \"probability_and_statistics\"]) and
        close(.summary.hard.acc; [.subjects[] | select(.hard) | .correct / .total] | add / length)
    " r.json &&
    expect_eq "$(jq ".summary.categories.STEM.subjects, .summary.categories[\"Social Sciences\"].subjects,
                      .summary.categories.Humanities.subjects, .summary.categories.Other.subjects" r.json | tr "\n" " ")" \
        "20 10 11 11 " "category sizes"
'

test_expect_success 'the table prints the same averages as the JSON' '
    q=$(jq -r ".summary.avg_questions * 100 * 100 | round / 100" r.json) &&
    s=$(jq -r ".summary.avg_subjects * 100 * 100 | round / 100" r.json) &&
    t=$(awk "/^Average \\(over questions\\)/ {print \$NF}" table) &&
    u=$(awk "/^Average \\(over subjects, official\\)/ {print \$NF}" table) &&
    awk -v a="$q" -v b="$t" -v c="$s" -v d="$u" "BEGIN { exit !((a - b) ^ 2 < 1e-6 && (c - d) ^ 2 < 1e-6) }"
'

test_expect_success 'prompts longer than the limit: one warning, counted in the JSON' '
    expect_eq "$(grep -c "prompts are longer than 64 tokens" err)" 1 warnings &&
    expect_eq "$(jq ".tokens.truncated_prompts" r.json)" 1346 truncated &&
    expect_eq "$(jq ".max_length" r.json)" 64 max_length &&
    jq -e ".tokens.forwarded <= .tokens.without_reuse" r.json
'

test_expect_success 'prefix reuse: the predictions of full recomputation, fewer tokens forwarded' '
    ev "${ceval[@]}" --subjects middle_school_geography --shots 2 --max-length 4096 \
        --predictions --json a.json >/dev/null 2>&1 &&
    ev "${ceval[@]}" --subjects middle_school_geography --shots 2 --max-length 4096 \
        --predictions --json b.json --no-prefix-reuse >/dev/null 2>&1 &&
    cmp <(jq -c "[.subjects[].predictions]" a.json) <(jq -c "[.subjects[].predictions]" b.json) &&
    jq -e ".tokens.truncated_prompts == 0 and .prefix_reuse and .tokens.forwarded * 2 < .tokens.without_reuse" a.json &&
    jq -e ".prefix_reuse == false and .tokens.forwarded == .tokens.without_reuse" b.json &&
    expect_eq "$(jq .tokens.without_reuse a.json)" "$(jq .tokens.without_reuse b.json)" "the same prompts"
'

test_expect_success 'the model positions (512) are the default limit' '
    ev "${ceval[@]}" --subjects middle_school_geography --json d.json >/dev/null 2>err &&
    expect_eq "$(jq .max_length d.json)" 512 max_length &&
    grep -q "longer than 512 tokens (the model.s positions" err
'

test_expect_success 'BOS: auto adds <s> for SentencePiece; --bos no does not; letter ids by both rules' '
    ev "${ceval[@]}" --subjects middle_school_geography --max-length 32 --json b1.json >/dev/null 2>&1 &&
    ev "${ceval[@]}" --subjects middle_school_geography --max-length 32 --bos no --letter-ids encode \
        --json b2.json >/dev/null 2>&1 &&
    jq -e ".bos == true and .letter_ids.rule == \"context\"" b1.json &&
    jq -e ".bos == false and .letter_ids.rule == \"encode\"" b2.json &&
    jq -e "[.letter_ids.A, .letter_ids.B, .letter_ids.C, .letter_ids.D] | unique | length == 4" b1.json
'

test_expect_success 'BOS auto follows tokenizer_config.json add_bos_token beside the tokenizer' '
    mkdir tk && ln -s "$tok" tk/tokenizer.model && echo "{\"add_bos_token\": false}" >tk/tokenizer_config.json &&
    ft-eval --threads 1 --model "$model" --tokenizer tk "${ceval[@]}" --subjects middle_school_geography \
        --max-length 32 --json t1.json -v >/dev/null 2>err &&
    jq -e ".bos == false" t1.json && grep -q "BOS no (tokenizer_config.json add_bos_token)" err &&
    ft-eval --threads 1 --model "$model" --tokenizer tk/tokenizer.model "${ceval[@]}" \
        --subjects middle_school_geography --max-length 32 --json t2.json >/dev/null 2>&1 &&
    jq -e ".bos == false" t2.json
'

test_expect_success '--quant bf16 and nf4 runs complete' '
    ev "${ceval[@]}" --subjects middle_school_geography --max-length 32 --quant bf16 --json q1.json >/dev/null 2>&1 &&
    ev "${ceval[@]}" --subjects middle_school_geography --max-length 32 --quant nf4 --json q2.json >/dev/null 2>&1 &&
    jq -e ".quant == \"bf16\" and .summary.total == 12" q1.json && jq -e ".quant == \"nf4\" and .summary.total == 12" q2.json
'

test_expect_success 'a LoRA adapter loads and the run completes' '
    ev "${ceval[@]}" --subjects middle_school_geography --max-length 32 --adapter "$model/lora-ref" \
        --json l.json >/dev/null &&
    jq -e ".adapter != null and .summary.total == 12" l.json
'

if need_data data/cmmlu/mapping.json data/mmlu/mapping.json; then
    test_expect_success 'CMMLU and MMLU subjects run' '
        ev --task cmmlu --data "$shared/data/cmmlu" --subjects agronomy --max-length 32 --json c.json >/dev/null &&
        expect_eq "$(jq .summary.total c.json)" "$(($(wc -l <"$shared/data/cmmlu/test/agronomy.csv") - 1))" cmmlu &&
        ev --task mmlu --data "$shared/data/mmlu" --split val --subjects abstract_algebra,anatomy --max-length 32 \
            --json m.json >/dev/null &&
        expect_eq "$(jq .summary.total m.json)" 25 mmlu &&
        jq -e ".summary.hard == null and .letter_ids.rule == \"context\"" m.json
    '
else
    test_skip 'CMMLU and MMLU subjects run' 'no ../shared/data/cmmlu or mmlu'
fi

test_done
