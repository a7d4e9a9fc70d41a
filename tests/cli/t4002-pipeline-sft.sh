#!/usr/bin/env bash
# t4002-pipeline-sft: pipelines/sft.mk on the MOSS-003 samples split in 3 files, under make -j: the shards
# equal the plain pipe's (ft-clean | ft-dedup | ft-tokenize | ft-pack) byte for byte, every intermediate file
# is kept, a second run does nothing, a failing step leaves no target and no dataset, missing variables are
# named; the shards read by tests/pack/mds_read.py through Python's zstandard module equal ft-pack cat.
. "$(dirname "$0")/lib.sh"

if ! need_data data/moss/SFT_data/conversations tokenizers/baichuan2/tokenizer.model; then
    test_skip 'pipelines/sft.mk on MOSS' 'no ../shared/data/moss or tokenizers/baichuan2 (make fixtures)'
    test_done
    exit 0
fi
B2=$shared/tokenizers/baichuan2/tokenizer.model
sft() { make --no-print-directory -f "$top/pipelines/sft.mk" FT_BIN="$build/bin" TOKENIZER="$B2" TEMPLATE=baichuan2 \
             SEQ_LEN=1024 "$@"; }

find "$shared/data/moss/SFT_data/conversations" -name "*.json" | LC_ALL=C sort | xargs cat | jq -c . >moss.jsonl
split -n l/3 -d --additional-suffix=.jsonl moss.jsonl part-
RAW="part-00.jsonl part-01.jsonl part-02.jsonl"

test_expect_success 'make -j3: clean, dedup (sign, cluster, filter), tokenize per file, one pack' '
    sft -j3 RAW="$RAW" OUT=shards CLEAN_FLAGS=--moss-tools=strip >log 2>&1 &&
    for s in part-00 part-01 part-02; do
        for f in clean/$s.jsonl clean/$s.stats.json clean/$s.rejects.jsonl dedup/$s.sig dedup/$s.jsonl \
                 dedup/$s.dups tok/$s.tok tok/$s.stats.json; do test -f shards.work/$f || { echo "no $f"; exit 1; }; done
    done &&
    test -f shards.work/dedup/dups.list && grep -q "ft-dedup cluster" log && ft-pack verify -q shards
'

test_expect_success 'the shards equal the plain pipe over the same records' '
    cat $RAW | ft-clean -q --moss-tools=strip | ft-dedup -q |
        ft-tokenize -q -t "$B2" -T baichuan2 --max-seq-len 1024 | ft-pack -q --seq-len 1024 -o plain &&
    test "$(ft-pack stat plain | awk "/^documents/ { print \$2 }")" -gt 900 &&
    cmp plain/index.json shards/index.json &&
    for f in plain/shard.*; do cmp "$f" "shards/${f#plain/}"; done
'

test_expect_success 'a second run has nothing to do; a touched input redoes its own file and the pack' '
    sft -j3 RAW="$RAW" OUT=shards CLEAN_FLAGS=--moss-tools=strip >log2 &&
    ! grep -q ft- log2 &&
    touch part-01.jsonl && sft RAW="$RAW" OUT=shards CLEAN_FLAGS=--moss-tools=strip >log3 &&
    grep -q "ft-clean.*part-01" log3 && ! grep -q "ft-clean.*part-00" log3 && grep -q "ft-pack" log3 &&
    cmp plain/index.json shards/index.json
'

test_expect_success 'a failing step stops the build and leaves neither its target nor a dataset' '
    rc=0; sft -j3 RAW="$RAW" OUT=bad TEMPLATE=no-such-template >log 2>&1 || rc=$? &&
    test "$rc" -ne 0 && grep -q "no-such-template" log &&
    test -f bad.work/dedup/part-00.jsonl && ! ls bad.work/tok/*.tok 2>/dev/null && test ! -e bad
'

test_expect_success 'a missing variable or input is named' '
    rc=0; make -f "$top/pipelines/sft.mk" RAW=part-00.jsonl OUT=x >log 2>&1 || rc=$? &&
    test "$rc" -ne 0 && grep -q "TOKENIZER= is required" log &&
    rc=0; sft RAW=nothere.jsonl OUT=x >log 2>&1 || rc=$? &&
    test "$rc" -ne 0 && grep -q "no such file: nothere.jsonl" log &&
    cp part-00.jsonl part-00.json && rc=0; sft RAW="part-00.jsonl part-00.json" OUT=x >log 2>&1 || rc=$? &&
    test "$rc" -ne 0 && grep -q "base names must differ" log
'

# The MDS check reads zstd with Python's zstandard module (Debian python3-zstandard): the python3 on PATH, or
# the system one where only that has the module.
py=
for p in python3 /usr/bin/python3; do
    if "$p" -c "import zstandard" 2>/dev/null; then py=$p; break; fi
done
if [ -n "$py" ]; then
    test_expect_success 'the shards read by mds_read.py with the zstandard module equal ft-pack cat' '
        "$py" "$top/tests/pack/mds_read.py" shards >py.txt && ft-pack cat shards >c.txt && cmp py.txt c.txt &&
        FT_MDS_ZSTD=cli "$py" "$top/tests/pack/mds_read.py" shards | cmp - c.txt
    '
else
    test_skip 'mds_read.py with the zstandard module' 'no python3 with zstandard (apt-get install python3-zstandard)'
fi

test_done
