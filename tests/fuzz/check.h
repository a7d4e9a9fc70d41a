/* check.h: the invariants every fuzz target checks on a clean_result, shared by the targets.
 * Rule: a violation prints what broke on stderr and calls abort(), so libFuzzer and the replay both see
 * a crash; nothing here changes the result it checks. */
#ifndef FT_FUZZ_CHECK_H
#define FT_FUZZ_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clean.h"
#include "json.h"
#include "utf8.h"

#define FUZZ_CHECK(cond, what)                                                                           \
    do {                                                                                                 \
        if (!(cond)) fuzz_fail(what, #cond, __FILE__, __LINE__);                                         \
    } while (0)

static _Noreturn void fuzz_fail(const char *what, const char *cond, const char *file, int line) {
    fprintf(stderr, "fuzz invariant violated: %s (%s) at %s:%d\n", what, cond, file, line);
    abort();
}

/* Every MOSS role marker that ft-clean promises to remove (the ':' forms contain these). */
static const char *const fuzz_markers[] = {"<|Human|>", "<|MOSS|>", "<|Inner Thoughts|>", "<|Commands|>",
                                           "<|Results|>", "<eoh>", "<eom>", "<eot>", "<eoc>", "<eor>", NULL};

/* One normalized text: valid UTF-8, NFC, no role marker, no removed control or invisible character. */
static void fuzz_check_text(const char *s) {
    size_t n = strlen(s);
    FUZZ_CHECK(ft_utf8_check(s, n) == n, "text is valid UTF-8");
    ft_buf b;
    ft_buf_init(&b);
    FUZZ_CHECK(ft_utf8_nfc(s, n, &b) == 0, "text is NFC");
    ft_buf_release(&b);
    for (int k = 0; fuzz_markers[k]; k++) FUZZ_CHECK(!strstr(s, fuzz_markers[k]), "text has no MOSS marker");
    for (size_t i = 0; i < n;) {
        int32_t cp;
        i += (size_t)ft_utf8_decode(s + i, n - i, &cp);
        FUZZ_CHECK(cp >= 0x20 || cp == '\t' || cp == '\n', "text has no C0 control but tab and LF");
        FUZZ_CHECK(!(cp >= 0x7F && cp <= 0x9F), "text has no DEL or C1 control");
        FUZZ_CHECK(cp != 0x2028 && cp != 0x2029, "line and paragraph separators became LF");
        FUZZ_CHECK(cp != 0x200B && cp != 0x2060 && cp != 0xFEFF && cp != 0x180E && cp != 0xAD,
                   "text has no removed invisible character");
    }
}

static void fuzz_check_opt_text(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsString(v)) fuzz_check_text(v->valuestring);
}

/* A result that is not kept: a real reason, a NUL-terminated detail, no output. Returns the reason. */
static int fuzz_check_result(const clean_result *r) {
    FUZZ_CHECK(r->reason >= 0 && r->reason < R_COUNT, "reason is in range");
    FUZZ_CHECK(memchr(r->detail, 0, sizeof r->detail) != NULL, "detail is NUL-terminated");
    FUZZ_CHECK(strcmp(clean_reason_name(r->reason), "?") != 0, "reason has a name");
    if (r->reason != R_KEPT) return r->reason;
    /* kept: exactly one line of JSON, valid UTF-8 */
    const char *s = r->out.data;
    size_t n = r->out.len;
    FUZZ_CHECK(s && n >= 2, "kept output is not empty");
    FUZZ_CHECK(s[n - 1] == '\n', "output ends in a newline");
    FUZZ_CHECK(memchr(s, '\n', n - 1) == NULL, "output is one line");
    for (size_t i = 0; i + 1 < n; i++)
        FUZZ_CHECK((unsigned char)s[i] >= 0x20, "output has no raw control byte (JSON escapes them in strings)");
    FUZZ_CHECK(ft_utf8_check(s, n) == n, "output is valid UTF-8");
    cJSON *v = NULL;
    size_t off = 0;
    FUZZ_CHECK(ft_json_parse(s, n - 1, &v, &off) == 0, "output parses back");
    FUZZ_CHECK(cJSON_IsObject(v), "output is an object");
    const cJSON *conv = cJSON_GetObjectItemCaseSensitive(v, "conversation");
    FUZZ_CHECK(cJSON_IsArray(conv) && cJSON_GetArraySize(conv) > 0, "output has a non-empty conversation");
    const cJSON *t;
    cJSON_ArrayForEach(t, conv) {
        FUZZ_CHECK(cJSON_IsObject(t) && cJSON_GetArraySize(t) == 2, "a turn is {human, assistant}");
        const char *h = ft_json_str(t, "human"), *a = ft_json_str(t, "assistant");
        FUZZ_CHECK(h && a, "a turn has string human and assistant");
        fuzz_check_text(h);
        fuzz_check_text(a);
    }
    fuzz_check_opt_text(v, "system");
    fuzz_check_opt_text(v, "category");
    cJSON_Delete(v);
    return R_KEPT;
}

/* Options flipped by one byte of the input: the second pass of each target. */
static void fuzz_opts_from_byte(clean_opts *o, unsigned b) {
    clean_opts_default(o);
    o->moss_tools = b & 1 ? MOSS_TOOLS_STRIP : MOSS_TOOLS_DROP;
    o->keep_meta = !!(b & 2);
    o->halfwidth = !!(b & 4);
    o->mask_pii = !!(b & 8);
    o->bad_utf8 = b & 16 ? BAD_UTF8_REJECT : BAD_UTF8_REPLACE;
    if (b & 32) { /* --no-filters */
        o->min_turn_chars = o->max_turn_chars = o->min_conv_chars = o->max_conv_chars = 0;
        o->max_rep_ratio = o->max_special_ratio = o->max_sentence_repeat = 0;
    }
    if (b & 64) o->filter_empty = 0; /* --keep-empty */
}

/* A context for options that change per input: the context borrows *o, so o stays put and is rewritten. */
static clean_ctx *fuzz_ctx(const clean_opts *o) {
    const char *err = NULL;
    clean_ctx *c = clean_ctx_new(o, &err);
    if (!c) {
        fprintf(stderr, "clean_ctx_new: %s\n", err ? err : "failed");
        abort();
    }
    return c;
}

/* Options for one pass and their copy reading Firefly (for the idempotence check), with a context each.
 * The contexts are made on first use and borrow the options, which fuzz_pair_set rewrites in place. */
typedef struct {
    clean_opts o, o_ff;
    clean_ctx *c, *again;
} fuzz_pair;

static void fuzz_pair_set(fuzz_pair *p, const clean_opts *o) {
    p->o = *o;
    p->o_ff = *o;
    p->o_ff.format = FMT_FIREFLY;
    if (!p->c) p->c = fuzz_ctx(&p->o), p->again = fuzz_ctx(&p->o_ff);
}

/* Cleaning is idempotent: a kept line read back as Firefly JSONL with the same options (c borrows a copy
 * whose format is FMT_FIREFLY) is kept and comes out byte for byte the same, --halfwidth included (its
 * code fences are found after trimming, where a second run finds them). */
static void fuzz_check_idempotent(clean_ctx *c, const clean_result *first) {
    if (first->reason != R_KEPT) return;
    clean_result r;
    memset(&r, 0, sizeof r);
    ft_buf_init(&r.out);
    clean_result_reset(&r);
    clean_json_text(c, first->out.data, first->out.len - 1, &r);
    if (r.reason != R_KEPT) fprintf(stderr, "second pass: %s: %s\n", clean_reason_name(r.reason), r.detail);
    FUZZ_CHECK(r.reason == R_KEPT, "a kept line is kept again");
    if (r.out.len != first->out.len || memcmp(r.out.data, first->out.data, r.out.len))
        fprintf(stderr, "first:  %s\nsecond: %s\n", first->out.data, r.out.data);
    FUZZ_CHECK(r.out.len == first->out.len && !memcmp(r.out.data, first->out.data, r.out.len),
               "cleaning a kept line again changes nothing");
    ft_buf_release(&r.out);
}

#endif
