/* filters.c: per-message quality filters for ft-clean.
 * Rule: each filter is a pure function of (options, text) that returns a measured value; the thresholds
 * and the defaults (see clean_opts_default in record.c and docs/ft-clean.md) decide. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "clean.h"
#include "utf8.h"

static int is_cjk(int32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2FA1F) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0xAC00 && cp <= 0xD7A3);
}

/* Special characters: non-ASCII symbols (math, currency, modifier, other: emoji, box drawing, dingbats),
 * private-use, unassigned and surrogate code points, and U+FFFD. ASCII operators are not special, so
 * code and arithmetic pass. */
static int is_special(int32_t cp) {
    if (cp < 0x80) return 0;
    if (cp == 0xFFFD) return 1;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_SM:
    case UTF8PROC_CATEGORY_SC:
    case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CS: return 1;
    default: return 0;
    }
}

/* Sentence ends (see sentence_repeat): '\n' '!' '?' ';' in ASCII, and 。！？； (U+3002 U+FF01 U+FF1F
 * U+FF1B); '.' ends one only before a space, a newline or the end of the text. */
static int is_sentence_end(int32_t cp) {
    return cp == '\n' || cp == '!' || cp == '?' || cp == ';' || cp == '.' || cp == 0x3002 || cp == 0xFF01 ||
           cp == 0xFF1F || cp == 0xFF1B;
}

/* What the filters ask of a code point, for the BMP in one table built once (the category lookup is
 * the costly part of a scan); past the BMP the functions above answer. */
enum { CLS_CJK = 1, CLS_SPECIAL = 2, CLS_END = 4, CLS_LETTER = 8 };
static uint8_t g_cls[0x10000];
static pthread_once_t g_cls_once = PTHREAD_ONCE_INIT;

static void build_cls(void) {
    for (int32_t cp = 0; cp < 0x10000; cp++)
        g_cls[cp] = (uint8_t)((is_cjk(cp) ? CLS_CJK : 0) | (is_special(cp) ? CLS_SPECIAL : 0) |
                              (is_sentence_end(cp) ? CLS_END : 0) |
                              (cp < 0x80 && (cp | 32) >= 'a' && (cp | 32) <= 'z' ? CLS_LETTER : 0));
}

static inline unsigned cls_of(int32_t cp) {
    if (cp < 0x10000) return g_cls[cp];
    return (is_cjk(cp) ? CLS_CJK : 0) | (is_special(cp) ? CLS_SPECIAL : 0);
}

/* What one pass over a message learns: its code points, the counts the filters need and, when asked,
 * where sentences may end. */
typedef struct {
    size_t k;          /* code points */
    size_t cjk, latin; /* CJK characters, ASCII letters: they choose the repetition n-gram */
    size_t special;    /* is_special code points */
    size_t nends;      /* positions in c->ends of the code points that may end a sentence */
} scan;

static const uint64_t ONES = 0x0101010101010101ull, HIGHS = 0x8080808080808080ull;

/* ASCII letters among 8 ASCII bytes: (b | 0x20) in 'a'..'z', a byte at a time in parallel (no byte can
 * carry into the next: every one is < 0x80 and the additions stay below 0x100). */
static inline size_t letters8(uint64_t w) {
    uint64_t x = w | (0x20 * ONES);
    uint64_t ge_a = x + (0x80 - 'a') * ONES, gt_z = x + (0x80 - 'z' - 1) * ONES;
    return (size_t)((((ge_a & ~gt_z & HIGHS) >> 7) * ONES) >> 56);
}

static inline void widen16(int32_t *restrict d, const unsigned char *restrict s) {
    for (int j = 0; j < 16; j++) d[j] = s[j];
}

typedef unsigned char v16 __attribute__((vector_size(16)));

/* The code point of a well-formed 3-byte sequence at s (3 bytes readable), or -1. */
static inline int32_t decode3(const unsigned char *s) {
    if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return -1;
    int32_t cp = (int32_t)(((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu));
    return cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF) ? cp : -1;
}

/* Decodes s into the context's code point scratch (as ft_utf8_decode would: an invalid byte is one
 * U+FFFD) and counts on the way; with ends, also lists in c->ends the positions of is_sentence_end code
 * points. ASCII goes 16 bytes at a time; well-formed 2- and 3-byte sequences are decoded inline; the
 * rest by ft_utf8_decode. */
static const int32_t *decode_all(clean_ctx *c, const char *str, size_t n, int ends, scan *sc) {
    if (c->cps_cap < n + 1) {
        c->cps_cap = n + 1 + n / 2;
        free(c->cps), free(c->ends);
        c->cps = ft_xmalloc(c->cps_cap * sizeof *c->cps);
        c->ends = ft_xmalloc(c->cps_cap * sizeof *c->ends);
    }
    pthread_once(&g_cls_once, build_cls);
    const unsigned char *s = (const unsigned char *)str;
    int32_t *cps = c->cps;
    uint32_t *end = c->ends;
    size_t k = 0, i = 0, cjk = 0, latin = 0, special = 0, ne = 0;
    v16 nl, bang, ques, semi, dot;
    memset(&nl, '\n', 16), memset(&bang, '!', 16), memset(&ques, '?', 16), memset(&semi, ';', 16);
    memset(&dot, '.', 16);
    while (i < n) {
        if (n - i >= 16) { /* 16 ASCII bytes at a time */
            uint64_t w[2];
            memcpy(w, s + i, 16);
            if (!((w[0] | w[1]) & HIGHS)) {
                widen16(cps + k, s + i);
                latin += letters8(w[0]) + letters8(w[1]);
                if (ends) {
                    v16 v, m;
                    memcpy(&v, s + i, 16);
                    m = (v16)((v == nl) | (v == bang) | (v == ques) | (v == semi) | (v == dot));
                    uint64_t mm[2];
                    memcpy(mm, &m, 16);
                    if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__ && (mm[0] | mm[1])) {
                        for (size_t j = 0; j < 16; j++)
                            if (g_cls[s[i + j]] & CLS_END) end[ne++] = (uint32_t)(k + j);
                    } else {
                        for (size_t h = 0; h < 2; h++) /* a matching byte is 0xFF: one bit of it marks it */
                            for (uint64_t x = mm[h] & ONES; x; x &= x - 1)
                                end[ne++] = (uint32_t)(k + 8 * h + ((size_t)__builtin_ctzll(x) >> 3));
                    }
                }
                k += 16, i += 16;
                continue;
            }
        }
        /* one code point, then the multibyte ones that follow it */
        do {
            int32_t cp;
            unsigned ch = s[i];
            if (ch < 0x80) {
                cp = (int32_t)ch, i++;
            } else if (ch >= 0xE0 && ch < 0xF0 && n - i >= 3 && (cp = decode3(s + i)) >= 0) {
                i += 3;
            } else if (ch >= 0xC2 && ch < 0xE0 && n - i >= 2 && (s[i + 1] & 0xC0) == 0x80) {
                cp = (int32_t)(((ch & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu));
                i += 2;
            } else {
                i += (size_t)ft_utf8_decode(str + i, n - i, &cp);
            }
            unsigned cl = cls_of(cp);
            cjk += cl & CLS_CJK;
            special += (cl >> 1) & 1;
            latin += (cl >> 3) & 1;
            if (ends && (cl & CLS_END)) end[ne++] = (uint32_t)k;
            cps[k++] = cp;
        } while (i < n && s[i] >= 0x80);
    }
    sc->k = k, sc->cjk = cjk, sc->latin = latin, sc->special = special, sc->nends = ne;
    return cps;
}

static uint64_t mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

#define GOLDEN 0x9E3779B97F4A7C15ull

/* Grows a scratch array to hold n elements of size sz (contents not kept). */
static void *grow(void *p, size_t *cap, size_t n, size_t sz) {
    if (*cap >= n) return p;
    free(p);
    *cap = n + n / 2;
    return ft_xmalloc(*cap * sz);
}

/* Open-addressing counter of nonzero 64-bit keys in the context's scratch, linear probing, at most a
 * quarter full. Between uses every slot is zero (key and count): table_done clears the ones used, so a
 * small message after a large one touches only the first cap slots, and counting needs no branch on
 * whether a key is new. */
typedef struct {
    struct clean_slot *tab;
    uint32_t *slots; /* positions in use, in insertion order */
    size_t n, mask;
    unsigned shift;  /* key -> slot: (key * GOLDEN) >> shift */
} table;

static table table_init(clean_ctx *c, size_t expect) {
    size_t cap = 64;
    unsigned shift = 64 - 6;
    while (cap < 4 * expect + 4) cap <<= 1, shift--;
    if (c->tab_cap < cap) {
        free(c->tab), free(c->slots);
        c->tab = calloc(cap, sizeof *c->tab);
        if (!c->tab) ft_assert_fail("n-gram table allocation", __FILE__, __LINE__);
        c->slots = ft_xmalloc(cap * sizeof *c->slots);
        c->tab_cap = cap;
    }
    return (table){c->tab, c->slots, 0, cap - 1, shift};
}

static void table_done(table *t) {
    for (size_t j = 0; j < t->n; j++) t->tab[t->slots[j]] = (struct clean_slot){0, 0};
    t->n = 0;
}

/* Counts key (nonzero); returns 1 when it was new. */
static inline int table_add(table *t, uint64_t key) {
    size_t i = (size_t)((key * GOLDEN) >> t->shift);
    while (t->tab[i].key != key && t->tab[i].key) i = (i + 1) & t->mask;
    int fresh = !t->tab[i].key;
    t->tab[i].key = key;
    t->tab[i].cnt++;
    t->slots[t->n] = (uint32_t)i;
    t->n += (size_t)fresh;
    return fresh;
}

/* Whether at least need of the total = k - n + 1 n-grams are distinct, by a lower bound: the bits that a
 * cheap hash of each n-gram sets in a bitmap of at least 16 bits per n-gram. Equal n-grams set the same
 * bit, so no more bits are set than there are distinct n-grams, whatever the hash (a poor one only
 * lowers the bound). The hash is a cyclic polynomial (buzhash) over multiplicative hashes of the code
 * points: two cheap operations from one n-gram's hash to the next. The count only grows: it stops as
 * soon as need is reached. */
static int distinct_at_least(clean_ctx *c, const int32_t *cps, size_t k, int ngram, size_t need) {
    size_t total = k - (size_t)ngram + 1, nbits = 1024, lower = 0;
    unsigned shift = 64 - 10, rot = (unsigned)ngram & 63;
    while (nbits < 16 * total) nbits <<= 1, shift--;
    c->seen = grow(c->seen, &c->seen_cap, nbits / 8, 1);
    uint64_t *bits = (uint64_t *)(void *)c->seen; /* grow's malloc is aligned for any type */
    memset(bits, 0, nbits / 8);
#define CP_HASH(cp) (((uint64_t)(uint32_t)(cp) + 1) * 0xD6E8FEB86659FD93ull)
#define ROTL(x, r) ((r) ? ((x) << (r) | (x) >> ((64 - (r)) & 63)) : (x))
    uint64_t h = 0, ring[64]; /* ring: the code point hashes of the window, ROTL'd out of it */
    size_t i = 0;
    for (; i < (size_t)ngram; i++) {
        ring[i & 63] = CP_HASH(cps[i]);
        h = ROTL(h, 1) ^ ring[i & 63];
    }
    i--; /* the first n-gram ends at i */
    for (;;) {
        /* a block of up to 64 n-grams between checks keeps the loop free of the test */
        size_t stop = i + 64 < k ? i + 64 : k;
        for (;;) {
            uint64_t b = h >> shift, m = 1ull << (b & 63);
            lower += !(bits[b >> 6] & m);
            bits[b >> 6] |= m;
            if (++i >= stop) break;
            uint64_t in = CP_HASH(cps[i]), out = ring[(i - (size_t)ngram) & 63];
            ring[i & 63] = in;
            h = ROTL(h, 1) ^ ROTL(out, rot) ^ in;
        }
        if (lower >= need) return 1;
        if (i >= k) return 0;
        uint64_t in = CP_HASH(cps[i]), out = ring[(i - (size_t)ngram) & 63];
        ring[i & 63] = in;
        h = ROTL(h, 1) ^ ROTL(out, rot) ^ in;
    }
#undef CP_HASH
#undef ROTL
}

/* Counts the character n-grams of cps in t; returns how many are distinct. Up to 3 code points (21 bits
 * each) an n-gram is its own key, exactly; longer ones are a rolling hash H = sum m(cp[i+j]) * P^(n-1-j)
 * over mixed code points, so each position costs O(1). */
static size_t count_ngrams(table *t, const int32_t *cps, size_t k, int ngram) {
    size_t distinct = 0;
    if (ngram <= 3) {
        const uint64_t keep = ngram == 3 ? (1ull << 63) - 1 : (1ull << (21 * ngram)) - 1;
        uint64_t key = 0;
        size_t i = 0;
        for (; i + 1 < (size_t)ngram; i++) key = (key << 21) | (uint32_t)cps[i];
        for (; i < k; i++) {
            key = ((key << 21) | (uint32_t)cps[i]) & keep;
            distinct += (size_t)table_add(t, key | (1ull << 63));
        }
    } else {
        const uint64_t P = 0x100000001B3ull;
        uint64_t ring[64], pn = 1, h = 0; /* ring: the mixed code points of the current window */
        for (int j = 0; j < ngram - 1; j++) pn *= P;
        for (size_t i = 0; i < k; i++) {
            uint64_t m = mix((uint64_t)(uint32_t)cps[i] + 1);
            if (i >= (size_t)ngram) h -= ring[(i - (size_t)ngram) & 63] * pn;
            ring[i & 63] = m;
            h = h * P + m;
            if (i + 1 >= (size_t)ngram) distinct += (size_t)table_add(t, h | 1);
        }
    }
    return distinct;
}

/* data-juicer's character_repetition_filter ratio: over all character n-grams, the share of occurrences
 * taken by the floor(sqrt(distinct)) most frequent ones (only n-grams seen more than once count), from
 * the exact counts; *max_freq: the highest count (0 without n-grams). */
static double rep_ratio(clean_ctx *c, const int32_t *cps, size_t k, int ngram, uint32_t *max_freq) {
    *max_freq = 0;
    if (k < (size_t)ngram) return 0;
    size_t total = k - (size_t)ngram + 1;
    table t = table_init(c, total);
    size_t distinct = count_ngrams(&t, cps, k, ngram);
    /* histogram of frequencies > 1, then the top floor(sqrt(distinct)) from the highest down */
    uint32_t maxf = 1;
    size_t rep = 0;
    for (size_t j = 0; j < t.n; j++) {
        uint32_t f = t.tab[t.slots[j]].cnt;
        rep += f > 1;
        maxf = f > maxf ? f : maxf;
    }
    uint64_t sum = 0;
    if (rep) {
        c->hist = grow(c->hist, &c->hist_cap, (size_t)maxf + 1, sizeof *c->hist);
        memset(c->hist, 0, ((size_t)maxf + 1) * sizeof *c->hist);
        for (size_t j = 0; j < t.n; j++) c->hist[t.tab[t.slots[j]].cnt]++;
        size_t top = (size_t)sqrt((double)distinct);
        if (top > rep) top = rep;
        for (uint32_t f = maxf; f > 1 && top; f--) {
            size_t take = c->hist[f] < top ? c->hist[f] : top;
            sum += (uint64_t)take * f;
            top -= take;
        }
    }
    table_done(&t);
    *max_freq = maxf;
    return (double)sum / (double)total;
}

/* Whether rep_ratio exceeds max (then *ratio holds it). The top K frequencies sum to at most K + total -
 * distinct (each is 1 plus its repeats), so when that bound, with distinct_at_least, is within max the
 * counting is skipped: text that is not repetitive costs one cheap pass. *counted says whether
 * rep_ratio ran, and so whether *max_freq is set. */
static int rep_exceeds(clean_ctx *c, const int32_t *cps, size_t k, int ngram, double max, double *ratio,
                       uint32_t *max_freq, int *counted) {
    *ratio = 0, *counted = 0;
    if (k >= (size_t)ngram) {
        size_t total = k - (size_t)ngram + 1, slack = (size_t)sqrt((double)total) + 1;
        /* the least distinct count whose bound total - distinct + slack is within max (none if max < 0) */
        double lim = floor(max * (double)total);
        size_t need = lim < 0 ? SIZE_MAX
                              : total + slack - (lim < (double)(total + slack) ? (size_t)lim : total + slack);
        while (need > 0 && need <= total + slack &&
               (double)(total + slack - (need - 1)) / (double)total <= max)
            need--;
        while (need <= total + slack && (double)(total + slack - need) / (double)total > max) need++;
        if (need <= total && distinct_at_least(c, cps, k, ngram, need)) return 0;
    }
    *ratio = rep_ratio(c, cps, k, ngram, max_freq);
    *counted = 1;
    return *ratio > max;
}

/* The longest run where a unit of 1..16 characters holding a letter repeats back to back at least
 * min_repeats times ("好的好的好的…", "hahaha…"): a reply stuck in a loop below the sentence level, which the
 * n-gram ratio misses for units longer than 2. Returns the run length in characters, *unit its length.
 * For each unit length p only the first longest run of positions i with cps[i] == cps[i - p] counts,
 * and only if it is at least (min_repeats - 1) * p long: every such run holds one of the positions
 * p + s - 1, p + 2s - 1, ... (s that length), so those are looked at, and a hit widened to its run. */
static size_t longest_loop(const int32_t *cps, size_t k, uint64_t min_repeats, size_t *unit) {
    size_t best = 0;
    for (size_t p = 1; p <= 16 && 2 * p <= k; p++) {
        size_t s = 1;
        if (min_repeats > 1) {
            if (min_repeats - 1 > (uint64_t)(k - p) / p) continue; /* no run that long fits */
            s = (size_t)(min_repeats - 1) * p;
        }
        size_t max = 0, end = 0;
        for (size_t i = p + s - 1; i < k; i += s) {
            if (cps[i] != cps[i - p]) continue;
            size_t a = i, b = i;
            while (a > p && cps[a - 1] == cps[a - 1 - p]) a--;
            while (b + 1 < k && cps[b + 1] == cps[b + 1 - p]) b++;
            if (b - a + 1 > max) max = b - a + 1, end = b;
            i = b - (b - (p + s - 1)) % s; /* the last position looked at: the next is past b */
        }
        size_t len = max + p;
        if (len <= best || len / p < min_repeats) continue;
        int letter = 0;
        for (size_t j = end + 1 - p; j <= end && !letter; j++) {
            utf8proc_category_t cat = utf8proc_category(cps[j]);
            letter = cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
        }
        if (letter) best = len, *unit = p;
    }
    return best;
}

static inline int is_blank_cp(int32_t cp) { return cp == ' ' || cp == '\t' || cp == 0x3000; }

/* Hash of a sentence: two interleaved FNV-style lanes over pairs of code points, so the multiplications
 * overlap, then mixed with the length. */
static uint64_t sentence_hash(const int32_t *cps, size_t n) {
    const uint64_t P = 0x100000001B3ull;
    uint64_t h0 = 0x243F6A8885A308D3ull, h1 = 0x13198A2E03707344ull;
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
        h0 = (h0 ^ ((uint64_t)(uint32_t)cps[j] << 32 | (uint32_t)cps[j + 1])) * P;
        h1 = (h1 ^ ((uint64_t)(uint32_t)cps[j + 2] << 32 | (uint32_t)cps[j + 3])) * P;
    }
    for (; j < n; j++) h0 = (h0 ^ (uint32_t)cps[j]) * P;
    return mix(h0 ^ mix(h1 ^ n)) | 1;
}

/* Share of sentences (of at least 4 characters, outside fenced code) that repeat an earlier one. A
 * sentence ends at each of the nend positions decode_all listed (a '.' only before a space, a newline or
 * the end) and at the end of the text. */
static double sentence_repeat(clean_ctx *c, const int32_t *cps, size_t k, size_t nend, size_t *nsent) {
    size_t total = 0, distinct = 0, start = 0;
    table t = table_init(c, k / 8 + 8);
    int code = 0;
    for (size_t x = 0; x <= nend; x++) {
        size_t i = x < nend ? c->ends[x] : k;
        if (i < k && cps[i] == '.' && !(i + 1 == k || cps[i + 1] == ' ' || cps[i + 1] == '\n')) continue;
        size_t b = start, e = i;
        start = i + 1;
        while (b < e && is_blank_cp(cps[b])) b++;
        while (e > b && is_blank_cp(cps[e - 1])) e--;
        if (e - b >= 3 && ((cps[b] == '`' && cps[b + 1] == '`' && cps[b + 2] == '`') ||
                           (cps[b] == '~' && cps[b + 1] == '~' && cps[b + 2] == '~'))) {
            code = !code;
            continue;
        }
        if (code || e - b < 4) continue;
        distinct += (size_t)table_add(&t, sentence_hash(cps + b, e - b));
        total++;
    }
    table_done(&t);
    *nsent = total;
    return total ? (double)(total - distinct) / (double)total : 0;
}

int clean_filter_message(clean_ctx *c, const char *s, size_t n, int is_assistant, char *detail, size_t cap) {
    const clean_opts *o = c->o;
    const char *who = is_assistant ? "assistant" : "human";
    c->nchars = 0;
    if (o->filter_empty && n == 0) {
        snprintf(detail, cap, "empty %s turn", who);
        return R_EMPTY_TURN;
    }
    scan sc;
    int sentences = is_assistant && o->max_sentence_repeat > 0;
    const int32_t *cps = decode_all(c, s, n, sentences, &sc);
    size_t k = sc.k;
    c->nchars = k;
    if (k < o->min_turn_chars) {
        snprintf(detail, cap, "%s turn has %zu characters (min %llu)", who, k, (unsigned long long)o->min_turn_chars);
        return R_TURN_TOO_SHORT;
    }
    if (o->max_turn_chars && k > o->max_turn_chars) {
        snprintf(detail, cap, "%s turn has %zu characters (max %llu)", who, k, (unsigned long long)o->max_turn_chars);
        return R_TURN_TOO_LONG;
    }
    /* The looping filter's gate below needs the highest n-gram count when the repetition filter ran:
     * UINT32_MAX stands for "unknown" when it did not. */
    uint32_t max_freq = UINT32_MAX;
    int ng = 0, rep_ran = 0, counted = 0;
    if (o->max_rep_ratio > 0 && k >= o->rep_min_chars) {
        ng = sc.cjk >= sc.latin ? o->rep_ngram_cjk : o->rep_ngram_latin;
        rep_ran = 1;
        double ratio;
        if (rep_exceeds(c, cps, k, ng, o->max_rep_ratio, &ratio, &max_freq, &counted)) {
            snprintf(detail, cap, "%s turn: character %d-gram repetition %.3f > %.3f", who, ng, ratio,
                     o->max_rep_ratio);
            return R_REPETITION;
        }
    }
    if (o->max_special_ratio > 0 && k >= o->special_min_chars) {
        double ratio = (double)sc.special / (double)k;
        if (ratio > o->max_special_ratio) {
            snprintf(detail, cap, "%s turn: special characters %.3f > %.3f", who, ratio, o->max_special_ratio);
            return R_SPECIAL_CHARS;
        }
    }
    /* there are at most nends + 1 sentences: too few to be tested need no hashing */
    if (sentences && sc.nends + 1 >= o->sentence_min_count) {
        size_t ns;
        double ratio = sentence_repeat(c, cps, k, sc.nends, &ns);
        if (ns >= o->sentence_min_count && ratio > o->max_sentence_repeat) {
            snprintf(detail, cap, "assistant turn: %.0f%% of %zu sentences are repeats (max %.0f%%)", 100 * ratio, ns,
                     100 * o->max_sentence_repeat);
            return R_REPEATED_SENTENCES;
        }
    }
    /* A loop of r repeats makes some n-gram occur about r times, and the loop's unit (at most 16
     * characters) repeats at least max(min repeats, share * k / 16) times: a loop only counts when the
     * highest n-gram count allows it. longest_loop is cheap, so it runs first; the count, when the
     * repetition filter's bound spared the table, is only taken for a loop found. */
    double need = o->max_loop_share * (double)k / 16;
    if (need < (double)o->loop_min_repeats) need = (double)o->loop_min_repeats;
    if (is_assistant && o->max_loop_share > 0 && k >= o->loop_min_chars) {
        size_t unit = 0, run = longest_loop(cps, k, o->loop_min_repeats, &unit);
        if (run >= o->loop_min_chars && (double)run > o->max_loop_share * (double)k) {
            if (rep_ran && !counted) rep_ratio(c, cps, k, ng, &max_freq);
            if ((double)max_freq + 2 >= need) {
                snprintf(detail, cap,
                         "assistant turn: a %zu-character unit repeated %zu times takes %.0f%% (max %.0f%%)",
                         unit, run / unit, 100.0 * (double)run / (double)k, 100 * o->max_loop_share);
                return R_LOOPING;
            }
        }
    }
    return R_KEPT;
}
