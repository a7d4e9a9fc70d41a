/* nf4.h: 4-bit NormalFloat quantization of base weights, bit-exact with bitsandbytes' CUDA kernels
 * (quantize_4bit quant_type="nf4", blocksize 64), and its double quantization of the absmax
 * (compress_statistics=True: 8-bit dynamic map, blocks of 256, mean offset).
 *
 * The NF4 rule (bitsandbytes kQuantizeBlockwise / dQuantizeNF4): per block of 64 consecutive elements
 * (a last block may be shorter), absmax = max |x| (NaN ignored); s = 1.0f / absmax; code = the number of
 * FT_NF4_THRESHOLDS strictly below x * s (so a value on a threshold takes the lower code, and NaN code 0);
 * element 2j goes to the high nibble of byte j, 2j + 1 to the low one (an odd count pads with the code of
 * 0 * s). An all-zero block has absmax 0, s = inf, 0 * inf = NaN: every code is 0 and dequantizes to -0.0,
 * as the CUDA kernel does (bitsandbytes' torch backend clamps absmax and gets code 7; both give zeros).
 * Dequantization: ft_nf4_code[code] * absmax, one float multiply.
 * Rule: the float operations are exactly the kernel's, in float, in the same order. */
#ifndef FT_NF4_H
#define FT_NF4_H

#include <stddef.h>
#include <stdint.h>

#include "ft.h"

#define FT_NF4_BLOCK 64     /* elements per absmax */
#define FT_NF4_DQ_BLOCK 256 /* absmax values per second-level scale in double quantization */

/* bitsandbytes' NF4 table (nf4_dequantization_lut), -1 .. 0 (code 7) .. 1. */
extern const float ft_nf4_code[16];
/* The 15 decision thresholds, ascending: the float midpoints of neighbouring codes (see nf4.c on how they
 * relate to the literals of bnb's dQuantizeNF4). */
extern const float ft_nf4_thresholds[15];

/* The code of one already scaled value. */
uint8_t ft_nf4_code_of(float xs);

/* ft_nf4_quantize: quantizes x[0..n) starting at a block boundary: writes (n + 1) / 2 bytes to packed and
 * ceil(n / 64) values to absmax. Ranges cut at multiples of 64 can be quantized independently (threads). */
void ft_nf4_quantize(const float *x, size_t n, uint8_t *packed, float *absmax);
/* ft_nf4_dequantize: elements [begin, begin + n) of a quantized array (begin even or not) into out, from
 * its packed bytes and per-block absmax. */
void ft_nf4_dequantize(const uint8_t *packed, const float *absmax, size_t begin, size_t n, float *out);

/* ---- double quantization of the absmax ---- */

/* ft_nf4_dynamic_map: bitsandbytes' create_dynamic_map(signed=True, 7, 8): 256 sorted floats in [-1, 1].
 * Its entries are float32 means of torch.linspace(0.1, 1, k) points scaled by powers of ten; here linspace
 * follows PyTorch's scalar float formula (start + i * step below the halfway index, end - (k - 1 - i) * step
 * from it). PyTorch's vectorized kernel can differ in the last bits, so a checkpoint's own map
 * (nested_quant_map) should be preferred when there is one. */
void ft_nf4_dynamic_map(float map[256]);

/* ft_quantize_blockwise8: bitsandbytes' 8-bit blockwise quantization (kQuantizeBlockwise, General8bit,
 * dQuantize<0>): per block of blocksize values, absmax = max |x|, each x * (1.0f / absmax) becomes the index
 * of the nearest map entry by the kernel's binary search and midpoint test. map must be sorted ascending
 * with map[255] = 1 (ft_nf4_dynamic_map). Writes n codes and ceil(n / blocksize) absmax values. */
void ft_quantize_blockwise8(const float *x, size_t n, const float map[256], size_t blocksize, uint8_t *q,
                            float *absmax);

/* A quantized weight: one allocation carved into the arrays below; either plain or double-quantized absmax. */
typedef struct {
    size_t n;          /* elements */
    size_t nblocks;    /* ceil(n / 64) */
    uint8_t *packed;   /* ((n + 1) / 2) two codes per byte, even element high */
    float *absmax;     /* (nblocks) fp32 absmax; NULL when double-quantized */
    uint8_t *qabsmax;  /* (nblocks) 8-bit codes of absmax - offset; NULL unless double-quantized */
    float *absmax2;    /* (ceil(nblocks / 256)) second-level scales */
    float offset;      /* mean of the absmax values (float) */
    float map[256];    /* the dynamic map used for qabsmax */
    void *mem;         /* owner of all arrays */
} ft_nf4_tensor;

/* ft_nf4_tensor_quantize: quantizes x[0..n) into t (caller-owned struct; release with
 * ft_nf4_tensor_release). With double_quant, the absmax values are quantized as bitsandbytes'
 * compress_statistics does: offset = their mean (summed in double, rounded to float; PyTorch's reduction
 * order may differ in the last bit), then ft_quantize_blockwise8(absmax - offset, blocksize 256) with map
 * (NULL = ft_nf4_dynamic_map). Returns 0 or FT_ENOMEM. */
int ft_nf4_tensor_quantize(ft_nf4_tensor *t, const float *x, size_t n, int double_quant, const float *map);
/* The absmax of block b: stored, or map[qabsmax[b]] * absmax2[b / 256] + offset (as bitsandbytes'
 * dequantize_blockwise followed by += offset, in float). */
float ft_nf4_tensor_absmax(const ft_nf4_tensor *t, size_t b);
/* Dequantizes elements [begin, begin + n) into out (rows on the fly). */
void ft_nf4_tensor_dequantize(const ft_nf4_tensor *t, size_t begin, size_t n, float *out);
void ft_nf4_tensor_release(ft_nf4_tensor *t);

#endif
