/* cpu.c: the CPU backend: the ops of backend.h threaded with OpenMP (rows, heads, GEMM tiles) and the GEMMs
 * blocked for the caches with an AVX2/FMA micro-kernel chosen at run time (plain C otherwise).
 * Rule: same results as kernels/ref.c within float rounding; every GEMM shape goes through one driver, which
 * takes its B operand a panel of rows at a time (dequantizing bf16/NF4 weights on the fly). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_X86 1
#endif

#include "backend.h"
#include "pointwise.h"
#include "ref.h"

enum { THREAD_WORK = 1 << 16 }; /* multiply-adds (or elements) worth a thread: about 10-50 us */

/* Threads for a parallel region doing about work elementary operations: the handle's count (else the OpenMP
 * default), but no more than one per THREAD_WORK, so the many tiny ops of a one-token step run on one thread
 * instead of paying for a barrier (which costs milliseconds when another process holds a core). */
static int nthreads(const ft_backend *be, double work) {
#ifdef _OPENMP
    int n = be && be->nthreads > 0 ? be->nthreads : omp_get_max_threads();
    double want = work / THREAD_WORK + 1;
    return want < n ? (int)want : n;
#else
    (void)be, (void)work;
    return 1;
#endif
}

static int thread_id(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* ---- GEMM: C (M, Nn) = alpha · A (M, K) Bᵀ, B (Nn, K) given by rows ---- */

enum { MB = 64, NB = 64, KC = 512 };

/* Rows [j0, j0 + nj) of the B operand (Nn, K) as float: a pointer into B with row stride *ld, or rows written
 * to scratch (nj, K). */
typedef const float *(*rows_fn)(const void *ctx, int j0, int nj, int K, float *scratch, int *ld);

static float dot_plain(const float *a, const float *b, int K) {
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (int k = 0; k < K; k++)
        s += a[k] * b[k];
    return s;
}

/* acc (mb, NB) += A (mb, kc) · B (nb, kc)ᵀ, plain C. */
static void block_plain(const float *A, int lda, const float *B, int ldb, int mb, int nb, int kc,
                        float *acc) {
    for (int m = 0; m < mb; m++)
        for (int j = 0; j < nb; j++)
            acc[m * NB + j] += dot_plain(A + (size_t)m * lda, B + (size_t)j * ldb, kc);
}

#ifdef CPU_X86
__attribute__((target("avx2,fma"))) static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* The same with a 4 x 2 register tile of 8-float FMA accumulators. */
__attribute__((target("avx2,fma"))) static void block_avx2(const float *A, int lda, const float *B, int ldb,
                                                           int mb, int nb, int kc, float *acc) {
    int k8 = kc & ~7, m = 0;
    for (; m + 4 <= mb; m += 4) {
        const float *a0 = A + (size_t)m * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
        int j = 0;
        for (; j + 2 <= nb; j += 2) {
            const float *b0 = B + (size_t)j * ldb, *b1 = b0 + ldb;
            __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
                   c30 = c00, c31 = c00;
            for (int k = 0; k < k8; k += 8) {
                __m256 w0 = _mm256_loadu_ps(b0 + k), w1 = _mm256_loadu_ps(b1 + k), x;
                x = _mm256_loadu_ps(a0 + k);
                c00 = _mm256_fmadd_ps(x, w0, c00);
                c01 = _mm256_fmadd_ps(x, w1, c01);
                x = _mm256_loadu_ps(a1 + k);
                c10 = _mm256_fmadd_ps(x, w0, c10);
                c11 = _mm256_fmadd_ps(x, w1, c11);
                x = _mm256_loadu_ps(a2 + k);
                c20 = _mm256_fmadd_ps(x, w0, c20);
                c21 = _mm256_fmadd_ps(x, w1, c21);
                x = _mm256_loadu_ps(a3 + k);
                c30 = _mm256_fmadd_ps(x, w0, c30);
                c31 = _mm256_fmadd_ps(x, w1, c31);
            }
            float *c = acc + m * NB + j;
            c[0] += hsum8(c00), c[1] += hsum8(c01), c[NB] += hsum8(c10), c[NB + 1] += hsum8(c11);
            c[2 * NB] += hsum8(c20), c[2 * NB + 1] += hsum8(c21), c[3 * NB] += hsum8(c30),
                c[3 * NB + 1] += hsum8(c31);
        }
        if (j < nb)
            block_plain(A + (size_t)m * lda, lda, B + (size_t)j * ldb, ldb, 4, nb - j, kc, acc + m * NB + j);
    }
    if (m < mb) block_plain(A + (size_t)m * lda, lda, B, ldb, mb - m, nb, kc, acc + m * NB);
    if (k8 < kc && m > 0 && nb >= 2) /* the k tail of the 4 x 2 tiles */
        block_plain(A + k8, lda, B + k8, ldb, m, nb & ~1, kc - k8, acc);
}

static int have_avx2(void) {
    static int v = -1;
    if (v < 0) v = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return v;
}
#endif

static void block(const float *A, int lda, const float *B, int ldb, int mb, int nb, int kc, float *acc) {
#ifdef CPU_X86
    if (have_avx2()) {
        block_avx2(A, lda, B, ldb, mb, nb, kc, acc);
        return;
    }
#endif
    block_plain(A, lda, B, ldb, mb, nb, kc, acc);
}

/* C[m, j] = (accumulate ? C[m, j] : bias ? bias[j] : 0) + alpha · Σ_k A[m, k] B[j, k], threaded over MB x NB
 * tiles; each tile asks for its B rows once (scratch per thread) and walks K in KC steps. */
static void gemm(const ft_backend *be, float *Cm, int ldc, const float *A, int lda, int M, int Nn, int K,
                 rows_fn rows, const void *ctx, float alpha, const float *bias, int accumulate) {
    int mt = (M + MB - 1) / MB, nt = (Nn + NB - 1) / NB, nth = nthreads(be, (double)M * Nn * K);
    long ntasks = (long)mt * nt;
    if (ntasks == 0) return;
    if (ntasks < nth) nth = (int)ntasks;
#pragma omp parallel num_threads(nth)
    {
        float *scratch = malloc(((size_t)NB * K + 1) * sizeof *scratch); /* (NB, K) B rows */
        float *acc = malloc((size_t)MB * NB * sizeof *acc);              /* (MB, NB) tile */
        FT_ASSERT(scratch && acc);
#pragma omp for schedule(dynamic)
        for (long task = 0; task < ntasks; task++) {
            int j0 = (int)(task / mt) * NB, m0 = (int)(task % mt) * MB;
            int nb = Nn - j0 < NB ? Nn - j0 : NB, mb = M - m0 < MB ? M - m0 : MB, ldb = K;
            const float *Bp = rows(ctx, j0, nb, K, scratch, &ldb);
            memset(acc, 0, sizeof(float) * MB * NB);
            for (int k0 = 0; k0 < K; k0 += KC)
                block(A + (size_t)m0 * lda + k0, lda, Bp + k0, ldb, mb, nb, K - k0 < KC ? K - k0 : KC, acc);
            for (int m = 0; m < mb; m++) {
                float *c = Cm + (size_t)(m0 + m) * ldc + j0;
                for (int j = 0; j < nb; j++) {
                    float base = accumulate ? c[j] : bias ? bias[j0 + j] : 0.0f;
                    c[j] = base + alpha * acc[m * NB + j];
                }
            }
        }
        free(scratch);
        free(acc);
    }
}

/* B = a plain float matrix (Nn, K), row stride K. */
static const float *rows_f32(const void *ctx, int j0, int nj, int K, float *scratch, int *ld) {
    (void)nj, (void)scratch;
    *ld = K;
    return (const float *)ctx + (size_t)j0 * K;
}

/* B = W (O, I): rows of the weight, dequantized unless fp32. */
static const float *rows_weight(const void *ctx, int j0, int nj, int K, float *scratch, int *ld) {
    const ft_weight *W = ctx;
    *ld = K;
    if (W->type == FT_WTYPE_F32) return W->f32 + (size_t)j0 * K;
    for (int j = 0; j < nj; j++)
        ft_weight_row(W, j0 + j, 0, K, scratch + (size_t)j * K);
    return scratch;
}

/* B = Wᵀ (I, O): columns [j0, j0 + nj) of W gathered into rows. */
static const float *rows_weight_t(const void *ctx, int j0, int nj, int K, float *scratch, int *ld) {
    const ft_weight *W = ctx;
    float seg[NB];
    *ld = K;
    for (int o = 0; o < K; o++) {
        ft_weight_row(W, o, j0, nj, seg);
        for (int j = 0; j < nj; j++)
            scratch[(size_t)j * K + o] = seg[j];
    }
    return scratch;
}

/* dst (cols, rows) = srcᵀ, src (rows, cols). */
static void transpose(const ft_backend *be, float *dst, const float *src, int rows, int cols) {
#pragma omp parallel for num_threads(nthreads(be, (double)rows * cols)) schedule(static)
    for (int c0 = 0; c0 < cols; c0 += 32)
        for (int r = 0; r < rows; r++)
            for (int c = c0; c < cols && c < c0 + 32; c++)
                dst[(size_t)c * rows + r] = src[(size_t)r * cols + c];
}

/* ---- ops ---- */

static int cpu_supports(const ft_backend *be, ft_op op, ft_wtype wt) {
    (void)be;
    return op >= 0 && op < FT_OP_COUNT && op != FT_OP_EMBEDDING_BACKWARD && wt >= 0 && wt < FT_WTYPE_COUNT;
}

static void cpu_embedding(ft_backend *be, float *out, const int32_t *ids, const ft_weight *wte, int N) {
#pragma omp parallel for num_threads(nthreads(be, (double)N * wte->in)) schedule(static)
    for (int n = 0; n < N; n++)
        ft_embedding_row(out + (size_t)n * wte->in, ids[n], wte); /* (C) */
}

static void cpu_rmsnorm(ft_backend *be, float *out, float *rstd, const float *x, const float *w, int N, int C,
                        float eps) {
#pragma omp parallel for num_threads(nthreads(be, (double)N * C)) schedule(static)
    for (int n = 0; n < N; n++) {
        float r = ft_rmsnorm_row(out + (size_t)n * C, x + (size_t)n * C, w, C, eps); /* (C) rows */
        if (rstd) rstd[n] = r;
    }
}

/* The rotation of ref.c, with each token's cos/sin computed once for all its heads. */
static void cpu_rope_rotate(const ft_backend *be, float *x, const int32_t *pos, int N, int nh, int D,
                            float theta, double sign) {
#pragma omp parallel num_threads(nthreads(be, (double)N * nh * D))
    {
        float *cs = malloc(((size_t)D + 1) * sizeof *cs); /* (2, D/2) cos, sin */
        FT_ASSERT(cs);
#pragma omp for schedule(static)
        for (int n = 0; n < N; n++) {
            ft_rope_angles(cs, pos[n], D, theta, sign);
            for (int h = 0; h < nh; h++)
                ft_rope_head(x + ((size_t)n * nh + h) * D, cs, D); /* (D) */
        }
        free(cs);
    }
}

static void cpu_rope(ft_backend *be, float *x, const int32_t *pos, int N, int nh, int D, float theta) {
    cpu_rope_rotate(be, x, pos, N, nh, D, theta, 1.0);
}

static void cpu_rope_backward(ft_backend *be, float *dx, const int32_t *pos, int N, int nh, int D,
                              float theta) {
    cpu_rope_rotate(be, dx, pos, N, nh, D, theta, -1.0);
}

/* e^x for finite x <= 0 (softmax terms), within about 2 float ulps: 2^n e^r with n = round(x / ln 2) and
 * |r| <= ln 2 / 2, e^r by its Taylor polynomial to degree 7 (truncation < 6e-9 relative); below 2^-126
 * (x < -87.7) it gives 0 instead of a subnormal. No float compare (which -ftrapping-math keeps from being
 * if-converted), so loops over it vectorize. */
static inline float exp_neg(float x) {
    float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f; /* round to nearest through 1.5 * 2^23 */
    float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;   /* ln 2 in two parts: exact n * hi */
    float p = 1.0f / 5040 + r * (1.0f / 40320);
    p = 1.0f / 720 + r * p;
    p = 1.0f / 120 + r * p;
    p = 1.0f / 24 + r * p;
    p = 1.0f / 6 + r * p;
    p = 0.5f + r * p;
    p = 1.0f + r * (1.0f + r * p);
    int32_t ni = (int32_t)n;
    ni = ni < -127 ? -127 : ni; /* 2^-127 -> bits 0 = 0.0f */
    union {
        int32_t i;
        float f;
    } scale = {.i = (ni + 127) * (1 << 23)};
    return p * scale.f;
}

/* One attention tile: queries [i0, i1) of one sequence, all query heads of kv head kh. Query i sits at
 * position off + i, reads q row qrow0 + i and keys j0 .. off + i (j0 = start[qrow0 + i], or 0 without
 * start) at rows krow0 + j of k, v. The keys and values of kv head kh are first transposed into kt, vt
 * (D, off + i1), so every inner loop runs over contiguous keys. s (off + i1) is scratch. */
__attribute__((target_clones("avx2", "default"))) static void
att_tile(float *out, float *lse, const float *q, const float *k, const float *v, const int32_t *start,
         const float *alibi, size_t qrow0, size_t krow0, int off, int i0, int i1, int H, int Hkv, int kh,
         int D, float *kt, float *vt, float *s) {
    int group = H / Hkv, L = off + i1;
    float scale = (float)(1.0 / sqrt((double)D));
    for (int j = 0; j < L; j++)
        for (int d = 0; d < D; d++) {
            size_t at = ((krow0 + j) * Hkv + kh) * D + d;
            kt[(size_t)d * L + j] = k[at];
            vt[(size_t)d * L + j] = v[at];
        }
    for (int i = i0; i < i1; i++)
        for (int h = kh * group; h < (kh + 1) * group; h++) {
            size_t qi = ((qrow0 + i) * H + h) * D;
            int t = off + i, j0 = start ? start[qrow0 + i] : 0;
            float slope = alibi ? alibi[h] : 0.0f, mx = -INFINITY, sum = 0;
#pragma omp simd
            for (int j = j0; j <= t; j++)
                s[j] = 0;
            for (int d = 0; d < D; d++) {
                float qd = q[qi + d];
                const float *kd = kt + (size_t)d * L;
#pragma omp simd
                for (int j = j0; j <= t; j++)
                    s[j] += qd * kd[j];
            }
#pragma omp simd reduction(max : mx)
            for (int j = j0; j <= t; j++) {
                s[j] = s[j] * scale - slope * (float)(t - j);
                mx = s[j] > mx ? s[j] : mx;
            }
#pragma omp simd
            for (int j = j0; j <= t; j++)
                s[j] = exp_neg(s[j] - mx);
#pragma omp simd reduction(+ : sum)
            for (int j = j0; j <= t; j++)
                sum += s[j];
            for (int d = 0; d < D; d++) {
                const float *vd = vt + (size_t)d * L;
                float acc = 0;
#pragma omp simd reduction(+ : acc)
                for (int j = j0; j <= t; j++)
                    acc += s[j] * vd[j];
                out[qi + d] = acc / sum;
            }
            if (lse) lse[(qrow0 + i) * H + h] = mx + logf(sum);
        }
}

enum { ATT_TILE = 64 }; /* queries per attention task */

/* Tasks (row, kv head, tile of queries), each with its own transposed keys and values. */
static void cpu_attention(ft_backend *be, float *out, float *lse, const float *q, const float *k,
                          const float *v, const int32_t *start, const float *alibi, int B, int T, int H,
                          int Hkv, int D) {
    int tiles = (T + ATT_TILE - 1) / ATT_TILE;
    long ntasks = (long)B * Hkv * tiles;
    FT_ASSERT(H % Hkv == 0);
#pragma omp parallel num_threads(nthreads(be, (double)B * H * T * T * D))
    {
        float *kt = malloc(((size_t)2 * D + 1) * T * sizeof *kt + sizeof *kt); /* (2, D, T) + (T) */
        FT_ASSERT(kt);
#pragma omp for schedule(dynamic)
        for (long task = ntasks - 1; task >= 0; task--) { /* the long tiles (last rows) first */
            int tile = (int)(task % tiles), kh = (int)(task / tiles % Hkv), b = (int)(task / tiles / Hkv);
            int i0 = tile * ATT_TILE, i1 = i0 + ATT_TILE < T ? i0 + ATT_TILE : T;
            att_tile(out, lse, q, k, v, start, alibi, (size_t)b * T, (size_t)b * T, 0, i0, i1, H, Hkv, kh, D,
                     kt, kt + (size_t)D * i1, kt + (size_t)2 * D * i1);
        }
        free(kt);
    }
}

static void cpu_attention_kv(ft_backend *be, float *out, const float *q, const float *k, const float *v,
                             const float *alibi, int p0, int n, int H, int Hkv, int D) {
    int tiles = (n + ATT_TILE - 1) / ATT_TILE;
    long ntasks = (long)Hkv * tiles;
    size_t P = (size_t)p0 + n;
    FT_ASSERT(H % Hkv == 0);
#pragma omp parallel num_threads(nthreads(be, (double)n * H * P * D))
    {
        float *kt = malloc(((size_t)2 * D + 1) * P * sizeof *kt + sizeof *kt); /* (2, D, P) + (P) */
        FT_ASSERT(kt);
#pragma omp for schedule(dynamic)
        for (long task = ntasks - 1; task >= 0; task--) {
            int tile = (int)(task % tiles), kh = (int)(task / tiles);
            int i0 = tile * ATT_TILE, i1 = i0 + ATT_TILE < n ? i0 + ATT_TILE : n;
            size_t L = (size_t)p0 + i1;
            att_tile(out, NULL, q, k, v, NULL, alibi, 0, 0, p0, i0, i1, H, Hkv, kh, D, kt, kt + (size_t)D * L,
                     kt + (size_t)2 * D * L);
        }
        free(kt);
    }
}

/* Scores of query t (head h) against keys start..t into s (T), scaled, with the ALiBi bias; returns the max.
 */
static float att_scores(const float *qt, const float *k, int b, int T, int Hkv, int kh, int D, int j0, int t,
                        float scale, float slope, float *s) {
    float mx = -INFINITY;
    for (int j = j0; j <= t; j++) {
        const float *kj = k + (((size_t)b * T + j) * Hkv + kh) * D; /* (D) */
        s[j] = dot_plain(qt, kj, D) * scale - slope * (float)(t - j);
        if (s[j] > mx) mx = s[j];
    }
    return mx;
}

/* One task per (row, kv head): it alone writes that head's dk, dv and the dq of its query heads. */
static void cpu_attention_backward(ft_backend *be, float *dq, float *dk, float *dv, const float *dout,
                                   const float *q, const float *k, const float *v, const float *out,
                                   const float *lse, const int32_t *start, const float *alibi, int B, int T,
                                   int H, int Hkv, int D) {
    int group = H / Hkv;
    float scale = (float)(1.0 / sqrt((double)D));
#pragma omp parallel num_threads(nthreads(be, (double)B * H * T * T * D))
    {
        float *s = malloc(((size_t)T + 1) * sizeof *s); /* (T) */
        FT_ASSERT(s);
#pragma omp for collapse(2) schedule(dynamic)
        for (int b = 0; b < B; b++)
            for (int kh = 0; kh < Hkv; kh++)
                for (int h = kh * group; h < (kh + 1) * group; h++)
                    for (int t = 0; t < T; t++) {
                        size_t nt = (size_t)b * T + t, qi = (nt * H + h) * D;
                        int j0 = start[nt];
                        float slope = alibi ? alibi[h] : 0.0f, l = lse[nt * H + h];
                        float di = dot_plain(dout + qi, out + qi, D);
                        att_scores(q + qi, k, b, T, Hkv, kh, D, j0, t, scale, slope, s);
                        for (int j = j0; j <= t; j++) {
                            size_t kv = (((size_t)b * T + j) * Hkv + kh) * D;
                            float p = expf(s[j] - l);
                            float ds = p * (dot_plain(dout + qi, v + kv, D) - di) * scale;
                            for (int d = 0; d < D; d++) {
                                if (dq) dq[qi + d] += ds * k[kv + d];
                                if (dk) dk[kv + d] += ds * q[qi + d];
                                if (dv) dv[kv + d] += p * dout[qi + d];
                            }
                        }
                    }
        free(s);
    }
}

static void cpu_swiglu(ft_backend *be, float *out, const float *gate, const float *up, size_t n) {
#pragma omp parallel for num_threads(nthreads(be, (double)n)) schedule(static)
    for (size_t i = 0; i < n; i++)
        out[i] = ft_swiglu1(gate[i], up[i]);
}

static void cpu_swiglu_backward(ft_backend *be, float *dgate, float *dup, const float *dout,
                                const float *gate, const float *up, size_t n) {
#pragma omp parallel for num_threads(nthreads(be, (double)n)) schedule(static)
    for (size_t i = 0; i < n; i++)
        ft_swiglu1_backward(dout[i], gate[i], up[i], dgate ? dgate + i : NULL, dup ? dup + i : NULL);
}

static void cpu_matmul(ft_backend *be, float *y, const float *x, const ft_weight *W, const float *bias,
                       int N) {
    gemm(be, y, W->out, x, W->in, N, W->out, W->in, rows_weight, W, 1.0f, bias, 0);
}

static void cpu_add(ft_backend *be, float *y, const float *x, size_t n) {
#pragma omp parallel for num_threads(nthreads(be, (double)n)) schedule(static)
    for (size_t i = 0; i < n; i++)
        y[i] += x[i];
}

static void cpu_lora(ft_backend *be, float *y, float *xa, const float *x, const ft_weight *W,
                     const float *bias, const float *A, const float *Bm, int R, float scale, int N) {
    int I = W->in, O = W->out;
    float *t = xa ? xa : malloc((size_t)N * R * sizeof *t + 1); /* (N, R) x Aᵀ */
    FT_ASSERT(t);
    cpu_matmul(be, y, x, W, bias, N);
    gemm(be, t, R, x, I, N, R, I, rows_f32, A, 1.0f, NULL, 0);
    gemm(be, y, O, t, R, N, O, R, rows_f32, Bm, scale, NULL, 1);
    if (t != xa) free(t);
}

static void cpu_matmul_backward(ft_backend *be, float *dx, float *dW, float *dbias, const float *dy,
                                const float *x, const ft_weight *W, int N) {
    int I = W->in, O = W->out;
    FT_ASSERT(!dW || W->type == FT_WTYPE_F32);
    if (dx) gemm(be, dx, I, dy, O, N, I, O, rows_weight_t, W, 1.0f, NULL, 1);
    if (dW) {
        float *dyt = malloc((size_t)O * N * sizeof *dyt + 1), *xt = malloc((size_t)I * N * sizeof *xt + 1);
        FT_ASSERT(dyt && xt);
        transpose(be, dyt, dy, N, O); /* (O, N) */
        transpose(be, xt, x, N, I);   /* (I, N) */
        gemm(be, dW, I, dyt, N, O, I, N, rows_f32, xt, 1.0f, NULL, 1);
        free(dyt);
        free(xt);
    }
    if (dbias) {
#pragma omp parallel for num_threads(nthreads(be, (double)N * O)) schedule(static)
        for (int o = 0; o < O; o++)
            dbias[o] += ft_col_sum(dy, N, O, o);
    }
}

static void cpu_lora_backward(ft_backend *be, float *dx, float *dA, float *dB, const float *dy,
                              const float *x, const float *xa, const ft_weight *W, const float *A,
                              const float *Bm, int R, float scale, int N) {
    int I = W->in, O = W->out;
    float *dxa = malloc((size_t)N * R * sizeof *dxa + 1); /* (N, R) s dy Bm */
    FT_ASSERT(dxa);
    ft_weight wb = ft_weight_f32(Bm, O, R), wa = ft_weight_f32(A, R, I);
    gemm(be, dxa, R, dy, O, N, R, O, rows_weight_t, &wb, scale, NULL, 0);
    if (dB) {
        float *dyt = malloc((size_t)O * N * sizeof *dyt + 1), *xat = malloc((size_t)R * N * sizeof *xat + 1);
        FT_ASSERT(dyt && xat);
        transpose(be, dyt, dy, N, O); /* (O, N) */
        transpose(be, xat, xa, N, R); /* (R, N) */
        gemm(be, dB, R, dyt, N, O, R, N, rows_f32, xat, scale, NULL, 1);
        free(dyt);
        free(xat);
    }
    if (dA) cpu_matmul_backward(be, NULL, dA, NULL, dxa, x, &wa, N);
    if (dx) {
        cpu_matmul_backward(be, dx, NULL, NULL, dy, NULL, W, N);
        gemm(be, dx, I, dxa, R, N, I, R, rows_weight_t, &wa, 1.0f, NULL, 1);
    }
    free(dxa);
}

static void cpu_head(ft_backend *be, float *logp, const float *x, const float *w, float eps,
                     const ft_weight *W, int N) {
    int C = W->in, V = W->out;
    float *xn = malloc((size_t)N * C * sizeof *xn + 1); /* (N, C) */
    FT_ASSERT(xn);
    cpu_rmsnorm(be, xn, NULL, x, w, N, C, eps);
    cpu_matmul(be, logp, xn, W, NULL, N);
    free(xn);
#pragma omp parallel for num_threads(nthreads(be, (double)N * V)) schedule(static)
    for (int n = 0; n < N; n++) {
        float *z = logp + (size_t)n * V, l = ft_logsumexp_row(z, V); /* (V) */
        for (int i = 0; i < V; i++)
            z[i] -= l;
    }
}

static float cpu_cross_entropy(ft_backend *be, float *losses, const float *logits, const int32_t *targets,
                               int N, int V) {
    double total = 0;
    int count = 0;
#pragma omp parallel for num_threads(nthreads(be, (double)N * V)) schedule(static) reduction(+ : total, count)
    for (int n = 0; n < N; n++) {
        float l = 0;
        if (targets[n] >= 0) {
            FT_ASSERT(targets[n] < V);
            const float *z = logits + (size_t)n * V; /* (V) */
            l = ft_xent_row(z, V, targets[n]);
            total += l;
            count++;
        }
        if (losses) losses[n] = l;
    }
    return count ? (float)(total / count) : 0.0f;
}

static void cpu_cross_entropy_backward(ft_backend *be, float *dlogits, const float *logits,
                                       const int32_t *targets, float dloss, int N, int V) {
#pragma omp parallel for num_threads(nthreads(be, (double)N * V)) schedule(static)
    for (int n = 0; n < N; n++) /* (V) rows */
        if (targets[n] >= 0)
            ft_xent_row_backward(dlogits + (size_t)n * V, logits + (size_t)n * V, V, targets[n], dloss);
}

/* The reference's rmsnorm backward, threaded over rows; dw through per-thread partial sums. */
static void cpu_rmsnorm_backward(ft_backend *be, float *dx, float *dw, const float *dout, const float *x,
                                 const float *w, const float *rstd, int N, int C) {
    int nth = nthreads(be, (double)N * C);
    float *part = dw ? calloc((size_t)nth * C + 1, sizeof *part) : NULL; /* (threads, C) */
    FT_ASSERT(!dw || part);
#pragma omp parallel num_threads(nth)
    {
        float *pw = part ? part + (size_t)thread_id() * C : NULL;
#pragma omp for schedule(static)
        for (int n = 0; n < N; n++) /* (C) rows */
            ft_rmsnorm_row_backward(dx ? dx + (size_t)n * C : NULL, pw, dout + (size_t)n * C,
                                    x + (size_t)n * C, w, rstd[n], C);
    }
    if (dw)
        for (int t = 0; t < nth; t++)
            for (int i = 0; i < C; i++)
                dw[i] += part[(size_t)t * C + i];
    free(part);
}

static const ft_backend_ops cpu_ops = {
    .name = "cpu",
    .supports = cpu_supports,
    .alloc = ft_ref_alloc,
    .free = ft_ref_free,
    .upload = ft_ref_copy,
    .download = ft_ref_copy,
    .embedding = cpu_embedding,
    .rmsnorm = cpu_rmsnorm,
    .rope = cpu_rope,
    .attention = cpu_attention,
    .attention_kv = cpu_attention_kv,
    .swiglu = cpu_swiglu,
    .matmul = cpu_matmul,
    .lora = cpu_lora,
    .add = cpu_add,
    .head = cpu_head,
    .cross_entropy = cpu_cross_entropy,
    .embedding_backward = ft_ref_embedding_backward, /* the reference's (cpu_supports says so) */
    .rmsnorm_backward = cpu_rmsnorm_backward,
    .rope_backward = cpu_rope_backward,
    .attention_backward = cpu_attention_backward,
    .swiglu_backward = cpu_swiglu_backward,
    .matmul_backward = cpu_matmul_backward,
    .lora_backward = cpu_lora_backward,
    .cross_entropy_backward = cpu_cross_entropy_backward,
};

const ft_backend_ops *ft_backend_cpu_ops(void) { return &cpu_ops; }
