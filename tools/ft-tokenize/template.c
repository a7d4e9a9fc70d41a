/* template.c: chat templates with Firefly's fields (component/template.py register_template), built in or
 * from a JSON file, parsed once into literal/field parts so rendering a record is pointer work only.
 * Rule: the format strings follow Python's str.format exactly for what Firefly uses ({content},
 * {stop_token}, {{ and }}); anything else is refused when the template is loaded, never at a record. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tokenize.h"
#include "utf8.h"

/* Firefly's strings, as in component/template.py. */
typedef struct {
    const char *name, *system_format, *user_format, *assistant_format, *system, *stop_word;
} builtin;

static const builtin builtins[] = {
    {"default", "System: {content}\n\n", "User: {content}\nAssistant: ", "{content} {stop_token}", NULL, NULL},
    {"qwen", "<|im_start|>system\n{content}<|im_end|>\n",
     "<|im_start|>user\n{content}<|im_end|>\n<|im_start|>assistant\n", "{content}<|im_end|>\n",
     "You are a helpful assistant.", "<|im_end|>"},
    {"baichuan", NULL, "<reserved_102>{content}<reserved_103>", "{content}</s>", NULL, "</s>"},
    {"baichuan2", NULL, "<reserved_106>{content}<reserved_107>", "{content}</s>", NULL, "</s>"},
    {"llama2", "<<SYS>>\n{content}\n<</SYS>>\n\n", "[INST]{content}[/INST]", "{content} </s>",
     "You are a helpful, respectful and honest assistant. Always answer as helpfully as possible, while being "
     "safe. Your answers should not include any harmful, unethical, racist, sexist, toxic, dangerous, or illegal "
     "content. Please ensure that your responses are socially unbiased and positive in nature.\n\nIf a question "
     "does not make any sense, or is not factually coherent, explain why instead of answering something not "
     "correct. If you don't know the answer to a question, please don't share false information.",
     "</s>"},
};

const char *const tpl_builtin_names[] = {"default", "qwen", "baichuan", "baichuan2", "llama2", "firefly-v1", NULL};

static int py_isspace(int32_t c) {
    return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
           c == 0x3000;
}

void py_strip(const char *s, size_t n, size_t *begin, size_t *end) {
    size_t b = 0, e = n;
    while (b < e) {
        int32_t cp;
        if ((unsigned char)s[b] < 0x80) {
            if (!py_isspace((unsigned char)s[b])) break;
            b++;
            continue;
        }
        int k = ft_utf8_decode(s + b, e - b, &cp);
        if (!py_isspace(cp)) break;
        b += (size_t)k;
    }
    while (e > b) {
        unsigned char c = (unsigned char)s[e - 1];
        if (c < 0x80) {
            if (!py_isspace(c)) break;
            e--;
            continue;
        }
        size_t st = e - 1; /* back to the lead byte (at most 3 continuation bytes) */
        while (st > b && e - st < 4 && ((unsigned char)s[st] & 0xc0) == 0x80) st--;
        int32_t cp;
        int k = ft_utf8_decode(s + st, e - st, &cp);
        if ((size_t)k != e - st || !py_isspace(cp)) break;
        e = st;
    }
    *begin = b;
    *end = e;
}

static void add_part(tpl_format *f, int kind, size_t off, size_t n) {
    f->v = ft_xrealloc(f->v, (f->n + 1) * sizeof *f->v);
    f->v[f->n++] = (tpl_part){kind, off, n};
}

int tpl_parse_format(const char *fmt, unsigned allowed, tpl_format *out, ft_buf *store, ft_buf *why) {
    size_t lit = store->len; /* start of the literal being collected */
    for (const char *p = fmt; *p; p++) {
        if ((*p == '{' && p[1] == '{') || (*p == '}' && p[1] == '}')) {
            ft_buf_addc(store, *p++);
            continue;
        }
        if (*p == '}') {
            ft_buf_addf(why, "format '%s': single '}' encountered", fmt);
            return FT_EPARSE;
        }
        if (*p != '{') {
            ft_buf_addc(store, *p);
            continue;
        }
        const char *close = strchr(p, '}');
        if (!close) {
            ft_buf_addf(why, "format '%s': single '{' encountered", fmt);
            return FT_EPARSE;
        }
        size_t n = (size_t)(close - p - 1);
        int kind = n == 7 && !memcmp(p + 1, "content", 7) ? TPL_CONTENT
                   : n == 10 && !memcmp(p + 1, "stop_token", 10) ? TPL_STOP
                                                                 : -1;
        if (kind < 0 || !(allowed & (1u << kind))) {
            ft_buf_addf(why, "format '%s': field {%.*s} is not one of {content}%s", fmt, (int)n, p + 1,
                        allowed & (1u << TPL_STOP) ? ", {stop_token}" : "");
            return FT_EPARSE;
        }
        if (store->len > lit) add_part(out, TPL_LIT, lit, store->len - lit);
        add_part(out, kind, 0, 0);
        lit = store->len;
        p = close;
    }
    if (store->len > lit) add_part(out, TPL_LIT, lit, store->len - lit);
    return 0;
}

static char *dup_or_null(const char *s) { return s ? ft_xstrdup(s) : NULL; }

static int fill(tpl *t, const char *name, const char *sf, const char *uf, const char *af, const char *sys,
                const char *stop, ft_buf *why) {
    t->name = ft_xstrdup(name);
    t->system_format = dup_or_null(sf), t->user_format = dup_or_null(uf);
    t->assistant_format = dup_or_null(af), t->system = dup_or_null(sys), t->stop_word = dup_or_null(stop);
    t->has_system = sf != NULL;
    const unsigned content = 1u << TPL_CONTENT, both = content | 1u << TPL_STOP;
    /* Firefly formats the system with content= only: {stop_token} there is a KeyError in Python. */
    if (sf) FT_TRY(tpl_parse_format(sf, content, &t->sys, &t->store, why));
    FT_TRY(tpl_parse_format(uf, both, &t->user, &t->store, why));
    FT_TRY(tpl_parse_format(af, both, &t->asst, &t->store, why));
    return 0;
}

static int load_json(const char *path, tpl *t, ft_buf *why) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        ft_buf_addf(why, "%s", strerror(errno));
        return FT_EIO;
    }
    ft_buf text;
    ft_buf_init(&text);
    char chunk[4096];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0 && text.len < (1u << 20)) ft_buf_add(&text, chunk, k);
    int err = ferror(f);
    fclose(f);
    cJSON *j = NULL;
    size_t off = 0;
    int rc = 0;
    if (err) {
        ft_buf_addf(why, "read error");
        rc = FT_EIO;
    } else if (text.len >= (1u << 20)) {
        ft_buf_addf(why, "file larger than 1 MiB");
        rc = FT_EPARSE;
    } else if (ft_utf8_check(text.data ? text.data : "", text.len) != text.len) {
        ft_buf_addf(why, "not valid UTF-8");
        rc = FT_EPARSE;
    } else if (ft_json_parse(text.data ? text.data : "", text.len, &j, &off) < 0) {
        ft_buf_addf(why, "JSON syntax error at byte %zu", off);
        rc = FT_EPARSE;
    } else if (!cJSON_IsObject(j)) {
        ft_buf_addf(why, "not a JSON object");
        rc = FT_EPARSE;
    }
    static const char *const keys[] = {"template_name", "system_format", "user_format", "assistant_format",
                                       "system", "stop_word", NULL};
    const char *val[6] = {NULL};
    const cJSON *it;
    if (rc == 0) cJSON_ArrayForEach(it, j) {
        int i = 0;
        while (keys[i] && strcmp(keys[i], it->string)) i++;
        if (!keys[i]) {
            ft_buf_addf(why, "unknown key '%s' (known: template_name, system_format, user_format, "
                             "assistant_format, system, stop_word)", it->string);
            rc = FT_EPARSE;
            break;
        }
        if (!cJSON_IsString(it) && !cJSON_IsNull(it)) {
            ft_buf_addf(why, "'%s' must be a string or null", it->string);
            rc = FT_EPARSE;
            break;
        }
        val[i] = cJSON_IsString(it) ? it->valuestring : NULL;
    }
    for (int i = 2; rc == 0 && i <= 3; i++)
        if (!val[i]) {
            ft_buf_addf(why, "'%s' is missing", keys[i]);
            rc = FT_EPARSE;
        }
    if (rc == 0) {
        /* the name: template_name, else the file's base name without .json */
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(strlen(base) - 5 < 255 ? strlen(base) - 5 : 255), base);
        rc = fill(t, val[0] ? val[0] : name, val[1], val[2], val[3], val[4], val[5], why);
    }
    cJSON_Delete(j);
    ft_buf_release(&text);
    return rc;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

int tpl_load(const char *arg, tpl *t, ft_buf *why) {
    memset(t, 0, sizeof *t);
    ft_buf_init(&t->store);
    int rc;
    if (!strcmp(arg, "firefly-v1")) {
        t->name = ft_xstrdup(arg);
        t->v1 = 1;
        t->stop_word = ft_xstrdup("</s>");
        return 0;
    }
    for (size_t i = 0; i < sizeof builtins / sizeof *builtins; i++) {
        const builtin *b = &builtins[i];
        if (!strcmp(arg, b->name)) {
            rc = fill(t, b->name, b->system_format, b->user_format, b->assistant_format, b->system, b->stop_word, why);
            FT_ASSERT(rc == 0);
            return 0;
        }
    }
    if (!ends_with(arg, ".json")) {
        ft_buf_addf(why, "unknown template (built in: default, qwen, baichuan, baichuan2, llama2, firefly-v1; "
                         "or a FILE.json)");
        return FT_EINVAL;
    }
    rc = load_json(arg, t, why);
    if (rc < 0) tpl_release(t);
    return rc;
}

void tpl_release(tpl *t) {
    free(t->name);
    free(t->system_format), free(t->user_format), free(t->assistant_format), free(t->system), free(t->stop_word);
    free(t->sys.v), free(t->user.v), free(t->asst.v);
    ft_buf_release(&t->store);
    memset(t, 0, sizeof *t);
}

static void add_str_or_null(cJSON *o, const char *key, const char *v) {
    if (v) cJSON_AddStringToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

cJSON *tpl_to_json(const tpl *t) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", t->name);
    add_str_or_null(o, "system_format", t->system_format);
    add_str_or_null(o, "user_format", t->user_format);
    add_str_or_null(o, "assistant_format", t->assistant_format);
    add_str_or_null(o, "system", t->system);
    add_str_or_null(o, "stop_word", t->stop_word);
    return o;
}
