/* test-spm-bpe: the native SentencePiece BPE encoder (common/spm_bpe.h) against libsentencepiece on the real
 * models in ../shared (or $FT_TESTDATA): every string of the MOSS samples and the Firefly data, the test
 * vectors' texts and random strings built to hit the corners (spaces, bad UTF-8, user-defined pieces, byte
 * fallback) give the same ids, through the encoder itself and through both processors of the tokenizer.
 * Models absent are skipped; models the encoder must refuse (Baichuan-7B's charsmap) are checked refused. */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json.h"
#include "spm_bpe.h"
#include "spm_shim.h"
#include "tap.h"
#include "testdata.h"
#include "tokenizer.h"

typedef struct {
    char **s;
    size_t *len;
    size_t n, cap;
} texts;

static void add_text(texts *t, const char *s, size_t n) {
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 1024;
        t->s = ft_xrealloc(t->s, t->cap * sizeof *t->s);
        t->len = ft_xrealloc(t->len, t->cap * sizeof *t->len);
    }
    t->s[t->n] = ft_xmalloc(n + 1);
    memcpy(t->s[t->n], s, n);
    t->s[t->n][n] = 0;
    t->len[t->n++] = n;
}

static void free_texts(texts *t) {
    for (size_t i = 0; i < t->n; i++)
        free(t->s[i]);
    free(t->s);
    free(t->len);
    memset(t, 0, sizeof *t);
}

static char *slurp(const char *path, size_t *n) {
    char *s;
    return ft_read_file(path, (size_t)1 << 30, &s, n, NULL) == 0 ? s : NULL;
}

/* Every string in a JSON value (keys too: short ASCII texts are worth having). */
static void json_strings(const cJSON *v, texts *t) {
    for (; v; v = v->next) {
        if (v->string) add_text(t, v->string, strlen(v->string));
        if (cJSON_IsString(v)) add_text(t, v->valuestring, strlen(v->valuestring));
        json_strings(v->child, t);
    }
}

/* A whole-file JSON document, or JSON Lines. */
static void json_file(const char *path, texts *t) {
    size_t n;
    char *s = slurp(path, &n);
    if (!s) return;
    cJSON *root = NULL;
    if (ft_json_parse(s, n, &root, NULL) == 0) {
        json_strings(root, t);
        cJSON_Delete(root);
    } else {
        for (char *line = s, *end; line < s + n; line = end + 1) {
            end = memchr(line, '\n', (size_t)(s + n - line));
            if (!end) end = s + n;
            if (ft_json_parse(line, (size_t)(end - line), &root, NULL) == 0) {
                json_strings(root, t);
                cJSON_Delete(root);
            }
        }
    }
    free(s);
}

static void json_tree(const char *dir, texts *t) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(p, &st) != 0) continue;
        size_t l = strlen(de->d_name);
        if (S_ISDIR(st.st_mode))
            json_tree(p, t);
        else if ((l > 5 && !strcmp(de->d_name + l - 5, ".json")) ||
                 (l > 6 && !strcmp(de->d_name + l - 6, ".jsonl")))
            json_file(p, t);
    }
    closedir(d);
}

/* The texts of a llama.cpp vocabulary test file: separated by "\n__ggml_vocab_test__\n". */
static void vector_file(const char *path, texts *t) {
    static const char sep[] = "\n__ggml_vocab_test__\n";
    size_t n;
    char *s = slurp(path, &n);
    if (!s) return;
    char *p = s, *end = s + n;
    while (p < end) {
        char *q = memmem(p, (size_t)(end - p), sep, sizeof sep - 1);
        if (!q) q = end;
        add_text(t, p, (size_t)(q - p));
        p = q + (q < end ? sizeof sep - 1 : 0);
    }
    free(s);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n) {
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
    return (uint32_t)((rng_state >> 11) % n);
}

static void put_cp(ft_buf *b, uint32_t c) {
    char u[4];
    int k;
    if (c < 0x80)
        u[0] = (char)c, k = 1;
    else if (c < 0x800)
        u[0] = (char)(0xc0 | c >> 6), u[1] = (char)(0x80 | (c & 63)), k = 2;
    else if (c < 0x10000)
        u[0] = (char)(0xe0 | c >> 12), u[1] = (char)(0x80 | ((c >> 6) & 63)), u[2] = (char)(0x80 | (c & 63)),
        k = 3;
    else
        u[0] = (char)(0xf0 | c >> 18), u[1] = (char)(0x80 | ((c >> 12) & 63)),
        u[2] = (char)(0x80 | ((c >> 6) & 63)), u[3] = (char)(0x80 | (c & 63)), k = 4;
    ft_buf_add(b, u, (size_t)k);
}

/* Random strings: runs of ASCII words, spaces, CJK, emoji, bad UTF-8, the model's user-defined and other
 * pieces, byte-piece look-alikes, newlines, digits, U+2581 and pieces of real text glued together. */
static void random_texts(texts *t, const ft_spm_model *m, const texts *real, size_t count) {
    static const char *const odd[] = {
        "\xc0\x80",     "\xed\xa0\x80", "\xe4\xb8", "\xf0\x9f\x98",   "\xff", "\x80", "\xf4\x90\x80\x80",
        "\xef\xbf\xbd", "\xe2\x96\x81", "<0x0A>",   "<0xE4>",         "<s>",  "</s>", "<unk>",
        "\r\n",         "\t",           "\n\n",     "<reserved_106>", "<br>", "</p>", "<|im_end|>",
        "<SEP>",        "...",          "\xc2\xa0", "\xe3\x80\x80"};
    ft_buf b;
    ft_buf_init(&b);
    for (size_t i = 0; i < count; i++) {
        ft_buf_clear(&b);
        uint32_t parts = 1 + rnd(12);
        for (uint32_t k = 0; k < parts; k++) {
            switch (rnd(10)) {
            case 0:
                for (uint32_t j = 1 + rnd(6); j; j--)
                    ft_buf_addc(&b, ' ');
                break;
            case 1:
                for (uint32_t j = 1 + rnd(8); j; j--)
                    ft_buf_addc(&b, (char)('a' + rnd(26)));
                break;
            case 2:
                for (uint32_t j = 1 + rnd(6); j; j--)
                    put_cp(&b, 0x4e00 + rnd(0x5200));
                break;
            case 3: put_cp(&b, 0x1f300 + rnd(0x400)); break;
            case 4: ft_buf_adds(&b, odd[rnd(sizeof odd / sizeof *odd)]); break;
            case 5: {
                const ft_spm_model_piece *p = &m->pieces[rnd((uint32_t)m->n)];
                ft_buf_add(&b, p->text, p->len);
                break;
            }
            case 6:
                for (uint32_t j = 1 + rnd(5); j; j--)
                    ft_buf_addc(&b, (char)('0' + rnd(10)));
                break;
            case 7: ft_buf_addc(&b, (char)rnd(256)); break;
            case 8:
                if (real->n) {
                    size_t r = rnd((uint32_t)real->n), l = real->len[r], at = l ? rnd((uint32_t)l) : 0;
                    size_t take = 1 + rnd(40);
                    ft_buf_add(&b, real->s[r] + at, at + take <= l ? take : l - at);
                }
                break;
            default: ft_buf_adds(&b, k & 1 ? "\n" : " \xe2\x96\x81 "); break;
            }
        }
        add_text(t, b.data ? b.data : "", b.len);
    }
    ft_buf_release(&b);
}

static int same(const uint32_t *a, size_t na, const uint32_t *b, size_t nb) {
    return na == nb && (na == 0 || !memcmp(a, b, na * sizeof *a));
}

static void show_diff(const char *what, const char *s, size_t n, const uint32_t *a, size_t na,
                      const uint32_t *b, size_t nb) {
    printf("#   %s differs on a text of %zu bytes: '", what, n);
    for (size_t i = 0; i < n && i < 120; i++)
        printf((unsigned char)s[i] >= 0x20 && s[i] != 0x7f ? "%c" : "\\x%02x", (unsigned char)s[i]);
    printf("'\n#   library:");
    for (size_t i = 0; i < na && i < 40; i++)
        printf(" %u", a[i]);
    printf("\n#   native: ");
    for (size_t i = 0; i < nb && i < 40; i++)
        printf(" %u", b[i]);
    printf("\n");
}

/* The encoder alone against the library's raw processor over ts; returns the number of texts that differ. */
static size_t diff_direct(const ft_spm *lib, const ft_spm_bpe *nat, const texts *ts) {
    uint32_t *a = NULL, *b = NULL;
    size_t ca = 0, cb = 0, bad = 0;
    for (size_t i = 0; i < ts->n; i++) {
        size_t na = 0, nb = 0;
        int ra = ft_spm_encode(lib, ts->s[i], ts->len[i], &a, &na, &ca);
        int rb = ft_spm_bpe_encode(nat, ts->s[i], ts->len[i], &b, &nb, &cb);
        if (ra != rb || !same(a, na, b, nb)) {
            if (bad++ < 3) show_diff("encoder", ts->s[i], ts->len[i], a, na, b, nb);
        }
    }
    free(a);
    free(b);
    return bad;
}

/* The tokenizer opened with the library and with the native encoder, plain and raw processors. */
static size_t diff_tokenizer(const ft_tokenizer *lib, const ft_tokenizer *nat, const texts *ts, int raw,
                             size_t step, size_t *n_done) {
    ft_ids a, b;
    ft_ids_init(&a);
    ft_ids_init(&b);
    size_t bad = 0;
    for (size_t i = 0; i < ts->n; i += step) {
        ++*n_done;
        a.n = b.n = 0;
        int ra = raw ? lib->ops->encode_raw(lib, ts->s[i], ts->len[i], &a)
                     : lib->ops->encode(lib, ts->s[i], ts->len[i], &a);
        int rb = raw ? nat->ops->encode_raw(nat, ts->s[i], ts->len[i], &b)
                     : nat->ops->encode(nat, ts->s[i], ts->len[i], &b);
        if (ra != rb || !same(a.v, a.n, b.v, b.n)) {
            if (bad++ < 3)
                show_diff(raw ? "raw processor" : "plain processor", ts->s[i], ts->len[i], a.v, a.n, b.v,
                          b.n);
        }
    }
    ft_ids_release(&a);
    ft_ids_release(&b);
    return bad;
}

static ft_tokenizer *open_with(const char *path, const char *native) {
    ft_tokenizer *tk = NULL;
    setenv("FT_SPM_NATIVE", native, 1);
    if (ft_tokenizer_open(path, &tk, NULL) != 0) tk = NULL;
    unsetenv("FT_SPM_NATIVE");
    return tk;
}

static size_t total_bytes(const texts *t) {
    size_t s = 0;
    for (size_t i = 0; i < t->n; i++)
        s += t->len[i];
    return s;
}

static void test_model(const char *name, const char *rel, const texts *real) {
    char path[4096];
    if (!testdata(rel, path, sizeof path)) {
        skip("model not found", "%s: native encoder equals the library", name);
        return;
    }
    size_t len;
    char *buf = slurp(path, &len);
    ft_spm_model m;
    ok(buf && ft_spm_model_parse((uint8_t *)buf, len, &m) == 0, "%s: the ModelProto parses", name);
    ft_spm_bpe *nat = NULL;
    const char *why = NULL;
    printf("# %s: %zu pieces, byte_fallback %d, add_dummy_prefix %d, remove_extra_whitespaces %d, "
           "escape_whitespaces %d\n",
           name, m.n, m.byte_fallback, m.add_dummy_prefix, m.remove_extra_ws, m.escape_ws);
    int rc = ft_spm_bpe_new(&m, &nat, &why);
    if (!ok(rc == 0, "%s: the native encoder takes the model", name))
        printf("#   refused: %s\n", why ? why : "?");
    ft_spm *lib = NULL;
    char err[256];
    ok(ft_spm_load(buf, len, &lib, err, sizeof err) == 0, "%s: the library loads it", name);
    if (nat && lib) {
        texts t = {0};
        char vp[4096];
        if (testdata("tokenizers/llama2/vectors/llama-spm.inp", vp, sizeof vp)) vector_file(vp, &t);
        if (testdata("tokenizers/llama2/vectors/zh.inp", vp, sizeof vp)) vector_file(vp, &t);
        random_texts(&t, &m, real, 20000);
        add_text(&t, "", 0);
        add_text(&t, " ", 1);
        add_text(&t, "   ", 3);
        size_t bad = diff_direct(lib, nat, &t);
        ok(bad == 0, "%s: encoder = library on %zu vector and random texts (%zu bytes), %zu differ", name,
           t.n, total_bytes(&t), bad);
        bad = diff_direct(lib, nat, real);
        ok(bad == 0, "%s: encoder = library on %zu MOSS and Firefly texts (%zu bytes), %zu differ", name,
           real->n, total_bytes(real), bad);

        ft_tokenizer *tl = open_with(path, "0"), *tn = open_with(path, "1");
        ok(tl && tn, "%s: the tokenizer opens with and without the native encoder", name);
        if (tl && tn) {
            for (int raw = 0; raw < 2; raw++) {
                /* Every random text, every 4th real one (the encoder saw them all above). */
                size_t done = 0, b1 = diff_tokenizer(tl, tn, &t, raw, 1, &done);
                size_t b2 = diff_tokenizer(tl, tn, real, raw, 4, &done);
                ok(b1 + b2 == 0, "%s: %s processor, native = library on %zu texts, %zu differ", name,
                   raw ? "raw" : "plain", done, b1 + b2);
            }
        }
        ft_tokenizer_free(tl);
        ft_tokenizer_free(tn);
        free_texts(&t);
    }
    ft_spm_free(lib);
    ft_spm_bpe_free(nat);
    ft_spm_model_release(&m);
    free(buf);
}

/* ---- A small model written here, to reach every corner: ties, UNUSED pieces made by merges, an unknown
 * character inside a piece, overlapping user-defined pieces, each normalizer flag. ---- */

static void pb_varint(ft_buf *b, uint64_t v) {
    for (; v >= 0x80; v >>= 7)
        ft_buf_addc(b, (char)(v | 0x80));
    ft_buf_addc(b, (char)v);
}

static void pb_bytes(ft_buf *b, uint32_t field, const char *s, size_t n) {
    pb_varint(b, (uint64_t)field << 3 | 2);
    pb_varint(b, n);
    ft_buf_add(b, s, n);
}

static void pb_int(ft_buf *b, uint32_t field, uint64_t v) {
    pb_varint(b, (uint64_t)field << 3);
    pb_varint(b, v);
}

static void pb_piece(ft_buf *model, const char *text, float score, int type) {
    ft_buf p;
    ft_buf_init(&p);
    pb_bytes(&p, 1, text, strlen(text));
    pb_varint(&p, 2 << 3 | 5);
    ft_buf_add(&p, (const char *)&score, 4);
    if (type != FT_SPM_NORMAL) pb_int(&p, 3, (uint64_t)type);
    pb_bytes(model, 1, p.data, p.len);
    ft_buf_release(&p);
}

static void small_model(ft_buf *out, int flags) {
    static const struct {
        const char *text;
        float score;
        int type;
    } pieces[] = {{"a", -5, 1},
                  {"b", -5, 1},
                  {"c", -5, 1},
                  {"\xe2\x96\x81", -5, 1},
                  {"\xc3\xa9", -6, 1},
                  {"ab", -1, 1},
                  {"bc", -1, 1},
                  {"abc", -2, 5},
                  {"ca", -1.5f, 1},
                  {"\xe2\x96\x81"
                   "a",
                   -0.5f, 1},
                  {"\xe2\x96\x81\xe2\x96\x81", -3, 1},
                  {"aa", -1, 1},
                  {"aaa", -2, 5},
                  {"bb", -0.0f, 1},
                  {"cc", 0.0f, 1},
                  {"ba", -4, 5},
                  {"dd", -1, 1},
                  {"add", -2, 1},
                  {"x", 0, 4},
                  {"xy", 0, 4},
                  {"<u>", 0, 4},
                  {"\xc3\xa9\xe2\x96\x81", -2, 1},
                  {"abca", -1, 1},
                  {"bcbc", -1, 1},
                  {"\xe2\x96\x81"
                   "b",
                   -1, 1}};
    ft_buf_clear(out);
    pb_piece(out, "<unk>", 0, FT_SPM_UNKNOWN);
    pb_piece(out, "<s>", 0, FT_SPM_CONTROL);
    pb_piece(out, "</s>", 0, FT_SPM_CONTROL);
    if (flags & 1)
        for (int i = 0; i < 256; i++) {
            char bp[8];
            snprintf(bp, sizeof bp, "<0x%02X>", i);
            pb_piece(out, bp, 0, FT_SPM_BYTE);
        }
    for (size_t i = 0; i < sizeof pieces / sizeof *pieces; i++)
        pb_piece(out, pieces[i].text, pieces[i].score, pieces[i].type);
    ft_buf spec;
    ft_buf_init(&spec);
    pb_int(&spec, 3, 2);
    pb_int(&spec, 35, flags & 1);
    pb_bytes(out, 2, spec.data, spec.len);
    ft_buf_clear(&spec);
    pb_bytes(&spec, 1, "identity", 8);
    pb_int(&spec, 3, (flags >> 1) & 1);
    pb_int(&spec, 4, (flags >> 2) & 1);
    pb_int(&spec, 5, (flags >> 3) & 1);
    pb_bytes(out, 3, spec.data, spec.len);
    ft_buf_release(&spec);
}

static void test_small_models(void) {
    static const char *const alphabet[] = {"a", "b", "c", " ",    "\xc3\xa9",     "d",  "x",   "y",
                                           "<", ">", "u", "\xff", "\xe2\x96\x81", "\n", "\xc3"};
    ft_buf model, text;
    ft_buf_init(&model);
    ft_buf_init(&text);
    for (int flags = 0; flags < 16; flags++) {
        small_model(&model, flags);
        ft_spm_model m;
        ft_spm_bpe *nat = NULL;
        ft_spm *lib = NULL;
        char err[256];
        const char *why = "?";
        int rc = ft_spm_model_parse((uint8_t *)model.data, model.len, &m);
        if (rc == 0) rc = ft_spm_bpe_new(&m, &nat, &why);
        if (rc == 0) rc = ft_spm_load(model.data, model.len, &lib, err, sizeof err);
        if (!ok(rc == 0, "small model %d: both encoders load it", flags)) continue;
        texts t = {0};
        for (int i = 0; i < 5000; i++) {
            ft_buf_clear(&text);
            for (uint32_t k = rnd(24); k; k--)
                ft_buf_adds(&text, alphabet[rnd(sizeof alphabet / sizeof *alphabet)]);
            add_text(&t, text.data ? text.data : "", text.len);
        }
        size_t bad = diff_direct(lib, nat, &t);
        ok(bad == 0,
           "small model %d (byte_fallback %d, dummy prefix %d, remove extra spaces %d, escape %d): "
           "%zu differ of %zu",
           flags, flags & 1, (flags >> 1) & 1, (flags >> 2) & 1, (flags >> 3) & 1, bad, t.n);
        free_texts(&t);
        ft_spm_free(lib);
        ft_spm_bpe_free(nat);
        ft_spm_model_release(&m);
    }
    ft_buf_release(&model);
    ft_buf_release(&text);
}

static void test_refused(void) {
    char path[4096];
    if (!testdata("tokenizers/baichuan/tokenizer.model", path, sizeof path)) {
        skip("model not found", "baichuan: refused by the native encoder");
        return;
    }
    size_t len;
    char *buf = slurp(path, &len);
    ft_spm_model m;
    ft_spm_bpe *nat = (ft_spm_bpe *)1;
    const char *why = NULL;
    int rc = buf ? ft_spm_model_parse((uint8_t *)buf, len, &m) : -1;
    if (rc == 0) rc = ft_spm_bpe_new(&m, &nat, &why);
    ok(rc == FT_EFORMAT && !nat && why && strstr(why, "charsmap"), "baichuan (nmt_nfkc): refused: %s",
       why ? why : "?");
    if (buf) ft_spm_model_release(&m);
    free(buf);
}

int main(void) {
    texts real = {0};
    char p[4096];
    if (testdata("data/moss/SFT_data", p, sizeof p)) json_tree(p, &real);
    if (testdata("data/firefly", p, sizeof p)) json_tree(p, &real);
    if (testdata("data/moss/meta_instruction.txt", p, sizeof p)) {
        size_t n;
        char *s = slurp(p, &n);
        if (s) add_text(&real, s, n);
        free(s);
    }
    test_model("llama2", "tokenizers/llama2/tokenizer.model", &real);
    test_model("baichuan2", "tokenizers/baichuan2/tokenizer.model", &real);
    test_model("chinese-llama-2", "tokenizers/chinese-llama-2/tokenizer.model", &real);
    test_model("stories260K tok512", "models/stories260K/tok512.model", &real);
    test_small_models();
    test_refused();
    free_texts(&real);
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}
