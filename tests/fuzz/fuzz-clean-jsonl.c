/* fuzz-clean-jsonl.c: one JSONL record of arbitrary bytes through clean_json_text, as ft-clean reads a line.
 * Rule: pass 1 uses the default options, pass 2 options chosen by the first input byte; every result
 * must satisfy check.h, and a kept line cleaned again must come out unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fuzz_pair plain, flip;
static clean_result res;

static void one_pass(clean_ctx *c, clean_ctx *again, const char *s, size_t n) {
    clean_result_reset(&res);
    clean_json_text(c, s, n, &res);
    if (fuzz_check_result(&res) == R_KEPT) fuzz_check_idempotent(again, &res);
    else FUZZ_CHECK(res.out.len == 0, "a record not kept has no output");
    if (c->o->bad_utf8 == BAD_UTF8_REJECT && ft_utf8_check(s, n) != n)
        FUZZ_CHECK(res.reason == R_BAD_UTF8, "--bad-utf8=reject rejects invalid UTF-8");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!plain.c) {
        clean_opts o;
        clean_opts_default(&o);
        fuzz_pair_set(&plain, &o);
        ft_buf_init(&res.out);
    }
    const char *s = (const char *)data;
    one_pass(plain.c, plain.again, s, size);
    clean_opts o;
    fuzz_opts_from_byte(&o, size ? data[0] : 0);
    fuzz_pair_set(&flip, &o);
    one_pass(flip.c, flip.again, s, size);
    return 0;
}
