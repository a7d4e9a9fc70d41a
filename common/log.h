/* log.h: leveled diagnostics on stderr and the terminal-aware progress line.
 * Rule: stdout is never touched here; progress is drawn only when stderr is a terminal. */
#ifndef FT_LOG_H
#define FT_LOG_H

#include <stdint.h>
#include <stdio.h>

enum ft_log_level { FT_LOG_QUIET = 0, FT_LOG_NORMAL = 1, FT_LOG_VERBOSE = 2, FT_LOG_DEBUG = 3 };

/* ft_log_init: prog (borrowed, must outlive logging) prefixes every message; level filters them. */
void ft_log_init(const char *prog, int level);
int ft_log_level(void);
const char *ft_log_prog(void);

/* "prog: message\n" on stderr. ft_error always prints; ft_warn and ft_info need FT_LOG_NORMAL,
 * ft_verbose FT_LOG_VERBOSE, ft_debug FT_LOG_DEBUG. */
void ft_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ft_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ft_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ft_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ft_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic seconds. */
double ft_now(void);

/* Progress line: "\r<label>: N records, X MB, Y MB/s[, ETA mm:ss]" redrawn at most 5 times a second,
 * only when stderr is a terminal and the level is at least FT_LOG_NORMAL. total_bytes 0 = unknown. */
typedef struct {
    const char *label; /* borrowed */
    uint64_t total_bytes;
    double start, last;
    int enabled, drawn;
} ft_progress;
void ft_progress_init(ft_progress *p, const char *label, uint64_t total_bytes);
void ft_progress_update(ft_progress *p, uint64_t records, uint64_t bytes);
/* Clears the line if one was drawn. */
void ft_progress_release(ft_progress *p);

#endif
