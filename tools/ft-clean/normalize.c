/* normalize.c: per-message text normalization for ft-clean.
 * Rule: each step is one pass from one scratch buffer to the other and reports whether it changed
 * anything; code fences (``` or ~~~) are left alone by every step that could damage code. */
#include <opencc/opencc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clean.h"
#include "utf8.h"

void *clean_opencc_open(const char *config) {
    opencc_t h = opencc_open(config);
    return h == (opencc_t)-1 ? NULL : h;
}

void clean_opencc_close(void *h) {
    if (h) opencc_close(h);
}

clean_ctx *clean_ctx_new(const clean_opts *o, const char **err) {
    clean_ctx *c = ft_xmalloc(sizeof *c);
    memset(c, 0, sizeof *c);
    c->o = o;
    if (o->t2s) {
        c->opencc = clean_opencc_open(o->t2s_config);
        if (!c->opencc) {
            free(c);
            *err = "cannot load the OpenCC configuration (is libopencc-data installed?)";
            return NULL;
        }
    }
    return c;
}

void clean_ctx_free(clean_ctx *c) {
    if (!c) return;
    clean_opencc_close(c->opencc);
    ft_buf_release(&c->a), ft_buf_release(&c->b), ft_buf_release(&c->raw), ft_buf_release(&c->norm);
    free(c->cps), free(c->ends), free(c->seen), free(c->tab), free(c->slots), free(c->hist);
    free(c);
}

/* --- MOSS markers ------------------------------------------------------------------------------- */

static const struct {
    const char *s;
    size_t n;
} markers[] = {
#define M(x) {x, sizeof(x) - 1}
    M("<|Human|>"), M("<|MOSS|>"), M("<|Inner Thoughts|>"), M("<|Commands|>"), M("<|Results|>"),
    M("<eoh>"),     M("<eom>"),    M("<eot>"),              M("<eoc>"),        M("<eor>"),
#undef M
};

/* Every marker ends at its only '>': text is appended up to each '>' and the end of out is compared with
 * the markers, so removing one cannot leave another made of the text around it ("<eo<eoh>h>"). */
size_t clean_strip_markers(const char *s, size_t n, ft_buf *out) {
    size_t removed = 0, i = 0, base = out->len;
    ft_buf_reserve(out, n);
    while (i < n) {
        const char *gt = memchr(s + i, '>', n - i);
        size_t e = gt ? (size_t)(gt - s) + 1 : n;
        ft_buf_add(out, s + i, e - i);
        i = e;
        for (size_t k = 0; gt && k < sizeof markers / sizeof *markers; k++) {
            size_t m = markers[k].n;
            if (out->len - base < m || memcmp(out->data + out->len - m, markers[k].s, m)) continue;
            out->len -= m;
            out->data[out->len] = 0;
            if (markers[k].s[1] == '|' && i < n && s[i] == ':') /* "<|Human|>: text" */
                i += i + 1 < n && s[i + 1] == ' ' ? 2 : 1;
            removed++;
            break;
        }
    }
    return removed;
}

/* --- characters --------------------------------------------------------------------------------- */

static int is_space_cp(int32_t cp) {
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\v' || cp == '\f' || cp == 0xA0 ||
           cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* Removed outright: C0/C1 controls but tab and newline, and invisible characters that carry no text:
 * zero width space, word joiner, BOM / zero width no-break space, Mongolian vowel separator, soft hyphen.
 * ZWJ and ZWNJ stay: emoji sequences and several scripts need them. */
static int is_removed_cp(int32_t cp) {
    return (cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7F && cp <= 0x9F) || cp == 0x200B ||
           cp == 0x2060 || cp == 0xFEFF || cp == 0x180E || cp == 0xAD;
}

/* Controls out, CR/CRLF/U+2028/U+2029 to LF, into out; returns 1 if anything changed (out is left alone
 * when nothing did). */
static int pass_controls(const char *s, size_t n, ft_buf *out) {
    int changed = 0;
    size_t i = 0, from = 0; /* s[from, i) is unchanged text not yet copied (copied only once a change is) */
    const unsigned char *u = (const unsigned char *)s;
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    while (i < n) {
        if (n - i >= 16) { /* 16 printable ASCII bytes at a time */
            uint64_t w[2];
            memcpy(w, u + i, 16);
            uint64_t bad = (w[0] - ones * 0x20) | (w[0] + ones) | w[0];
            bad |= (w[1] - ones * 0x20) | (w[1] + ones) | w[1];
            if (!(bad & highs)) { /* no byte < 0x20 or >= 0x7F */
                i += 16;
                continue;
            }
        }
        unsigned char ch = u[i];
        if (ch >= 0x20 && ch < 0x7F) {
            i++;
            continue;
        }
        if (ch == '\n' || ch == '\t') {
            i++;
            continue;
        }
        /* a run of well-formed 2- and 3-byte sequences of code points this pass never touches, without
         * decoding: C3..DF (U+00C0..U+07FF), E3..EC and EE (U+3000..U+CFFF, U+E000..U+EFFF) */
        size_t at = i;
        for (;;) {
            ch = i < n ? u[i] : 0;
            if (ch >= 0xC3 && ch <= 0xDF && n - i >= 2 && (u[i + 1] & 0xC0) == 0x80) i += 2;
            else if (((ch >= 0xE3 && ch <= 0xEC) || ch == 0xEE) && n - i >= 3 && (u[i + 1] & 0xC0) == 0x80 &&
                     (u[i + 2] & 0xC0) == 0x80)
                i += 3;
            else break;
        }
        if (i > at) continue;
        int32_t cp = ch;
        int l = ch < 0x80 ? 1 : ft_utf8_decode(s + i, n - i, &cp);
        if (ch == '\r' || cp == 0x2028 || cp == 0x2029) {
            ft_buf_add(out, s + from, i - from);
            i += (size_t)l;
            if (ch == '\r' && i < n && s[i] == '\n') i++;
            ft_buf_addc(out, '\n');
            from = i;
            changed = 1;
            continue;
        }
        if (is_removed_cp(cp)) {
            ft_buf_add(out, s + from, i - from);
            i += (size_t)l;
            from = i;
            changed = 1;
            continue;
        }
        i += (size_t)l;
    }
    if (changed) ft_buf_add(out, s + from, n - from);
    return changed;
}

/* Calls fn on each maximal run of lines outside (code = 0) or inside (code = 1) fenced code blocks. */
typedef void (*segment_fn)(clean_ctx *c, const char *s, size_t n, int code, ft_buf *out, int *changed);

static int is_fence(const char *s, size_t n) {
    size_t i = 0;
    while (i < n && i < 3 && s[i] == ' ') i++;
    return n - i >= 3 && (!memcmp(s + i, "```", 3) || !memcmp(s + i, "~~~", 3));
}

/* Offset of the first '\n' at or after i, or n: 16 bytes at a time with GCC/Clang vector extensions,
 * inline as lines are short. */
typedef unsigned char nl_v16 __attribute__((vector_size(16)));

static inline size_t next_nl(const char *s, size_t n, size_t i) {
    nl_v16 nl;
    memset(&nl, '\n', sizeof nl);
    for (; __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && i + 16 <= n; i += 16) {
        nl_v16 w, m;
        memcpy(&w, s + i, 16);
        m = (nl_v16)(w == nl);
        uint64_t h[2];
        memcpy(h, &m, 16);
        if (h[0]) return i + ((size_t)__builtin_ctzll(h[0]) >> 3);
        if (h[1]) return i + 8 + ((size_t)__builtin_ctzll(h[1]) >> 3);
    }
    while (i < n && s[i] != '\n') i++;
    return i;
}

static int for_segments(clean_ctx *c, const char *s, size_t n, ft_buf *out, segment_fn fn) {
    int changed = 0, code = 0;
    size_t seg = 0, i = 0;
    if (!memchr(s, '`', n) && !memchr(s, '~', n)) i = n; /* no fence anywhere: one segment */
    while (i < n) {
        size_t e = next_nl(s, n, i);
        e = e < n ? e + 1 : n;
        if (is_fence(s + i, e - i)) {
            /* the fence line belongs to the code segment it opens or closes */
            size_t cut = code ? e : i;
            if (cut > seg) fn(c, s + seg, cut - seg, code, out, &changed);
            seg = cut;
            code = !code;
        }
        i = e;
    }
    if (n > seg) fn(c, s + seg, n - seg, code, out, &changed);
    return changed;
}

static void seg_halfwidth(clean_ctx *c, const char *s, size_t n, int code, ft_buf *out, int *changed) {
    (void)c;
    if (code) {
        ft_buf_add(out, s, n);
        return;
    }
    size_t i = 0, from = 0;
    while (i < n) {
        unsigned char ch = (unsigned char)s[i];
        if (ch != 0xEF && ch != 0xE3) {
            i++;
            continue;
        }
        int32_t cp;
        int l = ft_utf8_decode(s + i, n - i, &cp);
        if ((cp >= 0xFF01 && cp <= 0xFF5E) || cp == 0x3000) {
            ft_buf_add(out, s + from, i - from);
            ft_buf_addc(out, cp == 0x3000 ? ' ' : (char)(cp - 0xFEE0));
            *changed = 1;
            from = i + (size_t)l;
        }
        i += (size_t)l;
    }
    ft_buf_add(out, s + from, n - from);
}

static void seg_t2s(clean_ctx *c, const char *s, size_t n, int code, ft_buf *out, int *changed) {
    if (code || !c->opencc || n == 0) {
        ft_buf_add(out, s, n);
        return;
    }
    char *r = opencc_convert_utf8(c->opencc, s, n);
    if (!r) {
        ft_buf_add(out, s, n);
        return;
    }
    size_t m = strlen(r);
    if (m != n || memcmp(r, s, n)) *changed = 1;
    ft_buf_add(out, r, m);
    opencc_convert_utf8_free(r);
}

/* Length of the whitespace-only prefix of a line [s, e): returns 1 if the whole line is blank. */
static int line_blank(const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x80) {
            if (!is_space_cp(ch)) return 0;
            i++;
            continue;
        }
        int32_t cp;
        int l = ft_utf8_decode(s + i, n - i, &cp);
        if (!is_space_cp(cp)) return 0;
        i += (size_t)l;
    }
    return 1;
}

/* Two or more blank lines in a row become one empty line (outside code). */
static void seg_blank_lines(clean_ctx *c, const char *s, size_t n, int code, ft_buf *out, int *changed) {
    (void)c;
    if (code) {
        ft_buf_add(out, s, n);
        return;
    }
    size_t i = 0, from = 0; /* s[from, i) is still to be copied */
    while (i < n) {
        unsigned char ch = (unsigned char)s[i];
        if (!(ch == ' ' || (ch >= '\t' && ch <= '\r') || ch == 0xC2 || (ch >= 0xE1 && ch <= 0xE3))) {
            /* the line does not start with a space (see is_space_cp): not blank, on to the next */
            i = next_nl(s, n, i) + 1;
            continue;
        }
        const char *nl = memchr(s + i, '\n', n - i);
        if (!nl) break;
        size_t e = (size_t)(nl - s) + 1;
        if (line_blank(s + i, e - i - 1)) {
            /* count the run of blank lines starting here */
            size_t j = e, runs = 1;
            while (j < n) {
                const char *nl2 = memchr(s + j, '\n', n - j);
                if (!nl2 || !line_blank(s + j, (size_t)(nl2 - (s + j)))) break;
                j = (size_t)(nl2 - s) + 1;
                runs++;
            }
            if (runs >= 2) {
                ft_buf_add(out, s + from, i - from);
                ft_buf_addc(out, '\n');
                *changed = 1;
                i = from = j;
                continue;
            }
        }
        i = e;
    }
    ft_buf_add(out, s + from, n - from);
}

/* Trims whitespace around the text. Returns 1 if anything was removed. */
static int trim(const char **ps, size_t *pn) {
    const char *s = *ps;
    size_t n = *pn, b = 0, e = n;
    while (b < e) {
        int32_t cp;
        int l = ft_utf8_decode(s + b, e - b, &cp);
        if (!is_space_cp(cp)) break;
        b += (size_t)l;
    }
    while (e > b) {
        size_t k = e - 1;
        while (k > b && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
        int32_t cp;
        ft_utf8_decode(s + k, e - k, &cp);
        if (!is_space_cp(cp)) break;
        e = k;
    }
    *ps = s + b;
    *pn = e - b;
    return b != 0 || e != n;
}

#define SWAP(x, y)                                                                                       \
    do {                                                                                                 \
        ft_buf *t_ = x;                                                                                  \
        x = y;                                                                                           \
        y = t_;                                                                                          \
    } while (0)
/* The step wrote its result to cur: that becomes the text (s, n), and the other buffer the next scratch. */
#define ADOPT(s, n, cur, nxt)                                                                            \
    do {                                                                                                 \
        (s) = (cur)->data, (n) = (cur)->len;                                                             \
        SWAP(cur, nxt);                                                                                  \
    } while (0)

/* Removes the markers of s[0..n) into *cur, which becomes the text (s, n) when any were removed. */
static void strip_markers_step(const char **s, size_t *n, ft_buf **cur, ft_buf **nxt, uint32_t *fixes) {
    if (!memchr(*s, '>', *n)) return;
    size_t k = clean_strip_markers(*s, *n, *cur);
    if (k) {
        fixes[F_MARKERS] += (uint32_t)k;
        ADOPT(*s, *n, *cur, *nxt);
    }
    ft_buf_clear(*cur);
}

void clean_text(clean_ctx *c, const char *s, size_t n, ft_buf *out, uint32_t *fixes) {
    const clean_opts *o = c->o;
    ft_buf *cur = &c->a, *nxt = &c->b;
    ft_buf_clear(cur);
    ft_buf_clear(nxt);
    /* The order matters: markers go before code fences are looked for ("<|MOSS|>: ```") and after every
     * step that can make one ("<eo\x01h>", full-width "＜eoh＞"); NFC after every step that can undo it
     * (half-width 'Ａ' + U+0301, "<EMAIL>" + U+0338). */
    /* 1. controls and line ends */
    if (pass_controls(s, n, cur)) {
        fixes[F_CONTROL]++;
        ADOPT(s, n, cur, nxt);
    }
    ft_buf_clear(cur);
    /* 2. MOSS role markers */
    strip_markers_step(&s, &n, &cur, &nxt, fixes);
    /* 3. optional width and script conversions, outside code; then markers again if they made one.
     * The ends are trimmed first, so code fences are found where a second run would find them. */
    int converted = 0, ws = 0;
    if (o->halfwidth || (o->t2s && c->opencc)) ws = trim(&s, &n);
    if (o->halfwidth) {
        if (for_segments(c, s, n, cur, seg_halfwidth)) {
            fixes[F_HALFWIDTH]++;
            ADOPT(s, n, cur, nxt);
            converted = 1;
        }
        ft_buf_clear(cur);
    }
    if (o->t2s && c->opencc) {
        if (for_segments(c, s, n, cur, seg_t2s)) {
            fixes[F_T2S]++;
            ADOPT(s, n, cur, nxt);
            converted = 1;
        }
        ft_buf_clear(cur);
    }
    if (converted) strip_markers_step(&s, &n, &cur, &nxt, fixes);
    /* 4. NFC, before PII so a second run sees the same text ("1.1.1.1e" + U+0301 is "1.1.1.1é") */
    if (ft_utf8_nfc(s, n, cur) == 1) {
        fixes[F_NFC]++;
        ADOPT(s, n, cur, nxt);
    }
    ft_buf_clear(cur);
    /* 5. PII; NFC again if a mask made something to compose (marks after a match go with it, so it
     * should not) */
    if (o->mask_pii) {
        size_t k = clean_mask_pii(s, n, cur);
        if (k) {
            fixes[F_PII] += (uint32_t)k;
            ADOPT(s, n, cur, nxt);
            ft_buf_clear(cur);
            if (ft_utf8_nfc(s, n, cur) == 1) {
                ADOPT(s, n, cur, nxt);
            }
        }
        ft_buf_clear(cur);
    }
    /* 6. whitespace: trim the ends, collapse runs of blank lines */
    ws |= trim(&s, &n);
    if (memchr(s, '\n', n) && for_segments(c, s, n, cur, seg_blank_lines)) {
        ws = 1;
        ADOPT(s, n, cur, nxt);
    }
    if (ws) fixes[F_WHITESPACE]++;
    ft_buf_add(out, s, n);
}
