/* mds.h: packed token shards in MosaicML Streaming's MDS format (DESIGN.md "Packed shards"), written by
 * ft-pack and read by ft-pack stat/verify/cat and the dataloader; streaming.StreamingDataset reads them too.
 * Rule: the only module that knows the bytes; the reader trusts nothing (every size, offset and hash checked).
 *
 * A dataset directory holds index.json and shard.NNNNN.mds.zstd files (or shard.NNNNN.mds uncompressed).
 * A raw shard (little-endian): u32 n (samples); u32 offsets[n + 1], absolute byte offsets of each sample in
 * the shard, offsets[n] = the shard's size; the writer's configuration as JSON text (what MDSWriter puts
 * between the offsets and the first sample; readers skip it); then the samples. A sample: one u32 size per
 * variable-size column (all three here, in column order), then each column's bytes. Columns, sorted by name
 * as MDSWriter sorts them:
 *   input_ids  "ndarray:uint32"  u8 (1 << 2 | s), u<8·2^s> length, u32 ids[length]
 *   loss_mask  "ndarray:uint8"   the same header, u8 mask[length] (0 or 1)
 *   seq_lens   "ndarray:uint32"  the same header, u32 lens[docs] (each >= 1, summing to the row's length)
 * where the header byte is ndim << 2 | s and s (0..3) is the smallest unsigned width that holds the length
 * (numpy's shape dtype: 0 = u8, 1 = u16, 2 = u32), as streaming's NDArray encoding writes a dynamic shape.
 * index.json is {"ft_pack": {...}, "shards": [...], "version": 2} with sorted keys, Python's json.dumps
 * spacing; every shard entry carries column_encodings, column_names, column_sizes (null: variable),
 * compression ("zstd:L" or null), format "mds", hashes ["xxh64"], raw_data and zip_data ({basename, bytes,
 * hashes: {"xxh64": 16 lower-case hex digits of XXH64 seed 0}}; zip_data null when uncompressed), samples,
 * size_limit, version 2. A compressed shard is one zstd frame with the content size in its header.
 * "ft_pack" is ft's own metadata (tokenizer, template, seq_len, packing statistics); streaming reads only
 * "version" and "shards" at the top level. */
#ifndef FT_MDS_H
#define FT_MDS_H

#include <stddef.h>
#include <stdint.h>

#include "ft.h"

#define FT_MDS_MAX_SHARD (1u << 31)  /* raw shard bytes: the u32 offsets' range, with room */
#define FT_MDS_MAX_INDEX (64u << 20) /* index.json bytes */
#define FT_MDS_MAX_ROW (1u << 28)    /* tokens in a row */

/* One packed row, borrowed by the writer, owned by the caller. */
typedef struct {
    const uint32_t *ids;      /* (n) */
    const uint8_t *mask;      /* (n) 0 or 1 */
    size_t n;                 /* 1..FT_MDS_MAX_ROW */
    const uint32_t *seq_lens; /* (docs) each >= 1, sum = n */
    size_t docs;
} ft_mds_row;

/* ---- writing ----------------------------------------------------------------------------------------- */

typedef struct ft_mds_writer ft_mds_writer;

/* ft_mds_writer_new: writes shards into the existing directory dir (the caller makes it appear atomically).
 * level: zstd level 1..22, or 0 for uncompressed shards; size_limit: a shard is closed before a row would
 * take its raw size over this (MDSWriter's rule; a row larger than the limit gets a shard alone), at most
 * FT_MDS_MAX_SHARD. Returns 0 and a heap writer, FT_EINVAL or FT_ENOMEM. */
int ft_mds_writer_new(const char *dir, int level, uint64_t size_limit, ft_mds_writer **out);
/* ft_mds_writer_add: appends a row (copied). Returns 0, FT_EINVAL (a row breaking the rules above), or
 * FT_EIO when a full shard could not be written (reason in why). */
int ft_mds_writer_add(ft_mds_writer *w, const ft_mds_row *row, ft_buf *why);
/* ft_mds_writer_add_docs: the same for a row given as its documents where they lie: document d is
 * doc_ids[d] and doc_mask[d] (0 or non-zero), seq_lens[d] tokens; spares the caller assembling the row
 * only for the writer to copy it. */
int ft_mds_writer_add_docs(ft_mds_writer *w, const uint32_t *const *doc_ids, const uint8_t *const *doc_mask,
                           const uint32_t *seq_lens, size_t docs, ft_buf *why);
/* ft_mds_writer_finish: writes the last shard and index.json with ft_json (a JSON object's text, or NULL)
 * as its "ft_pack" member. Returns 0 or FT_EIO/FT_ENOMEM with the reason in why. */
int ft_mds_writer_finish(ft_mds_writer *w, const char *ft_json, ft_buf *why);
/* Shards written so far. */
size_t ft_mds_writer_shards(const ft_mds_writer *w);
void ft_mds_writer_free(ft_mds_writer *w);

/* ---- reading ----------------------------------------------------------------------------------------- */

typedef struct {
    char basename[64];      /* the file in the directory: zip_data's when compressed, else raw_data's */
    char raw_basename[64];
    uint32_t samples;
    int level;              /* zstd level, 0 = uncompressed */
    uint64_t raw_bytes, file_bytes;
    uint64_t raw_xxh64, file_xxh64;
    int has_raw_xxh64, has_file_xxh64;
} ft_mds_shard_info;

typedef struct {
    ft_mds_shard_info *shards; /* (nshards) */
    size_t nshards;
    uint64_t samples;          /* sum over shards */
    char *ft_json;             /* the "ft_pack" member, compact, NUL-terminated; NULL when absent */
} ft_mds_index;

/* ft_mds_index_parse: checks index.json text s[0..n): version 2, every shard entry in the layout above
 * (columns exactly ours, file names shard.NNNNN.mds[.zstd] in order). Returns 0 and *ix (release with
 * ft_mds_index_release), FT_EPARSE/FT_EFORMAT with the reason in why, or FT_ENOMEM. */
int ft_mds_index_parse(const char *s, size_t n, ft_mds_index *ix, ft_buf *why);
/* ft_mds_index_load: reads dir/index.json and parses it; FT_EIO when it cannot be read. */
int ft_mds_index_load(const char *dir, ft_mds_index *ix, ft_buf *why);
void ft_mds_index_release(ft_mds_index *ix);
/* ft_mds_index_seq_len: the seq_len ft-pack recorded in the "ft_pack" member (1..FT_MDS_MAX_ROW), or 0. */
uint64_t ft_mds_index_seq_len(const ft_mds_index *ix);

/* A raw shard in memory, checked: n samples whose offsets lie inside data. */
typedef struct {
    uint8_t *data; /* owned: malloc'd, or an anonymous mapping when mapped */
    size_t len;
    uint32_t n;
    int mapped;    /* ft_mds_shard_load maps its buffers, so a freed shard goes back to the system at once
                    * (the dataloader's memory bound), whatever the allocator keeps */
} ft_mds_shard;

/* ft_mds_shard_load: reads shard i of ix from dir, checks its file size and hash, decompresses it (never
 * beyond raw_data.bytes), checks the raw size and hash, and parses it (ft_mds_shard_parse) with the sample
 * count the index gives. Returns 0, FT_EIO (file), FT_EPARSE/FT_EFORMAT (contents) with why, FT_ENOMEM. */
int ft_mds_shard_load(const char *dir, const ft_mds_index *ix, size_t i, ft_mds_shard *out, ft_buf *why);
/* ft_mds_shard_parse: checks the header of the raw shard data[0..len) (taken over: freed by release, also on
 * error): count, offsets increasing from after the header to len. expect: the index's sample count, or -1. */
int ft_mds_shard_parse(uint8_t *data, size_t len, int64_t expect, ft_mds_shard *out, ft_buf *why);
void ft_mds_shard_release(ft_mds_shard *s);

/* A decoded row; the arrays are owned by the struct and reused from row to row. */
typedef struct {
    uint32_t *ids;      /* (n) */
    uint8_t *mask;      /* (n) */
    uint32_t *seq_lens; /* (docs) */
    size_t n, docs, cap_n, cap_docs;
} ft_mds_rowbuf;
void ft_mds_rowbuf_init(ft_mds_rowbuf *r);
void ft_mds_rowbuf_release(ft_mds_rowbuf *r);

/* ft_mds_shard_row: decodes sample i (< s->n) into r, checking every column header, size and value (mask 0/1,
 * seq_lens >= 1 summing to the row length). Returns 0, FT_EPARSE with why, or FT_ENOMEM. */
int ft_mds_shard_row(const ft_mds_shard *s, uint32_t i, ft_mds_rowbuf *r, ft_buf *why);

#endif
