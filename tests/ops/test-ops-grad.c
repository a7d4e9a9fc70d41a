/* test-ops-grad.c: the backward ops of the reference (the specification of every backend's backward) against
 * central finite differences of their forward ops: L = Σ g ⊙ op(inputs) for a fixed random g, so dL/dinput is
 * what the backward op computes from dout = g.
 * Rule: every gradient output of every backward op is checked, on small shapes, element by element. */
#include <stdio.h>

#include "ops.h"

static ft_backend *be;

/* The current case: the inputs the forward reads, and g. */
static struct {
    int N, C, I, O, R, V, B, T, H, Hkv, D;
    float *x, *w, *bias, *A, *Bm, *up, *k, *v, *g, *y, *slopes;
    ft_weight W;
    int32_t *ids, *pos, *start, *targets;
    float scale;
} S;

typedef double (*loss_fn)(void);

static double dot_g(const float *y, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)S.g[i] * y[i];
    return s;
}

/* Checks grad (n) against (L(p + eps) - L(p - eps)) / 2 eps for every element of p: max error over the
 * largest |grad|. */
static void fd(const char *what, loss_fn L, float *p, size_t n, const float *grad) {
    const float eps = 1e-2f;
    double err = 0, big = 1e-3;
    for (size_t i = 0; i < n; i++) {
        float keep = p[i];
        p[i] = keep + eps;
        double lp = L();
        p[i] = keep - eps;
        double lm = L();
        p[i] = keep;
        double num = (lp - lm) / (2.0 * ((double)(keep + eps) - (double)keep));
        if (fabs(num - grad[i]) > err) err = fabs(num - grad[i]);
        if (fabs(grad[i]) > big) big = fabs(grad[i]);
    }
    ok(err / big <= 5e-4, "%s: finite differences agree to %.2g of max |grad| %.3g (%zu entries)", what,
       err / big, big, n);
}

static double L_rmsnorm(void) {
    be->ops->rmsnorm(be, S.y, NULL, S.x, S.w, S.N, S.C, 1e-5f);
    return dot_g(S.y, (size_t)S.N * S.C);
}

static void grad_rmsnorm(void) {
    S.N = 3, S.C = 10;
    size_t n = (size_t)S.N * S.C;
    S.x = frand(n, 2), S.w = frand(S.C, 1), S.g = frand(n, 1), S.y = fbuf(n);
    float *rstd = fbuf(S.N), *dx = fbuf(n), *dw = fbuf(S.C);
    be->ops->rmsnorm(be, S.y, rstd, S.x, S.w, S.N, S.C, 1e-5f);
    be->ops->rmsnorm_backward(be, dx, dw, S.g, S.x, S.w, rstd, S.N, S.C);
    fd("rmsnorm_backward dx", L_rmsnorm, S.x, n, dx);
    fd("rmsnorm_backward dw", L_rmsnorm, S.w, S.C, dw);
    free(S.x), free(S.w), free(S.g), free(S.y), free(rstd), free(dx), free(dw);
}

static double L_swiglu(void) {
    be->ops->swiglu(be, S.y, S.x, S.up, (size_t)S.N);
    return dot_g(S.y, (size_t)S.N);
}

static void grad_swiglu(void) {
    S.N = 40;
    S.x = frand(S.N, 4), S.up = frand(S.N, 2), S.g = frand(S.N, 1), S.y = fbuf(S.N);
    float *dg = fbuf(S.N), *du = fbuf(S.N);
    be->ops->swiglu_backward(be, dg, du, S.g, S.x, S.up, (size_t)S.N);
    fd("swiglu_backward dgate", L_swiglu, S.x, S.N, dg);
    fd("swiglu_backward dup", L_swiglu, S.up, S.N, du);
    free(S.x), free(S.up), free(S.g), free(S.y), free(dg), free(du);
}

static double L_matmul(void) {
    be->ops->matmul(be, S.y, S.x, &S.W, S.bias, S.N);
    return dot_g(S.y, (size_t)S.N * S.O);
}

static double L_lora(void) {
    be->ops->lora(be, S.y, NULL, S.x, &S.W, S.bias, S.A, S.Bm, S.R, S.scale, S.N);
    return dot_g(S.y, (size_t)S.N * S.O);
}

static void grad_linear(int nf4) {
    S.N = 4, S.I = 9, S.O = 5, S.R = 2, S.scale = 1.5f;
    S.x = frand((size_t)S.N * S.I, 1), S.w = frand((size_t)S.O * S.I, 1), S.bias = frand(S.O, 1);
    S.A = frand((size_t)S.R * S.I, 1), S.Bm = frand((size_t)S.O * S.R, 1);
    S.g = frand((size_t)S.N * S.O, 1), S.y = fbuf((size_t)S.N * S.O);
    ft_nf4_tensor q;
    FT_ASSERT(ft_nf4_tensor_quantize(&q, S.w, (size_t)S.O * S.I, 0, NULL) == 0);
    S.W = nf4 ? ft_weight_nf4(&q, S.O, S.I) : ft_weight_f32(S.w, S.O, S.I);
    float *dx = fbuf((size_t)S.N * S.I), *dW = fbuf((size_t)S.O * S.I), *db = fbuf(S.O);
    be->ops->matmul_backward(be, dx, nf4 ? NULL : dW, db, S.g, S.x, &S.W, S.N);
    fd(nf4 ? "matmul_backward dx (nf4 W)" : "matmul_backward dx", L_matmul, S.x, (size_t)S.N * S.I, dx);
    if (!nf4) fd("matmul_backward dW", L_matmul, S.w, (size_t)S.O * S.I, dW);
    fd("matmul_backward dbias", L_matmul, S.bias, S.O, db);

    float *xa = fbuf((size_t)S.N * S.R), *dA = fbuf((size_t)S.R * S.I), *dB = fbuf((size_t)S.O * S.R);
    memset(dx, 0, (size_t)S.N * S.I * sizeof *dx);
    be->ops->lora(be, S.y, xa, S.x, &S.W, S.bias, S.A, S.Bm, S.R, S.scale, S.N);
    be->ops->lora_backward(be, dx, dA, dB, S.g, S.x, xa, &S.W, S.A, S.Bm, S.R, S.scale, S.N);
    fd(nf4 ? "lora_backward dx (nf4 W)" : "lora_backward dx", L_lora, S.x, (size_t)S.N * S.I, dx);
    fd("lora_backward dA", L_lora, S.A, (size_t)S.R * S.I, dA);
    fd("lora_backward dB", L_lora, S.Bm, (size_t)S.O * S.R, dB);
    ft_nf4_tensor_release(&q);
    free(S.x), free(S.w), free(S.bias), free(S.A), free(S.Bm), free(S.g), free(S.y), free(dx), free(dW);
    free(db), free(xa), free(dA), free(dB);
}

static double L_rope(void) {
    size_t n = (size_t)S.N * S.H * S.D;
    memcpy(S.y, S.x, n * sizeof *S.y);
    be->ops->rope(be, S.y, S.pos, S.N, S.H, S.D, 10000.0f);
    return dot_g(S.y, n);
}

static void grad_rope(void) {
    S.N = 5, S.H = 2, S.D = 6;
    size_t n = (size_t)S.N * S.H * S.D;
    int32_t pos[5] = {0, 1, 2, 0, 7};
    S.pos = pos, S.x = frand(n, 1), S.g = frand(n, 1), S.y = fbuf(n);
    float *dx = fcopy(S.g, n);
    be->ops->rope_backward(be, dx, S.pos, S.N, S.H, S.D, 10000.0f);
    fd("rope_backward", L_rope, S.x, n, dx);
    free(S.x), free(S.g), free(S.y), free(dx);
}

static double L_attention(void) {
    be->ops->attention(be, S.y, NULL, S.x, S.k, S.v, S.start, S.slopes, S.B, S.T, S.H, S.Hkv, S.D);
    return dot_g(S.y, (size_t)S.B * S.T * S.H * S.D);
}

static void grad_attention(int alibi) {
    S.B = 2, S.T = 6, S.H = 4, S.Hkv = 2, S.D = 3;
    int N = S.B * S.T;
    int32_t lens[2] = {2, 3}, pos[12], start[12];
    FT_ASSERT(ft_seq_layout(lens, 1, S.T, pos, start) == 0);         /* row 0: [2 | 4 padding] */
    FT_ASSERT(ft_seq_layout(lens, 2, S.T, pos + 6, start + 6) == 0); /* row 1: [2 | 3 | 1] */
    float slopes[4];
    ft_alibi_slopes(slopes, S.H);
    S.start = start, S.slopes = alibi ? slopes : NULL;
    size_t nq = (size_t)N * S.H * S.D, nk = (size_t)N * S.Hkv * S.D;
    S.x = frand(nq, 2), S.k = frand(nk, 2), S.v = frand(nk, 1), S.g = frand(nq, 1), S.y = fbuf(nq);
    float *lse = fbuf((size_t)N * S.H), *dq = fbuf(nq), *dk = fbuf(nk), *dv = fbuf(nk);
    be->ops->attention(be, S.y, lse, S.x, S.k, S.v, S.start, S.slopes, S.B, S.T, S.H, S.Hkv, S.D);
    be->ops->attention_backward(be, dq, dk, dv, S.g, S.x, S.k, S.v, S.y, lse, S.start, S.slopes, S.B, S.T,
                                S.H, S.Hkv, S.D);
    fd(alibi ? "attention_backward dq (alibi)" : "attention_backward dq (GQA, documents)", L_attention, S.x,
       nq, dq);
    fd("attention_backward dk", L_attention, S.k, nk, dk);
    fd("attention_backward dv", L_attention, S.v, nk, dv);
    free(S.x), free(S.k), free(S.v), free(S.g), free(S.y), free(lse), free(dq), free(dk), free(dv);
}

static double L_xent(void) { return be->ops->cross_entropy(be, NULL, S.x, S.targets, S.N, S.V); }

static void grad_cross_entropy(void) {
    S.N = 5, S.V = 7;
    int32_t targets[5] = {3, -1, 0, 6, -1};
    S.targets = targets, S.x = frand((size_t)S.N * S.V, 3);
    float *dz = fbuf((size_t)S.N * S.V);
    be->ops->cross_entropy_backward(be, dz, S.x, S.targets, 1.0f / 3, S.N, S.V);
    fd("cross_entropy_backward (masked mean over 3 targets)", L_xent, S.x, (size_t)S.N * S.V, dz);
    free(S.x), free(dz);
}

static double L_embedding(void) {
    be->ops->embedding(be, S.y, S.ids, &S.W, S.N);
    return dot_g(S.y, (size_t)S.N * S.C);
}

static void grad_embedding(void) {
    S.N = 4, S.C = 3, S.V = 5;
    int32_t ids[4] = {1, 4, 1, 0};
    S.ids = ids, S.w = frand((size_t)S.V * S.C, 1), S.g = frand((size_t)S.N * S.C, 1);
    S.y = fbuf((size_t)S.N * S.C), S.W = ft_weight_f32(S.w, S.V, S.C);
    float *dw = fbuf((size_t)S.V * S.C);
    be->ops->embedding_backward(be, dw, S.g, S.ids, S.N, S.C, S.V);
    fd("embedding_backward (a repeated id adds up)", L_embedding, S.w, (size_t)S.V * S.C, dw);
    free(S.w), free(S.g), free(S.y), free(dw);
}

int main(void) {
    rng_seed(11);
    if (ft_backend_new("ref", &be)) return 1;
    grad_rmsnorm();
    grad_swiglu();
    grad_linear(0);
    grad_linear(1);
    grad_rope();
    grad_attention(0);
    grad_attention(1);
    grad_cross_entropy();
    grad_embedding();
    ft_backend_free(be);
    return done_testing();
}
