/* ops.h: what the op tests share: a seeded generator, buffers with guard values behind them, the normalized
 * error of one result against the reference.
 * Rule: header-only, static; a comparison prints one TAP line with the error it measured. */
#ifndef FT_TEST_OPS_H
#define FT_TEST_OPS_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "tap.h"

enum { GUARD = 16 };
#define GUARD_VALUE 1234.5f

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static inline void rng_seed(uint64_t s) { rng_state = s * 0x9e3779b97f4a7c15ull + 1; }

/* Uniform in [-1, 1). */
static inline float rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) * (1.0 / (1ull << 24)) * 2.0 - 1.0);
}

/* n floats (zeroed) followed by GUARD guard values; free with free(). */
static inline float *fbuf(size_t n) {
    float *p = malloc((n + GUARD) * sizeof *p);
    if (!p) abort();
    memset(p, 0, n * sizeof *p);
    for (int i = 0; i < GUARD; i++)
        p[n + i] = GUARD_VALUE;
    return p;
}

/* n floats uniform in [-scale, scale), with guards. */
static inline float *frand(size_t n, float scale) {
    float *p = fbuf(n);
    for (size_t i = 0; i < n; i++)
        p[i] = scale * rnd();
    return p;
}

static inline float *fcopy(const float *src, size_t n) {
    float *p = fbuf(n);
    memcpy(p, src, n * sizeof *p);
    return p;
}

static inline int guards_ok(const float *p, size_t n) {
    for (int i = 0; i < GUARD; i++)
        if (p[n + i] != GUARD_VALUE) return 0;
    return 1;
}

/* max |got - want| / max(max |want|, 1e-30); -1 when got has a NaN/Inf, or got's guards were overwritten. */
static inline double norm_err(const float *got, const float *want, size_t n) {
    double d = 0, m = 1e-30;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i])) return -1;
        double e = fabs((double)got[i] - want[i]);
        if (e > d) d = e;
        if (fabs(want[i]) > m) m = fabs(want[i]);
    }
    return guards_ok(got, n) ? d / m : -1;
}

/* One TAP line: got matches want to tol in normalized error. */
static inline void near(const float *got, const float *want, size_t n, double tol, const char *what) {
    double e = norm_err(got, want, n);
    ok(e >= 0 && e <= tol, "%s: normalized error %.3g <= %.1g", what, e, tol);
}

#endif
