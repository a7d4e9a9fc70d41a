/* log.c: leveled stderr messages and the progress line.
 * Rule: one fprintf per message so lines from threads never interleave. */
#include "log.h"

#include <stdarg.h>
#include <time.h>
#include <unistd.h>

static const char *g_prog = "ft";
static int g_level = FT_LOG_NORMAL;

void ft_log_init(const char *prog, int level) {
    if (prog) g_prog = prog;
    g_level = level;
}
int ft_log_level(void) { return g_level; }
const char *ft_log_prog(void) { return g_prog; }

static void vlog(int need, const char *fmt, va_list ap) {
    if (g_level < need) return;
    char msg[4096];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(stderr, "%s: %s\n", g_prog, msg);
}

#define DEFINE_LOG(name, need)                                                                           \
    void name(const char *fmt, ...) {                                                                    \
        va_list ap;                                                                                      \
        va_start(ap, fmt);                                                                               \
        vlog(need, fmt, ap);                                                                             \
        va_end(ap);                                                                                      \
    }
DEFINE_LOG(ft_error, FT_LOG_QUIET)
DEFINE_LOG(ft_warn, FT_LOG_NORMAL)
DEFINE_LOG(ft_info, FT_LOG_NORMAL)
DEFINE_LOG(ft_verbose, FT_LOG_VERBOSE)
DEFINE_LOG(ft_debug, FT_LOG_DEBUG)

double ft_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void ft_progress_init(ft_progress *p, const char *label, uint64_t total_bytes) {
    p->label = label;
    p->total_bytes = total_bytes;
    p->start = p->last = ft_now();
    p->enabled = g_level >= FT_LOG_NORMAL && isatty(STDERR_FILENO);
    p->drawn = 0;
}

void ft_progress_update(ft_progress *p, uint64_t records, uint64_t bytes) {
    if (!p->enabled) return;
    double now = ft_now();
    if (now - p->last < 0.2) return;
    p->last = now;
    double el = now - p->start, mb = (double)bytes / 1e6, rate = el > 0 ? mb / el : 0;
    char eta[32] = "";
    if (p->total_bytes && bytes && bytes <= p->total_bytes && rate > 0) {
        double left = ((double)(p->total_bytes - bytes) / 1e6) / rate;
        snprintf(eta, sizeof eta, ", ETA %d:%02d", (int)(left / 60), (int)left % 60);
    }
    fprintf(stderr, "\r%s: %llu records, %.1f MB, %.1f MB/s%s\033[K", p->label, (unsigned long long)records,
            mb, rate, eta);
    p->drawn = 1;
}

void ft_progress_release(ft_progress *p) {
    if (p->drawn) fputs("\r\033[K", stderr);
    p->drawn = 0;
}
