/* dtype.h: the element types of model tensors and the borrowed tensor view that every weight reader
 * (safetensors, torch .bin) hands out.
 * Rule: a view never owns its bytes; sizes are computed once, with overflow checked, when a reader builds it. */
#ifndef FT_DTYPE_H
#define FT_DTYPE_H

#include <stddef.h>
#include <stdint.h>

#include "ft.h"

typedef enum {
    FT_DTYPE_F32,
    FT_DTYPE_F16,
    FT_DTYPE_BF16,
    FT_DTYPE_F64,
    FT_DTYPE_I64,
    FT_DTYPE_I32,
    FT_DTYPE_I16,
    FT_DTYPE_I8,
    FT_DTYPE_U8,
    FT_DTYPE_BOOL,
    FT_DTYPE_COUNT
} ft_dtype;

/* Bytes per element (1..8). */
size_t ft_dtype_size(ft_dtype t);
/* The safetensors spelling ("F32", "BF16", "BOOL"...): static. */
const char *ft_dtype_name(ft_dtype t);
/* The dtype spelled name[0..len) in safetensors' spelling. Returns 0 and *out, or FT_EFORMAT. */
int ft_dtype_from_name(const char *name, size_t len, ft_dtype *out);
/* The dtype of a config.json "torch_dtype" ("float32", "float16", "bfloat16"; also "fp16", "bf16",
 * "float", "half"). Returns 0 and *out, or FT_EFORMAT. */
int ft_dtype_from_torch_name(const char *name, ft_dtype *out);

#define FT_TENSOR_MAX_DIMS 8

/* A tensor inside a mapped file: contiguous, row-major, little-endian. data may be unaligned (safetensors
 * places tensors at any byte offset): read it with ft_tensor_read_f32 or memcpy. */
typedef struct {
    const char *name;  /* borrowed from the reader that made the view */
    ft_dtype dtype;
    int ndim;          /* 0..FT_TENSOR_MAX_DIMS; 0 is a scalar with one element */
    int64_t shape[FT_TENSOR_MAX_DIMS];
    uint64_t numel;    /* product of shape */
    uint64_t nbytes;   /* numel * ft_dtype_size(dtype) */
    const void *data;  /* borrowed; NULL only when nbytes is 0 */
} ft_tensor;

/* ft_tensor_set_shape: sets t->ndim, shape, numel and nbytes from dims[0..ndim) for t->dtype. Returns 0,
 * FT_EINVAL for ndim out of range or a negative dim, or FT_ERANGE when numel or nbytes overflows 2^63. */
int ft_tensor_set_shape(ft_tensor *t, int ndim, const int64_t *dims);

/* ft_tensor_read_f32: converts elements [begin, begin + n) of a F32, F16 or BF16 tensor to float in dst
 * (exact widening; NaN stays NaN). Returns 0, FT_ERANGE when the range is outside the tensor, or
 * FT_EFORMAT for another dtype. */
int ft_tensor_read_f32(const ft_tensor *t, uint64_t begin, uint64_t n, float *dst);

/* Appends "[d0, d1, ...]" to out (for messages). */
void ft_tensor_shape_str(const ft_tensor *t, ft_buf *out);

#endif
