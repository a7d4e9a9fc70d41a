/* atomic.h: output files that appear complete or not at all (temp file + rename).
 * Rule: every temp file is registered so SIGINT/SIGTERM and error paths remove it. */
#ifndef FT_ATOMIC_H
#define FT_ATOMIC_H

#include <stdio.h>

typedef struct ft_atomic ft_atomic;

/* ft_atomic_open: creates "<dir>/.<name>.tmp.XXXXXX" beside path and returns a heap handle whose
 * stream (ft_atomic_stream) writes to it. path "-" writes stdout directly (commit flushes it); an existing
 * path that is not a regular file (/dev/null, a FIFO, a terminal) is written in place, never renamed over;
 * a directory is FT_EIO with errno EISDIR.
 * Installs the signal handlers on first use. Returns 0 or FT_EIO (errno set). */
int ft_atomic_open(const char *path, ft_atomic **out);
/* The stream to write to; owned by the handle. */
FILE *ft_atomic_stream(ft_atomic *a);
/* ft_atomic_commit: flushes, fsyncs, closes and renames onto the final path, then frees the handle.
 * Returns 0 or FT_EIO (the temp file is removed and errno set). */
int ft_atomic_commit(ft_atomic *a);
/* ft_atomic_abort: closes and removes the temp file and frees the handle (NULL is harmless). */
void ft_atomic_abort(ft_atomic *a);

/* ---- directories: built aside, renamed into place ------------------------------------------------ */

/* A directory output (a flat set of files, e.g. MDS shards + index.json) that appears complete or not at
 * all: files are written into a registered temp directory "<dir>/.<name>.tmp.XXXXXX" beside path, which
 * SIGINT/SIGTERM, exit and ft_atomic_dir_abort remove with everything directly inside it. */
typedef struct ft_atomic_dir ft_atomic_dir;
/* ft_atomic_dir_open: creates the temp directory. Returns 0 and a heap handle, or FT_EIO (errno set). */
int ft_atomic_dir_open(const char *path, ft_atomic_dir **out);
/* The temp directory to write into (owned by the handle). */
const char *ft_atomic_dir_temp(const ft_atomic_dir *d);
/* ft_atomic_dir_commit: fsyncs the directory and renames it onto path, then frees the handle. An existing
 * path is FT_EIO with errno EEXIST unless replace is set; then the old directory is moved aside and its
 * files removed once the new one is in place. On error the temp directory is removed. Returns 0 or FT_EIO. */
int ft_atomic_dir_commit(ft_atomic_dir *d, int replace);
/* ft_atomic_dir_abort: removes the temp directory and its files and frees the handle (NULL is harmless). */
void ft_atomic_dir_abort(ft_atomic_dir *d);

/* Removes every registered temp file now (async-signal-safe), and every temp directory with
 * its files; used by the handler and atexit. */
void ft_atomic_cleanup_all(void);

#endif
