/* half.c: binary16 and bfloat16 <-> float by bit manipulation.
 * Rule: no dependence on the compiler's _Float16 or the FPU rounding mode: the integer code is the spec. */
#include "half.h"

#include <string.h>

static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static float float_of(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float ft_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0x1f) return float_of(sign | 0x7f800000u | (man << 13)); /* inf, NaN (payload kept) */
    if (exp != 0) return float_of(sign | ((exp + 112) << 23) | (man << 13));
    if (man == 0) return float_of(sign);
    /* subnormal: man * 2^-24, exact in float */
    float v = (float)man * 0x1p-24f;
    return float_of(sign | bits_of(v));
}

uint16_t ft_f32_to_f16(float f) {
    uint32_t u = bits_of(f), sign = (u >> 16) & 0x8000, abs = u & 0x7fffffffu;
    if (abs > 0x7f800000u) return (uint16_t)(sign | 0x7e00 | ((abs >> 13) & 0x3ff)); /* NaN, quiet */
    if (abs >= 0x477ff000u) return (uint16_t)(sign | 0x7c00); /* >= 65520 rounds to inf */
    if (abs < 0x38800000u) {                                  /* below 2^-14: subnormal or zero */
        if (abs < 0x33000000u) return (uint16_t)sign;         /* < 2^-25: rounds to zero (2^-25 ties to 0) */
        uint32_t exp = abs >> 23, man = (abs & 0x7fffff) | 0x800000;
        uint32_t shift = 126 - exp; /* value = man * 2^(exp-150); want units of 2^-24 */
        uint32_t q = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return (uint16_t)(sign | q);
    }
    uint32_t r = abs - 0x38000000u; /* rebias exponent 127 -> 15 */
    uint32_t q = r >> 13, rem = r & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (q & 1))) q++; /* a carry into the exponent is right */
    return (uint16_t)(sign | q);
}

float ft_bf16_to_f32(uint16_t b) { return float_of((uint32_t)b << 16); }

uint16_t ft_f32_to_bf16(float f) {
    uint32_t u = bits_of(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    uint32_t lsb = (u >> 16) & 1;
    return (uint16_t)((u + 0x7fffu + lsb) >> 16);
}

void ft_f16_to_f32_n(const void *src, size_t n, float *dst) {
    const unsigned char *p = src;
    for (size_t i = 0; i < n; i++) dst[i] = ft_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
}

void ft_bf16_to_f32_n(const void *src, size_t n, float *dst) {
    const unsigned char *p = src;
    for (size_t i = 0; i < n; i++) dst[i] = float_of((uint32_t)p[2 * i] << 16 | (uint32_t)p[2 * i + 1] << 24);
}
