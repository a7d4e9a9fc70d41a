/* test-tokenizer: the tokenizer core (common/tokenizer.h): open errors, the special-string index, and the
 * SentencePiece kind on the real models in ../shared/tokenizers (or $FT_TESTDATA), skipped when absent. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "tokenizer.h"

static char shared[512];

static const char *model(const char *name) {
    static char p[600];
    snprintf(p, sizeof p, "%s/tokenizers/%s/tokenizer.model", shared, name);
    return access(p, R_OK) == 0 ? p : NULL;
}

static const char *ids_str(const ft_ids *a) {
    static char buf[2048];
    size_t k = 0;
    buf[0] = 0;
    for (size_t i = 0; i < a->n && k + 12 < sizeof buf; i++) k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%u", i ? " " : "", a->v[i]);
    return buf;
}

typedef int (*enc_fn)(const ft_tokenizer *, const char *, size_t, ft_ids *);
static const char *enc(const ft_tokenizer *tk, enc_fn f, const char *s) {
    ft_ids a;
    ft_ids_init(&a);
    f(tk, s, strlen(s), &a);
    const char *r = ids_str(&a);
    ft_ids_release(&a);
    return r;
}

static const char *roundtrip(const ft_tokenizer *tk, const char *s) {
    static ft_buf out;
    ft_ids a;
    ft_ids_init(&a);
    ft_buf_clear(&out);
    ft_tokenizer_encode(tk, s, strlen(s), &a);
    ft_tokenizer_decode(tk, a.v, a.n, &out);
    ft_ids_release(&a);
    return out.data ? out.data : "";
}

static void test_errors(void) {
    char dir[64], path[128];
    if (tap_tmpdir(dir, sizeof dir, "tokenizer")) return;
    ft_tokenizer *tk = (ft_tokenizer *)1;
    int rc;
    ft_buf why;
    ft_buf_init(&why);
    snprintf(path, sizeof path, "%s/missing.model", dir);
    rc = ft_tokenizer_open(path, &tk, &why);
    ok(rc == FT_EIO && !tk && why.len, "a missing file is FT_EIO: %s", why.data);
    ft_buf_clear(&why);
    rc = ft_tokenizer_open(dir, &tk, &why);
    ok(rc == FT_EFORMAT && strstr(why.data, "no tokenizer.model"), "a directory without a model: %s", why.data);
    snprintf(path, sizeof path, "%s/tokenizer.model", dir);
    FILE *f = fopen(path, "w");
    fputs("this is not a protobuf", f);
    fclose(f);
    ft_buf_clear(&why);
    rc = ft_tokenizer_open(path, &tk, &why);
    ok(rc < 0 && !tk && strstr(why.data, "not a SentencePiece model"), "a .model file that is not a model: %s", why.data);
    ft_buf_clear(&why);
    rc = ft_tokenizer_open(dir, &tk, &why);
    ok(rc < 0 && !tk, "a directory with a bad tokenizer.model: %s", why.data);
    snprintf(path, sizeof path, "%s/empty.txt", dir);
    fclose(fopen(path, "w"));
    ft_buf_clear(&why);
    rc = ft_tokenizer_open(path, &tk, &why);
    ok(rc == FT_EFORMAT && !tk, "an empty file: %s", why.data);
    /* A truncated real model: a clear error, never a crash. */
    const char *m = model("llama2");
    if (m) {
        FILE *in = fopen(m, "rb");
        char *buf = malloc(100000);
        size_t n = fread(buf, 1, 100000, in);
        fclose(in);
        snprintf(path, sizeof path, "%s/cut.model", dir);
        f = fopen(path, "wb");
        fwrite(buf, 1, n / 2 + 3, f);
        fclose(f);
        free(buf);
        ft_buf_clear(&why);
        rc = ft_tokenizer_open(path, &tk, &why);
        ok(rc < 0 && !tk, "a truncated model: %s", why.data);
    } else {
        skip("no ../shared/tokenizers/llama2", "a truncated model");
    }
    ft_buf_release(&why);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) printf("# could not remove %s\n", dir);
}

static void test_llama2(void) {
    const char *m = model("llama2");
    if (!m) {
        skip("no ../shared/tokenizers/llama2", "Llama-2 SentencePiece model");
        return;
    }
    ft_tokenizer *tk;
    ft_buf why;
    ft_buf_init(&why);
    if (!ok(ft_tokenizer_open(m, &tk, &why) == 0, "llama2 opens")) return;
    is_int(tk->vocab_size, 32000, "llama2: 32000 pieces");
    ok(tk->bos_id == 1 && tk->eos_id == 2 && tk->unk_id == 0 && tk->pad_id == -1, "llama2: special ids 1/2/0/-1");
    is_int(tk->n_specials, 3, "llama2: three specials (<unk> <s> </s>)");
    is_str(tk->ops->kind, "sentencepiece", "llama2: kind");
    is_int(strlen(tk->hash), 16, "llama2: 16-digit hash");
    const ft_special *sp = ft_tokenizer_special(tk, "</s>", 4);
    ok(sp && sp->id == 2 && sp->flags == FT_SPECIAL_SPLIT, "special index: </s> is id 2, SPLIT");
    is_int(ft_tokenizer_special_id(tk, "<s>", 3), 1, "special_id(<s>)");
    is_int(ft_tokenizer_special_id(tk, "<s", 2), -1, "special_id of a non-special");
    size_t at = 0;
    sp = ft_tokenizer_find_special(tk, "ab</s><s>", 9, FT_SPECIAL_SPLIT, &at);
    ok(sp && sp->id == 2 && at == 2, "find_special: leftmost first");
    ok(!ft_tokenizer_find_special(tk, "ab</s>", 6, FT_SPECIAL_INLINE, &at), "find_special honours the mask");
    is_str(enc(tk, ft_tokenizer_encode, "Hello world"), "15043 3186", "encode: dummy prefix, no BOS");
    is_str(enc(tk, ft_tokenizer_encode, "a</s>b"), "263 829 29879 29958 29890", "encode: </s> in text is text");
    is_str(enc(tk, ft_tokenizer_encode_special, "a</s>b"), "263 2 289", "encode_special: </s> is id 2, b encoded alone");
    is_str(enc(tk, ft_tokenizer_encode, ""), "", "encode of nothing is nothing");
    is_str(roundtrip(tk, "Hello\n\tworld  x"), "Hello\n\tworld  x", "decode(encode(x)) == x");
    is_str(roundtrip(tk, "汉字 🦙 é"), "汉字 🦙 é", "decode(encode(x)) == x with byte fallback");
    ft_buf d;
    ft_buf_init(&d);
    uint32_t ids[] = {1, 15043, 2};
    ft_tokenizer_decode(tk, ids, 3, &d);
    is_str(d.data, "<s> Hello</s>", "decode shows control ids as their strings, and the space after them");
    uint32_t bad[] = {32000};
    is_int(ft_tokenizer_decode(tk, bad, 1, &d), FT_ERANGE, "decode of an id out of range is FT_ERANGE");
    is_str(tk->ops->piece(tk, 15043), "\xe2\x96\x81Hello", "piece(15043)");
    ft_buf_release(&d);
    ft_tokenizer_free(tk);
    ft_buf_release(&why);
}

static void test_baichuan2(void) {
    const char *m = model("baichuan2");
    if (!m) {
        skip("no ../shared/tokenizers/baichuan2", "Baichuan2 SentencePiece model");
        return;
    }
    ft_tokenizer *tk;
    if (!ok(ft_tokenizer_open(m, &tk, NULL) == 0, "baichuan2 opens")) return;
    is_int(tk->vocab_size, 125696, "baichuan2: 125696 pieces");
    const ft_special *sp = ft_tokenizer_special(tk, "<reserved_106>", 14);
    ok(sp && sp->flags == FT_SPECIAL_INLINE, "baichuan2: <reserved_106> is an inline special");
    ok(!ft_tokenizer_special(tk, "<br>", 4), "baichuan2: <br> is ordinary text, not a special");
    ok(ft_tokenizer_special(tk, "<SEP>", 5) != NULL, "baichuan2: <SEP> is an inline special");
    uint32_t r106 = sp ? sp->id : UINT32_MAX;
    ft_ids a;
    ft_ids_init(&a);
    ft_tokenizer_encode(tk, "<reserved_106>", 14, &a);
    int has = 0;
    for (size_t i = 0; i < a.n; i++) has |= a.v[i] == r106;
    ok(a.n > 1 && !has, "baichuan2: plain encode spells <reserved_106> as text");
    a.n = 0;
    ft_tokenizer_encode_special(tk, "x<reserved_106>y", 16, &a);
    ok(a.n == 3 && a.v[1] == r106, "baichuan2: encode_special matches it inline (as HF)");
    is_str(roundtrip(tk, "<reserved_106>你好<br></s>"), "<reserved_106>你好<br></s>", "baichuan2: round trip");
    is_str(enc(tk, ft_tokenizer_encode, "Hello"), enc(tk, ft_tokenizer_encode_special, "Hello"),
           "baichuan2: plain and HF agree on text without specials");
    ft_ids_release(&a);
    ft_tokenizer_free(tk);
}

int main(void) {
    const char *env = getenv("FT_TESTDATA");
    snprintf(shared, sizeof shared, "%s", env && *env ? env : "../shared");
    test_errors();
    test_llama2();
    test_baichuan2();
    return done_testing();
}
