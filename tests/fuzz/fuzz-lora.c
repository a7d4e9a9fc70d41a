/* fuzz-lora.c: any bytes as a PEFT adapter_config.json, through ft_lora_parse_config.
 * Rule: a refusal names a reason; an accepted config has 1 <= r <= 65536 and a finite scale that is
 * lora_alpha / r (or / sqrt(r) with use_rslora). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lora.h"

#define FUZZ_CHECK(cond, what)                                                                               \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "fuzz-lora: invariant violated: %s (%s:%d)\n", what, __FILE__, __LINE__);        \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = malloc(size ? size : 1); /* exact size: a read past the end is an ASan error */
    if (!s) return 0;
    if (size) memcpy(s, data, size);
    ft_lora l;
    memset(&l, 0, sizeof l);
    ft_buf why;
    ft_buf_init(&why);
    int rc = ft_lora_parse_config(s, size, &l, &why);
    if (rc) {
        FUZZ_CHECK(rc == FT_EPARSE || rc == FT_EFORMAT, "a refusal is FT_EPARSE or FT_EFORMAT");
        FUZZ_CHECK(why.len > 0, "a refusal names a reason");
        FUZZ_CHECK(l.r == 0 && l.scale == 0, "a refused config leaves the adapter untouched");
    } else {
        FUZZ_CHECK(why.len == 0, "an accepted config has no reason");
        FUZZ_CHECK(l.r >= 1 && l.r <= 65536, "r in 1..65536");
        FUZZ_CHECK(isfinite(l.scale) && isfinite(l.alpha), "a finite scale");
        double a = l.alpha / l.r, b = l.alpha / sqrt((double)l.r);
        FUZZ_CHECK(l.scale == (float)a || l.scale == (float)b, "scale = alpha / r or alpha / sqrt(r)");
    }
    ft_buf_release(&why);
    free(s);
    return 0;
}
