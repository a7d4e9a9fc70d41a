/* pointwise.h: the per-element and per-row formulas that the reference and the CPU backend share, so that the
 * two differ only in how they loop (threads, blocking), never in what one element or one row computes.
 * Rule: static inline; each formula is written once here; backward formulas add into their outputs. */
#ifndef FT_POINTWISE_H
#define FT_POINTWISE_H

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "backend.h"

/* silu(g) · u */
static inline float ft_swiglu1(float g, float u) { return g / (1.0f + expf(-g)) * u; }

/* The gradients of ft_swiglu1 for an output gradient d: dg = d u σ(g)(1 + g(1 - σ(g))), du = d g σ(g);
 * each added into its pointer when that is not NULL. */
static inline void ft_swiglu1_backward(float d, float g, float u, float *dg, float *du) {
    float sg = 1.0f / (1.0f + expf(-g));
    if (dg) *dg += d * u * sg * (1.0f + g * (1.0f - sg));
    if (du) *du += d * g * sg;
}

/* Σ_n m[n, col] of m (rows, cols), in double. */
static inline float ft_col_sum(const float *m, int rows, int cols, int col) {
    double acc = 0;
    for (int n = 0; n < rows; n++)
        acc += m[(size_t)n * cols + col];
    return (float)acc;
}

/* out (C) = row id of wte (V, C), or zeros for an id outside [0, V). */
static inline void ft_embedding_row(float *out, int32_t id, const ft_weight *wte) {
    if (id >= 0 && id < wte->out)
        ft_weight_row(wte, id, 0, wte->in, out);
    else
        memset(out, 0, (size_t)wte->in * sizeof *out);
}

/* out (C) = x (C) · r · w (C) with r = 1 / sqrt(mean(x²) + eps), returned. */
static inline float ft_rmsnorm_row(float *out, const float *x, const float *w, int C, float eps) {
    double ss = 0;
    for (int i = 0; i < C; i++)
        ss += (double)x[i] * x[i];
    float r = (float)(1.0 / sqrt(ss / C + eps));
    for (int i = 0; i < C; i++)
        out[i] = x[i] * r * w[i];
    return r;
}

/* With xhat = x r: dw (C) += dout ⊙ xhat and dx (C) += r (dout ⊙ w - xhat · mean(dout ⊙ w ⊙ xhat)); either
 * may be NULL. */
static inline void ft_rmsnorm_row_backward(float *dx, float *dw, const float *dout, const float *x,
                                           const float *w, float r, int C) {
    double dot = 0;
    for (int i = 0; i < C; i++)
        dot += (double)dout[i] * w[i] * x[i] * r;
    float m = (float)(dot / C);
    for (int i = 0; i < C; i++) {
        float xhat = x[i] * r;
        if (dx) dx[i] += r * (dout[i] * w[i] - xhat * m);
        if (dw) dw[i] += dout[i] * xhat;
    }
}

/* log Σ exp z of z (V), max-shifted, summed in double. */
static inline float ft_logsumexp_row(const float *z, int V) {
    float mx = -INFINITY;
    for (int i = 0; i < V; i++)
        mx = z[i] > mx ? z[i] : mx;
    double sum = 0;
    for (int i = 0; i < V; i++)
        sum += exp((double)z[i] - mx);
    return (float)(mx + log(sum));
}

/* The cross-entropy loss of logits z (V) for target: lse(z) - z[target]. */
static inline float ft_xent_row(const float *z, int V, int32_t target) {
    return ft_logsumexp_row(z, V) - z[target];
}

/* dz (V) += d · (softmax(z) - onehot(target)). */
static inline void ft_xent_row_backward(float *dz, const float *z, int V, int32_t target, float d) {
    double l = ft_logsumexp_row(z, V);
    for (int i = 0; i < V; i++)
        dz[i] += (float)(d * exp((double)z[i] - l));
    dz[target] -= d;
}

/* The RoPE angles of one position: cs[i] = cos, cs[D/2 + i] = sin of sign · pos · theta^(-2i/D), i < D/2. */
static inline void ft_rope_angles(float *cs, int32_t pos, int D, float theta, double sign) {
    for (int i = 0; i < D / 2; i++) {
        double angle = sign * pos * pow(theta, -2.0 * i / D);
        cs[i] = (float)cos(angle);
        cs[D / 2 + i] = (float)sin(angle);
    }
}

/* Rotates the pairs (v[i], v[i + D/2]) of one head v (D) by the angles cs (ft_rope_angles). */
static inline void ft_rope_head(float *v, const float *cs, int D) {
    int half = D / 2;
    for (int i = 0; i < half; i++) {
        float a = v[i], b = v[i + half], c = cs[i], s = cs[half + i];
        v[i] = a * c - b * s;
        v[i + half] = b * c + a * s;
    }
}

#endif
