/* test-utf8.c: common/utf8.h: strict validation, U+FFFD repair (Unicode 3.9, Tables 3-8 to 3-11),
 * decode/encode over every scalar value, NFC, and the property that defines ft_utf8_nfc_stable.
 * Rule: utf8proc is the oracle for NFC; hand-written byte strings are the oracle for everything else. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "ft.h"
#include "tap.h"
#include "utf8.h"

static void check_is(const char *s, size_t n, size_t want, const char *name) {
    size_t got = ft_utf8_check(s, n);
    is_int(got, want, "check: %s", name);
}

static void test_check(void) {
    check_is("", 0, 0, "empty");
    check_is("hello, world", 12, 12, "ASCII");
    check_is("h\xC3\xA9llo", 6, 6, "2-byte e-acute");
    check_is("\xE4\xB8\xAD\xE6\x96\x87", 6, 6, "3-byte CJK");
    check_is("\xF0\x9F\x98\x80", 4, 4, "4-byte emoji");
    check_is("\xF4\x8F\xBF\xBF", 4, 4, "U+10FFFF");
    check_is("\xEF\xBF\xBF\xED\x9F\xBF\xEE\x80\x80", 9, 9, "U+FFFF, U+D7FF, U+E000");
    check_is("\xC2\x80\xE0\xA0\x80\xF0\x90\x80\x80", 9, 9, "smallest 2/3/4-byte forms");
    check_is("a\0b", 3, 3, "NUL is valid");

    check_is("ab\xC0\x80", 4, 2, "overlong C0 80");
    check_is("\xC1\xBF", 2, 0, "overlong C1 BF");
    check_is("\xE0\x80\x80", 3, 0, "overlong 3-byte E0 80 80");
    check_is("\xE0\x9F\xBF", 3, 0, "overlong 3-byte E0 9F BF");
    check_is("\xF0\x80\x80\x80", 4, 0, "overlong 4-byte F0 80 80 80");
    check_is("\xF0\x8F\xBF\xBF", 4, 0, "overlong 4-byte F0 8F BF BF");
    check_is("x\xED\xA0\x80", 4, 1, "high surrogate ED A0 80");
    check_is("\xED\xBF\xBF", 3, 0, "low surrogate ED BF BF");
    check_is("\xF4\x90\x80\x80", 4, 0, "U+110000 F4 90 80 80");
    check_is("\xF5\x80\x80\x80", 4, 0, "lead byte F5");
    check_is("\xFF", 1, 0, "byte FF");
    check_is("\x80", 1, 0, "lone continuation byte");
    check_is("\xE4\xB8", 2, 0, "truncated 3-byte sequence");
    check_is("ok\xF0\x9F\x98", 5, 2, "truncated 4-byte sequence");
    check_is("\xC3", 1, 0, "truncated 2-byte sequence");
    check_is("\xC3x", 2, 0, "2-byte lead followed by ASCII");
    check_is("\xE4\xB8x", 3, 0, "3-byte sequence cut by ASCII");
    check_is("0123456789abcdef\xC3\xA9\xFE", 19, 18, "invalid byte after the 8-byte fast path");
    check_is("0123456\xC3\xA9xxxxxxxx\x80yyyyyyyy", 26, 17, "continuation byte between ASCII runs");
    /* a valid prefix of the buffer: the length argument is respected */
    check_is("\xE4\xB8\xAD", 2, 0, "sequence cut by the length");
}

/* Repairs s and compares the result with want (bytes) and the replacement count. */
static void repair_is(const char *s, size_t n, const char *want, size_t want_n, size_t want_k,
                      const char *name) {
    ft_buf b;
    ft_buf_init(&b);
    ft_buf_adds(&b, "<");
    size_t k = ft_utf8_repair(s, n, &b);
    int same = b.len == want_n + 1 && b.data[0] == '<' && !memcmp(b.data + 1, want, want_n);
    ok(same && k == want_k, "repair: %s (%zu replacements)", name, want_k);
    if (!same || k != want_k) {
        printf("#   got %zu replacements:", k);
        for (size_t i = 1; i < b.len; i++)
            printf(" %02X", (unsigned char)b.data[i]);
        printf("\n");
    }
    ft_buf_release(&b);
}

#define R "\xEF\xBF\xBD"
#define REP(s, want, k, name) repair_is(s, sizeof(s) - 1, want, sizeof(want) - 1, k, name)

static void test_repair(void) {
    REP("", "", 0, "empty");
    REP("valid \xE4\xB8\xAD\xE6\x96\x87", "valid \xE4\xB8\xAD\xE6\x96\x87", 0, "valid text is copied");
    /* Unicode 15, section 3.9, "U+FFFD Substitution of Maximal Subparts", Tables 3-8 to 3-11 */
    REP("\xC0\xAF\xE0\x80\xBF\xF0\x81\x82\x41", R R R R R R R R "A", 8, "Table 3-8: non-shortest forms");
    REP("\xED\xA0\x80\xED\xBF\xBF\xED\xAF\x41", R R R R R R R R "A", 8, "Table 3-9: surrogates");
    REP("\xF4\x91\x92\x93\xFF\x41\x80\xBF\x42", R R R R R "A" R R "B", 7, "Table 3-10: other ill-formed");
    REP("\xE1\x80\xE2\xF0\x91\x92\xF1\xBF\x41", R R R R "A", 4, "Table 3-11: truncated sequences");
    /* F0 80: 80 cannot follow F0, so F0 alone is the maximal subpart, then each 80 */
    REP("\xF0\x80\x80", R R R, 3, "F0 80 80");
    REP("\xC0\x80", R R, 2, "C0 80");
    REP("\xE2\x82", R, 1, "truncated E2 82 at the end");
    REP("\xE2\x82x", R "x", 1, "E2 82 cut by ASCII");
    REP("\xF0\x9F\x98!", R "!", 1, "truncated emoji");
    REP("a\xF4\x90\x80\x80z", "a" R R R R "z", 4, "F4 90 80 80 (past U+10FFFF)");
    /* bytes that can never start a sequence are one subpart each, whatever follows */
    REP("\xF5\x80\x80\x80", R R R R, 4, "F5 80 80 80");
    REP("\xF8\x88\x80\x80\x80", R R R R R, 5, "F8 88 80 80 80");
    REP("\xFE\xFF", R R, 2, "FE FF");
    REP("\x80\x80\x80", R R R, 3, "three continuation bytes");
    REP("\xE4\xB8\xAD\xE4\xB8\xE6\x96\x87", "\xE4\xB8\xAD" R "\xE6\x96\x87", 1, "truncated between CJK");
}

static void test_roundtrip(void) {
    size_t bad = 0, checked = 0;
    for (int32_t cp = 0; cp <= 0x10FFFF; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        char buf[8];
        memset(buf, 0x55, sizeof buf);
        int want_len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        int l = ft_utf8_encode(cp, buf);
        int32_t back = -1;
        int dl = l == want_len ? ft_utf8_decode(buf, (size_t)l, &back) : -1;
        int good = l == want_len && buf[l] == 0x55 && ft_utf8_check(buf, (size_t)l) == (size_t)l && dl == l &&
                   back == cp && ft_utf8_count(buf, (size_t)l) == 1;
        if (!good && bad++ < 5) printf("#   U+%04X: len %d, decoded %d bytes as U+%04X\n", cp, l, dl, back);
        checked++;
    }
    is_int(checked, 0x110000 - 0x800, "round trip: every scalar value visited");
    is_int(bad, 0, "round trip: encode, check, decode and count agree for every scalar value");

    /* surrogates and invalid bytes decode as one byte of U+FFFD */
    int32_t cp = 0;
    int l = ft_utf8_decode("\xED\xA0\x80", 3, &cp);
    ok(l == 1 && cp == 0xFFFD, "decode: surrogate gives 1 byte of U+FFFD");
    l = ft_utf8_decode("\xC0\x80", 2, &cp);
    ok(l == 1 && cp == 0xFFFD, "decode: overlong gives 1 byte of U+FFFD");
    l = ft_utf8_decode("\xE4\xB8\xAD", 2, &cp);
    ok(l == 1 && cp == 0xFFFD, "decode: respects n (truncated)");
    l = ft_utf8_decode("\xE4\xB8\xAD", 3, &cp);
    ok(l == 3 && cp == 0x4E2D, "decode: U+4E2D");
    is_int(ft_utf8_count("a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80", 10), 4,
           "count: 4 code points of 1-4 bytes");
}

/* ft_utf8_nfc(s) compared with want; want_rc is its return value. */
static void nfc_is(const char *s, const char *want, int want_rc, const char *name) {
    ft_buf b;
    ft_buf_init(&b);
    int rc = ft_utf8_nfc(s, strlen(s), &b);
    int same = want ? b.len == strlen(want) && !memcmp(b.data, want, b.len) : 1;
    ok(rc == want_rc && same, "nfc: %s", name);
    if (rc != want_rc || !same)
        printf("#   rc %d, %zu bytes: '%.*s'\n", rc, b.len, (int)b.len, b.data ? b.data : "");
    ft_buf_release(&b);
}

static void test_nfc(void) {
    nfc_is("caf\x65\xCC\x81", "caf\xC3\xA9", 1, "e + U+0301 -> U+00E9");
    nfc_is("\xE1\x84\x80\xE1\x85\xA1", "\xEA\xB0\x80", 1, "Hangul jamo L V -> U+AC00");
    nfc_is("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8", "\xEA\xB0\x81", 1, "Hangul jamo L V T -> U+AC01");
    nfc_is("\xEA\xB0\x80\xE1\x86\xA8", "\xEA\xB0\x81", 1, "Hangul LV syllable + T -> LVT");
    nfc_is("\xE2\x84\xAB", "\xC3\x85", 1, "singleton U+212B -> U+00C5");
    nfc_is("\xE2\x84\xA6", "\xCE\xA9", 1, "singleton U+2126 -> U+03A9");
    /* canonical reordering: dot below (ccc 220) before acute (230), then a + dot below composes */
    nfc_is("a\xCC\x81\xCC\xA3", "\xE1\xBA\xA1\xCC\x81", 1, "reorder a + U+0301 + U+0323");
    nfc_is("\xE4\xB8\xAD\xE6\x96\x87\xE6\xB5\x8B\xE8\xAF\x95\xEF\xBC\x8C\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x81",
           "\xE4\xB8\xAD\xE6\x96\x87\xE6\xB5\x8B\xE8\xAF\x95\xEF\xBC\x8C\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x81",
           0, "CJK text already NFC");
    nfc_is("caf\xC3\xA9 \xEA\xB0\x81 \xF0\x9F\x98\x80", "caf\xC3\xA9 \xEA\xB0\x81 \xF0\x9F\x98\x80", 0,
           "precomposed text already NFC (slow path, unchanged)");
    nfc_is("plain ASCII", "plain ASCII", 0, "ASCII");
    nfc_is("", "", 0, "empty");
    /* compatibility characters are not NFC's business */
    nfc_is("\xEF\xAC\x81\xEF\xBC\xA1", "\xEF\xAC\x81\xEF\xBC\xA1", 0, "ligature fi and fullwidth A kept");
    nfc_is("abc\xFF", NULL, FT_EUTF8, "invalid byte after stable text");
    nfc_is("e\xCC\x81\xC0\x80", NULL, FT_EUTF8, "invalid sequence after an unstable code point");
    nfc_is("\xED\xA0\x80", NULL, FT_EUTF8, "surrogate");

    /* appends, does not overwrite */
    ft_buf b;
    ft_buf_init(&b);
    ft_buf_adds(&b, "x:");
    ft_utf8_nfc("e\xCC\x81", 3, &b);
    is_str(b.data, "x:\xC3\xA9", "nfc: appends to out");
    ft_buf_release(&b);
}

/* NFC of s[0..n) by utf8proc, as an ft_buf-free malloc'ed string; *m its length (negative on error). */
static char *oracle_nfc(const char *s, size_t n, utf8proc_ssize_t *m) {
    utf8proc_uint8_t *r = NULL;
    *m = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &r,
                      UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    return (char *)r;
}

static void test_stable_property(void) {
    size_t nstable = 0, bad_alone = 0, bad_props = 0, bad_second = 0, ndecomp = 0;
    for (int32_t c = 0; c <= 0x10FFFF; c++) {
        if (c >= 0xD800 && c <= 0xDFFF) continue;
        int st = ft_utf8_nfc_stable(c);
        utf8proc_int32_t d[16];
        int bound = 0;
        utf8proc_ssize_t k = utf8proc_decompose_char(c, d, 16, UTF8PROC_DECOMPOSE, &bound);
        int decomposes = k != 1 || d[0] != c;
        if (st) {
            nstable++;
            char buf[4];
            int l = ft_utf8_encode(c, buf);
            utf8proc_ssize_t m;
            char *r = oracle_nfc(buf, (size_t)l, &m);
            if (m != l || memcmp(r, buf, (size_t)l)) {
                if (bad_alone++ < 5) printf("#   U+%04X is marked stable but NFC changes it\n", c);
            }
            free(r);
            if (decomposes || utf8proc_get_property(c)->combining_class != 0) {
                if (bad_props++ < 5) printf("#   U+%04X is marked stable but decomposes or has ccc > 0\n", c);
            }
        }
        if (decomposes && k >= 2 && k <= 16) {
            ndecomp++;
            /* every part after the first can compose with what precedes it */
            for (utf8proc_ssize_t i = 1; i < k; i++)
                if (ft_utf8_nfc_stable(d[i]) && bad_second++ < 5)
                    printf("#   U+%04X is in the decomposition of U+%04X but marked stable\n", d[i], c);
        }
    }
    is_int(bad_alone, 0, "stable: NFC of every stable code point alone is itself");
    is_int(bad_props, 0, "stable: every stable code point has ccc 0 and no canonical decomposition");
    is_int(bad_second, 0, "stable: no trailing part of a canonical decomposition is stable");
    ok(ndecomp > 12000, "stable: %zu multi-code-point decompositions tested (Hangul included)", ndecomp);
    ok(nstable > 1000000, "stable: most code points are stable (%zu)", nstable);
    ok(ft_utf8_nfc_stable('e') && ft_utf8_nfc_stable(0x4E2D) && ft_utf8_nfc_stable(0x1100),
       "stable: e, U+4E2D, leading jamo U+1100");
    ok(!ft_utf8_nfc_stable(0x0301) && !ft_utf8_nfc_stable(0x1161) && !ft_utf8_nfc_stable(0x11A8) &&
           !ft_utf8_nfc_stable(0xAC00) && !ft_utf8_nfc_stable(0x212B) && !ft_utf8_nfc_stable(0x00E9) &&
           !ft_utf8_nfc_stable(0x0CD5) && !ft_utf8_nfc_stable(0x3099),
       "stable: not U+0301, jamo V/T, Hangul syllables, U+212B, U+00E9, U+0CD5, U+3099");
    ok(!ft_utf8_nfc_stable(-1) && !ft_utf8_nfc_stable(0x110000), "stable: out of range is not stable");
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static int32_t random_scalar(void) {
    for (;;) {
        int32_t c = (int32_t)(rnd() % 0x110000);
        if (c < 0xD800 || c > 0xDFFF) return c;
    }
}

static void test_nfc_random(void) {
    /* code points that take part in compositions, beside random stable and unstable ones */
    static const int32_t pick[] = {'a',    'e',    'o',    'A',    'u',    ' ',    0x0301, 0x0300,
                                   0x0308, 0x0323, 0x0327, 0x0304, 0x00E9, 0x00DC, 0x1100, 0x1112,
                                   0x1161, 0x1175, 0x11A8, 0x11C2, 0xAC00, 0xAC01, 0x212B, 0x2126,
                                   0x3099, 0x304B, 0x0CC6, 0x0CD5, 0x0F71, 0x0F72, 0x4E2D, 0x1E0B,
                                   0x0345, 0x03B1, 0x0313, 0x05D0, 0x05B7, 0x0915, 0x093C};
    const size_t npick = sizeof pick / sizeof *pick;
    size_t bad = 0, changed = 0;
    const int rounds = 20000;
    ft_buf s, out;
    ft_buf_init(&s), ft_buf_init(&out);
    for (int r = 0; r < rounds; r++) {
        ft_buf_clear(&s);
        ft_buf_clear(&out);
        size_t len = 1 + rnd() % 24;
        for (size_t i = 0; i < len; i++) {
            int32_t c;
            uint64_t kind = rnd() % 4;
            if (kind == 0)
                c = pick[rnd() % npick];
            else if (kind == 1)
                c = (int32_t)(0x20 + rnd() % 0x5F);
            else if (kind == 2) {
                do
                    c = random_scalar();
                while (!ft_utf8_nfc_stable(c));
            } else {
                do
                    c = random_scalar();
                while (ft_utf8_nfc_stable(c) && rnd() % 64);
            }
            char e[4];
            ft_buf_add(&s, e, (size_t)ft_utf8_encode(c, e));
        }
        int rc = ft_utf8_nfc(s.data, s.len, &out);
        utf8proc_ssize_t m;
        char *want = oracle_nfc(s.data, s.len, &m);
        int same = m >= 0 && (size_t)m == out.len && !memcmp(want, out.data, out.len);
        int diff = m < 0 || (size_t)m != s.len || memcmp(want, s.data, s.len);
        if ((!same || rc != diff) && bad++ < 5)
            printf("#   round %d: rc %d, output differs: %d\n", r, rc, !same);
        changed += (size_t)diff;
        free(want);
    }
    ft_buf_release(&s), ft_buf_release(&out);
    is_int(bad, 0, "nfc: %d random strings agree with utf8proc_map(STABLE|COMPOSE), return value too",
           rounds);
    ok(changed > (size_t)rounds / 10 && changed < (size_t)rounds,
       "nfc: the random strings mix changed (%zu) "
       "and unchanged ones",
       changed);
}

int main(void) {
    test_check();
    test_repair();
    test_roundtrip();
    test_nfc();
    test_stable_property();
    test_nfc_random();
    return done_testing();
}
