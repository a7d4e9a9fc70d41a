#!/usr/bin/env bash
# t6002-eval-bad-input: clear errors and exit codes: a missing data directory or file, bad CSV rows (reported with
# file:line, left out, exit 1), a header without the needed columns, an unknown subject or split, --device cuda,
# a missing model, an unwritable output, usage errors; and the C-Eval test split's submission JSON, on a small
# data set made here.
. "$(dirname "$0")/lib.sh"

mkdir -p d/dev d/val d/test
printf '{"physics": {"name": "物理", "category": "STEM"}, "law": {"name": "法学", "category": "Social Sciences"}}\n' \
    >d/mapping.json
printf 'id,question,A,B,C,D,answer,explanation\r\n0,q0,a,b,c,d,A,\r\n1,q1,a,b,c,d,B,\r\n' >d/dev/physics_dev.csv
cp d/dev/physics_dev.csv d/dev/law_dev.csv
printf 'id,question,A,B,C,D,answer\r\n0,v0,a,b,c,d,C\r\n1,v1,a,b,c,d,X\r\n2,"v2 "oops",a,b,c,d,A\r\n3,v3,a,b,c,d,D\r\n' \
    >d/val/physics_val.csv
printf 'id,question,A,B,C,D,answer\r\n0,l0,a,b,c,d,A\r\n' >d/val/law_val.csv
printf 'id,question,A,B,C,D\r\n0,t0,a,b,c,d\r\n7,t7,a,b,c,d\r\n' >d/test/physics_test.csv
printf 'id,question,A,B,C,D\r\n3,u3,a,b,c,d\r\n' >d/test/law_test.csv

# run EXPECTED_STATUS ARGS...: ft-eval's exit status must be EXPECTED_STATUS; stderr in err.
run() {
    local want=$1 rc=0
    shift
    ft-eval "$@" >out 2>err || rc=$?
    expect_eq "$rc" "$want" "exit status of ft-eval $*"
}

test_expect_success 'a missing data directory: exit 1, named' '
    run 1 --task ceval --data nope --dump-prompts p.jsonl &&
    grep -q "ft-eval: cannot read the ceval data: cannot open data directory .nope.: No such file or directory" err
'

test_expect_success 'bad CSV rows: file:line and reason, left out, exit 1' '
    run 1 --task ceval --data d --dump-prompts p.jsonl &&
    grep -q "d/val/physics_val.csv:3: bad row left out: answer .X. is not A, B, C or D" err &&
    grep -q "d/val/physics_val.csv:4: bad row left out: unexpected text after a closing quote" err &&
    expect_eq "$(wc -l <p.jsonl)" 3 "prompts of the good rows" &&
    expect_eq "$(jq -r .id p.jsonl | tr "\n" " ")" "0 3 0 " ids
'

test_expect_success 'a header without the needed columns: exit 1, file:line' '
    cp -r d h && printf "id,question,A,B,C\r\n0,q,a,b,c\r\n" >h/val/law_val.csv &&
    run 1 --task ceval --data h --subjects law --dump-prompts p.jsonl &&
    grep -q "h/val/law_val.csv:1: header has no question, A, B, C and D columns" err
'

test_expect_success 'a missing subject file: exit 1, named' '
    cp -r d m && rm m/dev/law_dev.csv &&
    run 1 --task ceval --data m --dump-prompts p.jsonl &&
    grep -q "cannot open .m/dev/law_dev.csv.: No such file or directory" err
'

test_expect_success 'an unknown subject or split: exit 2, named' '
    run 2 --task ceval --data d --subjects physics,chemistry --dump-prompts p.jsonl &&
    grep -q "unknown subject .chemistry. (not in d/mapping.json)" err &&
    run 2 --task ceval --data d --split train --dump-prompts p.jsonl &&
    grep -q "unknown split .train. for ceval (val, test)" err
'

test_expect_success '--device cuda: this build has no CUDA backend, exit 1' '
    run 1 --task ceval --data d --model nope --device cuda &&
    grep -q "ft-eval: --device cuda: this build has no CUDA backend yet" err
'

test_expect_success 'a missing model directory (and so no tokenizer in it): exit 1, named' '
    run 1 --task ceval --data d --subjects law --model nope &&
    grep -q "ft-eval: cannot load the tokenizer: .nope." err
'
if need_data models/stories260K/tok512.model; then
    test_expect_success 'a missing model directory with a tokenizer given: exit 1, named' '
        run 1 --task ceval --data d --subjects law --model nope --tokenizer "$shared/models/stories260K/tok512.model" &&
        grep -q "ft-eval: cannot load the model: .nope.: " err
    '
fi

test_expect_success 'an output that cannot be written: exit 1, named' '
    run 1 --task ceval --data d --subjects law --dump-prompts /dev/full &&
    grep -q "cannot write the prompts: ./dev/full.: No space left on device" err
'

test_expect_success 'usage errors: exit 2 with the usage line' '
    run 2 --data d --model x && grep -q "task is required" err && grep -q "^Usage: ft-eval" err &&
    run 2 --task ceval --model x && grep -q "data DIR is required" err &&
    run 2 --task ceval --data d && grep -q "model DIR is required" err &&
    run 2 --task gsm8k --data d --model x && grep -q "invalid value for --task: .gsm8k." err &&
    run 2 --task ceval --data d --model x --shots 6 && grep -q "shots" err &&
    run 2 --task mmlu --data d --model x --submission s.json && grep -q "submission" err &&
    run 2 --task ceval --data d --model x --device tpu && grep -q "invalid value for --device" err &&
    run 2 --task ceval --data d --model x --arch gpt2 && grep -q "invalid value for --arch" err &&
    run 2 --task ceval --data d --model x extra && grep -q "unexpected operand" err
'

if need_data models/stories260K/hf/config.json models/stories260K/tok512.model; then
    test_expect_success 'the C-Eval test split: the submission JSON {subject: {id: letter}}, no table' '
        run 0 --task ceval --data d --split test --model "$shared/models/stories260K/hf" \
            --tokenizer "$shared/models/stories260K/tok512.model" --max-length 32 --submission s.json &&
        jq -e "(.physics | keys) == [\"0\", \"7\"] and (.law | keys) == [\"3\"] and
               ([.[][]] | all(test(\"^[ABCD]$\")))" s.json &&
        expect_eq "$(wc -c <out)" 0 "stdout"
    '
    test_expect_success 'bad rows with a model: the table has the good rows, exit 1' '
        run 1 --task ceval --data d --model "$shared/models/stories260K/hf" \
            --tokenizer "$shared/models/stories260K/tok512.model" --max-length 32 &&
        grep -qE "^physics +STEM +[0-9]+ +2 " out
    '
    if need_data tokenizers/qwen2/vocab.json; then
        test_expect_success 'a tokenizer whose ids the model lacks: exit 1, said' '
            run 1 --task ceval --data d --subjects law --model "$shared/models/stories260K/hf" \
                --tokenizer "$shared/tokenizers/qwen2" &&
            grep -q "outside the model.s vocabulary of 512 (is the tokenizer the model.s?)" err
        '
    fi
else
    test_skip 'the C-Eval test split submission' 'no ../shared/models/stories260K (make fixtures)'
    test_skip 'bad rows with a model' 'no ../shared/models/stories260K (make fixtures)'
fi

test_done
