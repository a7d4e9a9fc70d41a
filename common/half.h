/* half.h: IEEE binary16 and bfloat16 conversions to and from float.
 * Rule: widening is exact; narrowing rounds to nearest, ties to even; NaN stays NaN (quiet, sign kept). */
#ifndef FT_HALF_H
#define FT_HALF_H

#include <stddef.h>
#include <stdint.h>

float ft_f16_to_f32(uint16_t h);
/* Overflow gives +-inf, tiny values round into the subnormals or to a signed zero. */
uint16_t ft_f32_to_f16(float f);
float ft_bf16_to_f32(uint16_t b);
/* NaN keeps its sign and top payload bits with the quiet bit set (PyTorch writes 0x7fc0 for every NaN). */
uint16_t ft_f32_to_bf16(float f);

/* Bulk widening of n little-endian 16-bit values at src (any alignment) into dst. */
void ft_f16_to_f32_n(const void *src, size_t n, float *dst);
void ft_bf16_to_f32_n(const void *src, size_t n, float *dst);

#endif
