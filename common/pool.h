/* pool.h: a fork-join thread pool for ordered batch work: the caller fills a batch, ft_pool_run has every
 * thread (the caller's included) take items from it, and returns when all are done, so the caller writes
 * results in input order whatever the number of threads.
 * Rule: the pool knows nothing of the items; fn must only touch item i and its worker's own state. */
#ifndef FT_POOL_H
#define FT_POOL_H

#include <stddef.h>

typedef struct ft_pool ft_pool;

/* fn(arg, i, worker): process item i on worker 0..threads-1 (0 is the caller's thread). */
typedef void (*ft_pool_fn)(void *arg, size_t i, int worker);

/* ft_pool_new: a pool of threads workers in all (threads - 1 started; 1 = run everything on the caller).
 * Returns the pool, or NULL when out of memory. *started (may be NULL) gets the number of workers actually
 * running: fewer than asked when a thread could not be created (the pool still works with those). */
ft_pool *ft_pool_new(int threads, int *started);
/* ft_pool_run: calls fn for every i in [0, n), items handed out `grain` at a time; returns when done.
 * Not reentrant: one run at a time per pool. */
void ft_pool_run(ft_pool *p, size_t n, size_t grain, ft_pool_fn fn, void *arg);
/* Stops and joins the threads and frees the pool (NULL is harmless). */
void ft_pool_free(ft_pool *p);

#endif
