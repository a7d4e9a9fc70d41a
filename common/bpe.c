/* bpe.c: the byte-level BPE model: a byte-string -> id table, a pair -> (rank, result) table, and the
 * merge of one word as a binary heap of candidate pairs over a linked list of its parts.
 * Rule: a heap entry remembers the two ids it was made for and is dropped when popped if either has
 * changed since, so nothing is ever rescanned; repeated words come from a per-thread cache. */
#include "bpe.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "utf8.h"

#define NO_ID UINT32_MAX
#define EMPTY_PAIR UINT64_MAX

/* Per-thread cache of word -> ids, direct-mapped: one 64-byte entry per slot, for words of at most
 * CACHE_KEY bytes that encode to at most CACHE_IDS ids. */
#define CACHE_BITS 14
#define CACHE_KEY 30
#define CACHE_IDS 8
typedef struct {
    uint8_t klen, nids; /* klen 0: empty */
    char key[CACHE_KEY];
    uint32_t ids[CACHE_IDS];
} cache_entry;
typedef struct {
    cache_entry e[1u << CACHE_BITS];
} word_cache;

typedef struct {
    uint64_t key; /* left << 32 | right, EMPTY_PAIR when free */
    uint32_t rank, result;
} pair_slot;

struct ft_bpe {
    uint32_t n_ids, cap;   /* ids are < n_ids; arrays below have cap entries */
    uint32_t *off, *len;   /* the token's bytes are arena.data[off .. off + len); len 0: no token */
    uint8_t *tflags;       /* FT_BPE_ADDED */
    ft_buf arena;
    uint32_t *slots;       /* vocabulary tokens by their bytes: id + 1, 0 = free */
    size_t slot_mask, n_vocab;
    pair_slot *pairs;
    size_t pair_mask, n_pairs;
    uint32_t byte_id[256]; /* the single-byte tokens */
    unsigned flags;
    ft_pretok_fn split;
    pthread_key_t cache_key;
    int has_key;
};

/* GPT-2's alphabet: bytes 0x21-0x7E, 0xA1-0xAC and 0xAE-0xFF are their own code points; the 68 others, in
 * byte order (0x00-0x20, 0x7F-0xA0, 0xAD), are U+0100 onwards. */
int32_t ft_bpe_byte_char(uint8_t b) {
    if (b <= 0x20) return 0x100 + b;
    if (b >= 0x7F && b <= 0xA0) return 0x100 + 33 + (b - 0x7F);
    if (b == 0xAD) return 0x100 + 33 + 34;
    return b;
}

int ft_bpe_char_byte(int32_t cp) {
    if ((cp >= 0x21 && cp <= 0x7E) || (cp >= 0xA1 && cp <= 0xFF && cp != 0xAD)) return cp;
    if (cp >= 0x100 && cp < 0x100 + 33) return cp - 0x100;
    if (cp >= 0x100 + 33 && cp < 0x100 + 67) return cp - 0x100 - 33 + 0x7F;
    if (cp == 0x100 + 67) return 0xAD;
    return -1;
}

int ft_bpe_unmap(const char *s, size_t n, ft_buf *out) {
    if (ft_utf8_check(s, n) != n) return FT_EPARSE;
    for (size_t i = 0; i < n;) {
        int32_t cp;
        i += (size_t)ft_utf8_decode(s + i, n - i, &cp);
        int b = ft_bpe_char_byte(cp);
        if (b < 0) return FT_EPARSE;
        ft_buf_addc(out, (char)b);
    }
    return 0;
}

void ft_bpe_map(const char *s, size_t n, ft_buf *out) {
    ft_buf_reserve(out, 2 * n);
    for (size_t i = 0; i < n; i++) {
        char u[4];
        ft_buf_add(out, u, (size_t)ft_utf8_encode(ft_bpe_byte_char((uint8_t)s[i]), u));
    }
}

int ft_bpe_new(ft_bpe **out) {
    *out = NULL;
    ft_bpe *b = calloc(1, sizeof *b);
    if (!b) return FT_ENOMEM;
    ft_buf_init(&b->arena);
    *out = b;
    return 0;
}

void ft_bpe_free(ft_bpe *b) {
    if (!b) return;
    if (b->has_key) {
        free(pthread_getspecific(b->cache_key)); /* this thread's; finished threads freed theirs */
        pthread_key_delete(b->cache_key);
    }
    free(b->off);
    free(b->len);
    free(b->tflags);
    ft_buf_release(&b->arena);
    free(b->slots);
    free(b->pairs);
    free(b);
}

uint32_t ft_bpe_id_limit(const ft_bpe *b) { return b->n_ids; }

const char *ft_bpe_token(const ft_bpe *b, uint32_t id, size_t *len, unsigned *flags) {
    if (id >= b->n_ids || b->len[id] == 0) return NULL;
    *len = b->len[id];
    if (flags) *flags = b->tflags[id];
    return b->arena.data + b->off[id];
}

/* The byte-string table: open addressing on XXH3 of the bytes, kept at most half full. */
static size_t slot_of(const ft_bpe *b, const char *s, size_t n) {
    size_t h = XXH3_64bits(s, n) & b->slot_mask;
    for (; b->slots[h]; h = (h + 1) & b->slot_mask) {
        uint32_t id = b->slots[h] - 1;
        if (b->len[id] == n && memcmp(b->arena.data + b->off[id], s, n) == 0) break;
    }
    return h;
}

int64_t ft_bpe_token_id(const ft_bpe *b, const char *s, size_t n) {
    if (!b->slots || n == 0) return -1;
    uint32_t v = b->slots[slot_of(b, s, n)];
    return v ? (int64_t)v - 1 : -1;
}

static int slots_grow(ft_bpe *b) {
    size_t cap = b->slots ? 2 * (b->slot_mask + 1) : 1024;
    uint32_t *old = b->slots;
    size_t old_cap = old ? b->slot_mask + 1 : 0;
    b->slots = calloc(cap, sizeof *b->slots);
    if (!b->slots) {
        b->slots = old;
        return FT_ENOMEM;
    }
    b->slot_mask = cap - 1;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i]) continue;
        uint32_t id = old[i] - 1;
        b->slots[slot_of(b, b->arena.data + b->off[id], b->len[id])] = old[i];
    }
    free(old);
    return 0;
}

static int ids_grow(ft_bpe *b, uint32_t need) {
    uint32_t cap = b->cap ? b->cap : 1024;
    while (cap < need) cap *= 2;
    uint32_t *off = realloc(b->off, cap * sizeof *off);
    if (off) b->off = off;
    uint32_t *len = off ? realloc(b->len, cap * sizeof *len) : NULL;
    if (len) b->len = len;
    uint8_t *fl = len ? realloc(b->tflags, cap) : NULL;
    if (!fl) return FT_ENOMEM;
    b->tflags = fl;
    memset(b->len + b->cap, 0, (cap - b->cap) * sizeof *b->len);
    memset(b->tflags + b->cap, 0, cap - b->cap);
    b->cap = cap;
    return 0;
}

int ft_bpe_add_token(ft_bpe *b, uint32_t id, const char *s, size_t n, unsigned flags) {
    if (id >= FT_BPE_MAX_ID || n >= UINT32_MAX / 2 || b->arena.len > UINT32_MAX / 2) return FT_ERANGE;
    if (n == 0) return FT_EINVAL;
    if (id >= b->cap) FT_TRY(ids_grow(b, id + 1));
    if (b->len[id]) return FT_EINVAL;
    if (!(flags & FT_BPE_ADDED)) {
        if (2 * (b->n_vocab + 1) > (b->slots ? b->slot_mask + 1 : 0)) FT_TRY(slots_grow(b));
        size_t h = slot_of(b, s, n);
        if (b->slots[h]) return FT_EINVAL;
        b->slots[h] = id + 1;
        b->n_vocab++;
    }
    b->off[id] = (uint32_t)b->arena.len;
    b->len[id] = (uint32_t)n;
    b->tflags[id] = (uint8_t)flags;
    ft_buf_add(&b->arena, s, n);
    if (id >= b->n_ids) b->n_ids = id + 1;
    return 0;
}

/* The pair table: open addressing on a multiplicative hash of left << 32 | right, at most half full. */
static inline size_t pair_hash(uint64_t key, size_t mask) {
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

static inline const pair_slot *pair_find(const ft_bpe *b, uint32_t left, uint32_t right) {
    uint64_t key = (uint64_t)left << 32 | right;
    for (size_t h = pair_hash(key, b->pair_mask);; h = (h + 1) & b->pair_mask) {
        const pair_slot *p = &b->pairs[h];
        if (p->key == key) return p;
        if (p->key == EMPTY_PAIR) return NULL;
    }
}

static int pairs_grow(ft_bpe *b) {
    size_t old_cap = b->pairs ? b->pair_mask + 1 : 0, cap = old_cap ? 2 * old_cap : 4096;
    pair_slot *old = b->pairs, *p = malloc(cap * sizeof *p);
    if (!p) return FT_ENOMEM;
    for (size_t i = 0; i < cap; i++) p[i].key = EMPTY_PAIR;
    b->pairs = p;
    b->pair_mask = cap - 1;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].key == EMPTY_PAIR) continue;
        size_t h = pair_hash(old[i].key, b->pair_mask);
        while (p[h].key != EMPTY_PAIR) h = (h + 1) & b->pair_mask;
        p[h] = old[i];
    }
    free(old);
    return 0;
}

/* Adds left+right -> result at rank unless the pair is there already. */
static int pair_put(ft_bpe *b, uint32_t left, uint32_t right, uint32_t rank, uint32_t result) {
    if (2 * (b->n_pairs + 1) > (b->pairs ? b->pair_mask + 1 : 0)) FT_TRY(pairs_grow(b));
    uint64_t key = (uint64_t)left << 32 | right;
    size_t h = pair_hash(key, b->pair_mask);
    for (; b->pairs[h].key != EMPTY_PAIR; h = (h + 1) & b->pair_mask)
        if (b->pairs[h].key == key) return 0;
    b->pairs[h] = (pair_slot){key, rank, result};
    b->n_pairs++;
    return 0;
}

static int is_vocab(const ft_bpe *b, uint32_t id) {
    return id < b->n_ids && b->len[id] && !(b->tflags[id] & FT_BPE_ADDED);
}

int ft_bpe_add_merge(ft_bpe *b, uint32_t left, uint32_t right, uint32_t rank) {
    if (!is_vocab(b, left) || !is_vocab(b, right)) return FT_EINVAL;
    size_t nl = b->len[left], nr = b->len[right];
    char stack[256], *joined = nl + nr <= sizeof stack ? stack : malloc(nl + nr);
    if (!joined) return FT_ENOMEM;
    memcpy(joined, b->arena.data + b->off[left], nl);
    memcpy(joined + nl, b->arena.data + b->off[right], nr);
    int64_t result = ft_bpe_token_id(b, joined, nl + nr);
    if (joined != stack) free(joined);
    if (result < 0) return FT_EINVAL;
    return pair_put(b, left, right, rank, (uint32_t)result);
}

int ft_bpe_merges_from_ranks(ft_bpe *b) {
    for (uint32_t id = 0; id < b->n_ids; id++) {
        if (!is_vocab(b, id) || b->len[id] < 2) continue;
        const char *s = b->arena.data + b->off[id];
        size_t n = b->len[id];
        for (size_t k = 1; k < n; k++) {
            int64_t l = ft_bpe_token_id(b, s, k);
            if (l < 0) continue;
            int64_t r = ft_bpe_token_id(b, s + k, n - k);
            if (r >= 0) FT_TRY(pair_put(b, (uint32_t)l, (uint32_t)r, id, id));
        }
    }
    return 0;
}

static void cache_free(void *c) { free(c); }

int ft_bpe_finish(ft_bpe *b, unsigned flags, ft_pretok_fn split) {
    for (int c = 0; c < 256; c++) {
        char ch = (char)c;
        int64_t id = ft_bpe_token_id(b, &ch, 1);
        if (id < 0) return FT_EINVAL;
        b->byte_id[c] = (uint32_t)id;
    }
    if (!b->pairs) FT_TRY(pairs_grow(b));
    b->flags = flags;
    b->split = split;
    if (!b->has_key) {
        if (pthread_key_create(&b->cache_key, cache_free) != 0) return FT_ENOMEM;
        b->has_key = 1;
    }
    return 0;
}

/* A binary min-heap of candidate merges keyed by rank << 32 | position (leftmost first on equal ranks). */
typedef struct {
    uint64_t key;
    uint32_t left, right; /* the ids the pair had when pushed */
    uint32_t result;
} cand;

static void heap_push(cand *h, size_t *n, cand c) {
    size_t i = (*n)++;
    while (i > 0 && h[(i - 1) / 2].key > c.key) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = c;
}

static cand heap_pop(cand *h, size_t *n) {
    cand top = h[0], last = h[--*n];
    size_t i = 0, m = *n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m) break;
        if (c + 1 < m && h[c + 1].key < h[c].key) c++;
        if (h[c].key >= last.key) break;
        h[i] = h[c];
        i = c;
    }
    if (m) h[i] = last;
    return top;
}

/* The parts of a word being merged: ids and links by byte position; a merged part lives at its left
 * position, the right one is marked NO_ID. */
#define WORD_STACK 64
static void push_pair(const ft_bpe *b, cand *heap, size_t *nh, const uint32_t *id, uint32_t at,
                      uint32_t next) {
    const pair_slot *p = pair_find(b, id[at], id[next]);
    if (p) heap_push(heap, nh, (cand){(uint64_t)p->rank << 32 | at, id[at], id[next], p->result});
}

void ft_bpe_encode_word(const ft_bpe *b, const char *w, size_t n, ft_ids *out) {
    if (n == 1) {
        ft_ids_push(out, b->byte_id[(uint8_t)w[0]]);
        return;
    }
    if (b->flags & FT_BPE_WHOLE_WORDS) {
        int64_t whole = ft_bpe_token_id(b, w, n);
        if (whole >= 0) {
            ft_ids_push(out, (uint32_t)whole);
            return;
        }
    }
    uint32_t id_s[WORD_STACK], next_s[WORD_STACK], prev_s[WORD_STACK];
    cand heap_s[3 * WORD_STACK];
    uint32_t *id = id_s, *next = next_s, *prev = prev_s;
    cand *heap = heap_s;
    if (n > WORD_STACK) {
        id = ft_xmalloc(3 * n * sizeof *id);
        next = id + n;
        prev = next + n;
        heap = ft_xmalloc(3 * n * sizeof *heap);
    }
    size_t nh = 0;
    for (size_t i = 0; i < n; i++) {
        id[i] = b->byte_id[(uint8_t)w[i]];
        next[i] = i + 1 < n ? (uint32_t)i + 1 : NO_ID;
        prev[i] = i ? (uint32_t)i - 1 : NO_ID;
    }
    for (size_t i = 0; i + 1 < n; i++) push_pair(b, heap, &nh, id, (uint32_t)i, (uint32_t)i + 1);
    while (nh) {
        cand c = heap_pop(heap, &nh);
        uint32_t at = (uint32_t)c.key, nx = next[at];
        if (id[at] != c.left || nx == NO_ID || id[nx] != c.right) continue; /* stale */
        id[at] = c.result;
        id[nx] = NO_ID;
        next[at] = next[nx];
        if (next[at] != NO_ID) prev[next[at]] = at;
        if (prev[at] != NO_ID) push_pair(b, heap, &nh, id, prev[at], at);
        if (next[at] != NO_ID) push_pair(b, heap, &nh, id, at, next[at]);
    }
    for (uint32_t i = 0; i != NO_ID; i = next[i]) ft_ids_push(out, id[i]);
    if (id != id_s) {
        free(id);
        free(heap);
    }
}

static word_cache *cache_get(const ft_bpe *b) {
    word_cache *c = pthread_getspecific(b->cache_key);
    if (!c) {
        c = calloc(1, sizeof *c);
        if (c && pthread_setspecific(b->cache_key, c) != 0) {
            free(c);
            c = NULL;
        }
    }
    return c; /* NULL: encode without a cache */
}

static void encode_cached(const ft_bpe *b, word_cache *c, const char *w, size_t n, ft_ids *out) {
    if (!c || n < 2 || n > CACHE_KEY) {
        ft_bpe_encode_word(b, w, n, out);
        return;
    }
    cache_entry *e = &c->e[XXH3_64bits(w, n) & ((1u << CACHE_BITS) - 1)];
    if (e->klen == n && memcmp(e->key, w, n) == 0) {
        ft_ids_append(out, e->ids, e->nids);
        return;
    }
    size_t start = out->n;
    ft_bpe_encode_word(b, w, n, out);
    size_t k = out->n - start;
    if (k <= CACHE_IDS) {
        e->klen = (uint8_t)n;
        e->nids = (uint8_t)k;
        memcpy(e->key, w, n);
        memcpy(e->ids, out->v + start, k * sizeof *e->ids);
    }
}

/* NFC of each valid stretch of s; every invalid byte is copied as it is. */
static int nfc_stretches(const char *s, size_t n, ft_buf *out) {
    for (;;) {
        size_t k = ft_utf8_check(s, n);
        int rc = ft_utf8_nfc(s, k, out);
        if (rc < 0) return rc;
        if (k == n) return 0;
        ft_buf_addc(out, s[k]);
        s += k + 1;
        n -= k + 1;
    }
}

int ft_bpe_encode(const ft_bpe *b, const char *text, size_t len, ft_ids *out) {
    if (len == 0) return 0;
    ft_buf norm;
    ft_buf_init(&norm);
    if (b->flags & FT_BPE_NFC) {
        int rc = nfc_stretches(text, len, &norm);
        if (rc < 0) {
            ft_buf_release(&norm);
            return rc;
        }
        text = norm.data;
        len = norm.len;
    }
    word_cache *c = cache_get(b);
    for (size_t i = 0; i < len;) {
        size_t l = b->split(text + i, len - i);
        encode_cached(b, c, text + i, l, out);
        i += l;
    }
    ft_buf_release(&norm);
    return 0;
}

int ft_bpe_decode(const ft_bpe *b, const uint32_t *ids, size_t n, ft_buf *out) {
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *s = ft_bpe_token(b, ids[i], &len, NULL);
        if (!s) return FT_ERANGE;
        ft_buf_add(out, s, len);
    }
    return 0;
}
