/* rng.h: the seeded pseudo-random generator every ft tool shares: xoshiro256** (Blackman and Vigna, 2018)
 * seeded through splitmix64, and an unbiased bounded draw (Lemire's multiply-and-reject).
 * Rule: the sequence depends only on the seed, on every platform, so seeded runs are reproducible. */
#ifndef FT_RNG_H
#define FT_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} ft_rng;

/* splitmix64: advances *x and returns the next output; also a good 64-bit mixing step. */
static inline uint64_t ft_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* ft_rng_seed: the state from four splitmix64 outputs of seed (never all zero). */
static inline void ft_rng_seed(ft_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = ft_splitmix64(&seed);
}

static inline uint64_t ft_rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* ft_rng_next: the next 64 uniformly distributed bits (xoshiro256**). */
static inline uint64_t ft_rng_next(ft_rng *r) {
    uint64_t *s = r->s, out = ft_rng_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3], s[2] ^= t;
    s[3] = ft_rng_rotl(s[3], 45);
    return out;
}

/* ft_rng_below: a uniform integer in [0, n), n >= 1, without modulo bias. */
static inline uint32_t ft_rng_below(ft_rng *r, uint32_t n) {
    uint64_t m = (uint64_t)(uint32_t)(ft_rng_next(r) >> 32) * n;
    if ((uint32_t)m < n) {
        uint32_t floor = (uint32_t)(-n) % n;
        while ((uint32_t)m < floor) m = (uint64_t)(uint32_t)(ft_rng_next(r) >> 32) * n;
    }
    return (uint32_t)(m >> 32);
}

/* ft_rng_shuffle_u32: Fisher–Yates over p[0..n) (n < 2^32), from the last element down, with unbiased
 * draws: the one shuffle of ft-pack --pack shuffle and the dataloader's order. */
static inline void ft_rng_shuffle_u32(ft_rng *r, uint32_t *p, size_t n) {
    for (size_t i = n; i > 1; i--) {
        uint32_t j = ft_rng_below(r, (uint32_t)i), t = p[i - 1];
        p[i - 1] = p[j], p[j] = t;
    }
}

#endif
