/* pickle.h: a restricted reader for the pickle inside a torch.save archive (data.pkl) that holds a state dict.
 * It interprets only the opcodes a state dict uses and knows only these callables: collections.OrderedDict,
 * torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and the torch.*Storage classes of the
 * dtypes in dtype.h. Nothing is imported or executed: every other opcode or global is an error that names it.
 * Rule: memory is bounded by the input (each opcode makes at most one value; memo indices are at most the
 * input size); there is no recursion. */
#ifndef FT_PICKLE_H
#define FT_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "dtype.h"
#include "ft.h"

/* Inputs larger than this are refused (a 70B-parameter state dict pickles to well under 1 MiB). */
#define FT_PICKLE_MAX_SIZE (256u << 20)

/* One tensor of the state dict, checked: contiguous row-major strides (dims of size 1 are free), and
 * offset + numel <= storage_numel. */
typedef struct {
    char *name;             /* the state-dict key: UTF-8 without NUL, owned by the ft_state_dict */
    char *storage;          /* the storage key: the archive holds its bytes in <prefix>/data/<storage> */
    ft_dtype dtype;         /* of the storage class (FloatStorage = F32, HalfStorage = F16...) */
    uint64_t storage_numel; /* elements of the storage, from its persistent id */
    uint64_t offset;        /* storage offset, in elements */
    int ndim;
    int64_t shape[FT_TENSOR_MAX_DIMS];
} ft_pickle_tensor;

typedef struct {
    ft_pickle_tensor *tensors; /* (count) in pickle (insertion) order */
    size_t count;
} ft_state_dict;

/* ft_pickle_state_dict: runs the restricted pickle in data[0..size), whose result must be a dict (or
 * OrderedDict) from distinct string keys to tensors. Returns 0 with *sd filled (release with
 * ft_state_dict_release), or FT_EPARSE (malformed pickle), FT_EFORMAT (forbidden opcode, global or callable;
 * a non-tensor value; non-contiguous strides), FT_ERANGE (a tensor outside its storage), FT_ETOOBIG,
 * FT_ENOMEM, with a one-line reason appended to why (when not NULL); *sd is zeroed on failure. */
int ft_pickle_state_dict(const void *data, size_t size, ft_state_dict *sd, ft_buf *why);
void ft_state_dict_release(ft_state_dict *sd);

#endif
