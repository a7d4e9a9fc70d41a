#!/usr/bin/env bash
# t3000-tokenize-basic: ft-tokenize's command line: options and usage errors, both output formats, bad
# records (counted, reported, --rejects, --strict), bad tokenizers, -j determinism, --decode, the stats.
. "$(dirname "$0")/lib.sh"

test_expect_success '--help and --version' '
    ft-tokenize --help | grep -q "^Usage: ft-tokenize" &&
    ft-tokenize --version | grep -q "^ft-tokenize (ft) " &&
    ft-tokenize --version -v | grep -q "^build: "
'

test_expect_success 'usage errors exit 2 with the synopsis' '
    for args in "--template default" "--tokenizer x" "-t x -T default --max-seq-len -1" \
                "-t x -T default --overlong never" "-t x -T default --format xml" "-t x -T default -j 0" \
                "-t x -T default --bogus" "-t x -T default --text-sep X" "--decode a b"; do
        rc=0; ft-tokenize $args </dev/null >out 2>err || rc=$?
        expect_eq "$rc" 2 "exit status of: $args" && grep -q "ft-tokenize" err || exit 1
    done
'

test_expect_success '--list-templates names every built-in template' '
    ft-tokenize --list-templates >got &&
    printf "%s\n" default qwen baichuan baichuan2 llama2 firefly-v1 >want && diff want got
'

test_expect_success 'a tokenizer that is not a SentencePiece model is a clear error, exit 1' '
    echo "{}" >in.jsonl && echo "not a model" >bad.model &&
    rc=0; ft-tokenize -t bad.model -T default in.jsonl -o out.tok 2>err || rc=$? &&
    expect_eq "$rc" 1 && grep -q "cannot load tokenizer: .bad.model.: not a SentencePiece model" err &&
    test ! -e out.tok &&
    rc=0; ft-tokenize -t . -T default in.jsonl -o out.tok 2>err || rc=$? &&
    expect_eq "$rc" 1 && grep -q "no tokenizer.model in directory" err &&
    rc=0; ft-tokenize -t missing.model -T default in.jsonl -o out.tok 2>err || rc=$? &&
    expect_eq "$rc" 1 && grep -q "cannot load tokenizer: .missing.model." err
'

if ! need_data tokenizers/baichuan2/tokenizer.model tokenizers/llama2/tokenizer.model; then
    test_skip 'tokenizing with real models' 'no ../shared/tokenizers/{baichuan2,llama2} (make fixtures)'
    test_done
    exit
fi
B2=$shared/tokenizers/baichuan2
L2=$shared/tokenizers/llama2

cat >good.jsonl <<'EOF'
{"conversation_id":1,"conversation":[{"human":"你好","assistant":"你好！有什么可以帮你？"},{"human":"What is 2+2?","assistant":"4"}]}
{"system":"Be brief.","conversation":[{"human":"Say hi","assistant":"Hi"}]}
EOF

test_expect_success 'jsonl output: one compact line per record, mask on assistant segments' '
    ft-tokenize -q -t "$B2" -T baichuan2 --format jsonl good.jsonl >got &&
    expect_eq "$(wc -l <got)" 2 &&
    head -1 got | grep -qE "^\{\"input_ids\":\[195,[0-9,]+\],\"loss_mask\":\[0,0,0,1,[01,]+\]\}$" &&
    ! grep -q " " got
'

test_expect_success 'the binary stream refuses a terminal unless -f, and goes to -o atomically' '
    ft-tokenize -q -t "$B2" -T baichuan2 good.jsonl -o out.tok &&
    head -c 8 out.tok | grep -q FTTOKSTR &&
    if command -v script >/dev/null; then
        script -qec "ft-tokenize -q -t $B2 -T baichuan2 $tmp/good.jsonl" /dev/null >tty.out 2>&1 || true
        grep -q "refusing to write a binary token stream to a terminal" tty.out
    fi
'

test_expect_success '--decode shows every template text with the trained spans marked' '
    ft-tokenize -q -t "$B2" -T baichuan2 good.jsonl -o out.tok &&
    ft-tokenize --decode -t "$B2" out.tok >got &&
    cat >want <<-\EOF &&
	# record 0: 21 tokens, 9 trained
	<reserved_106>你好<reserved_107>⟦你好！有什么可以帮你？</s>⟧<reserved_106>What is 2+2?<reserved_107>⟦4</s>⟧
	# record 1: 6 tokens, 2 trained
	<reserved_106>Say hi<reserved_107>⟦Hi</s>⟧
	EOF
    diff want got &&
    ft-tokenize --decode <out.tok | grep -q "^195 " 
'

test_expect_success 'the stream and jsonl carry the same ids; -j1 and -j2 are byte-identical' '
    for i in $(seq 1 300); do sed "s/你好/你好$i/" good.jsonl; done >many.jsonl &&
    ft-tokenize -q -t "$B2" -T baichuan2 -j1 many.jsonl -o j1.tok &&
    ft-tokenize -q -t "$B2" -T baichuan2 -j2 many.jsonl -o j2.tok &&
    cmp j1.tok j2.tok &&
    ft-tokenize -q -t "$B2" -T baichuan2 -j2 --format jsonl many.jsonl >j2.jsonl &&
    ft-tokenize -q -t "$B2" -T baichuan2 -j1 --format jsonl many.jsonl >j1.jsonl &&
    cmp j1.jsonl j2.jsonl && expect_eq "$(wc -l <j1.jsonl)" 600
'

cat >bad.jsonl <<'EOF'
{"conversation":[{"human":"a","assistant":"b"}]}
{"conversation":[{"human":"a","assistant":"b"}
{"id":7}
{"conversation":[]}

{"conversation":[{"human":"a"}]}
{"system":null,"conversation":[{"human":"a","assistant":"b"}]}
{"conversation":[{"human":"c","assistant":"d"}]}
EOF

test_expect_success 'bad records: file:line and reason, counted, raw in --rejects, in = out + dropped + rejected' '
    ft-tokenize -t "$B2" -T baichuan2 --format jsonl --rejects rej.jsonl --stats st.json bad.jsonl >out 2>err &&
    expect_eq "$(wc -l <out)" 2 &&
    grep -q "bad.jsonl:2: bad-json: truncated JSON" err &&
    grep -q "bad.jsonl:3: no-conversation: no .conversation." err &&
    grep -q "bad.jsonl:4: empty-conversation" err &&
    grep -q "bad.jsonl:6: bad-turn: turn 1 has no string .assistant." err &&
    grep -q "bad.jsonl:7: bad-system" err &&
    sed -n "2,4p;6,7p" bad.jsonl >want && diff want rej.jsonl &&
    grep -q "\"in\":	7" st.json && grep -q "\"out\":	2" st.json && grep -q "\"rejected\":	5" st.json &&
    grep -q "\"dropped\":	0" st.json && grep -q "\"tokens\":	10" st.json && grep -q "\"masked_tokens\":	4" st.json &&
    grep -q "7 in, 2 out (2 sequences, 10 tokens, 4 trained), 0 dropped, 5 rejected" err
'

test_expect_success '--strict stops at the first bad record with exit 1 and leaves no output' '
    rc=0; ft-tokenize -t "$B2" -T baichuan2 --strict bad.jsonl -o s.tok 2>err || rc=$? &&
    expect_eq "$rc" 1 && grep -q "bad.jsonl:2: .*(--strict)" err && test ! -e s.tok
'

test_expect_success 'an unreadable input: exit 1, the others still read' '
    rc=0; ft-tokenize -q -t "$B2" -T baichuan2 --format jsonl nosuch.jsonl good.jsonl >out 2>err || rc=$? &&
    expect_eq "$rc" 1 && grep -q "cannot open input: .nosuch.jsonl." err && expect_eq "$(wc -l <out)" 2
'

long='{"conversation":[{"human":"one two three","assistant":"four five six"},{"human":"seven","assistant":"eight nine ten eleven"},{"human":"x","assistant":"y"}]}'
test_expect_success '--overlong truncate keeps the head, drop drops, split cuts between turns' '
    echo "$long" >long.jsonl &&
    ft-tokenize -q -t "$L2" -T default --format jsonl long.jsonl >full &&
    n=$(grep -o "," full | wc -l) &&
    ft-tokenize -t "$L2" -T default --format jsonl --max-seq-len 20 --stats st.json long.jsonl >t 2>err &&
    expect_eq "$(grep -o "[0-9]\+" t | wc -l)" 40 && grep -q "1 truncated" err &&
    grep -q "\"truncated\":	1" st.json &&
    ft-tokenize -t "$L2" -T default --format jsonl --max-seq-len 20 --overlong drop --stats st.json long.jsonl >d 2>err &&
    test ! -s d && grep -q "\"dropped\":	1" st.json && grep -q "\"dropped_overlong\":	1" st.json &&
    ft-tokenize -t "$L2" -T llama2 --format jsonl --max-seq-len 160 --overlong split --stats st.json long.jsonl >s 2>err &&
    expect_eq "$(wc -l <s)" 2 && grep -q "\"split\":	1" st.json && grep -q "\"sequences\":	2" st.json &&
    head -c 40 s >a && tail -1 s | head -c 40 >b && cmp a b
'

test_expect_success 'safe mode: </s> typed in content is text; --hf-special-tokens makes it the eos id' '
    echo "{\"conversation\":[{\"human\":\"end</s>here\",\"assistant\":\"ok\"}]}" >inj.jsonl &&
    ft-tokenize -q -t "$L2" -T llama2 --format jsonl inj.jsonl >safe &&
    ft-tokenize -q -t "$L2" -T llama2 --format jsonl --hf-special-tokens inj.jsonl >hf &&
    expect_eq "$(grep -o "\b2\b" safe | wc -l)" 1 "eos ids in safe mode" &&
    expect_eq "$(grep -o "\b2\b" hf | wc -l)" 2 "eos ids in HF mode"
'

test_expect_success 'a template from a JSON file' '
    printf "%s" "{\"system_format\":null,\"user_format\":\"Q: {content}\\n\",\"assistant_format\":\"A: {content}{stop_token}\\n\",\"system\":null}" >qa.json &&
    ft-tokenize -q -t "$L2" -T qa.json good.jsonl -o qa.tok && ft-tokenize --decode -t "$L2" qa.tok >got &&
    grep -q "^Q: Say hi" got && grep -qF "⟦ A: Hi</s>" got &&
    echo "{\"user_format\":\"{content}\"}" >bad.json &&
    rc=0; ft-tokenize -t "$L2" -T bad.json good.jsonl -o x 2>err || rc=$? &&
    expect_eq "$rc" 1 && grep -q "cannot load template: .bad.json.: .assistant_format. is missing" err
'

test_expect_success '--encode-text: one line of ids per text, --text-sep joins lines' '
    printf "Hello world\n\n" | ft-tokenize --encode-text -t "$L2" >got &&
    printf "15043 3186\n\n" >want && diff want got &&
    printf "a\nb\n--\n\n--\nc" | ft-tokenize --encode-text -t "$L2" --text-sep -- >got &&
    ft-tokenize --encode-text -t "$L2" <<<"a
b" >/dev/null &&
    expect_eq "$(wc -l <got)" 3 && expect_eq "$(sed -n 2p got)" ""
'

if need_data tokenizers/llama2/vectors/llama-spm.inp tokenizers/llama2/vectors/llama-spm.out; then
    test_expect_success '--encode-text gives the llama.cpp Llama-2 vectors (made by HF transformers)' '
        ft-tokenize --encode-text -t "$L2" --text-sep __ggml_vocab_test__ "$shared/tokenizers/llama2/vectors/llama-spm.inp" >got &&
        sed "s/^ //" "$shared/tokenizers/llama2/vectors/llama-spm.out" >want && diff want got
    '
fi

test_expect_success 'a corrupt or truncated stream is an error for --decode' '
    ft-tokenize -q -t "$B2" -T baichuan2 good.jsonl -o out.tok &&
    head -c 600 out.tok >cut.tok &&
    rc=0; ft-tokenize --decode cut.tok >/dev/null 2>err || rc=$? &&
    expect_eq "$rc" 1 && grep -q "truncated stream" err &&
    rc=0; ft-tokenize --decode good.jsonl >/dev/null 2>err || rc=$? &&
    expect_eq "$rc" 1 && grep -q "not a token stream" err &&
    cat out.tok out.tok | ft-tokenize --decode | grep -c "^# record" >n && expect_eq "$(cat n)" 4
'

test_done
