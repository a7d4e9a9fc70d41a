/* atomic.c: temp-file-and-rename outputs with signal-safe cleanup.
 * Rule: the registry is a fixed array of paths, so the signal handler only calls unlink(2). */
#include "atomic.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ft.h"

#define MAX_TEMPS 64
#define PATH_MAXLEN 4096

struct ft_atomic {
    FILE *f;
    int is_stdout, is_direct, slot; /* is_direct: not a regular file (/dev/null, a FIFO): no rename */
    char *final_path;
};

static char g_temps[MAX_TEMPS][PATH_MAXLEN];
static volatile sig_atomic_t g_used[MAX_TEMPS]; /* 1: a temp file, 2: a temp directory */
static int g_installed;

/* Removes a flat directory and the entries directly inside it with system calls only (getdents64 rather
 * than opendir, which allocates), so that the signal handler may call it. */
static void remove_flat_dir(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[4096] __attribute__((aligned(8)));
        long n;
        while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
            for (long at = 0; at < n;) {
                /* struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, char name[] */
                unsigned short reclen;
                memcpy(&reclen, buf + at + 16, sizeof reclen);
                const char *name = buf + at + 19;
                if (strcmp(name, ".") && strcmp(name, "..")) unlinkat(fd, name, 0);
                at += reclen;
            }
        close(fd);
    }
    rmdir(path);
}

void ft_atomic_cleanup_all(void) {
    for (int i = 0; i < MAX_TEMPS; i++)
        if (g_used[i]) {
            if (g_used[i] == 2) remove_flat_dir(g_temps[i]);
            else unlink(g_temps[i]);
            g_used[i] = 0;
        }
}

static void on_signal(int sig) {
    ft_atomic_cleanup_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install(void) {
    if (g_installed) return;
    g_installed = 1;
    int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaction(sigs[i], &sa, NULL);
    }
    atexit(ft_atomic_cleanup_all);
}

static mode_t umask_get(void) {
    mode_t m = umask(0);
    umask(m);
    return m;
}

/* Claims a free slot and fills it with the temp name for path: "<dir>/.<name><suffix>". -1 when none. */
static int temp_slot(const char *path, const char *suffix) {
    int slot = -1;
    for (int i = 0; i < MAX_TEMPS; i++)
        if (!g_used[i]) {
            slot = i;
            break;
        }
    if (slot < 0 || strlen(path) + strlen(suffix) + 2 >= PATH_MAXLEN) {
        errno = slot < 0 ? EMFILE : ENAMETOOLONG;
        return -1;
    }
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    snprintf(g_temps[slot], PATH_MAXLEN, "%.*s.%s%s", (int)dirlen, path, path + dirlen, suffix);
    return slot;
}

int ft_atomic_open(const char *path, ft_atomic **out) {
    ft_atomic *a = calloc(1, sizeof *a);
    if (!a) return FT_ENOMEM;
    a->slot = -1;
    if (!strcmp(path, "-")) {
        a->f = stdout;
        a->is_stdout = 1;
        *out = a;
        return 0;
    }
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        /* A device or FIFO is written in place: renaming over it would replace /dev/null with a file. */
        if (S_ISDIR(st.st_mode)) {
            free(a);
            errno = EISDIR;
            return FT_EIO;
        }
        a->f = fopen(path, "w");
        if (!a->f) {
            int e = errno;
            free(a);
            errno = e;
            return FT_EIO;
        }
        a->is_direct = 1;
        *out = a;
        return 0;
    }
    install();
    int slot = temp_slot(path, ".tmp.XXXXXX");
    if (slot < 0) {
        free(a);
        return FT_EIO;
    }
    char *tmp = g_temps[slot];
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    int fd = mkstemp(tmp);
    if (fd >= 0) g_used[slot] = 1;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (fd < 0) {
        free(a);
        return FT_EIO;
    }
    fchmod(fd, 0666 & ~umask_get());
    a->f = fdopen(fd, "w");
    a->slot = slot;
    a->final_path = strdup(path);
    if (!a->f || !a->final_path) {
        int e = errno;
        if (a->f) fclose(a->f); else close(fd);
        unlink(tmp);
        g_used[slot] = 0;
        free(a->final_path);
        free(a);
        errno = e;
        return FT_EIO;
    }
    *out = a;
    return 0;
}

FILE *ft_atomic_stream(ft_atomic *a) { return a->f; }

static void release_slot(ft_atomic *a, int remove) {
    if (a->slot < 0) return;
    if (remove) unlink(g_temps[a->slot]);
    g_used[a->slot] = 0;
    a->slot = -1;
}

int ft_atomic_commit(ft_atomic *a) {
    int rc = 0;
    if (a->is_stdout) {
        if (fflush(stdout) != 0 || ferror(stdout)) rc = FT_EIO;
        free(a);
        return rc;
    }
    if (a->is_direct) {
        rc = fflush(a->f) != 0 || ferror(a->f) ? FT_EIO : 0;
        int e = errno;
        if (fclose(a->f) != 0 && !rc) rc = FT_EIO, e = errno;
        free(a);
        errno = e;
        return rc;
    }
    int bad = fflush(a->f) != 0 || ferror(a->f);
    if (!bad && fsync(fileno(a->f)) != 0 && errno != EINVAL) bad = 1;
    int e = errno;
    if (fclose(a->f) != 0 && !bad) bad = 1, e = errno;
    if (!bad && rename(g_temps[a->slot], a->final_path) != 0) bad = 1, e = errno;
    release_slot(a, bad);
    free(a->final_path);
    free(a);
    errno = e;
    return bad ? FT_EIO : 0;
}

void ft_atomic_abort(ft_atomic *a) {
    if (!a) return;
    if (!a->is_stdout) {
        fclose(a->f);
        release_slot(a, 1);
    }
    free(a->final_path);
    free(a);
}

/* ---- directories ------------------------------------------------------------------------------- */

struct ft_atomic_dir {
    int slot;
    char *final_path;
};

int ft_atomic_dir_open(const char *path, ft_atomic_dir **out) {
    ft_atomic_dir *d = calloc(1, sizeof *d);
    if (!d || !(d->final_path = strdup(path))) {
        free(d);
        errno = ENOMEM;
        return FT_EIO;
    }
    install();
    size_t n = strlen(d->final_path);
    while (n > 1 && d->final_path[n - 1] == '/') d->final_path[--n] = 0; /* "out/" names "out" */
    int slot = temp_slot(d->final_path, ".tmp.XXXXXX");
    if (slot < 0) {
        free(d->final_path), free(d);
        return FT_EIO;
    }
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    char *ok = mkdtemp(g_temps[slot]);
    if (ok) g_used[slot] = 2;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (!ok) {
        int e = errno;
        free(d->final_path), free(d);
        errno = e;
        return FT_EIO;
    }
    chmod(g_temps[slot], 0777 & ~umask_get());
    d->slot = slot;
    *out = d;
    return 0;
}

const char *ft_atomic_dir_temp(const ft_atomic_dir *d) { return g_temps[d->slot]; }

void ft_atomic_dir_abort(ft_atomic_dir *d) {
    if (!d) return;
    remove_flat_dir(g_temps[d->slot]);
    g_used[d->slot] = 0;
    free(d->final_path);
    free(d);
}

int ft_atomic_dir_commit(ft_atomic_dir *d, int replace) {
    const char *tmp = g_temps[d->slot];
    int e = 0, fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL)) e = errno;
    if (fd >= 0) close(fd);
    char old[PATH_MAXLEN] = "";
    struct stat st;
    if (!e && lstat(d->final_path, &st) == 0) {
        if (!replace || !S_ISDIR(st.st_mode)) {
            e = S_ISDIR(st.st_mode) || !replace ? EEXIST : ENOTDIR;
        } else {
            /* rename(2) replaces an empty directory: move the old one onto a fresh empty name aside. */
            snprintf(old, sizeof old, "%s.old", tmp);
            if (mkdir(old, 0700) != 0 || rename(d->final_path, old) != 0) {
                e = errno;
                rmdir(old);
                old[0] = 0;
            }
        }
    }
    if (!e && renameat2(AT_FDCWD, tmp, AT_FDCWD, d->final_path, RENAME_NOREPLACE) != 0) {
        e = errno;
        if (old[0]) rename(old, d->final_path); /* put the old directory back */
        old[0] = 0;
    }
    if (e) remove_flat_dir(tmp);
    if (old[0]) remove_flat_dir(old);
    g_used[d->slot] = 0;
    free(d->final_path);
    free(d);
    errno = e;
    return e ? FT_EIO : 0;
}
