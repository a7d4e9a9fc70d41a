/* parse.h: strict parsing of numbers given by users (options, config values).
 * Rule: the whole string must be consumed; no atoi, no silent wrap, ranges are inclusive. */
#ifndef FT_PARSE_H
#define FT_PARSE_H

#include <stdint.h>

/* Decimal integer in [min, max]. Returns 0, FT_EPARSE (not a number, trailing junk, empty)
 * or FT_ERANGE. *out is written only on success. */
int ft_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/* Size with optional unit: K, M, G, T (powers of 1024; "KiB"/"KB"/"k" accepted) in [min, max]. */
int ft_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Count with optional decimal unit K, M, G (powers of 1000) in [min, max]. */
int ft_parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Finite floating point number in [min, max]. */
int ft_parse_double(const char *s, double min, double max, double *out);

/* Looks s up in a NULL-terminated list; returns its index or FT_EPARSE. */
int ft_parse_choice(const char *s, const char *const *choices);

#endif
