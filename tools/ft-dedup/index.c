/* index.c: the streaming index of kept records: per kept record its number, exact hash and compact
 * signature in dense arrays, and per LSH band an open-addressing table of 4-byte slot numbers.
 * Rule: no table stores a key: a probe compares the band bits in the compact signature it points to, so
 * an entry costs 4 bytes per band and the whole index stays under 200 bytes per kept record. */
#include <stdlib.h>
#include <string.h>

#include "dedup.h"

#define MAX_LOAD 0.85 /* tables grow 1.5x past this load: load stays in (0.57, 0.85] */
#define KEPT_GROWTH 1.25

struct dedup_index {
    const dedup_params *p;
    int hashes;
    size_t csz;
    uint64_t kept, cap;  /* slots used and allocated */
    uint64_t *seq;       /* (cap) */
    uint64_t *exact;     /* (cap, 2) */
    uint8_t *csig;       /* (cap, csz) */
    uint8_t *notok;      /* (cap / 8) bit set: kept record without tokens (not in the band tables) */
    uint64_t *sh_off;    /* (cap) VERIFY_EXACT: offset of the shingle set in sh, and its length */
    uint32_t *sh_n;
    uint32_t *sh;
    size_t sh_len, sh_cap;
    uint64_t tcap, tused; /* band tables: capacity of each, entries in each */
    uint32_t *tab;       /* (bands, tcap) slot + 1, 0 = free */
    uint64_t ecap, eused; /* exact table for records without tokens */
    uint32_t *etab;      /* (ecap) slot + 1 */
    uint64_t *cand;      /* scratch: candidate slots */
    size_t ncand, cap_cand;
};

static inline uint64_t home(uint64_t key, uint64_t cap) { return (uint64_t)(((unsigned __int128)key * cap) >> 64); }

dedup_index *dedup_index_new(const dedup_params *p) {
    dedup_index *x = ft_xmalloc(sizeof *x);
    memset(x, 0, sizeof *x);
    x->p = p;
    x->hashes = p->bands * p->rows;
    x->csz = dedup_compact_size(x->hashes);
    return x;
}

void dedup_index_free(dedup_index *x) {
    if (!x) return;
    free(x->seq), free(x->exact), free(x->csig), free(x->notok), free(x->sh_off), free(x->sh_n), free(x->sh);
    free(x->tab), free(x->etab), free(x->cand);
    free(x);
}

uint64_t dedup_index_kept(const dedup_index *x) { return x->kept; }

void dedup_index_memory(const dedup_index *x, uint64_t *bytes_index, uint64_t *bytes_shingles) {
    *bytes_index = x->cap * (sizeof *x->seq + 2 * sizeof *x->exact + x->csz) + (x->cap + 7) / 8 +
                   (uint64_t)x->p->bands * x->tcap * sizeof *x->tab + x->ecap * sizeof *x->etab;
    *bytes_shingles = x->p->verify == VERIFY_EXACT
                          ? x->cap * (sizeof *x->sh_off + sizeof *x->sh_n) + x->sh_cap * sizeof *x->sh
                          : 0;
}

static const uint8_t *csig_of(const dedup_index *x, uint64_t slot) { return x->csig + slot * x->csz; }

static void band_insert(dedup_index *x, uint32_t *tab, uint64_t cap, int band, uint64_t slot) {
    uint64_t i = home(dedup_band_key(csig_of(x, slot), band, x->p->rows, x->p->seed), cap);
    while (tab[i]) i = i + 1 == cap ? 0 : i + 1;
    tab[i] = (uint32_t)(slot + 1);
}

static void bands_grow(dedup_index *x) {
    uint64_t cap = x->tcap ? x->tcap + x->tcap / 2 : 64;
    uint32_t *tab = ft_xmalloc((size_t)x->p->bands * cap * sizeof *tab);
    memset(tab, 0, (size_t)x->p->bands * cap * sizeof *tab);
    for (uint64_t s = 0; s < x->kept; s++)
        if (!(x->notok[s / 8] >> (s % 8) & 1))
            for (int b = 0; b < x->p->bands; b++) band_insert(x, tab + (size_t)b * cap, cap, b, s);
    free(x->tab);
    x->tab = tab, x->tcap = cap;
}

static uint64_t exact_home(const uint64_t e[2], uint64_t cap) { return home(e[0] ^ e[1], cap); }

static void exact_grow(dedup_index *x) {
    uint64_t cap = x->ecap ? x->ecap * 2 : 64;
    uint32_t *t = ft_xmalloc(cap * sizeof *t);
    memset(t, 0, cap * sizeof *t);
    for (uint64_t i = 0; i < x->ecap; i++)
        if (x->etab[i]) {
            uint64_t j = exact_home(x->exact + 2 * (x->etab[i] - 1), cap);
            while (t[j]) j = j + 1 == cap ? 0 : j + 1;
            t[j] = x->etab[i];
        }
    free(x->etab);
    x->etab = t, x->ecap = cap;
}

static void slots_grow(dedup_index *x) {
    uint64_t cap = x->cap < 64 ? 64 : (uint64_t)(x->cap * KEPT_GROWTH);
    cap = (cap + 7) / 8 * 8;
    x->seq = ft_xrealloc(x->seq, cap * sizeof *x->seq);
    x->exact = ft_xrealloc(x->exact, cap * 2 * sizeof *x->exact);
    x->csig = ft_xrealloc(x->csig, cap * x->csz);
    x->notok = ft_xrealloc(x->notok, cap / 8);
    memset(x->notok + x->cap / 8, 0, (cap - x->cap) / 8);
    if (x->p->verify == VERIFY_EXACT) {
        x->sh_off = ft_xrealloc(x->sh_off, cap * sizeof *x->sh_off);
        x->sh_n = ft_xrealloc(x->sh_n, cap * sizeof *x->sh_n);
    }
    x->cap = cap;
}

static void add_candidate(dedup_index *x, uint64_t slot) {
    if (x->ncand == x->cap_cand) {
        x->cap_cand = x->cap_cand ? 2 * x->cap_cand : 64;
        x->cand = ft_xrealloc(x->cand, x->cap_cand * sizeof *x->cand);
    }
    x->cand[x->ncand++] = slot;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t p = *(const uint64_t *)a, q = *(const uint64_t *)b;
    return (p > q) - (p < q);
}

void dedup_index_add(dedup_index *x, uint64_t seq, const uint64_t exact[2], int empty, int has_tokens,
                     const uint8_t *csig, const uint32_t *shingles, size_t nshingles, dedup_decision *out) {
    const dedup_params *p = x->p;
    memset(out, 0, sizeof *out);
    out->slot = UINT64_MAX;
    if (empty) {
        out->kind = DECIDE_EMPTY;
        return;
    }
    x->ncand = 0;
    if (!has_tokens) {
        for (uint64_t i = x->ecap ? exact_home(exact, x->ecap) : 0; x->ecap && x->etab[i]; i = (i + 1) % x->ecap) {
            uint64_t s = x->etab[i] - 1;
            if (x->exact[2 * s] == exact[0] && x->exact[2 * s + 1] == exact[1]) {
                *out = (dedup_decision){DECIDE_EXACT, x->seq[s], s, 1.0};
                return;
            }
        }
    } else if (x->tcap) {
        for (int b = 0; b < p->bands; b++) {
            const uint32_t *tab = x->tab + (size_t)b * x->tcap;
            for (uint64_t i = home(dedup_band_key(csig, b, p->rows, p->seed), x->tcap); tab[i];
                 i = i + 1 == x->tcap ? 0 : i + 1)
                if (dedup_band_equal(csig_of(x, tab[i] - 1), csig, b, p->rows)) add_candidate(x, tab[i] - 1);
        }
        /* slots are numbered in seq order, so the lowest slot is the lowest seq */
        if (x->ncand) qsort(x->cand, x->ncand, sizeof *x->cand, cmp_u64);
        for (size_t k = 0; k < x->ncand; k++) {
            uint64_t s = x->cand[k];
            if (x->exact[2 * s] == exact[0] && x->exact[2 * s + 1] == exact[1]) {
                *out = (dedup_decision){DECIDE_EXACT, x->seq[s], s, 1.0};
                return;
            }
        }
        for (size_t k = 0; k < x->ncand; k++) {
            uint64_t s = x->cand[k];
            if (k && s == x->cand[k - 1]) continue;
            const uint32_t *sh = p->verify == VERIFY_EXACT ? x->sh + x->sh_off[s] : NULL;
            size_t nsh = p->verify == VERIFY_EXACT ? x->sh_n[s] : 0;
            double sim = dedup_similarity(p, csig_of(x, s), csig, sh, nsh, shingles, nshingles);
            if (dedup_passes(p, sim)) {
                *out = (dedup_decision){DECIDE_NEAR, x->seq[s], s, sim};
                return;
            }
        }
    }
    /* kept; table entries are 32-bit slot numbers + 1 */
    FT_ASSERT(x->kept < UINT32_MAX - 1);
    if (x->kept == x->cap) slots_grow(x);
    uint64_t s = x->kept++;
    x->seq[s] = seq;
    x->exact[2 * s] = exact[0], x->exact[2 * s + 1] = exact[1];
    memcpy(x->csig + s * x->csz, csig, x->csz);
    if (p->verify == VERIFY_EXACT) {
        if (x->sh_len + nshingles > x->sh_cap) {
            x->sh_cap = (x->sh_len + nshingles) * 5 / 4 + 1024;
            x->sh = ft_xrealloc(x->sh, x->sh_cap * sizeof *x->sh);
        }
        if (nshingles) memcpy(x->sh + x->sh_len, shingles, nshingles * sizeof *shingles);
        x->sh_off[s] = x->sh_len, x->sh_n[s] = (uint32_t)nshingles;
        x->sh_len += nshingles;
    }
    if (has_tokens) {
        if (++x->tused > MAX_LOAD * (double)x->tcap) bands_grow(x);
        else
            for (int b = 0; b < p->bands; b++) band_insert(x, x->tab + (size_t)b * x->tcap, x->tcap, b, s);
    } else {
        x->notok[s / 8] |= (uint8_t)(1u << (s % 8));
        if (++x->eused > x->ecap / 2) exact_grow(x);
        uint64_t i = exact_home(exact, x->ecap);
        while (x->etab[i]) i = i + 1 == x->ecap ? 0 : i + 1;
        x->etab[i] = (uint32_t)(s + 1);
    }
    out->kind = DECIDE_KEPT;
    out->slot = s;
}
