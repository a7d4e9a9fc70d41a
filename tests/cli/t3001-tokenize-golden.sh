#!/usr/bin/env bash
# t3001-tokenize-golden: ft-tokenize --format jsonl against tests/tokenize/firefly_ref.py (Firefly's
# UnifiedSFTDataset / 2023 SFTDataset restated over the real SentencePiece library), byte for byte, for the
# Llama-2, Baichuan, Baichuan2 and Chinese-LLaMA-2 tokenizers x every built-in template x the Firefly dummy
# data and the MOSS-003 samples cleaned by ft-clean, plus a user template file and --max-seq-len.
# Run time: the reference encodes about 1 MB/s per combination, so each tokenizer gets the whole cleaned
# MOSS set (1120 records, 4.8 MB) only with the template it is mostly used with (llama2 and chinese-llama-2:
# llama2; baichuan: firefly-v1, the 2023 Firefly Baichuan + MOSS layout; baichuan2: baichuan2); every other
# combination reads every 8th MOSS record (140). The reference and ft-tokenize run side by side. All combinations read the whole dummy data and every 16th MOSS record
# cleaned with --keep-meta (a "system" in every record).
. "$(dirname "$0")/lib.sh"
. "$top/tests/tokenize/lib.sh"

toks="llama2 baichuan baichuan2 chinese-llama-2"
templates="default qwen baichuan baichuan2 llama2 firefly-v1"
full="llama2:llama2 chinese-llama-2:llama2 baichuan:firefly-v1 baichuan2:baichuan2"
moss=data/moss/SFT_data/conversations

for t in $toks; do
    need_data "tokenizers/$t/tokenizer.model" || { echo "1..0 # SKIP tokenizers/$t not found at ../shared or \$FT_TESTDATA"; exit 0; }
done
if ! need_data data/firefly/dummy_data.jsonl "$moss"; then
    echo "1..0 # SKIP Firefly dummy data or MOSS samples not found at ../shared or \$FT_TESTDATA"
    exit 0
fi
if [ -z "$spm_py" ]; then
    echo "1..0 # SKIP $spm_py_why"
    exit 0
fi

# The inputs: the Firefly file as it is, MOSS cleaned as the pipeline does (tests/tokenize/lib.sh).
clean_inputs || exit 1

# inputs TOKENIZER TEMPLATE: sets in (the input files of the combination, see the top) and plain (the same
# records in one file, less those whose texts hold a special string of the tokenizer: its CONTROL/UNKNOWN
# pieces or a marker USER_DEFINED one such as Baichuan's <reserved_106>; the MOSS records hold none)
# and keep (one 0/1 per record of in: whether it is in plain).
inputs() {
    in=(dummy.jsonl moss-sub.jsonl meta-sub.jsonl)
    case " $full " in *" $1:$2 "*) in=(dummy.jsonl moss.jsonl meta-sub.jsonl) ;; esac
    local key=$1-${in[1]%.jsonl}
    plain=plain-$key.jsonl keep=keep-$key.txt
    [ -s "$plain" ] && return 0
    awk 1 "${in[@]}" >all.jsonl &&
        "$spm_py" "$tok_dir/specials.py" has --tokenizer "$shared/tokenizers/$1/tokenizer.model" all.jsonl |
        awk '{ print 1 - $1 }' >"$keep" &&
        select_lines "$keep" all.jsonl >"$plain"
}
select_lines() { awk 'NR == FNR { keep[FNR] = $1; next } keep[FNR] == 1' "$@"; } # FLAGS FILE

# golden TOKENIZER TEMPLATE [OPTION...]: with --hf-special-tokens, ft-tokenize and the reference (Firefly
# exactly) on every record; in the default mode, ft-tokenize on the records without special strings, where
# it must give Firefly's ids too, whatever rule escapes special strings in content (the reference's default
# mode gives its --hf-special-tokens ids there: see the test 'reference: default mode = ...').
golden() {
    local t=$1 tpl=$2 m=$shared/tokenizers/$1/tokenizer.model
    shift 2
    inputs "$t" "$tpl" || return 1
    "$spm_py" "$ref" --tokenizer "$m" --template "$tpl" --hf-special-tokens "$@" "${in[@]}" >want-hf.jsonl &
    local pid=$!
    ft-tokenize --tokenizer "$m" --template "$tpl" --format jsonl --hf-special-tokens "$@" "${in[@]}" \
        >got-hf.jsonl || { wait $pid; return 1; }
    ft-tokenize --tokenizer "$m" --template "$tpl" --format jsonl "$@" "$plain" >got.jsonl || { wait $pid; return 1; }
    wait $pid &&
        expect_eq "$(wc -l <got-hf.jsonl)" "$(wc -l <want-hf.jsonl)" "records, --hf-special-tokens" &&
        same_tokens got-hf.jsonl want-hf.jsonl "$m" &&
        select_lines "$keep" want-hf.jsonl >want.jsonl &&
        expect_eq "$(wc -l <got.jsonl)" "$(wc -l <want.jsonl)" "records, default mode" &&
        same_tokens got.jsonl want.jsonl "$m"
}

test_expect_success 'the inputs: 33 Firefly records, 1120 + 140 + 70 cleaned MOSS records' '
    expect_eq "$(wc -l <moss.jsonl)" 1120 moss &&
    expect_eq "$(wc -l <moss-sub.jsonl)" 140 moss-sub &&
    expect_eq "$(jq -s "map(select(.system)) | length" meta-sub.jsonl)" 70 meta-sub
'

# The reference itself, on a record whose ids were checked by hand (decoded piece by piece): the system
# and every text stripped (str.strip) except in firefly-v1, the record's system used only where the
# template has a system_format, mask 1 on the whole assistant segment with its stop token.
echo '{"system":"  Be brief. ","conversation":[{"human":" 你好，1+1=? ","assistant":"2。\n"},{"human":"Thanks","assistant":"OK"}]}' >hand.jsonl
ref_is() { # tokenizer template want
    "$spm_py" "$ref" --tokenizer "$shared/tokenizers/$1/tokenizer.model" --template "$2" hand.jsonl >ref.out &&
        expect_eq "$(cat ref.out)" "$3" "$1 $2"
}
test_expect_success 'reference: baichuan2 template, hand-checked ids' '
    # <reserved_106> 你好 ， 1 + 1 = ? <reserved_107> | 2 。 </s> | <reserved_106> Thanks <reserved_107> | OK </s>
    ref_is baichuan2 baichuan2 "{\"input_ids\":[195,16829,65,92336,62,92336,64,74,196,92338,66,2,195,12779,196,10638,2],\"loss_mask\":[0,0,0,0,0,0,0,0,0,1,1,1,0,0,0,1,1]}"
'
test_expect_success 'reference: llama2 template with the record system, hand-checked ids' '
    # ▁<< SY S >> \n Be ▁brief . \n < </ SY S >> \n \n ▁[ INST ] 你 好 ， 1 + 1 = ? [ / INST ] | ▁ 2 。 ▁ </s> |
    # ▁[ INST ] Thanks [ / INST ] | ▁OK ▁ </s>
    ref_is llama2 llama2 "{\"input_ids\":[3532,14816,29903,6778,13,3629,11473,29889,13,29966,829,14816,29903,6778,13,13,518,25580,29962,30919,31076,30214,29896,29974,29896,29922,29973,29961,29914,25580,29962,29871,29906,30267,29871,2,518,25580,29962,16894,29961,29914,25580,29962,9280,29871,2],\"loss_mask\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,1,1,1,1,0,0,0,0,0,0,0,0,1,1,1]}"
'
test_expect_success 'reference: firefly-v1 (<s>, utterances unstripped, each + </s>), hand-checked ids' '
    # <s> | ▁ ▁你 好 ， 1 + 1 = ? ▁ </s> | ▁ 2 。 \n </s> | ▁Thanks </s> | ▁OK </s>
    ref_is baichuan firefly-v1 "{\"input_ids\":[1,31106,9875,31213,72,53,31340,53,31191,81,31106,2,31106,54,73,5,2,6639,2,12184,2],\"loss_mask\":[0,0,0,0,0,0,0,0,0,0,0,0,1,1,1,1,1,0,0,1,1]}"
'

# The golden comparisons below rest on this: on the records whose texts hold no special string, the
# default mode and --hf-special-tokens give the same ids, so the comparison does not depend on the content
# escape. (Both modes run on the subset here, so that default-mode output is the reference's own.)
test_expect_success 'reference: default mode = --hf-special-tokens on the records without special strings' '
    for t in $toks; do
        m=$shared/tokenizers/$t/tokenizer.model &&
            inputs "$t" qwen &&
            "$spm_py" "$ref" --tokenizer "$m" --template qwen "$plain" >safe.jsonl &&
            "$spm_py" "$ref" --tokenizer "$m" --template qwen --hf-special-tokens "$plain" >hf.jsonl &&
            cmp safe.jsonl hf.jsonl || exit 1
    done
'

if [ ! -x "$build/bin/ft-tokenize" ]; then
    test_skip "ft-tokenize against the reference" "$build/bin/ft-tokenize is not built yet"
    test_done
    exit
fi

for t in $toks; do
    for tpl in $templates; do
        test_expect_success "$t, template $tpl: identical to Firefly" "golden $t $tpl"
    done
done

# A user template with every field of register_template (after Firefly's vicuna entry), {stop_token} and
# {{ }} escapes.
cat >vicuna.json <<'EOF'
{"template_name": "vicuna", "system_format": "{content}\n",
 "user_format": "USER: {content} ASSISTANT:", "assistant_format": "{content}{stop_token} {{end}}",
 "system": "A chat between a curious user and an artificial intelligence assistant.", "stop_word": "</s>"}
EOF
test_expect_success 'a user template from a JSON file (Baichuan2, Llama-2)' '
    golden baichuan2 vicuna.json &&
    golden llama2 vicuna.json
'

test_expect_success '--max-seq-len 64 keeps the head of every record (Baichuan2, llama2 template)' '
    golden baichuan2 llama2 --max-seq-len 64 &&
    expect_eq "$(jq -s "map(.input_ids | length) | max" got.jsonl)" 64 "longest record"
'

test_done
