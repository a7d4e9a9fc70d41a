/* parse.c: strict number parsing for user input.
 * Rule: reject anything strtoX would half-accept (spaces, signs on unsigned, trailing junk). */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ft.h"

int ft_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out) {
    if (!s || !*s || isspace((unsigned char)*s)) return FT_EPARSE;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end) return FT_EPARSE;
    if (errno == ERANGE || v < min || v > max) return FT_ERANGE;
    *out = v;
    return 0;
}

static int parse_unit(const char *s, uint64_t base, uint64_t min, uint64_t max, uint64_t *out) {
    if (!s || !*s || !isdigit((unsigned char)*s)) return FT_EPARSE;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == ERANGE) return FT_ERANGE;
    uint64_t mul = 1;
    if (*end) {
        static const char units[] = "KMGT";
        const char *u = strchr(units, toupper((unsigned char)*end));
        if (!u || !*u) return FT_EPARSE;
        for (int i = 0; i <= u - units; i++) mul *= base;
        end++;
        if (base == 1024 && (!strcasecmp(end, "iB") || !strcasecmp(end, "B"))) end += strlen(end);
        if (*end) return FT_EPARSE;
    }
    if (v > UINT64_MAX / mul) return FT_ERANGE;
    v *= mul;
    if (v < min || v > max) return FT_ERANGE;
    *out = v;
    return 0;
}

int ft_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out) {
    return parse_unit(s, 1024, min, max, out);
}

int ft_parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out) {
    return parse_unit(s, 1000, min, max, out);
}

int ft_parse_double(const char *s, double min, double max, double *out) {
    if (!s || !*s || isspace((unsigned char)*s)) return FT_EPARSE;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end) return FT_EPARSE;
    if (errno == ERANGE || !isfinite(v) || v < min || v > max) return FT_ERANGE;
    *out = v;
    return 0;
}

int ft_parse_choice(const char *s, const char *const *choices) {
    for (int i = 0; s && choices[i]; i++)
        if (!strcmp(s, choices[i])) return i;
    return FT_EPARSE;
}
