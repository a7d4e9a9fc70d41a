/* pool.c: the fork-join pool of pool.h: one generation counter wakes the workers for each run, an atomic
 * cursor hands out items, a counter of running workers tells the caller when the run is over.
 * Rule: no queue and no per-item allocation; a run is a range of indices. */
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>

struct ft_pool {
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned gen;
    int running, stop;
    size_t next, n, grain; /* next: atomic cursor into [0, n) */
    ft_pool_fn fn;
    void *arg;
    pthread_t *threads;
    int nthreads; /* started, besides the caller */
    struct worker_arg {
        ft_pool *p;
        int id;
    } *args;
};

static void run_share(ft_pool *p, int worker) {
    for (;;) {
        size_t i = __atomic_fetch_add(&p->next, p->grain, __ATOMIC_RELAXED);
        if (i >= p->n) break;
        size_t e = p->n - i > p->grain ? i + p->grain : p->n;
        for (; i < e; i++) p->fn(p->arg, i, worker);
    }
}

static void *worker_main(void *arg) {
    struct worker_arg *w = arg;
    ft_pool *p = w->p;
    unsigned seen = 0;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->gen == seen && !p->stop) pthread_cond_wait(&p->go, &p->mu);
        if (p->stop) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        seen = p->gen;
        pthread_mutex_unlock(&p->mu);
        run_share(p, w->id);
        pthread_mutex_lock(&p->mu);
        if (--p->running == 0) pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
}

ft_pool *ft_pool_new(int threads, int *started) {
    ft_pool *p = calloc(1, sizeof *p);
    if (threads < 1) threads = 1;
    if (p) {
        p->threads = calloc((size_t)threads, sizeof *p->threads);
        p->args = calloc((size_t)threads, sizeof *p->args);
    }
    if (!p || !p->threads || !p->args) {
        if (p) free(p->threads), free(p->args);
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    for (int i = 0; i < threads - 1; i++) {
        p->args[i] = (struct worker_arg){p, i + 1};
        if (pthread_create(&p->threads[i], NULL, worker_main, &p->args[i])) break;
        p->nthreads = i + 1;
    }
    if (started) *started = p->nthreads + 1;
    return p;
}

void ft_pool_run(ft_pool *p, size_t n, size_t grain, ft_pool_fn fn, void *arg) {
    p->n = n;
    p->grain = grain ? grain : 1;
    p->fn = fn;
    p->arg = arg;
    p->next = 0;
    if (p->nthreads) {
        pthread_mutex_lock(&p->mu);
        p->running = p->nthreads;
        p->gen++;
        pthread_cond_broadcast(&p->go);
        pthread_mutex_unlock(&p->mu);
    }
    run_share(p, 0);
    if (p->nthreads) {
        pthread_mutex_lock(&p->mu);
        while (p->running) pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

void ft_pool_free(ft_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p->args);
    free(p);
}
