/* pii.c: masking of personal data in one message for ft-clean --mask-pii.
 * Rule: hand-written scanners over ASCII patterns, each anchored on word boundaries so that a number
 * inside a longer number is never masked; Chinese ID numbers must pass their ISO 7064 checksum. */
#include <string.h>
#include <utf8proc.h>

#include "clean.h"
#include "utf8.h"

static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_alnum(int c) { return is_digit(c) || is_alpha(c); }

static int strncasecmp_ascii(const char *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z') x += 32;
        if (y >= 'A' && y <= 'Z') y += 32;
        if (x != y) return x - y;
    }
    return 0;
}

/* A character that continues a word: a number touching one is not a standalone number. */
static int wordish(int c) { return is_alnum(c) || c == '@' || c == '_'; }

static size_t digits(const char *s, size_t n, size_t i) {
    size_t j = i;
    while (j < n && is_digit((unsigned char)s[j])) j++;
    return j - i;
}

/* URL: scheme:// or www. followed by non-space ASCII (stops at quotes, brackets and CJK). */
static size_t match_url(const char *s, size_t n, size_t i) {
    static const char *const schemes[] = {"https://", "http://", "ftp://", "www.", NULL};
    if (i > 0 && is_alnum((unsigned char)s[i - 1])) return 0;
    size_t j = 0;
    for (int k = 0; schemes[k]; k++) {
        size_t l = strlen(schemes[k]);
        if (n - i > l && !strncasecmp_ascii(s + i, schemes[k], l)) {
            j = i + l;
            break;
        }
    }
    if (!j) return 0;
    size_t start = j;
    while (j < n) {
        unsigned char c = (unsigned char)s[j];
        if (c <= ' ' || c >= 0x7F || strchr("\"'<>()[]{}`|\\^", c)) break;
        j++;
    }
    while (j > start && strchr(".,;:!?", s[j - 1])) j--; /* sentence punctuation after a URL */
    return j > start + 1 ? j - i : 0;
}

static int email_local(int c) { return is_alnum(c) || (c && strchr("._%+-", c)); }

/* E-mail: scanned from its '@'. Returns the length of the span starting at *b. */
static size_t match_email(const char *s, size_t n, size_t at, size_t *b) {
    size_t i = at;
    while (i > 0 && email_local((unsigned char)s[i - 1])) i--;
    while (i < at && s[i] == '.') i++;
    if (i == at) return 0;
    size_t j = at + 1;
    while (j < n && (is_alnum((unsigned char)s[j]) || s[j] == '-' || s[j] == '.')) j++;
    while (j > at + 1 && (s[j - 1] == '.' || s[j - 1] == '-')) j--;
    size_t dot = 0;
    for (size_t k = at + 1; k < j; k++)
        if (s[k] == '.') dot = k;
    if (!dot || dot == at + 1 || j - dot - 1 < 2) return 0;
    for (size_t k = dot + 1; k < j; k++)
        if (!is_alpha((unsigned char)s[k])) return 0;
    *b = i;
    return j - i;
}

static int id_checksum_ok(const char *s) {
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char check[] = "10X98765432";
    int sum = 0;
    for (int k = 0; k < 17; k++) sum += (s[k] - '0') * w[k];
    char c = s[17] == 'x' ? 'X' : s[17];
    int month = (s[10] - '0') * 10 + (s[11] - '0'), day = (s[12] - '0') * 10 + (s[13] - '0');
    return check[sum % 11] == c && month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/* Digits-led patterns at a boundary: ID number, IPv4, phone. Returns length and the tag. */
static size_t match_number(const char *s, size_t n, size_t i, const char **tag) {
    if (i > 0 && (wordish((unsigned char)s[i - 1]) || s[i - 1] == '.' || s[i - 1] == '-')) return 0;
    size_t d = digits(s, n, i);
    /* Chinese resident ID: 17 digits + digit or X */
    if ((d == 18 || (d == 17 && i + 17 < n && (s[i + 17] == 'X' || s[i + 17] == 'x'))) &&
        !(i + 18 < n && wordish((unsigned char)s[i + 18])) && id_checksum_ok(s + i)) {
        *tag = "<ID_NUMBER>";
        return 18;
    }
    /* IPv4 */
    if (d >= 1 && d <= 3) {
        size_t j = i;
        int parts = 0;
        for (; parts < 4; parts++) {
            size_t k = digits(s, n, j);
            if (k < 1 || k > 3) break;
            int v = 0;
            for (size_t t = 0; t < k; t++) v = v * 10 + (s[j + t] - '0');
            if (v > 255) break;
            j += k;
            if (parts < 3) {
                if (j >= n || s[j] != '.') break;
                j++;
            }
        }
        if (parts == 4 && !(j < n && (wordish((unsigned char)s[j]) || (s[j] == '.' && j + 1 < n &&
                                                                       is_digit((unsigned char)s[j + 1]))))) {
            *tag = "<IP>";
            return j - i;
        }
    }
    /* Chinese mobile: 1[3-9] + 9 digits */
    if (d == 11 && s[i] == '1' && s[i + 1] >= '3' && s[i + 1] <= '9' && !(i + 11 < n && wordish((unsigned char)s[i + 11]))) {
        *tag = "<PHONE>";
        return 11;
    }
    /* landline: 0AA(A)-NNNNNNN(N) */
    if ((d == 3 || d == 4) && s[i] == '0' && i + d < n && s[i + d] == '-') {
        size_t k = digits(s, n, i + d + 1);
        if ((k == 7 || k == 8) && !(i + d + 1 + k < n && wordish((unsigned char)s[i + d + 1 + k]))) {
            *tag = "<PHONE>";
            return d + 1 + k;
        }
    }
    return 0;
}

/* International form: +CC then 7..14 digits with optional single spaces or dashes. */
static size_t match_intl_phone(const char *s, size_t n, size_t i) {
    if (s[i] != '+' || (i > 0 && is_alnum((unsigned char)s[i - 1]))) return 0;
    size_t j = i + 1, nd = 0, cut = 0, cut_nd = 0;
    while (j < n) {
        if (is_digit((unsigned char)s[j])) nd++, j++;
        else if ((s[j] == ' ' || s[j] == '-') && j + 1 < n && is_digit((unsigned char)s[j + 1]) && nd)
            cut = j, cut_nd = nd, j++;
        else break;
    }
    /* a last group that runs into a word is not part of the number ("+86 138 0013 8000 5@x.cn"), as it
     * will not be once that word is masked */
    if (j < n && wordish((unsigned char)s[j]) && cut) j = cut, nd = cut_nd;
    if (nd < 8 || nd > 15 || (j < n && wordish((unsigned char)s[j]))) return 0;
    return j - i;
}

static size_t mask_once(const char *s, size_t n, ft_buf *out) {
    size_t masked = 0, i = 0, from = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t len = 0, b = i - from;
        const char *tag = NULL;
        /* The scanners see the text from the end of the last mask on: a tag ends a word, as it will when
         * the output is masked again, so masking twice changes nothing ("13812345678+83834568" gives
         * "<PHONE><PHONE>" both times). */
        const char *t = s + from;
        size_t tn = n - from, ti = i - from;
        if (c == 'h' || c == 'H' || c == 'f' || c == 'F' || c == 'w' || c == 'W') {
            if ((len = match_url(t, tn, ti))) tag = "<URL>";
        } else if (c == '@') {
            if ((len = match_email(t, tn, ti, &b))) tag = "<EMAIL>";
        } else if (c == '+') {
            if ((len = match_intl_phone(t, tn, ti))) tag = "<PHONE>";
        } else if (is_digit(c)) {
            len = match_number(t, tn, ti, &tag);
        }
        b += from;
        if (!len) {
            i++;
            continue;
        }
        ft_buf_add(out, s + from, b - from);
        ft_buf_adds(out, tag);
        masked++;
        i = b + len;
        /* combining marks after the match belong to it: left behind, they would compose with the tag's
         * '>' under NFC ("<EMAIL>" + U+0338 would become "<EMAIL≯") */
        while (i < n && (unsigned char)s[i] >= 0x80) {
            int32_t cp;
            int l = ft_utf8_decode(s + i, n - i, &cp);
            if (utf8proc_get_property(cp)->combining_class == 0) break;
            i += (size_t)l;
        }
        from = i;
    }
    ft_buf_add(out, s + from, n - from);
    return masked;
}

/* Masks again until nothing more is found: a tag can end the context that kept a neighbour from matching
 * ("+861381234138123 3.6.1.1" has 16 digits until the IP is masked), and the output must stay as it is
 * when masked again. Tags hold no digit, '@', '+' or URL start, so each pass finds fewer matches. */
size_t clean_mask_pii(const char *s, size_t n, ft_buf *out) {
    size_t base = out->len, total = mask_once(s, n, out), k = total;
    ft_buf again;
    ft_buf_init(&again);
    while (k) {
        ft_buf_clear(&again);
        if (!(k = mask_once(out->data + base, out->len - base, &again))) break;
        out->len = base;
        ft_buf_add(out, again.data, again.len);
        total += k;
    }
    ft_buf_release(&again);
    return total;
}
