#!/usr/bin/env bash
# t2000-dedup-moss: ft-dedup on MOSS-003 samples converted by ft-clean, with planted duplicates: the same
# output byte for byte across runs and across -j 1 / -j 2, and scale-out (sign, cluster, filter) over 4
# shards equal to streaming mode; counts add up.
. "$(dirname "$0")/lib.sh"

if ! need_data data/moss/SFT_data/conversations; then
    test_skip 'MOSS-003 samples' 'MOSS-003 samples not found (../shared/data/moss or $FT_TESTDATA)'
    test_done
    exit 0
fi

test_expect_success 'corpus: MOSS via ft-clean, plus exact copies, case/space variants and edited copies' '
    find "$shared/data/moss/SFT_data/conversations" -name "*.json" | LC_ALL=C sort |
        xargs ft-clean -q --moss-tools=strip >moss.jsonl &&
    expect_eq "$(wc -l <moss.jsonl)" 1120 &&
    awk "NR % 7 == 0" moss.jsonl >copies.jsonl &&
    awk "NR % 11 == 0" moss.jsonl | sed "s/\"assistant\":\"/\"assistant\":\"  ADDED words here /" >edited.jsonl &&
    awk "NR % 13 == 0" moss.jsonl |
        jq -c ".conversation |= map((.human, .assistant) |= (ascii_upcase | gsub(\" \"; \"   \")))" >upper.jsonl &&
    cat moss.jsonl edited.jsonl copies.jsonl upper.jsonl >all.jsonl
'

test_expect_success 'streaming: exact copies and upper-cased copies are exact duplicates, edits near' '
    ft-dedup --stats st.json --dups dups.jsonl all.jsonl >out.jsonl &&
    expect_eq "$(jq -c "[.in, .kept + .dropped + .rejected]" st.json)" "[$(wc -l <all.jsonl),$(wc -l <all.jsonl)]" &&
    expect_eq "$(jq .kept st.json)" "$(wc -l <out.jsonl)" &&
    expect_eq "$(jq .dropped st.json)" "$(wc -l <dups.jsonl)" &&
    expect_eq "$(jq .dropped_by_kind.exact st.json)" $(( $(wc -l <copies.jsonl) + $(wc -l <upper.jsonl) )) &&
    test "$(jq .dropped_by_kind.near st.json)" -ge $(( $(wc -l <edited.jsonl) * 8 / 10 )) &&
    cmp <(head -n 1120 all.jsonl) <(head -n 1120 out.jsonl) &&
    expect_eq "$(jq -s "map(select(.kind == \"near\") | .similarity >= 0.719 and (.dup_of | type != \"null\") and
                         (.dup_of_where | test(\"^all.jsonl:[0-9]+$\"))) | all" dups.jsonl)" true
'

test_expect_success 'the same output byte for byte: a second run, -j 2, -j 3' '
    ft-dedup -q --dups d1 all.jsonl >o1 && ft-dedup -q --dups d2 -j 2 all.jsonl >o2 && ft-dedup -q -j 3 all.jsonl >o3 &&
    cmp out.jsonl o1 && cmp out.jsonl o2 && cmp out.jsonl o3 && cmp dups.jsonl d1 && cmp d1 d2
'

test_expect_success 'scale-out over 4 shards gives exactly the streaming result' '
    split -n l/4 -d --additional-suffix=.jsonl all.jsonl shard- &&
    ft-dedup -q shard-0*.jsonl >stream4.jsonl && cmp stream4.jsonl out.jsonl &&
    for s in shard-0*.jsonl; do ft-dedup sign -q -j 2 -o "${s%.jsonl}.sig" "$s"; done &&
    ft-dedup cluster -q -o dups.list shard-0*.sig &&
    for s in shard-0*.jsonl; do ft-dedup filter -q --list dups.list --dups "$s.dups" "$s"; done >scaled.jsonl &&
    cmp scaled.jsonl out.jsonl &&
    expect_eq "$(cat shard-0*.jsonl.dups | jq -c "[.index, .kind, .similarity, .dup_of, .dup_of_index]" | md5sum)" \
              "$(jq -c "[.index, .kind, .similarity, .dup_of, .dup_of_index]" dups.jsonl | md5sum)"
'

test_expect_success 'scale-out with --verify exact and --key human equals streaming with the same options' '
    ft-dedup -q --verify exact --key human all.jsonl >vx.jsonl &&
    for s in shard-0*.jsonl; do ft-dedup sign -q --verify exact --key human -o "${s%.jsonl}.sig" "$s"; done &&
    ft-dedup cluster -q -o vx.list shard-0*.sig &&
    for s in shard-0*.jsonl; do ft-dedup filter -q --list vx.list "$s"; done >vxs.jsonl &&
    cmp vx.jsonl vxs.jsonl && test "$(wc -l <vx.jsonl)" -lt 1120
'

test_expect_success 'filter refuses a shard that changed since it was signed' '
    sed 1d shard-01.jsonl >shard-01.x && mv shard-01.x shard-01.jsonl &&
    test_rc=0 && ft-dedup filter --list dups.list shard-01.jsonl >/dev/null 2>err || test_rc=$? &&
    expect_eq "$test_rc" 1 && grep -q "is not the one signed" err
'

test_expect_success 'cluster refuses signature files made with other parameters' '
    ft-dedup sign -q --ngram 3 -o other.sig shard-00.jsonl &&
    test_rc=0 && ft-dedup cluster -o x.list shard-01.sig other.sig 2>err || test_rc=$? &&
    expect_eq "$test_rc" 1 && grep -q "made with other parameters" err && test ! -e x.list
'

test_done
