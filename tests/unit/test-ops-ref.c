/* test-ops-ref.c: what the reference ops mean, on both host backends: RoPE values and its restart per packed
 * document, attention that never crosses documents, GQA equal to repeated KV heads, ALiBi slopes and bias,
 * NF4 / bf16 matmul equal to dequantize-then-fp32, LoRA linear equal to its composition, masked mean
 * cross-entropy, the log-softmax head, the packed-row helpers, attention over a KV cache.
 * Rule: each property is checked against an independent computation written in the test, not another op. */
#include <stdio.h>

#include "half.h"
#include "nf4.h"
#include "ops.h"

static ft_backend *bes[2];

static void rope_values(ft_backend *be) {
    /* D = 4, theta = 10000: pair (x0, x2) turns by pos rad, (x1, x3) by pos / 100 rad. */
    float x[8] = {1, 2, 3, 4, 1, 2, 3, 4};
    int32_t pos[2] = {0, 1};
    be->ops->rope(be, x, pos, 2, 1, 4, 10000.0f);
    double c1 = cos(1.0), s1 = sin(1.0), c2 = cos(0.01), s2 = sin(0.01);
    float want[8] = {1,
                     2,
                     3,
                     4,
                     (float)(c1 - 3 * s1),
                     (float)(2 * c2 - 4 * s2),
                     (float)(3 * c1 + s1),
                     (float)(4 * c2 + 2 * s2)};
    double e = 0;
    for (int i = 0; i < 8; i++)
        e = fmax(e, fabs(x[i] - want[i]));
    ok(e < 1e-6, "%s rope: position 0 unchanged, position 1 rotates the halves (i, i + D/2) (err %.2g)",
       be->ops->name, e);
}

/* A packed row [doc 3 | doc 5 | pad 2]: rope and attention of doc 2 equal those of doc 2 alone. */
static void documents(ft_backend *be) {
    enum { T = 10, H = 2, D = 8 };
    int32_t lens[2] = {3, 5}, pos[T], start[T];
    ok(ft_seq_layout(lens, 2, T, pos, start) == 0 && pos[2] == 2 && pos[3] == 0 && pos[7] == 4 &&
           pos[8] == 0 && start[5] == 3 && start[9] == 8,
       "ft_seq_layout: positions restart per document, padding is one more");
    int32_t bad[2] = {6, 5}, bpos[T], bstart[T];
    is_int(ft_seq_layout(bad, 2, T, bpos, bstart), FT_EINVAL, "ft_seq_layout: lengths past T are refused");
    float *q = frand(T * H * D, 1), *k = frand(T * H * D, 1), *v = frand(T * H * D, 1);
    float *q2 = fcopy(q + 3 * H * D, 5 * H * D), *k2 = fcopy(k + 3 * H * D, 5 * H * D);
    int32_t pos2[5], start2[5];
    ft_seq_layout(NULL, 0, 5, pos2, start2);
    be->ops->rope(be, q, pos, T, H, D, 10000.0f);
    be->ops->rope(be, k, pos, T, H, D, 10000.0f);
    be->ops->rope(be, q2, pos2, 5, H, D, 10000.0f);
    be->ops->rope(be, k2, pos2, 5, H, D, 10000.0f);
    ok(!memcmp(q + 3 * H * D, q2, 5 * H * D * sizeof *q), "%s rope: a document's positions restart at 0",
       be->ops->name);
    float *o = fbuf(T * H * D), *o2 = fbuf(5 * H * D);
    be->ops->attention(be, o, NULL, q, k, k, start, NULL, 1, T, H, H, D);
    be->ops->attention(be, o2, NULL, q2, k2, k2, start2, NULL, 1, 5, H, H, D);
    near(o2, o + 3 * H * D, 5 * H * D, 1e-6, "attention of a packed document equals the document alone");
    /* changing the other documents' keys and values leaves doc 2 as it was */
    float *o3 = fbuf(T * H * D);
    for (int i = 0; i < 3 * H * D; i++)
        k[i] = v[i] = 100;
    be->ops->attention(be, o3, NULL, q, k, k, start, NULL, 1, T, H, H, D);
    ok(!memcmp(o3 + 3 * H * D, o + 3 * H * D, 5 * H * D * sizeof *o),
       "%s attention: no key of another document"
       " reaches a query",
       be->ops->name);
    ok(!memcmp(o3, k, H * D * sizeof *o), "%s attention: a document's first token sees only itself",
       be->ops->name);
    free(q), free(k), free(v), free(q2), free(k2), free(o), free(o2), free(o3);
}

/* H = 6 query heads over Hkv = 2: the same as 6 KV heads with each repeated 3 times (HF repeat_kv). */
static void gqa(ft_backend *be) {
    enum { B = 2, T = 7, H = 6, Hkv = 2, D = 4, N = B * T };
    int32_t start[N];
    for (int n = 0; n < N; n++)
        start[n] = 0; /* one document per row */
    float *q = frand(N * H * D, 1), *k = frand(N * Hkv * D, 1), *v = frand(N * Hkv * D, 1);
    float *kr = fbuf(N * H * D), *vr = fbuf(N * H * D);
    for (int n = 0; n < N; n++)
        for (int h = 0; h < H; h++) {
            memcpy(kr + (n * H + h) * D, k + (n * Hkv + h / 3) * D, D * sizeof *k);
            memcpy(vr + (n * H + h) * D, v + (n * Hkv + h / 3) * D, D * sizeof *v);
        }
    float *o = fbuf(N * H * D), *o2 = fbuf(N * H * D);
    be->ops->attention(be, o, NULL, q, k, v, start, NULL, B, T, H, Hkv, D);
    be->ops->attention(be, o2, NULL, q, kr, vr, start, NULL, B, T, H, H, D);
    near(o, o2, N * H * D, 1e-6, "GQA equals attention over repeated KV heads");
    free(q), free(k), free(v), free(kr), free(vr), free(o), free(o2);
}

static void alibi(ft_backend *be) {
    float s[40];
    ft_alibi_slopes(s, 8);
    ok(s[0] == 0.5f && s[7] == 1.0f / 256, "alibi slopes, 8 heads: 2^-1 .. 2^-8");
    ft_alibi_slopes(s, 12); /* n = 8, then 2^-0.5, 2^-1.5, 2^-2.5, 2^-3.5 */
    ok(fabsf(s[8] - 0.70710678f) < 1e-7f && fabsf(s[9] - 0.35355339f) < 1e-7f &&
           fabsf(s[11] - 0.08838835f) < 1e-7f,
       "alibi slopes, 12 heads: the 4 extra are the odd powers of the 16-head sequence");
    ft_alibi_slopes(s, 40); /* Baichuan-13B: n = 32, slope h = 2^(-(h+1)/4); extra 2^(-1/8), 2^(-3/8)... */
    ok(fabsf(s[0] - 0.84089642f) < 1e-7f && fabsf(s[31] - 1.0f / 256) < 1e-9f &&
           fabsf(s[32] - 0.91700404f) < 1e-7f && fabsf(s[39] - 0.27262693f) < 1e-7f,
       "alibi slopes, 40 heads (Baichuan-13B)");
    /* One query row against Baichuan's bias form slope · j (softmax-equivalent to -slope · (t - j)). */
    enum { T = 5, D = 4 };
    float *q = frand(T * D, 1), *k = frand(T * D, 1), *v = frand(T * D, 1), *o = fbuf(T * D), sl = 0.25f;
    int32_t start[T] = {0};
    be->ops->attention(be, o, NULL, q, k, v, start, &sl, 1, T, 1, 1, D);
    double p[T], sum = 0, want[D] = {0};
    for (int j = 0; j < T; j++) {
        double sc = 0;
        for (int d = 0; d < D; d++)
            sc += (double)q[(T - 1) * D + d] * k[j * D + d];
        sum += p[j] = exp(sc / 2.0 + sl * j);
    }
    for (int j = 0; j < T; j++)
        for (int d = 0; d < D; d++)
            want[d] += p[j] / sum * v[j * D + d];
    double e = 0;
    for (int d = 0; d < D; d++)
        e = fmax(e, fabs(o[(T - 1) * D + d] - want[d]));
    ok(e < 1e-6, "%s attention with ALiBi equals softmax(q·k/sqrt(D) + slope·j) (err %.2g)", be->ops->name,
       e);
    free(q), free(k), free(v), free(o);
}

/* attention_kv of the last n queries over a cache of P0 + n positions = the last n rows of attention over the
 * whole sequence (GQA and ALiBi included), so a KV cache changes nothing. */
static void kv_cache(ft_backend *be) {
    enum { P0 = 9, n = 4, T = P0 + n, H = 4, Hkv = 2, D = 8 };
    float *q = frand(T * H * D, 1), *k = frand(T * Hkv * D, 1), *v = frand(T * Hkv * D, 1);
    float *o = fbuf(T * H * D), *o2 = fbuf(n * H * D), sl[H];
    int32_t start[T] = {0};
    ft_alibi_slopes(sl, H);
    for (int a = 0; a < 2; a++) {
        be->ops->attention(be, o, NULL, q, k, v, start, a ? sl : NULL, 1, T, H, Hkv, D);
        be->ops->attention_kv(be, o2, q + P0 * H * D, k, v, a ? sl : NULL, P0, n, H, Hkv, D);
        near(o2, o + P0 * H * D, n * H * D, 1e-6,
             a ? "attention_kv equals the last rows of attention (ALiBi)"
               : "attention_kv equals the last rows "
                 "of attention");
    }
    be->ops->attention_kv(be, o2, q, k, v, NULL, 0, 1, H, Hkv, D);
    ok(!memcmp(o2, v, D * sizeof *v), "%s attention_kv: the first position sees only itself", be->ops->name);
    free(q), free(k), free(v), free(o), free(o2);
}

static void quantized(ft_backend *be) {
    enum { N = 9, I = 200, O = 33, R = 4 };
    float *w = frand(O * I, 1), *x = frand(N * I, 1), *deq = fbuf(O * I), *y = fbuf(N * O), *y2 = fbuf(N * O);
    for (int dq = 0; dq < 2; dq++) {
        ft_nf4_tensor t;
        FT_ASSERT(ft_nf4_tensor_quantize(&t, w, O * I, dq, NULL) == 0);
        ft_nf4_tensor_dequantize(&t, 0, O * I, deq);
        ft_weight wq = ft_weight_nf4(&t, O, I), wd = ft_weight_f32(deq, O, I);
        be->ops->matmul(be, y, x, &wq, NULL, N);
        be->ops->matmul(be, y2, x, &wd, NULL, N);
        near(y, y2, N * O, 1e-6,
             dq ? "NF4 (double-quantized absmax) matmul equals dequantize-then-fp32"
                : "NF4 matmul equals dequantize-then-fp32");
        ft_nf4_tensor_release(&t);
    }
    uint16_t *wb = malloc(O * I * sizeof *wb);
    for (int i = 0; i < O * I; i++)
        wb[i] = ft_f32_to_bf16(w[i]), deq[i] = ft_bf16_to_f32(wb[i]);
    ft_weight wh = ft_weight_bf16(wb, O, I), wd = ft_weight_f32(deq, O, I);
    be->ops->matmul(be, y, x, &wh, NULL, N);
    be->ops->matmul(be, y2, x, &wd, NULL, N);
    near(y, y2, N * O, 1e-6, "bf16 matmul equals widen-then-fp32");

    /* LoRA: y = x Wᵀ + b + s (x Aᵀ) Bᵀ written out in double */
    float *A = frand(R * I, 1), *Bm = frand(O * R, 1), *b = frand(O, 1), *xa = fbuf(N * R);
    ft_weight wf = ft_weight_f32(w, O, I);
    be->ops->lora(be, y, xa, x, &wf, b, A, Bm, R, 0.5f, N);
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++) {
            double base = b[o], lo = 0;
            for (int i = 0; i < I; i++)
                base += (double)x[n * I + i] * w[o * I + i];
            for (int r = 0; r < R; r++) {
                double t = 0;
                for (int i = 0; i < I; i++)
                    t += (double)x[n * I + i] * A[r * I + i];
                lo += t * Bm[o * R + r];
            }
            y2[n * O + o] = (float)(base + 0.5 * lo);
        }
    near(y, y2, N * O, 1e-6, "LoRA linear equals x Wᵀ + b + (alpha/r) (x Aᵀ) Bᵀ");
    free(w), free(x), free(deq), free(y), free(y2), free(wb), free(A), free(Bm), free(b), free(xa);
}

static void losses(ft_backend *be) {
    enum { T = 6, V = 5, C = 3 };
    int32_t ids[T] = {1, 2, 3, 4, 0, 1}, lens[2] = {3, 3}, pos[T], start[T], tg[T];
    uint8_t mask[T] = {0, 1, 1, 0, 1, 1};
    ft_seq_layout(lens, 2, T, pos, start);
    int n = ft_targets_from_mask(ids, mask, start, T, tg);
    ok(n == 4 && tg[0] == 2 && tg[1] == 3 && tg[2] == -1 && tg[3] == 0 && tg[4] == 1 && tg[5] == -1,
       "targets: next token where its mask is 1, never across a document end (%d targets)", n);
    float z[T * V];
    for (int i = 0; i < T * V; i++)
        z[i] = 0.3f;
    float l = be->ops->cross_entropy(be, NULL, z, tg, T, V);
    ok(fabsf(l - logf(V)) < 1e-6f, "%s cross_entropy of uniform logits is log V", be->ops->name);
    z[0 * V + 2] = 3, z[1 * V + 0] = 9, z[5 * V + 1] = -50; /* the last row has no target */
    double want = 0;
    for (int t = 0; t < T; t++) {
        if (tg[t] < 0) continue;
        double s = 0;
        for (int i = 0; i < V; i++)
            s += exp(z[t * V + i]);
        want += log(s) - z[t * V + tg[t]];
    }
    l = be->ops->cross_entropy(be, NULL, z, tg, T, V);
    ok(fabs(l - want / n) < 1e-6, "%s cross_entropy: mean over the target tokens only", be->ops->name);
    int32_t none[T] = {-1, -1, -1, -1, -1, -1};
    ok(be->ops->cross_entropy(be, NULL, z, none, T, V) == 0.0f, "cross_entropy without targets is 0");

    float x[2 * C] = {1, -2, 3, 0.5f, 0.5f, 0.5f}, w[C] = {1, 2, 0.5f}, wh[V * C], lp[2 * V];
    for (int i = 0; i < V * C; i++)
        wh[i] = 0.1f * (i % 7) - 0.3f;
    ft_weight W = ft_weight_f32(wh, V, C);
    be->ops->head(be, lp, x, w, 1e-6f, &W, 2);
    double e = 0;
    for (int r = 0; r < 2; r++) {
        double ss = 0, h[C], zz[V], s = 0;
        for (int i = 0; i < C; i++)
            ss += x[r * C + i] * x[r * C + i];
        for (int i = 0; i < C; i++)
            h[i] = x[r * C + i] / sqrt(ss / C + 1e-6) * w[i];
        for (int v = 0; v < V; v++) {
            zz[v] = 0;
            for (int i = 0; i < C; i++)
                zz[v] += h[i] * wh[v * C + i];
            s += exp(zz[v]);
        }
        for (int v = 0; v < V; v++)
            e = fmax(e, fabs(lp[r * V + v] - (zz[v] - log(s))));
    }
    ok(e < 1e-6, "%s head: log_softmax(rmsnorm(x) Wᵀ) (err %.2g)", be->ops->name, e);
}

int main(void) {
    rng_seed(3);
    if (ft_backend_new("ref", &bes[0]) || ft_backend_new("cpu", &bes[1])) return 1;
    for (int i = 0; i < 2; i++) {
        printf("# backend %s\n", bes[i]->ops->name);
        rope_values(bes[i]);
        documents(bes[i]);
        gqa(bes[i]);
        alibi(bes[i]);
        kv_cache(bes[i]);
        quantized(bes[i]);
        losses(bes[i]);
        ft_backend_free(bes[i]);
    }
    return done_testing();
}
