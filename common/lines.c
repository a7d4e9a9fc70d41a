/* lines.c: buffered line splitting with memchr over read(2) chunks.
 * Rule: one buffer that grows only for a long line; over-long lines are skipped, never buffered. */
#include "lines.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ft.h"

#define CHUNK (1u << 20)
#define PREFIX 4096

struct ft_lines {
    int fd, close_fd, eof, had_nl;
    char *buf;
    size_t cap, start, end, scan; /* valid data is buf[start, end); scan: where to look for '\n' */
    size_t max_line;
    uint64_t lineno, offset;
    char prefix[PREFIX + 1];
};

int ft_lines_open_fd(int fd, size_t max_line, int close_fd, ft_lines **out) {
    ft_lines *r = calloc(1, sizeof *r);
    if (!r) return FT_ENOMEM;
    r->fd = fd;
    r->close_fd = close_fd;
    r->max_line = max_line ? max_line : ((size_t)1 << 30);
    r->cap = CHUNK;
    r->buf = malloc(r->cap + 1);
    if (!r->buf) {
        free(r);
        return FT_ENOMEM;
    }
    *out = r;
    return 0;
}

int ft_lines_open(const char *path, size_t max_line, ft_lines **out) {
    if (!path || !strcmp(path, "-")) return ft_lines_open_fd(STDIN_FILENO, max_line, 0, out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return FT_EIO;
    int rc = ft_lines_open_fd(fd, max_line, 1, out);
    if (rc < 0) close(fd);
    return rc;
}

void ft_lines_free(ft_lines *r) {
    if (!r) return;
    if (r->close_fd) close(r->fd);
    free(r->buf);
    free(r);
}

/* Reads more data after buf[end]; returns bytes read, 0 at EOF, FT_EIO. */
static int64_t fill(ft_lines *r) {
    if (r->start > 0 && (r->end == r->cap || r->start > r->cap / 2)) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start, r->scan -= r->start, r->start = 0;
    }
    if (r->end == r->cap) {
        size_t cap = r->cap * 2;
        char *b = realloc(r->buf, cap + 1);
        if (!b) return FT_ENOMEM;
        r->buf = b, r->cap = cap;
    }
    for (;;) {
        ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return FT_EIO;
        if (n == 0) r->eof = 1;
        r->end += (size_t)n;
        return n;
    }
}

/* Discards the rest of an over-long line that starts at buf[start]. */
static int skip_long(ft_lines *r, const char **line, size_t *len) {
    size_t avail = r->end - r->start;
    const char *eol = memchr(r->buf + r->start, '\n', avail);
    if (eol) avail = (size_t)(eol - (r->buf + r->start)); /* the prefix never reaches into the next line */
    size_t keep = avail < PREFIX ? avail : PREFIX;
    memcpy(r->prefix, r->buf + r->start, keep);
    r->prefix[keep] = 0;
    uint64_t total = 0;
    for (;;) {
        char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
        if (nl) {
            size_t n = (size_t)(nl - (r->buf + r->start));
            total += n;
            r->start += n + 1, r->scan = r->start;
            r->offset += n + 1;
            r->had_nl = 1;
            break;
        }
        total += r->end - r->start;
        r->offset += r->end - r->start;
        r->start = r->end = r->scan = 0;
        int64_t got = fill(r);
        if (got < 0) return (int)got;
        if (got == 0) {
            r->had_nl = 0;
            break;
        }
    }
    r->lineno++;
    *line = r->prefix;
    *len = (size_t)total;
    return FT_ETOOBIG;
}

int ft_lines_next(ft_lines *r, const char **line, size_t *len) {
    for (;;) {
        char *nl = memchr(r->buf + r->scan, '\n', r->end - r->scan);
        if (nl) {
            size_t n = (size_t)(nl - (r->buf + r->start));
            if (n > r->max_line) return skip_long(r, line, len);
            *nl = 0;
            *line = r->buf + r->start;
            *len = n;
            r->start += n + 1, r->scan = r->start;
            r->offset += n + 1;
            r->lineno++;
            r->had_nl = 1;
            return 1;
        }
        r->scan = r->end;
        if (r->end - r->start > r->max_line) return skip_long(r, line, len);
        if (r->eof) {
            if (r->end == r->start) return 0;
            size_t n = r->end - r->start;
            r->buf[r->end] = 0;
            *line = r->buf + r->start;
            *len = n;
            r->start = r->scan = r->end;
            r->offset += n;
            r->lineno++;
            r->had_nl = 0;
            return 1;
        }
        int64_t got = fill(r);
        if (got < 0) return (int)got;
    }
}

uint64_t ft_lines_lineno(const ft_lines *r) { return r->lineno; }
uint64_t ft_lines_offset(const ft_lines *r) { return r->offset; }
int ft_lines_had_newline(const ft_lines *r) { return r->had_nl; }
