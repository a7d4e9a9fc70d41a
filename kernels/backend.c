/* backend.c: choosing a backend by name, and the host helpers every backend shares (weight rows, packed-row
 * layout, targets, ALiBi slopes).
 * Rule: this is the only file that knows which backends exist (#ifdef FT_CUDA would appear here only). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "half.h"

static const char *const op_names[FT_OP_COUNT] = {
    [FT_OP_EMBEDDING] = "embedding",
    [FT_OP_RMSNORM] = "rmsnorm",
    [FT_OP_ROPE] = "rope",
    [FT_OP_ATTENTION] = "attention",
    [FT_OP_SWIGLU] = "swiglu",
    [FT_OP_MATMUL] = "matmul",
    [FT_OP_LORA] = "lora",
    [FT_OP_ADD] = "add",
    [FT_OP_HEAD] = "head",
    [FT_OP_CROSS_ENTROPY] = "cross_entropy",
    [FT_OP_EMBEDDING_BACKWARD] = "embedding_backward",
    [FT_OP_RMSNORM_BACKWARD] = "rmsnorm_backward",
    [FT_OP_ROPE_BACKWARD] = "rope_backward",
    [FT_OP_ATTENTION_BACKWARD] = "attention_backward",
    [FT_OP_SWIGLU_BACKWARD] = "swiglu_backward",
    [FT_OP_MATMUL_BACKWARD] = "matmul_backward",
    [FT_OP_LORA_BACKWARD] = "lora_backward",
    [FT_OP_CROSS_ENTROPY_BACKWARD] = "cross_entropy_backward",
    [FT_OP_ATTENTION_KV] = "attention_kv",
};

const char *ft_op_name(ft_op op) { return op >= 0 && op < FT_OP_COUNT ? op_names[op] : "?"; }

const char *ft_backend_names(void) { return "ref, cpu"; }

int ft_backend_new(const char *name, ft_backend **out) {
    const ft_backend_ops *ops = NULL;
    *out = NULL;
    if (!strcmp(name, "ref"))
        ops = ft_backend_ref_ops();
    else if (!strcmp(name, "cpu"))
        ops = ft_backend_cpu_ops();
    FT_RETURN_IF(!ops, FT_EINVAL);
    ft_backend *be = calloc(1, sizeof *be);
    FT_RETURN_IF(!be, FT_ENOMEM);
    be->ops = ops;
    *out = be;
    return 0;
}

void ft_backend_free(ft_backend *be) { free(be); }

void ft_weight_row(const ft_weight *W, int o, int i0, int n, float *dst) {
    size_t at = (size_t)o * (size_t)W->in + (size_t)i0;
    switch (W->type) {
    case FT_WTYPE_F32: memcpy(dst, W->f32 + at, (size_t)n * sizeof *dst); break;
    case FT_WTYPE_BF16: ft_bf16_to_f32_n(W->bf16 + at, (size_t)n, dst); break;
    case FT_WTYPE_NF4: ft_nf4_tensor_dequantize(W->nf4, at, (size_t)n, dst); break;
    default: FT_ASSERT(0 && "weight type");
    }
}

ft_weight ft_weight_f32(const float *w, int out, int in) {
    return (ft_weight){.type = FT_WTYPE_F32, .out = out, .in = in, .f32 = w};
}

ft_weight ft_weight_bf16(const uint16_t *w, int out, int in) {
    return (ft_weight){.type = FT_WTYPE_BF16, .out = out, .in = in, .bf16 = w};
}

ft_weight ft_weight_nf4(const ft_nf4_tensor *t, int out, int in) {
    FT_ASSERT(t->n == (size_t)out * (size_t)in);
    return (ft_weight){.type = FT_WTYPE_NF4, .out = out, .in = in, .nf4 = t};
}

int ft_seq_layout(const int32_t *seq_lens, int ndocs, int T, int32_t *pos, int32_t *start) {
    int t = 0;
    for (int d = 0; d <= ndocs; d++) {
        int len = d < ndocs ? seq_lens[d] : T - t; /* the last "document" is the padding */
        FT_RETURN_IF(len < 0 || len > T - t, FT_EINVAL);
        for (int i = 0; i < len; i++) {
            pos[t + i] = i;
            start[t + i] = t;
        }
        t += len;
    }
    return 0;
}

int ft_targets_from_mask(const int32_t *ids, const uint8_t *mask, const int32_t *start, int T,
                         int32_t *targets) {
    int n = 0;
    for (int t = 0; t < T; t++) {
        int ok = t + 1 < T && mask[t + 1] && (!start || start[t + 1] == start[t]);
        targets[t] = ok ? ids[t + 1] : -1;
        n += ok;
    }
    return n;
}

void ft_alibi_slopes(float *slopes, int H) {
    int n = 1;
    while (n * 2 <= H)
        n *= 2;
    for (int h = 0; h < n; h++)
        slopes[h] = (float)pow(2.0, -8.0 * (h + 1) / n);
    for (int j = 0; n + j < H; j++)
        slopes[n + j] = (float)pow(2.0, -4.0 * (2 * j + 1) / n);
}
