/* mapfile.h: a whole file mapped read-only, the way every model reader sees its input.
 * Rule: only regular files are mapped; the size is taken once from fstat and the mapping never changes. */
#ifndef FT_MAPFILE_H
#define FT_MAPFILE_H

#include <stddef.h>

#include "ft.h"

typedef struct {
    const unsigned char *data; /* size bytes, NULL when size is 0 */
    size_t size;
} ft_mapfile;

/* ft_mapfile_open: maps path. Returns 0, or FT_EIO with errno set (EISDIR/EINVAL for a directory or a
 * non-regular file); *m is zeroed on failure. Release with ft_mapfile_close. */
int ft_mapfile_open(const char *path, ft_mapfile *m);
/* Unmaps (a zeroed struct is harmless). */
void ft_mapfile_close(ft_mapfile *m);

#endif
