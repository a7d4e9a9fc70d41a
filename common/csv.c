/* csv.c: RFC 4180 record splitting on top of the line reader.
 * Rule: a record is built from whole lines; a quoted field that reaches the end of a line pulls the next
 * one in, so memory is bounded by the longest record. A bare quote inside an unquoted field is kept as
 * text (as most producers mean it); text after a closing quote is an error. */
#include "csv.h"

#include <stdlib.h>
#include <string.h>

#include "ft.h"

struct ft_csv {
    ft_lines *lines;
    char delim;
    int started;
    ft_buf raw, fields;
    size_t *off, *len;
    const char **ptr;
    size_t cap;
    const char *err;
};

ft_csv *ft_csv_new(ft_lines *lines, char delim) {
    ft_csv *c = ft_xmalloc(sizeof *c);
    memset(c, 0, sizeof *c);
    c->lines = lines;
    c->delim = delim;
    return c;
}

void ft_csv_free(ft_csv *c) {
    if (!c) return;
    ft_buf_release(&c->raw);
    ft_buf_release(&c->fields);
    free(c->off), free(c->len), free(c->ptr);
    free(c);
}

const char *ft_csv_error(const ft_csv *c) { return c->err ? c->err : "no error"; }

static void end_field(ft_csv *c, size_t start, size_t *n) {
    if (*n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->off = ft_xrealloc(c->off, c->cap * sizeof *c->off);
        c->len = ft_xrealloc(c->len, c->cap * sizeof *c->len);
        c->ptr = ft_xrealloc(c->ptr, c->cap * sizeof *c->ptr);
    }
    c->off[*n] = start;
    c->len[*n] = c->fields.len - start;
    ft_buf_addc(&c->fields, 0);
    (*n)++;
}

static int next_line(ft_csv *c, const char **s, size_t *n) {
    int rc = ft_lines_next(c->lines, s, n);
    if (rc == 1 && !c->started) {
        c->started = 1;
        if (*n >= 3 && !memcmp(*s, "\xEF\xBB\xBF", 3)) *s += 3, *n -= 3;
    }
    return rc;
}

int ft_csv_next(ft_csv *c, ft_csv_record *rec) {
    const char *s;
    size_t n;
    int rc;
    do {
        rc = next_line(c, &s, &n);
        if (rc <= 0 || rc == FT_ETOOBIG) {
            if (rc == FT_ETOOBIG) {
                rec->raw = s, rec->raw_len = n, rec->lineno = ft_lines_lineno(c->lines), rec->nfields = 0;
            }
            return rc;
        }
    } while (n == 0 || (n == 1 && s[0] == '\r'));
    ft_buf_clear(&c->raw);
    ft_buf_clear(&c->fields);
    ft_buf_add(&c->raw, s, n);
    rec->lineno = ft_lines_lineno(c->lines);
    c->err = NULL;
    size_t nf = 0, i = 0, start = 0;
    const char d = c->delim;
    for (;;) {
        /* at the start of a field */
        start = c->fields.len;
        if (i < n && s[i] == '"') {
            i++;
            for (;;) {
                const char *q = i < n ? memchr(s + i, '"', n - i) : NULL;
                if (!q) { /* the field goes on past this line */
                    ft_buf_add(&c->fields, s + i, n - i);
                    ft_buf_addc(&c->fields, '\n');
                    rc = next_line(c, &s, &n);
                    if (rc == FT_ETOOBIG || rc < 0) { /* describe the record, as for its first line */
                        rec->nfields = 0, rec->raw = c->raw.data;
                        rec->raw_len = c->raw.len + (rc == FT_ETOOBIG ? 1 + n : 0);
                        return rc;
                    }
                    if (rc == 0) {
                        c->err = "unterminated quoted field at end of input";
                        goto bad;
                    }
                    ft_buf_addc(&c->raw, '\n');
                    ft_buf_add(&c->raw, s, n);
                    i = 0;
                    continue;
                }
                size_t k = (size_t)(q - s);
                ft_buf_add(&c->fields, s + i, k - i);
                i = k + 1;
                if (i < n && s[i] == '"') { /* doubled quote */
                    ft_buf_addc(&c->fields, '"');
                    i++;
                    continue;
                }
                break;
            }
            end_field(c, start, &nf);
            if (i == n || (i + 1 == n && s[i] == '\r')) break;
            if (s[i] != d) {
                c->err = "unexpected text after a closing quote";
                goto bad;
            }
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && s[j] != d) j++;
        size_t e = j;
        if (j == n && e > i && s[e - 1] == '\r') e--;
        ft_buf_add(&c->fields, s + i, e - i);
        end_field(c, start, &nf);
        if (j == n) break;
        i = j + 1;
    }
    for (size_t k = 0; k < nf; k++) c->ptr[k] = c->fields.data + c->off[k];
    rec->nfields = nf;
    rec->field = c->ptr;
    rec->len = c->len;
    rec->raw = c->raw.data;
    rec->raw_len = c->raw.len;
    return 1;
bad:
    rec->nfields = 0;
    rec->raw = c->raw.data;
    rec->raw_len = c->raw.len;
    return FT_EPARSE;
}
