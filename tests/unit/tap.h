/* tap.h: the unit-test harness: TAP output, a failing assertion makes the program exit non-zero.
 * Rule: header-only; every check prints exactly one "ok"/"not ok" line with its name. */
#ifndef FT_TAP_H
#define FT_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int tap_ok(int cond, const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (!cond) {
        printf("#   failed at %s:%d\n", file, line);
        tap_failed++;
    }
    fflush(stdout);
    return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...)                                                                           \
    do {                                                                                                 \
        long long g_ = (long long)(got), w_ = (long long)(want);                                         \
        if (!ok(g_ == w_, __VA_ARGS__)) printf("#   got %lld, want %lld\n", g_, w_);                     \
    } while (0)
#define is_str(got, want, ...)                                                                           \
    do {                                                                                                 \
        const char *g_ = (got), *w_ = (want);                                                            \
        if (!ok(g_ && w_ && !strcmp(g_, w_), __VA_ARGS__))                                               \
            printf("#   got  '%s'\n#   want '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)");            \
    } while (0)
#define skip(reason, ...)                                                                                \
    do {                                                                                                 \
        printf("ok %d - ", ++tap_n);                                                                     \
        printf(__VA_ARGS__);                                                                             \
        printf(" # SKIP %s\n", reason);                                                                  \
    } while (0)

/* Makes a fresh directory /tmp/ft-test-<name>.XXXXXX in dir (cap bytes); returns 0, or prints
 * "Bail out!" and returns 1 for main to return. */
static inline int tap_tmpdir(char *dir, size_t cap, const char *name) {
    snprintf(dir, cap, "/tmp/ft-test-%s.XXXXXX", name);
    if (mkdtemp(dir)) return 0;
    printf("Bail out! mkdtemp failed\n");
    return 1;
}

/* Prints the plan; returns the exit status for main. */
static inline int done_testing(void) {
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif
