/* test-atomic.c: common/atomic.h: the output appears only at commit, abort and failures leave nothing,
 * "-" is stdout, and a process killed by SIGTERM/SIGINT mid-write leaves no temp file behind.
 * Rule: every case runs in its own mkdtemp directory whose whole listing is checked afterwards. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomic.h"
#include "ft.h"
#include "tap.h"

static char g_dir[64];

static void path_in(char *buf, size_t cap, const char *name) { snprintf(buf, cap, "%s/%s", g_dir, name); }

/* The directory's entries (without . and ..) joined by ' ' in sorted order, into buf. Returns the count. */
static int listing(const char *dir, char *buf, size_t cap) {
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort), k = 0;
    buf[0] = 0;
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        const char *d = ents[i]->d_name;
        if (strcmp(d, ".") && strcmp(d, "..")) {
            len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, "%s%s", k ? " " : "", d);
            k++;
        }
        free(ents[i]);
    }
    if (n >= 0) free(ents);
    return k;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    ft_buf b;
    ft_buf_init(&b);
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        ft_buf_add(&b, tmp, n);
    fclose(f);
    ft_buf_addc(&b, 0);
    return b.data;
}

static void write_file(const char *path, const char *s) {
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(s, f);
        fclose(f);
    }
}

static void test_commit(void) {
    char path[128], ls[512];
    path_in(path, sizeof path, "out.txt");
    ft_atomic *a = NULL;
    int rc = ft_atomic_open(path, &a);
    ok(rc == 0 && a && ft_atomic_stream(a), "open");
    if (rc) return;
    fputs("hello\n", ft_atomic_stream(a));
    fflush(ft_atomic_stream(a));
    struct stat st;
    ok(stat(path, &st) != 0 && errno == ENOENT, "before commit the final path does not exist");
    int n = listing(g_dir, ls, sizeof ls);
    ok(n == 1 && !strncmp(ls, ".out.txt.tmp.", 13) && strlen(ls) == 19,
       "before commit there is one hidden temp file beside it: '%s'", ls);
    rc = ft_atomic_commit(a);
    is_int(rc, 0, "commit");
    char *got = slurp(path);
    is_str(got, "hello\n", "after commit the file has the content");
    free(got);
    n = listing(g_dir, ls, sizeof ls);
    ok(n == 1 && !strcmp(ls, "out.txt"), "after commit only the final file is left: '%s'", ls);
    mode_t um = umask(0);
    umask(um);
    ok(stat(path, &st) == 0 && (st.st_mode & 0777) == (0666 & ~um), "mode is 0666 & ~umask (%o)",
       (unsigned)(st.st_mode & 0777));

    /* replacing an existing file: the old content stays until commit */
    rc = ft_atomic_open(path, &a);
    fputs("new content\n", ft_atomic_stream(a));
    fflush(ft_atomic_stream(a));
    got = slurp(path);
    is_str(got, "hello\n", "replace: the old file is intact before commit");
    free(got);
    rc = ft_atomic_commit(a);
    got = slurp(path);
    ok(rc == 0 && got && !strcmp(got, "new content\n"), "replace: commit swaps in the new content");
    free(got);
    n = listing(g_dir, ls, sizeof ls);
    ok(n == 1, "replace: no temp file left ('%s')", ls);
    unlink(path);

    /* a relative path writes its temp file in the current directory */
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd) && chdir(g_dir) == 0) {
        rc = ft_atomic_open("rel.txt", &a);
        if (rc == 0) fputs("r", ft_atomic_stream(a));
        int c = rc == 0 ? ft_atomic_commit(a) : rc;
        n = listing(".", ls, sizeof ls);
        ok(c == 0 && n == 1 && !strcmp(ls, "rel.txt"), "relative path: committed in the current directory");
        unlink("rel.txt");
        if (chdir(cwd) != 0) printf("Bail out! chdir back failed\n");
    }
}

static void test_abort(void) {
    char path[128], ls[512];
    path_in(path, sizeof path, "aborted.txt");
    ft_atomic *a = NULL;
    int rc = ft_atomic_open(path, &a);
    if (rc == 0) fputs("partial", ft_atomic_stream(a));
    ft_atomic_abort(a);
    int n = listing(g_dir, ls, sizeof ls);
    ok(rc == 0 && n == 0, "abort leaves nothing ('%s')", ls);

    /* abort does not touch an existing file */
    write_file(path, "keep");
    rc = ft_atomic_open(path, &a);
    if (rc == 0) fputs("replacement", ft_atomic_stream(a));
    ft_atomic_abort(a);
    char *got = slurp(path);
    is_str(got, "keep", "abort keeps the previous file");
    free(got);
    unlink(path);
    ft_atomic_abort(NULL);
    ok(1, "abort(NULL) is harmless");

    /* the registry has a fixed number of slots: committed and aborted handles give theirs back */
    int fails = 0;
    for (int i = 0; i < 300; i++) {
        rc = ft_atomic_open(path, &a);
        if (rc) {
            fails++;
            continue;
        }
        fprintf(ft_atomic_stream(a), "%d", i);
        if (i % 2)
            ft_atomic_abort(a);
        else if (ft_atomic_commit(a))
            fails++;
    }
    got = slurp(path);
    ok(fails == 0 && got && !strcmp(got, "298"), "300 open/commit/abort cycles reuse the registry slots");
    free(got);
    unlink(path);
    n = listing(g_dir, ls, sizeof ls);
    ok(n == 0, "cycles leave nothing ('%s')", ls);
}

static void test_failures(void) {
    char path[128], ls[512];
    ft_atomic *a = NULL;

    path_in(path, sizeof path, "no/such/dir/out.txt");
    errno = 0;
    int rc = ft_atomic_open(path, &a);
    ok(rc == FT_EIO && errno == ENOENT, "open in a missing directory: FT_EIO, errno ENOENT");

    /* the final path is a directory: open refuses it (EISDIR) and creates nothing */
    char sub[128], inner[160];
    path_in(sub, sizeof sub, "target");
    mkdir(sub, 0755);
    snprintf(inner, sizeof inner, "%s/inside", sub);
    write_file(inner, "x");
    errno = 0;
    rc = ft_atomic_open(sub, &a);
    int e = errno;
    int n = listing(g_dir, ls, sizeof ls);
    ok(rc == FT_EIO && e == EISDIR && n == 1 && !strcmp(ls, "target"),
       "open onto a directory fails with FT_EIO (%s) and leaves no temp file ('%s')", strerror(e), ls);

    /* a FIFO (like /dev/null, not a regular file) is written in place and stays a FIFO */
    char fifo[128];
    path_in(fifo, sizeof fifo, "fifo");
    ok(mkfifo(fifo, 0644) == 0, "mkfifo");
    int rd = open(fifo, O_RDONLY | O_NONBLOCK);
    rc = ft_atomic_open(fifo, &a);
    if (rc == 0) fputs("through", ft_atomic_stream(a));
    int c = rc == 0 ? ft_atomic_commit(a) : -1;
    char got[16] = "";
    ssize_t k = read(rd, got, sizeof got - 1);
    struct stat fst;
    ok(rc == 0 && c == 0 && k == 7 && !strcmp(got, "through") && stat(fifo, &fst) == 0 && S_ISFIFO(fst.st_mode),
       "a FIFO is written in place, not renamed over");
    close(rd);
    unlink(fifo);
    unlink(inner);
    rmdir(sub);

    /* the directory disappears before commit */
    char gone[128], out[160];
    path_in(gone, sizeof gone, "gone");
    mkdir(gone, 0755);
    snprintf(out, sizeof out, "%s/out.txt", gone);
    rc = ft_atomic_open(out, &a);
    if (rc == 0) fputs("data", ft_atomic_stream(a));
    listing(gone, ls, sizeof ls);
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s/%s", gone, ls);
    int removed = unlink(tmp) == 0 && rmdir(gone) == 0;
    errno = 0;
    c = rc == 0 ? ft_atomic_commit(a) : 0;
    e = errno;
    struct stat st;
    ok(rc == 0 && removed && c == FT_EIO && e == ENOENT && stat(gone, &st) != 0,
       "commit when the directory is gone: FT_EIO, errno ENOENT, nothing recreated");
    n = listing(g_dir, ls, sizeof ls);
    ok(n == 0, "failures leave nothing ('%s')", ls);
}

static void test_stdout(void) {
    char path[128];
    path_in(path, sizeof path, "stdout.txt");
    fflush(stdout);
    int saved = dup(STDOUT_FILENO), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (saved < 0 || fd < 0 || dup2(fd, STDOUT_FILENO) < 0) {
        skip("cannot redirect stdout", "\"-\" writes stdout");
        return;
    }
    close(fd);
    ft_atomic *a = NULL;
    int rc = ft_atomic_open("-", &a);
    int is_stdout = rc == 0 && ft_atomic_stream(a) == stdout;
    if (rc == 0) fputs("to stdout\n", ft_atomic_stream(a));
    int c = rc == 0 ? ft_atomic_commit(a) : rc;
    dup2(saved, STDOUT_FILENO);
    close(saved);
    ok(rc == 0 && is_stdout && c == 0, "\"-\": the stream is stdout, commit succeeds");
    char *got = slurp(path);
    is_str(got, "to stdout\n", "\"-\": commit flushed the data to standard output");
    free(got);
    unlink(path);
    char ls[256];
    ok(listing(g_dir, ls, sizeof ls) == 0, "\"-\" makes no file");
}

/* A child opens an output, writes part of it, tells the parent, and waits to be killed. */
static void test_signal(int sig, const char *signame) {
    char path[128], ls[512];
    path_in(path, sizeof path, "killed.out");
    int p[2];
    if (pipe(p) != 0) {
        skip("pipe() failed", "%s", signame);
        return;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        ft_atomic *a = NULL;
        if (ft_atomic_open(path, &a) != 0) _exit(3);
        FILE *f = ft_atomic_stream(a);
        for (int i = 0; i < 10000; i++)
            fprintf(f, "record %d\n", i);
        fflush(f);
        if (write(p[1], "r", 1) != 1) _exit(4);
        for (;;)
            pause();
    }
    close(p[1]);
    char ch = 0;
    ssize_t got = read(p[0], &ch, 1);
    close(p[0]);
    int n = listing(g_dir, ls, sizeof ls);
    ok(got == 1 && n == 1 && !strncmp(ls, ".killed.out.tmp.", 16), "%s: the child's temp file exists: '%s'",
       signame, ls);
    kill(pid, sig);
    int status = 0;
    waitpid(pid, &status, 0);
    ok(WIFSIGNALED(status) && WTERMSIG(status) == sig, "%s: the child died of the signal (status %#x)",
       signame, status);
    n = listing(g_dir, ls, sizeof ls);
    ok(n == 0, "%s: the handler removed the temp file ('%s')", signame, ls);
}

int main(void) {
    if (tap_tmpdir(g_dir, sizeof g_dir, "atomic")) return 1;
    test_commit();
    test_abort();
    test_failures();
    test_stdout();
    test_signal(SIGTERM, "SIGTERM");
    test_signal(SIGINT, "SIGINT");
    test_signal(SIGHUP, "SIGHUP");
    char ls[512];
    int left = listing(g_dir, ls, sizeof ls);
    ok(left == 0 && rmdir(g_dir) == 0, "temp directory empty and removed ('%s')", ls);
    return done_testing();
}
