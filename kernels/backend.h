/* backend.h: the one op table every compute backend fills (ggml's backend interface, llm.c's layer ops):
 * the model core calls ops only through a ft_backend, so the reference, the CPU and the CUDA backends are
 * interchangeable and each is tested against the reference (kernels/ref.c), which is the specification.
 * Rule: an op is a plain function over contiguous row-major float32 activations; nothing is hidden state.
 *
 * Dimension letters, used in every shape comment of the model core (defined here, once):
 *   B    rows of a batch (packed sequences)        T    positions per row
 *   N    tokens, B * T (activations are (B, T, .) flattened to (N, .))
 *   C    model width (hidden_size)                 F    FFN width (intermediate_size)
 *   V    vocabulary size                           L    layers
 *   H    query heads                               Hkv  key/value heads (divides H)
 *   D    head dimension (C = H * D for the models ft supports)
 *   R    LoRA rank r                               I, O a linear layer's in / out features
 *
 * Gradients: a backward op ADDS into its gradient outputs (llm.c's rule), so a tensor used twice (the
 * residual stream, a tied embedding) gets its two contributions without extra adds; the caller zeroes
 * gradients once per step. A gradient output passed as NULL is not computed.
 *
 * Memory: pointers are in the backend's memory (host memory for "ref" and "cpu"); alloc/upload/download
 * move data across for a device backend. */
#ifndef FT_BACKEND_H
#define FT_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "ft.h"
#include "nf4.h"

/* The storage of a linear layer's weight W (O, I): y = x Wᵀ. */
typedef enum {
    FT_WTYPE_F32,  /* float (O, I) */
    FT_WTYPE_BF16, /* bfloat16 bits (O, I) */
    FT_WTYPE_NF4,  /* ft_nf4_tensor over the flat (O, I) weight, blocks of 64 (bitsandbytes' layout) */
    FT_WTYPE_COUNT
} ft_wtype;

/* A borrowed weight matrix: the caller owns the storage; exactly one data pointer is set. */
typedef struct {
    ft_wtype type;
    int out, in;              /* O, I */
    const float *f32;         /* (O, I) when F32 */
    const uint16_t *bf16;     /* (O, I) when BF16 */
    const ft_nf4_tensor *nf4; /* O * I elements when NF4 */
} ft_weight;

/* The ops, for supports(). */
typedef enum {
    FT_OP_EMBEDDING,
    FT_OP_RMSNORM,
    FT_OP_ROPE,
    FT_OP_ATTENTION,
    FT_OP_SWIGLU,
    FT_OP_MATMUL,
    FT_OP_LORA,
    FT_OP_ADD,
    FT_OP_HEAD,
    FT_OP_CROSS_ENTROPY,
    FT_OP_EMBEDDING_BACKWARD,
    FT_OP_RMSNORM_BACKWARD,
    FT_OP_ROPE_BACKWARD,
    FT_OP_ATTENTION_BACKWARD,
    FT_OP_SWIGLU_BACKWARD,
    FT_OP_MATMUL_BACKWARD,
    FT_OP_LORA_BACKWARD,
    FT_OP_CROSS_ENTROPY_BACKWARD,
    FT_OP_ATTENTION_KV,
    FT_OP_COUNT
} ft_op;

typedef struct ft_backend ft_backend;

/* The op table. Every function pointer is set (a backend without an op points it at the reference and says
 * so in supports). Shapes in the comments use the letters above. */
typedef struct {
    const char *name; /* "ref", "cpu", "cuda" */
    /* 1 when op runs natively on this backend for weights of type wt (wt is ignored by ops without one). */
    int (*supports)(const ft_backend *be, ft_op op, ft_wtype wt);

    /* memory */
    void *(*alloc)(ft_backend *be, size_t bytes); /* NULL when out of memory */
    void (*free)(ft_backend *be, void *p);
    void (*upload)(ft_backend *be, void *dst, const void *src, size_t bytes);   /* host -> backend */
    void (*download)(ft_backend *be, void *dst, const void *src, size_t bytes); /* backend -> host */

    /* ---- forward ---- */
    /* out (N, C) = rows ids (N) of wte (V, C); an id outside [0, V) gives a zero row. */
    void (*embedding)(ft_backend *be, float *out, const int32_t *ids, const ft_weight *wte, int N);
    /* out (N, C) = x / sqrt(mean(x²) + eps) * w (C); rstd (N) saves 1 / sqrt(mean(x²) + eps) when not NULL.
     */
    void (*rmsnorm)(ft_backend *be, float *out, float *rstd, const float *x, const float *w, int N, int C,
                    float eps);
    /* In place on x (N, nh, D), HF Llama rotate-half layout: for i < D/2, the pair (x[i], x[i + D/2])
     * rotates by angle pos[n] * theta^(-2i/D); pos (N) restarts at 0 for every packed document. */
    void (*rope)(ft_backend *be, float *x, const int32_t *pos, int N, int nh, int D, float theta);
    /* out (N, H, D): causal attention of q (N, H, D) over k, v (N, Hkv, D) (query head h reads kv head
     * h / (H / Hkv)); within row b, query t attends key j iff start[b*T + t] <= j <= t, where start (N) is
     * the row index of the first token of t's document (so attention never crosses documents). Scores are
     * q·k / sqrt(D), minus alibi[h] * (t - j) when alibi (H) is not NULL. lse (N, H) saves the log-sum-exp
     * of each softmax row when not NULL (the backward recomputes probabilities from it). */
    void (*attention)(ft_backend *be, float *out, float *lse, const float *q, const float *k, const float *v,
                      const int32_t *start, const float *alibi, int B, int T, int H, int Hkv, int D);
    /* out (n, H, D): attention of n new queries q (n, H, D) at positions p0 .. p0 + n - 1 of one sequence
     * over its cached keys and values k, v (p0 + n, Hkv, D) (the KV cache, new rows included): query i
     * attends key j iff j <= p0 + i, scores q·k / sqrt(D), minus alibi[h] * (p0 + i - j) when alibi (H) is
     * not NULL. The same numbers as attention over the whole sequence, for its last n rows. */
    void (*attention_kv)(ft_backend *be, float *out, const float *q, const float *k, const float *v,
                         const float *alibi, int p0, int n, int H, int Hkv, int D);
    /* out (n) = silu(gate) * up = gate / (1 + exp(-gate)) * up, elementwise over n = N * F values. */
    void (*swiglu)(ft_backend *be, float *out, const float *gate, const float *up, size_t n);
    /* y (N, O) = x (N, I) Wᵀ (+ bias (O) when not NULL). */
    void (*matmul)(ft_backend *be, float *y, const float *x, const ft_weight *W, const float *bias, int N);
    /* y (N, O) = x Wᵀ (+ bias) + scale · (x Aᵀ) Bmᵀ with fp32 A (R, I) and Bm (O, R) (PEFT's lora_A and
     * lora_B), scale = lora_alpha / r. xa (N, R) saves x Aᵀ for the backward when not NULL. */
    void (*lora)(ft_backend *be, float *y, float *xa, const float *x, const ft_weight *W, const float *bias,
                 const float *A, const float *Bm, int R, float scale, int N);
    /* y (n) += x (n). */
    void (*add)(ft_backend *be, float *y, const float *x, size_t n);
    /* logp (N, V) = log_softmax(rmsnorm(x (N, C), w (C), eps) Wᵀ), W (V, C): the final norm, lm_head and
     * log-softmax, for evaluation. */
    void (*head)(ft_backend *be, float *logp, const float *x, const float *w, float eps, const ft_weight *W,
                 int N);
    /* Masked mean cross-entropy: returns sum over n with targets[n] >= 0 of -log
     * softmax(logits[n])[targets[n]], divided by their count (0 when there is none); losses (N) gets each
     * token's loss (0 where ignored) when not NULL. logits (N, V); targets (N), -1 = no target (see
     * ft_targets_from_mask). */
    float (*cross_entropy)(ft_backend *be, float *losses, const float *logits, const int32_t *targets, int N,
                           int V);

    /* ---- backward (adds into gradients; NULL gradient = not wanted) ---- */
    /* dwte (V, C) += scatter of dout (N, C) at ids. */
    void (*embedding_backward)(ft_backend *be, float *dwte, const float *dout, const int32_t *ids, int N,
                               int C, int V);
    /* dx (N, C), dw (C) from dout (N, C), x, w and the saved rstd (N). */
    void (*rmsnorm_backward)(ft_backend *be, float *dx, float *dw, const float *dout, const float *x,
                             const float *w, const float *rstd, int N, int C);
    /* In place on dx (N, nh, D): the inverse rotation (the gradient of rope through its own input). */
    void (*rope_backward)(ft_backend *be, float *dx, const int32_t *pos, int N, int nh, int D, float theta);
    /* dq (N, H, D), dk, dv (N, Hkv, D) from dout (N, H, D), the forward's inputs, its out and lse. */
    void (*attention_backward)(ft_backend *be, float *dq, float *dk, float *dv, const float *dout,
                               const float *q, const float *k, const float *v, const float *out,
                               const float *lse, const int32_t *start, const float *alibi, int B, int T,
                               int H, int Hkv, int D);
    /* dgate, dup (n) from dout (n), gate, up. */
    void (*swiglu_backward)(ft_backend *be, float *dgate, float *dup, const float *dout, const float *gate,
                            const float *up, size_t n);
    /* dx (N, I) += dy (N, O) W; dW (O, I) += dyᵀ x (F32 weights only); dbias (O) += column sums of dy. */
    void (*matmul_backward)(ft_backend *be, float *dx, float *dW, float *dbias, const float *dy,
                            const float *x, const ft_weight *W, int N);
    /* dx (N, I), dA (R, I), dB (O, R) of the lora op (base W frozen) from dy (N, O) and the saved xa (N, R).
     */
    void (*lora_backward)(ft_backend *be, float *dx, float *dA, float *dB, const float *dy, const float *x,
                          const float *xa, const ft_weight *W, const float *A, const float *Bm, int R,
                          float scale, int N);
    /* dlogits (N, V) += dloss · (softmax(logits) - onehot(target)) on rows with a target; for the masked mean
     * of cross_entropy, dloss = 1 / (number of targets). */
    void (*cross_entropy_backward)(ft_backend *be, float *dlogits, const float *logits,
                                   const int32_t *targets, float dloss, int N, int V);
} ft_backend_ops;

struct ft_backend {
    const ft_backend_ops *ops;
    int nthreads; /* CPU threads (0 = the OpenMP default) */
    void *ctx;    /* backend-private state */
};

/* ft_backend_new: the backend called name ("ref", "cpu"; "cuda" when built with CUDA). Returns 0 and a new
 * handle in *out (free with ft_backend_free), FT_EINVAL for an unknown name, FT_ENOMEM. */
int ft_backend_new(const char *name, ft_backend **out);
void ft_backend_free(ft_backend *be);
/* "ref, cpu[, cuda]" (static), for usage messages. */
const char *ft_backend_names(void);
/* The op table of each host backend (static). */
const ft_backend_ops *ft_backend_ref_ops(void);
const ft_backend_ops *ft_backend_cpu_ops(void);
/* A name for an op ("matmul", "rope_backward"...), static. */
const char *ft_op_name(ft_op op);

/* ---- helpers shared by all backends (host memory) ---- */

/* ft_weight_row: elements [i0, i0 + n) of row o of W, converted to float into dst. */
void ft_weight_row(const ft_weight *W, int o, int i0, int n, float *dst);
/* ft_weight_f32/bf16/nf4: a weight view over caller-owned storage. */
ft_weight ft_weight_f32(const float *w, int out, int in);
ft_weight ft_weight_bf16(const uint16_t *w, int out, int in);
ft_weight ft_weight_nf4(const ft_nf4_tensor *t, int out, int in);

/* ft_seq_layout: for one packed row of T tokens holding documents of lengths seq_lens[0..ndocs) (in order),
 * writes pos (T), the position of each token within its document (restarting at 0), and start (T), the row
 * index of its document's first token. Tokens past the documents' total (padding) form one more document.
 * Returns 0, or FT_EINVAL when a length is negative or they sum past T. */
int ft_seq_layout(const int32_t *seq_lens, int ndocs, int T, int32_t *pos, int32_t *start);
/* ft_targets_from_mask: next-token targets of one row of T tokens: targets[t] = ids[t + 1] when
 * t + 1 < T and mask[t + 1] = 1 and t + 1 is in the same document as t (start equal; start may be NULL), else
 * -1. Returns the number of targets. */
int ft_targets_from_mask(const int32_t *ids, const uint8_t *mask, const int32_t *start, int T,
                         int32_t *targets);
/* ft_alibi_slopes: the ALiBi slope of each of H heads as BLOOM and Baichuan-13B compute them: with
 * n = the largest power of two <= H, slope h = 2^(-8 (h + 1) / n) for h < n, and the remaining H - n heads
 * take 2^(-4 (2 j + 1) / n), j = 0, 1, ... (the odd powers of the 2n-head sequence). */
void ft_alibi_slopes(float *slopes, int H);

#endif
