/* torchbin.c: torch.save zip archives: zip.h finds the entries, pickle.h reads data.pkl, this file binds
 * each tensor to its storage entry.
 * Rule: every entry of the archive must sit under the one prefix that holds data.pkl. */
#include "torchbin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapfile.h"
#include "pickle.h"
#include "zip.h"

struct ft_torchbin {
    ft_mapfile map; /* zero when parsed from memory */
    ft_zip *zip;
    ft_state_dict sd; /* owns the names */
    ft_tensor *tensors; /* (count) sorted by name */
    size_t count;
};

static int by_name(const void *a, const void *b) {
    return strcmp(((const ft_tensor *)a)->name, ((const ft_tensor *)b)->name);
}

/* The prefix of the single "<prefix>/data.pkl" entry: its length in *plen. */
static int find_prefix(const ft_zip *z, const char **pkl, size_t *plen, ft_buf *why) {
    *pkl = NULL;
    for (size_t i = 0; i < ft_zip_count(z); i++) {
        const char *n = ft_zip_at(z, i)->name, *slash = strchr(n, '/');
        if (slash && !strcmp(slash, "/data.pkl")) {
            if (*pkl) return ft_fail(why, FT_EFORMAT, "archive holds two state dicts ('%s', '%s')", *pkl, n);
            *pkl = n;
            *plen = (size_t)(slash - n);
        }
    }
    if (!*pkl) return ft_fail(why, FT_EFORMAT, "zip archive without <name>/data.pkl: not a torch.save file");
    for (size_t i = 0; i < ft_zip_count(z); i++) {
        const char *n = ft_zip_at(z, i)->name;
        if (strncmp(n, *pkl, *plen + 1) != 0)
            return ft_fail(why, FT_EFORMAT, "entry '%s' is outside the archive's folder '%.*s'", n, (int)*plen, *pkl);
    }
    return 0;
}

static int bind(ft_torchbin *tb, ft_buf *why) {
    const char *pkl = NULL;
    size_t plen = 0;
    FT_TRY(find_prefix(tb->zip, &pkl, &plen, why));
    char path[512];
    if (plen > 200) return ft_fail(why, FT_EFORMAT, "archive folder name too long");
    snprintf(path, sizeof path, "%.*s/byteorder", (int)plen, pkl);
    const ft_zip_entry *bo = ft_zip_find(tb->zip, path);
    if (bo && !(bo->size == 6 && !memcmp(bo->data, "little", 6)))
        return ft_fail(why, FT_EFORMAT, "byteorder is not 'little'");
    const ft_zip_entry *pe = ft_zip_find(tb->zip, pkl);
    if (!ft_zip_crc_ok(pe)) return ft_fail(why, FT_EPARSE, "'%s' fails its CRC-32 check", pkl);
    FT_TRY(ft_pickle_state_dict(pe->data, (size_t)pe->size, &tb->sd, why));
    tb->tensors = calloc(tb->sd.count ? tb->sd.count : 1, sizeof *tb->tensors);
    if (!tb->tensors) return ft_fail(why, FT_ENOMEM, "out of memory");
    for (size_t i = 0; i < tb->sd.count; i++) {
        const ft_pickle_tensor *p = &tb->sd.tensors[i];
        ft_tensor *t = &tb->tensors[i];
        if (strlen(p->storage) > 200) return ft_fail(why, FT_EFORMAT, "storage key too long");
        snprintf(path, sizeof path, "%.*s/data/%s", (int)plen, pkl, p->storage);
        const ft_zip_entry *e = ft_zip_find(tb->zip, path);
        if (!e) return ft_fail(why, FT_EFORMAT, "tensor '%s': storage entry '%s' is missing", p->name, path);
        size_t esize = ft_dtype_size(p->dtype);
        if (p->storage_numel > UINT64_MAX / esize || e->size != p->storage_numel * esize)
            return ft_fail(why, FT_EFORMAT, "tensor '%s': storage '%s' holds %llu bytes, not %llu elements of %s",
                           p->name, path, (unsigned long long)e->size, (unsigned long long)p->storage_numel,
                           ft_dtype_name(p->dtype));
        t->name = p->name;
        t->dtype = p->dtype;
        if (ft_tensor_set_shape(t, p->ndim, p->shape) != 0)
            return ft_fail(why, FT_ERANGE, "tensor '%s': size overflows", p->name);
        t->data = t->nbytes ? e->data + p->offset * esize : NULL; /* pickle.h checked offset + numel */
        tb->count++;
    }
    qsort(tb->tensors, tb->count, sizeof *tb->tensors, by_name);
    return 0;
}

int ft_torchbin_parse(const void *data, size_t size, ft_torchbin **out, ft_buf *why) {
    *out = NULL;
    const unsigned char *d = data;
    if (size >= 2 && d[0] == 0x80 && d[1] <= 5)
        return ft_fail(why, FT_EFORMAT, "legacy (pre-1.6) torch.save format; re-save it with a newer PyTorch "
                                        "or convert it to safetensors");
    ft_torchbin *tb = calloc(1, sizeof *tb);
    if (!tb) return ft_fail(why, FT_ENOMEM, "out of memory");
    int rc = ft_zip_parse(data, size, &tb->zip, why);
    if (rc == 0) rc = bind(tb, why);
    if (rc) {
        ft_torchbin_free(tb);
        return rc;
    }
    *out = tb;
    return 0;
}

int ft_torchbin_open(const char *path, ft_torchbin **out, ft_buf *why) {
    *out = NULL;
    ft_mapfile m;
    if (ft_mapfile_open(path, &m) != 0) return ft_fail(why, FT_EIO, "%s", strerror(errno));
    int rc = ft_torchbin_parse(m.data, m.size, out, why);
    if (rc) {
        ft_mapfile_close(&m);
        return rc;
    }
    (*out)->map = m;
    return 0;
}

void ft_torchbin_free(ft_torchbin *tb) {
    if (!tb) return;
    free(tb->tensors);
    ft_state_dict_release(&tb->sd);
    ft_zip_free(tb->zip);
    ft_mapfile_close(&tb->map);
    free(tb);
}

size_t ft_torchbin_count(const ft_torchbin *tb) { return tb->count; }
const ft_tensor *ft_torchbin_at(const ft_torchbin *tb, size_t i) { return i < tb->count ? &tb->tensors[i] : NULL; }
const ft_tensor *ft_torchbin_find(const ft_torchbin *tb, const char *name) {
    ft_tensor key = {.name = name};
    return bsearch(&key, tb->tensors, tb->count, sizeof key, by_name);
}
