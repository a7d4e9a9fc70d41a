/* ref.h: the reference ops that other host backends reuse as they are (memory functions, and ops a backend
 * leaves to the reference, as its supports() then says).
 * Rule: only what another backend's op table points at is exported; the rest of ref.c is reached through
 * ft_backend_ref_ops(). */
#ifndef FT_REF_H
#define FT_REF_H

#include "backend.h"

/* Host memory: malloc / free / memcpy. */
void *ft_ref_alloc(ft_backend *be, size_t bytes);
void ft_ref_free(ft_backend *be, void *p);
void ft_ref_copy(ft_backend *be, void *dst, const void *src, size_t bytes);
/* backend.h's embedding_backward, in plain C. */
void ft_ref_embedding_backward(ft_backend *be, float *dwte, const float *dout, const int32_t *ids, int N,
                               int C, int V);

#endif
