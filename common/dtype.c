/* dtype.c: dtype names and sizes, tensor shapes with checked arithmetic, conversion to float.
 * Rule: one table of dtypes; every size product is checked before it is stored. */
#include "dtype.h"

#include <string.h>

#include "half.h"

static const struct {
    const char *name;
    size_t size;
} g_dtypes[FT_DTYPE_COUNT] = {
    [FT_DTYPE_F32] = {"F32", 4}, [FT_DTYPE_F16] = {"F16", 2}, [FT_DTYPE_BF16] = {"BF16", 2},
    [FT_DTYPE_F64] = {"F64", 8}, [FT_DTYPE_I64] = {"I64", 8}, [FT_DTYPE_I32] = {"I32", 4},
    [FT_DTYPE_I16] = {"I16", 2}, [FT_DTYPE_I8] = {"I8", 1},   [FT_DTYPE_U8] = {"U8", 1},
    [FT_DTYPE_BOOL] = {"BOOL", 1},
};

size_t ft_dtype_size(ft_dtype t) { return (unsigned)t < FT_DTYPE_COUNT ? g_dtypes[t].size : 0; }
const char *ft_dtype_name(ft_dtype t) { return (unsigned)t < FT_DTYPE_COUNT ? g_dtypes[t].name : "?"; }

int ft_dtype_from_name(const char *name, size_t len, ft_dtype *out) {
    for (int t = 0; t < FT_DTYPE_COUNT; t++)
        if (strlen(g_dtypes[t].name) == len && !memcmp(g_dtypes[t].name, name, len)) {
            *out = (ft_dtype)t;
            return 0;
        }
    return FT_EFORMAT;
}

int ft_dtype_from_torch_name(const char *name, ft_dtype *out) {
    static const struct {
        const char *name;
        ft_dtype t;
    } names[] = {{"float32", FT_DTYPE_F32},  {"float", FT_DTYPE_F32},   {"fp32", FT_DTYPE_F32},
                 {"float16", FT_DTYPE_F16},  {"half", FT_DTYPE_F16},    {"fp16", FT_DTYPE_F16},
                 {"bfloat16", FT_DTYPE_BF16}, {"bf16", FT_DTYPE_BF16}};
    const char *s = strncmp(name, "torch.", 6) ? name : name + 6;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(s, names[i].name)) {
            *out = names[i].t;
            return 0;
        }
    return FT_EFORMAT;
}

int ft_tensor_set_shape(ft_tensor *t, int ndim, const int64_t *dims) {
    if (ndim < 0 || ndim > FT_TENSOR_MAX_DIMS || (unsigned)t->dtype >= FT_DTYPE_COUNT) return FT_EINVAL;
    uint64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0) return FT_EINVAL;
        uint64_t d = (uint64_t)dims[i];
        if (d && numel > (UINT64_C(1) << 63) / d) return FT_ERANGE;
        numel *= d;
    }
    uint64_t esize = ft_dtype_size(t->dtype);
    if (numel > (UINT64_C(1) << 63) / esize) return FT_ERANGE;
    t->ndim = ndim;
    for (int i = 0; i < FT_TENSOR_MAX_DIMS; i++) t->shape[i] = i < ndim ? dims[i] : 0;
    t->numel = numel;
    t->nbytes = numel * esize;
    return 0;
}

int ft_tensor_read_f32(const ft_tensor *t, uint64_t begin, uint64_t n, float *dst) {
    if (begin > t->numel || n > t->numel - begin) return FT_ERANGE;
    if (n == 0) return 0;
    const unsigned char *p = t->data;
    switch (t->dtype) {
    case FT_DTYPE_F32: memcpy(dst, p + begin * 4, n * 4); return 0;
    case FT_DTYPE_F16: ft_f16_to_f32_n(p + begin * 2, n, dst); return 0;
    case FT_DTYPE_BF16: ft_bf16_to_f32_n(p + begin * 2, n, dst); return 0;
    default: return FT_EFORMAT;
    }
}

void ft_tensor_shape_str(const ft_tensor *t, ft_buf *out) {
    ft_buf_addc(out, '[');
    for (int i = 0; i < t->ndim; i++) ft_buf_addf(out, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
    ft_buf_addc(out, ']');
}
