/* weights.h: the tensors of a Hugging Face model directory, whatever files hold them: model.safetensors,
 * sharded safetensors (model.safetensors.index.json), pytorch_model.bin, or sharded .bin
 * (pytorch_model.bin.index.json), tried in that order, as transformers prefers them.
 * Rule: one name -> one tensor view; for sharded checkpoints the index's weight_map is the authority and
 * every tensor it lists must be in the shard it names. */
#ifndef FT_WEIGHTS_H
#define FT_WEIGHTS_H

#include <stddef.h>

#include "dtype.h"
#include "ft.h"

typedef struct ft_weights ft_weights;

/* ft_weights_open: path is a model directory or one .safetensors / .bin file. Returns 0 and a heap object
 * (free with ft_weights_free; the files stay mapped until then), or a negative FT_E* code from the readers
 * (FT_EIO with errno, FT_EFORMAT when the directory holds no weights file...) with a one-line reason
 * appended to why (when not NULL), naming the file; *out is NULL on failure. */
int ft_weights_open(const char *path, ft_weights **out, ft_buf *why);
void ft_weights_free(ft_weights *w);

/* "safetensors" or "pytorch" (static). */
const char *ft_weights_format(const ft_weights *w);
/* The number of files the tensors come from (1, or the shard count). */
size_t ft_weights_files(const ft_weights *w);
size_t ft_weights_count(const ft_weights *w);
/* Tensor i (0 <= i < count) in bytewise name order; owned by w. */
const ft_tensor *ft_weights_at(const ft_weights *w, size_t i);
/* The tensor called name, or NULL. */
const ft_tensor *ft_weights_find(const ft_weights *w, const char *name);

#endif
