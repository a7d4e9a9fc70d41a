#!/usr/bin/env bash
# t1001-clean-firefly: Firefly's dummy_data.jsonl is already clean: it passes through with every value
# unchanged and nothing fixed, dropped or rejected.
. "$(dirname "$0")/lib.sh"

if ! need_data data/firefly/dummy_data.jsonl; then
    echo "1..0 # SKIP Firefly dummy data not found at ../shared or \$FT_TESTDATA"
    exit 0
fi
ff=$shared/data/firefly/dummy_data.jsonl

test_expect_success 'all 33 records kept, nothing fixed' '
    ft-clean --stats st.json "$ff" >out.jsonl &&
    expect_eq "$(jq -c "[.in, .kept, .dropped, .rejected]" st.json)" "[33,33,0,0]" &&
    expect_eq "$(jq -c .fixes st.json)" "{}"
'

test_expect_success 'content unchanged: every record equals its input (keys sorted)' '
    jq -cS . "$ff" >want &&
    jq -cS . out.jsonl >got &&
    cmp want got
'

test_expect_success 'key order kept: conversation_id, category, conversation, dataset' '
    expect_eq "$(head -1 out.jsonl | jq -c keys_unsorted)" "[\"conversation_id\",\"category\",\"conversation\",\"dataset\"]"
'

test_expect_success 'ft-clean is idempotent: its output cleans to itself' '
    ft-clean out.jsonl >again.jsonl &&
    cmp out.jsonl again.jsonl
'

test_expect_success '--format firefly forces the shape; MOSS-only records are then bad-record' '
    ft-clean --format firefly "$ff" >forced.jsonl && cmp out.jsonl forced.jsonl &&
    echo "{\"chat\": {}}" | ft-clean --format firefly --stats s.json >/dev/null 2>err &&
    expect_eq "$(jq .rejected_by_reason[\"bad-record\"] s.json)" 1 &&
    grep -q "<stdin>:1: bad-record: .conversation. is not an array" err
'

test_done
