/* mapfile.c: open + fstat + mmap of a regular file.
 * Rule: the descriptor is closed right after mapping; errno survives to the caller. */
#include "mapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int ft_mapfile_open(const char *path, ft_mapfile *m) {
    m->data = NULL;
    m->size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return FT_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0) goto fail;
    if (!S_ISREG(st.st_mode)) {
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        goto fail;
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        errno = EFBIG;
        goto fail;
    }
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) goto fail;
        m->data = p;
        m->size = (size_t)st.st_size;
    }
    close(fd);
    return 0;
fail:;
    int e = errno;
    close(fd);
    errno = e;
    return FT_EIO;
}

void ft_mapfile_close(ft_mapfile *m) {
    if (m->data) munmap((void *)m->data, m->size);
    m->data = NULL;
    m->size = 0;
}
