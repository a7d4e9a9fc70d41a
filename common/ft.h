/* ft.h: error codes, the two forwarding macros and always-on assertions shared by all of ft.
 * Rule: library functions return 0 or a negative FT_E* code; they never print, exit or parse argv. */
#ifndef FT_FT_H
#define FT_FT_H

#include <stddef.h>
#include <stdint.h>

#define FT_VERSION "0.1.0"

enum ft_err {
    FT_OK = 0,
    FT_ENOMEM = -1,   /* allocation failed */
    FT_EIO = -2,      /* read/write/open failed; errno holds the detail */
    FT_EINVAL = -3,   /* invalid argument */
    FT_EPARSE = -4,   /* malformed input */
    FT_ERANGE = -5,   /* number out of range */
    FT_EUTF8 = -6,    /* invalid UTF-8 */
    FT_ETOOBIG = -7,  /* input larger than the configured limit */
    FT_EEOF = -8,     /* unexpected end of input */
    FT_EFORMAT = -9,  /* valid syntax, unknown or unsupported format */
    FT_EINTR = -10,   /* interrupted by a signal */
};

/* ft_strerror: a static, lower-case description of an FT_E* code (never NULL). */
const char *ft_strerror(int err);

/* Forward a negative code from an expression. */
#define FT_TRY(expr)                                                                                     \
    do {                                                                                                 \
        int ft_try_rc_ = (expr);                                                                         \
        if (ft_try_rc_ < 0) return ft_try_rc_;                                                           \
    } while (0)
/* Return code when cond holds. */
#define FT_RETURN_IF(cond, code)                                                                         \
    do {                                                                                                 \
        if (cond) return (code);                                                                         \
    } while (0)

/* Always-on invariant check (never for user input): prints file:line and aborts. */
#define FT_ASSERT(cond)                                                                                  \
    do {                                                                                                 \
        if (!(cond)) ft_assert_fail(#cond, __FILE__, __LINE__);                                          \
    } while (0)
_Noreturn void ft_assert_fail(const char *what, const char *file, int line);

/* Allocation that treats exhaustion as fatal: for tools and hot paths where no recovery is possible.
 * The library proper uses malloc and returns FT_ENOMEM. */
void *ft_xmalloc(size_t n);
void *ft_xrealloc(void *p, size_t n);
char *ft_xstrdup(const char *s);

/* A growable byte buffer. ft_buf_init zeroes it; ft_buf_release frees data. data is always
 * NUL-terminated after any append (len excludes the NUL). Appends abort on exhaustion. */
typedef struct {
    char *data;
    size_t len, cap;
} ft_buf;
void ft_buf_init(ft_buf *b);
void ft_buf_release(ft_buf *b);
void ft_buf_reserve(ft_buf *b, size_t extra);
void ft_buf_add(ft_buf *b, const void *p, size_t n);
void ft_buf_addc(ft_buf *b, char c);
void ft_buf_adds(ft_buf *b, const char *s);
void ft_buf_addf(ft_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ft_fail: appends the formatted one-line reason to why (when not NULL) and returns rc, for library functions
 * that report "why" beside their error code: return ft_fail(why, FT_EPARSE, "...", ...). */
int ft_fail(ft_buf *why, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* ft_read_file: the whole regular file at path, at most max bytes, in a malloc'd buffer with a NUL after the
 * last byte (*out, *len; the caller frees *out). Returns 0, FT_EIO (cannot open/read, or not a regular file),
 * FT_ETOOBIG (larger than max) or FT_ENOMEM; on failure why (may be NULL) gets "PATH: reason". */
int ft_read_file(const char *path, size_t max, char **out, size_t *len, ft_buf *why);

static inline void ft_buf_clear(ft_buf *b) {
    b->len = 0;
    if (b->data) b->data[0] = 0;
}

#endif
