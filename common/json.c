/* json.c: cJSON parsing with offsets, getters and a writer-side string escaper.
 * Rule: strings are escaped with a table, never char by char through printf. */
#include "json.h"

#include <limits.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* What cJSON skips as whitespace: every byte up to ' ', so the scanners agree with what it accepted. */
static int is_ws(char c) { return (unsigned char)c <= ' '; }
static int is_dig(char c) { return c >= '0' && c <= '9'; }

/* Where s[0..n) stops being JSON: the offset of the first byte that cannot continue the text, n when the
 * input ends inside a value, SIZE_MAX when it holds a whole value (cJSON failed for another reason).
 * cJSON's own error position is only approximate and never n. Lenient as cJSON is: control characters
 * in strings and leading zeros pass. Only called on the error path. */
static size_t syntax_error_offset(const char *s, size_t n) {
    enum { VALUE, FIRST_VALUE, KEY, FIRST_KEY, COLON, AFTER } st = VALUE;
    char nest[1000];
    size_t depth = 0, i = 0;
    for (;;) {
        while (i < n && is_ws(s[i])) i++;
        if (i >= n) return st == AFTER && depth == 0 ? SIZE_MAX : n;
        char c = s[i];
        if (st == AFTER) {
            if (depth == 0) return i;
            char close = nest[depth - 1] == '[' ? ']' : '}';
            if (c == close) depth--, i++;
            else if (c == ',') st = nest[depth - 1] == '[' ? VALUE : KEY, i++;
            else return i;
            continue;
        }
        if (st == COLON) {
            if (c != ':') return i;
            st = VALUE, i++;
            continue;
        }
        if ((st == FIRST_VALUE && c == ']') || (st == FIRST_KEY && c == '}')) {
            depth--, i++, st = AFTER;
            continue;
        }
        if ((st == KEY || st == FIRST_KEY) && c != '"') return i;
        int key = st == KEY || st == FIRST_KEY;
        st = key ? COLON : AFTER;
        if (c == '{' || c == '[') {
            if (depth == sizeof nest) return i;
            nest[depth++] = c, i++;
            st = c == '{' ? FIRST_KEY : FIRST_VALUE;
        } else if (c == '"') {
            for (i++;; i++) {
                if (i >= n) return n;
                if (s[i] == '"') break;
                if (s[i] != '\\') continue;
                if (++i >= n) return n;
                if (s[i] == 'u') {
                    for (int k = 0; k < 4; k++) {
                        if (++i >= n) return n;
                        char h = s[i];
                        if (!is_dig(h) && !((h | 32) >= 'a' && (h | 32) <= 'f')) return i;
                    }
                } else if (!memchr("\"\\/bfnrt", s[i], 8)) {
                    return i;
                }
            }
            i++;
        } else if (c == '-' || is_dig(c)) {
            if (c == '-' && ++i >= n) return n;
            if (!is_dig(s[i])) return i;
            while (i < n && is_dig(s[i])) i++;
            if (i < n && s[i] == '.') {
                if (++i >= n) return n;
                if (!is_dig(s[i])) return i;
                while (i < n && is_dig(s[i])) i++;
            }
            if (i < n && (s[i] | 32) == 'e') {
                if (++i < n && (s[i] == '+' || s[i] == '-')) i++;
                if (i >= n) return n;
                if (!is_dig(s[i])) return i;
                while (i < n && is_dig(s[i])) i++;
            }
        } else {
            const char *lit = c == 't' ? "true" : c == 'f' ? "false" : c == 'n' ? "null" : NULL;
            if (!lit) return i;
            for (size_t k = 0; lit[k]; k++, i++) {
                if (i >= n) return n;
                if (s[i] != lit[k]) return i;
            }
        }
    }
}

/* --- a fast parser for ordinary JSON ------------------------------------------------------------
 * It builds exactly the tree cJSON_ParseWithLengthOpts builds (nodes and strings from cJSON_malloc, the
 * first child's prev pointing at the last, keys in string, true with valueint 1, numbers through strtod
 * with cJSON's saturating valueint), with strings found and copied many bytes at a time. It gives up on
 * anything that is not plain RFC 8259 JSON (other whitespace, a BOM, a number over 63 characters, a \u
 * escape that is not 4 hex digits or is U+0000 or a broken surrogate, nesting past 512) and on every
 * error: the caller then asks cJSON itself, so results and error offsets are always cJSON's. */
typedef struct {
    const unsigned char *s;
    size_t n, i;
    int depth;
} jparser;

#define JP_MAX_DEPTH 512

static cJSON *jp_node(void) {
    cJSON *v = cJSON_malloc(sizeof *v);
    if (v) *v = (cJSON){0};
    return v;
}

static void jp_ws(jparser *p) {
    const unsigned char *s = p->s;
    while (p->i < p->n && (s[p->i] == ' ' || s[p->i] == '\n' || s[p->i] == '\r' || s[p->i] == '\t')) p->i++;
}

static int jp_hex4(const unsigned char *h, unsigned *out) {
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        unsigned c = h[k], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if ((c | 32) >= 'a' && (c | 32) <= 'f') d = (c | 32) - 'a' + 10;
        else return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

/* Offset of the first '"' or '\\' at or after i (n if none), 16 bytes at a time with GCC/Clang vector
 * extensions (SSE2 on x86-64, NEON on ARM, plain code elsewhere). */
typedef unsigned char jp_v16 __attribute__((vector_size(16)));

static size_t jp_special(const unsigned char *s, size_t n, size_t i) {
    jp_v16 quote, bslash;
    memset(&quote, '"', sizeof quote);
    memset(&bslash, '\\', sizeof bslash);
    for (; __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && i + 16 <= n; i += 16) {
        jp_v16 w, m;
        memcpy(&w, s + i, 16);
        m = (jp_v16)((w == quote) | (w == bslash));
        uint64_t lo, hi;
        memcpy(&lo, &m, 8);
        memcpy(&hi, (const char *)&m + 8, 8);
        if (lo) return i + ((size_t)__builtin_ctzll(lo) >> 3);
        if (hi) return i + 8 + ((size_t)__builtin_ctzll(hi) >> 3);
    }
    while (i < n && s[i] != '"' && s[i] != '\\') i++;
    return i;
}

/* A string at p->i (on its opening quote); returns the new NUL-terminated text or NULL. */
static char *jp_string(jparser *p) {
    const unsigned char *s = p->s;
    size_t start = p->i + 1, i = start, esc = 0, at[64]; /* at: where the first escapes are */
    /* the closing quote, as cJSON finds it: a backslash always takes the next byte with it */
    for (;;) {
        i = jp_special(s, p->n, i);
        if (i >= p->n) return NULL;
        if (s[i] == '"') break;
        if (i + 1 >= p->n) return NULL;
        if (esc < 64) at[esc] = i;
        esc++;
        i += 2;
    }
    size_t end = i;
    char *out = cJSON_malloc(end - start + 1);
    if (!out) return NULL;
    if (!esc) {
        memcpy(out, s + start, end - start);
        out[end - start] = 0;
        p->i = end + 1;
        return out;
    }
    size_t o = 0, x = 0;
    i = start;
    while (i < end) {
        while (x < esc && x < 64 && at[x] < i) x++; /* the second half of a surrogate pair was used */
        size_t j = x < esc && x < 64 ? at[x] : jp_special(s, end, i);
        memcpy(out + o, s + i, j - i);
        o += j - i;
        if (j >= end) break;
        unsigned char e = s[j + 1];
        i = j + 2;
        switch (e) {
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case '"':
        case '\\':
        case '/': out[o++] = (char)e; break;
        case 'u': {
            unsigned cp, lo;
            if (end - j < 6 || jp_hex4(s + j + 2, &cp) < 0 || cp == 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
                goto fail;
            i = j + 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (end - i < 6 || s[i] != '\\' || s[i + 1] != 'u' || jp_hex4(s + i + 2, &lo) < 0 ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    goto fail;
                cp = 0x10000 + (((cp & 0x3FF) << 10) | (lo & 0x3FF));
                i += 6;
            }
            if (cp < 0x80) {
                out[o++] = (char)cp;
            } else if (cp < 0x800) {
                out[o++] = (char)(0xC0 | (cp >> 6));
                out[o++] = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                out[o++] = (char)(0xE0 | (cp >> 12));
                out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                out[o++] = (char)(0x80 | (cp & 0x3F));
            } else {
                out[o++] = (char)(0xF0 | (cp >> 18));
                out[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
                out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                out[o++] = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default: goto fail;
        }
    }
    out[o] = 0;
    p->i = end + 1;
    return out;
fail:
    cJSON_free(out);
    return NULL;
}

/* An RFC 8259 number at p->i, converted as cJSON converts it. */
static int jp_number(jparser *p, cJSON *v) {
    const unsigned char *s = p->s;
    size_t i = p->i, n = p->n;
    if (i < n && s[i] == '-') i++;
    if (i >= n || s[i] < '0' || s[i] > '9') return -1;
    if (s[i] == '0') i++;
    else while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9') return -1;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= n || s[i] < '0' || s[i] > '9') return -1;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    }
    size_t len = i - p->i;
    /* cJSON takes every following [0-9+-eE.] into the number: stop where it would too */
    if (len > 63 || (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' || s[i] == 'e' ||
                               s[i] == 'E' || s[i] == '.')))
        return -1;
    char buf[64], *after;
    char point = *localeconv()->decimal_point;
    for (size_t k = 0; k < len; k++) buf[k] = s[p->i + k] == '.' ? point : (char)s[p->i + k];
    buf[len] = 0;
    double d = strtod(buf, &after);
    if ((size_t)(after - buf) != len) return -1;
    v->valuedouble = d;
    v->valueint = d >= INT_MAX ? INT_MAX : d <= (double)INT_MIN ? INT_MIN : (int)d;
    v->type = cJSON_Number;
    p->i = i;
    return 0;
}

static int jp_value(jparser *p, cJSON *v);

/* The members of an array or object at p->i (on its bracket) as v's children. */
static int jp_container(jparser *p, cJSON *v, int object) {
    if (++p->depth > JP_MAX_DEPTH) return -1;
    unsigned char close = object ? '}' : ']';
    p->i++;
    jp_ws(p);
    cJSON *head = NULL, *last = NULL;
    v->type = object ? cJSON_Object : cJSON_Array;
    if (p->i < p->n && p->s[p->i] == close) goto done;
    for (;;) {
        cJSON *it = jp_node();
        if (!it) return -1;
        if (!head) head = it, v->child = it;
        else last->next = it, it->prev = last;
        last = it;
        head->prev = last; /* kept current, so a failure leaves a list cJSON_Delete can free */
        if (object) {
            if (p->i >= p->n || p->s[p->i] != '"' || !(it->string = jp_string(p))) return -1;
            jp_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':') return -1;
            p->i++;
            jp_ws(p);
        }
        if (jp_value(p, it) < 0) return -1;
        jp_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            jp_ws(p);
            continue;
        }
        if (p->i < p->n && p->s[p->i] == close) break;
        return -1;
    }
done:
    p->i++;
    p->depth--;
    return 0;
}

static int jp_value(jparser *p, cJSON *v) {
    const unsigned char *s = p->s + p->i;
    size_t left = p->n - p->i;
    if (!left) return -1;
    switch (*s) {
    case '"':
        if (!(v->valuestring = jp_string(p))) return -1;
        v->type = cJSON_String;
        return 0;
    case '{': return jp_container(p, v, 1);
    case '[': return jp_container(p, v, 0);
    case 'n':
        if (left < 4 || memcmp(s, "null", 4)) return -1;
        v->type = cJSON_NULL, p->i += 4;
        return 0;
    case 'f':
        if (left < 5 || memcmp(s, "false", 5)) return -1;
        v->type = cJSON_False, p->i += 5;
        return 0;
    case 't':
        if (left < 4 || memcmp(s, "true", 4)) return -1;
        v->type = cJSON_True, v->valueint = 1, p->i += 4;
        return 0;
    default: return jp_number(p, v);
    }
}

/* Returns the tree and the offset just past the value, or NULL. */
static cJSON *jp_parse(const char *s, size_t n, size_t *end) {
    jparser p = {(const unsigned char *)s, n, 0, 0};
    jp_ws(&p);
    cJSON *v = jp_node();
    if (!v) return NULL;
    if (jp_value(&p, v) < 0) {
        cJSON_Delete(v);
        return NULL;
    }
    *end = p.i;
    return v;
}

int ft_json_parse(const char *s, size_t n, cJSON **out, size_t *err_off) {
    size_t i = 0;
    cJSON *v = jp_parse(s, n, &i);
    if (!v) { /* not plain JSON, or not JSON: cJSON decides */
        const char *end = NULL;
        v = cJSON_ParseWithLengthOpts(s, n, &end, 0);
        if (!v) {
            if (err_off) {
                size_t e = syntax_error_offset(s, n);
                *err_off = e != SIZE_MAX ? e : end && end >= s && end <= s + n ? (size_t)(end - s) : n;
            }
            return FT_EPARSE;
        }
        i = end ? (size_t)(end - s) : n;
    }
    /* Only whitespace may follow the value. */
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) i++;
    if (i < n && s[i] != 0) {
        cJSON_Delete(v);
        if (err_off) *err_off = i;
        return FT_EPARSE;
    }
    *out = v;
    return 0;
}

const char *ft_json_str(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* 0 = copy, 1 = short escape in esc_char, 2 = \u00XX */
static const unsigned char esc_kind[256] = {
    2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

void ft_json_put_string(ft_buf *out, const char *s, size_t n) {
    ft_buf_reserve(out, n + 2);
    out->data[out->len++] = '"';
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        /* 16 bytes at a time while none is a control, '"' or '\\' */
        jp_v16 sp, quote, bslash;
        memset(&sp, 0x20, 16), memset(&quote, '"', 16), memset(&bslash, '\\', 16);
        for (; j + 16 <= n; j += 16) {
            jp_v16 w, m;
            memcpy(&w, s + j, 16);
            m = (jp_v16)((w < sp) | (w == quote) | (w == bslash));
            uint64_t h[2];
            memcpy(h, &m, 16);
            if (h[0] | h[1]) break;
        }
        while (j < n && !esc_kind[(unsigned char)s[j]]) j++;
        ft_buf_add(out, s + i, j - i);
        if (j >= n) break;
        unsigned char c = (unsigned char)s[j];
        if (esc_kind[c] == 1) {
            char e[2] = {'\\', 0};
            switch (c) {
            case '"': e[1] = '"'; break;
            case '\\': e[1] = '\\'; break;
            case '\b': e[1] = 'b'; break;
            case '\t': e[1] = 't'; break;
            case '\n': e[1] = 'n'; break;
            case '\f': e[1] = 'f'; break;
            default: e[1] = 'r'; break;
            }
            ft_buf_add(out, e, 2);
        } else {
            static const char hex[] = "0123456789abcdef";
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            ft_buf_add(out, e, 6);
        }
        i = j + 1;
    }
    ft_buf_addc(out, '"');
}

int ft_json_put_value(ft_buf *out, const cJSON *v) {
    if (cJSON_IsString(v)) {
        ft_json_put_string(out, v->valuestring, strlen(v->valuestring));
        return 0;
    }
    char *p = cJSON_PrintUnformatted(v);
    if (!p) return FT_ENOMEM;
    ft_buf_adds(out, p);
    cJSON_free(p);
    return 0;
}

/* Past the string whose opening quote is at s[i], as a byte-at-a-time scan in which a backslash takes
 * the next byte with it would find it (n + 1, or n + 2 after a dangling backslash, when the text ends
 * inside it): a quote ends the string when an even run of backslashes comes before it, as they pair up
 * from the first one. */
static size_t skip_string(const char *s, size_t n, size_t i) {
    size_t from = i + 1;
    for (size_t at = from;;) {
        const char *q = memchr(s + at, '"', n - at);
        size_t e = q ? (size_t)(q - s) : n, b = e;
        while (b > from && s[b - 1] == '\\') b--;
        if ((e - b) % 2 == 0) return q ? e + 1 : n + 1;
        if (!q) return n + 2;
        at = e + 1;
    }
}

/* End of the JSON value that starts at s[i] (the text is known to be valid JSON). */
static size_t skip_value(const char *s, size_t n, size_t i) {
    int depth = 0;
    do {
        char c = s[i];
        if (c == '"') {
            i = skip_string(s, n, i);
        } else if (c == '{' || c == '[') {
            depth++, i++;
        } else if (c == '}' || c == ']') {
            depth--, i++;
        } else if (is_ws(c) || c == ',' || c == ':') {
            i++;
        } else {
            while (i < n && !is_ws(s[i]) && !memchr(",:]}", s[i], 4)) i++;
        }
    } while (depth > 0 && i < n);
    return i;
}

int ft_json_member_spans(const char *s, size_t n, size_t *begin, size_t *end, int max) {
    size_t i = 0;
    while (i < n && is_ws(s[i])) i++;
    if (i >= n || s[i] != '{') return -1;
    i++;
    int k = 0;
    for (;;) {
        while (i < n && (is_ws(s[i]) || s[i] == ',')) i++;
        if (i >= n || s[i] != '"') return k;
        i = skip_value(s, n, i); /* the key */
        while (i < n && (is_ws(s[i]) || s[i] == ':')) i++;
        if (i >= n) return k;
        size_t e = skip_value(s, n, i);
        begin[k] = i, end[k] = e;
        if (++k == max) return k;
        i = e;
    }
}

void ft_json_put_compact(ft_buf *out, const char *s, size_t n) {
    size_t i = 0, from = 0;
    while (i < n) {
        char c = s[i];
        if (c == '"') {
            for (i++; i < n && s[i] != '"'; i++) {
                if (s[i] == '\\') i++;
                else if ((unsigned char)s[i] < ' ') { /* cJSON lets raw controls into strings, JSON does not */
                    ft_buf_add(out, s + from, i - from);
                    ft_buf_addf(out, "\\u%04x", (unsigned char)s[i]);
                    from = i + 1;
                }
            }
            i++;
        } else if (is_ws(c)) {
            ft_buf_add(out, s + from, i - from);
            while (i < n && is_ws(s[i])) i++;
            from = i;
        } else {
            i++;
        }
    }
    ft_buf_add(out, s + from, (i < n ? i : n) - from);
}
