/* fuzz-jsonl.c: one JSONL record of arbitrary bytes through clean_json_text, as ft-clean reads a line.
 * Rule: pass 1 uses the default options, pass 2 options chosen by the first input byte; every result
 * must satisfy check.h, and a kept line cleaned again must come out unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static clean_opts opts_default, opts_flip, opts_default_ff, opts_flip_ff;
static clean_ctx *ctx_default, *ctx_flip, *ctx_default_ff, *ctx_flip_ff;
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
    if (!ctx_default) {
        clean_opts_default(&opts_default);
        opts_default_ff = opts_default;
        opts_default_ff.format = FMT_FIREFLY;
        ctx_default = fuzz_ctx(&opts_default);
        ctx_default_ff = fuzz_ctx(&opts_default_ff);
        ctx_flip = fuzz_ctx(&opts_flip);
        ctx_flip_ff = fuzz_ctx(&opts_flip_ff);
        ft_buf_init(&res.out);
    }
    const char *s = (const char *)data;
    one_pass(ctx_default, ctx_default_ff, s, size);
    fuzz_opts_from_byte(&opts_flip, size ? data[0] : 0);
    opts_flip_ff = opts_flip;
    opts_flip_ff.format = FMT_FIREFLY;
    one_pass(ctx_flip, ctx_flip_ff, s, size);
    return 0;
}
