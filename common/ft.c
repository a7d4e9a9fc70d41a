/* ft.c: error names, assertion failure, checked allocation and the growable buffer.
 * Rule: nothing here knows about any file format. */
#include "ft.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *ft_strerror(int err) {
    switch (err) {
    case FT_OK: return "success";
    case FT_ENOMEM: return "out of memory";
    case FT_EIO: return "input/output error";
    case FT_EINVAL: return "invalid argument";
    case FT_EPARSE: return "malformed input";
    case FT_ERANGE: return "value out of range";
    case FT_EUTF8: return "invalid UTF-8";
    case FT_ETOOBIG: return "input too large";
    case FT_EEOF: return "unexpected end of input";
    case FT_EFORMAT: return "unknown format";
    case FT_EINTR: return "interrupted";
    default: return "unknown error";
    }
}

void ft_assert_fail(const char *what, const char *file, int line) {
    fprintf(stderr, "ft: internal error: assertion '%s' failed at %s:%d\n", what, file, line);
    abort();
}

static void oom(size_t n) {
    fprintf(stderr, "ft: out of memory allocating %zu bytes\n", n);
    abort();
}

void *ft_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *ft_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *ft_xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(ft_xmalloc(n), s, n);
}

void ft_buf_init(ft_buf *b) { b->data = NULL, b->len = b->cap = 0; }

void ft_buf_release(ft_buf *b) {
    free(b->data);
    ft_buf_init(b);
}

void ft_buf_reserve(ft_buf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) cap += cap / 2 + 64;
    b->data = ft_xrealloc(b->data, cap);
    b->cap = cap;
}

void ft_buf_add(ft_buf *b, const void *p, size_t n) {
    ft_buf_reserve(b, n);
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
}

void ft_buf_addc(ft_buf *b, char c) {
    ft_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = 0;
}

void ft_buf_adds(ft_buf *b, const char *s) { ft_buf_add(b, s, strlen(s)); }

static void buf_vaddf(ft_buf *b, const char *fmt, va_list ap0) {
    va_list ap;
    va_copy(ap, ap0);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        ft_buf_add(b, tmp, (size_t)n);
        return;
    }
    ft_buf_reserve(b, (size_t)n);
    va_copy(ap, ap0);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void ft_buf_addf(ft_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(b, fmt, ap);
    va_end(ap);
}

int ft_fail(ft_buf *why, int rc, const char *fmt, ...) {
    if (why) {
        va_list ap;
        va_start(ap, fmt);
        buf_vaddf(why, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int ft_read_file(const char *path, size_t max, char **out, size_t *len, ft_buf *why) {
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (why) ft_buf_addf(why, "%s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return FT_EIO;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
        close(fd);
        if (!S_ISREG(st.st_mode)) {
            if (why) ft_buf_addf(why, "%s: not a regular file", path);
            return FT_EIO;
        }
        if (why) ft_buf_addf(why, "%s: file larger than %zu MiB", path, max >> 20);
        return FT_ETOOBIG;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return FT_ENOMEM;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (why) ft_buf_addf(why, "%s: %s", path, r < 0 ? strerror(errno) : "file shrank while reading");
            free(buf);
            close(fd);
            return FT_EIO;
        }
        got += (size_t)r;
    }
    close(fd);
    buf[got] = 0;
    *out = buf;
    *len = got;
    return 0;
}
