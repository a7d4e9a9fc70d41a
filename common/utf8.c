/* utf8.c: strict UTF-8 and NFC on top of utf8proc.
 * Rule: a table built once from utf8proc's own data says which code points NFC can never touch;
 * text made only of those is copied, everything else goes through utf8proc_map. */
#include "utf8.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* Length of a valid sequence at s, or 0 if invalid (Unicode Table 3-7). */
static int seq_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;
    if (c < 0xE0) return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (n < 3 || (s[2] & 0xC0) != 0x80) return 0;
        unsigned lo = 0x80, hi = 0xBF;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
        return s[1] >= lo && s[1] <= hi ? 3 : 0;
    }
    if (c < 0xF5) {
        if (n < 4 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        unsigned lo = 0x80, hi = 0xBF;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
        return s[1] >= lo && s[1] <= hi ? 4 : 0;
    }
    return 0;
}

/* Length of the maximal ill-formed subpart at s (at least 1). */
static size_t bad_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    size_t need = c >= 0xF5 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 1;
    size_t i = 1;
    for (; i < need && i < n; i++) {
        unsigned lo = 0x80, hi = 0xBF;
        if (i == 1) {
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        }
        if (s[i] < lo || s[i] > hi) break;
    }
    return i;
}

/* Past the ASCII bytes from i: 16 at a time, then one by one up to the next byte >= 0x80. */
static inline size_t skip_ascii(const unsigned char *s, size_t n, size_t i) {
    for (; n - i >= 16; i += 16) {
        uint64_t w[2];
        memcpy(w, s + i, 16);
        if ((w[0] | w[1]) & 0x8080808080808080ull) break;
    }
    while (i < n && s[i] < 0x80) i++;
    return i;
}

size_t ft_utf8_check(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while ((i = skip_ascii(s, n, i)) < n) {
        /* a run of multibyte sequences; the common 3-byte case (CJK): E1..EC and EE..EF take any two
         * continuation bytes */
        do {
            unsigned c = s[i];
            if (c >= 0xE1 && c <= 0xEF && c != 0xED && n - i >= 3 && (s[i + 1] & 0xC0) == 0x80 &&
                (s[i + 2] & 0xC0) == 0x80) {
                i += 3;
                continue;
            }
            int l = seq_len(s + i, n - i);
            if (!l) return i;
            i += (size_t)l;
        } while (i < n && s[i] >= 0x80);
    }
    return n;
}

size_t ft_utf8_repair(const char *str, size_t n, ft_buf *out) {
    const unsigned char *s = (const unsigned char *)str;
    size_t fixed = 0, i = 0;
    while (i < n) {
        size_t ok = ft_utf8_check(str + i, n - i);
        ft_buf_add(out, str + i, ok);
        i += ok;
        if (i >= n) break;
        i += bad_len(s + i, n - i);
        ft_buf_add(out, "\xEF\xBF\xBD", 3);
        fixed++;
    }
    return fixed;
}

int ft_utf8_decode(const char *str, size_t n, int32_t *cp) {
    const unsigned char *s = (const unsigned char *)str;
    int l = seq_len(s, n);
    switch (l) {
    case 1: *cp = s[0]; return 1;
    case 2: *cp = (int32_t)(((s[0] & 0x1Fu) << 6) | (s[1] & 0x3Fu)); return 2;
    case 3: *cp = (int32_t)(((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu)); return 3;
    case 4:
        *cp = (int32_t)(((s[0] & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) |
                        (s[3] & 0x3Fu));
        return 4;
    default: *cp = 0xFFFD; return 1;
    }
}

int ft_utf8_encode(int32_t cp, char *o) {
    unsigned char *out = (unsigned char *)o;
    uint32_t c = (uint32_t)cp;
    if (c < 0x80) return out[0] = (unsigned char)c, 1;
    if (c < 0x800) {
        out[0] = (unsigned char)(0xC0 | (c >> 6));
        out[1] = (unsigned char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (c >> 12));
        out[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (c >> 18));
    out[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (c & 0x3F));
    return 4;
}

size_t ft_utf8_count(const char *s, size_t n) {
    /* code points = bytes that are not continuation bytes (10xxxxxx), counted 8 at a time */
    size_t k = n, i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        uint64_t cont = w & ~(w << 1) & 0x8080808080808080ull; /* bit 7 set, bit 6 clear */
        k -= (size_t)((((cont >> 7) * 0x0101010101010101ull)) >> 56);
    }
    for (; i < n; i++) k -= ((unsigned char)s[i] & 0xC0) == 0x80;
    return k;
}

/* Bit per code point: 1 = NFC-stable; g_cjk_stable: all of U+4000..U+9FFF (3-byte leads E4..E9) are. */
static uint8_t *g_stable;
static int g_cjk_stable;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void build_stable(void) {
    const int32_t N = 0x110000;
    uint8_t *t = calloc((size_t)N / 8, 1), *later = calloc((size_t)N / 8, 1);
    if (!t || !later) {
        free(t), free(later);
        return;
    }
    for (int32_t c = 0; c < N; c++) {
        const utf8proc_property_t *p = utf8proc_get_property(c);
        if (p->decomp_seqindex != UINT16_MAX && p->decomp_type == 0) {
            /* canonical decomposition: c is not stable, and the code points after the first in it can
             * compose with what precedes them */
            utf8proc_int32_t d[8];
            int bound = 0;
            utf8proc_ssize_t k = utf8proc_decompose_char(c, d, 8, UTF8PROC_DECOMPOSE, &bound);
            for (utf8proc_ssize_t i = 1; i < k && i <= 8; i++)
                later[d[i] >> 3] |= (uint8_t)(1u << (d[i] & 7));
            continue;
        }
        int hangul = c >= 0xAC00 && c <= 0xD7A3;
        if (p->combining_class == 0 && !hangul) t[c >> 3] |= (uint8_t)(1u << (c & 7));
    }
    for (int32_t i = 0; i < N / 8; i++) t[i] &= (uint8_t)~later[i];
    free(later);
    /* Hangul medial vowels and final consonants compose with a preceding syllable or jamo. */
    for (int32_t c = 0x1160; c <= 0x11FF; c++) t[c >> 3] &= (uint8_t)~(1u << (c & 7));
    g_cjk_stable = 1;
    for (int32_t c = 0x4000; c <= 0x9FFF; c += 8) g_cjk_stable &= t[c >> 3] == 0xFF;
    g_stable = t;
}

int ft_utf8_nfc_stable(int32_t cp) {
    pthread_once(&g_once, build_stable);
    if (!g_stable || cp < 0 || cp >= 0x110000) return 0;
    return (g_stable[cp >> 3] >> (cp & 7)) & 1;
}

/* Offset of the first code point at or after i that is not NFC-stable (n if none), or FT_EUTF8 (as a
 * negative value) at an invalid sequence met first. */
static int64_t next_unstable(const char *s, size_t n, size_t i) {
    const unsigned char *u = (const unsigned char *)s;
    while ((i = skip_ascii(u, n, i)) < n) {
        do {
            unsigned c = u[i];
            int32_t cp;
            size_t l;
            if (c >= 0xE1 && c <= 0xEF && c != 0xED && n - i >= 3 && (u[i + 1] & 0xC0) == 0x80 &&
                (u[i + 2] & 0xC0) == 0x80) {
                if (c >= 0xE4 && c <= 0xE9 && g_cjk_stable) { /* CJK ideographs */
                    i += 3;
                    continue;
                }
                cp = (int32_t)(((c & 0x0Fu) << 12) | ((u[i + 1] & 0x3Fu) << 6) | (u[i + 2] & 0x3Fu));
                l = 3;
            } else {
                l = (size_t)seq_len(u + i, n - i);
                if (!l) return FT_EUTF8;
                ft_utf8_decode(s + i, n - i, &cp);
            }
            if (!((g_stable[cp >> 3] >> (cp & 7)) & 1)) return (int64_t)i;
            i += l;
        } while (i < n && u[i] >= 0x80);
    }
    return (int64_t)n;
}

/* NFC leaves a stable code point alone and nothing composes or reorders across it, so the text is
 * NFC(a) + NFC(b) when split before one: only the spans from the stable code point before each
 * unstable run to the next stable one go through utf8proc_map, the rest is copied. */
int ft_utf8_nfc(const char *s, size_t n, ft_buf *out) {
    pthread_once(&g_once, build_stable);
    if (!g_stable) return FT_ENOMEM;
    int64_t un = next_unstable(s, n, 0);
    if (un < 0) return (int)un;
    if ((size_t)un == n) {
        ft_buf_add(out, s, n);
        return 0;
    }
    if (ft_utf8_check(s, n) != n) return FT_EUTF8;
    size_t base = out->len, from = 0;
    int changed = 0;
    while ((size_t)un < n) {
        size_t p = (size_t)un, q = (size_t)un;
        /* back over the stable code point just before (everything in [from, un) is stable) */
        if (p > from) {
            p--;
            while (p > from && ((unsigned char)s[p] & 0xC0) == 0x80) p--;
        }
        /* on to the next stable code point */
        while (q < n) {
            int32_t cp;
            int l = ft_utf8_decode(s + q, n - q, &cp);
            if ((g_stable[cp >> 3] >> (cp & 7)) & 1) break;
            q += (size_t)l;
        }
        ft_buf_add(out, s + from, p - from);
        utf8proc_uint8_t *r = NULL;
        utf8proc_ssize_t m = utf8proc_map((const utf8proc_uint8_t *)s + p, (utf8proc_ssize_t)(q - p), &r,
                                          UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (m < 0) {
            free(r);
            out->len = base;
            if (out->data) out->data[base] = 0;
            return m == UTF8PROC_ERROR_NOMEM ? FT_ENOMEM : FT_EUTF8;
        }
        if ((size_t)m != q - p || memcmp(r, s + p, q - p)) changed = 1;
        ft_buf_add(out, r, (size_t)m);
        free(r);
        from = q;
        un = next_unstable(s, n, q);
    }
    ft_buf_add(out, s + from, n - from);
    return changed;
}
