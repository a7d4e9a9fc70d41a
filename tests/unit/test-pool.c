/* test-pool.c: ft_pool runs every item exactly once per run, on any number of threads, and each worker
 * number is used by one thread at a time. */
#include <stdint.h>
#include <string.h>

#include "pool.h"
#include "tap.h"

#define N 10007

typedef struct {
    int hits[N];
    int owner[N];
    long busy[8]; /* per worker: items seen (only that worker writes its slot) */
} state;

static void fn(void *arg, size_t i, int worker) {
    state *s = arg;
    __atomic_fetch_add(&s->hits[i], 1, __ATOMIC_RELAXED);
    s->owner[i] = worker;
    s->busy[worker]++;
}

int main(void) {
    static state s;
    for (int threads = 1; threads <= 4; threads++) {
        memset(&s, 0, sizeof s);
        int started = -1;
        ft_pool *p = ft_pool_new(threads, &started);
        ok(p != NULL, "%d threads: a pool", threads);
        is_int(started, threads, "%d threads started", threads);
        int bad = 0;
        for (int run = 0; run < 3; run++) ft_pool_run(p, N, (size_t)run + 1, fn, &s);
        for (int i = 0; i < N; i++) bad += s.hits[i] != 3 || s.owner[i] < 0 || s.owner[i] >= threads;
        is_int(bad, 0, "%d threads: every item ran once per run, by a valid worker", threads);
        long total = 0;
        for (int w = 0; w < 8; w++) total += s.busy[w];
        is_int(total, 3 * N, "per-worker counts add up");
        ft_pool_run(p, 0, 4, fn, &s);
        ok(1, "an empty run returns");
        ft_pool_free(p);
    }
    ft_pool_free(NULL);
    return done_testing();
}
