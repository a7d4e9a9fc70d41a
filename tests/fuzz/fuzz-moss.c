/* fuzz-moss.c: arbitrary bytes as a whole MOSS-003 JSON document (the pretty-printed one-object-per-file
 * form), parsed with ft_json_parse and given to clean_json_value with --format=moss, as ft-clean does.
 * Rule: pass 1 drops tool use with default options, pass 2 strips it with --keep-meta and the other
 * options from the first input byte; a top-level array is cleaned element by element like main.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static clean_opts opts_drop, opts_strip, opts_drop_ff, opts_strip_ff;
static clean_ctx *ctx_drop, *ctx_strip, *ctx_drop_ff, *ctx_strip_ff;
static clean_result res;

static void one_record(clean_ctx *c, clean_ctx *again, cJSON *v) {
    clean_result_reset(&res);
    clean_json_value(c, v, &res); /* consumes v */
    if (fuzz_check_result(&res) == R_KEPT) fuzz_check_idempotent(again, &res);
    else FUZZ_CHECK(res.out.len == 0, "a record not kept has no output");
}

static void one_pass(clean_ctx *c, clean_ctx *again, const cJSON *doc) {
    cJSON *v = cJSON_Duplicate(doc, 1);
    if (!v) abort();
    if (!cJSON_IsArray(v)) {
        one_record(c, again, v);
        return;
    }
    while (v->child) one_record(c, again, cJSON_DetachItemViaPointer(v, v->child));
    cJSON_Delete(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ctx_drop) {
        clean_opts_default(&opts_drop);
        opts_drop.format = FMT_MOSS;
        opts_drop_ff = opts_drop;
        opts_drop_ff.format = FMT_FIREFLY;
        ctx_drop = fuzz_ctx(&opts_drop);
        ctx_drop_ff = fuzz_ctx(&opts_drop_ff);
        ctx_strip = fuzz_ctx(&opts_strip);
        ctx_strip_ff = fuzz_ctx(&opts_strip_ff);
        ft_buf_init(&res.out);
    }
    cJSON *doc = NULL;
    size_t off = 0;
    if (ft_json_parse((const char *)data, size, &doc, &off) < 0) {
        FUZZ_CHECK(off <= size, "the error offset is inside the input");
        return 0;
    }
    fuzz_opts_from_byte(&opts_strip, data[0]); /* size > 0: the document parsed */
    opts_strip.format = FMT_MOSS;
    opts_strip.moss_tools = MOSS_TOOLS_STRIP;
    opts_strip.keep_meta = 1;
    opts_strip_ff = opts_strip;
    opts_strip_ff.format = FMT_FIREFLY;
    one_pass(ctx_drop, ctx_drop_ff, doc);
    one_pass(ctx_strip, ctx_strip_ff, doc);
    cJSON_Delete(doc);
    return 0;
}
