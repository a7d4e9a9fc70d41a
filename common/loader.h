/* loader.h: the streaming dataloader over an MDS shard directory written by ft-pack (DESIGN.md "Streaming
 * dataloader"): micro-batches of packed rows in a deterministic order, read, verified and decompressed ahead
 * by a background thread, with memory bounded by a few shards whatever the data set size. Rule: the order is
 * a pure function of (seed, epoch, the index); rank and world size only pick rows from it.
 *
 * The order of epoch e (docs/loader.md):
 *   1. the shards are permuted (Fisher–Yates, common/rng.h seeded from seed and e);
 *   2. consecutive groups of `window` shards in that order form windows; the rows of each window are
 *      permuted (seeded from seed, e and the window's number) and the windows' rows, concatenated, are the
 *      epoch's global order: global rows 0 .. N-1.
 * Rank r of n takes global rows g0 + r, g0 + r + n, g0 + r + 2n, ... where g0 is where the epoch (re)started
 * (0, or the restored position), and stops before the ragged tail: the last (N - g0) mod n rows are dropped
 * for that epoch, so every rank gets the same number of rows, hence of batches (DDP's drop_last sampler).
 * The position (epoch, sample) is the global index of the next row not yet taken by any rank; it is the same
 * on every rank, and restoring it with any world size continues the same global order. */
#ifndef FT_LOADER_H
#define FT_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "ft.h"

typedef struct {
    uint64_t seed;  /* the order's seed */
    uint64_t epoch; /* the epoch to start in (position (epoch, 0)) */
    int rank;       /* 0 <= rank < world */
    int world;      /* ranks sharing the data, >= 1 */
    int batch;      /* B: rows per micro-batch, >= 1 */
    int seq_len;    /* T: columns per row; 0 = ft-pack's seq_len from index.json */
    int window;     /* shards whose rows are shuffled together, >= 1 */
    int prefetch;   /* shards the thread reads ahead, >= 1 */
} ft_loader_opts;

/* ft_loader_opts_init: seed 0, epoch 0, rank 0 of 1, batch 1, seq_len 0, window 2, prefetch 2 (memory: about
 * (window + prefetch) shards decoded, plus one compressed file being read). */
void ft_loader_opts_init(ft_loader_opts *o);

/* A micro-batch, owned by the loader and valid until the next ft_loader_next, seek or free. Every row is
 * padded to T: padding tokens have id 0 and mask 0 and form one more segment of their row (as ft_seq_layout
 * treats them). Rows past `rows` (only in an epoch's last batch) are all padding. */
typedef struct {
    int B, T;          /* the shape of the arrays below */
    int rows;          /* rows holding data, 1..B */
    int32_t *ids;      /* (B, T) token ids */
    uint8_t *mask;     /* (B, T) 1 = trained token (loss_mask) */
    int32_t *pos;      /* (B, T) position inside its document, restarting at 0 (ft_seq_layout) */
    int32_t *start;    /* (B, T) column of its document's first token in the row (ft_seq_layout) */
    int32_t *seq_lens; /* (ndocs) the documents' lengths, row after row (padding not included) */
    int32_t *row_docs; /* (B + 1) row b's documents are seq_lens[row_docs[b] .. row_docs[b + 1]) */
    int ndocs;
    int32_t *cu_seqlens; /* (nseg + 1) segment starts in the flattened (B * T) arrays: every document
                          * and every row's padding is a segment; cu_seqlens[0] = 0, [nseg] = B * T */
    int nseg;
    uint64_t tokens; /* tokens that are not padding */
    uint64_t epoch;  /* the epoch these rows belong to */
    uint64_t sample; /* the global index of this rank's first row in it */
} ft_loader_batch;

/* A resumable position (checkpoints store the two numbers). */
typedef struct {
    uint64_t epoch;
    uint64_t sample; /* global index of the next row no rank has taken, 0..rows */
} ft_loader_pos;

/* Counters for tests and benchmarks. */
typedef struct {
    uint64_t rows; /* rows in the data set (per epoch, before the tail is dropped) */
    size_t shards;
    uint64_t held_bytes;  /* shard bytes the loader holds now: decoded shards, plus a file being read */
    uint64_t peak_bytes;  /* the most it ever held */
    size_t peak_shards;   /* the most decoded shards held at once (window + prefetch at most) */
    uint64_t shards_read; /* shards the thread has read and verified */
} ft_loader_stats;

typedef struct ft_loader ft_loader;

/* ft_loader_open: reads dir/index.json and starts reading ahead from position (o->epoch, 0). Returns 0 and
 * a heap loader, FT_EINVAL (bad options, a data set with fewer rows than ranks, seq_len neither given nor in
 * the index), FT_EIO/FT_EPARSE/FT_EFORMAT (index.json) with the reason in why, or FT_ENOMEM. */
int ft_loader_open(const char *dir, const ft_loader_opts *o, ft_loader **out, ft_buf *why);
/* ft_loader_next: the next micro-batch of this rank into *b (a view of the loader's buffers). Returns 1 with
 * a batch, 0 at the end of the epoch (the position then moves to (epoch + 1, 0), so the next call starts the
 * next epoch), or a negative code with why naming the shard and what is wrong (a missing, truncated or
 * corrupt shard, a row longer than T); an error is final: later calls return it again. */
int ft_loader_next(ft_loader *l, ft_loader_batch *b, ft_buf *why);
/* ft_loader_tell: the position after the last batch returned (the same on every rank). */
ft_loader_pos ft_loader_tell(const ft_loader *l);
/* ft_loader_seek: continues from p (a position from ft_loader_tell, maybe under another world size).
 * Returns 0, or FT_EINVAL when p.sample is past the data set's rows. */
int ft_loader_seek(ft_loader *l, ft_loader_pos p);
void ft_loader_stats_get(ft_loader *l, ft_loader_stats *st);
/* ft_loader_free: stops the thread and frees everything; NULL is harmless. */
void ft_loader_free(ft_loader *l);

#endif
