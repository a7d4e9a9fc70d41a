/* nf4.c: NF4 quantization and the 8-bit double quantization of its scales, as bitsandbytes' kernels compute.
 * Rule: every float operation is written as one statement per rounding, so no compiler can fuse two of
 * them (clang contracts a * b + c inside one expression). */
#include "nf4.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const float ft_nf4_code[16] = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
    -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f,
    0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f,
    0.7229568362236023f, 1.0f,
};

/* The midpoints of neighbouring codes, in float (written in hex so no decimal parsing can move them).
 * bnb's CUDA tree spells them as decimal literals such as 0.8614784181118011f, which lie within 1e-16 of a
 * float tie: rounded through double they are these midpoints, rounded directly to float four of them
 * (k = 0, 8, 12, 14) come out one ulp away. The midpoints are what bnb's torch backend bucketizes on and what
 * the reference data shows; the two readings differ only for a scaled value exactly on one of those ulps. */
const float ft_nf4_thresholds[15] = {
    -0x1.b239bp-1f,  -0x1.38a4ep-1f,  -0x1.d709p-2f,  -0x1.5bd4ecp-2f, -0x1.e079d8p-3f,
    -0x1.1a7178p-3f, -0x1.74f0e2p-5f, 0x1.45f5fep-5f, 0x1.ec90c4p-4f,  0x1.a0cfcp-3f,
    0x1.2b05a8p-2f,  0x1.8ea7f2p-2f,  0x1.00da08p-1f, 0x1.491b5ep-1f,  0x1.b913b4p-1f,
};

uint8_t ft_nf4_code_of(float xs) {
    uint8_t c = 0;
    for (int k = 0; k < 15; k++) c += xs > ft_nf4_thresholds[k];
    return c;
}

/* The kernel's block maximum: fmaxf from -FLT_MAX over |x| (NaN ignored); a short block also sees the zeros
 * the kernel pads it with. */
static float block_absmax(const float *x, size_t n, size_t block) {
    float m = -FLT_MAX;
    for (size_t i = 0; i < n; i++) m = fmaxf(m, fabsf(x[i]));
    if (n < block) m = fmaxf(m, 0.0f);
    return m;
}

void ft_nf4_quantize(const float *x, size_t n, uint8_t *packed, float *absmax) {
    for (size_t b = 0; b * FT_NF4_BLOCK < n; b++) {
        size_t at = b * FT_NF4_BLOCK, len = n - at < FT_NF4_BLOCK ? n - at : FT_NF4_BLOCK;
        float m = block_absmax(x + at, len, FT_NF4_BLOCK);
        float s = 1.0f / m;
        absmax[b] = m;
        for (size_t i = 0; i < len; i += 2) {
            float hi = x[at + i] * s;
            float lo = i + 1 < len ? x[at + i + 1] * s : 0.0f * s;
            packed[(at + i) / 2] = (uint8_t)(ft_nf4_code_of(hi) << 4 | ft_nf4_code_of(lo));
        }
    }
}

void ft_nf4_dequantize(const uint8_t *packed, const float *absmax, size_t begin, size_t n, float *out) {
    for (size_t i = begin; i < begin + n; i++) {
        uint8_t byte = packed[i / 2];
        out[i - begin] = ft_nf4_code[i & 1 ? byte & 15 : byte >> 4] * absmax[i / FT_NF4_BLOCK];
    }
}

/* torch.linspace(0.1, 1, k, dtype=float32), PyTorch's scalar CPU formula. */
static void linspace(float *v, int k) {
    const float start = 0.1f, end = 1.0f;
    float step = (end - start) / (float)(k - 1);
    int halfway = k / 2;
    for (int i = 0; i < k; i++) {
        float d = step * (float)(i < halfway ? i : k - i - 1);
        v[i] = i < halfway ? start + d : end - d;
    }
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

void ft_nf4_dynamic_map(float map[256]) {
    int n = 0;
    for (int i = 0; i < 7; i++) { /* max_exponent_bits 7, signed: 2^i + 1 boundaries per decade */
        float b[65];
        int k = (1 << i) + 1;
        linspace(b, k);
        float scale = (float)pow(10.0, -6 + i);
        for (int j = 0; j + 1 < k; j++) {
            float sum = b[j] + b[j + 1];
            float mean = sum / 2.0f;
            float v = scale * mean;
            map[n++] = v;
            map[n++] = -v;
        }
    }
    map[n++] = 0.0f;
    map[n++] = 1.0f;
    qsort(map, (size_t)n, sizeof *map, cmp_float);
}

/* dQuantize<0>: binary search over the sorted map, then the midpoint test against the neighbour. */
static uint8_t quantize8(const float *code, float x) {
    int pivot = 127, upper_pivot = 255, lower_pivot = 0;
    float lower = -1.0f, upper = 1.0f, val = code[pivot];
    for (int i = 64; i > 0; i >>= 1) {
        if (x > val) {
            lower_pivot = pivot;
            lower = val;
            pivot += i;
        } else {
            upper_pivot = pivot;
            upper = val;
            pivot -= i;
        }
        val = code[pivot];
    }
    if (upper_pivot == 255) upper = code[upper_pivot];
    if (lower_pivot == 0) lower = code[lower_pivot];
    if (x > val) {
        float sum = upper + val;
        float mid = sum * 0.5f;
        return (uint8_t)(x > mid ? upper_pivot : pivot);
    }
    float sum = lower + val;
    float mid = sum * 0.5f;
    return (uint8_t)(x < mid ? lower_pivot : pivot);
}

void ft_quantize_blockwise8(const float *x, size_t n, const float map[256], size_t blocksize, uint8_t *q,
                            float *absmax) {
    for (size_t b = 0; b * blocksize < n; b++) {
        size_t at = b * blocksize, len = n - at < blocksize ? n - at : blocksize;
        float m = block_absmax(x + at, len, blocksize);
        float s = 1.0f / m;
        absmax[b] = m;
        for (size_t i = 0; i < len; i++) {
            float xs = x[at + i] * s;
            q[at + i] = quantize8(map, xs);
        }
    }
}

int ft_nf4_tensor_quantize(ft_nf4_tensor *t, const float *x, size_t n, int double_quant, const float *map) {
    memset(t, 0, sizeof *t);
    size_t nb = (n + FT_NF4_BLOCK - 1) / FT_NF4_BLOCK, nb2 = (nb + FT_NF4_DQ_BLOCK - 1) / FT_NF4_DQ_BLOCK;
    size_t bytes = (n + 1) / 2;
    size_t off_absmax = (bytes + 15) & ~(size_t)15;
    size_t off_q = off_absmax + nb * sizeof(float), off_a2 = (off_q + nb + 15) & ~(size_t)15;
    size_t total = off_a2 + (double_quant ? nb2 * sizeof(float) : 0);
    unsigned char *mem = malloc(total ? total : 1);
    if (!mem) return FT_ENOMEM;
    t->mem = mem;
    t->n = n;
    t->nblocks = nb;
    t->packed = mem;
    float *absmax = (float *)(mem + off_absmax);
    ft_nf4_quantize(x, n, t->packed, absmax);
    if (!double_quant) {
        t->absmax = absmax;
        return 0;
    }
    if (map) memcpy(t->map, map, sizeof t->map);
    else ft_nf4_dynamic_map(t->map);
    double sum = 0;
    for (size_t b = 0; b < nb; b++) sum += absmax[b];
    t->offset = nb ? (float)(sum / (double)nb) : 0.0f;
    for (size_t b = 0; b < nb; b++) absmax[b] -= t->offset; /* in place: the fp32 absmax is not kept */
    t->qabsmax = mem + off_q;
    t->absmax2 = (float *)(mem + off_a2);
    ft_quantize_blockwise8(absmax, nb, t->map, FT_NF4_DQ_BLOCK, t->qabsmax, t->absmax2);
    return 0;
}

float ft_nf4_tensor_absmax(const ft_nf4_tensor *t, size_t b) {
    if (t->absmax) return t->absmax[b];
    float scaled = t->map[t->qabsmax[b]] * t->absmax2[b / FT_NF4_DQ_BLOCK];
    return scaled + t->offset;
}

void ft_nf4_tensor_dequantize(const ft_nf4_tensor *t, size_t begin, size_t n, float *out) {
    for (size_t i = begin; i < begin + n;) {
        size_t b = i / FT_NF4_BLOCK, end = (b + 1) * FT_NF4_BLOCK;
        if (end > begin + n) end = begin + n;
        float a = ft_nf4_tensor_absmax(t, b);
        for (; i < end; i++) {
            uint8_t byte = t->packed[i / 2];
            out[i - begin] = ft_nf4_code[i & 1 ? byte & 15 : byte >> 4] * a;
        }
    }
}

void ft_nf4_tensor_release(ft_nf4_tensor *t) {
    free(t->mem);
    memset(t, 0, sizeof *t);
}
