/* mds.c: MDS shards and index.json (layout in mds.h), compressed with libzstd, hashed with libxxhash.
 * Rule: the writer builds each shard in memory and writes it once; the reader checks sizes before it reads. */
#include "mds.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "json.h"

#define NCOLS 3
static const char *const col_names[NCOLS] = {"input_ids", "loss_mask", "seq_lens"};
static const char *const col_encodings[NCOLS] = {"ndarray:uint32", "ndarray:uint8", "ndarray:uint32"};
static const unsigned col_elem[NCOLS] = {4, 1, 4};

static uint8_t *put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
    return p + 4;
}
/* Stores v[0..n) little-endian at p; returns the end. */
static uint8_t *put_u32s(uint8_t *p, const uint32_t *v, size_t n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, v, 4 * n);
    return p + 4 * n;
#else
    for (size_t i = 0; i < n; i++) p = put_u32(p, v[i]);
    return p;
#endif
}
static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- writer ---------------------------------------------------------------------------------------- */

struct ft_mds_writer {
    char *dir;
    int level;
    uint64_t size_limit;
    ft_buf config;   /* the configuration JSON every shard carries */
    ft_buf body;     /* room for the shard's head (gap bytes), then the current shard's samples */
    size_t gap;      /* where the samples start in body: the head goes just before them (flush_shard) */
    uint32_t *sizes; /* (nsamples) their sizes */
    size_t nsamples, cap;
    ft_buf entries;  /* index.json's shard entries so far, comma-separated */
    ft_buf zip;
    size_t nshards;
    ZSTD_CCtx *cctx;
};

/* The writer's configuration as MDSWriter's get_config() dumps it (sorted keys, ", " and ": "). */
static void put_config_members(ft_buf *b, const ft_mds_writer *w) {
    ft_buf_adds(b, "\"column_encodings\": [");
    for (int c = 0; c < NCOLS; c++) ft_buf_addf(b, "%s\"%s\"", c ? ", " : "", col_encodings[c]);
    ft_buf_adds(b, "], \"column_names\": [");
    for (int c = 0; c < NCOLS; c++) ft_buf_addf(b, "%s\"%s\"", c ? ", " : "", col_names[c]);
    ft_buf_adds(b, "], \"column_sizes\": [null, null, null], \"compression\": ");
    if (w->level) ft_buf_addf(b, "\"zstd:%d\"", w->level);
    else ft_buf_adds(b, "null");
    ft_buf_adds(b, ", \"format\": \"mds\", \"hashes\": [\"xxh64\"]");
}

/* The shard's head: n, the n + 1 offsets and the configuration. */
static uint64_t head_size(const ft_mds_writer *w, size_t n) { return 8 + 4 * (uint64_t)n + w->config.len; }

static uint64_t shard_size_now(const ft_mds_writer *w) {
    return head_size(w, w->nsamples) + (w->body.len - w->gap);
}

/* Empties body for a new shard, leaving room for the head of a shard of about `expect` samples, so that
 * flush_shard writes the head in place and the samples are never copied (more samples: one memmove). */
static void start_shard(ft_mds_writer *w, size_t expect) {
    w->gap = (size_t)head_size(w, expect);
    ft_buf_clear(&w->body);
    ft_buf_reserve(&w->body, w->gap);
    w->body.len = w->gap;
}

int ft_mds_writer_new(const char *dir, int level, uint64_t size_limit, ft_mds_writer **out) {
    FT_RETURN_IF(level < 0 || level > 22 || size_limit < 1024 || size_limit > FT_MDS_MAX_SHARD, FT_EINVAL);
    ft_mds_writer *w = calloc(1, sizeof *w);
    FT_RETURN_IF(!w, FT_ENOMEM);
    w->dir = strdup(dir);
    w->level = level;
    w->size_limit = size_limit;
    w->cctx = level ? ZSTD_createCCtx() : NULL;
    if (!w->dir || (level && !w->cctx)) {
        ft_mds_writer_free(w);
        return FT_ENOMEM;
    }
    ft_buf_addc(&w->config, '{');
    put_config_members(&w->config, w);
    ft_buf_addf(&w->config, ", \"size_limit\": %llu, \"version\": 2}", (unsigned long long)size_limit);
    start_shard(w, 1024);
    *out = w;
    return 0;
}

size_t ft_mds_writer_shards(const ft_mds_writer *w) { return w->nshards; }

void ft_mds_writer_free(ft_mds_writer *w) {
    if (!w) return;
    free(w->dir);
    free(w->sizes);
    ft_buf_release(&w->config), ft_buf_release(&w->body), ft_buf_release(&w->entries);
    ft_buf_release(&w->zip);
    ZSTD_freeCCtx(w->cctx);
    free(w);
}

static void put_file_info(ft_buf *b, const char *basename, size_t bytes, uint64_t h) {
    ft_buf_addf(b, "{\"basename\": \"%s\", \"bytes\": %zu, \"hashes\": {\"xxh64\": \"%016llx\"}}", basename, bytes,
                (unsigned long long)h);
}

static int write_file(const char *dir, const char *name, const void *p, size_t n, ft_buf *why) {
    ft_buf path;
    ft_buf_init(&path);
    ft_buf_addf(&path, "%s/%s", dir, name);
    FILE *f = fopen(path.data, "wb");
    int ok = f && fwrite(p, 1, n, f) == n && fflush(f) == 0 && (fsync(fileno(f)) == 0 || errno == EINVAL);
    if (f && fclose(f) != 0) ok = 0;
    int rc = ok ? 0 : ft_fail(why, FT_EIO, "cannot write '%s': %s", path.data, strerror(errno));
    ft_buf_release(&path);
    return rc;
}

/* Writes the samples gathered so far as the next shard and appends its index entry. */
static int flush_shard(ft_mds_writer *w, ft_buf *why) {
    if (!w->nsamples) return 0;
    ft_buf *b = &w->body;
    size_t head = (size_t)head_size(w, w->nsamples), samples = b->len - w->gap;
    if (head > w->gap) { /* more samples than start_shard expected */
        ft_buf_reserve(b, head - w->gap);
        memmove(b->data + head, b->data + w->gap, samples);
        b->len = head + samples;
        w->gap = head;
    }
    uint8_t *start = (uint8_t *)b->data + w->gap - head, *p = start;
    uint32_t n = (uint32_t)w->nsamples, off = (uint32_t)head;
    p = put_u32(p, n);
    p = put_u32(p, off);
    for (size_t i = 0; i < w->nsamples; i++) p = put_u32(p, off += w->sizes[i]);
    memcpy(p, w->config.data, w->config.len);
    FT_ASSERT(p + w->config.len == (uint8_t *)b->data + w->gap && off == head + samples);
    size_t raw_len = head + samples;

    char raw_name[64], zip_name[64];
    snprintf(raw_name, sizeof raw_name, "shard.%05zu.mds", w->nshards);
    snprintf(zip_name, sizeof zip_name, "shard.%05zu.mds.zstd", w->nshards);
    uint64_t raw_hash = XXH64(start, raw_len, 0), zip_hash = 0;
    const void *file = start;
    size_t file_len = raw_len;
    if (w->level) {
        ft_buf_clear(&w->zip);
        ft_buf_reserve(&w->zip, ZSTD_compressBound(raw_len));
        size_t z = ZSTD_compressCCtx(w->cctx, w->zip.data, w->zip.cap, start, raw_len, w->level);
        if (ZSTD_isError(z)) return ft_fail(why, FT_EIO, "zstd: %s", ZSTD_getErrorName(z));
        w->zip.len = z;
        zip_hash = XXH64(w->zip.data, z, 0);
        file = w->zip.data, file_len = z;
    }
    FT_TRY(write_file(w->dir, w->level ? zip_name : raw_name, file, file_len, why));

    ft_buf *e = &w->entries;
    if (w->nshards) ft_buf_adds(e, ", ");
    ft_buf_addc(e, '{');
    put_config_members(e, w);
    ft_buf_adds(e, ", \"raw_data\": ");
    put_file_info(e, raw_name, raw_len, raw_hash);
    ft_buf_addf(e, ", \"samples\": %zu, \"size_limit\": %llu, \"version\": 2, \"zip_data\": ", w->nsamples,
                (unsigned long long)w->size_limit);
    if (w->level) put_file_info(e, zip_name, file_len, zip_hash);
    else ft_buf_adds(e, "null");
    ft_buf_addc(e, '}');
    w->nshards++;
    start_shard(w, w->nsamples + w->nsamples / 8 + 64);
    w->nsamples = 0;
    return 0;
}

/* A 1-D array in streaming's NDArray encoding with the dtype in the column encoding: the shape header
 * (ndim << 2 | shape width code, then the length in that width) and the values. */
static size_t ndarray_header(uint8_t *h, uint64_t len) {
    int code = len < (1u << 8) ? 0 : len < (1u << 16) ? 1 : 2;
    h[0] = (uint8_t)(1 << 2 | code);
    for (int i = 0; i < (1 << code); i++) h[1 + i] = (uint8_t)(len >> (8 * i));
    return 1 + ((size_t)1 << code);
}

/* Appends row; with doc_ids, its ids and mask are gathered from the documents (row->ids, mask unused). */
static int add_row(ft_mds_writer *w, const ft_mds_row *row, const uint32_t *const *doc_ids,
                   const uint8_t *const *doc_mask, ft_buf *why) {
    if (row->n < 1 || row->n > FT_MDS_MAX_ROW || row->docs < 1 || row->docs > row->n)
        return ft_fail(why, FT_EINVAL, "row of %zu tokens in %zu documents", row->n, row->docs);
    uint64_t sum = 0;
    for (size_t d = 0; d < row->docs; d++) {
        if (!row->seq_lens[d]) return ft_fail(why, FT_EINVAL, "empty document in a row");
        sum += row->seq_lens[d];
    }
    if (sum != row->n) return ft_fail(why, FT_EINVAL, "seq_lens sum to %llu, the row has %zu", (unsigned long long)sum, row->n);
    uint8_t h[NCOLS][9];
    size_t hl[NCOLS] = {ndarray_header(h[0], row->n), ndarray_header(h[1], row->n), ndarray_header(h[2], row->docs)};
    uint64_t col[NCOLS] = {hl[0] + 4 * (uint64_t)row->n, hl[1] + row->n, hl[2] + 4 * (uint64_t)row->docs};
    uint64_t size = 4 * NCOLS + col[0] + col[1] + col[2];
    if (w->nsamples && shard_size_now(w) + size + 4 > w->size_limit) FT_TRY(flush_shard(w, why));
    if (shard_size_now(w) + size + 4 > FT_MDS_MAX_SHARD) return ft_fail(why, FT_EINVAL, "row too large for a shard");
    if (w->nsamples == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 1024;
        w->sizes = ft_xrealloc(w->sizes, w->cap * sizeof *w->sizes);
    }
    w->sizes[w->nsamples++] = (uint32_t)size;
    ft_buf *b = &w->body;
    ft_buf_reserve(b, size);
    uint8_t *p = (uint8_t *)b->data + b->len;
    for (int c = 0; c < NCOLS; c++) p = put_u32(p, (uint32_t)col[c]);
    memcpy(p, h[0], hl[0]);
    p += hl[0];
    /* the row in parts: its documents where they lie, or the whole row */
    size_t parts = doc_ids ? row->docs : 1;
    for (size_t d = 0; d < parts; d++)
        p = put_u32s(p, doc_ids ? doc_ids[d] : row->ids, doc_ids ? row->seq_lens[d] : row->n);
    memcpy(p, h[1], hl[1]);
    p += hl[1];
    for (size_t d = 0; d < parts; d++) {
        const uint8_t *m = doc_ids ? doc_mask[d] : row->mask;
        size_t len = doc_ids ? row->seq_lens[d] : row->n;
        for (size_t i = 0; i < len; i++) *p++ = m[i] != 0;
    }
    memcpy(p, h[2], hl[2]);
    p = put_u32s(p + hl[2], row->seq_lens, row->docs);
    FT_ASSERT(p == (uint8_t *)b->data + b->len + size);
    b->len += size;
    b->data[b->len] = 0;
    return 0;
}

int ft_mds_writer_add(ft_mds_writer *w, const ft_mds_row *row, ft_buf *why) { return add_row(w, row, NULL, NULL, why); }

int ft_mds_writer_add_docs(ft_mds_writer *w, const uint32_t *const *doc_ids, const uint8_t *const *doc_mask,
                           const uint32_t *seq_lens, size_t docs, ft_buf *why) {
    uint64_t n = 0;
    for (size_t d = 0; d < docs; d++) n += seq_lens[d];
    if (n > FT_MDS_MAX_ROW) return ft_fail(why, FT_EINVAL, "row of %llu tokens", (unsigned long long)n);
    ft_mds_row row = {NULL, NULL, (size_t)n, seq_lens, docs};
    return add_row(w, &row, doc_ids, doc_mask, why);
}

int ft_mds_writer_finish(ft_mds_writer *w, const char *ft_json, ft_buf *why) {
    FT_TRY(flush_shard(w, why));
    ft_buf idx;
    ft_buf_init(&idx);
    ft_buf_addc(&idx, '{');
    if (ft_json) ft_buf_addf(&idx, "\"ft_pack\": %s, ", ft_json);
    ft_buf_adds(&idx, "\"shards\": [");
    if (w->entries.len) ft_buf_add(&idx, w->entries.data, w->entries.len);
    ft_buf_adds(&idx, "], \"version\": 2}");
    int rc = write_file(w->dir, "index.json", idx.data, idx.len, why);
    ft_buf_release(&idx);
    return rc;
}

/* ---- index reader ---------------------------------------------------------------------------------- */

/* An integer-valued JSON number in [0, max], else -1. */
static int64_t json_uint(const cJSON *v, int64_t max) {
    if (!cJSON_IsNumber(v)) return -1;
    double d = v->valuedouble;
    if (!(d >= 0 && d <= (double)max) || d != (double)(int64_t)d) return -1;
    return (int64_t)d;
}

static int parse_hex64(const char *s, uint64_t *out) {
    if (!s || strlen(s) != 16) return -1;
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return -1;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return 0;
}

/* Checks a raw_data/zip_data object: the expected basename, bytes within max, the xxh64 hash if listed. */
static int file_info(const cJSON *o, const char *want, uint64_t max, int use_xxh, uint64_t *bytes, uint64_t *h,
                     int *has_h, size_t shard, const char *key, ft_buf *why) {
    if (!cJSON_IsObject(o)) return ft_fail(why, FT_EPARSE, "shard %zu: %s is not an object", shard, key);
    const char *bn = ft_json_str(o, "basename");
    if (!bn || strcmp(bn, want))
        return ft_fail(why, FT_EFORMAT, "shard %zu: %s.basename is not '%s'", shard, key, want);
    int64_t b = json_uint(cJSON_GetObjectItemCaseSensitive(o, "bytes"), (int64_t)max);
    if (b < 0) return ft_fail(why, FT_EPARSE, "shard %zu: %s.bytes is not an integer within limits", shard, key);
    *bytes = (uint64_t)b;
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(o, "hashes");
    *has_h = 0;
    if (use_xxh) {
        const char *hx = cJSON_IsObject(hs) ? ft_json_str(hs, "xxh64") : NULL;
        if (!hx || parse_hex64(hx, h) < 0)
            return ft_fail(why, FT_EPARSE, "shard %zu: %s.hashes.xxh64 is missing or not 16 hex digits", shard, key);
        *has_h = 1;
    }
    return 0;
}

static int string_list_is(const cJSON *a, const char *const *want, int n) {
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n) return 0;
    int i = 0;
    for (const cJSON *v = a->child; v; v = v->next, i++)
        if (!cJSON_IsString(v) || strcmp(v->valuestring, want[i])) return 0;
    return 1;
}

static int parse_shard_entry(const cJSON *e, size_t k, ft_mds_shard_info *si, ft_buf *why) {
    if (!cJSON_IsObject(e)) return ft_fail(why, FT_EPARSE, "shard %zu is not an object", k);
    if (json_uint(cJSON_GetObjectItemCaseSensitive(e, "version"), 1000) != 2)
        return ft_fail(why, FT_EFORMAT, "shard %zu: version is not 2", k);
    const char *fmt = ft_json_str(e, "format");
    if (!fmt || strcmp(fmt, "mds")) return ft_fail(why, FT_EFORMAT, "shard %zu: format is not \"mds\"", k);
    if (!string_list_is(cJSON_GetObjectItemCaseSensitive(e, "column_names"), col_names, NCOLS) ||
        !string_list_is(cJSON_GetObjectItemCaseSensitive(e, "column_encodings"), col_encodings, NCOLS))
        return ft_fail(why, FT_EFORMAT, "shard %zu: columns are not input_ids, loss_mask, seq_lens as ft-pack "
                       "writes them", k);
    const cJSON *sz = cJSON_GetObjectItemCaseSensitive(e, "column_sizes");
    if (!cJSON_IsArray(sz) || cJSON_GetArraySize(sz) != NCOLS)
        return ft_fail(why, FT_EPARSE, "shard %zu: column_sizes is not a list of 3", k);
    for (const cJSON *v = sz->child; v; v = v->next)
        if (!cJSON_IsNull(v)) return ft_fail(why, FT_EFORMAT, "shard %zu: column_sizes are not null", k);
    const cJSON *comp = cJSON_GetObjectItemCaseSensitive(e, "compression");
    si->level = 0;
    if (cJSON_IsString(comp)) {
        const char *c = comp->valuestring;
        if (!strcmp(c, "zstd")) si->level = 3;
        else if (!strncmp(c, "zstd:", 5) && strlen(c) <= 7 && c[5] >= '0' && c[5] <= '9' &&
                 (!c[6] || (c[6] >= '0' && c[6] <= '9')))
            si->level = atoi(c + 5);
        if (si->level < 1 || si->level > 22)
            return ft_fail(why, FT_EFORMAT, "shard %zu: compression '%.20s' is not zstd", k, c);
    } else if (!cJSON_IsNull(comp)) {
        return ft_fail(why, FT_EPARSE, "shard %zu: compression is not a string or null", k);
    }
    const cJSON *hl = cJSON_GetObjectItemCaseSensitive(e, "hashes");
    if (!cJSON_IsArray(hl)) return ft_fail(why, FT_EPARSE, "shard %zu: hashes is not a list", k);
    int xxh = 0;
    for (const cJSON *v = hl->child; v; v = v->next) {
        if (!cJSON_IsString(v)) return ft_fail(why, FT_EPARSE, "shard %zu: hashes holds a non-string", k);
        xxh |= !strcmp(v->valuestring, "xxh64");
    }
    int64_t n = json_uint(cJSON_GetObjectItemCaseSensitive(e, "samples"), UINT32_MAX);
    if (n < 0) return ft_fail(why, FT_EPARSE, "shard %zu: samples is not a count", k);
    si->samples = (uint32_t)n;
    snprintf(si->raw_basename, sizeof si->raw_basename, "shard.%05zu.mds", k);
    FT_TRY(file_info(cJSON_GetObjectItemCaseSensitive(e, "raw_data"), si->raw_basename, FT_MDS_MAX_SHARD, xxh,
                     &si->raw_bytes, &si->raw_xxh64, &si->has_raw_xxh64, k, "raw_data", why));
    const cJSON *zip = cJSON_GetObjectItemCaseSensitive(e, "zip_data");
    if (si->level) {
        snprintf(si->basename, sizeof si->basename, "shard.%05zu.mds.zstd", k);
        FT_TRY(file_info(zip, si->basename, ZSTD_compressBound(FT_MDS_MAX_SHARD), xxh, &si->file_bytes,
                         &si->file_xxh64, &si->has_file_xxh64, k, "zip_data", why));
    } else {
        if (!cJSON_IsNull(zip)) return ft_fail(why, FT_EFORMAT, "shard %zu: zip_data without compression", k);
        memcpy(si->basename, si->raw_basename, sizeof si->basename);
        si->file_bytes = si->raw_bytes, si->file_xxh64 = si->raw_xxh64, si->has_file_xxh64 = si->has_raw_xxh64;
    }
    return 0;
}

int ft_mds_index_parse(const char *s, size_t n, ft_mds_index *ix, ft_buf *why) {
    memset(ix, 0, sizeof *ix);
    cJSON *root;
    size_t off;
    if (ft_json_parse(s, n, &root, &off) < 0) return ft_fail(why, FT_EPARSE, "index.json: bad JSON at byte %zu", off);
    int rc = 0;
    const cJSON *shards = cJSON_GetObjectItemCaseSensitive(root, "shards");
    if (!cJSON_IsObject(root) || json_uint(cJSON_GetObjectItemCaseSensitive(root, "version"), 1000) != 2) {
        rc = ft_fail(why, FT_EFORMAT, "index.json: not an MDS index of version 2");
    } else if (!cJSON_IsArray(shards)) {
        rc = ft_fail(why, FT_EPARSE, "index.json: shards is not a list");
    } else {
        size_t ns = (size_t)cJSON_GetArraySize(shards);
        ix->shards = calloc(ns ? ns : 1, sizeof *ix->shards);
        if (!ix->shards) rc = FT_ENOMEM;
        for (const cJSON *e = shards->child; e && !rc; e = e->next) {
            rc = parse_shard_entry(e, ix->nshards, &ix->shards[ix->nshards], why);
            if (!rc) ix->samples += ix->shards[ix->nshards++].samples;
        }
        const cJSON *ft = cJSON_GetObjectItemCaseSensitive(root, "ft_pack");
        if (!rc && ft) {
            ft_buf b;
            ft_buf_init(&b);
            if (!cJSON_IsObject(ft)) rc = ft_fail(why, FT_EPARSE, "index.json: ft_pack is not an object");
            else if ((rc = ft_json_put_value(&b, ft)) == 0) ix->ft_json = b.data, b.data = NULL;
            ft_buf_release(&b);
        }
    }
    cJSON_Delete(root);
    if (rc) ft_mds_index_release(ix);
    return rc;
}

/* Buffers of whole shards: anonymous mappings, returned to the system by unmap_buf (malloc would keep them). */
static uint8_t *map_buf(size_t n) {
    void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
#ifdef MADV_HUGEPAGE
    if (n >= (4u << 20)) madvise(p, n, MADV_HUGEPAGE); /* a few faults per shard instead of one per page */
#endif
    return p;
}
static void unmap_buf(uint8_t *p, size_t n) {
    if (p) munmap(p, n ? n : 1);
}

/* Reads the whole regular file dir/name, at most max bytes, into *out (malloc'd, or map_buf'd when mapped). */
static int read_file(const char *dir, const char *name, uint64_t max, int mapped, uint8_t **out, size_t *len,
                     ft_buf *why) {
    ft_buf path;
    ft_buf_init(&path);
    ft_buf_addf(&path, "%s/%s", dir, name);
    int rc = 0;
    uint8_t *p = NULL;
    struct stat st;
    FILE *f = fopen(path.data, "rb");
    if (!f || fstat(fileno(f), &st) != 0) {
        rc = ft_fail(why, FT_EIO, "cannot read '%s': %s", path.data, strerror(errno));
    } else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
        rc = ft_fail(why, FT_EPARSE, "'%s': not a regular file of at most %llu bytes", path.data,
                     (unsigned long long)max);
    } else if (!(p = mapped ? map_buf((size_t)st.st_size) : malloc(st.st_size ? (size_t)st.st_size : 1))) {
        rc = FT_ENOMEM;
    } else if (fread(p, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        rc = ft_fail(why, FT_EIO, "cannot read '%s': %s", path.data, strerror(errno));
    }
    if (f) fclose(f);
    ft_buf_release(&path);
    if (rc) {
        if (mapped) unmap_buf(p, p ? (size_t)st.st_size : 0);
        else free(p);
        return rc;
    }
    *out = p, *len = (size_t)st.st_size;
    return 0;
}

int ft_mds_index_load(const char *dir, ft_mds_index *ix, ft_buf *why) {
    uint8_t *p;
    size_t n;
    memset(ix, 0, sizeof *ix);
    FT_TRY(read_file(dir, "index.json", FT_MDS_MAX_INDEX, 0, &p, &n, why));
    int rc = ft_mds_index_parse((const char *)p, n, ix, why);
    free(p);
    return rc;
}

void ft_mds_index_release(ft_mds_index *ix) {
    free(ix->shards);
    free(ix->ft_json);
    memset(ix, 0, sizeof *ix);
}

uint64_t ft_mds_index_seq_len(const ft_mds_index *ix) {
    cJSON *j;
    size_t off;
    uint64_t v = 0;
    if (ix->ft_json && ft_json_parse(ix->ft_json, strlen(ix->ft_json), &j, &off) == 0) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "seq_len");
        if (cJSON_IsNumber(s) && s->valuedouble >= 1 && s->valuedouble <= FT_MDS_MAX_ROW)
            v = (uint64_t)s->valuedouble;
        cJSON_Delete(j);
    }
    return v;
}

/* ---- shard reader ---------------------------------------------------------------------------------- */

/* ft_mds_shard_parse over a buffer that is malloc'd or (mapped) map_buf'd. */
static int shard_parse(uint8_t *data, size_t len, int64_t expect, int mapped, ft_mds_shard *out,
                       ft_buf *why) {
    memset(out, 0, sizeof *out);
    out->data = data, out->len = len, out->mapped = mapped;
    int rc = 0;
    if (len < 8 || len > FT_MDS_MAX_SHARD) {
        rc = ft_fail(why, FT_EPARSE, "shard of %zu bytes", len);
    } else {
        uint32_t n = get_u32(data);
        uint64_t head = 4 + 4 * ((uint64_t)n + 1);
        if (expect >= 0 && n != (uint64_t)expect) {
            rc = ft_fail(why, FT_EPARSE, "shard holds %u samples, the index says %lld", n, (long long)expect);
        } else if (head > len) {
            rc = ft_fail(why, FT_EPARSE, "%u samples do not fit a shard of %zu bytes", n, len);
        } else {
            uint32_t prev = get_u32(data + 4);
            if (prev < head) rc = ft_fail(why, FT_EPARSE, "first sample offset %u inside the header", prev);
            for (uint32_t i = 1; i <= n && !rc; i++) {
                uint32_t o = get_u32(data + 4 + 4 * (size_t)i);
                if (o <= prev) rc = ft_fail(why, FT_EPARSE, "sample %u: offset %u not after %u", i - 1, o, prev);
                prev = o;
            }
            if (!rc && prev != len) rc = ft_fail(why, FT_EPARSE, "samples end at %u, the shard at %zu", prev, len);
            out->n = n;
        }
    }
    if (rc) ft_mds_shard_release(out);
    return rc;
}

int ft_mds_shard_parse(uint8_t *data, size_t len, int64_t expect, ft_mds_shard *out, ft_buf *why) {
    return shard_parse(data, len, expect, 0, out, why);
}

void ft_mds_shard_release(ft_mds_shard *s) {
    if (s->mapped) unmap_buf(s->data, s->len);
    else free(s->data);
    memset(s, 0, sizeof *s);
}

int ft_mds_shard_load(const char *dir, const ft_mds_index *ix, size_t i, ft_mds_shard *out, ft_buf *why) {
    memset(out, 0, sizeof *out);
    FT_RETURN_IF(i >= ix->nshards, FT_EINVAL);
    const ft_mds_shard_info *si = &ix->shards[i];
    uint8_t *file, *raw = NULL;
    size_t n;
    FT_TRY(read_file(dir, si->basename, si->file_bytes, 1, &file, &n, why));
    int rc = 0;
    if (n != si->file_bytes) {
        rc = ft_fail(why, FT_EPARSE, "%zu bytes, the index says %llu", n, (unsigned long long)si->file_bytes);
    } else if (si->has_file_xxh64 && XXH64(file, n, 0) != si->file_xxh64) {
        rc = ft_fail(why, FT_EPARSE, "xxh64 mismatch: %016llx, the index says %016llx",
                     (unsigned long long)XXH64(file, n, 0), (unsigned long long)si->file_xxh64);
    } else if (si->level) {
        unsigned long long cs = ZSTD_getFrameContentSize(file, n);
        if (cs != si->raw_bytes) {
            rc = ft_fail(why, FT_EPARSE, "zstd frame content size is not raw_data.bytes (%llu)",
                         (unsigned long long)si->raw_bytes);
        } else if (!(raw = map_buf(si->raw_bytes))) {
            rc = FT_ENOMEM;
        } else {
            size_t d = ZSTD_decompress(raw, si->raw_bytes, file, n);
            if (ZSTD_isError(d) || d != si->raw_bytes)
                rc = ft_fail(why, FT_EPARSE, "zstd: %s", ZSTD_isError(d) ? ZSTD_getErrorName(d) : "short frame");
        }
    } else {
        raw = file; /* uncompressed: the index gives file_bytes = raw_bytes, and n = file_bytes here */
    }
    if (raw != file) unmap_buf(file, n);
    if (!rc && si->has_raw_xxh64 && XXH64(raw, si->raw_bytes, 0) != si->raw_xxh64)
        rc = ft_fail(why, FT_EPARSE, "raw data xxh64 mismatch");
    if (rc) {
        unmap_buf(raw, si->raw_bytes);
        return rc;
    }
    return shard_parse(raw, si->raw_bytes, si->samples, 1, out, why);
}

void ft_mds_rowbuf_init(ft_mds_rowbuf *r) { memset(r, 0, sizeof *r); }
void ft_mds_rowbuf_release(ft_mds_rowbuf *r) {
    free(r->ids), free(r->mask), free(r->seq_lens);
    memset(r, 0, sizeof *r);
}

/* One column p[0..size): a 1-D NDArray header, then len values of elem bytes. Sets *vals and *len. */
static int column(const uint8_t *p, uint32_t size, unsigned elem, const uint8_t **vals, size_t *len, int c,
                  ft_buf *why) {
    if (size < 2 || p[0] >> 2 != 1)
        return ft_fail(why, FT_EPARSE, "column %s: not a 1-D array", col_names[c]);
    unsigned w = 1u << (p[0] & 3);
    if (1 + w > size) return ft_fail(why, FT_EPARSE, "column %s: shape cut short", col_names[c]);
    uint64_t v = 0;
    for (unsigned i = 0; i < w; i++) v |= (uint64_t)p[1 + i] << (8 * i);
    if (v < 1 || v > FT_MDS_MAX_ROW || v * elem != size - 1 - w)
        return ft_fail(why, FT_EPARSE, "column %s: length %llu does not match its %u bytes", col_names[c],
                       (unsigned long long)v, size - 1 - w);
    *vals = p + 1 + w, *len = (size_t)v;
    return 0;
}

int ft_mds_shard_row(const ft_mds_shard *s, uint32_t i, ft_mds_rowbuf *r, ft_buf *why) {
    FT_RETURN_IF(i >= s->n, FT_EINVAL);
    const uint8_t *p = s->data + get_u32(s->data + 4 + 4 * (size_t)i);
    uint32_t len = get_u32(s->data + 8 + 4 * (size_t)i) - get_u32(s->data + 4 + 4 * (size_t)i);
    if (len < 4 * NCOLS) return ft_fail(why, FT_EPARSE, "sample %u: %u bytes", i, len);
    uint64_t sizes[NCOLS], total = 4 * NCOLS;
    for (int c = 0; c < NCOLS; c++) total += sizes[c] = get_u32(p + 4 * c);
    if (total != len)
        return ft_fail(why, FT_EPARSE, "sample %u: column sizes add up to %llu, the sample has %u", i,
                       (unsigned long long)total, len);
    const uint8_t *vals[NCOLS];
    size_t n[NCOLS];
    const uint8_t *q = p + 4 * NCOLS;
    for (int c = 0; c < NCOLS; c++) {
        int rc = column(q, (uint32_t)sizes[c], col_elem[c], &vals[c], &n[c], c, why);
        if (rc) {
            ft_buf_addf(why, " (sample %u)", i);
            return rc;
        }
        q += sizes[c];
    }
    if (n[0] != n[1]) return ft_fail(why, FT_EPARSE, "sample %u: %zu ids but %zu mask values", i, n[0], n[1]);
    if (n[0] > r->cap_n) {
        free(r->ids), free(r->mask);
        r->ids = malloc(n[0] * 4), r->mask = malloc(n[0]);
        r->cap_n = r->ids && r->mask ? n[0] : 0;
        FT_RETURN_IF(!r->cap_n, FT_ENOMEM);
    }
    if (n[2] > r->cap_docs) {
        free(r->seq_lens);
        r->seq_lens = malloc(n[2] * 4);
        r->cap_docs = r->seq_lens ? n[2] : 0;
        FT_RETURN_IF(!r->cap_docs, FT_ENOMEM);
    }
    r->n = n[0], r->docs = n[2];
    for (size_t k = 0; k < r->n; k++) r->ids[k] = get_u32(vals[0] + 4 * k);
    for (size_t k = 0; k < r->n; k++) {
        if (vals[1][k] > 1) return ft_fail(why, FT_EPARSE, "sample %u: loss_mask value %u", i, vals[1][k]);
        r->mask[k] = vals[1][k];
    }
    uint64_t sum = 0;
    for (size_t d = 0; d < r->docs; d++) {
        r->seq_lens[d] = get_u32(vals[2] + 4 * d);
        if (!r->seq_lens[d]) return ft_fail(why, FT_EPARSE, "sample %u: an empty document in seq_lens", i);
        sum += r->seq_lens[d];
    }
    if (sum != r->n)
        return ft_fail(why, FT_EPARSE, "sample %u: seq_lens add up to %llu, the row has %zu tokens", i,
                       (unsigned long long)sum, r->n);
    return 0;
}
