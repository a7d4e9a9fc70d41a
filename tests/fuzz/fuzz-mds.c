/* fuzz-mds.c: the MDS reader (common/mds) and the dataloader (common/loader) on any bytes: the first byte
 * picks the target: odd = index.json text; 2 mod 4 = a raw shard read through the loader (the second byte
 * picks batch, seq_len and window; the target writes the shard and an index.json that matches it into a temp
 * dir); else a raw shard through ft_mds_shard_parse and ft_mds_shard_row. Rule: whatever the bytes, the
 * reader returns an error with a reason or well-formed values, and never reads out of bounds; every row it
 * accepts holds a 0/1 mask and seq_lens summing to its length; every batch the loader gives is laid out as
 * loader.h says, and its errors name the shard. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "loader.h"
#include "mds.h"

#define FUZZ_CHECK(cond, what)                                                                               \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "fuzz-mds: invariant violated: %s (%s:%d)\n", what, __FILE__, __LINE__);         \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void write_file(const char *dir, const char *name, const void *p, size_t n) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f && fwrite(p, 1, n, f) == n && fclose(f) == 0, "writing the temp data set");
}

static char tmp_dir[64];
static void remove_tmp(void) {
    char path[128];
    snprintf(path, sizeof path, "%s/index.json", tmp_dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/shard.00000.mds", tmp_dir);
    unlink(path);
    rmdir(tmp_dir);
}

/* One epoch of the shard p[0..n) through the loader, with options from opt. */
static void loader_pass(const uint8_t *p, size_t n, uint8_t opt) {
    const char *dir = tmp_dir;
    if (!tmp_dir[0]) {
        snprintf(tmp_dir, sizeof tmp_dir, "/tmp/fuzz-mds.XXXXXX");
        FUZZ_CHECK(mkdtemp(tmp_dir), "mkdtemp");
        atexit(remove_tmp);
    }
    write_file(dir, "shard.00000.mds", p, n);
    uint32_t samples =
        n >= 4 ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
    ft_buf ix;
    ft_buf_init(&ix);
    ft_buf_addf(
        &ix,
        "{\"ft_pack\": {\"seq_len\": %d}, \"shards\": [{\"column_encodings\": [\"ndarray:uint32\", "
        "\"ndarray:uint8\", \"ndarray:uint32\"], \"column_names\": [\"input_ids\", \"loss_mask\", "
        "\"seq_lens\"], \"column_sizes\": [null, null, null], \"compression\": null, \"format\": \"mds\", "
        "\"hashes\": [\"xxh64\"], \"raw_data\": {\"basename\": \"shard.00000.mds\", \"bytes\": %zu, "
        "\"hashes\": {\"xxh64\": \"%016llx\"}}, \"samples\": %u, \"size_limit\": 67108864, \"version\": 2, "
        "\"zip_data\": null}], \"version\": 2}",
        1 + (opt >> 4) * 9, n, (unsigned long long)XXH64(p, n, 0), samples);
    write_file(dir, "index.json", ix.data, ix.len);
    ft_buf_release(&ix);
    ft_loader_opts o;
    ft_loader_opts_init(&o);
    o.batch = 1 + (opt & 3), o.window = 1 + (opt >> 2 & 1), o.prefetch = 1 + (opt >> 3 & 1);
    ft_loader *l;
    ft_buf why;
    ft_buf_init(&why);
    if (ft_loader_open(dir, &o, &l, &why) == 0) {
        ft_loader_batch b;
        int rc;
        while ((rc = ft_loader_next(l, &b, &why)) == 1) {
            FUZZ_CHECK(b.rows >= 1 && b.rows <= b.B && b.cu_seqlens[0] == 0 &&
                           b.cu_seqlens[b.nseg] == b.B * b.T,
                       "batch segments");
            for (int s = 0; s < b.nseg; s++)
                FUZZ_CHECK(b.cu_seqlens[s + 1] > b.cu_seqlens[s], "empty segment");
            for (int i = 0; i < b.B * b.T; i++) {
                int t = i % b.T;
                FUZZ_CHECK(b.mask[i] <= 1 && b.start[i] <= t && b.pos[i] == t - b.start[i], "positions");
            }
        }
        FUZZ_CHECK(rc == 0 || strstr(why.data, "shard '"), "a loader error names the shard");
        ft_loader_free(l);
    } else {
        FUZZ_CHECK(why.len > 0, "an error without a reason");
    }
    ft_buf_release(&why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    ft_buf why;
    ft_buf_init(&why);
    if ((data[0] & 3) == 2) {
        if (size >= 2) loader_pass(data + 2, size - 2, data[1]);
    } else if (data[0] & 1) {
        ft_mds_index ix;
        if (ft_mds_index_parse((const char *)data + 1, size - 1, &ix, &why) == 0) {
            uint64_t sum = 0;
            for (size_t i = 0; i < ix.nshards; i++)
                sum += ix.shards[i].samples;
            FUZZ_CHECK(sum == ix.samples, "sample count");
            FUZZ_CHECK(ft_mds_index_seq_len(&ix) <= FT_MDS_MAX_ROW, "seq_len");
            ft_mds_index_release(&ix);
        } else {
            FUZZ_CHECK(why.len > 0, "an error without a reason");
        }
    } else {
        uint8_t *copy = malloc(size - 1 ? size - 1 : 1);
        if (!copy) return 0;
        memcpy(copy, data + 1, size - 1);
        ft_mds_shard sh;
        if (ft_mds_shard_parse(copy, size - 1, -1, &sh, &why) == 0) {
            ft_mds_rowbuf r;
            ft_mds_rowbuf_init(&r);
            for (uint32_t i = 0; i < sh.n; i++) {
                ft_buf_clear(&why);
                if (ft_mds_shard_row(&sh, i, &r, &why) < 0) continue;
                uint64_t sum = 0;
                for (size_t d = 0; d < r.docs; d++)
                    sum += r.seq_lens[d];
                FUZZ_CHECK(sum == r.n && r.n >= 1, "seq_lens sum");
                for (size_t k = 0; k < r.n; k++)
                    FUZZ_CHECK(r.mask[k] <= 1, "mask bit");
            }
            ft_mds_rowbuf_release(&r);
            ft_mds_shard_release(&sh);
        }
    }
    ft_buf_release(&why);
    return 0;
}
