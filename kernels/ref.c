/* ref.c: the plain-C reference of every op in backend.h: the specification that every other backend is
 * tested against (llm.c's train_gpt2.c role).
 * Rule: the simplest loops that say what the op is, float32 storage with double accumulators, no threads, no
 * tricks; when the reference and a fast backend disagree, the reference is right. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "pointwise.h"
#include "ref.h"

static int ref_supports(const ft_backend *be, ft_op op, ft_wtype wt) {
    (void)be;
    return op >= 0 && op < FT_OP_COUNT && wt >= 0 && wt < FT_WTYPE_COUNT;
}

void *ft_ref_alloc(ft_backend *be, size_t bytes) {
    (void)be;
    return malloc(bytes ? bytes : 1);
}

void ft_ref_free(ft_backend *be, void *p) {
    (void)be;
    free(p);
}

void ft_ref_copy(ft_backend *be, void *dst, const void *src, size_t bytes) {
    (void)be;
    if (bytes) memcpy(dst, src, bytes);
}

/* ---- forward ---- */

static void ref_embedding(ft_backend *be, float *out, const int32_t *ids, const ft_weight *wte, int N) {
    (void)be;
    for (int n = 0; n < N; n++)
        ft_embedding_row(out + (size_t)n * wte->in, ids[n], wte); /* (C) */
}

static void ref_rmsnorm(ft_backend *be, float *out, float *rstd, const float *x, const float *w, int N, int C,
                        float eps) {
    (void)be;
    for (int n = 0; n < N; n++) {
        float r = ft_rmsnorm_row(out + (size_t)n * C, x + (size_t)n * C, w, C, eps); /* (C) rows */
        if (rstd) rstd[n] = r;
    }
}

/* Rotates each pair (x[i], x[i + D/2]) of every head of every token by sign * pos * theta^(-2i/D). */
static void rope_rotate(float *x, const int32_t *pos, int N, int nh, int D, float theta, double sign) {
    float *cs = malloc(((size_t)D + 1) * sizeof *cs); /* (2, D/2) cos, sin */
    FT_ASSERT(cs);
    for (int n = 0; n < N; n++)
        for (int h = 0; h < nh; h++) {
            ft_rope_angles(cs, pos[n], D, theta, sign);
            ft_rope_head(x + ((size_t)n * nh + h) * D, cs, D); /* (D) */
        }
    free(cs);
}

static void ref_rope(ft_backend *be, float *x, const int32_t *pos, int N, int nh, int D, float theta) {
    (void)be;
    rope_rotate(x, pos, N, nh, D, theta, 1.0);
}

/* The score of query row qt (D) against key row kj (D) at distance t - j. */
static double att_score(const float *qt, const float *kj, int D, double scale, const float *alibi, int h,
                        int t, int j) {
    double s = 0;
    for (int d = 0; d < D; d++)
        s += (double)qt[d] * kj[d];
    s *= scale;
    if (alibi) s -= (double)alibi[h] * (t - j);
    return s;
}

static void ref_attention(ft_backend *be, float *out, float *lse, const float *q, const float *k,
                          const float *v, const int32_t *start, const float *alibi, int B, int T, int H,
                          int Hkv, int D) {
    (void)be;
    int group = H / Hkv;
    double scale = 1.0 / sqrt((double)D);
    double *p = malloc((size_t)T * sizeof *p); /* (T) one softmax row */
    FT_ASSERT(p && H % Hkv == 0);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < H; h++) {
                size_t nt = (size_t)b * T + t;
                const float *qt = q + (nt * H + h) * D; /* (D) */
                int kh = h / group, j0 = start[nt];
                double mx = -INFINITY, sum = 0;
                for (int j = j0; j <= t; j++) {
                    const float *kj = k + (((size_t)b * T + j) * Hkv + kh) * D; /* (D) */
                    p[j] = att_score(qt, kj, D, scale, alibi, h, t, j);
                    if (p[j] > mx) mx = p[j];
                }
                for (int j = j0; j <= t; j++)
                    sum += p[j] = exp(p[j] - mx);
                float *o = out + (nt * H + h) * D; /* (D) */
                for (int d = 0; d < D; d++) {
                    double acc = 0;
                    for (int j = j0; j <= t; j++)
                        acc += p[j] * v[(((size_t)b * T + j) * Hkv + kh) * D + d];
                    o[d] = (float)(acc / sum);
                }
                if (lse) lse[nt * H + h] = (float)(mx + log(sum));
            }
    free(p);
}

static void ref_attention_kv(ft_backend *be, float *out, const float *q, const float *k, const float *v,
                             const float *alibi, int p0, int n, int H, int Hkv, int D) {
    (void)be;
    int group = H / Hkv;
    double scale = 1.0 / sqrt((double)D);
    double *p = malloc(((size_t)p0 + n) * sizeof *p); /* (p0 + n) one softmax row */
    FT_ASSERT(p && H % Hkv == 0);
    for (int i = 0; i < n; i++)
        for (int h = 0; h < H; h++) {
            const float *qi = q + ((size_t)i * H + h) * D; /* (D) */
            int kh = h / group, t = p0 + i;
            double mx = -INFINITY, sum = 0;
            for (int j = 0; j <= t; j++) {
                p[j] = att_score(qi, k + ((size_t)j * Hkv + kh) * D, D, scale, alibi, h, t, j);
                if (p[j] > mx) mx = p[j];
            }
            for (int j = 0; j <= t; j++)
                sum += p[j] = exp(p[j] - mx);
            float *o = out + ((size_t)i * H + h) * D; /* (D) */
            for (int d = 0; d < D; d++) {
                double acc = 0;
                for (int j = 0; j <= t; j++)
                    acc += p[j] * v[((size_t)j * Hkv + kh) * D + d];
                o[d] = (float)(acc / sum);
            }
        }
    free(p);
}

static void ref_swiglu(ft_backend *be, float *out, const float *gate, const float *up, size_t n) {
    (void)be;
    for (size_t i = 0; i < n; i++)
        out[i] = ft_swiglu1(gate[i], up[i]);
}

static void ref_matmul(ft_backend *be, float *y, const float *x, const ft_weight *W, const float *bias,
                       int N) {
    (void)be;
    int I = W->in, O = W->out;
    float *w = malloc((size_t)I * sizeof *w); /* (I) one row of W */
    FT_ASSERT(w);
    for (int o = 0; o < O; o++) {
        ft_weight_row(W, o, 0, I, w);
        for (int n = 0; n < N; n++) {
            double acc = bias ? bias[o] : 0;
            for (int i = 0; i < I; i++)
                acc += (double)x[(size_t)n * I + i] * w[i];
            y[(size_t)n * O + o] = (float)acc;
        }
    }
    free(w);
}

static void ref_lora(ft_backend *be, float *y, float *xa, const float *x, const ft_weight *W,
                     const float *bias, const float *A, const float *Bm, int R, float scale, int N) {
    int I = W->in, O = W->out;
    ref_matmul(be, y, x, W, bias, N);
    float *t = malloc((size_t)N * R * sizeof *t); /* (N, R) x Aᵀ */
    FT_ASSERT(t);
    ft_weight wa = ft_weight_f32(A, R, I);
    ref_matmul(be, t, x, &wa, NULL, N);
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++) {
            double acc = 0;
            for (int r = 0; r < R; r++)
                acc += (double)t[(size_t)n * R + r] * Bm[(size_t)o * R + r];
            y[(size_t)n * O + o] += (float)(scale * acc);
        }
    if (xa) memcpy(xa, t, (size_t)N * R * sizeof *t);
    free(t);
}

static void ref_add(ft_backend *be, float *y, const float *x, size_t n) {
    (void)be;
    for (size_t i = 0; i < n; i++)
        y[i] += x[i];
}

/* In place: each row of z (N, V) becomes its log-softmax. */
static void log_softmax_rows(float *z, int N, int V) {
    for (int n = 0; n < N; n++) {
        float *zn = z + (size_t)n * V, l = ft_logsumexp_row(zn, V); /* (V) */
        for (int i = 0; i < V; i++)
            zn[i] -= l;
    }
}

static void ref_head(ft_backend *be, float *logp, const float *x, const float *w, float eps,
                     const ft_weight *W, int N) {
    int C = W->in;
    float *xn = malloc((size_t)N * C * sizeof *xn); /* (N, C) */
    FT_ASSERT(xn);
    ref_rmsnorm(be, xn, NULL, x, w, N, C, eps);
    ref_matmul(be, logp, xn, W, NULL, N);
    log_softmax_rows(logp, N, W->out);
    free(xn);
}

static float ref_cross_entropy(ft_backend *be, float *losses, const float *logits, const int32_t *targets,
                               int N, int V) {
    (void)be;
    double total = 0;
    int count = 0;
    for (int n = 0; n < N; n++) {
        double l = 0;
        if (targets[n] >= 0) {
            FT_ASSERT(targets[n] < V);
            const float *z = logits + (size_t)n * V; /* (V) */
            l = ft_xent_row(z, V, targets[n]);
            total += l;
            count++;
        }
        if (losses) losses[n] = (float)l;
    }
    return count ? (float)(total / count) : 0.0f;
}

/* ---- backward ---- */

void ft_ref_embedding_backward(ft_backend *be, float *dwte, const float *dout, const int32_t *ids, int N,
                               int C, int V) {
    (void)be;
    for (int n = 0; n < N; n++)
        if (ids[n] >= 0 && ids[n] < V)
            for (int i = 0; i < C; i++)
                dwte[(size_t)ids[n] * C + i] += dout[(size_t)n * C + i];
}

/* With xhat = x * rstd: out = xhat * w, so dw += dout * xhat and
 * dx = rstd * (dout * w - xhat * mean(dout * w * xhat)). */
static void ref_rmsnorm_backward(ft_backend *be, float *dx, float *dw, const float *dout, const float *x,
                                 const float *w, const float *rstd, int N, int C) {
    (void)be;
    for (int n = 0; n < N; n++) /* (C) rows */
        ft_rmsnorm_row_backward(dx ? dx + (size_t)n * C : NULL, dw, dout + (size_t)n * C, x + (size_t)n * C,
                                w, rstd[n], C);
}

static void ref_rope_backward(ft_backend *be, float *dx, const int32_t *pos, int N, int nh, int D,
                              float theta) {
    (void)be;
    rope_rotate(dx, pos, N, nh, D, theta, -1.0);
}

/* With P the softmax of the scores S: dV += Pᵀ dO, dP = dO Vᵀ, dS = P ⊙ (dP - rowsum(dO ⊙ O)),
 * dQ += scale dS K, dK += scale dSᵀ Q (the ALiBi bias is a constant). */
static void ref_attention_backward(ft_backend *be, float *dq, float *dk, float *dv, const float *dout,
                                   const float *q, const float *k, const float *v, const float *out,
                                   const float *lse, const int32_t *start, const float *alibi, int B, int T,
                                   int H, int Hkv, int D) {
    (void)be;
    int group = H / Hkv;
    double scale = 1.0 / sqrt((double)D);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < H; h++) {
                size_t nt = (size_t)b * T + t;
                const float *qt = q + (nt * H + h) * D, *dot = dout + (nt * H + h) * D; /* (D) */
                const float *ot = out + (nt * H + h) * D;                               /* (D) */
                int kh = h / group;
                double di = 0;
                for (int d = 0; d < D; d++)
                    di += (double)dot[d] * ot[d];
                for (int j = start[nt]; j <= t; j++) {
                    size_t kv = (((size_t)b * T + j) * Hkv + kh) * D;
                    double p = exp(att_score(qt, k + kv, D, scale, alibi, h, t, j) - lse[nt * H + h]);
                    double dp = 0;
                    for (int d = 0; d < D; d++)
                        dp += (double)dot[d] * v[kv + d];
                    double ds = p * (dp - di) * scale;
                    for (int d = 0; d < D; d++) {
                        if (dq) dq[(nt * H + h) * D + d] += (float)(ds * k[kv + d]);
                        if (dk) dk[kv + d] += (float)(ds * qt[d]);
                        if (dv) dv[kv + d] += (float)(p * dot[d]);
                    }
                }
            }
}

static void ref_swiglu_backward(ft_backend *be, float *dgate, float *dup, const float *dout,
                                const float *gate, const float *up, size_t n) {
    (void)be;
    for (size_t i = 0; i < n; i++)
        ft_swiglu1_backward(dout[i], gate[i], up[i], dgate ? dgate + i : NULL, dup ? dup + i : NULL);
}

static void ref_matmul_backward(ft_backend *be, float *dx, float *dW, float *dbias, const float *dy,
                                const float *x, const ft_weight *W, int N) {
    (void)be;
    int I = W->in, O = W->out;
    FT_ASSERT(!dW || W->type == FT_WTYPE_F32);
    if (dx) {
        float *w = malloc((size_t)O * I * sizeof *w + 1); /* (O, I) W as float */
        FT_ASSERT(w);
        for (int o = 0; o < O; o++)
            ft_weight_row(W, o, 0, I, w + (size_t)o * I);
        for (int n = 0; n < N; n++)
            for (int i = 0; i < I; i++) {
                double acc = 0;
                for (int o = 0; o < O; o++)
                    acc += (double)dy[(size_t)n * O + o] * w[(size_t)o * I + i];
                dx[(size_t)n * I + i] += (float)acc;
            }
        free(w);
    }
    if (dW)
        for (int o = 0; o < O; o++)
            for (int i = 0; i < I; i++) {
                double acc = 0;
                for (int n = 0; n < N; n++)
                    acc += (double)dy[(size_t)n * O + o] * x[(size_t)n * I + i];
                dW[(size_t)o * I + i] += (float)acc;
            }
    if (dbias)
        for (int o = 0; o < O; o++)
            dbias[o] += ft_col_sum(dy, N, O, o);
}

/* y = x Wᵀ + s (x Aᵀ) Bmᵀ with xa = x Aᵀ: dB += s dyᵀ xa, dxa = s dy Bm, dA += dxaᵀ x,
 * dx += dy W + dxa A. */
static void ref_lora_backward(ft_backend *be, float *dx, float *dA, float *dB, const float *dy,
                              const float *x, const float *xa, const ft_weight *W, const float *A,
                              const float *Bm, int R, float scale, int N) {
    int I = W->in, O = W->out;
    float *dxa = calloc((size_t)N * R + 1, sizeof *dxa); /* (N, R) */
    FT_ASSERT(dxa);
    ft_weight wb = ft_weight_f32(Bm, O, R), wa = ft_weight_f32(A, R, I);
    ref_matmul_backward(be, dxa, NULL, NULL, dy, NULL, &wb, N); /* dy Bm */
    for (size_t i = 0; i < (size_t)N * R; i++)
        dxa[i] *= scale;
    if (dB) {
        float *dys = malloc((size_t)N * O * sizeof *dys); /* (N, O) s dy */
        FT_ASSERT(dys);
        for (size_t i = 0; i < (size_t)N * O; i++)
            dys[i] = scale * dy[i];
        ref_matmul_backward(be, NULL, dB, NULL, dys, xa, &wb, N);
        free(dys);
    }
    if (dA) ref_matmul_backward(be, NULL, dA, NULL, dxa, x, &wa, N);
    if (dx) {
        ref_matmul_backward(be, dx, NULL, NULL, dy, NULL, W, N);
        ref_matmul_backward(be, dx, NULL, NULL, dxa, NULL, &wa, N);
    }
    free(dxa);
}

static void ref_cross_entropy_backward(ft_backend *be, float *dlogits, const float *logits,
                                       const int32_t *targets, float dloss, int N, int V) {
    (void)be;
    for (int n = 0; n < N; n++) /* (V) rows */
        if (targets[n] >= 0)
            ft_xent_row_backward(dlogits + (size_t)n * V, logits + (size_t)n * V, V, targets[n], dloss);
}

static const ft_backend_ops ref_ops = {
    .name = "ref",
    .supports = ref_supports,
    .alloc = ft_ref_alloc,
    .free = ft_ref_free,
    .upload = ft_ref_copy,
    .download = ft_ref_copy,
    .embedding = ref_embedding,
    .rmsnorm = ref_rmsnorm,
    .rope = ref_rope,
    .attention = ref_attention,
    .attention_kv = ref_attention_kv,
    .swiglu = ref_swiglu,
    .matmul = ref_matmul,
    .lora = ref_lora,
    .add = ref_add,
    .head = ref_head,
    .cross_entropy = ref_cross_entropy,
    .embedding_backward = ft_ref_embedding_backward,
    .rmsnorm_backward = ref_rmsnorm_backward,
    .rope_backward = ref_rope_backward,
    .attention_backward = ref_attention_backward,
    .swiglu_backward = ref_swiglu_backward,
    .matmul_backward = ref_matmul_backward,
    .lora_backward = ref_lora_backward,
    .cross_entropy_backward = ref_cross_entropy_backward,
};

const ft_backend_ops *ft_backend_ref_ops(void) { return &ref_ops; }
