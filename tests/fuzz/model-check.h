/* model-check.h: what the model-file fuzz targets (safetensors, pickle, torchbin) share: the invariant check
 * and an exact-size copy of the input, so any read past its end is an ASan error.
 * Rule: header-only; a violation prints what broke and aborts, so libFuzzer and the replay both see it. */
#ifndef FT_FUZZ_MODEL_CHECK_H
#define FT_FUZZ_MODEL_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtype.h"

#define MODEL_CHECK(cond, what)                                                                          \
    do {                                                                                                 \
        if (!(cond)) {                                                                                   \
            fprintf(stderr, "fuzz invariant violated: %s (%s) at %s:%d\n", what, #cond, __FILE__, __LINE__); \
            abort();                                                                                     \
        }                                                                                                \
    } while (0)

static inline unsigned char *model_copy(const uint8_t *data, size_t size) {
    unsigned char *p = malloc(size ? size : 1);
    if (p && size) memcpy(p, data, size);
    return p;
}

/* A view handed out by a reader: its bytes lie inside base[0..size), its sizes agree with its shape, and
 * reading it as floats (where the dtype allows) touches only those bytes. */
static inline void model_check_view(const ft_tensor *t, const unsigned char *base, size_t size) {
    MODEL_CHECK(t && t->name, "a view has a name");
    ft_tensor chk = {.dtype = t->dtype};
    MODEL_CHECK(ft_tensor_set_shape(&chk, t->ndim, t->shape) == 0 && chk.numel == t->numel &&
                    chk.nbytes == t->nbytes, "numel and nbytes agree with the shape");
    if (t->nbytes == 0) return;
    const unsigned char *d = t->data;
    MODEL_CHECK(d >= base && d <= base + size && t->nbytes <= (uint64_t)(base + size - d), "data inside the input");
    if (t->dtype == FT_DTYPE_F32 || t->dtype == FT_DTYPE_F16 || t->dtype == FT_DTYPE_BF16) {
        float f[16];
        uint64_t n = t->numel < 16 ? t->numel : 16;
        MODEL_CHECK(ft_tensor_read_f32(t, t->numel - n, n, f) == 0, "the last elements read as floats");
    }
}

#endif
