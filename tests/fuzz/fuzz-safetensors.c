/* fuzz-safetensors.c: ft_safetensors_parse on any bytes.
 * Rule: it never reads outside the input; an accepted file's views lie inside it, and serializing them gives
 * a file that parses back to the same tensors. A refusal always says why. */
#include "ft.h"
#include "model-check.h"
#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsigned char *in = model_copy(data, size);
    if (!in) return 0;
    ft_safetensors *st = NULL;
    ft_buf why;
    ft_buf_init(&why);
    int rc = ft_safetensors_parse(in, size, &st, &why);
    MODEL_CHECK(rc == 0 ? st != NULL : st == NULL && why.len > 0, "success gives an object, failure a reason");
    if (st) {
        size_t n = ft_safetensors_count(st);
        ft_tensor *views = malloc((n ? n : 1) * sizeof *views);
        for (size_t i = 0; i < n; i++) {
            const ft_tensor *t = ft_safetensors_at(st, i);
            model_check_view(t, in, size);
            MODEL_CHECK(ft_safetensors_find(st, t->name) == t, "find returns the same view");
            MODEL_CHECK(i == 0 || strcmp(ft_safetensors_at(st, i - 1)->name, t->name) < 0, "names sorted, distinct");
            views[i] = *t;
        }
        ft_buf out;
        ft_buf_init(&out);
        int named_meta = 0;
        for (size_t i = 0; i < n; i++) named_meta |= !strcmp(views[i].name, "__metadata__");
        if (!named_meta && ft_safetensors_serialize(&out, views, n, NULL, NULL) == 0) {
            ft_safetensors *back = NULL;
            MODEL_CHECK(ft_safetensors_parse(out.data, out.len, &back, NULL) == 0, "serialized views parse back");
            MODEL_CHECK(ft_safetensors_count(back) == n, "same tensor count after a round trip");
            for (size_t i = 0; i < n; i++) {
                const ft_tensor *a = ft_safetensors_at(st, i), *b = ft_safetensors_at(back, i);
                MODEL_CHECK(!strcmp(a->name, b->name) && a->dtype == b->dtype && a->nbytes == b->nbytes &&
                                (!a->nbytes || !memcmp(a->data, b->data, a->nbytes)),
                            "round trip keeps names, dtypes and bytes");
            }
            ft_safetensors_free(back);
        }
        ft_buf_release(&out);
        free(views);
    }
    ft_safetensors_free(st);
    ft_buf_release(&why);
    free(in);
    return 0;
}
