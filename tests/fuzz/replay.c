/* replay.c: runs a libFuzzer target over the seed corpus without libFuzzer, for make check (any compiler).
 * Rule: one TAP line per input file, sorted by name; each input runs in a child process, so a crash or
 * abort() is reported as "not ok" against its file and the other inputs still run.
 * Usage: fuzz-NAME-replay DIR|FILE...  (exit 0 when every input passed, 1 otherwise, 2 on usage) */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Reads a whole file into an exact-size heap buffer, so the sanitizers see reads past its end. */
static uint8_t *slurp(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *b = realloc(buf, cap *= 2);
            if (!b) free(buf);
            buf = b;
        }
    }
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    uint8_t *exact = malloc(n ? n : 1);
    if (exact && n) memcpy(exact, buf, n);
    free(buf);
    *size = n;
    return exact;
}

/* Runs the target on one file in a child; returns 0 when it passed, with why[] describing a failure. */
static int run_file(const char *path, char *why, size_t cap) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, cap, "fork: %s", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        size_t size = 0;
        uint8_t *data = slurp(path, &size);
        if (!data) {
            fprintf(stderr, "replay: cannot read '%s': %s\n", path, strerror(errno));
            _exit(3);
        }
        LLVMFuzzerTestOneInput(data, size);
        free(data);
        exit(0); /* not _exit: LeakSanitizer reports at exit */
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            snprintf(why, cap, "waitpid: %s", strerror(errno));
            return 1;
        }
    if (WIFSIGNALED(st)) snprintf(why, cap, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else if (WEXITSTATUS(st) == 3) snprintf(why, cap, "unreadable input");
    else if (WEXITSTATUS(st) != 0) snprintf(why, cap, "exit status %d", WEXITSTATUS(st));
    else return 0;
    return 1;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Appends the regular files of dir (sorted), or path itself when it is a file. */
static int collect(const char *path, char ***list, size_t *n, size_t *cap) {
    struct stat st;
    if (stat(path, &st) < 0) {
        fprintf(stderr, "replay: '%s': %s\n", path, strerror(errno));
        return -1;
    }
    size_t first = *n;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d) {
            fprintf(stderr, "replay: '%s': %s\n", path, strerror(errno));
            return -1;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            size_t l = strlen(path) + strlen(e->d_name) + 2;
            char *p = malloc(l);
            if (!p) abort();
            snprintf(p, l, "%s/%s", path, e->d_name);
            if (stat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
                free(p);
                continue;
            }
            if (*n == *cap) {
                *cap = *cap ? 2 * *cap : 64;
                *list = realloc(*list, *cap * sizeof **list);
                if (!*list) abort();
            }
            (*list)[(*n)++] = p;
        }
        closedir(d);
        qsort(*list + first, *n - first, sizeof **list, cmp_str);
        return 0;
    }
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        *list = realloc(*list, *cap * sizeof **list);
        if (!*list) abort();
    }
    (*list)[(*n)++] = strdup(path);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    char **list = NULL;
    size_t n = 0, cap = 0;
    int failed = 0;
    for (int i = 1; i < argc; i++)
        if (collect(argv[i], &list, &n, &cap) < 0) failed = 1;
    printf("1..%zu\n", n);
    for (size_t i = 0; i < n; i++) {
        char why[128];
        const char *name = strrchr(list[i], '/') ? strrchr(list[i], '/') + 1 : list[i];
        if (run_file(list[i], why, sizeof why)) {
            printf("not ok %zu - %s # %s\n", i + 1, name, why);
            failed = 1;
        } else printf("ok %zu - %s\n", i + 1, name);
        free(list[i]);
    }
    free(list);
    return failed;
}
