/* pretok.c: the Qwen2 split pattern as a scanner: each alternative of the regex is tried in order at the
 * current position, with the greedy runs and the backtracking the regex engine would do worked out by hand.
 * Rule: classes come from one function (ASCII table, else utf8proc's category and the White_Space list). */
#include "pretok.h"

#include <stdint.h>
#include <utf8proc.h>

#include "utf8.h"

enum { C_OTHER = 0, C_L = 1, C_N = 2, C_WS = 4, C_NL = 8 /* \r or \n (always with C_WS) */, C_END = 16 };

/* Classes of the ASCII characters: letters, digits, \t \n \v \f \r and space; the rest is C_OTHER. */
static const uint8_t ascii_class[128] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 12, 4, 4, 12, 0, 0, /* \t \n \v \f \r */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  0, 0, 0,  0, 0, /* */
    4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  0, 0, 0,  0, 0, /* space */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0,  0, 0, 0,  0, 0, /* 0-9 */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  1, 1, 1,  1, 1, /* A-O */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  0, 0, 0,  0, 0, /* P-Z */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  1, 1, 1,  1, 1, /* a-o */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  0, 0, 0,  0, 0, /* p-z */
};

/* Unicode White_Space beyond ASCII (PropList.txt): NEL, NBSP, the Zs spaces, LS, PS. Oniguruma's and
 * Rust regex's \s are this property. */
static int is_white_space(int32_t cp) {
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
           cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* The class of the character at s (n >= 1 bytes) and its length; an invalid byte is C_OTHER of length 1
 * (ft_utf8_decode reads it as U+FFFD, a symbol). */
static inline unsigned char_class(const char *s, size_t n, size_t *len, int32_t *cp) {
    unsigned char c = (unsigned char)*s;
    if (c < 0x80) {
        *len = 1;
        *cp = c;
        return ascii_class[c];
    }
    *len = (size_t)ft_utf8_decode(s, n, cp);
    if (is_white_space(*cp)) return C_WS;
    switch (utf8proc_category(*cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: return C_L;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO: return C_N;
    default: return C_OTHER;
    }
}

/* Past the characters from i whose class, masked, equals want. */
static size_t run(const char *s, size_t n, size_t i, unsigned mask, unsigned want) {
    while (i < n) {
        size_t l;
        int32_t cp;
        if ((char_class(s + i, n - i, &l, &cp) & mask) != want) break;
        i += l;
    }
    return i;
}

static int fold_eq(int32_t cp, char lower) { return cp == lower || cp == lower - 'a' + 'A'; }

/* (?i:s|t|re|ve|m|ll|d) at s: the length matched, or 0. Only 's' has a non-ASCII case variant among these
 * letters (U+017F LATIN SMALL LETTER LONG S folds to 's'). */
static size_t contraction(const char *s, size_t n) {
    size_t l, l2;
    int32_t cp, cp2;
    char_class(s, n, &l, &cp);
    if (fold_eq(cp, 's') || cp == 0x17F || fold_eq(cp, 't') || fold_eq(cp, 'm') || fold_eq(cp, 'd')) return l;
    if (l >= n || !(fold_eq(cp, 'r') || fold_eq(cp, 'v') || fold_eq(cp, 'l'))) return 0;
    char_class(s + l, n - l, &l2, &cp2);
    return fold_eq(cp2, fold_eq(cp, 'l') ? 'l' : 'e') ? l + l2 : 0;
}

size_t ft_pretok_qwen2(const char *s, size_t n) {
    size_t l0, l1 = 0;
    int32_t cp0, cp1 = -1;
    unsigned c0 = char_class(s, n, &l0, &cp0);
    /* 1: (?i:'s|'t|'re|'ve|'m|'ll|'d) */
    if (cp0 == '\'' && n > 1) {
        size_t m = contraction(s + 1, n - 1);
        if (m) return 1 + m;
    }
    /* 2: [^\r\n\p{L}\p{N}]?\p{L}+ : a letter run, or one other character (whitespace but CR/LF included)
     * before a letter run; the optional part backtracks to empty, which then needs c0 to be a letter. */
    if (c0 & C_L) return run(s, n, l0, C_L, C_L);
    unsigned c1 = l0 < n ? char_class(s + l0, n - l0, &l1, &cp1) : C_END;
    if (!(c0 & (C_NL | C_N)) && c1 == C_L) return run(s, n, l0 + l1, C_L, C_L);
    /* 3: \p{N}, one character */
    if (c0 == C_N) return l0;
    /* 4:  ?[^\s\p{L}\p{N}]+[\r\n]* : the space is taken only when a symbol follows it. */
    size_t p = 0;
    if (c0 == C_OTHER) p = l0;
    else if (cp0 == ' ' && c1 == C_OTHER) p = l0 + l1;
    if (p) {
        p = run(s, n, p, C_L | C_N | C_WS, C_OTHER);
        return run(s, n, p, C_NL, C_NL);
    }
    /* Only whitespace starts here now (c0 is neither letter, number nor symbol). */
    size_t i = 0, last_nl_end = 0, last_start = 0, chars = 0;
    while (i < n) {
        size_t l;
        int32_t cp;
        unsigned c = char_class(s + i, n - i, &l, &cp);
        if (!(c & C_WS)) break;
        if (c & C_NL) last_nl_end = i + l;
        last_start = i;
        i += l;
        chars++;
    }
    /* 5: \s*[\r\n]+ : \s* gives back characters until a CR/LF follows it, i.e. up to the last CR/LF of the
     * run, and [\r\n]+ then takes that one (the next is not CR/LF). */
    if (last_nl_end) return last_nl_end;
    /* 6: \s+(?!\S) : the whole run at the end of the text, else all but its last character (which is then
     * followed by whitespace), when that leaves at least one. */
    if (i == n) return i;
    if (chars > 1) return last_start;
    /* 7: \s+ */
    return i;
}
