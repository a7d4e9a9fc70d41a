/* test-pack-mds: the MDS writer and reader (common/mds): rows round-trip through several size-limited
 * shards, compressed and not; rows given as scattered documents write the same bytes as whole rows; shards of
 * many more samples than the writer expects (tiny rows) read back; a flipped byte in a shard, a wrong size or
 * a bad index entry is caught. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mds.h"
#include "rng.h"
#include "tap.h"

static int nrows = 300; /* the set's rows; tiny: rows of 1..3 tokens in one document */
static int tiny;

static void make_row(ft_rng *r, uint32_t *ids, uint8_t *mask, uint32_t *lens, size_t *n, size_t *docs) {
    *docs = tiny ? 1 : 1 + ft_rng_below(r, 4), *n = 0;
    for (size_t d = 0; d < *docs; d++) *n += lens[d] = 1 + ft_rng_below(r, tiny ? 3 : d ? 90 : 400);
    for (size_t i = 0; i < *n; i++) ids[i] = (uint32_t)ft_rng_next(r), mask[i] = ft_rng_below(r, 2);
}

/* Writes nrows rows, as whole rows or (by_docs) as their documents copied apart, in reverse order. */
static int write_set(const char *dir, int level, uint64_t size_limit, uint64_t seed, int by_docs, size_t *shards) {
    ft_mds_writer *w;
    ft_buf why;
    ft_buf_init(&why);
    if (ft_mds_writer_new(dir, level, size_limit, &w) < 0) return -1;
    ft_rng r;
    ft_rng_seed(&r, seed);
    uint32_t ids[800], lens[4], apart_ids[4][400];
    uint8_t mask[800], apart_mask[4][400];
    const uint32_t *doc_ids[4];
    const uint8_t *doc_mask[4];
    int rc = 0;
    for (int i = 0; i < nrows && !rc; i++) {
        size_t n, docs;
        make_row(&r, ids, mask, lens, &n, &docs);
        ft_mds_row row = {ids, mask, n, lens, docs};
        if (!by_docs) {
            rc = ft_mds_writer_add(w, &row, &why);
            continue;
        }
        for (size_t d = 0, at = 0; d < docs; at += lens[d++]) {
            memcpy(apart_ids[3 - d], ids + at, lens[d] * 4);
            for (size_t k = 0; k < lens[d]; k++) apart_mask[3 - d][k] = mask[at + k] ? 1 + k % 5 : 0;
            doc_ids[d] = apart_ids[3 - d], doc_mask[d] = apart_mask[3 - d];
        }
        rc = ft_mds_writer_add_docs(w, doc_ids, doc_mask, lens, docs, &why);
    }
    if (!rc) rc = ft_mds_writer_finish(w, "{\"seq_len\": 700}", &why);
    *shards = ft_mds_writer_shards(w);
    ft_mds_writer_free(w);
    ft_buf_release(&why);
    return rc;
}

/* Reads everything back and compares with the generator; returns the first error code, or 0. */
static int read_set(const char *dir, uint64_t seed, ft_buf *why, int *same) {
    ft_mds_index ix;
    FT_TRY(ft_mds_index_load(dir, &ix, why));
    ft_rng r;
    ft_rng_seed(&r, seed);
    ft_mds_rowbuf rb;
    ft_mds_rowbuf_init(&rb);
    uint32_t ids[800], lens[4];
    uint8_t mask[800];
    int rc = 0;
    *same = ix.samples == (uint64_t)nrows && ix.ft_json && !strcmp(ix.ft_json, "{\"seq_len\":700}");
    for (size_t s = 0; s < ix.nshards && !rc; s++) {
        ft_mds_shard sh;
        if ((rc = ft_mds_shard_load(dir, &ix, s, &sh, why)) < 0) break;
        for (uint32_t i = 0; i < sh.n && !rc; i++) {
            size_t n, docs;
            make_row(&r, ids, mask, lens, &n, &docs);
            if ((rc = ft_mds_shard_row(&sh, i, &rb, why)) < 0) break;
            if (rb.n != n || rb.docs != docs || memcmp(rb.ids, ids, n * 4) || memcmp(rb.mask, mask, n) ||
                memcmp(rb.seq_lens, lens, docs * 4))
                *same = 0;
        }
        ft_mds_shard_release(&sh);
    }
    ft_mds_rowbuf_release(&rb);
    ft_mds_index_release(&ix);
    return rc;
}

static void flip(const char *dir, const char *name, long at) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r+b");
    fseek(f, at, SEEK_SET);
    int c = fgetc(f);
    fseek(f, at, SEEK_SET);
    fputc(c ^ 0x40, f);
    fclose(f);
}

int main(void) {
    char dir[64];
    if (tap_tmpdir(dir, sizeof dir, "pack-mds")) return 1;
    ft_buf why;
    ft_buf_init(&why);
    int same;
    for (int level = 0; level <= 3; level += 3) {
        size_t shards = 0;
        is_int(write_set(dir, level, 16384, 5, 0, &shards), 0, "level %d: %d rows written", level, nrows);
        ok(shards > 3, "level %d: a 16K size limit gives several shards (%zu)", level, shards);
        ft_buf_clear(&why);
        int rc = read_set(dir, 5, &why, &same);
        ok(rc == 0 && same, "level %d: every row reads back equal (%s)", level, why.data ? why.data : "");
    }
    /* the same rows as scattered documents (mask values 1..5 for 1): the same files, byte for byte */
    char dir2[64], cmd[320];
    if (tap_tmpdir(dir2, sizeof dir2, "pack-mds-docs")) return 1;
    size_t shards2 = 0;
    is_int(write_set(dir2, 3, 16384, 5, 1, &shards2), 0, "%d rows written as documents", nrows);
    snprintf(cmd, sizeof cmd, "cd '%s' && for f in *; do cmp -s \"$f\" \"%s/$f\" || exit 1; done", dir2, dir);
    ok(system(cmd) == 0, "rows given as documents write the same shards and index as whole rows");
    /* tiny rows: a first shard of thousands of samples, more than the writer makes room for at first */
    nrows = 40000, tiny = 1;
    snprintf(cmd, sizeof cmd, "rm -f '%s'/*", dir2);
    ok(system(cmd) == 0, "the directory emptied");
    is_int(write_set(dir2, 3, 256 << 10, 9, 0, &shards2), 0, "%d tiny rows written", nrows);
    ft_buf_clear(&why);
    int rc = read_set(dir2, 9, &why, &same);
    ok(rc == 0 && same && shards2 >= 3, "%zu shards of tiny rows read back equal (%s)", shards2, why.data ? why.data : "");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir2);
    ok(system(cmd) == 0, "cleanup");
    nrows = 300, tiny = 0;

    /* the compressed set is in dir now: flip a byte of shard 2 */
    flip(dir, "shard.00002.mds.zstd", 40);
    ft_buf_clear(&why);
    rc = read_set(dir, 5, &why, &same);
    ok(rc == FT_EPARSE && strstr(why.data, "xxh64 mismatch"), "a flipped byte is a hash mismatch: %s", why.data);

    /* index entries that lie */
    ft_mds_index ix;
    const char *bad[] = {
        "{\"version\": 1, \"shards\": []}",
        "{\"version\": 2, \"shards\": {}}",
        "{\"version\": 2, \"shards\": [{\"version\": 2, \"format\": \"json\"}]}",
        "[1, 2]",
        "{\"version\": 2",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ft_buf_clear(&why);
        rc = ft_mds_index_parse(bad[i], strlen(bad[i]), &ix, &why);
        ok(rc == FT_EPARSE || rc == FT_EFORMAT, "bad index %zu refused: %s", i, why.data);
    }
    ft_buf_clear(&why);
    rc = ft_mds_index_parse("{\"version\": 2, \"shards\": []}", 28, &ix, &why);
    ok(rc == 0 && ix.nshards == 0 && !ix.ft_json, "an empty dataset is valid");
    ft_mds_index_release(&ix);

    /* raw shard headers that lie */
    struct { uint32_t w[5]; size_t len; const char *what; } hdr[] = {
        {{1, 12, 11, 0, 0}, 12, "offsets going back"},
        {{5, 0, 0, 0, 0}, 12, "more samples than bytes"},
        {{1, 4, 12, 0, 0}, 12, "first offset inside the header"},
        {{1, 12, 20, 0, 0}, 16, "end offset beyond the data"},
    };
    for (size_t i = 0; i < sizeof hdr / sizeof *hdr; i++) {
        ft_mds_shard sh;
        uint8_t *p = calloc(1, 20);
        memcpy(p, hdr[i].w, hdr[i].len < 20 ? hdr[i].len : 20);
        ft_buf_clear(&why);
        ok(ft_mds_shard_parse(p, hdr[i].len, -1, &sh, &why) == FT_EPARSE, "%s: %s", hdr[i].what, why.data);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ok(system(cmd) == 0, "cleanup");
    ft_buf_release(&why);
    return done_testing();
}
