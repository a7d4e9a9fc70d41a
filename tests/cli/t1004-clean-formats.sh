#!/usr/bin/env bash
# t1004-clean-formats: ShareGPT and Alpaca records as LLaMA-Factory reads them, JSON array files,
# pretty-printed documents, and format auto-detection per record.
. "$(dirname "$0")/lib.sh"

test_expect_success 'ShareGPT: system first, human/gpt pairs, extra keys carried' '
    echo "{\"id\": \"x1\", \"conversations\": [{\"from\": \"system\", \"value\": \"Be brief.\"}, {\"from\": \"human\", \"value\": \"Hi there\"}, {\"from\": \"gpt\", \"value\": \"Hello!\"}, {\"from\": \"human\", \"value\": \"Bye now\"}, {\"from\": \"gpt\", \"value\": \"Goodbye.\"}]}" >sg.jsonl &&
    expect_eq "$(ft-clean sg.jsonl)" "{\"system\":\"Be brief.\",\"conversation\":[{\"human\":\"Hi there\",\"assistant\":\"Hello!\"},{\"human\":\"Bye now\",\"assistant\":\"Goodbye.\"}],\"id\":\"x1\"}"
'

test_expect_success 'OpenAI-style messages (role/content) are read as ShareGPT' '
    echo "{\"messages\": [{\"role\": \"user\", \"content\": \"2+2?\"}, {\"role\": \"assistant\", \"content\": \"It is 4.\"}]}" |
        ft-clean | jq -e ".conversation == [{\"human\": \"2+2?\", \"assistant\": \"It is 4.\"}]"
'

test_expect_success 'ShareGPT with broken role order or tool calls is dropped with its reason' '
    { echo "{\"conversations\": [{\"from\": \"gpt\", \"value\": \"Hello first\"}, {\"from\": \"human\", \"value\": \"hm\"}]}"
      echo "{\"conversations\": [{\"from\": \"human\", \"value\": \"unanswered question\"}]}"
      echo "{\"conversations\": [{\"from\": \"human\", \"value\": \"weather?\"}, {\"from\": \"function_call\", \"value\": \"{}\"}]}"
    } >badsg.jsonl &&
    ft-clean --stats st.json -v badsg.jsonl >out.jsonl 2>err &&
    test ! -s out.jsonl &&
    expect_eq "$(jq -c "[.dropped_by_reason[\"bad-roles\"], .dropped_by_reason[\"tool-use\"]]" st.json)" "[2,1]" &&
    grep -q "badsg.jsonl:1: bad-roles: message 1: expected a human message, got .gpt." err
'

test_expect_success 'Alpaca: instruction + newline + input, history first, system kept' '
    echo "{\"instruction\": \"Translate to French\", \"input\": \"cat\", \"output\": \"chat\", \"system\": \"You translate.\", \"history\": [[\"Translate to German: dog\", \"Hund\"]]}" >al.jsonl &&
    expect_eq "$(ft-clean al.jsonl)" "{\"system\":\"You translate.\",\"conversation\":[{\"human\":\"Translate to German: dog\",\"assistant\":\"Hund\"},{\"human\":\"Translate to French\ncat\",\"assistant\":\"chat\"}]}"
'

test_expect_success 'a pretty-printed JSON array of Alpaca records is read element by element' '
    jq -n "[{instruction: \"Say hi please\", input: \"\", output: \"hi\"}, {instruction: \"Count to three\", output: \"1 2 3\"}, {instruction: 5}]" >alpaca.json &&
    head -1 alpaca.json | grep -qx "\[" &&
    ft-clean --stats st.json alpaca.json >out.jsonl 2>err &&
    expect_eq "$(jq -c "[.in, .kept, .rejected]" st.json)" "[3,2,1]" &&
    expect_eq "$(jq -r .conversation[0].human out.jsonl | head -1)" "Say hi please" &&
    grep -q "alpaca.json:1: bad-record: no string .instruction." err
'

test_expect_success 'a broken pretty-printed document is one bad-json record with its line' '
    printf "{\n  \"conversation\": [\n    {\"human\": \"a\" \"assistant\": \"b\"}\n  ]\n}\n" >broken.json &&
    ft-clean broken.json 2>err >/dev/null &&
    grep -q "broken.json:1: bad-json: JSON syntax error at line 3" err
'

test_expect_success 'mixed formats in one file are detected per record' '
    { echo "{\"conversation\": [{\"human\": \"firefly hi\", \"assistant\": \"hello\"}]}"
      echo "{\"instruction\": \"alpaca hi\", \"output\": \"hello\"}"
      echo "{\"conversations\": [{\"from\": \"human\", \"value\": \"sharegpt hi\"}, {\"from\": \"gpt\", \"value\": \"hello\"}]}"
      echo "{\"conversation_id\": 7, \"chat\": {\"turn_1\": {\"Human\": \"<|Human|>: moss hi<eoh>\n\", \"MOSS\": \"<|MOSS|>: hello<eom>\n\"}}}"
    } >mixed.jsonl &&
    expect_eq "$(ft-clean mixed.jsonl | jq -r .conversation[0].human | tr "\n" ,)" "firefly hi,alpaca hi,sharegpt hi,moss hi,"
'

test_expect_success 'MOSS turns are ordered by number, not by key order; Inner Thoughts never kept' '
    echo "{\"chat\": {\"turn_2\": {\"Human\": \"<|Human|>: second q<eoh>\", \"Inner Thoughts\": \"<|Inner Thoughts|>: secret<eot>\", \"MOSS\": \"<|MOSS|>: second a<eom>\"}, \"turn_1\": {\"Human\": \"<|Human|>: first q<eoh>\", \"MOSS\": \"<|MOSS|>: first a<eom>\"}}}" >order.jsonl &&
    out=$(ft-clean order.jsonl) &&
    expect_eq "$(echo "$out" | jq -r ".conversation[].human" | tr "\n" ,)" "first q,second q," &&
    ! echo "$out" | grep -q secret
'

test_expect_success 'carried values keep their numbers as written (big ids, 1.0, exponents), also in documents' '
    line="{\"conversation_id\":12345678901234567890,\"conversation\":[{\"human\":\"hello there\",\"assistant\":\"hi\"}],\"score\":1.0,\"meta\":{\"a\":[1e2,2.50,\"x\"],\"b\":-0.0}}" &&
    expect_eq "$(echo "$line" | ft-clean)" "$line" &&
    echo "$line" | sed -e "s/^{/{\n  /" -e "s/,\"/,\n  \"/g" -e "s/}\$/\n}/" >pretty.json &&
    head -1 pretty.json | grep -qx "{" && test "$(wc -l <pretty.json)" -gt 4 &&
    expect_eq "$(ft-clean pretty.json)" "$line"
'

test_done
