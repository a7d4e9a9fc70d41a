/* fuzz-pickle.c: the restricted state-dict pickle reader on any bytes.
 * Rule: it never reads outside the input nor runs away in memory; an accepted state dict has named tensors
 * that lie inside their storages. A refusal always says why. */
#include "ft.h"
#include "model-check.h"
#include "pickle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsigned char *in = model_copy(data, size);
    if (!in) return 0;
    ft_state_dict sd;
    ft_buf why;
    ft_buf_init(&why);
    int rc = ft_pickle_state_dict(in, size, &sd, &why);
    MODEL_CHECK(rc == 0 || (sd.count == 0 && !sd.tensors && why.len > 0), "failure leaves nothing and says why");
    for (size_t i = 0; i < sd.count; i++) {
        const ft_pickle_tensor *t = &sd.tensors[i];
        ft_tensor v = {.dtype = t->dtype};
        MODEL_CHECK(t->name && t->storage && *t->storage, "names and storage keys");
        MODEL_CHECK(ft_tensor_set_shape(&v, t->ndim, t->shape) == 0, "the shape is valid");
        MODEL_CHECK(t->offset <= t->storage_numel && v.numel <= t->storage_numel - t->offset,
                    "the tensor lies inside its storage");
    }
    ft_state_dict_release(&sd);
    ft_buf_release(&why);
    free(in);
    return 0;
}
