/* test-tokenize-record: templates (format parsing, built-ins, JSON files, Python's strip) and records to ids
 * and masks (segments, special-token modes, system rules, firefly-v1, overlong policies), on a fake
 * byte tokenizer whose every encode call starts with a marker id, so each call and each cut is visible. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tokenize.h"

/* The fake: byte b is id 16 + b; every non-empty encode call starts with DUMMY (like SentencePiece's dummy
 * prefix); the raw encoder matches the INLINE special <R1> inside text. */
enum { UNK = 0, BOS = 1, EOS = 2, R1 = 3, IM_END = 4, DUMMY = 5, VOCAB = 272 };

static int fake_encode_any(const ft_tokenizer *tk, const char *s, size_t n, ft_ids *out, int raw) {
    if (n) ft_ids_push(out, DUMMY);
    for (size_t i = 0; i < n;) {
        size_t at;
        const ft_special *sp = raw ? ft_tokenizer_find_special(tk, s + i, n - i, FT_SPECIAL_INLINE, &at) : NULL;
        if (sp && at == 0) {
            ft_ids_push(out, sp->id);
            i += sp->len;
            continue;
        }
        ft_ids_push(out, 16u + (unsigned char)s[i++]);
    }
    return 0;
}
static int fake_encode(const ft_tokenizer *tk, const char *s, size_t n, ft_ids *out) {
    return fake_encode_any(tk, s, n, out, 0);
}
static int fake_encode_raw(const ft_tokenizer *tk, const char *s, size_t n, ft_ids *out) {
    return fake_encode_any(tk, s, n, out, 1);
}
static const char *fake_piece(const ft_tokenizer *tk, uint32_t id) {
    for (size_t i = 0; i < tk->n_specials; i++)
        if (tk->specials[i].id == id) return tk->specials[i].text;
    return id < VOCAB ? "?" : NULL;
}
static int fake_decode(const ft_tokenizer *tk, const uint32_t *ids, size_t n, ft_buf *out) {
    for (size_t i = 0; i < n; i++) {
        if (ids[i] >= 16) ft_buf_addc(out, (char)(ids[i] - 16));
        else if (ids[i] != DUMMY) ft_buf_adds(out, fake_piece(tk, ids[i]));
    }
    return 0;
}
static const ft_tokenizer_ops fake_ops = {"fake", fake_encode, fake_encode_raw, fake_decode, fake_piece, NULL, NULL};

static ft_tokenizer *fake_new(void) {
    ft_tokenizer *tk = calloc(1, sizeof *tk);
    tk->ops = &fake_ops;
    tk->vocab_size = VOCAB;
    tk->bos_id = BOS, tk->eos_id = EOS, tk->unk_id = UNK, tk->pad_id = -1;
    tk->path = strdup("fake");
    static const struct {
        const char *s;
        uint32_t id;
        unsigned flags;
    } sp[] = {{"<unk>", UNK, FT_SPECIAL_SPLIT}, {"<s>", BOS, FT_SPECIAL_SPLIT}, {"</s>", EOS, FT_SPECIAL_SPLIT},
              {"<R1>", R1, FT_SPECIAL_INLINE}, {"<|im_end|>", IM_END, FT_SPECIAL_SPLIT}};
    ft_special *v = malloc(sizeof sp / sizeof *sp * sizeof *v);
    for (size_t i = 0; i < sizeof sp / sizeof *sp; i++) v[i] = (ft_special){sp[i].s, strlen(sp[i].s), sp[i].id, sp[i].flags};
    ft_tokenizer_set_specials(tk, v, sizeof sp / sizeof *sp);
    return tk;
}

/* ids as text: bytes as themselves, other ids as [N]. */
static const char *show(const uint32_t *ids, size_t n) {
    static char buf[4096];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 8 < sizeof buf; i++) {
        if (ids[i] >= 16) buf[k++] = (char)(ids[i] - 16);
        else k += (size_t)snprintf(buf + k, sizeof buf - k, "[%u]", ids[i]);
    }
    buf[k] = 0;
    return buf;
}

static const char *show_mask(const ft_buf *m) {
    static char buf[4096];
    size_t i;
    for (i = 0; i < m->len && i + 1 < sizeof buf; i++) buf[i] = (char)('0' + m->data[i]);
    buf[i] = 0;
    return buf;
}

static const char *segment(tok_ctx *c, const tok_opts *o, const tok_span *s, size_t n) {
    ft_ids out;
    ft_ids_init(&out);
    tok_segment(c, o, s, n, &out);
    const char *r = show(out.v, out.n);
    ft_ids_release(&out);
    return r;
}

static int record(tok_ctx *c, const tok_opts *o, const char *json) { return tok_record(c, o, json, strlen(json)); }

static void test_templates(void) {
    tpl_format f = {0};
    ft_buf store, why;
    ft_buf_init(&store), ft_buf_init(&why);
    const unsigned both = 1u << TPL_CONTENT | 1u << TPL_STOP;
    ok(tpl_parse_format("a{{b}}{content}c}}{stop_token}", both, &f, &store, &why) == 0, "format with {{ }} parses");
    is_int(f.n, 4, "format: literal, content, literal, stop");
    ok(f.n == 4 && f.v[0].kind == TPL_LIT && f.v[0].n == 4 && !memcmp(store.data + f.v[0].off, "a{b}", 4) &&
           f.v[1].kind == TPL_CONTENT && f.v[2].kind == TPL_LIT && f.v[3].kind == TPL_STOP,
       "format: {{ and }} unescaped as Python does");
    free(f.v), f.v = NULL, f.n = 0;
    static const char *const bad[] = {"{idx}", "a}b", "a{content", "{content!r}", "{}", "{content:>3}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ft_buf_clear(&why);
        ok(tpl_parse_format(bad[i], both, &f, &store, &why) == FT_EPARSE && why.len, "format '%s' is refused: %s",
           bad[i], why.data);
        free(f.v), f.v = NULL, f.n = 0;
    }
    ok(tpl_parse_format("{stop_token}", 1u << TPL_CONTENT, &f, &store, &why) == FT_EPARSE,
       "{stop_token} is refused where Firefly formats content only (system_format)");
    free(f.v);
    ft_buf_release(&store), ft_buf_release(&why);

    for (const char *const *n = tpl_builtin_names; *n; n++) {
        tpl t;
        ft_buf w;
        ft_buf_init(&w);
        ok(tpl_load(*n, &t, &w) == 0 && !strcmp(t.name, *n), "built-in template %s loads", *n);
        tpl_release(&t);
        ft_buf_release(&w);
    }
    char dir[64], path[128];
    if (tap_tmpdir(dir, sizeof dir, "tokenize")) return;
    snprintf(path, sizeof path, "%s/mine.json", dir);
    struct {
        const char *json, *want;
    } cases[] = {
        {"{\"system_format\":\"S:{content}\\n\",\"user_format\":\"U:{content}\\n\",\"assistant_format\":"
         "\"A:{content}{stop_token}\\n\",\"system\":null,\"stop_word\":\"</s>\"}", NULL},
        {"{\"user_format\":\"{content}\"}", "'assistant_format' is missing"},
        {"{\"user_format\":\"{content}\",\"assistant_format\":\"{content}\",\"colour\":\"red\"}", "unknown key 'colour'"},
        {"{\"user_format\":\"{content}\",\"assistant_format\":3}", "'assistant_format' must be a string or null"},
        {"{\"user_format\":\"{content}\",\"assistant_format\":\"{idx}\"}", "field {idx}"},
        {"[1]", "not a JSON object"},
        {"{\"user_format\":", "JSON syntax error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        FILE *fp = fopen(path, "w");
        fputs(cases[i].json, fp);
        fclose(fp);
        tpl t;
        ft_buf w;
        ft_buf_init(&w);
        int rc = tpl_load(path, &t, &w);
        if (!cases[i].want) {
            ok(rc == 0 && !strcmp(t.name, "mine") && t.has_system && !t.system, "JSON template loads (name from file)");
            if (rc == 0) tpl_release(&t);
        } else {
            ok(rc < 0 && strstr(w.data, cases[i].want), "JSON template %zu refused: %s", i, w.data ? w.data : "");
        }
        ft_buf_release(&w);
    }
    unlink(path);
    rmdir(dir);

    size_t b, e;
    const char *s = "\xe3\x80\x80\t x y\xc2\xa0\x1f\xe2\x80\xa8";
    py_strip(s, strlen(s), &b, &e);
    ok(b == 5 && e == 8, "py_strip removes U+3000, TAB, U+00A0, U+001F, U+2028 (got %zu..%zu)", b, e);
    s = "\xe2\x80\x8bz\xe2\x80\x8b"; /* U+200B is not whitespace in Python */
    py_strip(s, strlen(s), &b, &e);
    ok(b == 0 && e == strlen(s), "py_strip keeps U+200B");
    py_strip(" \n ", 3, &b, &e);
    ok(b == e, "py_strip of whitespace only is empty");
}

static void test_segments(ft_tokenizer *tk) {
    tok_ctx c;
    tok_ctx_init(&c);
    tok_opts safe = {tk, NULL, 0, 0, OVERLONG_TRUNCATE}, hf = safe;
    hf.hf_special = 1;
    tok_span plain[] = {{"<R1>", 4, 0}, {"hi", 2, 1}, {"</s>", 4, 0}};
    is_str(segment(&c, &safe, plain, 3), "[5][3]hi[2]", "plain content: one raw call up to the template's </s>");
    is_str(segment(&c, &hf, plain, 3), "[5][3]hi[2]", "plain content: HF mode gives the same");
    tok_span eos[] = {{"<R1>", 4, 0}, {"a</s>b", 6, 1}, {"</s>", 4, 0}};
    is_str(segment(&c, &safe, eos, 3), "[5][3]a</s>b[2]", "safe: </s> in content stays text, one call");
    is_str(segment(&c, &hf, eos, 3), "[5][3]a[2][5]b[2]", "HF: </s> in content is the eos id, calls split there");
    tok_span inl[] = {{"<R1>", 4, 0}, {"x<R1>y", 6, 1}, {"</s>", 4, 0}};
    is_str(segment(&c, &safe, inl, 3), "[3][5]x<R1>y[2]",
           "safe: an inline special in content is spelled as text, the template's stays an id");
    is_str(segment(&c, &hf, inl, 3), "[5][3]x[3]y[2]", "HF: the inline special in content is its id");
    tok_span im[] = {{"<|im_start|>user\n", 17, 0}, {"q<|im_end|>", 11, 1}, {"<|im_end|>\n", 11, 0}};
    is_str(segment(&c, &safe, im, 3), "[5]<|im_start|>user\nq<|im_end|>[4][5]\n",
           "safe: <|im_end|> typed by the user is text");
    tok_span content_only[] = {{"a</s>", 5, 1}};
    is_str(segment(&c, &safe, content_only, 1), "[5]a</s>", "safe: content alone with </s>");
    is_str(segment(&c, &hf, content_only, 1), "[5]a[2]", "HF: content alone with </s>");
    tok_span split_stop[] = {{"<", 1, 0}, {"/s>", 3, 1}};
    is_str(segment(&c, &safe, split_stop, 2), "[5]</s>", "safe: a special made of template and content halves is text");
    tok_ctx_release(&c);
}

static void test_records(ft_tokenizer *tk) {
    tok_ctx c;
    tok_ctx_init(&c);
    tpl t;
    ft_buf why;
    ft_buf_init(&why);
    tpl_load("default", &t, &why);
    tok_opts o = {tk, &t, 0, 0, OVERLONG_TRUNCATE};
    ft_ids ids;
    ft_buf mask;
    ft_ids_init(&ids), ft_buf_init(&mask);

    is_int(record(&c, &o, "{\"conversation\":[{\"human\":\" hi\\u3000\",\"assistant\":\"\\tok \"}]}"), TOK_OK, "record ok");
    tok_piece_get(&c, 0, &ids, &mask);
    is_str(show(ids.v, ids.n), "[5]User: hi\nAssistant: [5]ok [2]",
           "default: no system without one; content stripped; segments are separate calls; stop token");
    is_str(show_mask(&mask), "00000000000000000000011111", "mask: the whole assistant segment");
    record(&c, &o, "{\"system\":\" \",\"conversation\":[{\"human\":\"h\",\"assistant\":\"a\"}]}");
    tok_piece_get(&c, 0, &ids, &mask);
    is_str(show(ids.v, ids.n), "[5]System: \n\n[5]User: h\nAssistant: [5]a [2]",
           "default: an empty record system still renders system_format (Firefly tests 'is not None')");
    tpl_release(&t);

    tpl_load("qwen", &t, &why);
    record(&c, &o, "{\"conversation\":[{\"human\":\"h\",\"assistant\":\"a\"}]}");
    tok_piece_get(&c, 0, &ids, &mask);
    is_str(show(ids.v, ids.n),
           "[5]<|im_start|>system\nYou are a helpful assistant.[4][5]\n[5]<|im_start|>user\nh[4][5]\n<|im_start|>assistant\n"
           "[5]a[4][5]\n",
           "qwen: the template's default system; <|im_end|> is its id");
    is_int(c.prefix, 51, "qwen: the system segment is the prefix");
    tpl_release(&t);

    tpl_load("firefly-v1", &t, &why);
    record(&c, &o, "{\"system\":\"ignored\",\"conversation\":[{\"human\":\" h \",\"assistant\":\"a\"},"
                   "{\"human\":\"x\",\"assistant\":\"y\"}]}");
    tok_piece_get(&c, 0, &ids, &mask);
    is_str(show(ids.v, ids.n), "[1][5] h [2][5]a[2][5]x[2][5]y[2]", "firefly-v1: <s>, utterances unstripped + </s>");
    is_str(show_mask(&mask), "000000111000111", "firefly-v1: mask on assistant utterances and their </s>");

    /* Overlong: firefly-v1 turns are 7+3 = 10 tokens, <s> is the prefix. */
    const char *three = "{\"conversation\":[{\"human\":\"aaaa\",\"assistant\":\"b\"},{\"human\":\"c\",\"assistant\":\"d\"},"
                        "{\"human\":\"e\",\"assistant\":\"ffffffffff\"}]}";
    o.max_seq_len = 12;
    record(&c, &o, three);
    is_int(c.npieces, 1, "truncate: one piece");
    tok_piece_get(&c, 0, &ids, &mask);
    is_int(ids.n, 12, "truncate: the head, 12 tokens");
    ok(c.truncated && !c.split, "truncate: counted as truncated");
    o.overlong = OVERLONG_DROP;
    is_int(record(&c, &o, three), TOK_DROPPED_OVERLONG, "drop: the record is dropped");
    o.overlong = OVERLONG_SPLIT;
    is_int(record(&c, &o, three), TOK_OK, "split: ok");
    is_int(c.npieces, 3, "split: turns 1, 2 and 3 in pieces of <= 12 tokens");
    tok_piece_get(&c, 1, &ids, &mask);
    is_str(show(ids.v, ids.n), "[1][5]c[2][5]d[2]", "split: each piece starts with the prefix");
    is_str(show_mask(&mask), "0000111", "split: masks travel with their tokens");
    tok_piece_get(&c, 2, &ids, &mask);
    is_int(ids.n, 12, "split: a turn too long alone is cut to fit");
    ok(c.split && c.truncated, "split: counted as split and truncated");
    o.max_seq_len = 20;
    record(&c, &o, three);
    is_int(c.npieces, 2, "split at 20: turns 1+2, then 3");
    o.max_seq_len = 1;
    record(&c, &o, three);
    ok(c.npieces == 1 && c.pieces[0].end == 1, "split with no room after the prefix: truncated");
    tpl_release(&t);

    struct {
        const char *json;
        int reason;
    } bad[] = {
        {"{\"conversation\":[{\"human\":\"h\",\"assistant\":\"a\"}", TOK_BAD_JSON},
        {"[]", TOK_NOT_OBJECT},
        {"{\"id\":1}", TOK_NO_CONVERSATION},
        {"{\"conversation\":{}}", TOK_NO_CONVERSATION},
        {"{\"conversation\":[]}", TOK_EMPTY_CONVERSATION},
        {"{\"conversation\":[{\"human\":\"h\"}]}", TOK_BAD_TURN},
        {"{\"conversation\":[1]}", TOK_BAD_TURN},
        {"{\"system\":1,\"conversation\":[{\"human\":\"h\",\"assistant\":\"a\"}]}", TOK_BAD_SYSTEM},
        {"{\"conversation\":[{\"human\":\"\xff\",\"assistant\":\"a\"}]}", TOK_BAD_UTF8},
    };
    tpl_load("default", &t, &why);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ok(record(&c, &o, bad[i].json) == bad[i].reason && c.detail[0], "%s: %s", tok_reason_name(bad[i].reason),
           c.detail);
    tpl_release(&t);
    ft_ids_release(&ids), ft_buf_release(&mask), ft_buf_release(&why);
    tok_ctx_release(&c);
}

int main(void) {
    test_templates();
    ft_tokenizer *tk = fake_new();
    test_segments(tk);
    test_records(tk);
    ft_tokenizer_free(tk);
    return done_testing();
}
