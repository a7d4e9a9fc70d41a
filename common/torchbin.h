/* torchbin.h: PyTorch checkpoints written by torch.save (pytorch_model.bin): a stored ZIP archive with
 * <prefix>/data.pkl (the state dict, read by pickle.h), <prefix>/data/<key> (one file per storage) and
 * optionally <prefix>/version and <prefix>/byteorder.
 * Rule: a tensor is handed out only after its storage file has exactly the size its persistent id claims
 * and the tensor lies inside it; nothing from the pickle is ever executed. */
#ifndef FT_TORCHBIN_H
#define FT_TORCHBIN_H

#include <stddef.h>

#include "dtype.h"
#include "ft.h"

typedef struct ft_torchbin ft_torchbin;

/* ft_torchbin_open: maps path and reads its state dict. Returns 0 and a heap object (free with
 * ft_torchbin_free), or FT_EIO (errno set), FT_EFORMAT (not a torch zip archive, the legacy pre-1.6 format,
 * big-endian data, a forbidden pickle opcode or global...), FT_EPARSE, FT_ERANGE, FT_ENOMEM, with a one-line
 * reason appended to why (when not NULL); *out is NULL on failure. */
int ft_torchbin_open(const char *path, ft_torchbin **out, ft_buf *why);
/* ft_torchbin_parse: the same over data[0..size) in memory (borrowed: must outlive *out). */
int ft_torchbin_parse(const void *data, size_t size, ft_torchbin **out, ft_buf *why);
void ft_torchbin_free(ft_torchbin *tb);

/* The number of tensors; tensor i (0 <= i < count) in bytewise name order; views are owned by tb and point
 * into the archive's bytes. */
size_t ft_torchbin_count(const ft_torchbin *tb);
const ft_tensor *ft_torchbin_at(const ft_torchbin *tb, size_t i);
/* The tensor called name, or NULL. */
const ft_tensor *ft_torchbin_find(const ft_torchbin *tb, const char *name);

#endif
