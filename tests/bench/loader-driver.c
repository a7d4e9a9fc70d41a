/* loader-driver.c: the pack benchmark's loader side (compiled by tests/bench/pack.sh): iterates one epoch of
 * an MDS directory through common/loader as a trainer would (rank 0 of 1) and prints
 * "rows tokens seconds peak_bytes peak_shards shards".
 * Rule: the clock covers open to the last batch, so the reader thread's start-up counts; every batch is
 * touched (a checksum over its ids and positions) so nothing is optimized away. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "loader.h"

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: loader-driver DIR BATCH WINDOW PREFETCH\n");
        return 2;
    }
    ft_loader_opts o;
    ft_loader_opts_init(&o);
    o.batch = atoi(argv[2]), o.window = atoi(argv[3]), o.prefetch = atoi(argv[4]);
    ft_buf why;
    ft_buf_init(&why);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ft_loader *l;
    if (ft_loader_open(argv[1], &o, &l, &why) != 0) {
        fprintf(stderr, "loader-driver: cannot open '%s': %s\n", argv[1], why.data);
        return 1;
    }
    ft_loader_batch b;
    uint64_t rows = 0, tokens = 0, sum = 0;
    int rc;
    while ((rc = ft_loader_next(l, &b, &why)) == 1) {
        rows += (uint64_t)b.rows, tokens += b.tokens;
        for (size_t i = 0; i < (size_t)b.B * (size_t)b.T; i += 61)
            sum += (uint64_t)b.ids[i] + (uint64_t)b.pos[i];
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc < 0) {
        fprintf(stderr, "loader-driver: %s\n", why.data);
        return 1;
    }
    ft_loader_stats st;
    ft_loader_stats_get(l, &st);
    if (rows != st.rows) {
        fprintf(stderr, "loader-driver: %llu rows delivered of %llu\n", (unsigned long long)rows,
                (unsigned long long)st.rows);
        return 1;
    }
    printf("%llu %llu %.3f %llu %zu %zu\n", (unsigned long long)rows, (unsigned long long)tokens,
           (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec),
           (unsigned long long)st.peak_bytes, st.peak_shards, st.shards);
    fprintf(stderr, "checksum %llu\n", (unsigned long long)sum);
    ft_loader_free(l);
    ft_buf_release(&why);
    return 0;
}
