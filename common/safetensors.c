/* safetensors.c: validating reader and atomic writer of safetensors files.
 * Rule: nothing is handed out until the whole header has been checked; the JSON tree stays alive and lends
 * the names and metadata strings. */
#include "safetensors.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "json.h"
#include "mapfile.h"
#include "utf8.h"

struct ft_safetensors {
    ft_mapfile map; /* zero when parsed from memory */
    cJSON *header;
    const cJSON *meta; /* the __metadata__ object or NULL */
    ft_tensor *tensors; /* (count) sorted by name */
    size_t count;
};

/* A JSON number that is a whole number in [0, 2^53]. */
static int json_u53(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (!(d >= 0 && d <= 9007199254740992.0) || floor(d) != d) return 0;
    *out = (uint64_t)d;
    return 1;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const ft_tensor *)a)->name, ((const ft_tensor *)b)->name);
}

typedef struct {
    uint64_t begin, end;
    const char *name;
} span;
static int by_begin(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Reads one tensor entry into *t (name borrowed from e). */
static int read_entry(const cJSON *e, const unsigned char *data, uint64_t data_size, ft_tensor *t, span *s,
                      ft_buf *why) {
    const char *name = e->string;
    if (!cJSON_IsObject(e)) return ft_fail(why, FT_EPARSE, "tensor '%s': entry is not an object", name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(of))
        return ft_fail(why, FT_EPARSE, "tensor '%s': needs string dtype, array shape and array data_offsets", name);
    memset(t, 0, sizeof *t);
    t->name = name;
    if (ft_dtype_from_name(dt->valuestring, strlen(dt->valuestring), &t->dtype) != 0)
        return ft_fail(why, FT_EFORMAT, "tensor '%s': unsupported dtype '%.40s'", name, dt->valuestring);
    int ndim = cJSON_GetArraySize(sh);
    if (ndim > FT_TENSOR_MAX_DIMS)
        return ft_fail(why, FT_EFORMAT, "tensor '%s': %d dimensions (at most %d)", name, ndim, FT_TENSOR_MAX_DIMS);
    int64_t dims[FT_TENSOR_MAX_DIMS];
    int k = 0;
    for (const cJSON *d = sh->child; d; d = d->next, k++) {
        uint64_t v;
        if (!json_u53(d, &v)) return ft_fail(why, FT_EPARSE, "tensor '%s': shape entry %d is not a size", name, k);
        dims[k] = (int64_t)v;
    }
    if (ft_tensor_set_shape(t, ndim, dims) != 0)
        return ft_fail(why, FT_ERANGE, "tensor '%s': the shape's element count overflows", name);
    uint64_t b, en;
    if (cJSON_GetArraySize(of) != 2 || !json_u53(of->child, &b) || !json_u53(of->child->next, &en))
        return ft_fail(why, FT_EPARSE, "tensor '%s': data_offsets is not [begin, end]", name);
    if (en < b || en > data_size)
        return ft_fail(why, FT_ERANGE, "tensor '%s': data_offsets [%llu, %llu] outside the data section (%llu bytes)",
                    name, (unsigned long long)b, (unsigned long long)en, (unsigned long long)data_size);
    if (en - b != t->nbytes)
        return ft_fail(why, FT_EFORMAT, "tensor '%s': %llu bytes at data_offsets but shape and dtype need %llu", name,
                    (unsigned long long)(en - b), (unsigned long long)t->nbytes);
    t->data = t->nbytes ? data + b : NULL;
    s->begin = b, s->end = en, s->name = name;
    return 0;
}

static int parse_header(ft_safetensors *st, const unsigned char *data, size_t size, ft_buf *why) {
    if (size < 8) return ft_fail(why, FT_EEOF, "file of %zu bytes is shorter than the 8-byte header length", size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | data[i];
    if (n > FT_SAFETENSORS_MAX_HEADER)
        return ft_fail(why, FT_ETOOBIG, "header length %llu exceeds the limit of %u bytes", (unsigned long long)n,
                    FT_SAFETENSORS_MAX_HEADER);
    if (n > size - 8)
        return ft_fail(why, FT_EEOF, "header length %llu exceeds the %zu bytes after it", (unsigned long long)n,
                    size - 8);
    const char *h = (const char *)data + 8;
    if (n < 2 || h[0] != '{') return ft_fail(why, FT_EPARSE, "header is not a JSON object");
    if (ft_utf8_check(h, (size_t)n) != n) return ft_fail(why, FT_EPARSE, "header is not valid UTF-8");
    size_t off = 0;
    if (ft_json_parse(h, (size_t)n, &st->header, &off) != 0)
        return ft_fail(why, FT_EPARSE, "header JSON is malformed at byte %zu", (size_t)(8 + off));
    if (!cJSON_IsObject(st->header)) return ft_fail(why, FT_EPARSE, "header is not a JSON object");
    const unsigned char *body = data + 8 + n;
    uint64_t body_size = size - 8 - n;
    size_t count = 0;
    for (const cJSON *e = st->header->child; e; e = e->next) count += strcmp(e->string, "__metadata__") != 0;
    st->tensors = calloc(count ? count : 1, sizeof *st->tensors);
    span *spans = calloc(count ? count : 1, sizeof *spans);
    if (!st->tensors || !spans) {
        free(spans);
        return ft_fail(why, FT_ENOMEM, "out of memory for %zu tensors", count);
    }
    int rc = 0;
    size_t k = 0;
    for (const cJSON *e = st->header->child; e && rc == 0; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) {
            if (st->meta) rc = ft_fail(why, FT_EPARSE, "__metadata__ appears twice");
            else if (!cJSON_IsObject(e)) rc = ft_fail(why, FT_EPARSE, "__metadata__ is not an object");
            for (const cJSON *m = e->child; m && rc == 0; m = m->next)
                if (!cJSON_IsString(m)) rc = ft_fail(why, FT_EPARSE, "__metadata__ value '%s' is not a string", m->string);
            st->meta = e;
            continue;
        }
        rc = read_entry(e, body, body_size, &st->tensors[k], &spans[k], why);
        k++;
    }
    st->count = k;
    if (rc == 0) {
        qsort(spans, count, sizeof *spans, by_begin);
        uint64_t at = 0;
        for (size_t i = 0; i < count && rc == 0; i++) {
            if (spans[i].begin != at)
                rc = ft_fail(why, FT_EFORMAT, "tensor '%s': data_offsets begin at %llu, not %llu: %s", spans[i].name,
                          (unsigned long long)spans[i].begin, (unsigned long long)at,
                          spans[i].begin < at ? "it overlaps another tensor" : "a hole precedes it");
            at = spans[i].end;
        }
        if (rc == 0 && at != body_size)
            rc = ft_fail(why, FT_EFORMAT, "the tensors cover %llu bytes of a %llu-byte data section",
                      (unsigned long long)at, (unsigned long long)body_size);
    }
    free(spans);
    if (rc == 0) {
        qsort(st->tensors, count, sizeof *st->tensors, by_name);
        for (size_t i = 1; i < count && rc == 0; i++)
            if (!strcmp(st->tensors[i - 1].name, st->tensors[i].name))
                rc = ft_fail(why, FT_EPARSE, "tensor '%s' appears twice", st->tensors[i].name);
    }
    return rc;
}

int ft_safetensors_parse(const void *data, size_t size, ft_safetensors **out, ft_buf *why) {
    *out = NULL;
    ft_safetensors *st = calloc(1, sizeof *st);
    if (!st) return ft_fail(why, FT_ENOMEM, "out of memory");
    int rc = parse_header(st, data, size, why);
    if (rc) {
        ft_safetensors_free(st);
        return rc;
    }
    *out = st;
    return 0;
}

int ft_safetensors_open(const char *path, ft_safetensors **out, ft_buf *why) {
    *out = NULL;
    ft_mapfile m;
    if (ft_mapfile_open(path, &m) != 0) return ft_fail(why, FT_EIO, "%s", strerror(errno));
    int rc = ft_safetensors_parse(m.data, m.size, out, why);
    if (rc) {
        ft_mapfile_close(&m);
        return rc;
    }
    (*out)->map = m;
    return 0;
}

void ft_safetensors_free(ft_safetensors *st) {
    if (!st) return;
    cJSON_Delete(st->header);
    free(st->tensors);
    ft_mapfile_close(&st->map);
    free(st);
}

size_t ft_safetensors_count(const ft_safetensors *st) { return st->count; }
const ft_tensor *ft_safetensors_at(const ft_safetensors *st, size_t i) {
    return i < st->count ? &st->tensors[i] : NULL;
}

const ft_tensor *ft_safetensors_find(const ft_safetensors *st, const char *name) {
    ft_tensor key = {.name = name};
    return bsearch(&key, st->tensors, st->count, sizeof key, by_name);
}

const char *ft_safetensors_meta(const ft_safetensors *st, const char *key) {
    const cJSON *v = st->meta ? cJSON_GetObjectItemCaseSensitive(st->meta, key) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- writing ---- */

static int by_name_ptr(const void *a, const void *b) {
    return strcmp((*(const ft_tensor *const *)a)->name, (*(const ft_tensor *const *)b)->name);
}

int ft_safetensors_serialize(ft_buf *out, const ft_tensor *tensors, size_t n, const char *const *meta,
                             ft_buf *why) {
    const ft_tensor **order = malloc((n ? n : 1) * sizeof *order);
    if (!order) return ft_fail(why, FT_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) order[i] = &tensors[i];
    qsort(order, n, sizeof *order, by_name_ptr);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        ft_tensor chk = *order[i];
        if (ft_tensor_set_shape(&chk, order[i]->ndim, order[i]->shape) != 0 || chk.nbytes != order[i]->nbytes ||
            (chk.nbytes && !order[i]->data))
            rc = ft_fail(why, FT_EINVAL, "tensor '%s': view does not match its shape and dtype", order[i]->name);
        else if (i && !strcmp(order[i - 1]->name, order[i]->name))
            rc = ft_fail(why, FT_EINVAL, "tensor '%s' given twice", order[i]->name);
        else if (!strcmp(order[i]->name, "__metadata__"))
            rc = ft_fail(why, FT_EINVAL, "a tensor cannot be called __metadata__");
    }
    for (size_t i = 0; meta && meta[i] && rc == 0; i += 2)
        if (!meta[i + 1] || !strcmp(meta[i], "format"))
            rc = ft_fail(why, FT_EINVAL, "metadata key '%s' %s", meta[i], meta[i + 1] ? "is reserved" : "has no value");
    if (rc) {
        free(order);
        return rc;
    }
    size_t start = out->len;
    ft_buf_add(out, "\0\0\0\0\0\0\0\0", 8);
    ft_buf_adds(out, "{\"__metadata__\":{\"format\":\"pt\"");
    for (size_t i = 0; meta && meta[i]; i += 2) {
        ft_buf_addc(out, ',');
        ft_json_put_string(out, meta[i], strlen(meta[i]));
        ft_buf_addc(out, ':');
        ft_json_put_string(out, meta[i + 1], strlen(meta[i + 1]));
    }
    ft_buf_addc(out, '}');
    uint64_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const ft_tensor *t = order[i];
        ft_buf_addc(out, ',');
        ft_json_put_string(out, t->name, strlen(t->name));
        ft_buf_addf(out, ":{\"dtype\":\"%s\",\"shape\":[", ft_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++) ft_buf_addf(out, "%s%lld", d ? "," : "", (long long)t->shape[d]);
        ft_buf_addf(out, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)at,
                    (unsigned long long)(at + t->nbytes));
        at += t->nbytes;
    }
    ft_buf_addc(out, '}');
    while ((out->len - start - 8) % 8) ft_buf_addc(out, ' ');
    uint64_t hlen = out->len - start - 8;
    for (int i = 0; i < 8; i++) out->data[start + i] = (char)(hlen >> (8 * i));
    ft_buf_reserve(out, at);
    for (size_t i = 0; i < n; i++)
        if (order[i]->nbytes) ft_buf_add(out, order[i]->data, order[i]->nbytes);
    free(order);
    return 0;
}

int ft_safetensors_write(const char *path, const ft_tensor *tensors, size_t n, const char *const *meta,
                         ft_buf *why) {
    ft_buf b;
    ft_buf_init(&b);
    int rc = ft_safetensors_serialize(&b, tensors, n, meta, why);
    ft_atomic *a = NULL;
    if (rc == 0 && (rc = ft_atomic_open(path, &a)) != 0) ft_fail(why, rc, "%s", strerror(errno));
    if (rc == 0) {
        if (fwrite(b.data, 1, b.len, ft_atomic_stream(a)) != b.len) {
            int e = errno;
            ft_atomic_abort(a);
            errno = e;
            rc = ft_fail(why, FT_EIO, "%s", strerror(errno));
        } else if ((rc = ft_atomic_commit(a)) != 0) {
            ft_fail(why, rc, "%s", strerror(errno));
        }
    }
    ft_buf_release(&b);
    return rc;
}
