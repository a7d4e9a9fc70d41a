/* test-ops-cpu.c: every op of the CPU backend against the reference (kernels/ref.c), forward and backward, on
 * shapes that are not multiples of the CPU tiles, with fp32 / bf16 / NF4 weights, packed documents, GQA and
 * ALiBi; outputs carry guard values and must be finite.
 * Rule: the reference is the specification; a backend passes when its normalized error is within float
 * rounding of the reference's. */
#include <stdio.h>

#include "half.h"
#include "nf4.h"
#include "ops.h"

static ft_backend *ref, *cpu;

/* Forward and backward of matmul and lora with weight W (O, I) over N rows. */
static void check_linear(const ft_weight *W, const float *bias, int N, const char *what) {
    int I = W->in, O = W->out, R = 3;
    char name[160];
    float *x = frand((size_t)N * I, 1), *y0 = fbuf((size_t)N * O), *y1 = fbuf((size_t)N * O);
    ref->ops->matmul(ref, y0, x, W, bias, N);
    cpu->ops->matmul(cpu, y1, x, W, bias, N);
    snprintf(name, sizeof name, "matmul %s N=%d I=%d O=%d%s", what, N, I, O, bias ? " +bias" : "");
    near(y1, y0, (size_t)N * O, 2e-6, name);

    float *dy = frand((size_t)N * O, 1), *dx0 = frand((size_t)N * I, 1), *dx1 = fcopy(dx0, (size_t)N * I);
    float *db0 = fbuf(O), *db1 = fbuf(O);
    ref->ops->matmul_backward(ref, dx0, NULL, bias ? db0 : NULL, dy, x, W, N);
    cpu->ops->matmul_backward(cpu, dx1, NULL, bias ? db1 : NULL, dy, x, W, N);
    snprintf(name, sizeof name, "matmul_backward dx (added to) %s N=%d I=%d O=%d", what, N, I, O);
    near(dx1, dx0, (size_t)N * I, 2e-6, name);
    if (bias) near(db1, db0, O, 2e-6, "matmul_backward dbias");
    if (W->type == FT_WTYPE_F32) {
        float *dw0 = frand((size_t)O * I, 1), *dw1 = fcopy(dw0, (size_t)O * I);
        ref->ops->matmul_backward(ref, NULL, dw0, NULL, dy, x, W, N);
        cpu->ops->matmul_backward(cpu, NULL, dw1, NULL, dy, x, W, N);
        snprintf(name, sizeof name, "matmul_backward dW %s N=%d I=%d O=%d", what, N, I, O);
        near(dw1, dw0, (size_t)O * I, 2e-6, name);
        free(dw0), free(dw1);
    }

    float *A = frand((size_t)R * I, 0.5f), *Bm = frand((size_t)O * R, 0.5f);
    float *xa0 = fbuf((size_t)N * R), *xa1 = fbuf((size_t)N * R);
    ref->ops->lora(ref, y0, xa0, x, W, bias, A, Bm, R, 2.0f, N);
    cpu->ops->lora(cpu, y1, xa1, x, W, bias, A, Bm, R, 2.0f, N);
    snprintf(name, sizeof name, "lora %s N=%d I=%d O=%d R=%d", what, N, I, O, R);
    near(y1, y0, (size_t)N * O, 2e-6, name);
    near(xa1, xa0, (size_t)N * R, 2e-6, "lora saved x Aᵀ");
    float *dA0 = fbuf((size_t)R * I), *dA1 = fbuf((size_t)R * I), *dB0 = fbuf((size_t)O * R),
          *dB1 = fbuf((size_t)O * R);
    memcpy(dx1, dx0, (size_t)N * I * sizeof *dx0);
    ref->ops->lora_backward(ref, dx0, dA0, dB0, dy, x, xa0, W, A, Bm, R, 2.0f, N);
    cpu->ops->lora_backward(cpu, dx1, dA1, dB1, dy, x, xa0, W, A, Bm, R, 2.0f, N);
    near(dx1, dx0, (size_t)N * I, 2e-6, "lora_backward dx");
    near(dA1, dA0, (size_t)R * I, 2e-6, "lora_backward dA");
    near(dB1, dB0, (size_t)O * R, 2e-6, "lora_backward dB");
    free(x), free(y0), free(y1), free(dy), free(dx0), free(dx1), free(db0), free(db1), free(A), free(Bm);
    free(xa0), free(xa1), free(dA0), free(dA1), free(dB0), free(dB1);
}

static void check_linears(void) {
    static const int shapes[][3] = {{1, 1, 1}, {5, 7, 3}, {70, 130, 67}, {64, 64, 64}, {33, 515, 129}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int N = shapes[s][0], I = shapes[s][1], O = shapes[s][2];
        float *w = frand((size_t)O * I, 1), *bias = frand(O, 1);
        uint16_t *wb = malloc((size_t)O * I * sizeof *wb);
        for (size_t i = 0; i < (size_t)O * I; i++)
            wb[i] = ft_f32_to_bf16(w[i]);
        ft_nf4_tensor q;
        FT_ASSERT(ft_nf4_tensor_quantize(&q, w, (size_t)O * I, s & 1, NULL) == 0);
        ft_weight wf = ft_weight_f32(w, O, I), wh = ft_weight_bf16(wb, O, I), wq = ft_weight_nf4(&q, O, I);
        check_linear(&wf, NULL, N, "f32");
        check_linear(&wf, bias, N, "f32");
        check_linear(&wh, NULL, N, "bf16");
        check_linear(&wq, bias, N, s & 1 ? "nf4 double-quant" : "nf4");
        ft_nf4_tensor_release(&q);
        free(w), free(bias), free(wb);
    }
}

static void check_rows(void) {
    int N = 37, C = 67, V = 53;
    float *x = frand((size_t)N * C, 2), *w = frand(C, 1), *o0 = fbuf((size_t)N * C),
          *o1 = fbuf((size_t)N * C);
    float *r0 = fbuf(N), *r1 = fbuf(N);
    ref->ops->rmsnorm(ref, o0, r0, x, w, N, C, 1e-5f);
    cpu->ops->rmsnorm(cpu, o1, r1, x, w, N, C, 1e-5f);
    near(o1, o0, (size_t)N * C, 1e-6, "rmsnorm");
    near(r1, r0, N, 1e-6, "rmsnorm rstd");
    float *dout = frand((size_t)N * C, 1), *dx0 = frand((size_t)N * C, 1), *dx1 = fcopy(dx0, (size_t)N * C);
    float *dw0 = frand(C, 1), *dw1 = fcopy(dw0, C);
    ref->ops->rmsnorm_backward(ref, dx0, dw0, dout, x, w, r0, N, C);
    cpu->ops->rmsnorm_backward(cpu, dx1, dw1, dout, x, w, r0, N, C);
    near(dx1, dx0, (size_t)N * C, 2e-6, "rmsnorm_backward dx");
    near(dw1, dw0, C, 2e-6, "rmsnorm_backward dw");

    float *g = frand((size_t)N * C, 4), *s0 = fbuf((size_t)N * C), *s1 = fbuf((size_t)N * C);
    ref->ops->swiglu(ref, s0, g, x, (size_t)N * C);
    cpu->ops->swiglu(cpu, s1, g, x, (size_t)N * C);
    near(s1, s0, (size_t)N * C, 1e-7, "swiglu");
    float *dg0 = fbuf((size_t)N * C), *dg1 = fbuf((size_t)N * C);
    memcpy(dx1, dx0, (size_t)N * C * sizeof *dx0);
    ref->ops->swiglu_backward(ref, dg0, dx0, dout, g, x, (size_t)N * C);
    cpu->ops->swiglu_backward(cpu, dg1, dx1, dout, g, x, (size_t)N * C);
    near(dg1, dg0, (size_t)N * C, 1e-7, "swiglu_backward dgate");
    near(dx1, dx0, (size_t)N * C, 1e-7, "swiglu_backward dup");
    memcpy(s0, x, (size_t)N * C * sizeof *x);
    ref->ops->add(ref, s0, g, (size_t)N * C);
    cpu->ops->add(cpu, x, g, (size_t)N * C);
    near(x, s0, (size_t)N * C, 0, "add");

    float *wte = frand((size_t)V * C, 1), *e0 = fbuf((size_t)N * C), *e1 = fbuf((size_t)N * C);
    int32_t ids[37];
    for (int n = 0; n < N; n++)
        ids[n] = n == 3 ? -1 : n == 4 ? V : (n * 7) % V;
    ft_weight we = ft_weight_f32(wte, V, C);
    ref->ops->embedding(ref, e0, ids, &we, N);
    cpu->ops->embedding(cpu, e1, ids, &we, N);
    near(e1, e0, (size_t)N * C, 0, "embedding (ids out of range give zero rows)");

    /* head and cross-entropy: logits (N, V) */
    float *lp0 = fbuf((size_t)N * V), *lp1 = fbuf((size_t)N * V), *wh = frand((size_t)V * C, 1);
    ft_weight W = ft_weight_f32(wh, V, C);
    ref->ops->head(ref, lp0, g, w, 1e-5f, &W, N);
    cpu->ops->head(cpu, lp1, g, w, 1e-5f, &W, N);
    near(lp1, lp0, (size_t)N * V, 2e-6, "head (norm, lm_head, log-softmax)");
    int32_t tg[37];
    for (int n = 0; n < N; n++)
        tg[n] = n % 3 == 0 ? -1 : (n * 5) % V;
    float *l0 = fbuf(N), *l1 = fbuf(N);
    float m0 = ref->ops->cross_entropy(ref, l0, lp0, tg, N, V),
          m1 = cpu->ops->cross_entropy(cpu, l1, lp0, tg, N, V);
    ok(fabsf(m0 - m1) <= 1e-6f * fabsf(m0), "cross_entropy mean %.7g vs ref %.7g", m1, m0);
    near(l1, l0, N, 1e-6, "cross_entropy per-token losses");
    float *dz0 = frand((size_t)N * V, 1), *dz1 = fcopy(dz0, (size_t)N * V);
    ref->ops->cross_entropy_backward(ref, dz0, lp0, tg, 0.04f, N, V);
    cpu->ops->cross_entropy_backward(cpu, dz1, lp0, tg, 0.04f, N, V);
    near(dz1, dz0, (size_t)N * V, 1e-6, "cross_entropy_backward");
    free(x), free(w), free(o0), free(o1), free(r0), free(r1), free(dout), free(dx0), free(dx1), free(dw0);
    free(dw1), free(g), free(s0), free(s1), free(dg0), free(dg1), free(wte), free(e0), free(e1), free(lp0);
    free(lp1), free(wh), free(dz0), free(dz1), free(l0), free(l1);
}

static void check_attention(int B, int T, int H, int Hkv, int D, int alibi) {
    int N = B * T;
    char name[128];
    int32_t *pos = malloc(N * sizeof *pos), *start = malloc(N * sizeof *start);
    for (int b = 0; b < B; b++) {
        int32_t lens[3] = {T / 3, T / 2, 1};
        FT_ASSERT(ft_seq_layout(lens, b % 2 ? 3 : 1, T, pos + b * T, start + b * T) == 0);
    }
    float *q = frand((size_t)N * H * D, 1), *k = frand((size_t)N * Hkv * D, 1),
          *v = frand((size_t)N * Hkv * D, 1);
    float *slopes = fbuf(H);
    ft_alibi_slopes(slopes, H);
    const float *al = alibi ? slopes : NULL;
    float *q1 = fcopy(q, (size_t)N * H * D), *k1 = fcopy(k, (size_t)N * Hkv * D);
    ref->ops->rope(ref, q, pos, N, H, D, 10000.0f);
    cpu->ops->rope(cpu, q1, pos, N, H, D, 10000.0f);
    near(q1, q, (size_t)N * H * D, 1e-6, "rope");
    ref->ops->rope(ref, k, pos, N, Hkv, D, 500000.0f);
    cpu->ops->rope(cpu, k1, pos, N, Hkv, D, 500000.0f);
    near(k1, k, (size_t)N * Hkv * D, 1e-6, "rope theta 500000");
    ref->ops->rope_backward(ref, q1, pos, N, H, D, 10000.0f);
    cpu->ops->rope_backward(cpu, q, pos, N, H, D, 10000.0f);
    near(q, q1, (size_t)N * H * D, 1e-6, "rope_backward");

    float *o0 = fbuf((size_t)N * H * D), *o1 = fbuf((size_t)N * H * D), *l0 = fbuf((size_t)N * H),
          *l1 = fbuf((size_t)N * H);
    ref->ops->attention(ref, o0, l0, q, k, v, start, al, B, T, H, Hkv, D);
    cpu->ops->attention(cpu, o1, l1, q, k, v, start, al, B, T, H, Hkv, D);
    snprintf(name, sizeof name, "attention B=%d T=%d H=%d Hkv=%d D=%d%s", B, T, H, Hkv, D,
             alibi ? " alibi" : "");
    near(o1, o0, (size_t)N * H * D, 2e-6, name);
    near(l1, l0, (size_t)N * H, 2e-6, "attention lse");
    float *dout = frand((size_t)N * H * D, 1);
    float *dq0 = frand((size_t)N * H * D, 1), *dq1 = fcopy(dq0, (size_t)N * H * D);
    float *dk0 = frand((size_t)N * Hkv * D, 1), *dk1 = fcopy(dk0, (size_t)N * Hkv * D);
    float *dv0 = frand((size_t)N * Hkv * D, 1), *dv1 = fcopy(dv0, (size_t)N * Hkv * D);
    ref->ops->attention_backward(ref, dq0, dk0, dv0, dout, q, k, v, o0, l0, start, al, B, T, H, Hkv, D);
    cpu->ops->attention_backward(cpu, dq1, dk1, dv1, dout, q, k, v, o0, l0, start, al, B, T, H, Hkv, D);
    near(dq1, dq0, (size_t)N * H * D, 5e-6, "attention_backward dq");
    near(dk1, dk0, (size_t)N * Hkv * D, 5e-6, "attention_backward dk");
    near(dv1, dv0, (size_t)N * Hkv * D, 5e-6, "attention_backward dv");
    free(pos), free(start), free(q), free(k), free(v), free(slopes), free(q1), free(k1), free(o0), free(o1);
    free(l0), free(l1), free(dout), free(dq0), free(dq1), free(dk0), free(dk1), free(dv0), free(dv1);
}

/* attention_kv: n new queries over a cache of p0 + n positions, CPU vs reference. */
static void check_attention_kv(int p0, int n, int H, int Hkv, int D, int alibi) {
    int P = p0 + n;
    char name[128];
    float *q = frand((size_t)n * H * D, 1), *k = frand((size_t)P * Hkv * D, 2),
          *v = frand((size_t)P * Hkv * D, 1);
    float *o0 = fbuf((size_t)n * H * D), *o1 = fbuf((size_t)n * H * D), *sl = fbuf(H);
    ft_alibi_slopes(sl, H);
    ref->ops->attention_kv(ref, o0, q, k, v, alibi ? sl : NULL, p0, n, H, Hkv, D);
    cpu->ops->attention_kv(cpu, o1, q, k, v, alibi ? sl : NULL, p0, n, H, Hkv, D);
    snprintf(name, sizeof name, "attention_kv p0=%d n=%d H=%d Hkv=%d D=%d%s", p0, n, H, Hkv, D,
             alibi ? " alibi" : "");
    near(o1, o0, (size_t)n * H * D, 2e-6, name);
    free(q), free(k), free(v), free(o0), free(o1), free(sl);
}

int main(void) {
    rng_seed(7);
    if (ft_backend_new("ref", &ref) || ft_backend_new("cpu", &cpu)) {
        printf("Bail out! backends\n");
        return 1;
    }
    ft_backend *none;
    is_int(ft_backend_new("tpu", &none), FT_EINVAL, "an unknown backend name is FT_EINVAL");
    for (int op = 0; op < FT_OP_COUNT; op++)
        if (!cpu->ops->supports(cpu, op, FT_WTYPE_NF4))
            printf("# cpu: %s runs the reference's code\n", ft_op_name(op));
    check_linears();
    check_rows();
    check_attention(1, 1, 1, 1, 2, 0);
    check_attention(2, 150, 4, 2, 8, 1); /* several tiles of 64 queries, documents across them */
    check_attention_kv(0, 1, 1, 1, 2, 0);
    check_attention_kv(37, 1, 8, 4, 8, 0);
    check_attention_kv(100, 29, 6, 2, 16, 1);
    check_attention_kv(0, 50, 5, 5, 4, 1);
    check_attention_kv(30, 130, 4, 2, 8, 1); /* several tiles of 64 queries */
    check_attention(2, 19, 4, 2, 8, 0);
    check_attention(3, 33, 6, 3, 16, 1);
    check_attention(2, 40, 5, 5, 4, 1);
    ft_backend_free(ref);
    ft_backend_free(cpu);
    return done_testing();
}
