/* testdata.h: where unit tests find the shared test data (DESIGN.md "Test data"): $FT_TESTDATA, else
 * ../shared from the working directory, else ../shared beside the checkout that holds the test binary.
 * Rule: a test that needs a file and cannot find it prints "# SKIP" with the path it wanted. */
#ifndef FT_TESTDATA_H
#define FT_TESTDATA_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes the path of rel (a file or directory inside the shared data) into buf; returns 1 when it exists. */
static inline int testdata(const char *rel, char *buf, size_t cap) {
    struct stat st;
    const char *env = getenv("FT_TESTDATA");
    if (env && *env) {
        snprintf(buf, cap, "%s/%s", env, rel);
        return stat(buf, &st) == 0;
    }
    snprintf(buf, cap, "../shared/%s", rel);
    if (stat(buf, &st) == 0) return 1;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) { /* <checkout>/<O>/tests/test-x */
        exe[n] = 0;
        for (int up = 0; up < 3; up++) {
            char *slash = strrchr(exe, '/');
            if (slash) *slash = 0;
        }
        size_t n1 = strlen(exe);
        if (n1 + strlen(rel) + 12 < cap) {
            memcpy(buf, exe, n1);
            strcpy(buf + n1, "/../shared/");
            strcat(buf, rel);
            if (stat(buf, &st) == 0) return 1;
        }
    }
    snprintf(buf, cap, "../shared/%s", rel);
    return 0;
}

#endif
