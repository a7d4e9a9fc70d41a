/* test-bpe.c: the byte-level BPE kind without external data: the Qwen2 split pattern case by case, the
 * byte alphabet, the three file formats on a small model written here, malformed files and their messages,
 * round trips of arbitrary bytes, the heap merge against a plain rescanning merge, and -j N safety.
 * Rule: every model and file is made by the test itself; the expected splits below are what Python's
 * `regex` module gives for the same pattern. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bpe.h"
#include "json.h"
#include "pretok.h"
#include "tap.h"
#include "tokenizer.h"
#include "utf8.h"

static char dir[64];

/* ---- the split pattern ---- */

static const struct {
    const char *in;
    const char *pieces[12];
} split_cases[] = {
    {"Hello world", {"Hello", " world"}},
    {"  Hello", {" ", " Hello"}},
    {"I'm you're WE'LL it'S they'VE", {"I", "'m", " you", "'re", " WE", "'LL", " it", "'S", " they", "'VE"}},
    {"'sup 'x", {"'s", "up", " '", "x"}},
    {"don\u2019t 'ſ", {"don", "\u2019t", " '", "ſ"}}, /* only ASCII ' starts a contraction */
    {"x'ſ", {"x", "'ſ"}},                             /* (?i) folds ſ to s */
    {"12345 67", {"1", "2", "3", "4", "5", " ", "6", "7"}},
    {"3.14159", {"3", ".", "1", "4", "1", "5", "9"}},
    {"$100,000", {"$", "1", "0", "0", ",", "0", "0", "0"}},
    {"١٢ Ⅻ ½", {"١", "٢", " ", "Ⅻ", " ", "½"}},
    {"a\n\nb", {"a", "\n\n", "b"}},
    {"a \n b", {"a", " \n", " b"}},
    {"a\r\n\r\nb", {"a", "\r\n\r\n", "b"}},
    {"  \n\n  x", {"  \n\n", " ", " x"}},
    {"x   ", {"x", "   "}},
    {"x   y", {"x", "  ", " y"}},
    {"   ", {"   "}},
    {"\n", {"\n"}},
    {"\t\tfoo", {"\t", "\tfoo"}},
    {"...\n\n", {"...\n\n"}},
    {" ...", {" ..."}},
    {"你好，世界！", {"你好", "，世界", "！"}},
    {" this is 🦙.cpp", {" this", " is", " 🦙.", "cpp"}},
    {"\u3000中文", {"\u3000中文"}},
    {"a\u00a0\u00a0b", {"a", "\u00a0", "\u00a0b"}},
    {"x\u2028y", {"x", "\u2028y"}},
    {"e\u0301té", {"e", "\u0301té"}},
    {"<|im_end|>", {"<|", "im", "_end", "|>"}},
    {"ǅa Ǆ", {"ǅa", " Ǆ"}},
    /* invalid UTF-8: each bad byte is a symbol of its own */
    {"a\xff" "b", {"a", "\xff" "b"}},
    {"\xff\xfe" "abc", {"\xff\xfe", "abc"}},
    {"1\xe4\xb8 \xe4\xb8\n", {"1", "\xe4\xb8", " \xe4\xb8\n"}},
};

static void test_split(void) {
    for (size_t k = 0; k < sizeof split_cases / sizeof *split_cases; k++) {
        const char *s = split_cases[k].in;
        size_t n = strlen(s), i = 0, p = 0;
        int good = 1;
        ft_buf got;
        ft_buf_init(&got);
        while (i < n) {
            size_t l = ft_pretok_qwen2(s + i, n - i);
            const char *want = split_cases[k].pieces[p];
            if (l == 0 || l > n - i || !want || strlen(want) != l || memcmp(want, s + i, l)) good = 0;
            ft_buf_add(&got, "[", 1);
            ft_buf_add(&got, s + i, l ? l : 1);
            ft_buf_add(&got, "]", 1);
            i += l ? l : n;
            p++;
        }
        if (split_cases[k].pieces[p]) good = 0;
        if (!ok(good, "split case %zu", k)) printf("#   got %s\n", got.data);
        ft_buf_release(&got);
    }
}

static void test_alphabet(void) {
    int bijective = 1;
    for (int b = 0; b < 256; b++) bijective &= ft_bpe_char_byte(ft_bpe_byte_char((uint8_t)b)) == b;
    ok(bijective, "the byte alphabet maps back to every byte");
    is_int(ft_bpe_byte_char(' '), 0x120, "space is U+0120 (Ġ)");
    is_int(ft_bpe_byte_char('\n'), 0x10A, "LF is U+010A (Ċ)");
    is_int(ft_bpe_byte_char(0xAD), 0x143, "soft hyphen byte is the last remapped one");
    is_int(ft_bpe_char_byte(0x144), -1, "U+0144 is outside the alphabet");
    is_int(ft_bpe_char_byte(' '), -1, "a space is outside the alphabet");
    ft_buf b;
    ft_buf_init(&b);
    ft_bpe_map("\x00 a\xff", 4, &b);
    is_str(b.data, "Ā\u0120aÿ", "map");
    ft_buf_clear(&b);
    ok(ft_bpe_unmap("Ġhi", strlen("Ġhi"), &b) == 0 && b.len == 3 && !memcmp(b.data, " hi", 3), "unmap");
    ok(ft_bpe_unmap("a b", 3, &b) == FT_EPARSE, "unmap refuses a character outside the alphabet");
    ft_buf_release(&b);
}

/* ---- a small model written in every format ---- */

/* Merges in order (rank = index); token 256 + k is merge k's result; then the added tokens. */
static const char *const merges[][2] = {
    {"h", "e"},  {"l", "l"},     {"he", "ll"},          {"hell", "o"}, {" ", "w"},  {"o", "r"},  {" w", "or"},
    {"l", "d"},  {" wor", "ld"}, {" ", "hello"},        {"\n", "\n"},  {" ", " "},  {"\xe4", "\xbd"},
    {"\xe4\xbd", "\xa0"},        {"1", "2"}, /* never used: digits are split one by one */
};
#define N_MERGES (sizeof merges / sizeof *merges)
static const char *const added[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
#define ADDED0 (256 + (int)N_MERGES)

static void put_piece(ft_buf *out, const char *bytes, size_t n) {
    ft_buf m;
    ft_buf_init(&m);
    ft_bpe_map(bytes, n, &m);
    ft_json_put_string(out, m.data, m.len);
    ft_buf_release(&m);
}

/* The vocabulary as a JSON object body: {"Ā": 0, ..., "he": 256, ...}. */
static void put_vocab(ft_buf *out) {
    ft_buf_addc(out, '{');
    for (int b = 0; b < 256; b++) {
        char c = (char)b;
        put_piece(out, &c, 1);
        ft_buf_addf(out, ": %d, ", b);
    }
    for (size_t k = 0; k < N_MERGES; k++) {
        char joined[64];
        snprintf(joined, sizeof joined, "%s%s", merges[k][0], merges[k][1]);
        put_piece(out, joined, strlen(joined));
        ft_buf_addf(out, ": %zu%s", 256 + k, k + 1 < N_MERGES ? ", " : "}");
    }
}

static void put_merge_line(ft_buf *out, size_t k) {
    ft_bpe_map(merges[k][0], strlen(merges[k][0]), out);
    ft_buf_addc(out, ' ');
    ft_bpe_map(merges[k][1], strlen(merges[k][1]), out);
}

static int write_file(const char *name, const char *text, size_t n) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(text, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static void write_vocab_merges(const char *sub) {
    char name[96];
    snprintf(name, sizeof name, "%s/%s", dir, sub);
    mkdir(name, 0700);
    ft_buf b;
    ft_buf_init(&b);
    put_vocab(&b);
    snprintf(name, sizeof name, "%s/vocab.json", sub);
    write_file(name, b.data, b.len);
    ft_buf_clear(&b);
    ft_buf_adds(&b, "#version: 0.2\n");
    for (size_t k = 0; k < N_MERGES; k++) {
        put_merge_line(&b, k);
        ft_buf_addc(&b, '\n');
    }
    snprintf(name, sizeof name, "%s/merges.txt", sub);
    write_file(name, b.data, b.len);
    ft_buf_clear(&b);
    ft_buf_adds(&b, "{");
    for (int k = 0; k < 3; k++) ft_buf_addf(&b, "%s\"%s\": %d", k ? ", " : "", added[k], ADDED0 + k);
    ft_buf_adds(&b, "}");
    snprintf(name, sizeof name, "%s/added_tokens.json", sub);
    write_file(name, b.data, b.len);
    ft_buf_release(&b);
}

/* tokenizer.json text; normalizer is "NFC" or NULL; pattern NULL = Qwen2's. */
static void put_tokenizer_json(ft_buf *b, const char *normalizer, const char *pattern, const char *model_type) {
    ft_buf_adds(b, "{\"version\": \"1.0\", \"added_tokens\": [");
    for (int k = 0; k < 3; k++)
        ft_buf_addf(b, "%s{\"id\": %d, \"content\": \"%s\", \"special\": true}", k ? ", " : "", ADDED0 + k,
                    added[k]);
    ft_buf_adds(b, "], \"normalizer\": ");
    if (normalizer) ft_buf_addf(b, "{\"type\": \"%s\"}", normalizer);
    else ft_buf_adds(b, "null");
    ft_buf_adds(b, ", \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", "
                   "\"pattern\": {\"Regex\": ");
    const char *pat = pattern ? pattern : FT_PRETOK_QWEN2_PATTERN;
    ft_json_put_string(b, pat, strlen(pat));
    ft_buf_addf(b, "}, \"behavior\": \"Isolated\", \"invert\": false}, {\"type\": \"ByteLevel\", "
                   "\"add_prefix_space\": false, \"trim_offsets\": false, \"use_regex\": false}]}, "
                   "\"model\": {\"type\": \"%s\", \"dropout\": null, \"ignore_merges\": false, \"vocab\": ",
                model_type);
    put_vocab(b);
    ft_buf_adds(b, ", \"merges\": [");
    for (size_t k = 0; k < N_MERGES; k++) {
        ft_buf m;
        ft_buf_init(&m);
        put_merge_line(&m, k);
        if (k) ft_buf_adds(b, ", ");
        ft_json_put_string(b, m.data, m.len);
        ft_buf_release(&m);
    }
    ft_buf_adds(b, "]}}");
}

static void write_tiktoken(const char *name) {
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    ft_buf b;
    ft_buf_init(&b);
    for (size_t id = 0; id < 256 + N_MERGES; id++) {
        char tok[64];
        size_t n;
        if (id < 256) tok[0] = (char)id, n = 1;
        else n = (size_t)snprintf(tok, sizeof tok, "%s%s", merges[id - 256][0], merges[id - 256][1]);
        for (size_t i = 0; i < n; i += 3) {
            uint32_t w = (uint32_t)(uint8_t)tok[i] << 16;
            if (i + 1 < n) w |= (uint32_t)(uint8_t)tok[i + 1] << 8;
            if (i + 2 < n) w |= (uint8_t)tok[i + 2];
            char q[4] = {b64[w >> 18], b64[(w >> 12) & 63], i + 1 < n ? b64[(w >> 6) & 63] : '=',
                         i + 2 < n ? b64[w & 63] : '='};
            ft_buf_add(&b, q, 4);
        }
        ft_buf_addf(&b, " %zu\n", id);
    }
    write_file(name, b.data, b.len);
    ft_buf_release(&b);
}

static ft_tokenizer *open_at(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ft_tokenizer *tk = NULL;
    ft_buf why;
    ft_buf_init(&why);
    int rc = ft_tokenizer_open(path, &tk, &why);
    if (rc) printf("# open %s: %s (%s)\n", path, ft_strerror(rc), why.data ? why.data : "");
    ft_buf_release(&why);
    return tk;
}

static const char *ids_str(const ft_ids *ids) {
    static char s[4096];
    size_t n = 0;
    s[0] = 0;
    for (size_t i = 0; i < ids->n && n + 16 < sizeof s; i++) n += (size_t)snprintf(s + n, sizeof s - n, "%s%u", i ? " " : "", ids->v[i]);
    return s;
}

static const char *enc(const ft_tokenizer *tk, const char *text, int special) {
    ft_ids ids;
    ft_ids_init(&ids);
    int rc = special ? ft_tokenizer_encode_special(tk, text, strlen(text), &ids)
                     : ft_tokenizer_encode(tk, text, strlen(text), &ids);
    const char *s = rc ? "error" : ids_str(&ids);
    ft_ids_release(&ids);
    return s;
}

static void test_formats(void) {
    write_vocab_merges("vm");
    ft_buf b;
    ft_buf_init(&b);
    put_tokenizer_json(&b, "NFC", NULL, "BPE");
    write_file("tokenizer.json", b.data, b.len);
    ft_buf_release(&b);
    write_tiktoken("small.tiktoken");
    ft_tokenizer *vm = open_at("vm"), *tj = open_at("tokenizer.json"), *tt = open_at("small.tiktoken");
    if (!ok(vm && tj && tt, "the three formats load")) return;
    is_str(vm->ops->kind, "bpe", "vocab.json + merges.txt is kind bpe");
    is_str(tj->ops->kind, "bpe", "tokenizer.json is kind bpe");
    is_str(tt->ops->kind, "tiktoken", "a .tiktoken file is kind tiktoken");
    is_int(vm->vocab_size, ADDED0 + 3, "vocab_size counts the added tokens");
    is_int(tt->vocab_size, ADDED0 + 3 + 205, "tiktoken: Qwen's 3 + 205 extra specials after the ranks");
    is_int(vm->eos_id, ADDED0, "eos is <|endoftext|>");
    is_int(vm->bos_id, -1, "no bos");
    is_int(tt->eos_id, ADDED0, "tiktoken eos is <|endoftext|>");
    is_int(ft_tokenizer_special_id(tt, "<|extra_0|>", 11), ADDED0 + 3, "tiktoken <|extra_0|>");
    ok(strlen(vm->hash) == 16 && strcmp(vm->hash, tj->hash) && strcmp(vm->hash, tt->hash), "hashes of the files");
    ft_tokenizer *all[3] = {vm, tj, tt};
    for (int k = 0; k < 3; k++) {
        const ft_tokenizer *tk = all[k];
        const char *kind = k == 0 ? "vocab+merges" : k == 1 ? "tokenizer.json" : "tiktoken";
        is_str(enc(tk, "hello world", 0), "259 264", "%s: hello world", kind);
        is_str(enc(tk, " hello\n\n12", 0), "265 266 49 50", "%s: ' hello', LF LF, 1, 2", kind);
        is_str(enc(tk, "你", 0), "269", "%s: a three-byte character merged", kind);
        /* plain encode never gives an added token; encode_special splits at them */
        is_str(enc(tk, "<|im_end|>", 0), "60 124 105 109 95 101 110 100 124 62", "%s: <|im_end|> as text", kind);
        is_str(enc(tk, "hello<|im_end|>", 1), "259 273", "%s: encode_special", kind);
        is_int(tk->ops->piece_id(tk, "Ġw", strlen("Ġw")), 260, "%s: piece_id in the alphabet", kind);
        is_str(tk->ops->piece(tk, 260), "Ġw", "%s: piece", kind);
        is_str(tk->ops->piece(tk, ADDED0 + 2), "<|im_end|>", "%s: an added token's piece is its text", kind);
        is_int(tk->ops->piece_id(tk, "<|im_start|>", 12), ADDED0 + 1, "%s: piece_id of an added token", kind);
        ft_buf out;
        ft_buf_init(&out);
        uint32_t ids[] = {259, (uint32_t)ADDED0 + 2, 10};
        ok(ft_tokenizer_decode(tk, ids, 3, &out) == 0 && !strcmp(out.data, "hello<|im_end|>\n"), "%s: decode", kind);
        uint32_t bad = tk->vocab_size;
        is_int(ft_tokenizer_decode(tk, &bad, 1, &out), FT_ERANGE, "%s: decode refuses an id out of range", kind);
        ft_buf_release(&out);
    }
    /* NFC: e + U+0301 becomes é before encoding */
    is_str(enc(vm, "e\u0301", 0), "195 169", "NFC before encoding (é is two bytes)");
    ft_tokenizer_free(vm);
    ft_tokenizer_free(tj);
    ft_tokenizer_free(tt);
}

/* ---- malformed files ---- */

static void expect_error(const char *what, const char *path_in_dir, const char *want) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, path_in_dir);
    ft_tokenizer *tk = NULL;
    ft_buf why;
    ft_buf_init(&why);
    int rc = ft_tokenizer_open(path, &tk, &why);
    if (!ok(rc < 0 && !tk && why.data && strstr(why.data, want), "%s: %s", what, want))
        printf("#   rc %d, why '%s'\n", rc, why.data ? why.data : "");
    ft_tokenizer_free(tk);
    ft_buf_release(&why);
}

static void bad_vocab_merges(const char *sub, const char *vocab, const char *merges_txt) {
    char name[128];
    snprintf(name, sizeof name, "%s/%s", dir, sub);
    mkdir(name, 0700);
    snprintf(name, sizeof name, "%s/vocab.json", sub);
    write_file(name, vocab, strlen(vocab));
    if (merges_txt) {
        snprintf(name, sizeof name, "%s/merges.txt", sub);
        write_file(name, merges_txt, strlen(merges_txt));
    }
}

/* A good vocab.json + merges.txt directory sub whose file name (added_tokens.json, tokenizer_config.json)
 * holds text instead. */
static void bad_beside(const char *sub, const char *name, const char *text) {
    char path[128];
    write_vocab_merges(sub);
    snprintf(path, sizeof path, "%s/%s", sub, name);
    write_file(path, text, strlen(text));
}

/* tokenizer.json (NFC, Qwen2's pattern, BPE) written to name with its first `from` replaced by `to`. */
static void bad_tokenizer_json(const char *name, const char *from, const char *to) {
    ft_buf b, out;
    ft_buf_init(&b), ft_buf_init(&out);
    put_tokenizer_json(&b, "NFC", NULL, "BPE");
    const char *at = strstr(b.data, from);
    FT_ASSERT(at);
    ft_buf_add(&out, b.data, (size_t)(at - b.data));
    ft_buf_adds(&out, to);
    ft_buf_adds(&out, at + strlen(from));
    write_file(name, out.data, out.len);
    ft_buf_release(&b), ft_buf_release(&out);
}

static void test_malformed(void) {
    ft_buf v;
    ft_buf_init(&v);
    put_vocab(&v);
    bad_vocab_merges("b1", "{\"a\": 1,\n \"b\": }", "");
    expect_error("vocab.json syntax", "b1", "b1/vocab.json:2: invalid JSON");
    bad_vocab_merges("b2", "{\"a\": 1.5}", "");
    expect_error("vocab.json id", "b2", "token 'a' has no valid id");
    bad_vocab_merges("b3", "{\"a b\": 1}", "");
    expect_error("vocab.json alphabet", "b3", "outside GPT-2's byte alphabet");
    bad_vocab_merges("b4", "{\"a\": 1, \"b\": 1}", "");
    expect_error("vocab.json duplicate id", "b4", "id 1 is given to two tokens");
    bad_vocab_merges("b5", "{\"a\": 1, \"b\": 2}", "#version: 0.2\n");
    expect_error("not byte-level", "b5", "some of the 256 single bytes are not tokens");
    bad_vocab_merges("b6", v.data, "#version: 0.2\nh e\nl l x\n");
    expect_error("merges.txt shape", "b6", "b6/merges.txt:3: merge 1 is not two tokens separated by one space");
    bad_vocab_merges("b7", v.data, "h e\nh zz\n");
    expect_error("merges.txt unknown", "b7", "merges.txt:2: merge 1: 'zz' is not a token");
    bad_vocab_merges("b8", v.data, "h l\n");
    expect_error("merges.txt join", "b8", "merges.txt:1: merge 0: 'hl' (the two parts joined) is not a token");
    bad_vocab_merges("b9", v.data, NULL);
    expect_error("merges.txt missing", "b9", "b9/merges.txt: missing");
    bad_vocab_merges("b10", "[1, 2]", "");
    expect_error("vocab.json not an object", "b10", "the vocabulary is not a JSON object");
    ft_buf_release(&v);

    /* the files beside vocab.json: added tokens and the configuration */
    bad_beside("a1", "added_tokens.json", "[\"<|endoftext|>\"]");
    expect_error("added_tokens.json not an object", "a1", "a1/added_tokens.json: not a JSON object");
    bad_beside("a2", "added_tokens.json", "{\"<|x|>\": 5}");
    expect_error("added token on a vocabulary id", "a2", "added token '<|x|>' has id 5, which a vocabulary token has");
    bad_beside("a3", "added_tokens.json", "{\"<|a|>\": 100000, \"<|b|>\": 100000}");
    expect_error("added tokens sharing an id", "a3", "added token '<|b|>' (id 100000) clashes with '<|a|>' (id 100000)");
    bad_beside("a4", "added_tokens.json", "{\"<|a|>\": -1}");
    expect_error("added token id", "a4", "a4/added_tokens.json: added token '<|a|>' has no valid id");
    bad_beside("a5", "tokenizer_config.json", "{\"eos_token\":\n }");
    expect_error("tokenizer_config.json syntax", "a5", "a5/tokenizer_config.json:2: invalid JSON");
    bad_beside("a6", "added_tokens.json", "{\"<|a|>\": 100000,\n \"<|b|>\"");
    expect_error("added_tokens.json truncated", "a6", "a6/added_tokens.json:2: invalid JSON: the text ends early");

    /* tokenizer.json's parts */
    bad_tokenizer_json("t1.json", "\"added_tokens\": [", "\"added_tokens\": 5, \"x\": [");
    expect_error("tokenizer.json added_tokens", "t1.json", "added_tokens is not an array");
    bad_tokenizer_json("t2.json", "\"merges\": [", "\"merges\": 7, \"x\": [");
    expect_error("tokenizer.json merges", "t2.json", "t2.json: model.merges is not an array");
    bad_tokenizer_json("t3.json", "\"merges\": [", "\"merges\": [1, ");
    expect_error("tokenizer.json merge entry", "t3.json", "model.merges[0] is neither \"a b\" nor [\"a\", \"b\"]");
    bad_tokenizer_json("t4.json", "\"model\": {", "\"model\": 3, \"x\": {");
    expect_error("tokenizer.json without a model", "t4.json", "no \"model\" object");

    ft_buf b;
    ft_buf_init(&b);
    put_tokenizer_json(&b, NULL, NULL, "WordPiece");
    write_file("wp.json", b.data, b.len);
    expect_error("tokenizer.json model", "wp.json", "model type 'WordPiece' is not supported (only BPE)");
    ft_buf_clear(&b);
    put_tokenizer_json(&b, NULL, "'s|'t| ?\\p{L}+", "BPE");
    write_file("gpt2.json", b.data, b.len);
    expect_error("tokenizer.json pattern", "gpt2.json", "only Qwen2's Split pattern is implemented");
    ft_buf_clear(&b);
    put_tokenizer_json(&b, "NFKC", NULL, "BPE");
    write_file("nfkc.json", b.data, b.len);
    expect_error("tokenizer.json normalizer", "nfkc.json", "normalizer 'NFKC' is not supported");
    write_file("trunc.json", "{\"model\": {\"type\": \"BPE\"", 24);
    expect_error("tokenizer.json truncated", "trunc.json", "trunc.json:1: invalid JSON: the text ends early");
    ft_buf_release(&b);

    write_file("b1.tiktoken", "IQ== 0\nIg== 1x\n", 15);
    expect_error("tiktoken rank", "b1.tiktoken", "b1.tiktoken:2: not '<base64> <rank>'");
    write_file("b2.tiktoken", "IQ== 0\nI!== 1\n", 14);
    expect_error("tiktoken base64", "b2.tiktoken", "b2.tiktoken:2: invalid base64 'I!=='");
    write_file("b3.tiktoken", "IQ== 0\nIQ== 1\n", 14);
    expect_error("tiktoken duplicate", "b3.tiktoken", "b3.tiktoken:2: rank 1 or its bytes appear twice");
    write_file("b4.tiktoken", "\n", 1);
    expect_error("tiktoken empty", "b4.tiktoken", "no ranks in the file");

    char empty[96];
    snprintf(empty, sizeof empty, "%s/empty", dir);
    mkdir(empty, 0700);
    expect_error("empty directory", "empty", "no tokenizer.model, tokenizer.json, vocab.json or qwen.tiktoken");
    write_file("notes.txt", "hello\n", 6);
    expect_error("unknown file", "notes.txt", "neither a SentencePiece model");
}

/* ---- round trips and the merge itself ---- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* Random bytes weighted toward the model's pieces, spaces, newlines, UTF-8 and broken UTF-8. */
static size_t random_text(char *s, size_t cap) {
    static const char *const parts[] = {"hello", " world", "ll", "\n", " ", "  ", "你", "12", "é", "e\u0301",
                                        "\xe4\xbd", "\xff", "'s", "'LL", "<|im_end|>", "\t", "🦙", "\r\n"};
    size_t n = 0;
    while (n + 16 < cap && rnd() % 24) {
        const char *p = parts[rnd() % (sizeof parts / sizeof *parts)];
        if (rnd() % 5 == 0) s[n++] = (char)(rnd() & 0xFF);
        else memcpy(s + n, p, strlen(p)), n += strlen(p);
    }
    return n;
}

static void test_round_trips(void) {
    ft_buf b;
    ft_buf_init(&b);
    put_tokenizer_json(&b, NULL, NULL, "BPE"); /* no normalizer: every byte string comes back as it was */
    write_file("raw.json", b.data, b.len);
    ft_buf_release(&b);
    ft_tokenizer *raw = open_at("raw.json"), *nfc = open_at("tokenizer.json");
    if (!ok(raw && nfc, "models for the round trips")) return;
    int exact = 1, nfc_ok = 1, valid_ids = 1;
    for (int t = 0; t < 2000; t++) {
        char s[256];
        size_t n = random_text(s, sizeof s);
        ft_ids ids;
        ft_ids_init(&ids);
        ft_buf out, want;
        ft_buf_init(&out);
        ft_buf_init(&want);
        ft_buf_add(&out, "", 0); /* data never NULL, for memcmp */
        ft_buf_add(&want, "", 0);
        ft_tokenizer_encode(raw, s, n, &ids);
        for (size_t i = 0; i < ids.n; i++) valid_ids &= ids.v[i] < (uint32_t)ADDED0;
        exact &= ft_tokenizer_decode(raw, ids.v, ids.n, &out) == 0 && out.len == n && !memcmp(out.data, s, n);
        if (ft_utf8_check(s, n) == n) { /* the NFC model gives back NFC(s) */
            ids.n = 0;
            ft_buf_clear(&out);
            ft_tokenizer_encode(nfc, s, n, &ids);
            ft_utf8_nfc(s, n, &want);
            nfc_ok &= ft_tokenizer_decode(nfc, ids.v, ids.n, &out) == 0 && out.len == want.len &&
                      !memcmp(out.data, want.data, want.len);
        }
        ft_ids_release(&ids);
        ft_buf_release(&out);
        ft_buf_release(&want);
    }
    ok(valid_ids, "plain encoding of random bytes gives only vocabulary ids");
    ok(exact, "decode(encode(x)) == x for 2000 random byte strings (no normalizer)");
    ok(nfc_ok, "decode(encode(x)) == NFC(x) for the valid UTF-8 ones (NFC normalizer)");
    ft_tokenizer_free(raw);
    ft_tokenizer_free(nfc);
}

/* The merge rule written the slow way: rescan every adjacent pair, merge the lowest rank, leftmost. */
static void naive_word(const ft_bpe *b, const uint32_t *rank_of_pair_result, const char *w, size_t n, ft_ids *out) {
    size_t cut[1024], parts = n; /* part k is w[cut[k] .. cut[k + 1]) */
    for (size_t i = 0; i <= n; i++) cut[i] = i;
    for (;;) {
        size_t best = SIZE_MAX;
        uint32_t best_rank = UINT32_MAX;
        for (size_t k = 0; k + 1 < parts; k++) {
            int64_t id = ft_bpe_token_id(b, w + cut[k], cut[k + 2] - cut[k]);
            if (id >= 0 && rank_of_pair_result[id] < best_rank) best_rank = rank_of_pair_result[id], best = k;
        }
        if (best == SIZE_MAX) break;
        memmove(cut + best + 1, cut + best + 2, (parts - best - 1) * sizeof *cut);
        parts--;
    }
    for (size_t k = 0; k < parts; k++) ft_ids_push(out, (uint32_t)ft_bpe_token_id(b, w + cut[k], cut[k + 1] - cut[k]));
}

static void test_heap_merge(void) {
    /* tiktoken rules on a model with overlapping merges: every token's rank is its id */
    ft_bpe *b;
    if (!ok(ft_bpe_new(&b) == 0, "ft_bpe_new")) return;
    static const char *const toks[] = {"aa", "ab", "ba", "aaa", "aba", "bab", "abab", "aaaa", "bb", "abb", "bba"};
    uint32_t rank[256 + 16];
    for (int c = 0; c < 256; c++) {
        char ch = (char)c;
        ft_bpe_add_token(b, (uint32_t)c, &ch, 1, 0);
        rank[c] = (uint32_t)c;
    }
    for (uint32_t k = 0; k < sizeof toks / sizeof *toks; k++) {
        uint32_t id = 256 + ((k * 7) % 11); /* ranks not in length order */
        ft_bpe_add_token(b, id, toks[k], strlen(toks[k]), 0);
        rank[id] = id;
    }
    ok(ft_bpe_merges_from_ranks(b) == 0 && ft_bpe_finish(b, 0, ft_pretok_qwen2) == 0, "a model with ranks");
    int same = 1;
    for (int t = 0; t < 3000 && same; t++) {
        char w[48];
        size_t n = 2 + rnd() % 40;
        for (size_t i = 0; i < n; i++) w[i] = "ab"[rnd() % 2];
        ft_ids x, y;
        ft_ids_init(&x);
        ft_ids_init(&y);
        ft_bpe_encode_word(b, w, n, &x);
        naive_word(b, rank, w, n, &y);
        same = x.n == y.n && !memcmp(x.v, y.v, x.n * sizeof *x.v);
        if (!same) printf("#   %.*s: heap %s\n", (int)n, w, ids_str(&x));
        ft_ids_release(&x);
        ft_ids_release(&y);
    }
    ok(same, "the heap merge equals the rescanning merge on 3000 random a/b words");
    /* words longer than the stack buffers */
    for (int t = 0; t < 20 && same; t++) {
        char w[600];
        for (size_t i = 0; i < sizeof w; i++) w[i] = t == 0 ? 'a' : "ab"[rnd() % 2];
        ft_ids x, y;
        ft_ids_init(&x);
        ft_ids_init(&y);
        ft_bpe_encode_word(b, w, sizeof w, &x);
        naive_word(b, rank, w, sizeof w, &y);
        same = x.n == y.n && !memcmp(x.v, y.v, x.n * sizeof *x.v);
        ft_ids_release(&x);
        ft_ids_release(&y);
    }
    ok(same, "and on 600-byte words");
    ft_bpe_free(b);
}

/* ---- -j N: one tokenizer, several threads, each with its own word cache ---- */

typedef struct {
    const ft_tokenizer *tk;
    int same;
} job;

static char texts[64][256];
static size_t text_len[64];
static ft_ids expected[64];

static void *worker(void *arg) {
    job *j = arg;
    j->same = 1;
    for (int round = 0; round < 50; round++)
        for (int k = 0; k < 64; k++) {
            ft_ids ids;
            ft_ids_init(&ids);
            ft_tokenizer_encode(j->tk, texts[k], text_len[k], &ids);
            j->same &= ids.n == expected[k].n && (ids.n == 0 || !memcmp(ids.v, expected[k].v, ids.n * sizeof *ids.v));
            ft_ids_release(&ids);
        }
    return NULL;
}

static void test_threads(void) {
    ft_tokenizer *tk = open_at("tokenizer.json");
    if (!ok(tk != NULL, "model for the threads")) return;
    for (int k = 0; k < 64; k++) {
        text_len[k] = random_text(texts[k], sizeof texts[k]);
        ft_ids_init(&expected[k]);
        ft_tokenizer_encode(tk, texts[k], text_len[k], &expected[k]);
    }
    pthread_t th[4];
    job jobs[4];
    for (int t = 0; t < 4; t++) {
        jobs[t].tk = tk;
        pthread_create(&th[t], NULL, worker, &jobs[t]);
    }
    int same = 1;
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        same &= jobs[t].same;
    }
    ok(same, "4 threads on one tokenizer get the ids one thread gets");
    for (int k = 0; k < 64; k++) ft_ids_release(&expected[k]);
    ft_tokenizer_free(tk);
}

int main(void) {
    if (tap_tmpdir(dir, sizeof dir, "bpe")) return 1;
    test_split();
    test_alphabet();
    test_formats();
    test_malformed();
    test_round_trips();
    test_heap_merge();
    test_threads();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("# could not remove %s\n", dir);
    return done_testing();
}
