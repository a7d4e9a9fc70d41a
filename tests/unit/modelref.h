/* modelref.h: what the model tests share: the stories260K fixture batch of a reference.safetensors (ids,
 * lengths, loss mask, logits), the max abs logit error on real positions, and the README's masked loss.
 * Rule: header-only, static; every number compared is computed here from the fixture, not from the model. */
#ifndef FT_TEST_MODELREF_H
#define FT_TEST_MODELREF_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "safetensors.h"
#include "tap.h"
#include "testdata.h"

typedef struct {
    ft_safetensors *st;
    int B, T, V;
    int32_t *ids;     /* (B, T) */
    int32_t *lengths; /* (B) */
    uint8_t *mask;    /* (B, T) loss_mask */
} fixture;

/* Float element i of a float tensor called name of f, or NAN. */
static inline const ft_tensor *fx_tensor(const fixture *f, const char *name) {
    return ft_safetensors_find(f->st, name);
}

static inline float *fx_floats(const fixture *f, const char *name) {
    const ft_tensor *t = fx_tensor(f, name);
    if (!t) return NULL;
    float *p = malloc((size_t)t->numel * sizeof *p + 1);
    if (ft_tensor_read_f32(t, 0, t->numel, p) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

/* Opens models/stories260K/<layout>/reference.safetensors (0), or returns -1 when it is absent. */
static inline int fx_open(fixture *f, const char *layout) {
    char rel[256], path[4096];
    memset(f, 0, sizeof *f);
    snprintf(rel, sizeof rel, "models/stories260K/%s/reference.safetensors", layout);
    if (!testdata(rel, path, sizeof path) || ft_safetensors_open(path, &f->st, NULL) != 0) return -1;
    const ft_tensor *ids = fx_tensor(f, "input_ids"), *len = fx_tensor(f, "lengths"),
                    *mask = fx_tensor(f, "loss_mask"), *lg = fx_tensor(f, "logits");
    if (!ids || !len || !mask || !lg || ids->ndim != 2 || lg->ndim != 3) return -1;
    f->B = (int)ids->shape[0], f->T = (int)ids->shape[1], f->V = (int)lg->shape[2];
    f->ids = malloc(ids->nbytes), f->lengths = malloc(len->nbytes), f->mask = malloc(mask->nbytes);
    memcpy(f->ids, ids->data, ids->nbytes);
    memcpy(f->lengths, len->data, len->nbytes);
    memcpy(f->mask, mask->data, mask->nbytes);
    return 0;
}

static inline void fx_close(fixture *f) {
    ft_safetensors_free(f->st);
    free(f->ids), free(f->lengths), free(f->mask);
}

/* max |got - want| over the real positions (t < lengths[b]) of (B, T, V) logits. */
static inline double fx_max_err(const fixture *f, const float *got, const float *want) {
    double e = 0;
    for (int b = 0; b < f->B; b++)
        for (int t = 0; t < f->lengths[b]; t++)
            for (int i = 0; i < f->V; i++) {
                size_t at = ((size_t)b * f->T + t) * f->V + i;
                double d = fabs((double)got[at] - want[at]);
                if (!(d <= e)) e = isnan(d) ? INFINITY : d;
            }
    return e;
}

/* The README's loss: mean over (b, t) with loss_mask[b, t + 1] of -log softmax(logits[b, t])[ids[b, t + 1]],
 * computed with the backend's cross_entropy and ft_targets_from_mask. */
static inline double fx_loss(const fixture *f, ft_backend *be, const float *logits) {
    int N = f->B * f->T;
    int32_t *tg = malloc((size_t)N * sizeof *tg);
    for (int b = 0; b < f->B; b++)
        ft_targets_from_mask(f->ids + b * f->T, f->mask + b * f->T, NULL, f->T, tg + b * f->T);
    double l = be->ops->cross_entropy(be, NULL, logits, tg, N, f->V);
    free(tg);
    return l;
}

/* Logits of the fixture batch through m (each row one document of its real length, then padding). */
static inline int fx_forward(const fixture *f, ft_model *m, float *logits) {
    int32_t ndocs[16], off[16];
    for (int b = 0; b < f->B && b < 16; b++)
        ndocs[b] = 1, off[b] = b;
    return ft_model_forward(m, f->ids, f->B, f->T, f->lengths, ndocs, off, logits);
}

/* The path of models/stories260K/<rel> in buf; 1 when it exists. */
static inline int model_path(const char *rel, char *buf, size_t cap) {
    char r[512];
    snprintf(r, sizeof r, "models/stories260K/%s", rel);
    return testdata(r, buf, cap);
}

#endif
