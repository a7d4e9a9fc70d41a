/* cli.c: the usage-error exit and option values shared by the tools (see cli.h).
 * Rule: one wording for every tool, so users and tests see the same messages everywhere. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ft.h"
#include "parse.h"

static const char *cli_prog = "ft", *cli_usage = "";

void ft_cli_init(const char *prog, const char *usage) {
    cli_prog = prog;
    cli_usage = usage;
}

void ft_cli_usage(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", cli_prog);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s\nTry '%s --help'.\n", cli_usage, cli_prog);
    exit(2);
}

static const char *why(int rc) { return rc == FT_ERANGE ? "out of range" : "not a number"; }

uint64_t ft_cli_count(const char *name, const char *v, uint64_t min, uint64_t max) {
    uint64_t x;
    int rc = ft_parse_count(v, min, max, &x);
    if (rc < 0)
        ft_cli_usage("invalid value for --%s: '%s': %s (expected %llu..%llu)", name, v, why(rc),
                     (unsigned long long)min, (unsigned long long)max);
    return x;
}

int64_t ft_cli_i64(const char *name, const char *v, int64_t min, int64_t max) {
    int64_t x;
    int rc = ft_parse_i64(v, min, max, &x);
    if (rc < 0)
        ft_cli_usage("invalid value for --%s: '%s': %s (expected %lld..%lld)", name, v, why(rc), (long long)min,
                     (long long)max);
    return x;
}

double ft_cli_double(const char *name, const char *v, double min, double max) {
    double x;
    if (ft_parse_double(v, min, max, &x) < 0)
        ft_cli_usage("invalid value for --%s: '%s': expected %g..%g", name, v, min, max);
    return x;
}

char **ft_cli_inputs(int argc, char **argv, int first, int *n) {
    static char stdin_only[] = "-";
    static char *none[] = {stdin_only, NULL};
    *n = first < argc ? argc - first : 1;
    return first < argc ? argv + first : none;
}

uint64_t ft_cli_input_bytes(char **inputs, int n) {
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (strcmp(inputs[i], "-") && !stat(inputs[i], &st) && S_ISREG(st.st_mode)) total += (uint64_t)st.st_size;
    }
    return total;
}
