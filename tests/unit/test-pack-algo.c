/* test-pack-algo: ft-pack's packing (pack.c): every document in exactly one row, rows within seq_len,
 * first-fit-decreasing as specified on a hand-checked case, determinism, and ffd filling rows better than none. */
#include <stdlib.h>
#include <string.h>

#include "pack.h"
#include "tap.h"

/* Checks the invariants of one packing; returns the number of rows (0 on a failure, reported). */
static size_t check(int mode, const uint32_t *lens, size_t n, uint32_t L, uint64_t seed, uint32_t *order,
                    uint32_t *row_end, const char *what) {
    ft_rng rng;
    ft_rng_seed(&rng, seed);
    size_t rows = pack_window(mode, lens, n, L, &rng, order, row_end);
    char *seen = calloc(n, 1);
    int good = rows >= 1 && row_end[rows - 1] == n;
    for (size_t r = 0, k = 0; r < rows && good; r++) {
        uint64_t sum = 0;
        if (row_end[r] <= k) good = 0;
        for (; k < row_end[r] && good; k++) {
            if (order[k] >= n || seen[order[k]]++) good = 0;
            else sum += lens[order[k]];
        }
        if (sum > L) good = 0;
    }
    ok(good, "%s: every document once, rows <= %u tokens", what, L);
    free(seen);
    return good ? rows : 0;
}

int main(void) {
    /* ffd by hand, rows of 10; by length (ties in input order) the documents are 2 5 1 6 4 0 7 3; first fit:
     * 7->r0 (3 left), 6->r1 (4), 5->r2 (5), 4->r1 (0), 3->r0 (0), 2->r2 (3), 2->r2 (1), 1->r2 (0). */
    uint32_t lens[] = {2, 5, 7, 1, 3, 6, 4, 2}, order[8], row_end[8];
    size_t rows = check(PACK_FFD, lens, 8, 10, 0, order, row_end, "ffd small");
    uint32_t want[] = {2, 4, 5, 6, 1, 0, 7, 3}, want_end[] = {2, 4, 8};
    is_int(rows, 3, "ffd: 3 rows of 10 for 30 tokens");
    ok(!memcmp(order, want, sizeof want) && !memcmp(row_end, want_end, sizeof want_end),
       "ffd: rows in creation order, documents in placement order, ties in input order");
    rows = check(PACK_NONE, lens, 8, 10, 0, order, row_end, "none small");
    is_int(rows, 8, "none: one row per document");
    ok(order[0] == 0 && order[7] == 7, "none: input order");

    enum { N = 5000, L = 2048 };
    uint32_t *big = malloc(N * 4), *o1 = malloc(N * 4), *e1 = malloc(N * 4), *o2 = malloc(N * 4), *e2 = malloc(N * 4);
    ft_rng rng;
    ft_rng_seed(&rng, 42);
    uint64_t tokens = 0;
    for (size_t i = 0; i < N; i++) tokens += big[i] = 1 + ft_rng_below(&rng, i % 7 ? 600 : L);
    size_t r_ffd = check(PACK_FFD, big, N, L, 0, o1, e1, "ffd 5000");
    size_t r2 = check(PACK_FFD, big, N, L, 0, o2, e2, "ffd again");
    ok(r_ffd == r2 && !memcmp(o1, o2, N * 4) && !memcmp(e1, e2, r2 * 4), "ffd is deterministic");
    size_t r_sh = check(PACK_SHUFFLE, big, N, L, 7, o1, e1, "shuffle seed 7");
    r2 = check(PACK_SHUFFLE, big, N, L, 7, o2, e2, "shuffle seed 7 again");
    ok(r_sh == r2 && !memcmp(o1, o2, N * 4), "shuffle is deterministic for a seed");
    check(PACK_SHUFFLE, big, N, L, 8, o2, e2, "shuffle seed 8");
    ok(memcmp(o1, o2, N * 4) != 0, "another seed, another order");
    size_t r_none = check(PACK_NONE, big, N, L, 0, o1, e1, "none 5000");
    double f_ffd = (double)tokens / ((double)r_ffd * L), f_none = (double)tokens / ((double)r_none * L);
    ok(f_ffd > 0.95 && f_ffd > 4 * f_none, "fill: ffd %.3f, shuffle %.3f, none %.3f", f_ffd,
       (double)tokens / ((double)r_sh * L), f_none);
    ok(r_ffd <= r_sh, "ffd needs no more rows than shuffled first fit (%zu vs %zu)", r_ffd, r_sh);
    uint64_t lower = (tokens + L - 1) / L;
    ok(r_ffd <= lower + lower / 50 + 1, "ffd within 2%% of the lower bound (%zu rows, bound %llu)", r_ffd,
       (unsigned long long)lower);
    free(big), free(o1), free(e1), free(o2), free(e2);
    return done_testing();
}
