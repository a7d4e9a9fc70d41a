/* test-parse.c: strict number parsing (common/parse.h): integers, K/M/G/T sizes and counts, doubles, choices.
 * Rule: every accepted form is checked for its value, every rejected one for its error code and for
 * leaving *out untouched. */
#include <stdint.h>
#include <stdio.h>

#include "ft.h"
#include "parse.h"
#include "tap.h"

#define SENTINEL 0x5A5A5A5Au

/* s with control characters shown as \xNN, for test names (a static buffer). */
static const char *show(const char *s) {
    static char buf[128];
    if (!s) return "(null)";
    size_t k = 0;
    for (; *s && k + 5 < sizeof buf; s++) {
        if ((unsigned char)*s < 0x20)
            k += (size_t)snprintf(buf + k, sizeof buf - k, "\\x%02X", *s);
        else
            buf[k++] = *s;
    }
    buf[k] = 0;
    return buf;
}

static void i64_ok(const char *s, int64_t min, int64_t max, int64_t want) {
    int64_t v = SENTINEL;
    int rc = ft_parse_i64(s, min, max, &v);
    ok(rc == 0 && v == want, "i64 '%s' = %lld", s, (long long)want);
    if (rc || v != want) printf("#   rc %d, value %lld\n", rc, (long long)v);
}

static void i64_bad(const char *s, int64_t min, int64_t max, int want_rc) {
    int64_t v = SENTINEL;
    int rc = ft_parse_i64(s, min, max, &v);
    ok(rc == want_rc && v == SENTINEL, "i64 '%s' rejected with %s", show(s), ft_strerror(want_rc));
    if (rc != want_rc) printf("#   rc %d (%s)\n", rc, ft_strerror(rc));
}

typedef int (*unit_fn)(const char *, uint64_t, uint64_t, uint64_t *);

static void unit_ok(unit_fn f, const char *what, const char *s, uint64_t max, uint64_t want) {
    uint64_t v = SENTINEL;
    int rc = f(s, 0, max, &v);
    ok(rc == 0 && v == want, "%s '%s' = %llu", what, s, (unsigned long long)want);
    if (rc || v != want) printf("#   rc %d, value %llu\n", rc, (unsigned long long)v);
}

static void unit_bad(unit_fn f, const char *what, const char *s, uint64_t min, uint64_t max, int want_rc) {
    uint64_t v = SENTINEL;
    int rc = f(s, min, max, &v);
    ok(rc == want_rc && v == SENTINEL, "%s '%s' rejected with %s", what, show(s), ft_strerror(want_rc));
    if (rc != want_rc) printf("#   rc %d (%s)\n", rc, ft_strerror(rc));
}

static void dbl_ok(const char *s, double min, double max, double want) {
    double v = -12345.0;
    int rc = ft_parse_double(s, min, max, &v);
    ok(rc == 0 && v == want, "double '%s' = %g", s, want);
    if (rc || v != want) printf("#   rc %d, value %.17g\n", rc, v);
}

static void dbl_bad(const char *s, double min, double max, int want_rc) {
    double v = -12345.0;
    int rc = ft_parse_double(s, min, max, &v);
    ok(rc == want_rc && v == -12345.0, "double '%s' rejected with %s", show(s), ft_strerror(want_rc));
    if (rc != want_rc) printf("#   rc %d (%s)\n", rc, ft_strerror(rc));
}

static void test_i64(void) {
    i64_ok("0", INT64_MIN, INT64_MAX, 0);
    i64_ok("42", 0, 100, 42);
    i64_ok("-17", -100, 100, -17);
    i64_ok("+17", -100, 100, 17);
    i64_ok("007", 0, 10, 7);
    i64_ok("9223372036854775807", INT64_MIN, INT64_MAX, INT64_MAX);
    i64_ok("-9223372036854775808", INT64_MIN, INT64_MAX, INT64_MIN);
    i64_ok("0", 0, 0, 0);
    i64_ok("10", 1, 10, 10); /* ranges are inclusive */
    i64_ok("1", 1, 10, 1);

    i64_bad("9223372036854775808", INT64_MIN, INT64_MAX, FT_ERANGE);
    i64_bad("-9223372036854775809", INT64_MIN, INT64_MAX, FT_ERANGE);
    i64_bad("99999999999999999999999", INT64_MIN, INT64_MAX, FT_ERANGE);
    i64_bad("11", 1, 10, FT_ERANGE);
    i64_bad("0", 1, 10, FT_ERANGE);
    i64_bad("-1", 0, 10, FT_ERANGE);
    i64_bad("", 0, 10, FT_EPARSE);
    i64_bad(NULL, 0, 10, FT_EPARSE);
    i64_bad(" 5", 0, 10, FT_EPARSE);
    i64_bad("5 ", 0, 10, FT_EPARSE);
    i64_bad("\t5", 0, 10, FT_EPARSE);
    i64_bad("5\n", 0, 10, FT_EPARSE);
    i64_bad("5x", 0, 10, FT_EPARSE);
    i64_bad("0x10", 0, 100, FT_EPARSE);
    i64_bad("1.5", 0, 10, FT_EPARSE);
    i64_bad("1e3", 0, 10000, FT_EPARSE);
    i64_bad("--5", -10, 10, FT_EPARSE);
    i64_bad("- 5", -10, 10, FT_EPARSE);
    i64_bad("-", -10, 10, FT_EPARSE);
    i64_bad("+", -10, 10, FT_EPARSE);
    i64_bad("5K", 0, 10000, FT_EPARSE); /* units belong to sizes and counts */
    i64_bad("abc", 0, 10, FT_EPARSE);
}

static void test_size(void) {
    unit_fn f = ft_parse_size;
    const uint64_t M = UINT64_MAX;
    unit_ok(f, "size", "0", M, 0);
    unit_ok(f, "size", "123", M, 123);
    unit_ok(f, "size", "1K", M, 1024);
    unit_ok(f, "size", "1k", M, 1024);
    unit_ok(f, "size", "1KiB", M, 1024);
    unit_ok(f, "size", "1kib", M, 1024);
    unit_ok(f, "size", "1KB", M, 1024);
    unit_ok(f, "size", "3M", M, 3ull << 20);
    unit_ok(f, "size", "64MiB", M, 64ull << 20);
    unit_ok(f, "size", "2G", M, 2ull << 30);
    unit_ok(f, "size", "5T", M, 5ull << 40);
    unit_ok(f, "size", "2TB", M, 2ull << 40);
    unit_ok(f, "size", "18446744073709551615", M, UINT64_MAX);
    unit_ok(f, "size", "16777215T", M, 16777215ull << 40);
    unit_ok(f, "size", "1M", 1 << 20, 1 << 20); /* max is inclusive */

    unit_bad(f, "size", "16777216T", 0, M, FT_ERANGE); /* 2^64: overflow after the unit */
    unit_bad(f, "size", "18446744073709551616", 0, M, FT_ERANGE);
    unit_bad(f, "size", "99999999999999999999G", 0, M, FT_ERANGE);
    unit_bad(f, "size", "2K", 0, 2047, FT_ERANGE);
    unit_bad(f, "size", "1K", 1025, M, FT_ERANGE);
    unit_bad(f, "size", "", 0, M, FT_EPARSE);
    unit_bad(f, "size", NULL, 0, M, FT_EPARSE);
    unit_bad(f, "size", "K", 0, M, FT_EPARSE);
    unit_bad(f, "size", "-1", 0, M, FT_EPARSE);
    unit_bad(f, "size", "+1", 0, M, FT_EPARSE);
    unit_bad(f, "size", " 1K", 0, M, FT_EPARSE);
    unit_bad(f, "size", "1K ", 0, M, FT_EPARSE);
    unit_bad(f, "size", "1 K", 0, M, FT_EPARSE);
    unit_bad(f, "size", "1.5K", 0, M, FT_EPARSE);
    unit_bad(f, "size", "1Ki", 0, M, FT_EPARSE);
    unit_bad(f, "size", "1KiBx", 0, M, FT_EPARSE);
    unit_bad(f, "size", "1KK", 0, M, FT_EPARSE);
    unit_bad(f, "size", "1P", 0, M, FT_EPARSE);
    unit_bad(f, "size", "1X", 0, M, FT_EPARSE);
    unit_bad(f, "size", "1B", 0, M, FT_EPARSE);
    unit_bad(f, "size", "0x10", 0, M, FT_EPARSE);
}

static void test_count(void) {
    unit_fn f = ft_parse_count;
    const uint64_t M = UINT64_MAX;
    unit_ok(f, "count", "7", M, 7);
    unit_ok(f, "count", "1K", M, 1000);
    unit_ok(f, "count", "1k", M, 1000);
    unit_ok(f, "count", "25M", M, 25000000);
    unit_ok(f, "count", "2G", M, 2000000000ull);
    unit_ok(f, "count", "18446744073709551K", M, 18446744073709551000ull);

    unit_bad(f, "count", "18446744073709552K", 0, M, FT_ERANGE);
    unit_bad(f, "count", "1001", 0, 1000, FT_ERANGE);
    unit_bad(f, "count", "1KiB", 0, M, FT_EPARSE); /* binary suffixes are for sizes only */
    unit_bad(f, "count", "1KB", 0, M, FT_EPARSE);
    unit_bad(f, "count", "1e3", 0, M, FT_EPARSE);
    unit_bad(f, "count", "1,000", 0, M, FT_EPARSE);
    unit_bad(f, "count", "-5", 0, M, FT_EPARSE);
    unit_bad(f, "count", "", 0, M, FT_EPARSE);
}

static void test_double(void) {
    dbl_ok("0.5", 0, 1, 0.5);
    dbl_ok("-1.25", -2, 2, -1.25);
    dbl_ok("1e-3", 0, 1, 1e-3);
    dbl_ok("1", 0, 1, 1.0);
    dbl_ok("0", 0, 1, 0.0);
    dbl_ok("+2.5", 0, 10, 2.5);
    dbl_ok(".5", 0, 1, 0.5);

    dbl_bad("1.0000001", 0, 1, FT_ERANGE);
    dbl_bad("-0.1", 0, 1, FT_ERANGE);
    dbl_bad("1e999", -1e308, 1e308, FT_ERANGE);
    dbl_bad("nan", -1e308, 1e308, FT_ERANGE);
    dbl_bad("inf", -1e308, 1e308, FT_ERANGE);
    dbl_bad("-infinity", -1e308, 1e308, FT_ERANGE);
    dbl_bad("", 0, 1, FT_EPARSE);
    dbl_bad(NULL, 0, 1, FT_EPARSE);
    dbl_bad(" 0.5", 0, 1, FT_EPARSE);
    dbl_bad("0.5 ", 0, 1, FT_EPARSE);
    dbl_bad("0.5x", 0, 1, FT_EPARSE);
    dbl_bad("0,5", 0, 1, FT_EPARSE);
    dbl_bad("abc", 0, 1, FT_EPARSE);
    dbl_bad(".", 0, 1, FT_EPARSE);
}

static void test_choice(void) {
    static const char *const ch[] = {"auto", "moss", "firefly", NULL};
    is_int(ft_parse_choice("auto", ch), 0, "choice: first");
    is_int(ft_parse_choice("firefly", ch), 2, "choice: last");
    is_int(ft_parse_choice("Moss", ch), FT_EPARSE, "choice: case-sensitive");
    is_int(ft_parse_choice("mos", ch), FT_EPARSE, "choice: no prefix match");
    is_int(ft_parse_choice("mosss", ch), FT_EPARSE, "choice: no longer match");
    is_int(ft_parse_choice("", ch), FT_EPARSE, "choice: empty");
    is_int(ft_parse_choice(NULL, ch), FT_EPARSE, "choice: NULL");
    static const char *const none[] = {NULL};
    is_int(ft_parse_choice("auto", none), FT_EPARSE, "choice: empty list");
}

int main(void) {
    test_i64();
    test_size();
    test_count();
    test_double();
    test_choice();
    return done_testing();
}
