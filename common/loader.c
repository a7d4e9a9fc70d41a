/* loader.c: the streaming dataloader (order and API in loader.h): one thread reads shards in the epoch's
 * shard order into a queue of `prefetch` decoded shards; the caller's side holds one window of shards at a
 * time. Rule: both sides derive the shard order from (seed, epoch) alone, so they agree without talking;
 * every shard the thread reads is handed over in order, used or dropped, so the queue never stalls. */
#include "loader.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mds.h"
#include "rng.h"
#include "seq.h"

/* A shard the thread read (or failed to read): the k-th of epoch's shard order. */
typedef struct {
    ft_mds_shard sh;
    uint64_t epoch;
    size_t k;
    int rc;
    char *why; /* malloc'd reason when rc < 0 */
} item;

struct ft_loader {
    char *dir;
    ft_loader_opts o;
    ft_mds_index ix;
    int T;
    size_t nwin; /* windows per epoch */
    /* The caller's side. */
    uint64_t order_epoch; /* the epoch perm and wstart describe */
    int have_order;
    uint32_t *perm;    /* (nshards) the epoch's shard order */
    uint64_t *wstart;  /* (nwin + 1) global index of each window's first row */
    ft_loader_pos pos; /* pos.sample: this rank's next stride base */
    uint64_t end;      /* stride bases at or past end are the dropped tail */
    int have_end;
    size_t next_k;      /* the next shard (in epoch order) to take from the queue */
    long win;           /* the window held, -1 none */
    ft_mds_shard *held; /* (window) its shards */
    uint64_t *held_pre; /* (window + 1) row prefix sums over them */
    size_t nheld;
    uint32_t *wperm; /* the held window's row order */
    size_t wperm_cap;
    ft_mds_rowbuf rb;
    int err;
    ft_buf err_why;
    int32_t *ids, *pos_ids, *start, *seq_lens, *row_docs, *cu; /* batch buffers, (B, T) and the like */
    uint8_t *mask;
    /* The thread and what it shares (under mu). */
    pthread_t th;
    int running, stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    item *q; /* (prefetch) ring */
    size_t qhead, qn;
    uint64_t t_epoch; /* the thread's next shard: the t_k-th of epoch t_epoch */
    size_t t_k;
    uint32_t *t_perm; /* (nshards) the thread's copy of the shard order of t_perm_epoch */
    uint64_t t_perm_epoch;
    int t_have_perm;
    uint64_t held_bytes, peak_bytes, shards_read;
    size_t held_shards, peak_shards;
};

void ft_loader_opts_init(ft_loader_opts *o) {
    memset(o, 0, sizeof *o);
    o->world = 1, o->batch = 1, o->window = 2, o->prefetch = 2;
}

/* ---- order --------------------------------------------------------------------------------------------- */

static uint64_t mix(uint64_t a, uint64_t b) {
    uint64_t x = a ^ (b * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull);
    return ft_splitmix64(&x);
}

/* Fisher–Yates over the identity 0..n-1 (n < 2^32) with the generator seeded by seed. */
static void permute(uint64_t seed, uint32_t *p, size_t n) {
    ft_rng r;
    ft_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint32_t)i;
    ft_rng_shuffle_u32(&r, p, n);
}

static uint64_t epoch_seed(const ft_loader *l, uint64_t epoch) { return mix(l->o.seed, epoch); }
static void shard_order(const ft_loader *l, uint64_t epoch, uint32_t *perm) {
    permute(mix(epoch_seed(l, epoch), UINT64_MAX), perm, l->ix.nshards);
}

/* The caller's side: perm and wstart for epoch. */
static void set_order(ft_loader *l, uint64_t epoch) {
    if (l->have_order && l->order_epoch == epoch) return;
    shard_order(l, epoch, l->perm);
    size_t W = (size_t)l->o.window;
    l->wstart[0] = 0;
    for (size_t w = 0; w < l->nwin; w++) {
        uint64_t s = l->wstart[w];
        for (size_t k = w * W; k < (w + 1) * W && k < l->ix.nshards; k++)
            s += l->ix.shards[l->perm[k]].samples;
        l->wstart[w + 1] = s;
    }
    l->order_epoch = epoch, l->have_order = 1;
}

/* The window holding global row x < rows: the last w with wstart[w] <= x (empty windows are skipped). */
static size_t window_of(const ft_loader *l, uint64_t x) {
    size_t lo = 0, hi = l->nwin; /* wstart[lo] <= x < wstart[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->wstart[mid] <= x)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* ---- the thread ---------------------------------------------------------------------------------------- */

static uint64_t load_cost(const ft_mds_shard_info *si) {
    return si->file_bytes + (si->level ? si->raw_bytes : 0);
}

static void account(ft_loader *l, int64_t bytes, int shards) {
    l->held_bytes += (uint64_t)bytes, l->held_shards += (size_t)shards;
    if (l->held_bytes > l->peak_bytes) l->peak_bytes = l->held_bytes;
    if (l->held_shards > l->peak_shards) l->peak_shards = l->held_shards;
}

static void *reader(void *arg) {
    ft_loader *l = arg;
    ft_buf why;
    ft_buf_init(&why);
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->stop && l->qn >= (size_t)l->o.prefetch)
            pthread_cond_wait(&l->cv, &l->mu);
        if (l->stop) break;
        if (l->t_k >= l->ix.nshards) l->t_epoch++, l->t_k = 0;
        item it = {.epoch = l->t_epoch, .k = l->t_k++};
        if (!l->t_have_perm || l->t_perm_epoch != it.epoch) {
            shard_order(l, it.epoch, l->t_perm);
            l->t_perm_epoch = it.epoch, l->t_have_perm = 1;
        }
        size_t s = l->t_perm[it.k];
        int64_t cost = (int64_t)load_cost(&l->ix.shards[s]);
        account(l, cost, 0);
        pthread_mutex_unlock(&l->mu);
        ft_buf_clear(&why);
        it.rc = ft_mds_shard_load(l->dir, &l->ix, s, &it.sh, &why);
        if (it.rc < 0) {
            ft_buf msg;
            ft_buf_init(&msg);
            ft_buf_addf(&msg, "shard '%s/%s': %s", l->dir, l->ix.shards[s].basename,
                        why.len ? why.data : ft_strerror(it.rc));
            it.why = msg.data; /* owned by the item now */
        }
        pthread_mutex_lock(&l->mu);
        account(l, -cost + (int64_t)it.sh.len, it.rc == 0);
        l->shards_read++;
        l->q[(l->qhead + l->qn) % (size_t)l->o.prefetch] = it;
        l->qn++;
        pthread_cond_broadcast(&l->cv);
    }
    pthread_mutex_unlock(&l->mu);
    ft_buf_release(&why);
    return NULL;
}

static void item_release(ft_loader *l, item *it) {
    pthread_mutex_lock(&l->mu);
    account(l, -(int64_t)it->sh.len, -(it->sh.data != NULL));
    pthread_mutex_unlock(&l->mu);
    ft_mds_shard_release(&it->sh);
    free(it->why);
    it->why = NULL;
}

static int start_thread(ft_loader *l, uint64_t epoch, size_t k) {
    l->t_epoch = epoch, l->t_k = k, l->stop = 0;
    FT_RETURN_IF(pthread_create(&l->th, NULL, reader, l) != 0, FT_ENOMEM);
    l->running = 1;
    return 0;
}

static void stop_thread(ft_loader *l) {
    if (l->running) {
        pthread_mutex_lock(&l->mu);
        l->stop = 1;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->th, NULL);
        l->running = 0;
    }
    while (l->qn) {
        item it = l->q[l->qhead];
        l->qhead = (l->qhead + 1) % (size_t)l->o.prefetch, l->qn--;
        item_release(l, &it);
    }
}

/* The next shard from the queue: it must be the next_k-th of the current epoch's order. */
static item pop(ft_loader *l) {
    pthread_mutex_lock(&l->mu);
    while (!l->qn)
        pthread_cond_wait(&l->cv, &l->mu);
    item it = l->q[l->qhead];
    l->qhead = (l->qhead + 1) % (size_t)l->o.prefetch, l->qn--;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    FT_ASSERT(it.epoch == l->pos.epoch && it.k == l->next_k);
    l->next_k++;
    return it;
}

/* ---- the caller's side --------------------------------------------------------------------------------- */

static int fail_sticky(ft_loader *l, int rc, const char *msg, ft_buf *why) {
    l->err = rc;
    ft_buf_clear(&l->err_why);
    ft_buf_adds(&l->err_why, msg);
    return ft_fail(why, rc, "%s", msg);
}

static void release_window(ft_loader *l) {
    for (size_t j = 0; j < l->nheld; j++) {
        item it = {.sh = l->held[j]};
        item_release(l, &it);
    }
    l->nheld = 0, l->win = -1;
}

/* Takes shards from the queue up to (not including) the k-th of the epoch, dropping them. */
static void skip_to(ft_loader *l, size_t k) {
    while (l->next_k < k) {
        item it = pop(l);
        item_release(l, &it);
    }
}

static int load_window(ft_loader *l, size_t w, ft_buf *why) {
    release_window(l);
    size_t W = (size_t)l->o.window, k0 = w * W, k1 = k0 + W < l->ix.nshards ? k0 + W : l->ix.nshards;
    skip_to(l, k0);
    l->held_pre[0] = 0;
    while (l->next_k < k1) {
        item it = pop(l);
        if (it.rc < 0) {
            int rc = fail_sticky(l, it.rc, it.why, why);
            item_release(l, &it);
            return rc;
        }
        l->held[l->nheld] = it.sh;
        l->held_pre[l->nheld + 1] = l->held_pre[l->nheld] + it.sh.n;
        l->nheld++;
    }
    uint64_t n = l->wstart[w + 1] - l->wstart[w];
    FT_ASSERT(n == l->held_pre[l->nheld]);
    if (n > UINT32_MAX)
        return fail_sticky(l, FT_ETOOBIG, "a window of more than 2^32 rows: use a smaller window", why);
    if (n > l->wperm_cap) {
        free(l->wperm);
        l->wperm = malloc(n * sizeof *l->wperm);
        l->wperm_cap = l->wperm ? n : 0;
        if (!l->wperm) return fail_sticky(l, FT_ENOMEM, "out of memory for a window's row order", why);
    }
    permute(mix(epoch_seed(l, l->pos.epoch), w), l->wperm, n);
    l->win = (long)w;
    return 0;
}

/* Global row x of the current epoch into l->rb. */
static int get_row(ft_loader *l, uint64_t x, ft_buf *why) {
    size_t w = window_of(l, x);
    if ((long)w != l->win) FT_TRY(load_window(l, w, why));
    uint64_t local = l->wperm[x - l->wstart[w]];
    size_t j = 0;
    while (l->held_pre[j + 1] <= local)
        j++;
    const ft_mds_shard_info *si = &l->ix.shards[l->perm[w * (size_t)l->o.window + j]];
    ft_buf r;
    ft_buf_init(&r);
    int rc = ft_mds_shard_row(&l->held[j], (uint32_t)(local - l->held_pre[j]), &l->rb, &r);
    if (rc == 0 && l->rb.n > (size_t)l->T) {
        rc = ft_fail(&r, FT_EPARSE, "sample %llu: %zu tokens, longer than seq_len %d",
                     (unsigned long long)(local - l->held_pre[j]), l->rb.n, l->T);
    }
    if (rc < 0) {
        ft_buf msg;
        ft_buf_init(&msg);
        ft_buf_addf(&msg, "shard '%s/%s': %s", l->dir, si->basename, r.len ? r.data : ft_strerror(rc));
        fail_sticky(l, rc, msg.data, why);
        ft_buf_release(&msg);
    }
    ft_buf_release(&r);
    return rc;
}

/* Row b of the batch from l->rb (or padding only when rb is NULL); appends its segments. */
static void put_row(ft_loader *l, ft_loader_batch *b, int row, const ft_mds_rowbuf *rb) {
    size_t T = (size_t)l->T, at = (size_t)row * T, n = rb ? rb->n : 0, docs = rb ? rb->docs : 0;
    for (size_t t = 0; t < n; t++)
        l->ids[at + t] = (int32_t)rb->ids[t];
    if (n) memcpy(l->mask + at, rb->mask, n);
    memset(l->ids + at + n, 0, (T - n) * sizeof *l->ids);
    memset(l->mask + at + n, 0, T - n);
    int32_t *lens = l->seq_lens + b->ndocs;
    for (size_t d = 0; d < docs; d++) {
        lens[d] = (int32_t)rb->seq_lens[d];
        l->cu[b->nseg + 1] = l->cu[b->nseg] + lens[d];
        b->nseg++;
    }
    if (n < T) l->cu[b->nseg + 1] = l->cu[b->nseg] + (int32_t)(T - n), b->nseg++;
    FT_ASSERT(ft_seq_layout(lens, (int)docs, (int)T, l->pos_ids + at, l->start + at) == 0);
    b->ndocs += (int)docs;
    l->row_docs[row + 1] = b->ndocs;
    b->tokens += n;
}

/* Moves to the next epoch: the queue's remaining shards of this one are dropped. */
static void next_epoch(ft_loader *l) {
    release_window(l);
    skip_to(l, l->ix.nshards);
    l->pos.epoch++, l->pos.sample = 0, l->next_k = 0, l->have_end = 0;
}

int ft_loader_next(ft_loader *l, ft_loader_batch *b, ft_buf *why) {
    if (l->err) return ft_fail(why, l->err, "%s", l->err_why.data);
    set_order(l, l->pos.epoch);
    uint64_t rows = l->ix.samples, n = (uint64_t)l->o.world;
    if (!l->have_end) l->end = l->pos.sample + (rows - l->pos.sample) / n * n, l->have_end = 1;
    memset(b, 0, sizeof *b);
    b->B = l->o.batch, b->T = l->T, b->epoch = l->pos.epoch, b->sample = l->pos.sample + (uint64_t)l->o.rank;
    b->ids = l->ids, b->mask = l->mask, b->pos = l->pos_ids, b->start = l->start, b->seq_lens = l->seq_lens;
    b->row_docs = l->row_docs, b->cu_seqlens = l->cu;
    l->row_docs[0] = 0, l->cu[0] = 0;
    while (b->rows < b->B && l->pos.sample < l->end) {
        FT_TRY(get_row(l, l->pos.sample + (uint64_t)l->o.rank, why));
        put_row(l, b, b->rows++, &l->rb);
        l->pos.sample += n;
    }
    if (!b->rows) {
        next_epoch(l);
        return 0;
    }
    for (int r = b->rows; r < b->B; r++)
        put_row(l, b, r, NULL);
    return 1;
}

ft_loader_pos ft_loader_tell(const ft_loader *l) { return l->pos; }

int ft_loader_seek(ft_loader *l, ft_loader_pos p) {
    FT_RETURN_IF(p.sample > l->ix.samples, FT_EINVAL);
    stop_thread(l);
    release_window(l);
    l->pos = p, l->have_end = 0, l->err = 0;
    set_order(l, p.epoch);
    /* The thread starts at the window holding p.sample (at the next epoch when p is the epoch's end). */
    l->next_k = p.sample < l->ix.samples ? window_of(l, p.sample) * (size_t)l->o.window : l->ix.nshards;
    int rc = start_thread(l, p.epoch, l->next_k);
    if (rc < 0) fail_sticky(l, rc, "cannot start the reader thread", NULL);
    return rc;
}

void ft_loader_stats_get(ft_loader *l, ft_loader_stats *st) {
    pthread_mutex_lock(&l->mu);
    *st = (ft_loader_stats){.rows = l->ix.samples,
                            .shards = l->ix.nshards,
                            .held_bytes = l->held_bytes,
                            .peak_bytes = l->peak_bytes,
                            .peak_shards = l->peak_shards,
                            .shards_read = l->shards_read};
    pthread_mutex_unlock(&l->mu);
}

int ft_loader_open(const char *dir, const ft_loader_opts *o, ft_loader **out, ft_buf *why) {
    *out = NULL;
    if (o->world < 1 || o->rank < 0 || o->rank >= o->world || o->batch < 1 || o->window < 1 ||
        o->prefetch < 1 || o->seq_len < 0 || o->seq_len > (int)FT_MDS_MAX_ROW)
        return ft_fail(why, FT_EINVAL, "bad loader options");
    ft_loader *l = calloc(1, sizeof *l);
    FT_RETURN_IF(!l, FT_ENOMEM);
    l->o = *o, l->win = -1;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    ft_buf_init(&l->err_why);
    ft_mds_rowbuf_init(&l->rb);
    int rc = ft_mds_index_load(dir, &l->ix, why);
    if (rc < 0) {
        ft_loader_free(l);
        return rc;
    }
    int64_t T = o->seq_len ? o->seq_len : (int64_t)ft_mds_index_seq_len(&l->ix);
    size_t B = (size_t)o->batch, W = (size_t)o->window;
    if (!T)
        rc = ft_fail(why, FT_EINVAL, "'%s/index.json' gives no seq_len: set one", dir);
    else if ((uint64_t)T * B > INT32_MAX)
        rc = ft_fail(why, FT_EINVAL, "a batch of %zu x %lld is too large", B, (long long)T);
    else if (l->ix.samples < (uint64_t)o->world)
        rc = ft_fail(why, FT_EINVAL, "'%s' holds %llu rows, fewer than the %d ranks", dir,
                     (unsigned long long)l->ix.samples, o->world);
    if (rc < 0) {
        ft_loader_free(l);
        return rc;
    }
    l->T = (int)T;
    l->nwin = (l->ix.nshards + W - 1) / W;
    size_t N = B * (size_t)T;
    l->dir = strdup(dir);
    l->perm = malloc(l->ix.nshards * sizeof *l->perm + 1);
    l->t_perm = malloc(l->ix.nshards * sizeof *l->t_perm + 1);
    l->wstart = malloc((l->nwin + 1) * sizeof *l->wstart);
    l->held = calloc(W, sizeof *l->held);
    l->held_pre = malloc((W + 1) * sizeof *l->held_pre);
    l->q = calloc((size_t)o->prefetch, sizeof *l->q);
    l->ids = malloc(N * sizeof *l->ids), l->pos_ids = malloc(N * sizeof *l->pos_ids);
    l->start = malloc(N * sizeof *l->start), l->seq_lens = malloc(N * sizeof *l->seq_lens);
    l->row_docs = malloc((B + 1) * sizeof *l->row_docs), l->cu = malloc((N + B + 1) * sizeof *l->cu);
    l->mask = malloc(N);
    if (!l->dir || !l->perm || !l->t_perm || !l->wstart || !l->held || !l->held_pre || !l->q || !l->ids ||
        !l->pos_ids || !l->start || !l->seq_lens || !l->row_docs || !l->cu || !l->mask) {
        ft_loader_free(l);
        return FT_ENOMEM;
    }
    if ((rc = ft_loader_seek(l, (ft_loader_pos){o->epoch, 0})) < 0) {
        ft_loader_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void ft_loader_free(ft_loader *l) {
    if (!l) return;
    stop_thread(l);
    if (l->held) release_window(l);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    ft_mds_index_release(&l->ix);
    ft_mds_rowbuf_release(&l->rb);
    ft_buf_release(&l->err_why);
    free(l->dir), free(l->perm), free(l->t_perm), free(l->wstart), free(l->held), free(l->held_pre);
    free(l->q), free(l->wperm), free(l->ids), free(l->pos_ids), free(l->start), free(l->seq_lens);
    free(l->row_docs), free(l->cu), free(l->mask);
    free(l);
}
