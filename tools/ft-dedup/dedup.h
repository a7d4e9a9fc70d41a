/* dedup.h: ft-dedup's modules: text keys and MinHash signatures (minhash.c), LSH parameters and the
 * streaming index (index.c), the signature file (sigfile.c) and the scale-out cluster step (cluster.c).
 * Rule: one decision rule for both modes: a record is dropped when an earlier *kept* record is an exact
 * duplicate, or shares an LSH band with it and passes verification; the keeper is the lowest index. */
#ifndef FT_DEDUP_H
#define FT_DEDUP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conversation.h"
#include "ft.h"

enum { KEY_ALL = 0, KEY_HUMAN = 1, KEY_FIRST = 2 };
enum { VERIFY_SIG = 0, VERIFY_EXACT = 1 };
#define DEDUP_MAX_HASHES 1024
#define DEDUP_SIG_BITS 4 /* bits of every MinHash value the streaming index keeps for verification */

/* Everything that decides the result; the same in every mode, stored in signature files. */
typedef struct {
    int key;          /* KEY_* */
    int strip_punct;  /* exact key: drop Unicode punctuation (P*) */
    int ngram;        /* tokens per shingle */
    int bands, rows;  /* LSH geometry; bands * rows MinHash values */
    int verify;       /* VERIFY_* */
    double threshold; /* verification threshold on the (estimated or exact) Jaccard similarity */
    uint64_t seed;
} dedup_params;

/* Defaults: FineWeb/datatrove geometry, 14 bands x 8 rows (112 hashes), threshold (1/14)^(1/8). */
void dedup_params_default(dedup_params *p);
/* dedup_lsh_optimal: the bands and rows (bands * rows <= hashes) minimizing 0.5 * false-positive area +
 * 0.5 * false-negative area of the S-curve 1-(1-s^r)^b around threshold t (as datasketch chooses them). */
void dedup_lsh_optimal(double t, int hashes, int *bands, int *rows);
/* The probability that a pair with Jaccard similarity s shares at least one band. */
double dedup_scurve(double s, int bands, int rows);

/* One record's keys. Owned buffers are reused from record to record (dedup_doc_release frees them). */
typedef struct {
    uint64_t exact[2];   /* XXH3-128 of the normalized key text (lo, hi) */
    int empty;           /* the key text normalizes to nothing: never indexed */
    uint32_t *sig;       /* (bands * rows) MinHash values; all UINT32_MAX when the text has no token */
    uint32_t *shingles;  /* (nshingles) sorted unique shingle hashes (only with VERIFY_EXACT) */
    size_t nshingles, cap_shingles;
    uint64_t ntokens;
    ft_buf norm, tok;    /* scratch: normalized text, token text */
    uint32_t *starts;    /* scratch: token start offsets in tok (tokens are separated by one space) */
    size_t cap_starts;
} dedup_doc;

/* Permutation family h_i(x) = ((a_i * x + b_i) mod 2^64) >> 32 for 32-bit shingle hashes x, with a_i, b_i
 * from splitmix64(seed). Read-only after dedup_hasher_init: shared by threads. */
typedef struct {
    int hashes, padded;          /* padded: hashes rounded up to a multiple of 16 */
    uint32_t *alo, *ahi;         /* (padded) low and high halves of a_i */
    uint64_t *b;                 /* (padded) */
    dedup_params p;
} dedup_hasher;

int dedup_hasher_init(dedup_hasher *h, const dedup_params *p); /* 0 or FT_ENOMEM */
void dedup_hasher_release(dedup_hasher *h);

void dedup_doc_init(dedup_doc *d);
void dedup_doc_release(dedup_doc *d);

/* dedup_doc_from_conv: fills d from the texts of conversation c (borrowed) the key selects. */
void dedup_doc_from_conv(const dedup_hasher *h, const ft_conv *c, dedup_doc *d);
/* The same for a list of texts (n texts; lens[i] bytes each), joined as separate messages. */
void dedup_doc_from_texts(const dedup_hasher *h, const char *const *texts, const size_t *lens, size_t n,
                          dedup_doc *d);
/* Appends the normalized key text of s[0..n) (as the exact hash sees it) and the token text (tokens joined
 * by one space) to norm and tok; for tests and the manual. */
void dedup_normalize(const char *s, size_t n, int strip_punct, ft_buf *norm, ft_buf *tok);

/* Jaccard estimates: full signatures, and the b-bit (DEDUP_SIG_BITS) compact ones the index keeps. */
double dedup_sig_jaccard(const uint32_t *a, const uint32_t *b, int hashes);
/* The low DEDUP_SIG_BITS bits of every value, two to a byte (value 2k in the low nibble of byte k). */
void dedup_sig_compact(const uint32_t *sig, int hashes, uint8_t *out);
double dedup_compact_jaccard(const uint8_t *a, const uint8_t *b, int hashes);
/* Exact Jaccard of two sorted unique sets. */
double dedup_set_jaccard(const uint32_t *a, size_t na, const uint32_t *b, size_t nb);
/* The similarity verification uses: the compact signatures' estimate, or the exact Jaccard of the shingle
 * sets with VERIFY_EXACT. A candidate is a duplicate when it is >= threshold (dedup_passes). */
double dedup_similarity(const dedup_params *p, const uint8_t *ca, const uint8_t *cb, const uint32_t *sa, size_t na,
                        const uint32_t *sb, size_t nb);
static inline int dedup_passes(const dedup_params *p, double sim) { return sim >= p->threshold - 1e-12; }
/* LSH bands are taken from the compact signature: band j is values j*rows .. j*rows+rows-1, DEDUP_SIG_BITS
 * bits each. Two records share band j when those bits are equal (dedup_band_equal); dedup_band_key is a
 * 64-bit hash of them (seeded with seed and j) that places the band in a table. */
uint64_t dedup_band_key(const uint8_t *csig, int band, int rows, uint64_t seed);
int dedup_band_equal(const uint8_t *a, const uint8_t *b, int band, int rows);
static inline size_t dedup_compact_size(int hashes) { return ((size_t)hashes + 1) / 2; }

/* ---- the streaming index (index.c) --------------------------------------------------------------- */

/* What happened to one record. */
enum { DECIDE_KEPT = 0, DECIDE_EXACT = 1, DECIDE_NEAR = 2, DECIDE_EMPTY = 3 };
typedef struct {
    int kind;          /* DECIDE_* */
    uint64_t seq;      /* EXACT, NEAR: the keeper's number (as given to dedup_index_add) */
    uint64_t slot;     /* KEPT, EMPTY: the record's slot; EXACT, NEAR: the keeper's (UINT64_MAX: none) */
    double similarity; /* 1 for EXACT; the verified similarity for NEAR */
} dedup_decision;

typedef struct dedup_index dedup_index;
/* A heap index for params p (borrowed, must outlive it); aborts on exhaustion, like its growth. */
dedup_index *dedup_index_new(const dedup_params *p);
void dedup_index_free(dedup_index *x);
/* dedup_index_add: decides a record (numbered seq, increasing; keys from dedup_doc: exact hash, whether it
 * has tokens, compact signature csig, and its sorted shingle set for VERIFY_EXACT) against the kept
 * records, and keeps it (gives it the next slot, 0, 1, ...) when it is not a duplicate. An empty record
 * is kept without a slot. Exact duplicates are looked for first; among the kept records that share a band
 * and pass verification, the lowest seq is the keeper. */
void dedup_index_add(dedup_index *x, uint64_t seq, const uint64_t exact[2], int empty, int has_tokens,
                     const uint8_t *csig, const uint32_t *shingles, size_t nshingles, dedup_decision *out);
/* Kept records, and the bytes the index holds for them: band tables, compact signatures and the exact-hash
 * table (*bytes_index), and the exact shingle sets kept for --verify exact (*bytes_shingles). */
uint64_t dedup_index_kept(const dedup_index *x);
void dedup_index_memory(const dedup_index *x, uint64_t *bytes_index, uint64_t *bytes_shingles);

/* ---- signature files (sigfile.c: the only code that reads or writes them) ------------------------- */

/* What ft-dedup sign records for one input record. */
enum { SIG_DOC = 0, SIG_NOTOK = 1, SIG_EMPTY = 2, SIG_REJECT = 3 };
typedef struct {
    int kind;                 /* SIG_*: with tokens, without tokens (exact only), empty, unparsable */
    uint64_t line;            /* line number in the shard */
    uint64_t exact[2];
    const uint8_t *csig;      /* (compact size) for SIG_DOC; borrowed */
    const char *id;           /* conversation_id as compact JSON, id_len bytes (0: none); borrowed */
    uint32_t id_len;
    const uint32_t *shingles; /* (nshingles) sorted unique, with VERIFY_EXACT; borrowed */
    uint32_t nshingles;
} dedup_sigrec;

typedef struct dedup_sigwriter dedup_sigwriter;
/* Writes the header to f (borrowed); name (the shard's name, borrowed) is stored in it. */
dedup_sigwriter *dedup_sigwriter_new(FILE *f, const dedup_params *p, const char *name);
void dedup_sigwriter_add(dedup_sigwriter *w, const dedup_sigrec *r);
/* Writes the footer (record count, the input's checksum, the file's checksum) and frees w.
 * Returns 0 or FT_EIO when a write failed. */
int dedup_sigwriter_finish(dedup_sigwriter *w, uint64_t input_checksum);
void dedup_sigwriter_free(dedup_sigwriter *w);

typedef struct dedup_sigfile dedup_sigfile;
/* dedup_sigfile_parse: validates a whole signature file in data[0..len) (8-byte aligned, borrowed for the
 * handle's life): magic, version, sizes, every record's bounds, count and checksum. Returns 0 and a heap
 * handle, or FT_EFORMAT with *why naming the problem (static string), FT_ENOMEM. */
int dedup_sigfile_parse(const void *data, size_t len, dedup_sigfile **out, const char **why);
/* dedup_sigfile_open: maps path and parses it. FT_EIO (errno set) when it cannot be read. */
int dedup_sigfile_open(const char *path, dedup_sigfile **out, const char **why);
void dedup_sigfile_free(dedup_sigfile *f);
const dedup_params *dedup_sigfile_params(const dedup_sigfile *f);
const char *dedup_sigfile_name(const dedup_sigfile *f); /* NUL-terminated copy owned by f */
uint64_t dedup_sigfile_count(const dedup_sigfile *f);
uint64_t dedup_sigfile_input_checksum(const dedup_sigfile *f);
/* Record i (< count); pointers borrow from the file's data. */
void dedup_sigfile_record(const dedup_sigfile *f, uint64_t i, dedup_sigrec *out);

/* ---- scale-out: cluster and the duplicate list (cluster.c) -------------------------------------- */

enum { DECIDE_REJECT = 4 };
/* Decisions for all records of the shards, numbered globally (shard order, then record order). */
typedef struct {
    uint64_t n;
    uint8_t *kind;     /* (n) DECIDE_* */
    uint64_t *dup_of;  /* (n) global number of the keeper (EXACT, NEAR) */
    double *sim;       /* (n) */
    uint64_t *base;    /* (nfiles + 1) global number of each shard's first record */
    size_t nfiles;
    uint64_t pairs, verified; /* candidate pairs looked at, and those that passed */
} dedup_clustering;

/* dedup_cluster: the same decisions streaming mode makes, computed band by band from the shards'
 * signature files (all made with params p). Returns 0 or FT_ENOMEM. */
int dedup_cluster(dedup_sigfile *const *files, size_t nfiles, const dedup_params *p, dedup_clustering *out);
void dedup_clustering_release(dedup_clustering *c);
/* Shard and record number within it of global record g. */
void dedup_clustering_locate(const dedup_clustering *c, uint64_t g, size_t *file, uint64_t *rec);

/* The duplicate list (JSONL): one line per shard {"shard": name, "records": n, "checksum": hex}, then one per
 * dropped record {"shard": k, "index": i, "global": g, "kind": ..., "similarity": s, "dup_of": id,
 * "dup_of_index": g, "dup_of_where": "name:line"}. Returns 0 or FT_EIO. */
int dedup_list_write(FILE *f, dedup_sigfile *const *files, const dedup_clustering *c);

/* One dropped record of the list, for ft-dedup filter. */
typedef struct {
    uint64_t index, global, dup_of_index;
    int kind; /* DECIDE_EXACT or DECIDE_NEAR */
    double similarity;
    char *dup_of;       /* compact JSON, owned */
    char *dup_of_where; /* owned */
} dedup_drop;
/* dedup_list_read: the drops for the shard called name, sorted by index, with the shard's record count
 * and checksum. Returns 0, FT_EIO, or FT_EPARSE / FT_EFORMAT with *why (static string) and *line. A list
 * without the shard is FT_EFORMAT. */
int dedup_list_read(const char *path, const char *name, dedup_drop **drops, size_t *ndrops, uint64_t *records,
                    uint64_t *checksum, const char **why, uint64_t *line);
void dedup_drops_free(dedup_drop *d, size_t n);

#endif
