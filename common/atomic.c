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
static volatile sig_atomic_t g_used[MAX_TEMPS];
static int g_installed;

void ft_atomic_cleanup_all(void) {
    for (int i = 0; i < MAX_TEMPS; i++)
        if (g_used[i]) {
            unlink(g_temps[i]);
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
    int slot = -1;
    for (int i = 0; i < MAX_TEMPS; i++)
        if (!g_used[i]) {
            slot = i;
            break;
        }
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    if (slot < 0 || strlen(path) + 16 >= PATH_MAXLEN) {
        free(a);
        errno = slot < 0 ? EMFILE : ENAMETOOLONG;
        return FT_EIO;
    }
    char *tmp = g_temps[slot];
    snprintf(tmp, PATH_MAXLEN, "%.*s.%s.tmp.XXXXXX", (int)dirlen, path, path + dirlen);
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
