/* lora.c: PEFT adapter directory -> ft_lora (modules sorted by path, A and B as float).
 * Rule: the config is checked before any tensor is read; every tensor of the file must be used. */
#include "lora.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json.h"
#include "weights.h"

#define PEFT_PREFIX "base_model.model."

int ft_lora_parse_config(const char *json, size_t n, ft_lora *l, ft_buf *why) {
    cJSON *root = NULL;
    size_t off = 0;
    int rc = 0;
    if (ft_json_parse(json, n, &root, &off) != 0 || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return ft_fail(why, FT_EPARSE, "malformed JSON at byte %zu", off);
    }
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "r");
    const cJSON *alpha = cJSON_GetObjectItemCaseSensitive(root, "lora_alpha");
    const char *type = ft_json_str(root, "peft_type"), *bias = ft_json_str(root, "bias");
    int rs = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "use_rslora"));
    if (!cJSON_IsNumber(r) || !(r->valuedouble >= 1 && r->valuedouble <= 65536) ||
        floor(r->valuedouble) != r->valuedouble) {
        rc = ft_fail(why, FT_EPARSE, "\"r\" must be a whole number from 1 to 65536");
    } else if (alpha && !(cJSON_IsNumber(alpha) && fabs(alpha->valuedouble) <= 1e6)) {
        rc = ft_fail(why, FT_EPARSE, "\"lora_alpha\" must be a number of magnitude <= 1e6");
    } else if (type && strcmp(type, "LORA")) {
        rc = ft_fail(why, FT_EFORMAT, "unsupported peft_type '%s' (only LORA)", type);
    } else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "fan_in_fan_out"))) {
        rc = ft_fail(why, FT_EFORMAT, "fan_in_fan_out is not supported");
    } else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "use_dora"))) {
        rc = ft_fail(why, FT_EFORMAT, "use_dora (DoRA) is not supported");
    } else if (bias && strcmp(bias, "none")) {
        rc = ft_fail(why, FT_EFORMAT, "bias '%s' is not supported (only \"none\")", bias);
    } else {
        static const char *const unsupported[] = {"rank_pattern", "alpha_pattern", "modules_to_save"};
        for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported && !rc; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, unsupported[i]);
            if (v && !cJSON_IsNull(v) && !((cJSON_IsObject(v) || cJSON_IsArray(v)) && !v->child))
                rc = ft_fail(why, FT_EFORMAT, "%s is not supported", unsupported[i]);
        }
    }
    if (!rc) {
        l->r = (int)r->valuedouble;
        l->alpha = alpha ? alpha->valuedouble : 8.0; /* PEFT's default lora_alpha */
        l->scale = (float)(l->alpha / (rs ? sqrt((double)l->r) : (double)l->r));
    }
    cJSON_Delete(root);
    return rc;
}

/* dir/adapter_config.json through ft_lora_parse_config, the reason prefixed with the path. */
static int read_config(const char *dir, ft_lora *l, ft_buf *why) {
    char path[4096], *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/adapter_config.json", dir);
    FT_TRY(ft_read_file(path, 1u << 24, &text, &len, why));
    size_t mark = why ? why->len : 0;
    if (why) ft_buf_addf(why, "'%s': ", path);
    int rc = ft_lora_parse_config(text, len, l, why);
    if (!rc && why) why->len = mark, why->data[mark] = 0; /* no reason: drop the prefix */
    free(text);
    return rc;
}

static int by_module(const void *a, const void *b) {
    return strcmp(((const ft_lora_module *)a)->module, ((const ft_lora_module *)b)->module);
}

const ft_lora_module *ft_lora_find(const ft_lora *l, const char *path) {
    ft_lora_module key = {.module = (char *)path};
    return l->n ? bsearch(&key, l->mods, l->n, sizeof key, by_module) : NULL;
}

/* The module of tensor name ("<prefix><module>.lora_A.weight"): which (0 = A, 1 = B) and the path length, or
 * -1 for any other name. */
static int split_name(const char *name, size_t *mlen) {
    size_t n = strlen(name), p = strlen(PEFT_PREFIX), s = strlen(".lora_A.weight");
    if (n <= p + s || strncmp(name, PEFT_PREFIX, p)) return -1;
    const char *tail = name + n - s;
    *mlen = n - p - s;
    return !strcmp(tail, ".lora_A.weight") ? 0 : !strcmp(tail, ".lora_B.weight") ? 1 : -1;
}

/* Reads t, a 2-D float tensor, into a new array. */
static int read_matrix(const ft_tensor *t, float **out, ft_buf *why) {
    *out = malloc((size_t)t->numel * sizeof **out + 1);
    if (!*out) return ft_fail(why, FT_ENOMEM, "out of memory");
    if (ft_tensor_read_f32(t, 0, t->numel, *out) != 0)
        return ft_fail(why, FT_EFORMAT, "'%s': dtype %s, expected F32, F16 or BF16", t->name,
                       ft_dtype_name(t->dtype));
    return 0;
}

/* Pairs each module's A and B (the weights are name-sorted, so ...lora_A precedes ...lora_B). */
static int read_tensors(const ft_weights *w, ft_lora *l, ft_buf *why) {
    size_t n = ft_weights_count(w);
    l->mods = calloc(n / 2 + 1, sizeof *l->mods);
    if (!l->mods) return ft_fail(why, FT_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const ft_tensor *t = ft_weights_at(w, i), *b = i + 1 < n ? ft_weights_at(w, i + 1) : NULL;
        size_t mlen = 0, blen = 0;
        if (split_name(t->name, &mlen) != 0)
            return ft_fail(why, FT_EFORMAT, "'%s': not a PEFT LoRA tensor (%s<module>.lora_A/B.weight)%s",
                           t->name, PEFT_PREFIX,
                           split_name(t->name, &mlen) == 1 ? " without its lora_A" : "");
        if (!b || split_name(b->name, &blen) != 1 || blen != mlen ||
            strncmp(t->name, b->name, strlen(PEFT_PREFIX) + mlen))
            return ft_fail(why, FT_EFORMAT, "'%s': no matching lora_B.weight", t->name);
        i++;
        if (t->ndim != 2 || b->ndim != 2 || t->shape[0] != l->r || b->shape[1] != l->r || t->shape[1] < 1 ||
            b->shape[0] < 1 || t->shape[1] > (1 << 30) || b->shape[0] > (1 << 30))
            return ft_fail(why, FT_EFORMAT, "'%.*s': lora_A/lora_B shapes do not fit r = %d", (int)mlen,
                           t->name + strlen(PEFT_PREFIX), l->r);
        ft_lora_module *m = &l->mods[l->n++];
        m->module = malloc(mlen + 1);
        if (!m->module) return ft_fail(why, FT_ENOMEM, "out of memory");
        memcpy(m->module, t->name + strlen(PEFT_PREFIX), mlen);
        m->module[mlen] = 0;
        m->in = (int)t->shape[1];
        m->out = (int)b->shape[0];
        FT_TRY(read_matrix(t, &m->A, why));
        FT_TRY(read_matrix(b, &m->B, why));
    }
    if (!l->n) return ft_fail(why, FT_EFORMAT, "the adapter holds no LoRA tensors");
    qsort(l->mods, l->n, sizeof *l->mods, by_module);
    return 0;
}

int ft_lora_load(const char *dir, ft_lora **out, ft_buf *why) {
    *out = NULL;
    ft_lora *l = calloc(1, sizeof *l);
    if (!l) return ft_fail(why, FT_ENOMEM, "out of memory");
    int rc = read_config(dir, l, why);
    if (!rc) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/adapter_model.safetensors", dir);
        if (stat(path, &st) != 0) snprintf(path, sizeof path, "%s/adapter_model.bin", dir);
        ft_weights *w = NULL;
        rc = ft_weights_open(path, &w, why);
        if (!rc) rc = read_tensors(w, l, why);
        ft_weights_free(w);
    }
    if (rc) {
        ft_lora_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void ft_lora_free(ft_lora *l) {
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->mods[i].module);
        free(l->mods[i].A);
        free(l->mods[i].B);
    }
    free(l->mods);
    free(l);
}
