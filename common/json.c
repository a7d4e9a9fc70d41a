/* json.c: cJSON parsing with offsets, getters and a writer-side string escaper.
 * Rule: strings are escaped with a table, never char by char through printf. */
#include "json.h"

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

int ft_json_parse(const char *s, size_t n, cJSON **out, size_t *err_off) {
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(s, n, &end, 0);
    if (!v) {
        if (err_off) {
            size_t e = syntax_error_offset(s, n);
            *err_off = e != SIZE_MAX ? e : end && end >= s && end <= s + n ? (size_t)(end - s) : n;
        }
        return FT_EPARSE;
    }
    /* Only whitespace may follow the value. */
    size_t i = end ? (size_t)(end - s) : n;
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

int ft_json_truncated(const char *s, size_t n) {
    int depth = 0, in_str = 0, any = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = 0;
            continue;
        }
        if (c == '"') in_str = 1, any = 1;
        else if (c == '{' || c == '[') depth++, any = 1;
        else if (c == '}' || c == ']') {
            if (--depth < 0) return 0;
        } else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') any = 1;
    }
    return any && (in_str || depth > 0);
}

/* End of the JSON value that starts at s[i] (the text is known to be valid JSON). */
static size_t skip_value(const char *s, size_t n, size_t i) {
    int depth = 0;
    do {
        char c = s[i];
        if (c == '"') {
            for (i++; i < n && s[i] != '"'; i++)
                if (s[i] == '\\') i++;
            i++;
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
        if (k < max) begin[k] = i, end[k] = e;
        k++;
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
