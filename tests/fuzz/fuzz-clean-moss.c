/* fuzz-clean-moss.c: arbitrary bytes as a whole MOSS-003 JSON document (the pretty-printed one-object-per-file
 * form), parsed with ft_json_parse and given to clean_json_value with --format=moss, as ft-clean does.
 * Rule: pass 1 drops tool use with default options, pass 2 strips it with --keep-meta and the other
 * options from the first input byte; a top-level array is cleaned element by element like main.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fuzz_pair drop, strip;
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
    if (!drop.c) {
        clean_opts o;
        clean_opts_default(&o);
        o.format = FMT_MOSS;
        fuzz_pair_set(&drop, &o);
        ft_buf_init(&res.out);
    }
    cJSON *doc = NULL;
    size_t off = 0;
    if (ft_json_parse((const char *)data, size, &doc, &off) < 0) {
        FUZZ_CHECK(off <= size, "the error offset is inside the input");
        return 0;
    }
    clean_opts o;
    fuzz_opts_from_byte(&o, data[0]); /* size > 0: the document parsed */
    o.format = FMT_MOSS;
    o.moss_tools = MOSS_TOOLS_STRIP;
    o.keep_meta = 1;
    fuzz_pair_set(&strip, &o);
    one_pass(drop.c, drop.again, doc);
    one_pass(strip.c, strip.again, doc);
    cJSON_Delete(doc);
    return 0;
}
