/* pack.c: first-fit packing over a max-tree of the rows' free space, so each placement is O(log n).
 * Rule: the leftmost row with room wins (first fit); unopened rows have seq_len free, so the first of them
 * is where a new row opens. */
#include "pack.h"

#include <stdlib.h>
#include <string.h>

#include "ft.h"

typedef struct {
    uint32_t *t; /* (2 * size) max free space in each subtree; leaves size..2*size-1 are rows 0..size-1 */
    size_t size;
} fit_tree;

static void tree_init(fit_tree *f, size_t n, uint32_t cap) {
    f->size = 1;
    while (f->size < n) f->size <<= 1;
    f->t = ft_xmalloc(2 * f->size * sizeof *f->t);
    for (size_t i = 0; i < 2 * f->size; i++) f->t[i] = cap;
}

/* The leftmost row with at least len free (the root guarantees one exists), minus len. */
static size_t tree_place(fit_tree *f, uint32_t len) {
    FT_ASSERT(f->t[1] >= len);
    size_t k = 1;
    while (k < f->size) k = f->t[2 * k] >= len ? 2 * k : 2 * k + 1;
    f->t[k] -= len;
    for (size_t p = k >> 1; p; p >>= 1) f->t[p] = f->t[2 * p] > f->t[2 * p + 1] ? f->t[2 * p] : f->t[2 * p + 1];
    return k - f->size;
}

static const uint32_t *g_lens; /* qsort has no context argument: set for the duration of one sort */
static int by_length_desc(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (g_lens[x] != g_lens[y]) return g_lens[x] > g_lens[y] ? -1 : 1;
    return x < y ? -1 : x > y; /* stable: ties in input order */
}

size_t pack_window(int mode, const uint32_t *lens, size_t n, uint32_t seq_len, ft_rng *rng, uint32_t *order,
                   uint32_t *row_end) {
    if (!n) return 0;
    if (mode == PACK_NONE) {
        for (size_t i = 0; i < n; i++) order[i] = (uint32_t)i, row_end[i] = (uint32_t)(i + 1);
        return n;
    }
    uint32_t *seq = ft_xmalloc(n * sizeof *seq), *row = ft_xmalloc(n * sizeof *row);
    for (size_t i = 0; i < n; i++) seq[i] = (uint32_t)i;
    if (mode == PACK_FFD) {
        g_lens = lens;
        qsort(seq, n, sizeof *seq, by_length_desc);
    } else {
        ft_rng_shuffle_u32(rng, seq, n);
    }
    fit_tree f;
    tree_init(&f, n, seq_len);
    size_t rows = 0;
    for (size_t k = 0; k < n; k++) {
        FT_ASSERT(lens[seq[k]] >= 1 && lens[seq[k]] <= seq_len);
        row[k] = (uint32_t)tree_place(&f, lens[seq[k]]);
        if (row[k] + 1 > rows) rows = row[k] + 1;
    }
    /* Counting sort of the placements by row, keeping placement order inside a row. */
    memset(row_end, 0, rows * sizeof *row_end);
    for (size_t k = 0; k < n; k++) row_end[row[k]]++;
    for (size_t r = 1; r < rows; r++) row_end[r] += row_end[r - 1];
    for (size_t k = n; k-- > 0;) order[--row_end[row[k]]] = seq[k];
    for (size_t r = 0; r + 1 < rows; r++) row_end[r] = row_end[r + 1];
    row_end[rows - 1] = (uint32_t)n;
    free(f.t), free(seq), free(row);
    return rows;
}
