/* pool.h: a fixed set of worker threads that run one function over the items of a batch.
 * Rule: ft_pool_run returns when every item is done, so a tool fills a batch, runs it and then consumes
 * the results in input order: what the threads do never changes the order of anything written. */
#ifndef FT_POOL_H
#define FT_POOL_H

#include <stddef.h>

/* Called once per item i of a run; worker is 0 (the calling thread) .. threads-1, so fn can use per-worker
 * state without locks. */
typedef void (*ft_pool_fn)(void *arg, int worker, size_t i);

typedef struct ft_pool ft_pool;

/* ft_pool_new: threads in total, the caller counted (threads - 1 are started). A thread that cannot be
 * started is not an error: the pool works with fewer (ft_pool_threads says how many; *start_err gets the
 * errno of the first failure, or 0). Returns a heap pool (free with ft_pool_free); aborts on exhaustion. */
ft_pool *ft_pool_new(int threads, ft_pool_fn fn, void *arg, int *start_err);
int ft_pool_threads(const ft_pool *p);
/* Runs fn(arg, worker, i) for every i in [0, n) across the threads, in chunks of `chunk` items taken in
 * turn; returns when all are done. Not reentrant. */
void ft_pool_run(ft_pool *p, size_t n, size_t chunk);
/* Stops and joins the threads (NULL is harmless). */
void ft_pool_free(ft_pool *p);

#endif
