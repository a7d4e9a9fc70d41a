#!/usr/bin/env bash
# t4000-pack-basic: ft-pack's command line and the acceptance round trip: every token and mask bit of every
# record comes back exactly once (ft-pack cat --docs against ft-tokenize --format jsonl) with ffd, shuffle
# and none, on Firefly's dummy data and cleaned MOSS; the MDS layout read by tests/pack/mds_read.py (an
# independent reader of the spec) equals ft-pack cat; verify names a corrupted shard; an interrupted or
# failed run leaves no directory; stat's numbers agree with the rows.
. "$(dirname "$0")/lib.sh"

test_expect_success '--help and --version' '
    ft-pack --help | grep -q "^Usage: ft-pack" &&
    ft-pack --version | grep -q "^ft-pack (ft) " &&
    ft-pack --version -v | grep -q "^build: "
'

test_expect_success 'usage errors exit 2 with the synopsis' '
    for args in "-o d" "--seq-len 8" "--seq-len 0 -o d" "--seq-len 8 -o d --pack best" \
                "--seq-len 8 -o d --overlong cut" "--seq-len 8 -o d --zstd-level 23" "--seq-len 8 -o -" \
                "--seq-len 8 -o d --shard-size 1" "--seq-len 8 -o d --docs" "stat" "verify a b" "stat --docs d" \
                "--seq-len 8 -o d --bogus"; do
        rc=0; ft-pack $args </dev/null >out 2>err || rc=$?
        expect_eq "$rc" 2 "exit status of: $args" && grep -q "ft-pack" err || exit 1
    done
'

test_expect_success 'a file that is not a token stream: exit 1, no output directory' '
    echo "not a stream" >bad.tok &&
    rc=0; ft-pack --seq-len 64 -o pk bad.tok 2>err || rc=$? &&
    expect_eq "$rc" 1 && grep -q "cannot read token stream: .bad.tok." err &&
    test ! -e pk && ! ls -A | grep -q "^\.pk\."
'

test_expect_success 'stat on a directory without index.json is an error' '
    mkdir empty && rc=0; ft-pack stat empty 2>err || rc=$? &&
    expect_eq "$rc" 1 && grep -q "index.json" err
'

if ! need_data tokenizers/baichuan2/tokenizer.model data/firefly/dummy_data.jsonl; then
    test_skip 'packing real token streams' 'no ../shared/tokenizers/baichuan2 or data/firefly (make fixtures)'
    test_done
    exit
fi
B2=$shared/tokenizers/baichuan2
inputs=$shared/data/firefly/dummy_data.jsonl
if need_data data/moss/SFT_data/conversations; then
    find "$shared/data/moss/SFT_data/conversations" -name "*.json" | LC_ALL=C sort | head -300 |
        xargs ft-clean -q --moss-tools=strip >moss.jsonl
    inputs="$inputs moss.jsonl"
fi
# Streams whose records all fit 1024 tokens, so packing at 1024 cuts nothing, and the same as JSON lines.
ft-tokenize -q -t "$B2" -T baichuan2 --max-seq-len 1024 $inputs -o all.tok
ft-tokenize -q -t "$B2" -T baichuan2 --max-seq-len 1024 --format jsonl $inputs >all.jsonl

for mode in ffd shuffle none; do
    test_expect_success "round trip --pack $mode: every document once, whole, rows <= seq_len" '
        ft-pack -q --seq-len 1024 --pack '$mode' --seed 3 --window 100 --shard-size 64K -o '$mode' all.tok &&
        ft-pack cat --docs '$mode' | LC_ALL=C sort >got && LC_ALL=C sort all.jsonl >want && cmp want got &&
        ft-pack cat '$mode' | sed "s/.*\"seq_lens\":\[//; s/\]}//" | tr , "\n" | awk "\$1 < 1 { exit 1 }" &&
        ft-pack cat '$mode' | sed "s/.*\"seq_lens\":\[//; s/\]}//" |
            awk -F, "{ s = 0; for (i = 1; i <= NF; i++) s += \$i; if (s > 1024) exit 1 }" &&
        ft-pack verify -q '$mode'
    '
done

test_expect_success '--pack none keeps the input order: cat --docs is ft-tokenize --format jsonl' '
    ft-pack cat --docs none >got && cmp all.jsonl got
'

test_expect_success 'the MDS layout read by an independent reader of the spec equals ft-pack cat' '
    test "$(ls ffd | grep -c "^shard\.[0-9]*\.mds\.zstd$")" -gt 2 &&
    python3 "$top/tests/pack/mds_read.py" ffd >py && ft-pack cat ffd >c && cmp py c &&
    ft-pack -q --seq-len 1024 --zstd-level 0 -o raw all.tok && ls raw | grep -q "^shard.00000.mds$" &&
    python3 "$top/tests/pack/mds_read.py" raw >py && ft-pack cat raw >c && cmp py c
'

test_expect_success 'ffd fills rows better than none, and stat agrees with the rows' '
    ft-pack stat ffd >st && ft-pack stat none >sn &&
    ft-pack cat ffd | sed "s/.*\"seq_lens\":\[//; s/\]}//" |
        awk -F, "{ r++; d += NF; for (i = 1; i <= NF; i++) t += \$i } END { print r, d, t }" >want &&
    awk "/^rows/ { r = \$2 } /^documents/ { d = \$2 } /^tokens/ { t = \$2 } END { print r, d, t }" st >got &&
    cmp want got &&
    f=$(awk "/^fill_rate/ { print \$2 }" st) && n=$(awk "/^fill_rate/ { print \$2 }" sn) &&
    awk -v f="$f" -v n="$n" "BEGIN { exit !(f > 0.9 && f > n) }" &&
    grep -q "^padding_waste" st && grep -q "^shard.00000.mds.zstd  samples" st
'

test_expect_success 'verify: a flipped byte names the shard, exit 1; a missing shard too' '
    cp -r ffd bad && f=bad/shard.00001.mds.zstd && size=$(stat -c %s $f) &&
    printf "\x55" | dd of=$f bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null &&
    rc=0; ft-pack verify bad 2>err || rc=$? &&
    expect_eq "$rc" 1 && grep -q "verify failed: .bad/shard.00001.mds.zstd.: xxh64 mismatch" err &&
    rm bad/shard.00001.mds.zstd && rc=0; ft-pack verify bad 2>err || rc=$? &&
    expect_eq "$rc" 1 && grep -q "bad/shard.00001.mds.zstd" err
'

test_expect_success 'an existing output is kept unless --force; --force replaces a dataset' '
    rc=0; ft-pack -q --seq-len 1024 -o ffd all.tok 2>err || rc=$? &&
    expect_eq "$rc" 1 && grep -q "exists" err &&
    ft-pack -q --seq-len 1024 --pack none -f -o ffd all.tok && ft-pack cat --docs ffd | cmp - all.jsonl &&
    mkdir mine && touch mine/notes && rc=0; ft-pack -q --seq-len 1024 -f -o mine all.tok 2>err || rc=$? &&
    expect_eq "$rc" 1 && test -e mine/notes
'

test_expect_success 'an interrupted run leaves nothing that looks complete (no directory at all)' '
    mkfifo fifo &&
    { ft-pack -q --seq-len 1024 -o cut <fifo & pid=$!; } &&
    exec 7>fifo && head -c 100000 all.tok >&7 && sleep 0.5 &&
    ls -A | grep -q "^\.cut\.tmp\." &&
    kill -TERM $pid && { wait $pid || true; } && exec 7>&- &&
    test ! -e cut && ! ls -A | grep -q "^\.cut\."
'

test_expect_success 'a truncated stream fails with exit 1 and leaves no directory' '
    head -c 100000 all.tok >cut.tok && rc=0; ft-pack --seq-len 1024 -o cut cut.tok 2>err || rc=$? &&
    expect_eq "$rc" 1 && grep -q "cannot read token stream: .cut.tok." err && test ! -e cut
'

test_expect_success 'overlong records: split keeps every token, truncate and drop are counted' '
    ft-tokenize -q -t "$B2" -T baichuan2 $inputs -o long.tok &&
    ft-tokenize -q -t "$B2" -T baichuan2 --format jsonl $inputs >long.jsonl &&
    ft-pack --seq-len 256 --overlong split --pack none -o split long.tok 2>err &&
    grep -q "split" err && ft-pack cat --docs split | sed "s/.*\"input_ids\":\[//; s/\],.*//" | tr , "\n" >a &&
    sed "s/.*\"input_ids\":\[//; s/\],.*//" long.jsonl | tr , "\n" >b && cmp a b &&
    ft-pack --seq-len 256 --overlong drop -o drop long.tok 2>err &&
    grep -qE "[1-9][0-9]* dropped" err && ft-pack verify -q drop &&
    ft-pack --seq-len 256 -o trunc long.tok 2>err && grep -qE "[1-9][0-9]* truncated" err
'

test_done
