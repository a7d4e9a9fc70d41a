/* weights.c: model directory -> the right reader(s) -> one sorted list of tensor views.
 * Rule: each file is opened once; the list holds pointers into the readers' own views. */
#include "weights.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json.h"
#include "mapfile.h"
#include "safetensors.h"
#include "torchbin.h"

typedef struct {
    char *file; /* the name in the directory */
    ft_safetensors *st;
    ft_torchbin *tb;
} wfile;

struct ft_weights {
    int pytorch;
    wfile *files;
    size_t n_files;
    const ft_tensor **list; /* (count) sorted by name */
    size_t count;
};

static size_t wf_count(const wfile *f) { return f->st ? ft_safetensors_count(f->st) : ft_torchbin_count(f->tb); }
static const ft_tensor *wf_at(const wfile *f, size_t i) {
    return f->st ? ft_safetensors_at(f->st, i) : ft_torchbin_at(f->tb, i);
}
static const ft_tensor *wf_find(const wfile *f, const char *name) {
    return f->st ? ft_safetensors_find(f->st, name) : ft_torchbin_find(f->tb, name);
}

static int wf_open(wfile *f, const char *dir, const char *file, int pytorch, ft_buf *why) {
    char *path = malloc(strlen(dir) + strlen(file) + 2);
    f->file = malloc(strlen(file) + 1);
    if (!path || !f->file) {
        free(path);
        return ft_fail(why, FT_ENOMEM, "out of memory");
    }
    strcpy(f->file, file);
    sprintf(path, "%s%s%s", dir, *dir ? "/" : "", file);
    size_t mark = why ? why->len : 0;
    if (why) ft_buf_addf(why, "'%s': ", path);
    int rc = pytorch ? ft_torchbin_open(path, &f->tb, why) : ft_safetensors_open(path, &f->st, why);
    if (rc == 0 && why) why->len = mark, why->data[mark] = 0;
    free(path);
    return rc;
}

static int by_name(const void *a, const void *b) {
    return strcmp((*(const ft_tensor *const *)a)->name, (*(const ft_tensor *const *)b)->name);
}

static int by_file(const void *a, const void *b) {
    return strcmp(((const wfile *)a)->file, ((const wfile *)b)->file);
}

static wfile *file_named(ft_weights *w, const char *file) {
    wfile key = {.file = (char *)file};
    return bsearch(&key, w->files, w->n_files, sizeof key, by_file);
}

/* Sharded checkpoint: index (path) -> shards in dir. */
static int open_index(ft_weights *w, const char *dir, const char *index, ft_buf *why) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, index);
    ft_mapfile m;
    if (ft_mapfile_open(path, &m) != 0) return ft_fail(why, FT_EIO, "'%s': %s", path, strerror(errno));
    cJSON *root = NULL;
    size_t off = 0;
    int rc = 0;
    if (m.size > (64u << 20)) rc = ft_fail(why, FT_ETOOBIG, "'%s': index larger than 64 MiB", path);
    else if (ft_json_parse((const char *)m.data, m.size, &root, &off) != 0)
        rc = ft_fail(why, FT_EPARSE, "'%s': malformed JSON at byte %zu", path, off);
    ft_mapfile_close(&m);
    const cJSON *map = rc ? NULL : cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (rc == 0 && !cJSON_IsObject(map)) rc = ft_fail(why, FT_EPARSE, "'%s': no weight_map object", path);
    size_t n = 0;
    for (const cJSON *e = map ? map->child : NULL; e && rc == 0; e = e->next, n++) {
        const char *f = cJSON_IsString(e) ? e->valuestring : NULL;
        if (!f || !*f || strchr(f, '/') || f[0] == '.')
            rc = ft_fail(why, FT_EPARSE, "'%s': tensor '%s' maps to a bad file name", path, e->string);
    }
    if (rc == 0) {
        w->files = calloc(n ? n : 1, sizeof *w->files);
        w->list = calloc(n ? n : 1, sizeof *w->list);
        if (!w->files || !w->list) rc = ft_fail(why, FT_ENOMEM, "out of memory");
    }
    /* distinct shard names, sorted */
    for (const cJSON *e = map ? map->child : NULL; e && rc == 0; e = e->next) {
        int seen = 0;
        for (size_t i = 0; i < w->n_files && !seen; i++) seen = !strcmp(w->files[i].file, e->valuestring);
        if (!seen) rc = wf_open(&w->files[w->n_files++], dir, e->valuestring, w->pytorch, why);
    }
    if (rc == 0) qsort(w->files, w->n_files, sizeof *w->files, by_file);
    for (const cJSON *e = map ? map->child : NULL; e && rc == 0; e = e->next) {
        const ft_tensor *t = wf_find(file_named(w, e->valuestring), e->string);
        if (!t) rc = ft_fail(why, FT_EFORMAT, "'%s': tensor '%s' is not in its shard '%s'", path, e->string, e->valuestring);
        else w->list[w->count++] = t;
    }
    if (rc == 0) {
        qsort(w->list, w->count, sizeof *w->list, by_name);
        for (size_t i = 1; i < w->count && rc == 0; i++)
            if (!strcmp(w->list[i - 1]->name, w->list[i]->name))
                rc = ft_fail(why, FT_EPARSE, "'%s': tensor '%s' listed twice", path, w->list[i]->name);
    }
    cJSON_Delete(root);
    return rc;
}

static int open_single(ft_weights *w, const char *dir, const char *file, ft_buf *why) {
    w->files = calloc(1, sizeof *w->files);
    if (!w->files) return ft_fail(why, FT_ENOMEM, "out of memory");
    w->n_files = 1;
    FT_TRY(wf_open(&w->files[0], dir, file, w->pytorch, why));
    size_t n = wf_count(&w->files[0]);
    w->list = calloc(n ? n : 1, sizeof *w->list);
    if (!w->list) return ft_fail(why, FT_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) w->list[w->count++] = wf_at(&w->files[0], i); /* already name-sorted */
    return 0;
}

static int exists(const char *dir, const char *file) {
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

int ft_weights_open(const char *path, ft_weights **out, ft_buf *why) {
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0) return ft_fail(why, FT_EIO, "'%s': %s", path, strerror(errno));
    if (strlen(path) > 3000) return ft_fail(why, FT_EINVAL, "path too long");
    ft_weights *w = calloc(1, sizeof *w);
    if (!w) return ft_fail(why, FT_ENOMEM, "out of memory");
    int rc;
    if (!S_ISDIR(st.st_mode)) {
        w->pytorch = ends_with(path, ".bin") || ends_with(path, ".pt") || ends_with(path, ".pth");
        rc = open_single(w, "", path, why);
    } else if (exists(path, "model.safetensors")) {
        rc = open_single(w, path, "model.safetensors", why);
    } else if (exists(path, "model.safetensors.index.json")) {
        rc = open_index(w, path, "model.safetensors.index.json", why);
    } else if (exists(path, "pytorch_model.bin")) {
        w->pytorch = 1;
        rc = open_single(w, path, "pytorch_model.bin", why);
    } else if (exists(path, "pytorch_model.bin.index.json")) {
        w->pytorch = 1;
        rc = open_index(w, path, "pytorch_model.bin.index.json", why);
    } else {
        rc = ft_fail(why, FT_EFORMAT, "'%s': no model.safetensors, model.safetensors.index.json, pytorch_model.bin "
                                      "or pytorch_model.bin.index.json", path);
    }
    if (rc) {
        ft_weights_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void ft_weights_free(ft_weights *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_files; i++) {
        ft_safetensors_free(w->files[i].st);
        ft_torchbin_free(w->files[i].tb);
        free(w->files[i].file);
    }
    free(w->files);
    free(w->list);
    free(w);
}

const char *ft_weights_format(const ft_weights *w) { return w->pytorch ? "pytorch" : "safetensors"; }
size_t ft_weights_files(const ft_weights *w) { return w->n_files; }
size_t ft_weights_count(const ft_weights *w) { return w->count; }
const ft_tensor *ft_weights_at(const ft_weights *w, size_t i) { return i < w->count ? w->list[i] : NULL; }
const ft_tensor *ft_weights_find(const ft_weights *w, const char *name) {
    ft_tensor key = {.name = name};
    const ft_tensor *kp = &key;
    const ft_tensor *const *r = bsearch(&kp, w->list, w->count, sizeof *w->list, by_name);
    return r ? *r : NULL;
}
