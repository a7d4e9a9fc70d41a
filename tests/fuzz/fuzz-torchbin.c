/* fuzz-torchbin.c: a torch.save archive (zip directory + data.pkl + storages) on any bytes.
 * Rule: it never reads outside the input; an accepted archive's views lie inside it, and its zip directory
 * lists only entries inside the input. A refusal always says why. */
#include "ft.h"
#include "model-check.h"
#include "torchbin.h"
#include "zip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsigned char *in = model_copy(data, size);
    if (!in) return 0;
    ft_zip *z = NULL;
    if (ft_zip_parse(in, size, &z, NULL) == 0) {
        for (size_t i = 0; i < ft_zip_count(z); i++) {
            const ft_zip_entry *e = ft_zip_at(z, i);
            MODEL_CHECK(e->data >= in && e->size <= (uint64_t)(in + size - e->data), "zip entry inside the input");
            MODEL_CHECK(ft_zip_find(z, e->name) == e, "find returns the same entry");
            (void)ft_zip_crc_ok(e);
        }
        ft_zip_free(z);
    }
    ft_torchbin *tb = NULL;
    ft_buf why;
    ft_buf_init(&why);
    int rc = ft_torchbin_parse(in, size, &tb, &why);
    MODEL_CHECK(rc == 0 ? tb != NULL : tb == NULL && why.len > 0, "success gives an object, failure a reason");
    for (size_t i = 0; tb && i < ft_torchbin_count(tb); i++) {
        const ft_tensor *t = ft_torchbin_at(tb, i);
        model_check_view(t, in, size);
        MODEL_CHECK(ft_torchbin_find(tb, t->name) == t, "find returns the same view");
    }
    ft_torchbin_free(tb);
    ft_buf_release(&why);
    free(in);
    return 0;
}
