/* test-lines.c: common/lines.h: CRLF, empty and unterminated lines, lines longer than the 1 MiB chunk,
 * over-long lines (FT_ETOOBIG then the next line), offsets and line numbers, pipes, stdin.
 * Rule: every input is made by the test in its own temp directory, removed at the end. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ft.h"
#include "lines.h"
#include "tap.h"

static char g_dir[64];

static const char *write_file(const char *name, const char *data, size_t n) {
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        printf("Bail out! cannot write %s\n", path);
        exit(1);
    }
    return path;
}

static ft_lines *open_data(const char *name, const char *data, size_t n, size_t max_line) {
    ft_lines *r = NULL;
    int rc = ft_lines_open(write_file(name, data, n), max_line, &r);
    if (rc) {
        printf("Bail out! ft_lines_open %s: %s\n", name, ft_strerror(rc));
        exit(1);
    }
    return r;
}

/* Reads one line and compares it, its number, the offset after it and had_newline. */
static void next_is(ft_lines *r, const char *want, size_t want_len, uint64_t lineno, uint64_t off, int nl,
                    const char *name) {
    const char *s = NULL;
    size_t n = 0;
    int rc = ft_lines_next(r, &s, &n);
    int good = rc == 1 && n == want_len && !memcmp(s, want, n) && s[n] == 0 && ft_lines_lineno(r) == lineno &&
               ft_lines_offset(r) == off && ft_lines_had_newline(r) == nl;
    ok(good, "%s", name);
    if (!good)
        printf("#   rc %d, len %zu, line %llu, offset %llu, newline %d\n", rc, n,
               (unsigned long long)ft_lines_lineno(r), (unsigned long long)ft_lines_offset(r),
               ft_lines_had_newline(r));
}

static void eof_is(ft_lines *r, const char *name) {
    const char *s;
    size_t n;
    int rc1 = ft_lines_next(r, &s, &n), rc2 = ft_lines_next(r, &s, &n);
    ok(rc1 == 0 && rc2 == 0, "%s: end of input, and it stays there", name);
}

static void test_basic(void) {
    const char data[] = "a\r\nbb\n\n\r\nlast";
    ft_lines *r = open_data("basic", data, sizeof data - 1, 0);
    next_is(r, "a\r", 2, 1, 3, 1, "CRLF line keeps its \\r");
    next_is(r, "bb", 2, 2, 6, 1, "LF line");
    next_is(r, "", 0, 3, 7, 1, "empty line");
    next_is(r, "\r", 1, 4, 9, 1, "line of a lone \\r");
    next_is(r, "last", 4, 5, 13, 0, "final line without newline");
    eof_is(r, "basic");
    ft_lines_free(r);

    r = open_data("empty", "", 0, 0);
    eof_is(r, "empty file");
    ok(ft_lines_lineno(r) == 0 && ft_lines_offset(r) == 0, "empty file: line 0, offset 0");
    ft_lines_free(r);

    r = open_data("nl", "\n", 1, 0);
    next_is(r, "", 0, 1, 1, 1, "file of one newline: one empty line");
    eof_is(r, "file of one newline");
    ft_lines_free(r);

    r = open_data("nul", "a\0b\nc", 5, 0);
    next_is(r, "a\0b", 3, 1, 4, 1, "embedded NUL: the length counts it");
    next_is(r, "c", 1, 2, 5, 0, "after embedded NUL");
    ft_lines_free(r);

    r = NULL;
    char missing[128];
    snprintf(missing, sizeof missing, "%s/does-not-exist", g_dir);
    errno = 0;
    int rc = ft_lines_open(missing, 0, &r);
    ok(rc == FT_EIO && errno == ENOENT && r == NULL, "missing file: FT_EIO, errno ENOENT");
}

/* Many lines of varying lengths across several 1 MiB chunks. */
static void test_many(void) {
    ft_buf b;
    ft_buf_init(&b);
    int nlines = 0;
    while (b.len < 3500000) {
        int len = (nlines * 7919) % 3001;
        for (int k = 0; k < len; k++)
            ft_buf_addc(&b, (char)('a' + (nlines + k) % 26));
        ft_buf_adds(&b, nlines % 5 == 0 ? "\r\n" : "\n");
        nlines++;
    }
    ft_lines *r = open_data("many", b.data, b.len, 0);
    int bad = 0, i = 0;
    uint64_t off = 0;
    const char *s;
    size_t n;
    int rc;
    while ((rc = ft_lines_next(r, &s, &n)) == 1) {
        size_t len = (size_t)((i * 7919) % 3001) + (i % 5 == 0);
        int good = n == len && ft_lines_lineno(r) == (uint64_t)i + 1;
        for (size_t k = 0; good && k < (size_t)((i * 7919) % 3001); k++)
            good = s[k] == 'a' + (i + (int)k) % 26;
        off += n + 1;
        good = good && ft_lines_offset(r) == off;
        if (!good && bad++ < 3) printf("#   line %d: len %zu, want %zu\n", i + 1, n, len);
        i++;
    }
    ok(rc == 0 && i == nlines && bad == 0, "%d lines over %zu bytes read back exactly", nlines, b.len);
    ok(ft_lines_offset(r) == b.len, "offset at the end is the file size");
    ft_lines_free(r);
    ft_buf_release(&b);
}

static int all_bytes(const char *s, size_t n, char c) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != c) return 0;
    return 1;
}

static void test_huge_line(void) {
    const size_t big = 3000000;
    char *data = malloc(big + 64);
    size_t n = 0;
    memcpy(data, "first\n", 6), n = 6;
    memset(data + n, 'x', big), n += big;
    memcpy(data + n, "\ntail\n", 6), n += 6;
    ft_lines *r = open_data("huge", data, n, 0);
    const char *s;
    size_t len;
    next_is(r, "first", 5, 1, 6, 1, "huge: line before");
    int rc = ft_lines_next(r, &s, &len);
    ok(rc == 1 && len == big && all_bytes(s, len, 'x') && s[len] == 0 && ft_lines_lineno(r) == 2 &&
           ft_lines_offset(r) == 6 + big + 1,
       "a 3 MB line (longer than the 1 MiB chunk) is returned whole");
    next_is(r, "tail", 4, 3, n, 1, "huge: line after");
    eof_is(r, "huge");
    ft_lines_free(r);

    /* the same line last in the file, without a newline */
    r = open_data("huge2", data, 6 + big, 0);
    next_is(r, "first", 5, 1, 6, 1, "huge, unterminated: line before");
    rc = ft_lines_next(r, &s, &len);
    ok(rc == 1 && len == big && all_bytes(s, len, 'x') && ft_lines_had_newline(r) == 0 &&
           ft_lines_offset(r) == 6 + big,
       "a 3 MB final line without newline is returned whole");
    eof_is(r, "huge, unterminated");
    ft_lines_free(r);
    free(data);
}

static void test_too_big(void) {
    ft_buf b;
    ft_buf_init(&b);
    ft_buf_adds(&b, "short\n");
    for (int i = 0; i < 5000; i++)
        ft_buf_addc(&b, 'y');
    ft_buf_adds(&b, "\nafter\n");
    for (int i = 0; i < 100; i++)
        ft_buf_addc(&b, 'z'); /* exactly max_line */
    ft_buf_adds(&b, "\n");
    for (int i = 0; i < 101; i++)
        ft_buf_addc(&b, 'w'); /* one more */
    ft_buf_adds(&b, "\nend");
    ft_lines *r = open_data("toobig", b.data, b.len, 100);
    const char *s;
    size_t n;
    next_is(r, "short", 5, 1, 6, 1, "too big: line before");
    int rc = ft_lines_next(r, &s, &n);
    ok(rc == FT_ETOOBIG && n == 5000 && strlen(s) == 4096 && all_bytes(s, 4096, 'y') &&
           ft_lines_lineno(r) == 2 && ft_lines_offset(r) == 6 + 5001 && ft_lines_had_newline(r) == 1,
       "line over max_line: FT_ETOOBIG, full length, the first 4096 bytes, line 2");
    next_is(r, "after", 5, 3, 6 + 5001 + 6, 1, "too big: reading goes on at the next line");
    rc = ft_lines_next(r, &s, &n);
    ok(rc == 1 && n == 100 && ft_lines_lineno(r) == 4, "a line of exactly max_line is returned");
    rc = ft_lines_next(r, &s, &n);
    ok(rc == FT_ETOOBIG && n == 101 && strlen(s) == 101 && ft_lines_lineno(r) == 5,
       "a line of max_line + 1 is FT_ETOOBIG with all of it as prefix");
    next_is(r, "end", 3, 6, b.len, 0, "too big: last line");
    eof_is(r, "too big");
    ft_lines_free(r);

    /* over-long lines spanning several chunks, in the middle and at the end without newline */
    ft_buf_clear(&b);
    ft_buf_adds(&b, "one\n");
    for (int i = 0; i < 2500000; i++)
        ft_buf_addc(&b, 'q');
    ft_buf_adds(&b, "\ntwo\n");
    for (int i = 0; i < 2500000; i++)
        ft_buf_addc(&b, 'p');
    r = open_data("toobig2", b.data, b.len, 1000);
    next_is(r, "one", 3, 1, 4, 1, "multi-chunk too big: line before");
    rc = ft_lines_next(r, &s, &n);
    ok(rc == FT_ETOOBIG && n == 2500000 && all_bytes(s, strlen(s), 'q') && ft_lines_lineno(r) == 2 &&
           ft_lines_offset(r) == 4 + 2500001,
       "a 2.5 MB line over max_line: FT_ETOOBIG with its full length");
    next_is(r, "two", 3, 3, 4 + 2500001 + 4, 1, "multi-chunk too big: next line");
    rc = ft_lines_next(r, &s, &n);
    ok(rc == FT_ETOOBIG && n == 2500000 && s[0] == 'p' && ft_lines_lineno(r) == 4 &&
           ft_lines_had_newline(r) == 0 && ft_lines_offset(r) == b.len,
       "an over-long final line without newline: FT_ETOOBIG, no newline, offset at the end");
    eof_is(r, "multi-chunk too big");
    ft_lines_free(r);
    ft_buf_release(&b);
}

/* A writer thread feeding a pipe in odd-sized pieces. */
typedef struct {
    int fd;
    int nlines;
} writer_arg;

static void *writer(void *p) {
    writer_arg *w = p;
    ft_buf b;
    ft_buf_init(&b);
    for (int i = 0; i < w->nlines; i++) {
        ft_buf_addf(&b, "line %d", i);
        for (int k = 0; k < i % 97; k++)
            ft_buf_addc(&b, '.');
        ft_buf_addc(&b, '\n');
    }
    size_t off = 0, piece = 1;
    while (off < b.len) {
        size_t m = b.len - off < piece ? b.len - off : piece;
        ssize_t got = write(w->fd, b.data + off, m);
        if (got <= 0) break;
        off += (size_t)got;
        piece = piece * 3 % 70001 + 1;
    }
    close(w->fd);
    ft_buf_release(&b);
    return NULL;
}

static void test_pipe(void) {
    int fds[2];
    if (pipe(fds) != 0) {
        skip("pipe() failed", "pipe");
        return;
    }
    writer_arg w = {fds[1], 50000};
    pthread_t th;
    pthread_create(&th, NULL, writer, &w);
    ft_lines *r = NULL;
    int rc = ft_lines_open_fd(fds[0], 0, 1, &r);
    ok(rc == 0, "open_fd on a pipe");
    const char *s;
    size_t n;
    int i = 0, bad = 0;
    char want[256];
    while ((rc = ft_lines_next(r, &s, &n)) == 1) {
        int k = snprintf(want, sizeof want, "line %d", i);
        for (int j = 0; j < i % 97; j++)
            want[k++] = '.';
        if ((n != (size_t)k || memcmp(s, want, n) || ft_lines_lineno(r) != (uint64_t)i + 1) && bad++ < 3)
            printf("#   line %d differs: '%.*s'\n", i + 1, (int)n, s);
        i++;
    }
    pthread_join(th, NULL);
    ok(rc == 0 && i == w.nlines && bad == 0, "pipe: %d lines written in odd pieces read back", w.nlines);
    ft_lines_free(r); /* closes fds[0] */
    errno = 0;
    ok(fcntl(fds[0], F_GETFD) == -1 && errno == EBADF, "close_fd = 1: ft_lines_free closes the descriptor");

    /* close_fd = 0 leaves it open */
    if (pipe(fds) != 0) return;
    if (write(fds[1], "x\ny", 3) != 3) printf("# short write\n");
    close(fds[1]);
    rc = ft_lines_open_fd(fds[0], 0, 0, &r);
    next_is(r, "x", 1, 1, 2, 1, "pipe, close_fd = 0: first line");
    next_is(r, "y", 1, 2, 3, 0, "pipe, close_fd = 0: unterminated last line");
    ft_lines_free(r);
    ok(fcntl(fds[0], F_GETFD) != -1, "close_fd = 0: the descriptor stays open");
    close(fds[0]);
}

static void test_stdin(void) {
    const char *path = write_file("stdin", "in1\nin2\n", 8);
    int saved = dup(STDIN_FILENO), fd = open(path, O_RDONLY);
    if (saved < 0 || fd < 0 || dup2(fd, STDIN_FILENO) < 0) {
        skip("cannot redirect stdin", "stdin");
        return;
    }
    close(fd);
    ft_lines *r = NULL;
    int rc = ft_lines_open("-", 0, &r);
    ok(rc == 0, "\"-\" opens stdin");
    next_is(r, "in1", 3, 1, 4, 1, "stdin: line 1");
    next_is(r, "in2", 3, 2, 8, 1, "stdin: line 2");
    eof_is(r, "stdin");
    ft_lines_free(r);
    ok(fcntl(STDIN_FILENO, F_GETFD) != -1, "stdin is not closed by ft_lines_free");
    dup2(saved, STDIN_FILENO);
    close(saved);
}

int main(void) {
    if (tap_tmpdir(g_dir, sizeof g_dir, "lines")) return 1;
    test_basic();
    test_many();
    test_huge_line();
    test_too_big();
    test_pipe();
    test_stdin();
    const char *names[] = {"basic", "empty", "nl",     "nul",     "many",
                           "huge",  "huge2", "toobig", "toobig2", "stdin"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", g_dir, names[i]);
        unlink(p);
    }
    ok(rmdir(g_dir) == 0, "temp directory removed (nothing else left in it)");
    return done_testing();
}
