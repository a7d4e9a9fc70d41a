/* tokenizer_bpe.c: the byte-level BPE kinds of ft_tokenizer (Qwen v1/1.5/2/2.5): Hugging Face tokenizer.json,
 * vocab.json + merges.txt, and tiktoken's base64-rank files, all loaded into one ft_bpe model.
 * Rule: every file is checked as it is read and a problem is reported with its file (and line); added tokens
 * are specials that split text (FT_SPECIAL_SPLIT) and that plain encoding never produces. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "bpe.h"
#include "json.h"
#include "tokenizer.h"

#define BPE_MAX_FILE (1u << 30) /* real files are a few MB; this only bounds a hostile one */

/* Qwen's added tokens, in id order after the vocabulary (Qwen2 added_tokens.json: the first three; Qwen v1
 * tokenization_qwen.py: all three, then <|extra_0|> .. <|extra_204|>). */
static const char *const qwen_added[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
#define QWEN_VOCAB 151643u
#define QWEN_EXTRAS 205

typedef struct {
    ft_bpe *bpe;
    ft_buf pieces;       /* each id's piece string, NUL-terminated */
    uint32_t *piece_off; /* by id; UINT32_MAX: no token */
} bpe_impl;

/* What a load collects before the tokenizer is made. */
typedef struct {
    ft_bpe *bpe;
    ft_special *added;
    size_t n_added, cap_added;
    XXH64_state_t *hash;
    ft_buf *why;
    char *eos, *bos, *pad, *unk; /* token strings named by tokenizer_config.json, or NULL */
} loader;

__attribute__((format(printf, 4, 5))) static int fail(loader *ld, const char *file, size_t line,
                                                      const char *fmt, ...) {
    if (!ld->why) return FT_EPARSE;
    if (line) ft_buf_addf(ld->why, "%s:%zu: ", file, line);
    else ft_buf_addf(ld->why, "%s: ", file);
    va_list ap;
    va_start(ap, fmt);
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ft_buf_adds(ld->why, msg);
    return FT_EPARSE;
}

/* Reads a whole file (NUL-terminated copy) and adds it to the tokenizer's hash. */
static int slurp(loader *ld, const char *path, char **out, size_t *len) {
    FT_TRY(ft_read_file(path, BPE_MAX_FILE, out, len, ld->why));
    XXH64_update(ld->hash, *out, *len);
    return 0;
}

static size_t line_of(const char *s, size_t off) {
    size_t line = 1;
    for (size_t i = 0; i < off; i++) line += s[i] == '\n';
    return line;
}

/* Reads and parses a JSON file; the tree in *out (cJSON_Delete). */
static int load_json(loader *ld, const char *path, cJSON **out) {
    char *buf;
    size_t len, off;
    FT_TRY(slurp(ld, path, &buf, &len));
    int rc = ft_json_parse(buf, len, out, &off);
    if (rc == FT_EPARSE) {
        size_t line = line_of(buf, off < len ? off : len);
        rc = fail(ld, path, line, off >= len ? "invalid JSON: the text ends early" : "invalid JSON at byte %zu", off);
    }
    free(buf);
    return rc;
}

static char *join_path(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = ft_xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return ft_xstrdup(".");
    if (slash == path) return ft_xstrdup("/");
    char *d = ft_xstrdup(path);
    d[slash - path] = 0;
    return d;
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* A JSON number that is a whole id in range, or -1. */
static int64_t json_id(const cJSON *v) {
    if (!cJSON_IsNumber(v)) return -1;
    double d = v->valuedouble;
    if (!(d >= 0 && d < FT_BPE_MAX_ID) || d != (double)(int64_t)d) return -1;
    return (int64_t)d;
}

/* Records an added token (a special that splits text), unless the same text and id are there already. */
static int add_added(loader *ld, const char *file, const char *text, int64_t id) {
    size_t len = strlen(text);
    if (len == 0) return fail(ld, file, 0, "added token %lld is empty", (long long)id);
    if (id < 0) return fail(ld, file, 0, "added token '%s' has no valid id", text);
    for (size_t i = 0; i < ld->n_added; i++) {
        const ft_special *s = &ld->added[i];
        int same_text = s->len == len && memcmp(s->text, text, len) == 0;
        if (same_text && s->id == (uint32_t)id) return 0;
        if (same_text || s->id == (uint32_t)id)
            return fail(ld, file, 0, "added token '%s' (id %lld) clashes with '%s' (id %u)", text, (long long)id,
                        s->text, s->id);
    }
    if (ld->n_added == ld->cap_added) {
        ld->cap_added = ld->cap_added ? 2 * ld->cap_added : 16;
        ld->added = ft_xrealloc(ld->added, ld->cap_added * sizeof *ld->added);
    }
    ld->added[ld->n_added++] = (ft_special){ft_xstrdup(text), len, (uint32_t)id, FT_SPECIAL_SPLIT};
    return 0;
}

/* vocab.json, or tokenizer.json's model.vocab: {"piece": id, ...} in the byte alphabet. A piece whose id is
 * an added token with the same text (GPT-2's <|endoftext|>) is left to the added token. */
static int load_vocab(loader *ld, const char *file, const cJSON *vocab) {
    if (!cJSON_IsObject(vocab)) return fail(ld, file, 0, "the vocabulary is not a JSON object");
    ft_buf bytes;
    ft_buf_init(&bytes);
    int rc = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, vocab) {
        int64_t id = json_id(e);
        if (id < 0) {
            rc = fail(ld, file, 0, "token '%s' has no valid id (a whole number below %u)", e->string,
                      FT_BPE_MAX_ID);
            break;
        }
        size_t len = strlen(e->string), skip = 0;
        for (size_t i = 0; i < ld->n_added; i++)
            skip |= ld->added[i].id == (uint32_t)id && ld->added[i].len == len &&
                    memcmp(ld->added[i].text, e->string, len) == 0;
        if (skip) continue;
        ft_buf_clear(&bytes);
        if (len == 0 || ft_bpe_unmap(e->string, len, &bytes) < 0) {
            rc = fail(ld, file, 0, "token '%s' (id %lld) is not byte-level BPE: a character outside GPT-2's byte "
                      "alphabet", e->string, (long long)id);
            break;
        }
        rc = ft_bpe_add_token(ld->bpe, (uint32_t)id, bytes.data, bytes.len, 0);
        if (rc == FT_EINVAL) {
            size_t ol;
            rc = ft_bpe_token(ld->bpe, (uint32_t)id, &ol, NULL)
                     ? fail(ld, file, 0, "id %lld is given to two tokens (the second is '%s')", (long long)id, e->string)
                     : fail(ld, file, 0, "token '%s' appears twice", e->string);
        }
        if (rc < 0) break;
    }
    ft_buf_release(&bytes);
    return rc;
}

/* One merge "left right" (alphabet form), rank its position. */
static int add_merge(loader *ld, const char *file, size_t line, const char *l, size_t nl, const char *r,
                     size_t nr, uint32_t rank) {
    ft_buf b;
    ft_buf_init(&b);
    int64_t ids[2] = {-1, -1};
    const char *part[2] = {l, r};
    size_t plen[2] = {nl, nr};
    for (int k = 0; k < 2; k++) {
        ft_buf_clear(&b);
        if (plen[k] && ft_bpe_unmap(part[k], plen[k], &b) == 0) ids[k] = ft_bpe_token_id(ld->bpe, b.data, b.len);
    }
    ft_buf_release(&b);
    for (int k = 0; k < 2; k++)
        if (ids[k] < 0)
            return fail(ld, file, line, "merge %u: '%.*s' is not a token of the vocabulary", rank,
                        (int)(plen[k] > 200 ? 200 : plen[k]), part[k]);
    int rc = ft_bpe_add_merge(ld->bpe, (uint32_t)ids[0], (uint32_t)ids[1], rank);
    if (rc == FT_EINVAL)
        return fail(ld, file, line, "merge %u: '%.*s%.*s' (the two parts joined) is not a token of the vocabulary",
                    rank, (int)(nl > 200 ? 200 : nl), l, (int)(nr > 200 ? 200 : nr), r);
    return rc;
}

/* One merge written "left right": exactly one space between two non-empty parts. */
static int add_merge_line(loader *ld, const char *file, size_t line, const char *s, size_t n, uint32_t rank) {
    const char *sp = memchr(s, ' ', n);
    if (!sp || sp == s || sp + 1 == s + n || memchr(sp + 1, ' ', (size_t)(s + n - sp - 1)))
        return fail(ld, file, line, "merge %u is not two tokens separated by one space: '%.*s'", rank,
                    (int)(n > 200 ? 200 : n), s);
    return add_merge(ld, file, line, s, (size_t)(sp - s), sp + 1, (size_t)(s + n - sp - 1), rank);
}

/* merges.txt: an optional "#version" line, then one merge per line, rank = order (CR before LF and a
 * final empty line are allowed). */
static int load_merges_txt(loader *ld, const char *path) {
    char *buf;
    size_t len;
    FT_TRY(slurp(ld, path, &buf, &len));
    int rc = 0;
    uint32_t rank = 0;
    size_t line = 0;
    for (size_t i = 0; i < len && rc == 0;) {
        const char *nl = memchr(buf + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - buf) : len, n = end - i;
        line++;
        if (n && buf[i + n - 1] == '\r') n--;
        if (!(line == 1 && n >= 8 && memcmp(buf + i, "#version", 8) == 0)) {
            if (memchr(buf + i, 0, n)) rc = fail(ld, path, line, "NUL byte in the line");
            else rc = add_merge_line(ld, path, line, buf + i, n, rank++);
        }
        i = end + 1;
    }
    free(buf);
    return rc;
}

/* tokenizer.json's model.merges: strings "a b" or (newer files) pairs ["a", "b"]. */
static int load_merges_json(loader *ld, const char *file, const cJSON *merges) {
    if (!cJSON_IsArray(merges)) return fail(ld, file, 0, "model.merges is not an array");
    uint32_t rank = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, merges) {
        if (cJSON_IsString(m)) {
            FT_TRY(add_merge_line(ld, file, 0, m->valuestring, strlen(m->valuestring), rank));
        } else if (cJSON_IsArray(m) && cJSON_GetArraySize(m) == 2 && cJSON_IsString(m->child) &&
                   cJSON_IsString(m->child->next)) {
            const char *a = m->child->valuestring, *b = m->child->next->valuestring;
            FT_TRY(add_merge(ld, file, 0, a, strlen(a), b, strlen(b), rank));
        } else {
            return fail(ld, file, 0, "model.merges[%u] is neither \"a b\" nor [\"a\", \"b\"]", rank);
        }
        rank++;
    }
    return 0;
}

/* A token named in tokenizer_config.json: a string, {"content": string}, or null. */
static char *config_token(const cJSON *cfg, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (cJSON_IsObject(v)) v = cJSON_GetObjectItemCaseSensitive(v, "content");
    return cJSON_IsString(v) && v->valuestring[0] ? ft_xstrdup(v->valuestring) : NULL;
}

/* tokenizer_config.json beside the files, when there: the named bos/eos/pad/unk tokens and, with
 * take_added, its added_tokens_decoder ({"151643": {"content": "<|endoftext|>", ...}, ...}). */
static int load_config(loader *ld, const char *dir, int take_added, int *took) {
    char *path = join_path(dir, "tokenizer_config.json");
    int rc = 0;
    *took = 0;
    if (exists(path)) {
        cJSON *cfg = NULL;
        rc = load_json(ld, path, &cfg);
        if (rc == 0 && !cJSON_IsObject(cfg)) rc = fail(ld, path, 0, "not a JSON object");
        if (rc == 0) {
            ld->eos = config_token(cfg, "eos_token");
            ld->bos = config_token(cfg, "bos_token");
            ld->pad = config_token(cfg, "pad_token");
            ld->unk = config_token(cfg, "unk_token");
            const cJSON *dec = cJSON_GetObjectItemCaseSensitive(cfg, "added_tokens_decoder"), *e;
            if (take_added && cJSON_IsObject(dec)) {
                *took = 1;
                cJSON_ArrayForEach(e, dec) {
                    char *end;
                    errno = 0;
                    long long id = strtoll(e->string, &end, 10);
                    const char *text = ft_json_str(e, "content");
                    if (*end || errno || id < 0 || id >= FT_BPE_MAX_ID || !text) {
                        rc = fail(ld, path, 0, "added_tokens_decoder entry '%s' is not an id with a content",
                                  e->string);
                        break;
                    }
                    if ((rc = add_added(ld, path, text, id)) < 0) break;
                }
            }
        }
        cJSON_Delete(cfg);
    }
    free(path);
    return rc;
}

/* added_tokens.json beside vocab.json, when there: {"<|endoftext|>": 151643, ...}. Sets *took. */
static int load_added_json(loader *ld, const char *dir, int *took) {
    char *path = join_path(dir, "added_tokens.json");
    int rc = 0;
    *took = 0;
    if (exists(path)) {
        cJSON *t = NULL;
        rc = load_json(ld, path, &t);
        if (rc == 0 && !cJSON_IsObject(t)) rc = fail(ld, path, 0, "not a JSON object");
        const cJSON *e;
        if (rc == 0) cJSON_ArrayForEach(e, t) {
                if ((rc = add_added(ld, path, e->string, json_id(e))) < 0) break;
            }
        *took = rc == 0;
        cJSON_Delete(t);
    }
    free(path);
    return rc;
}

/* vocab.json + merges.txt (Qwen2Tokenizer's files): NFC and the Qwen2 split, as Qwen2Tokenizer does.
 * Added tokens: added_tokens.json, else tokenizer_config.json's added_tokens_decoder, else, for Qwen's own
 * vocabulary (151,643 tokens without <|endoftext|>), Qwen2's three at 151643-151645. */
static int open_vocab_merges(loader *ld, const char *dir, unsigned *flags) {
    char *vocab_path = join_path(dir, "vocab.json"), *merges_path = join_path(dir, "merges.txt");
    cJSON *vocab = NULL;
    int took = 0, rc = 0;
    if (!exists(merges_path)) rc = fail(ld, merges_path, 0, "missing (vocab.json needs merges.txt beside it)");
    if (rc == 0) rc = load_json(ld, vocab_path, &vocab);
    if (rc == 0) rc = load_vocab(ld, vocab_path, vocab);
    if (rc == 0) rc = load_merges_txt(ld, merges_path);
    if (rc == 0) rc = load_added_json(ld, dir, &took);
    if (rc == 0) rc = load_config(ld, dir, !took, &took);
    if (rc == 0 && !took && ft_bpe_id_limit(ld->bpe) == QWEN_VOCAB &&
        ft_bpe_token_id(ld->bpe, qwen_added[0], strlen(qwen_added[0])) < 0)
        for (uint32_t i = 0; i < 3 && rc == 0; i++) rc = add_added(ld, vocab_path, qwen_added[i], QWEN_VOCAB + i);
    cJSON_Delete(vocab);
    free(vocab_path);
    free(merges_path);
    *flags = FT_BPE_NFC;
    return rc;
}

/* tokenizer.json's normalizer: none or NFC (alone or in a Sequence). */
static int json_normalizer(loader *ld, const char *file, const cJSON *norm, unsigned *flags) {
    if (!norm || cJSON_IsNull(norm)) return 0;
    const char *type = ft_json_str(norm, "type");
    if (type && strcmp(type, "NFC") == 0) {
        *flags |= FT_BPE_NFC;
        return 0;
    }
    if (type && strcmp(type, "Sequence") == 0) {
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(norm, "normalizers")) {
            FT_TRY(json_normalizer(ld, file, e, flags));
        }
        return 0;
    }
    return fail(ld, file, 0, "normalizer '%s' is not supported (none or NFC)", type ? type : "?");
}

/* tokenizer.json's pre_tokenizer: the Qwen2 Split (Isolated) then ByteLevel without its own regex. */
static int json_pre_tokenizer(loader *ld, const char *file, const cJSON *pre) {
    const char *type = ft_json_str(pre, "type");
    const cJSON *split = NULL, *byte_level = NULL, *e;
    if (type && strcmp(type, "Sequence") == 0) {
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(pre, "pretokenizers")) {
            const char *t = ft_json_str(e, "type");
            if (t && strcmp(t, "Split") == 0 && !split) split = e;
            else if (t && strcmp(t, "ByteLevel") == 0 && !byte_level) byte_level = e;
            else return fail(ld, file, 0, "pre_tokenizer '%s' is not supported", t ? t : "?");
        }
    }
    const cJSON *pat = split ? cJSON_GetObjectItemCaseSensitive(split, "pattern") : NULL;
    const char *regex = ft_json_str(pat, "Regex"), *behavior = ft_json_str(split, "behavior");
    if (!regex || strcmp(regex, FT_PRETOK_QWEN2_PATTERN) != 0)
        return fail(ld, file, 0, "pre_tokenizer: only Qwen2's Split pattern is implemented (%s)",
                    regex ? "another pattern" : "no Split regex");
    if (!behavior || strcmp(behavior, "Isolated") != 0 || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(split, "invert")))
        return fail(ld, file, 0, "pre_tokenizer: the Split must be 'Isolated', not inverted");
    if (!byte_level || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(byte_level, "use_regex")) ||
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(byte_level, "add_prefix_space")))
        return fail(ld, file, 0, "pre_tokenizer: ByteLevel must follow the Split, without use_regex or "
                                 "add_prefix_space");
    return 0;
}

/* Hugging Face tokenizer.json with a BPE model. */
static int open_tokenizer_json(loader *ld, const char *file, unsigned *flags) {
    cJSON *root = NULL;
    FT_TRY(load_json(ld, file, &root));
    int rc = 0;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model"), *e;
    const char *type = ft_json_str(model, "type");
    const char *prefix = ft_json_str(model, "continuing_subword_prefix");
    const char *suffix = ft_json_str(model, "end_of_word_suffix");
    *flags = 0;
    if (!cJSON_IsObject(root) || !cJSON_IsObject(model)) rc = fail(ld, file, 0, "no \"model\" object");
    else if (!type || strcmp(type, "BPE") != 0)
        rc = fail(ld, file, 0, "model type '%s' is not supported (only BPE)", type ? type : "?");
    else if ((prefix && *prefix) || (suffix && *suffix))
        rc = fail(ld, file, 0, "continuing_subword_prefix/end_of_word_suffix are not supported");
    if (rc == 0) rc = json_normalizer(ld, file, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), flags);
    if (rc == 0) rc = json_pre_tokenizer(ld, file, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"));
    if (rc == 0) {
        const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
        if (added && !cJSON_IsArray(added)) rc = fail(ld, file, 0, "added_tokens is not an array");
        cJSON_ArrayForEach(e, added) {
            const char *text = ft_json_str(e, "content");
            if ((rc = add_added(ld, file, text ? text : "", json_id(cJSON_GetObjectItemCaseSensitive(e, "id")))) < 0)
                break;
        }
    }
    if (rc == 0) rc = load_vocab(ld, file, cJSON_GetObjectItemCaseSensitive(model, "vocab"));
    if (rc == 0) rc = load_merges_json(ld, file, cJSON_GetObjectItemCaseSensitive(model, "merges"));
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "ignore_merges"))) *flags |= FT_BPE_WHOLE_WORDS;
    cJSON_Delete(root);
    if (rc == 0) {
        char *dir = dir_of(file);
        int took;
        rc = load_config(ld, dir, 0, &took);
        free(dir);
    }
    return rc;
}

static int b64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Standard base64 with padding; appends the bytes. Returns 0 or -1. */
static int b64_decode(const char *s, size_t n, ft_buf *out) {
    if (n == 0 || n % 4) return -1;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            v[k] = s[i + k] == '=' && i + 4 == n && k >= 2 ? (pad++, 0) : b64_value((unsigned char)s[i + k]);
            if (v[k] < 0 || (pad && s[i + k] != '=')) return -1;
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        char b[3] = {(char)(w >> 16), (char)(w >> 8), (char)w};
        ft_buf_add(out, b, (size_t)(3 - pad));
    }
    return 0;
}

/* tiktoken: lines "<base64 bytes> <rank>", rank = id; merges from the ranks; Qwen v1's specials after the
 * ranks: <|endoftext|>, <|im_start|>, <|im_end|>, <|extra_0|> .. <|extra_204|>. */
static int open_tiktoken(loader *ld, const char *file, unsigned *flags) {
    char *buf;
    size_t len, line = 0;
    FT_TRY(slurp(ld, file, &buf, &len));
    ft_buf bytes;
    ft_buf_init(&bytes);
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0;) {
        const char *nl = memchr(buf + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - buf) : len, n = end - i;
        const char *s = buf + i;
        line++;
        i = end + 1;
        if (n && s[n - 1] == '\r') n--;
        if (n == 0) continue;
        const char *sp = memchr(s, ' ', n);
        char *stop;
        ft_buf_clear(&bytes);
        unsigned long long rank = sp && sp + 1 < s + n && sp[1] >= '0' && sp[1] <= '9' ? strtoull(sp + 1, &stop, 10) : 0;
        if (!sp || sp + 1 == s + n || sp[1] < '0' || sp[1] > '9' || stop != s + n || rank >= FT_BPE_MAX_ID) {
            rc = fail(ld, file, line, "not '<base64> <rank>' (rank a whole number below %u)", FT_BPE_MAX_ID);
        } else if (b64_decode(s, (size_t)(sp - s), &bytes) < 0) {
            rc = fail(ld, file, line, "invalid base64 '%.*s'", (int)(sp - s > 100 ? 100 : sp - s), s);
        } else if ((rc = ft_bpe_add_token(ld->bpe, (uint32_t)rank, bytes.data, bytes.len, 0)) == FT_EINVAL) {
            rc = fail(ld, file, line, "rank %llu or its bytes appear twice", rank);
        }
    }
    ft_buf_release(&bytes);
    free(buf);
    if (rc == 0 && ft_bpe_id_limit(ld->bpe) == 0) rc = fail(ld, file, 0, "no ranks in the file");
    if (rc == 0) rc = ft_bpe_merges_from_ranks(ld->bpe);
    uint32_t base = ft_bpe_id_limit(ld->bpe);
    for (uint32_t k = 0; k < 3 + QWEN_EXTRAS && rc == 0; k++) {
        char name[32];
        if (k < 3) snprintf(name, sizeof name, "%s", qwen_added[k]);
        else snprintf(name, sizeof name, "<|extra_%u|>", k - 3);
        rc = add_added(ld, file, name, base + k);
    }
    *flags = FT_BPE_NFC | FT_BPE_WHOLE_WORDS;
    return rc;
}

static void bpe_free_impl(ft_tokenizer *tk) {
    bpe_impl *im = tk->impl;
    if (!im) return;
    ft_bpe_free(im->bpe);
    ft_buf_release(&im->pieces);
    free(im->piece_off);
    free(im);
    tk->impl = NULL;
}

static int bpe_encode(const ft_tokenizer *tk, const char *text, size_t len, ft_ids *out) {
    return ft_bpe_encode(((const bpe_impl *)tk->impl)->bpe, text, len, out);
}

static int bpe_decode(const ft_tokenizer *tk, const uint32_t *ids, size_t n, ft_buf *out) {
    return ft_bpe_decode(((const bpe_impl *)tk->impl)->bpe, ids, n, out);
}

static const char *bpe_piece(const ft_tokenizer *tk, uint32_t id) {
    const bpe_impl *im = tk->impl;
    if (id >= tk->vocab_size || im->piece_off[id] == UINT32_MAX) return NULL;
    return im->pieces.data + im->piece_off[id];
}

static int64_t bpe_piece_id(const ft_tokenizer *tk, const char *piece, size_t len) {
    int64_t id = ft_tokenizer_special_id(tk, piece, len);
    if (id >= 0) return id;
    ft_buf b;
    ft_buf_init(&b);
    if (ft_bpe_unmap(piece, len, &b) == 0) id = ft_bpe_token_id(((const bpe_impl *)tk->impl)->bpe, b.data, b.len);
    ft_buf_release(&b);
    return id;
}

/* The two kinds differ only in their name (and in how their files were read). */
#define BPE_OPS(name)                                                                                      \
    {.kind = name, .encode = bpe_encode, .encode_raw = bpe_encode, .decode = bpe_decode, .piece = bpe_piece, \
     .piece_id = bpe_piece_id, .free = bpe_free_impl}
static const ft_tokenizer_ops bpe_ops = BPE_OPS("bpe"), tiktoken_ops = BPE_OPS("tiktoken");

/* Which files path names: 1 tokenizer.json, 2 vocab.json + merges.txt, 3 tiktoken, 0 none (not ours). The
 * file to read (tokenizer.json, the directory of vocab.json, the tiktoken file) goes in *file. */
static int pick_files(const char *path, char **file) {
    struct stat st;
    *file = NULL;
    if (stat(path, &st) != 0) return 0;
    if (S_ISDIR(st.st_mode)) {
        static const char *const names[] = {"tokenizer.json", "vocab.json", "qwen.tiktoken"};
        for (int k = 0; k < 3; k++) {
            char *p = join_path(path, names[k]);
            if (exists(p)) {
                if (k == 1) {
                    free(p);
                    p = ft_xstrdup(path);
                }
                *file = p;
                return k + 1;
            }
            free(p);
        }
        return 0;
    }
    const char *base = base_name(path);
    if (strcmp(base, "vocab.json") == 0 || strcmp(base, "merges.txt") == 0) {
        *file = dir_of(path);
        return 2;
    }
    if (ends_with(base, ".tiktoken")) {
        *file = ft_xstrdup(path);
        return 3;
    }
    if (ends_with(base, ".json")) {
        *file = ft_xstrdup(path);
        return 1;
    }
    return 0;
}

/* The piece strings by id: the alphabet form of vocabulary tokens, the text of added ones. */
static void build_pieces(bpe_impl *im, uint32_t n) {
    im->piece_off = ft_xmalloc((n ? n : 1) * sizeof *im->piece_off);
    for (uint32_t id = 0; id < n; id++) {
        size_t len;
        unsigned fl;
        const char *s = ft_bpe_token(im->bpe, id, &len, &fl);
        im->piece_off[id] = s ? (uint32_t)im->pieces.len : UINT32_MAX;
        if (!s) continue;
        if (fl & FT_BPE_ADDED) ft_buf_add(&im->pieces, s, len);
        else ft_bpe_map(s, len, &im->pieces);
        ft_buf_addc(&im->pieces, 0);
    }
}

static int64_t named_id(const ft_tokenizer *tk, const char *text, const char *fallback) {
    const char *t = text ? text : fallback;
    if (!t) return -1;
    int64_t id = ft_tokenizer_special_id(tk, t, strlen(t));
    if (id < 0) id = bpe_piece_id(tk, t, strlen(t));
    return id;
}

int ft_tokenizer_open_bpe(const char *path, ft_tokenizer **out, ft_buf *why) {
    *out = NULL;
    char *file;
    int kind = pick_files(path, &file);
    if (!kind) return FT_EFORMAT;
    loader ld = {.why = why, .hash = XXH64_createState()};
    ft_tokenizer *tk = calloc(1, sizeof *tk);
    bpe_impl *im = calloc(1, sizeof *im);
    int rc = ld.hash && tk && im ? ft_bpe_new(&ld.bpe) : FT_ENOMEM;
    unsigned flags = 0;
    if (rc == 0) {
        XXH64_reset(ld.hash, 0);
        rc = kind == 1 ? open_tokenizer_json(&ld, file, &flags)
             : kind == 2 ? open_vocab_merges(&ld, file, &flags)
                         : open_tiktoken(&ld, file, &flags);
    }
    /* added tokens decode to their text; one that collides with a vocabulary id is an error */
    for (size_t i = 0; i < ld.n_added && rc == 0; i++) {
        const ft_special *s = &ld.added[i];
        rc = ft_bpe_add_token(ld.bpe, s->id, s->text, s->len, FT_BPE_ADDED);
        if (rc == FT_EINVAL) rc = fail(&ld, file, 0, "added token '%s' has id %u, which a vocabulary token has",
                                       s->text, s->id);
    }
    if (rc == 0 && (rc = ft_bpe_finish(ld.bpe, flags, ft_pretok_qwen2)) == FT_EINVAL)
        rc = fail(&ld, file, 0, "not byte-level BPE: some of the 256 single bytes are not tokens");
    if (rc == 0) {
        tk->ops = kind == 3 ? &tiktoken_ops : &bpe_ops;
        im->bpe = ld.bpe;
        ld.bpe = NULL;
        ft_buf_init(&im->pieces);
        tk->vocab_size = ft_bpe_id_limit(im->bpe);
        build_pieces(im, tk->vocab_size);
        tk->impl = im;
        /* the specials' texts become the added tokens' piece strings, which the tokenizer owns */
        for (size_t i = 0; i < ld.n_added; i++) {
            free((char *)ld.added[i].text);
            ld.added[i].text = im->pieces.data + im->piece_off[ld.added[i].id];
        }
        im = NULL;
        rc = ft_tokenizer_set_specials(tk, ld.added, ld.n_added);
        ld.added = NULL;
        ld.n_added = 0;
    }
    if (rc == 0) {
        tk->bos_id = named_id(tk, ld.bos, NULL);
        tk->eos_id = named_id(tk, ld.eos, qwen_added[0]);
        tk->pad_id = named_id(tk, ld.pad, qwen_added[0]);
        tk->unk_id = named_id(tk, ld.unk, NULL);
        snprintf(tk->hash, sizeof tk->hash, "%016llx", (unsigned long long)XXH64_digest(ld.hash));
        tk->path = ft_xstrdup(path);
        *out = tk;
        tk = NULL;
    }
    for (size_t i = 0; i < ld.n_added; i++) free((char *)ld.added[i].text);
    free(ld.added);
    ft_bpe_free(ld.bpe);
    XXH64_freeState(ld.hash);
    free(ld.eos), free(ld.bos), free(ld.pad), free(ld.unk);
    free(im);
    ft_tokenizer_free(tk);
    free(file);
    return rc;
}
