/* lines.h: a fast line reader for huge files and pipes.
 * Rule: memory is bounded by the longest line (and by max_line); nothing slurps the whole input. */
#ifndef FT_LINES_H
#define FT_LINES_H

#include <stddef.h>
#include <stdint.h>

typedef struct ft_lines ft_lines;

/* ft_lines_open: path "-" (or NULL) reads stdin. max_line bounds one line's length (0 = 1 GiB).
 * Returns 0 and a heap reader in *out (free with ft_lines_free), or FT_EIO (errno set). */
int ft_lines_open(const char *path, size_t max_line, ft_lines **out);
/* ft_lines_open_fd: reads an open descriptor; close_fd says whether ft_lines_free closes it. */
int ft_lines_open_fd(int fd, size_t max_line, int close_fd, ft_lines **out);
void ft_lines_free(ft_lines *r);

/* ft_lines_next: the next line without its '\n' ('\r' is kept). *line is borrowed and valid until the
 * next call; it is NUL-terminated at (*line)[*len].
 * Returns 1 for a line, 0 at end of input, FT_EIO on a read error, or FT_ETOOBIG for a line longer than
 * max_line: that line has been consumed, *len is its full length and *line holds its first bytes
 * (at most 4096). */
int ft_lines_next(ft_lines *r, const char **line, size_t *len);

/* 1-based number of the line last returned; bytes consumed so far; whether the last line returned
 * ended with '\n' (0 for a final line without one). */
uint64_t ft_lines_lineno(const ft_lines *r);
uint64_t ft_lines_offset(const ft_lines *r);
int ft_lines_had_newline(const ft_lines *r);

#endif
