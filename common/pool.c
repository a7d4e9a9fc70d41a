/* pool.c: worker threads woken per batch by a generation counter; the caller works too.
 * Rule: items are handed out with one atomic counter, so no lock is taken per item. */
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>

#include "ft.h"

struct ft_pool {
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned gen;
    int running, stop, nthreads; /* nthreads: started threads (the caller not counted) */
    size_t next, n, chunk;
    ft_pool_fn fn;
    void *arg;
    pthread_t *threads;
    struct worker {
        ft_pool *p;
        int id;
    } *workers;
};

static void share(ft_pool *p, int id) {
    for (;;) {
        size_t i = __atomic_fetch_add(&p->next, p->chunk, __ATOMIC_RELAXED);
        if (i >= p->n) break;
        size_t e = i + p->chunk < p->n ? i + p->chunk : p->n;
        for (; i < e; i++) p->fn(p->arg, id, i);
    }
}

static void *worker(void *arg) {
    struct worker *w = arg;
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
        share(p, w->id);
        pthread_mutex_lock(&p->mu);
        if (--p->running == 0) pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
}

ft_pool *ft_pool_new(int threads, ft_pool_fn fn, void *arg, int *start_err) {
    ft_pool *p = ft_xmalloc(sizeof *p);
    *p = (ft_pool){.fn = fn, .arg = arg, .chunk = 1};
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    int extra = threads > 1 ? threads - 1 : 0;
    p->threads = ft_xmalloc((size_t)(extra ? extra : 1) * sizeof *p->threads);
    p->workers = ft_xmalloc((size_t)(extra ? extra : 1) * sizeof *p->workers);
    if (start_err) *start_err = 0;
    for (int i = 0; i < extra; i++) {
        p->workers[i] = (struct worker){p, i + 1};
        int e = pthread_create(&p->threads[i], NULL, worker, &p->workers[i]);
        if (e) {
            if (start_err) *start_err = e;
            break;
        }
        p->nthreads = i + 1;
    }
    return p;
}

int ft_pool_threads(const ft_pool *p) { return p->nthreads + 1; }

void ft_pool_run(ft_pool *p, size_t n, size_t chunk) {
    p->n = n;
    p->chunk = chunk ? chunk : 1;
    p->next = 0;
    if (p->nthreads) {
        pthread_mutex_lock(&p->mu);
        p->running = p->nthreads;
        p->gen++;
        pthread_cond_broadcast(&p->go);
        pthread_mutex_unlock(&p->mu);
    }
    share(p, 0);
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
    free(p->threads), free(p->workers);
    free(p);
}
