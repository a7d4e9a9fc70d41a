/* cli.h: what the tools' main.c files share: the usage-error exit and strictly parsed option values.
 * Rule: only tools/ft-* main.c files use this; it prints and exits, which common/ never does. */
#ifndef FT_CLI_H
#define FT_CLI_H
#include <stdint.h>

/* ft_cli_init: the program name ("ft-dedup") and the usage line(s) a usage error shows (no final newline). */
void ft_cli_init(const char *prog, const char *usage);

/* ft_cli_usage: "PROG: message", the usage line, "Try 'PROG --help'." on stderr, then exit 2. */
_Noreturn void ft_cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The value v of option --name, parsed strictly (common/parse.h) within [min, max]; anything else is a usage
 * error naming the option, the value and the range. */
uint64_t ft_cli_count(const char *name, const char *v, uint64_t min, uint64_t max);
int64_t ft_cli_i64(const char *name, const char *v, int64_t min, int64_t max);
double ft_cli_double(const char *name, const char *v, double min, double max);

/* ft_cli_inputs: the operands argv[first..argc), or the single operand "-" (stdin) when there are none;
 * *n gets their count. The array is argv itself or a static one: nothing to free. */
char **ft_cli_inputs(int argc, char **argv, int first, int *n);

/* ft_cli_input_bytes: the total size of the regular files among inputs ("-", pipes and missing files count
 * 0), for a progress line's ETA. */
uint64_t ft_cli_input_bytes(char **inputs, int n);

#endif
