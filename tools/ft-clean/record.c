/* record.c: one record's way through ft-clean: UTF-8 check, JSON parse, format detection, conversion to
 * the conversation record, normalization, filters, output line.
 * Rule: every outcome is a reason code plus a detail string; nothing here prints or touches a file. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clean.h"
#include "json.h"
#include "utf8.h"

static const char *const reason_names[R_COUNT] = {
    "kept",
#define X(id, name, rej) name,
    CLEAN_REASONS(X)
#undef X
};
static const char reason_reject[R_COUNT] = {
    0,
#define X(id, name, rej) rej,
    CLEAN_REASONS(X)
#undef X
};
static const char *const fix_names[F_COUNT] = {
#define X(id, name) name,
    CLEAN_FIXES(X)
#undef X
};

const char *clean_reason_name(int r) { return r >= 0 && r < R_COUNT ? reason_names[r] : "?"; }
int clean_reason_is_reject(int r) { return r > 0 && r < R_COUNT && reason_reject[r]; }
const char *clean_fix_name(int f) { return f >= 0 && f < F_COUNT ? fix_names[f] : "?"; }

void clean_opts_default(clean_opts *o) {
    memset(o, 0, sizeof *o);
    o->format = FMT_AUTO;
    o->moss_tools = MOSS_TOOLS_DROP;
    o->bad_utf8 = BAD_UTF8_REPLACE;
    o->t2s_config = "t2s.json";
    o->filter_empty = 1;
    o->min_turn_chars = 1;
    o->max_turn_chars = 100000;
    o->min_conv_chars = 4;
    o->max_conv_chars = 1000000;
    o->max_rep_ratio = 0.5;
    o->rep_ngram_cjk = 3;
    o->rep_ngram_latin = 10;
    o->rep_min_chars = 100;
    o->max_special_ratio = 0.25;
    o->special_min_chars = 20;
    o->max_sentence_repeat = 0.5;
    o->sentence_min_count = 6;
    o->max_loop_share = 0.3;
    o->loop_min_repeats = 8;
    o->loop_min_chars = 50;
}

void clean_result_reset(clean_result *r) {
    r->reason = R_KEPT;
    r->detail[0] = 0;
    memset(r->fixes, 0, sizeof r->fixes);
    ft_buf_clear(&r->out);
}

static int fail(clean_result *r, int reason, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(clean_result *r, int reason, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
    r->reason = reason;
    return reason;
}

/* Copies at most 60 bytes of s for a message, cut on a UTF-8 boundary, newlines shown as spaces. */
static const char *excerpt(const char *s, char *buf, size_t cap) {
    size_t n = strlen(s), m = n < cap - 4 ? n : cap - 4;
    while (m > 0 && m < n && ((unsigned char)s[m] & 0xC0) == 0x80) m--;
    for (size_t i = 0; i < m; i++) buf[i] = s[i] == '\n' || s[i] == '\r' ? ' ' : s[i];
    strcpy(buf + m, m < n ? "..." : "");
    return buf;
}

static int is_none(clean_ctx *c, const char *s) {
    ft_buf *b = &c->norm; /* free until normalization */
    ft_buf_clear(b);
    clean_strip_markers(s, strlen(s), b);
    size_t i = 0, e = b->len;
    while (i < e && strchr(" \t\r\n", b->data[i])) i++;
    while (e > i && strchr(" \t\r\n", b->data[e - 1])) e--;
    return e == i || (e - i == 4 && !memcmp(b->data + i, "None", 4));
}

/* --- formats ------------------------------------------------------------------------------------ */

typedef struct {
    long n;
    cJSON *turn;
} numbered;

static int cmp_numbered(const void *a, const void *b) {
    long x = ((const numbered *)a)->n, y = ((const numbered *)b)->n;
    return x < y ? -1 : x > y;
}

/* Length of a MOSS citation token at s: "<|N|>" or "<|/N|>", optionally wrapped as "<sup>…</sup>";
 * 0 if none. */
static size_t citation_len(const char *s) {
    size_t i = 0;
    if (!strncmp(s, "<sup>", 5)) i = 5;
    if (strncmp(s + i, "<|", 2)) return 0;
    i += 2;
    if (s[i] == '/') i++;
    size_t d = i;
    while (s[i] >= '0' && s[i] <= '9') i++;
    if (i == d || strncmp(s + i, "|>", 2)) return 0;
    i += 2;
    if (!strncmp(s, "<sup>", 5) && !strncmp(s + i, "</sup>", 6)) i += 6;
    return i;
}

/* Appends s without MOSS's tool-result citations (they point at removed results): "<|N|>", "<|/N|>",
 * "<sup><|N|></sup>", and a "</sup>" left open by a bare citation token. */
static void strip_citations(const char *s, ft_buf *out) {
    int open = 0;
    const char *from = s;
    for (const char *p = s; (p = strchr(p, '<'));) {
        size_t l = citation_len(p);
        if (!l && open && !strncmp(p, "</sup>", 6)) l = 6, open = 0;
        else if (l) open = strncmp(p, "<sup>", 5) != 0;
        if (!l) {
            p++;
            continue;
        }
        ft_buf_add(out, from, (size_t)(p - from));
        p += l;
        from = p;
    }
    ft_buf_adds(out, from);
}

static int from_moss(clean_ctx *c, cJSON *obj, ft_conv *conv, clean_result *r) {
    cJSON *chat = cJSON_GetObjectItemCaseSensitive(obj, "chat");
    if (!cJSON_IsObject(chat)) return fail(r, R_BAD_RECORD, "'chat' is not an object");
    size_t k = (size_t)cJSON_GetArraySize(chat);
    numbered *t = ft_xmalloc((k + 1) * sizeof *t);
    size_t m = 0;
    cJSON *it;
    int rc = R_KEPT;
    cJSON_ArrayForEach(it, chat) {
        char *end;
        long n = it->string && !strncmp(it->string, "turn_", 5) ? strtol(it->string + 5, &end, 10) : 0;
        if (n <= 0 || *end || !cJSON_IsObject(it)) {
            rc = fail(r, R_BAD_RECORD, "'chat' has an unexpected entry '%.40s'", it->string ? it->string : "");
            goto out;
        }
        t[m].n = n, t[m].turn = it, m++;
    }
    qsort(t, m, sizeof *t, cmp_numbered);
    for (size_t i = 0; i < m; i++) {
        if (i && t[i].n == t[i - 1].n) {
            rc = fail(r, R_BAD_RECORD, "'chat' has turn_%ld twice", t[i].n);
            goto out;
        }
        cJSON *hi = cJSON_GetObjectItemCaseSensitive(t[i].turn, "Human");
        cJSON *ai = cJSON_GetObjectItemCaseSensitive(t[i].turn, "MOSS");
        const char *h = cJSON_IsString(hi) ? hi->valuestring : NULL;
        const char *a = cJSON_IsString(ai) ? ai->valuestring : NULL;
        if (!h || !a) {
            rc = fail(r, R_BAD_RECORD, "turn_%ld has no string '%s'", t[i].n, h ? "MOSS" : "Human");
            goto out;
        }
        const char *cmd = ft_json_str(t[i].turn, "Commands");
        const char *res = ft_json_str(t[i].turn, "Tool Responses");
        int tool = (cmd && !is_none(c, cmd)) || (res && !is_none(c, res));
        if (tool && c->o->moss_tools == MOSS_TOOLS_DROP) {
            char ex[64];
            rc = fail(r, R_TOOL_USE, "turn_%ld calls a tool: %s", t[i].n, excerpt(cmd ? cmd : res, ex, sizeof ex));
            goto out;
        }
        if (tool) r->fixes[F_TOOLS_STRIPPED]++;
        /* the texts move from the tree (which only the record's rejects line, made from the raw bytes,
         * could still want) into the conversation: cJSON allocates with malloc, as nothing here sets
         * cJSON_InitHooks */
        ft_conv_add_turn_owned(conv, hi->valuestring, strlen(h), ai->valuestring, strlen(a));
        hi->valuestring = ai->valuestring = NULL;
    }
    if (r->fixes[F_TOOLS_STRIPPED])
        for (size_t i = 0; i < 2 * conv->nturns; i++) {
            ft_turn *tn = &conv->turns[i / 2];
            ft_buf b;
            ft_buf_init(&b);
            strip_citations(tn->text[i % 2], &b);
            ft_buf_addc(&b, 0), b.len--;
            ft_conv_take_text(&tn->text[i % 2], &tn->len[i % 2], b.data, b.len);
        }
    const char *cat = ft_json_str(obj, "category"), *meta = ft_json_str(obj, "meta_instruction");
    if (cat) ft_conv_set_text(&conv->category, &conv->category_len, cat, strlen(cat));
    if (meta && c->o->keep_meta) ft_conv_set_text(&conv->system, &conv->system_len, meta, strlen(meta));
    conv->id = cJSON_DetachItemFromObjectCaseSensitive(obj, "conversation_id");
    static const char *const skip[] = {"chat", "meta_instruction", "num_turns", "category", NULL};
    static const char *const skip_keep_cat[] = {"chat", "meta_instruction", "num_turns", NULL};
    ft_conv_take_extra(conv, obj, cat ? skip : skip_keep_cat);
out:
    free(t);
    return rc;
}

static int role_of(const char *s) {
    static const char *const human[] = {"human", "user", NULL};
    static const char *const assistant[] = {"gpt", "assistant", "chatgpt", "bard", "bing", "model", NULL};
    static const char *const tool[] = {"function_call", "observation", "tool", "function", "tool_call", NULL};
    for (int i = 0; human[i]; i++) if (!strcmp(s, human[i])) return 0;
    for (int i = 0; assistant[i]; i++) if (!strcmp(s, assistant[i])) return 1;
    if (!strcmp(s, "system")) return 2;
    for (int i = 0; tool[i]; i++) if (!strcmp(s, tool[i])) return 3;
    return -1;
}

static int from_sharegpt(clean_ctx *c, cJSON *obj, ft_conv *conv, clean_result *r) {
    (void)c;
    const char *key = cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(obj, "conversations")) ? "conversations"
                                                                                             : "messages";
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsArray(arr)) return fail(r, R_BAD_RECORD, "no 'conversations' array");
    static const char *const names[] = {"human", "assistant", "system", "tool"};
    const char *pending = NULL, *sys = ft_json_str(obj, "system");
    int idx = 0;
    cJSON *m;
    cJSON_ArrayForEach(m, arr) {
        idx++;
        const char *role = ft_json_str(m, "from"), *text = ft_json_str(m, "value");
        if (!role) role = ft_json_str(m, "role");
        if (!text) text = ft_json_str(m, "content");
        if (!cJSON_IsObject(m) || !role)
            return fail(r, R_BAD_RECORD, "message %d has no string 'from' or 'role'", idx);
        int k = role_of(role);
        if (k < 0) return fail(r, R_BAD_ROLES, "message %d has unknown role '%.30s'", idx, role);
        if (k == 3) return fail(r, R_TOOL_USE, "message %d is a '%.30s' message", idx, role);
        if (!text) return fail(r, R_BAD_RECORD, "message %d has no string 'value' or 'content'", idx);
        if (k == 2) {
            if (idx != 1) return fail(r, R_BAD_ROLES, "message %d: 'system' only allowed first", idx);
            sys = text;
            continue;
        }
        int want = pending ? 1 : 0;
        if (k != want)
            return fail(r, R_BAD_ROLES, "message %d: expected a %s message, got '%.30s'", idx, names[want], role);
        if (!pending) pending = text;
        else {
            ft_conv_add_turn(conv, pending, strlen(pending), text, strlen(text));
            pending = NULL;
        }
    }
    if (pending) return fail(r, R_BAD_ROLES, "the last human message has no answer");
    if (sys) ft_conv_set_text(&conv->system, &conv->system_len, sys, strlen(sys));
    static const char *const skip[] = {"conversations", "messages", "system", NULL};
    ft_conv_take_extra(conv, obj, skip);
    return R_KEPT;
}

static int from_alpaca(clean_ctx *c, cJSON *obj, ft_conv *conv, clean_result *r) {
    (void)c;
    const char *ins = ft_json_str(obj, "instruction"), *in = ft_json_str(obj, "input");
    const char *out = ft_json_str(obj, "output"), *sys = ft_json_str(obj, "system");
    if (!ins) return fail(r, R_BAD_RECORD, "no string 'instruction'");
    if (!out) return fail(r, R_BAD_RECORD, "no string 'output'");
    cJSON *hist = cJSON_GetObjectItemCaseSensitive(obj, "history"), *h;
    if (hist && !cJSON_IsNull(hist)) {
        if (!cJSON_IsArray(hist)) return fail(r, R_BAD_RECORD, "'history' is not an array");
        int i = 0;
        cJSON_ArrayForEach(h, hist) {
            i++;
            cJSON *q = cJSON_GetArrayItem(h, 0), *a = cJSON_GetArrayItem(h, 1);
            if (!cJSON_IsArray(h) || cJSON_GetArraySize(h) != 2 || !cJSON_IsString(q) || !cJSON_IsString(a))
                return fail(r, R_BAD_RECORD, "'history' entry %d is not a [question, answer] pair", i);
        }
        cJSON_ArrayForEach(h, hist) {
            const char *q = cJSON_GetArrayItem(h, 0)->valuestring, *a = cJSON_GetArrayItem(h, 1)->valuestring;
            ft_conv_add_turn(conv, q, strlen(q), a, strlen(a));
        }
    }
    ft_buf q;
    ft_buf_init(&q);
    ft_buf_adds(&q, ins);
    if (in && *in) {
        ft_buf_addc(&q, '\n');
        ft_buf_adds(&q, in);
    }
    ft_conv_add_turn(conv, q.data, q.len, out, strlen(out));
    ft_buf_release(&q);
    if (sys) ft_conv_set_text(&conv->system, &conv->system_len, sys, strlen(sys));
    static const char *const skip[] = {"instruction", "input", "output", "history", "system", NULL};
    ft_conv_take_extra(conv, obj, skip);
    return R_KEPT;
}

static int from_firefly(clean_ctx *c, cJSON *obj, ft_conv *conv, clean_result *r) {
    (void)c;
    const char *why = NULL;
    if (ft_conv_from_json(obj, conv, &why) < 0) return fail(r, R_BAD_RECORD, "%s", why);
    return R_KEPT;
}

static int detect(const cJSON *obj) {
    if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(obj, "chat"))) return FMT_MOSS;
    if (cJSON_GetObjectItemCaseSensitive(obj, "conversation")) return FMT_FIREFLY;
    if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(obj, "conversations")) ||
        cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(obj, "messages")))
        return FMT_SHAREGPT;
    if (cJSON_GetObjectItemCaseSensitive(obj, "instruction")) return FMT_ALPACA;
    return FMT_AUTO;
}

/* --- the common tail: normalize, filter, write -------------------------------------------------- */

/* Normalizes a text of the record in place: the clean form goes to the context's scratch, then over the
 * text's own allocation (len + 1 bytes or more, see conversation.h) when it fits, which it almost
 * always does (normalization mostly removes). */
static void normalize_slot(clean_ctx *c, char **slot, size_t *len, uint32_t *fixes) {
    if (!*slot) return;
    ft_buf *b = &c->norm;
    ft_buf_clear(b);
    clean_text(c, *slot, *len, b, fixes);
    if (b->len > *len) {
        *slot = ft_xrealloc(*slot, b->len + 1);
    } else if (b->len == *len && !memcmp(b->data, *slot, b->len)) {
        return;
    }
    if (b->len) memcpy(*slot, b->data, b->len);
    (*slot)[b->len] = 0;
    *len = b->len;
}

static void finish(clean_ctx *c, ft_conv *conv, clean_result *r) {
    const clean_opts *o = c->o;
    if (conv->nturns == 0) {
        fail(r, R_NO_TURNS, "the conversation has no turns");
        return;
    }
    normalize_slot(c, &conv->category, &conv->category_len, r->fixes);
    normalize_slot(c, &conv->system, &conv->system_len, r->fixes);
    uint64_t total = 0;
    for (size_t i = 0; i < conv->nturns; i++)
        for (int k = 0; k < 2; k++) {
            ft_turn *t = &conv->turns[i];
            normalize_slot(c, &t->text[k], &t->len[k], r->fixes);
            char d[sizeof r->detail - 16];
            int why = clean_filter_message(c, t->text[k], t->len[k], k == FT_ASSISTANT, d, sizeof d);
            if (why != R_KEPT) {
                fail(r, why, "turn %zu: %s", i + 1, d);
                return;
            }
            total += c->nchars;
        }
    if (total < o->min_conv_chars) {
        fail(r, R_CONV_TOO_SHORT, "conversation has %llu characters (min %llu)", (unsigned long long)total,
             (unsigned long long)o->min_conv_chars);
        return;
    }
    if (o->max_conv_chars && total > o->max_conv_chars) {
        fail(r, R_CONV_TOO_LONG, "conversation has %llu characters (max %llu)", (unsigned long long)total,
             (unsigned long long)o->max_conv_chars);
        return;
    }
    /* room for the line at once: the texts plus their keys and a little escaping */
    size_t need = conv->category_len + conv->system_len + 256;
    for (size_t i = 0; i < conv->nturns; i++) need += conv->turns[i].len[0] + conv->turns[i].len[1] + 48;
    ft_buf_reserve(&r->out, need + need / 16);
    ft_conv_write_jsonl(conv, &r->out);
}

static const char *type_name(const cJSON *v) {
    return cJSON_IsArray(v) ? "an array" : cJSON_IsString(v) ? "a string" : cJSON_IsNumber(v) ? "a number"
           : cJSON_IsBool(v) ? "a boolean" : cJSON_IsNull(v) ? "null" : "not an object";
}

/* Replaces invalid UTF-8 in the keys and strings of a parsed tree (a document read whole was not checked
 * before parsing) with U+FFFD; returns the number of replacements, or -1 at the first one with reject. */
static long repair_tree(cJSON *v, int reject) {
    long fixed = 0;
    for (; v; v = v->next) {
        char **slot[2] = {&v->string, cJSON_IsString(v) ? &v->valuestring : NULL};
        for (int k = 0; k < 2; k++) {
            size_t n = slot[k] && *slot[k] ? strlen(*slot[k]) : 0;
            if (ft_utf8_check(n ? *slot[k] : "", n) == n) continue;
            if (reject) return -1;
            ft_buf b;
            ft_buf_init(&b);
            fixed += (long)ft_utf8_repair(*slot[k], n, &b);
            cJSON_free(*slot[k]);
            *slot[k] = b.data;
        }
        long sub = v->child ? repair_tree(v->child, reject) : 0;
        if (sub < 0) return sub;
        fixed += sub;
    }
    return fixed;
}

/* A string "category" or "system" that a format left among the extra keys becomes the record's own, so
 * it is normalized like the rest: the next tool reads those keys as text whatever the input format was. */
static void adopt_text(ft_conv *conv, const char *key, char **slot, size_t *len) {
    cJSON *v = conv->extra ? cJSON_GetObjectItemCaseSensitive(conv->extra, key) : NULL;
    if (*slot || !cJSON_IsString(v)) return;
    ft_conv_set_text(slot, len, v->valuestring, strlen(v->valuestring));
    cJSON_DeleteItemFromObjectCaseSensitive(conv->extra, key);
}

/* checked: the text v was parsed from is known to be valid UTF-8 */
static void clean_value(clean_ctx *c, cJSON *v, clean_result *r, int checked) {
    ft_conv conv;
    ft_conv_init(&conv);
    long fixed = checked ? 0 : repair_tree(v, c->o->bad_utf8 == BAD_UTF8_REJECT);
    if (fixed < 0) {
        fail(r, R_BAD_UTF8, "invalid UTF-8 in a string");
        goto out;
    }
    r->fixes[F_UTF8] += (uint32_t)fixed;
    if (!cJSON_IsObject(v)) {
        fail(r, R_BAD_RECORD, "the record is %s, not an object", type_name(v));
        goto out;
    }
    int fmt = c->o->format == FMT_AUTO ? detect(v) : c->o->format;
    int rc;
    switch (fmt) {
    case FMT_MOSS: rc = from_moss(c, v, &conv, r); break;
    case FMT_FIREFLY: rc = from_firefly(c, v, &conv, r); break;
    case FMT_SHAREGPT: rc = from_sharegpt(c, v, &conv, r); break;
    case FMT_ALPACA: rc = from_alpaca(c, v, &conv, r); break;
    default: {
        char keys[96] = "";
        size_t n = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, v) {
            if (n + strlen(it->string) + 4 >= sizeof keys) break;
            n += (size_t)snprintf(keys + n, sizeof keys - n, "%s%s", n ? ", " : "", it->string);
        }
        rc = fail(r, R_UNKNOWN_FORMAT, "no known record shape (keys: %s)", n ? keys : "none");
    }
    }
    if (rc == R_KEPT) {
        adopt_text(&conv, "category", &conv.category, &conv.category_len);
        adopt_text(&conv, "system", &conv.system, &conv.system_len);
        finish(c, &conv, r);
    }
out:
    ft_conv_release(&conv);
    cJSON_Delete(v);
}

void clean_json_value(clean_ctx *c, cJSON *v, clean_result *r) { clean_value(c, v, r, 0); }

/* Top-level values ft-clean interprets itself; everything else is carried through. */
static int interpreted(const char *key) {
    static const char *const keys[] = {"conversation", "chat", "conversations", "messages", "history", NULL};
    for (int i = 0; keys[i]; i++)
        if (!strcmp(key, keys[i])) return 1;
    return 0;
}

static int has_number(const cJSON *v) {
    if (cJSON_IsNumber(v)) return 1;
    for (const cJSON *it = v->child; it; it = it->next)
        if (has_number(it)) return 1;
    return 0;
}

/* cJSON keeps numbers as doubles: 12345678901234567890 would come back as 1.2345678901234567e+19 and 1.0
 * as 1. Carried values holding numbers are swapped for raw items with their text as written. */
/* Whether a member's number text matters: carried through, and not MOSS's num_turns (dropped). */
static int carried_number(const cJSON *obj, const cJSON *it) {
    if (interpreted(it->string) || !has_number(it)) return 0;
    return strcmp(it->string, "num_turns") || !cJSON_GetObjectItemCaseSensitive(obj, "chat");
}

static void keep_number_spelling(cJSON *obj, const char *s, size_t n) {
    if (!cJSON_IsObject(obj)) return;
    int last = -1, count = 0; /* the text is scanned only up to the last member that needs it */
    for (cJSON *it = obj->child; it; it = it->next, count++)
        if (carried_number(obj, it)) last = count;
    if (last < 0) return;
    size_t *b = ft_xmalloc(2 * (size_t)(last + 1) * sizeof *b), *e = b + last + 1;
    if (ft_json_member_spans(s, n, b, e, last + 1) == last + 1) {
        int k = 0;
        ft_buf text;
        ft_buf_init(&text);
        for (cJSON *it = obj->child, *next; it && k <= last; it = next, k++) {
            next = it->next;
            if (!carried_number(obj, it)) continue;
            ft_buf_clear(&text);
            ft_json_put_compact(&text, s + b[k], e[k] - b[k]);
            cJSON *raw = cJSON_CreateRaw(text.data);
            if (!raw) continue;
            raw->string = ft_xstrdup(it->string);
            cJSON_ReplaceItemViaPointer(obj, it, raw);
        }
        ft_buf_release(&text);
    }
    free(b);
}

void clean_json_text(clean_ctx *c, const char *s, size_t n, clean_result *r) {
    size_t bad = ft_utf8_check(s, n);
    if (bad < n) {
        if (c->o->bad_utf8 == BAD_UTF8_REJECT) {
            fail(r, R_BAD_UTF8, "invalid UTF-8 at byte %zu", bad);
            return;
        }
        ft_buf_clear(&c->raw);
        ft_buf_add(&c->raw, s, bad);
        r->fixes[F_UTF8] += (uint32_t)ft_utf8_repair(s + bad, n - bad, &c->raw);
        s = c->raw.data, n = c->raw.len;
    }
    cJSON *v;
    size_t off;
    if (ft_json_parse(s, n, &v, &off) < 0) {
        if (off >= n) fail(r, R_BAD_JSON, "truncated JSON (%zu bytes, unclosed)", n);
        else fail(r, R_BAD_JSON, "JSON syntax error at byte %zu", off);
        return;
    }
    keep_number_spelling(v, s, n);
    clean_value(c, v, r, 1);
}

void clean_csv_row(clean_ctx *c, const char *category, const char *system, const char *human,
                   const char *assistant, uint64_t row, clean_result *r) {
    ft_conv conv;
    ft_conv_init(&conv);
    const char *s[4] = {category, system, human, assistant};
    ft_buf fixed[4];
    for (int i = 0; i < 4; i++) ft_buf_init(&fixed[i]); /* all four: a reject leaves the loop early */
    for (int i = 0; i < 4; i++) {
        if (!s[i]) continue;
        size_t n = strlen(s[i]), bad = ft_utf8_check(s[i], n);
        if (bad == n) continue;
        if (c->o->bad_utf8 == BAD_UTF8_REJECT) {
            fail(r, R_BAD_UTF8, "invalid UTF-8 in column %d", i);
            goto out;
        }
        r->fixes[F_UTF8] += (uint32_t)ft_utf8_repair(s[i], n, &fixed[i]);
        s[i] = fixed[i].data;
    }
    conv.id = cJSON_CreateNumber((double)row);
    if (s[0] && *s[0]) ft_conv_set_text(&conv.category, &conv.category_len, s[0], strlen(s[0]));
    if (s[1] && *s[1]) ft_conv_set_text(&conv.system, &conv.system_len, s[1], strlen(s[1]));
    ft_conv_add_turn(&conv, s[2], strlen(s[2]), s[3], strlen(s[3]));
    finish(c, &conv, r);
out:
    for (int i = 0; i < 4; i++) ft_buf_release(&fixed[i]);
    ft_conv_release(&conv);
}
