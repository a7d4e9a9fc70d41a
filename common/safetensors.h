/* safetensors.h: the safetensors format (Hugging Face): reading a mapped file, validated before any tensor is
 * handed out, and writing one atomically (PEFT adapters, test fixtures).
 * Layout: u64 little-endian header length N, N bytes of JSON {name: {"dtype", "shape", "data_offsets"},
 * "__metadata__": {str: str}}, then the data section. Rule (as the reference implementation checks): the
 * tensors' [begin, end) ranges, sorted, tile the data section exactly, each end - begin == numel * dtype size. */
#ifndef FT_SAFETENSORS_H
#define FT_SAFETENSORS_H

#include <stddef.h>

#include "dtype.h"
#include "ft.h"

/* The header length that is refused as too large (the reference implementation's limit). */
#define FT_SAFETENSORS_MAX_HEADER 100000000u

typedef struct ft_safetensors ft_safetensors;

/* ft_safetensors_open: maps path and validates it. Returns 0 and a heap object in *out (free with
 * ft_safetensors_free), or FT_EIO (errno set), FT_EPARSE/FT_EFORMAT/FT_ERANGE/FT_ETOOBIG for a malformed
 * file, FT_ENOMEM; on failure *out is NULL and, when why is not NULL, a one-line reason is appended to it. */
int ft_safetensors_open(const char *path, ft_safetensors **out, ft_buf *why);
/* ft_safetensors_parse: the same over data[0..size) in memory, which is borrowed and must outlive *out. */
int ft_safetensors_parse(const void *data, size_t size, ft_safetensors **out, ft_buf *why);
/* NULL is harmless. Invalidates every view and string the object handed out. */
void ft_safetensors_free(ft_safetensors *st);

/* The number of tensors, and tensor i (0 <= i < count) in bytewise name order. Views are owned by st. */
size_t ft_safetensors_count(const ft_safetensors *st);
const ft_tensor *ft_safetensors_at(const ft_safetensors *st, size_t i);
/* The tensor called name, or NULL. */
const ft_tensor *ft_safetensors_find(const ft_safetensors *st, const char *name);
/* The __metadata__ string under key, or NULL (owned by st). */
const char *ft_safetensors_meta(const ft_safetensors *st, const char *key);

/* ft_safetensors_serialize: appends a whole safetensors file holding tensors[0..n) to out: names must be
 * distinct and each view's nbytes must match its shape and dtype. The header is sorted by name, padded with
 * spaces to a multiple of 8 bytes, and starts with "__metadata__": {"format": "pt"} followed by the pairs
 * of meta (a NULL-terminated list key, value, key, value...; may be NULL). The data section follows the
 * same name order. Returns 0 or FT_EINVAL (duplicate name, inconsistent view, "format" in meta) with why. */
int ft_safetensors_serialize(ft_buf *out, const ft_tensor *tensors, size_t n, const char *const *meta,
                             ft_buf *why);
/* ft_safetensors_write: the same written to path through atomic.h (complete or absent). Returns 0,
 * FT_EINVAL as above, or FT_EIO (errno set) with why. */
int ft_safetensors_write(const char *path, const ft_tensor *tensors, size_t n, const char *const *meta,
                         ft_buf *why);

#endif
