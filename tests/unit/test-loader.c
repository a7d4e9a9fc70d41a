/* test-loader: the streaming dataloader (common/loader) over shard sets written with ft_mds_writer: the
 * batches hold the written rows, the order is deterministic and seeded, ranks split it disjointly, a saved
 * position continues identically (also under another world size), memory stays bounded by window + prefetch
 * shards, and a corrupt, truncated or missing shard or a wrong index stops it with the shard's name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"
#include "mds.h"
#include "rng.h"
#include "tap.h"

enum { T = 64, MAXROWS = 4000 };

/* Row i of a test set: ids[0] = i identifies it; lengths, documents and mask follow from i. */
static size_t make_row(size_t i, uint32_t *ids, uint8_t *mask, uint32_t *lens, size_t *docs) {
    uint64_t x = i * 7919 + 13;
    size_t n = 1 + ft_splitmix64(&x) % T;
    *docs = 1 + ft_splitmix64(&x) % (n < 3 ? n : 3);
    size_t left = n;
    for (size_t d = 0; d + 1 < *docs; d++)
        left -= lens[d] = 1 + ft_splitmix64(&x) % (left - (*docs - d - 1));
    lens[*docs - 1] = (uint32_t)left;
    ids[0] = (uint32_t)i;
    for (size_t t = 1; t < n; t++)
        ids[t] = (uint32_t)(ft_splitmix64(&x) % 150000);
    for (size_t t = 0; t < n; t++)
        mask[t] = (t + i) % 3 != 0;
    return n;
}

/* Writes rows 0..rows-1 into dir with shards of about shard_size raw bytes; returns the shard count. */
static size_t write_set(const char *dir, size_t rows, int level, uint64_t shard_size) {
    ft_mds_writer *w;
    ft_buf why;
    ft_buf_init(&why);
    FT_ASSERT(ft_mds_writer_new(dir, level, shard_size, &w) == 0);
    uint32_t ids[T], lens[3];
    uint8_t mask[T];
    for (size_t i = 0; i < rows; i++) {
        size_t docs, n = make_row(i, ids, mask, lens, &docs);
        ft_mds_row row = {ids, mask, n, lens, docs};
        FT_ASSERT(ft_mds_writer_add(w, &row, &why) == 0);
    }
    FT_ASSERT(ft_mds_writer_finish(w, "{\"seq_len\": 64}", &why) == 0);
    size_t shards = ft_mds_writer_shards(w);
    ft_mds_writer_free(w);
    ft_buf_release(&why);
    return shards;
}

/* Checks one batch row against the generator and the layout rules; returns 1 when right. */
static int row_ok(const ft_loader_batch *b, int r) {
    const int32_t *ids = b->ids + (size_t)r * b->T, *pos = b->pos + (size_t)r * b->T;
    const uint8_t *mask = b->mask + (size_t)r * b->T;
    uint32_t wids[T], wlens[3];
    uint8_t wmask[T];
    size_t docs, n = make_row((size_t)ids[0], wids, wmask, wlens, &docs);
    if ((int)docs != b->row_docs[r + 1] - b->row_docs[r]) return 0;
    for (size_t t = 0; t < (size_t)b->T; t++) {
        if (t < n && ((uint32_t)ids[t] != wids[t] || mask[t] != wmask[t])) return 0;
        if (t >= n && (ids[t] || mask[t] || pos[t] != (int)(t - n))) return 0;
    }
    for (size_t d = 0, at = 0; d < docs; at += wlens[d++]) {
        if (b->seq_lens[b->row_docs[r] + d] != (int32_t)wlens[d]) return 0;
        for (size_t t = 0; t < wlens[d]; t++)
            if (pos[at + t] != (int32_t)t || b->start[(size_t)r * b->T + at + t] != (int32_t)at) return 0;
    }
    return 1;
}

/* The row ids (ids[0]) a loader gives until the end of its epoch or max rows; checks every row and the
 * batch's segments. Returns the count, or -1 on an error or a malformed batch (*bad set). */
static long collect(ft_loader *l, uint32_t *got, long max, int *bad, int *batches) {
    ft_loader_batch b;
    ft_buf why;
    ft_buf_init(&why);
    long n = 0;
    int rc;
    if (batches) *batches = 0;
    while (n < max && (rc = ft_loader_next(l, &b, &why)) == 1) {
        if (batches) (*batches)++;
        int32_t sum = 0;
        for (int s = 0; s < b.nseg; s++)
            sum += b.cu_seqlens[s + 1] - b.cu_seqlens[s];
        if (sum != b.B * b.T || b.cu_seqlens[b.nseg] != b.B * b.T) *bad = 1;
        for (int r = 0; r < b.B; r++) {
            if (r < b.rows) {
                if (!row_ok(&b, r)) *bad = 1;
                got[n++] = (uint32_t)b.ids[(size_t)r * b.T];
            } else if (b.mask[(size_t)r * b.T] || b.row_docs[r + 1] != b.row_docs[r]) {
                *bad = 1;
            }
        }
    }
    if (rc < 0) printf("# %s\n", why.data), *bad = 1;
    ft_buf_release(&why);
    return n;
}

static ft_loader *open_or_die(const char *dir, uint64_t seed, int rank, int world, int batch) {
    ft_loader_opts o;
    ft_loader_opts_init(&o);
    o.seed = seed, o.rank = rank, o.world = world, o.batch = batch, o.window = 3;
    ft_loader *l;
    ft_buf why;
    ft_buf_init(&why);
    int rc = ft_loader_open(dir, &o, &l, &why);
    if (rc) printf("# open: %s\n", why.data);
    FT_ASSERT(rc == 0);
    ft_buf_release(&why);
    return l;
}

/* The first error message a fresh loader meets reading its first epoch (empty when none). */
static int first_error(const char *dir, ft_buf *why) {
    ft_loader_opts o;
    ft_loader_opts_init(&o);
    o.batch = 8, o.window = 2;
    ft_loader *l;
    ft_buf_clear(why);
    int rc = ft_loader_open(dir, &o, &l, why);
    if (rc < 0) return rc;
    ft_loader_batch b;
    while ((rc = ft_loader_next(l, &b, why)) == 1) {
    }
    if (rc < 0) {
        ft_buf again;
        ft_buf_init(&again);
        if (ft_loader_next(l, &b, &again) != rc || strcmp(again.data, why->data)) rc = 99; /* not sticky */
        ft_buf_release(&again);
    }
    ft_loader_free(l);
    return rc;
}

/* Checks that reading dir stops with code want and a message holding each of the two texts; shows it. */
static void expect_error(const char *dir, int want, const char *has, const char *has2, const char *name) {
    ft_buf why;
    ft_buf_init(&why);
    int rc = first_error(dir, &why);
    ok(rc == want && strstr(why.data, has) && strstr(why.data, has2), "%s", name);
    printf("# %s\n", why.data);
    ft_buf_release(&why);
}

static void path(char *p, size_t cap, const char *dir, const char *name) {
    snprintf(p, cap, "%s/%s", dir, name);
}

static void test_order(const char *dir, size_t rows) {
    static uint32_t a[MAXROWS], b[MAXROWS], c[MAXROWS];
    int bad = 0, batches;
    ft_loader *l = open_or_die(dir, 7, 0, 1, 5);
    long n = collect(l, a, MAXROWS, &bad, &batches);
    is_int(n, rows, "world 1: an epoch delivers every row");
    is_int(batches, (rows + 4) / 5, "world 1: ceil(rows / B) batches, the last one partly padding");
    ok(!bad, "every row holds the written ids, mask, seq_lens, positions and starts; segments cover B * T");
    static char seen[MAXROWS];
    int perm = 1;
    for (long i = 0; i < n; i++)
        perm &= a[i] < rows && !seen[a[i]]++;
    ok(perm, "the epoch is a permutation of the rows");
    long inorder = 0;
    for (long i = 1; i < n; i++)
        inorder += a[i] == a[i - 1] + 1;
    ok(inorder < n / 4, "rows are shuffled (%ld of %ld follow their predecessor)", inorder, n);
    ft_loader_pos p = ft_loader_tell(l);
    ok(p.epoch == 1 && p.sample == 0, "the end of the epoch moves the position to (1, 0)");
    long n1 = collect(l, c, MAXROWS, &bad, NULL);
    ok(n1 == n && memcmp(a, c, n * 4) && !bad, "epoch 1 has every row again, in another order");
    ft_loader_free(l);

    l = open_or_die(dir, 7, 0, 1, 5);
    ok(collect(l, b, MAXROWS, &bad, NULL) == n && !memcmp(a, b, n * 4), "the same seed gives the same order");
    ft_loader_free(l);
    l = open_or_die(dir, 7, 0, 1, 13);
    ok(collect(l, b, MAXROWS, &bad, NULL) == n && !memcmp(a, b, n * 4), "the order does not depend on B");
    ft_loader_free(l);
    l = open_or_die(dir, 8, 0, 1, 5);
    ok(collect(l, b, MAXROWS, &bad, NULL) == n && memcmp(a, b, n * 4), "another seed gives another order");
    ft_loader_free(l);

    ft_loader_opts o;
    ft_loader_opts_init(&o);
    o.seed = 7, o.epoch = 1, o.batch = 5, o.window = 3;
    ft_buf why;
    ft_buf_init(&why);
    FT_ASSERT(ft_loader_open(dir, &o, &l, &why) == 0);
    ok(collect(l, b, MAXROWS, &bad, NULL) == n && !memcmp(c, b, n * 4),
       "opening at epoch 1 gives epoch 1's order");
    ft_loader_free(l);
    ft_buf_release(&why);
}

/* Ranks 0..world-1 from position p: each rank's rows are the global order's r, r + world, ...; together they
 * cover it but for the tail, with the same batch count on every rank. */
static int ranks_cover(const char *dir, const uint32_t *global, size_t rows, int world, int batch,
                       ft_loader_pos p) {
    static uint32_t got[MAXROWS];
    int ok_ = 1, bad = 0, nb0 = -1;
    uint64_t per = (rows - p.sample) / (uint64_t)world;
    for (int r = 0; r < world; r++) {
        ft_loader *l = open_or_die(dir, 7, r, world, batch);
        ft_loader_seek(l, p);
        int nb;
        long n = collect(l, got, MAXROWS, &bad, &nb);
        if (n != (long)per || bad || (nb0 >= 0 && nb != nb0)) ok_ = 0;
        nb0 = nb;
        for (long k = 0; k < n && ok_; k++)
            if (got[k] != global[p.sample + (uint64_t)r + (uint64_t)k * (uint64_t)world]) ok_ = 0;
        ft_loader_free(l);
    }
    return ok_;
}

static void test_ranks_and_resume(const char *dir, size_t rows) {
    static uint32_t global[MAXROWS], a[MAXROWS], b[MAXROWS];
    int bad = 0;
    ft_loader *l = open_or_die(dir, 7, 0, 1, 4);
    FT_ASSERT(collect(l, global, MAXROWS, &bad, NULL) == (long)rows);
    ft_loader_free(l);
    ok(ranks_cover(dir, global, rows, 3, 4, (ft_loader_pos){0, 0}),
       "3 ranks: disjoint, every third row each, "
       "tail of rows %% 3 dropped, equal batch counts");
    ok(ranks_cover(dir, global, rows, 4, 7, (ft_loader_pos){0, 0}), "4 ranks, B 7: the same");

    /* Save mid-epoch, continue; a fresh loader restored there continues identically. */
    l = open_or_die(dir, 7, 1, 2, 6);
    long first = collect(l, a, 6 * 9, &bad, NULL);
    ft_loader_pos p = ft_loader_tell(l);
    ok(first == 54 && p.epoch == 0 && p.sample == 2 * 54, "world 2 after 9 batches of 6: position (0, 108)");
    long rest = collect(l, a, MAXROWS, &bad, NULL);
    long next = collect(l, a + rest, 30, &bad, NULL); /* into epoch 1 */
    ft_loader_free(l);
    l = open_or_die(dir, 7, 1, 2, 6);
    ft_loader_seek(l, p);
    long rest2 = collect(l, b, MAXROWS, &bad, NULL);
    long next2 = collect(l, b + rest2, 30, &bad, NULL);
    ok(rest == rest2 && next == next2 && !memcmp(a, b, (size_t)(rest + next) * 4) && !bad,
       "a restored position continues identically, into the next epoch too");
    ft_loader_free(l);

    ok(ranks_cover(dir, global, rows, 3, 6, p), "world 2 -> 3 after a restore keeps the global order");
    ok(ranks_cover(dir, global, rows, 1, 6, p), "world 2 -> 1 after a restore keeps the global order");

    l = open_or_die(dir, 7, 0, 1, 4);
    ok(ft_loader_seek(l, (ft_loader_pos){0, rows + 1}) == FT_EINVAL, "a position past the rows is refused");
    ok(ft_loader_seek(l, (ft_loader_pos){0, rows}) == 0 && collect(l, a, MAXROWS, &bad, NULL) == 0 &&
           ft_loader_tell(l).epoch == 1 && collect(l, a, MAXROWS, &bad, NULL) == (long)rows,
       "the position at an epoch's end gives the end, then the next epoch");
    ft_loader_free(l);
}

static void test_memory(const char *root) {
    char dir[512];
    path(dir, sizeof dir, root, "big");
    FT_ASSERT(mkdir(dir, 0700) == 0);
    size_t shards = write_set(dir, 3000, 3, 2048);
    ft_mds_index ix;
    ft_buf why;
    ft_buf_init(&why);
    FT_ASSERT(ft_mds_index_load(dir, &ix, &why) == 0);
    uint64_t total = 0, max_raw = 0, max_file = 0;
    for (size_t i = 0; i < ix.nshards; i++) {
        total += ix.shards[i].raw_bytes;
        if (ix.shards[i].raw_bytes > max_raw) max_raw = ix.shards[i].raw_bytes;
        if (ix.shards[i].file_bytes > max_file) max_file = ix.shards[i].file_bytes;
    }
    ft_mds_index_release(&ix);
    ft_loader_opts o;
    ft_loader_opts_init(&o);
    o.batch = 16, o.window = 1, o.prefetch = 2;
    ft_loader *l;
    FT_ASSERT(ft_loader_open(dir, &o, &l, &why) == 0);
    static uint32_t got[MAXROWS];
    int bad = 0;
    long n = collect(l, got, MAXROWS, &bad, NULL);
    ft_loader_stats st;
    ft_loader_stats_get(l, &st);
    ok(n == 3000 && !bad && shards >= 20 * 2 && total >= 20 * 2 * max_raw / 2,
       "a data set of %zu shards (%llu bytes), 20x the prefetch of 2, read whole", shards,
       (unsigned long long)total);
    ok(st.peak_shards <= 3, "at most window + prefetch = 3 decoded shards held (peak %zu)", st.peak_shards);
    ok(st.peak_bytes <= 3 * max_raw + max_file && st.peak_bytes < total / 8,
       "peak bytes held %llu <= 3 shards + a file (%llu), of %llu", (unsigned long long)st.peak_bytes,
       (unsigned long long)(3 * max_raw + max_file), (unsigned long long)total);
    ok(st.shards_read >= shards, "the thread read every shard (%llu)", (unsigned long long)st.shards_read);
    ft_loader_free(l);
    ft_buf_release(&why);
}

static void copy_set(const char *from, const char *to) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", to, from, to);
    FT_ASSERT(system(cmd) == 0);
}

static void test_corruption(const char *root, const char *good) {
    char dir[512], p[600];
    ft_buf why;
    ft_buf_init(&why);
    path(dir, sizeof dir, root, "bad");

    copy_set(good, dir);
    path(p, sizeof p, dir, "shard.00002.mds.zstd");
    FILE *f = fopen(p, "r+b");
    fseek(f, 40, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 40, SEEK_SET);
    fputc(c ^ 0x10, f);
    fclose(f);
    expect_error(dir, FT_EPARSE, "shard '", "/shard.00002.mds.zstd': xxh64 mismatch",
                 "a flipped byte: the shard named, xxh64 mismatch, the error sticks");

    copy_set(good, dir);
    FT_ASSERT(truncate(p, 100) == 0);
    expect_error(dir, FT_EPARSE, "shard '", "/shard.00002.mds.zstd': 100 bytes, the index says",
                 "a truncated shard: named, with its size");

    copy_set(good, dir);
    FT_ASSERT(unlink(p) == 0);
    expect_error(dir, FT_EIO, "shard '", "shard.00002.mds.zstd': cannot read",
                 "a missing shard: named, cannot read");

    /* A wrong index: shard 1's sample count off by one (hashes still right). */
    copy_set(good, dir);
    path(p, sizeof p, dir, "index.json");
    char *text;
    size_t len;
    FT_ASSERT(ft_read_file(p, 1 << 24, &text, &len, NULL) == 0);
    char *s1 = strstr(strstr(text, "shard.00001.mds\""), "\"samples\": ");
    FT_ASSERT(s1);
    s1 += strlen("\"samples\": ");
    long v = strtol(s1, NULL, 10);
    char num[32];
    int w = snprintf(num, sizeof num, "%ld", v + 1);
    f = fopen(p, "wb");
    fwrite(text, 1, (size_t)(s1 - text), f);
    fwrite(num, 1, (size_t)w, f);
    fputs(s1 + strspn(s1, "0123456789"), f);
    fclose(f);
    free(text);
    expect_error(dir, FT_EPARSE, "shard '", "/shard.00001.mds.zstd': shard holds",
                 "a wrong index (sample count): the shard named");

    copy_set(good, dir);
    FT_ASSERT(unlink(p) == 0);
    expect_error(dir, FT_EIO, "cannot read '", "/index.json'", "a missing index.json: open fails naming it");

    ft_loader_opts o;
    ft_loader_opts_init(&o);
    o.seq_len = 16;
    ft_loader *l;
    ft_loader_batch b;
    FT_ASSERT(ft_loader_open(good, &o, &l, &why) == 0);
    int rc;
    while ((rc = ft_loader_next(l, &b, &why)) == 1) {
    }
    ok(rc == FT_EPARSE && strstr(why.data, "longer than seq_len 16"), "a row longer than T: the shard named");
    printf("# %s\n", why.data);
    ft_loader_free(l);
    o.seq_len = 0, o.world = 100000;
    ok(ft_loader_open(good, &o, &l, &why) == FT_EINVAL, "more ranks than rows is refused");
    ft_buf_release(&why);
}

int main(void) {
    char root[256], dir[512], raw[512];
    if (tap_tmpdir(root, sizeof root, "loader")) return 1;
    path(dir, sizeof dir, root, "set");
    path(raw, sizeof raw, root, "raw");
    FT_ASSERT(mkdir(dir, 0700) == 0 && mkdir(raw, 0700) == 0);
    size_t rows = 1001;
    size_t shards = write_set(dir, rows, 3, 4096);
    ok(shards >= 10, "the test set has %zu shards", shards);
    test_order(dir, rows);
    test_ranks_and_resume(dir, rows);
    write_set(raw, rows, 0, 4096);
    static uint32_t a[MAXROWS];
    static char seen[MAXROWS];
    int bad = 0, perm = 1;
    ft_loader *l = open_or_die(raw, 7, 0, 1, 4);
    long n = collect(l, a, MAXROWS, &bad, NULL);
    for (long i = 0; i < n; i++)
        perm &= a[i] < rows && !seen[a[i]]++;
    ok(n == (long)rows && perm && !bad, "uncompressed shards (--zstd-level 0): every row, whole, once");
    ft_loader_free(l);
    test_memory(root);
    test_corruption(root, dir);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) printf("# could not remove %s\n", root);
    return done_testing();
}
