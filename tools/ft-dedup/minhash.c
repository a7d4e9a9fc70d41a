/* minhash.c: from a record's key texts to its exact hash and MinHash signature, and the LSH geometry.
 * Rule: one pass over the text makes both the normalized text (exact key) and the token text (shingles);
 * the per-shingle work is one XXH3-64 call and a fixed-width min loop the compiler vectorizes. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "dedup.h"
#include "utf8.h"

void dedup_params_default(dedup_params *p) {
    memset(p, 0, sizeof *p);
    p->key = KEY_ALL;
    p->ngram = 5;
    p->bands = 14;
    p->rows = 8;
    p->verify = VERIFY_SIG;
    p->threshold = pow(1.0 / 14, 1.0 / 8);
    p->seed = 1;
}

double dedup_scurve(double s, int bands, int rows) { return 1 - pow(1 - pow(s, rows), bands); }

/* Composite Simpson's rule over [lo, hi] of the S-curve (miss = 0) or of its complement (miss = 1). */
static double scurve_area(double lo, double hi, int b, int r, int miss) {
    const int n = 200;
    double h = (hi - lo) / n, sum = 0;
    for (int i = 0; i <= n; i++) {
        double p = dedup_scurve(lo + i * h, b, r);
        if (miss) p = 1 - p;
        sum += p * (i == 0 || i == n ? 1 : i % 2 ? 4 : 2);
    }
    return sum * h / 3;
}

void dedup_lsh_optimal(double t, int hashes, int *bands, int *rows) {
    double best = INFINITY;
    *bands = 1, *rows = 1;
    for (int b = 1; b <= hashes; b++)
        for (int r = 1; r <= hashes / b; r++) {
            double err = 0.5 * scurve_area(0, t, b, r, 0) + 0.5 * scurve_area(t, 1, b, r, 1);
            if (err < best) best = err, *bands = b, *rows = r;
        }
}

/* ---- the permutation family ------------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int dedup_hasher_init(dedup_hasher *h, const dedup_params *p) {
    memset(h, 0, sizeof *h);
    h->p = *p;
    h->hashes = p->bands * p->rows;
    h->padded = (h->hashes + 15) / 16 * 16;
    h->alo = malloc((size_t)h->padded * sizeof *h->alo);
    h->ahi = malloc((size_t)h->padded * sizeof *h->ahi);
    h->b = malloc((size_t)h->padded * sizeof *h->b);
    if (!h->alo || !h->ahi || !h->b) {
        dedup_hasher_release(h);
        return FT_ENOMEM;
    }
    uint64_t s = p->seed;
    for (int i = 0; i < h->padded; i++) {
        uint64_t a = splitmix64(&s);
        h->alo[i] = (uint32_t)a;
        h->ahi[i] = (uint32_t)(a >> 32);
        h->b[i] = splitmix64(&s);
    }
    return 0;
}

void dedup_hasher_release(dedup_hasher *h) {
    free(h->alo), free(h->ahi), free(h->b);
    h->alo = h->ahi = NULL, h->b = NULL;
}

/* sig[0..16) = min over xs of h_i(x) for the 16 functions at alo/ahi/b. With a = ahi * 2^32 + alo,
 * ((a*x + b) mod 2^64) >> 32 = (ahi*x + (((alo*x + b) mod 2^64) >> 32)) mod 2^32: one widening 32x32-bit
 * product and one 32-bit product, which SIMD units have. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("O3")))
#endif
static void minhash16(const uint32_t *restrict xs, size_t n, const uint32_t *restrict alo,
                      const uint32_t *restrict ahi, const uint64_t *restrict b, uint32_t *restrict sig) {
    uint32_t m[16];
    for (int j = 0; j < 16; j++) m[j] = UINT32_MAX;
    for (size_t k = 0; k < n; k++) {
        uint32_t x = xs[k];
        for (int j = 0; j < 16; j++) {
            uint32_t hv = ahi[j] * x + (uint32_t)(((uint64_t)alo[j] * x + b[j]) >> 32);
            m[j] = hv < m[j] ? hv : m[j];
        }
    }
    memcpy(sig, m, sizeof m);
}

/* ---- normalization and tokens ----------------------------------------------------------------- */

enum { C_SPACE, C_WORD, C_PUNCT, C_SYMBOL, C_CJK, C_IGNORE };

static int is_cjk(int32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x3040 && c <= 0x30FF) ||
           (c >= 0x31F0 && c <= 0x31FF) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x323AF);
}

static int char_class(int32_t c) {
    if (is_cjk(c)) return C_CJK;
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO: return C_WORD;
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_CC: return C_SPACE;
    case UTF8PROC_CATEGORY_CF: return C_IGNORE;
    case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO: return C_PUNCT;
    default: return C_SYMBOL;
    }
}

static unsigned char g_ascii_class[128], g_ascii_lower[128];
static pthread_once_t g_ascii_once = PTHREAD_ONCE_INIT;
static void ascii_init(void) {
    for (int c = 0; c < 128; c++) {
        g_ascii_class[c] = (unsigned char)char_class(c);
        g_ascii_lower[c] = (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
}

typedef struct {
    ft_buf *norm, *tok;
    uint32_t **starts;
    size_t *ntok, *cap;
    int strip_punct, in_word, space;
} normalizer;

/* Appends without a capacity check: normalize_text reserves room for the worst case of the rest of its
 * input first (every byte once plus one space per character), and again after a case fold that grew. */
static inline void put(ft_buf *b, const char *p, size_t n) {
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void tok_start(normalizer *z) {
    if (*z->ntok == *z->cap) {
        *z->cap = *z->cap ? *z->cap * 2 : 256;
        *z->starts = ft_xrealloc(*z->starts, *z->cap * sizeof **z->starts);
    }
    if (z->tok->len) z->tok->data[z->tok->len++] = ' ';
    (*z->starts)[(*z->ntok)++] = (uint32_t)z->tok->len;
}

/* Appends bytes to the normalized text, after the one space a preceding whitespace run became. */
static inline void norm_put(normalizer *z, const char *p, size_t n) {
    if (z->space && z->norm->len) z->norm->data[z->norm->len++] = ' ';
    z->space = 0;
    put(z->norm, p, n);
}

static void normalize_text(normalizer *z, const char *s, size_t n) {
    pthread_once(&g_ascii_once, ascii_init);
    ft_buf_reserve(z->norm, 2 * n + 2);
    ft_buf_reserve(z->tok, 2 * n + 2);
    size_t i = 0;
    while (i < n) {
        unsigned char u = (unsigned char)s[i];
        if (u < 0x80) {
            int cls = g_ascii_class[u];
            char lc = (char)g_ascii_lower[u];
            i++;
            if (cls == C_WORD) {
                if (!z->in_word) tok_start(z), z->in_word = 1;
                if (z->space && z->norm->len) z->norm->data[z->norm->len++] = ' ';
                z->space = 0;
                /* the rest of an ASCII word in one go */
                size_t j = i;
                while (j < n && (unsigned char)s[j] < 0x80 && g_ascii_class[(unsigned char)s[j]] == C_WORD) j++;
                char *a = z->norm->data + z->norm->len, *b = z->tok->data + z->tok->len;
                a[0] = b[0] = lc;
                for (size_t k = i; k < j; k++) a[k - i + 1] = b[k - i + 1] = (char)g_ascii_lower[(unsigned char)s[k]];
                z->norm->len += j - i + 1, z->tok->len += j - i + 1;
                i = j;
                continue;
            }
            z->in_word = 0;
            if (cls == C_SPACE || (cls == C_PUNCT && z->strip_punct)) z->space = 1;
            else norm_put(z, &lc, 1);
            continue;
        }
        int32_t cp;
        int l = ft_utf8_decode(s + i, n - i, &cp);
        int cls = char_class(cp);
        if (cls == C_CJK) {
            z->in_word = 0;
            tok_start(z);
            put(z->tok, s + i, (size_t)l);
            norm_put(z, s + i, (size_t)l);
        } else if (cls == C_WORD) {
            if (!z->in_word) tok_start(z), z->in_word = 1;
            utf8proc_int32_t fold[8];
            int bc = 0;
            utf8proc_ssize_t k = utf8proc_decompose_char(cp, fold, 8, UTF8PROC_CASEFOLD, &bc);
            if (k < 1 || k > 8) fold[0] = cp, k = 1;
            char enc[32];
            size_t el = 0;
            for (utf8proc_ssize_t q = 0; q < k; q++) el += (size_t)ft_utf8_encode(fold[q], enc + el);
            if (el > (size_t)l) { /* the fold grew: room for it and the worst case of the rest again */
                ft_buf_reserve(z->norm, el + 2 * (n - i) + 2);
                ft_buf_reserve(z->tok, el + 2 * (n - i) + 2);
            }
            put(z->tok, enc, el);
            norm_put(z, enc, el);
        } else if (cls != C_IGNORE) {
            z->in_word = 0;
            if (cls == C_SPACE || (cls == C_PUNCT && z->strip_punct)) z->space = 1;
            else norm_put(z, s + i, (size_t)l);
        }
        i += (size_t)l;
    }
    z->norm->data[z->norm->len] = z->tok->data[z->tok->len] = 0;
}

/* Ends one message: words never continue into the next, and messages stay apart in the exact key. */
static void message_end(normalizer *z) {
    z->in_word = 0;
    z->space = 0;
    if (z->norm->len && z->norm->data[z->norm->len - 1] != '\n') ft_buf_addc(z->norm, '\n');
}

void dedup_normalize(const char *s, size_t n, int strip_punct, ft_buf *norm, ft_buf *tok) {
    uint32_t *starts = NULL;
    size_t ntok = 0, cap = 0;
    normalizer z = {norm, tok, &starts, &ntok, &cap, strip_punct, 0, 0};
    normalize_text(&z, s, n);
    free(starts);
}

void dedup_doc_init(dedup_doc *d) {
    memset(d, 0, sizeof *d);
    ft_buf_init(&d->norm);
    ft_buf_init(&d->tok);
}

void dedup_doc_release(dedup_doc *d) {
    free(d->sig), free(d->shingles), free(d->starts);
    ft_buf_release(&d->norm);
    ft_buf_release(&d->tok);
    memset(d, 0, sizeof *d);
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* After the texts went through the normalizer: the exact hash, shingle hashes and the signature. */
static void doc_finish(const dedup_hasher *h, dedup_doc *d, size_t ntok) {
    const dedup_params *p = &h->p;
    if (d->norm.len && d->norm.data[d->norm.len - 1] == '\n') d->norm.data[--d->norm.len] = 0;
    XXH128_hash_t e = XXH3_128bits_withSeed(d->norm.data ? d->norm.data : "", d->norm.len, p->seed);
    d->exact[0] = e.low64, d->exact[1] = e.high64;
    d->empty = d->norm.len == 0;
    d->ntokens = ntok;
    if (!d->sig) d->sig = ft_xmalloc((size_t)h->padded * sizeof *d->sig);
    size_t n = (size_t)p->ngram, ns = ntok == 0 ? 0 : ntok < n ? 1 : ntok - n + 1;
    if (ns > d->cap_shingles) {
        d->cap_shingles = ns + ns / 4 + 16;
        free(d->shingles);
        d->shingles = ft_xmalloc(d->cap_shingles * sizeof *d->shingles);
    }
    const char *t = d->tok.data;
    for (size_t i = 0; i < ns; i++) {
        size_t last = i + n - 1 < ntok ? i + n - 1 : ntok - 1;
        size_t beg = d->starts[i], end = last + 1 < ntok ? d->starts[last + 1] - 1 : d->tok.len;
        d->shingles[i] = (uint32_t)XXH3_64bits_withSeed(t + beg, end - beg, p->seed);
    }
    for (int j = 0; j < h->padded; j += 16) minhash16(d->shingles, ns, h->alo + j, h->ahi + j, h->b + j, d->sig + j);
    d->nshingles = 0;
    if (p->verify == VERIFY_EXACT && ns) {
        qsort(d->shingles, ns, sizeof *d->shingles, cmp_u32);
        size_t u = 1;
        for (size_t i = 1; i < ns; i++)
            if (d->shingles[i] != d->shingles[u - 1]) d->shingles[u++] = d->shingles[i];
        d->nshingles = u;
    }
}

void dedup_doc_from_texts(const dedup_hasher *h, const char *const *texts, const size_t *lens, size_t n,
                          dedup_doc *d) {
    ft_buf_clear(&d->norm);
    ft_buf_clear(&d->tok);
    size_t ntok = 0;
    normalizer z = {&d->norm, &d->tok, &d->starts, &ntok, &d->cap_starts, h->p.strip_punct, 0, 0};
    for (size_t i = 0; i < n; i++) {
        normalize_text(&z, texts[i], lens[i]);
        message_end(&z);
    }
    doc_finish(h, d, ntok);
}

void dedup_doc_from_conv(const dedup_hasher *h, const ft_conv *c, dedup_doc *d) {
    ft_buf_clear(&d->norm);
    ft_buf_clear(&d->tok);
    size_t ntok = 0;
    normalizer z = {&d->norm, &d->tok, &d->starts, &ntok, &d->cap_starts, h->p.strip_punct, 0, 0};
    size_t nturns = h->p.key == KEY_FIRST && c->nturns ? 1 : c->nturns;
    for (size_t i = 0; i < nturns; i++)
        for (int r = 0; r < 2; r++) {
            if (r == FT_ASSISTANT && h->p.key == KEY_HUMAN) continue;
            normalize_text(&z, c->turns[i].text[r], c->turns[i].len[r]);
            message_end(&z);
        }
    doc_finish(h, d, ntok);
}

/* ---- similarity ---------------------------------------------------------------------------------- */

double dedup_sig_jaccard(const uint32_t *a, const uint32_t *b, int hashes) {
    int m = 0;
    for (int i = 0; i < hashes; i++) m += a[i] == b[i];
    return hashes ? (double)m / hashes : 0;
}

void dedup_sig_compact(const uint32_t *sig, int hashes, uint8_t *out) {
    memset(out, 0, dedup_compact_size(hashes));
    for (int i = 0; i < hashes; i++) out[i / 2] |= (uint8_t)((sig[i] & 15u) << (i % 2 * 4));
}

/* b-bit MinHash (Li and König): equal low bits happen for a fraction J + (1 - J) / 2^b of the values,
 * so J is estimated as (matches / hashes - 2^-b) / (1 - 2^-b), clamped to [0, 1]. */
double dedup_compact_jaccard(const uint8_t *a, const uint8_t *b, int hashes) {
    int m = 0;
    for (int i = 0; i < hashes / 2; i++) m += ((a[i] ^ b[i]) & 15) == 0, m += ((a[i] ^ b[i]) >> 4) == 0;
    if (hashes % 2) m += ((a[hashes / 2] ^ b[hashes / 2]) & 15) == 0;
    const double c = 1.0 / (1 << DEDUP_SIG_BITS);
    double e = hashes ? ((double)m / hashes - c) / (1 - c) : 0;
    return e < 0 ? 0 : e > 1 ? 1 : e;
}

double dedup_set_jaccard(const uint32_t *a, size_t na, const uint32_t *b, size_t nb) {
    size_t i = 0, j = 0, inter = 0;
    while (i < na && j < nb) {
        if (a[i] == b[j]) inter++, i++, j++;
        else if (a[i] < b[j]) i++;
        else j++;
    }
    size_t uni = na + nb - inter;
    return uni ? (double)inter / (double)uni : 1;
}

static inline unsigned nibble(const uint8_t *c, int i) { return (c[i / 2] >> (i % 2 * 4)) & 15u; }

uint64_t dedup_band_key(const uint8_t *csig, int band, int rows, uint64_t seed) {
    uint8_t buf[DEDUP_MAX_HASHES / 2];
    memset(buf, 0, dedup_compact_size(rows));
    for (int i = 0; i < rows; i++) buf[i / 2] |= (uint8_t)(nibble(csig, band * rows + i) << (i % 2 * 4));
    return XXH3_64bits_withSeed(buf, dedup_compact_size(rows), seed + (uint64_t)band);
}

int dedup_band_equal(const uint8_t *a, const uint8_t *b, int band, int rows) {
    int lo = band * rows, hi = lo + rows;
    if (lo % 2 == 0 && hi % 2 == 0) return !memcmp(a + lo / 2, b + lo / 2, (size_t)rows / 2);
    for (int i = lo; i < hi; i++)
        if (nibble(a, i) != nibble(b, i)) return 0;
    return 1;
}

double dedup_similarity(const dedup_params *p, const uint8_t *ca, const uint8_t *cb, const uint32_t *sa, size_t na,
                        const uint32_t *sb, size_t nb) {
    if (p->verify == VERIFY_EXACT) return dedup_set_jaccard(sa, na, sb, nb);
    return dedup_compact_jaccard(ca, cb, p->bands * p->rows);
}
