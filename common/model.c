/* model.c: a Hugging Face decoder model bound tensor by tensor into per-layer linear layers, and its forward
 * pass (packed rows, or new tokens over a KV cache) through the backend's op table.
 * Rule: one layer function serves both passes (they differ only in where keys and values live and which
 * attention op reads them); every weight is converted once at load into the storage asked for. */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "half.h"
#include "lora.h"
#include "weights.h"

/* One linear layer W (O, I), with its optional bias and LoRA branch. */
typedef struct {
    ft_weight W;         /* points into mem, or at nf4 */
    void *mem;           /* (O, I) F32 or BF16 storage, NULL for NF4 */
    ft_nf4_tensor nf4;   /* when NF4 */
    float *bias;         /* (O) or NULL */
    const float *A, *Bm; /* LoRA (R, I) and (O, R), borrowed from the adapter; NULL = none */
    int R;
    float scale;
} ft_linear;

typedef struct {
    float *ln1, *ln2; /* (C) input_layernorm, post_attention_layernorm */
    /* q (H*D, C), k and v (Hkv*D, C), o (C, H*D), gate and up (F, C), down (C, F) */
    ft_linear q, k, v, o, gate, up, down;
} ft_layer;

struct ft_model {
    ft_model_config cfg;
    ft_backend *be;
    ft_wtype quant;
    int nf4_double;   /* double-quantize NF4 absmax */
    float *wte;       /* (V, C) embed_tokens */
    float *head;      /* (V, C) lm_head (row-normalized for NormHead), or wte when tied */
    float *norm;      /* (C) model.norm */
    float *alibi;     /* (H) slopes, or NULL for RoPE */
    ft_layer *layers; /* (L) */
    ft_lora *lora;    /* the adapter whose A/B the layers borrow, or NULL */
};

/* The activations of one pass over N tokens, kept per layer for the backward (ft-train) when nsets = L, or
 * one set reused by every layer (evaluation). The residual stream goes res[l] -> mid[l] -> res[l + 1]. */
typedef struct {
    int N, nsets;
    float **res;            /* (L + 1) pointers to (N, C); with one set they alternate between two buffers */
    float *xn1, *rstd1;     /* (N, C), (N) per set: input_layernorm */
    float *q, *k, *v;       /* (N, H, D), (N, Hkv, D), (N, Hkv, D) per set (k, v unused with a KV cache) */
    float *att, *lse;       /* (N, H, D), (N, H) per set */
    float *mid;             /* (N, C) per set: residual after attention */
    float *xn2, *rstd2;     /* (N, C), (N) per set */
    float *gate, *up, *hid; /* (N, F) per set; hid = swiglu(gate, up) */
    float *xf, *logits;     /* (N, C) final norm, (rows, V) for the rows that get logits */
    int32_t *pos, *start;   /* (N) positions and document starts */
    void *mem;
} ft_acts;

ft_model_opts ft_model_opts_default(void) {
    return (ft_model_opts){.arch = NULL, .quant = FT_WTYPE_F32, .backend = NULL, .nthreads = 0};
}

const ft_model_config *ft_model_cfg(const ft_model *m) { return &m->cfg; }
ft_backend *ft_model_backend(ft_model *m) { return m->be; }

/* ---- loading ---- */

static void *be_alloc(ft_backend *be, size_t bytes) { return be->ops->alloc(be, bytes ? bytes : 1); }

/* The tensor name with dims (ndim 1 or 2, d1 ignored for 1), F32/F16/BF16; else a named error. */
static int need(const ft_weights *w, const char *name, int ndim, int64_t d0, int64_t d1,
                const ft_tensor **out, ft_buf *why) {
    const ft_tensor *t = ft_weights_find(w, name);
    *out = t;
    if (!t) return ft_fail(why, FT_EFORMAT, "missing tensor '%s'", name);
    if (t->dtype != FT_DTYPE_F32 && t->dtype != FT_DTYPE_F16 && t->dtype != FT_DTYPE_BF16)
        return ft_fail(why, FT_EFORMAT, "tensor '%s': dtype %s, expected F32, F16 or BF16", name,
                       ft_dtype_name(t->dtype));
    if (t->ndim != ndim || t->shape[0] != d0 || (ndim == 2 && t->shape[1] != d1)) {
        ft_buf got;
        ft_buf_init(&got);
        ft_tensor_shape_str(t, &got);
        int rc = ndim == 2 ? ft_fail(why, FT_EFORMAT, "tensor '%s': shape %s, expected [%lld, %lld]", name,
                                     got.data, (long long)d0, (long long)d1)
                           : ft_fail(why, FT_EFORMAT, "tensor '%s': shape %s, expected [%lld]", name,
                                     got.data, (long long)d0);
        ft_buf_release(&got);
        return rc;
    }
    return 0;
}

/* A float copy of elements [begin, begin + n) of t in backend memory. */
static int load_f32(ft_model *m, const ft_tensor *t, uint64_t begin, size_t n, float **out, ft_buf *why) {
    float *host = malloc(n * sizeof *host + 1);
    *out = be_alloc(m->be, n * sizeof **out);
    if (!host || !*out) {
        free(host);
        return ft_fail(why, FT_ENOMEM, "out of memory loading '%s'", t->name);
    }
    FT_ASSERT(ft_tensor_read_f32(t, begin, n, host) == 0);
    m->be->ops->upload(m->be, *out, host, n * sizeof *host);
    free(host);
    return 0;
}

/* A vector (C or O) called name. */
static int load_vec(ft_model *m, const ft_weights *w, const char *name, int64_t n, float **out, ft_buf *why) {
    const ft_tensor *t;
    FT_TRY(need(w, name, 1, n, 0, &t, why));
    return load_f32(m, t, 0, (size_t)n, out, why);
}

/* Rows [row0, row0 + O) of t (., I) into lin in the model's weight storage. */
static int load_linear(ft_model *m, ft_linear *lin, const ft_tensor *t, int row0, int O, int I, ft_buf *why) {
    size_t n = (size_t)O * I;
    uint64_t begin = (uint64_t)row0 * (uint64_t)I;
    if (m->quant == FT_WTYPE_F32) {
        FT_TRY(load_f32(m, t, begin, n, (float **)&lin->mem, why));
        lin->W = ft_weight_f32(lin->mem, O, I);
        return 0;
    }
    float *host = malloc(n * sizeof *host + 1);
    if (!host) return ft_fail(why, FT_ENOMEM, "out of memory loading '%s'", t->name);
    FT_ASSERT(ft_tensor_read_f32(t, begin, n, host) == 0);
    int rc = 0;
    if (m->quant == FT_WTYPE_BF16) {
        uint16_t *bits = malloc(n * sizeof *bits + 1);
        lin->mem = be_alloc(m->be, n * sizeof *bits);
        if (bits && lin->mem) {
            for (size_t i = 0; i < n; i++)
                bits[i] = ft_f32_to_bf16(host[i]); /* exact for BF16 files */
            m->be->ops->upload(m->be, lin->mem, bits, n * sizeof *bits);
            lin->W = ft_weight_bf16(lin->mem, O, I);
        } else {
            rc = ft_fail(why, FT_ENOMEM, "out of memory loading '%s'", t->name);
        }
        free(bits);
    } else if (ft_nf4_tensor_quantize(&lin->nf4, host, n, m->nf4_double, NULL) != 0) {
        rc = ft_fail(why, FT_ENOMEM, "out of memory quantizing '%s'", t->name);
    } else {
        lin->W = ft_weight_nf4(&lin->nf4, O, I);
    }
    free(host);
    return rc;
}

/* The linear layer called prefix.weight (O, I), or rows [row0, row0 + O) of a fused weight of rows rows. */
static int bind_linear(ft_model *m, const ft_weights *w, ft_linear *lin, const char *name, int rows, int row0,
                       int O, int I, ft_buf *why) {
    const ft_tensor *t;
    FT_TRY(need(w, name, 2, rows, I, &t, why));
    return load_linear(m, lin, t, row0, O, I, why);
}

static int bind_layer(ft_model *m, const ft_weights *w, int l, ft_buf *why) {
    const ft_model_config *c = &m->cfg;
    ft_layer *ly = &m->layers[l];
    int C = c->hidden_size, F = c->intermediate_size, QD = c->num_heads * c->head_dim,
        KD = c->num_kv_heads * c->head_dim;
    char name[256], p[96];
    snprintf(p, sizeof p, "model.layers.%d.", l);
#define NAME(s) (snprintf(name, sizeof name, "%s%s", p, s), name)
    FT_TRY(load_vec(m, w, NAME("input_layernorm.weight"), C, &ly->ln1, why));
    FT_TRY(load_vec(m, w, NAME("post_attention_layernorm.weight"), C, &ly->ln2, why));
    if (c->w_pack) { /* W_pack (QD + 2 KD, C): rows of q, then k, then v */
        int rows = QD + 2 * KD;
        FT_TRY(bind_linear(m, w, &ly->q, NAME("self_attn.W_pack.weight"), rows, 0, QD, C, why));
        FT_TRY(bind_linear(m, w, &ly->k, name, rows, QD, KD, C, why));
        FT_TRY(bind_linear(m, w, &ly->v, name, rows, QD + KD, KD, C, why));
    } else {
        FT_TRY(bind_linear(m, w, &ly->q, NAME("self_attn.q_proj.weight"), QD, 0, QD, C, why));
        FT_TRY(bind_linear(m, w, &ly->k, NAME("self_attn.k_proj.weight"), KD, 0, KD, C, why));
        FT_TRY(bind_linear(m, w, &ly->v, NAME("self_attn.v_proj.weight"), KD, 0, KD, C, why));
    }
    if (c->qkv_bias) {
        FT_TRY(load_vec(m, w, NAME("self_attn.q_proj.bias"), QD, &ly->q.bias, why));
        FT_TRY(load_vec(m, w, NAME("self_attn.k_proj.bias"), KD, &ly->k.bias, why));
        FT_TRY(load_vec(m, w, NAME("self_attn.v_proj.bias"), KD, &ly->v.bias, why));
    }
    FT_TRY(bind_linear(m, w, &ly->o, NAME("self_attn.o_proj.weight"), C, 0, C, QD, why));
    FT_TRY(bind_linear(m, w, &ly->gate, NAME("mlp.gate_proj.weight"), F, 0, F, C, why));
    FT_TRY(bind_linear(m, w, &ly->up, NAME("mlp.up_proj.weight"), F, 0, F, C, why));
    FT_TRY(bind_linear(m, w, &ly->down, NAME("mlp.down_proj.weight"), C, 0, C, F, why));
#undef NAME
    return 0;
}

/* lm_head: tied to the embedding, or its own rows, L2-normalized per row for NormHead (as F.normalize:
 * row / max(|row|, 1e-12)). */
static int bind_head(ft_model *m, const ft_weights *w, ft_buf *why) {
    const ft_model_config *c = &m->cfg;
    size_t V = (size_t)c->vocab_size, C = (size_t)c->hidden_size;
    const ft_tensor *t = ft_weights_find(w, "lm_head.weight");
    if (c->tie_word_embeddings && !c->norm_head) {
        m->head = m->wte;
        return 0;
    }
    if (!t && !c->tie_word_embeddings) return ft_fail(why, FT_EFORMAT, "missing tensor 'lm_head.weight'");
    if (t)
        FT_TRY(need(w, "lm_head.weight", 2, (int64_t)V, (int64_t)C, &t, why));
    else
        FT_TRY(need(w, "model.embed_tokens.weight", 2, (int64_t)V, (int64_t)C, &t, why));
    float *host = malloc(V * C * sizeof *host);
    m->head = be_alloc(m->be, V * C * sizeof *host);
    if (!host || !m->head) {
        free(host);
        return ft_fail(why, FT_ENOMEM, "out of memory loading lm_head");
    }
    FT_ASSERT(ft_tensor_read_f32(t, 0, V * C, host) == 0);
    for (size_t r = 0; c->norm_head && r < V; r++) {
        double ss = 0;
        for (size_t i = 0; i < C; i++)
            ss += (double)host[r * C + i] * host[r * C + i];
        double nrm = fmax(sqrt(ss), 1e-12);
        for (size_t i = 0; i < C; i++)
            host[r * C + i] = (float)(host[r * C + i] / nrm);
    }
    m->be->ops->upload(m->be, m->head, host, V * C * sizeof *host);
    free(host);
    return 0;
}

static int bind_all(ft_model *m, const ft_weights *w, ft_buf *why) {
    const ft_model_config *c = &m->cfg;
    const ft_tensor *t;
    FT_TRY(need(w, "model.embed_tokens.weight", 2, c->vocab_size, c->hidden_size, &t, why));
    FT_TRY(load_f32(m, t, 0, (size_t)c->vocab_size * c->hidden_size, &m->wte, why));
    FT_TRY(load_vec(m, w, "model.norm.weight", c->hidden_size, &m->norm, why));
    FT_TRY(bind_head(m, w, why));
    m->layers = calloc((size_t)c->num_layers, sizeof *m->layers);
    if (!m->layers) return ft_fail(why, FT_ENOMEM, "out of memory");
    for (int l = 0; l < c->num_layers; l++)
        FT_TRY(bind_layer(m, w, l, why));
    if (c->pos == FT_POS_ALIBI) {
        float *host = malloc((size_t)c->num_heads * sizeof *host);
        m->alibi = be_alloc(m->be, (size_t)c->num_heads * sizeof *host);
        if (!host || !m->alibi) {
            free(host);
            return ft_fail(why, FT_ENOMEM, "out of memory");
        }
        ft_alibi_slopes(host, c->num_heads);
        m->be->ops->upload(m->be, m->alibi, host, (size_t)c->num_heads * sizeof *host);
        free(host);
    }
    return 0;
}

int ft_model_open(const char *dir, const ft_model_opts *opts, ft_model **out, ft_buf *why) {
    ft_model_opts def = ft_model_opts_default();
    if (!opts) opts = &def;
    *out = NULL;
    if (opts->quant < 0 || opts->quant >= FT_WTYPE_COUNT)
        return ft_fail(why, FT_EINVAL, "unknown weight storage");
    ft_model *m = calloc(1, sizeof *m);
    if (!m) return ft_fail(why, FT_ENOMEM, "out of memory");
    m->quant = opts->quant;
    m->nf4_double = !opts->nf4_plain_absmax;
    ft_weights *w = NULL;
    int rc = ft_model_config_load(dir, opts->arch, &m->cfg, why);
    if (!rc && ft_backend_new(opts->backend ? opts->backend : "cpu", &m->be) != 0)
        rc = ft_fail(why, FT_EINVAL, "unknown backend '%s' (expected %s)", opts->backend, ft_backend_names());
    if (!rc) {
        m->be->nthreads = opts->nthreads;
        rc = ft_weights_open(dir, &w, why);
    }
    if (!rc) rc = bind_all(m, w, why);
    ft_weights_free(w);
    if (rc) {
        ft_model_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

static void linear_release(ft_backend *be, ft_linear *lin) {
    if (lin->mem) be->ops->free(be, lin->mem);
    if (lin->W.type == FT_WTYPE_NF4) ft_nf4_tensor_release(&lin->nf4);
    if (lin->bias) be->ops->free(be, lin->bias);
}

void ft_model_free(ft_model *m) {
    if (!m) return;
    ft_backend *be = m->be;
    if (be) {
        for (int l = 0; m->layers && l < m->cfg.num_layers; l++) {
            ft_layer *ly = &m->layers[l];
            ft_linear *lins[] = {&ly->q, &ly->k, &ly->v, &ly->o, &ly->gate, &ly->up, &ly->down};
            for (size_t i = 0; i < sizeof lins / sizeof *lins; i++)
                linear_release(be, lins[i]);
            if (ly->ln1) be->ops->free(be, ly->ln1);
            if (ly->ln2) be->ops->free(be, ly->ln2);
        }
        if (m->head && m->head != m->wte) be->ops->free(be, m->head);
        if (m->wte) be->ops->free(be, m->wte);
        if (m->norm) be->ops->free(be, m->norm);
        if (m->alibi) be->ops->free(be, m->alibi);
    }
    free(m->layers);
    ft_lora_free(m->lora);
    ft_backend_free(be);
    free(m);
}

/* ---- adapter ---- */

/* Attaches module (O, I) of the adapter to lin, rows [row0, row0 + lin's O) of its B (fused W_pack). */
static int attach(ft_model *m, const ft_lora_module *mod, ft_linear *lin, int row0, int rows, ft_buf *why) {
    if (mod->in != lin->W.in || mod->out != rows)
        return ft_fail(why, FT_EFORMAT,
                       "adapter module '%s': lora_A/B [%d, %d]/[%d, %d] do not fit the layer "
                       "(%d in, %d out)",
                       mod->module, m->lora->r, mod->in, mod->out, m->lora->r, lin->W.in, rows);
    lin->A = mod->A;
    lin->Bm = mod->B + (size_t)row0 * m->lora->r;
    lin->R = m->lora->r;
    lin->scale = m->lora->scale;
    return 0;
}

/* The layer(s) module path names: "model.layers.N.{self_attn,mlp}.X". */
static int attach_module(ft_model *m, const ft_lora_module *mod, ft_buf *why) {
    const ft_model_config *c = &m->cfg;
    int l = -1, used = 0;
    char kind[32] = "";
    if (sscanf(mod->module, "model.layers.%d.%*[a-z_].%31[A-Za-z_]%n", &l, kind, &used) != 2 ||
        mod->module[used] || l < 0 || l >= c->num_layers)
        return ft_fail(why, FT_EFORMAT, "adapter module '%s' is not a linear layer of this model",
                       mod->module);
    ft_layer *ly = &m->layers[l];
    int attn = strstr(mod->module, ".self_attn.") != NULL, mlp = strstr(mod->module, ".mlp.") != NULL;
    int QD = c->num_heads * c->head_dim, KD = c->num_kv_heads * c->head_dim;
    if (attn && c->w_pack && !strcmp(kind, "W_pack")) {
        FT_TRY(attach(m, mod, &ly->q, 0, QD + 2 * KD, why));
        FT_TRY(attach(m, mod, &ly->k, QD, QD + 2 * KD, why));
        return attach(m, mod, &ly->v, QD + KD, QD + 2 * KD, why);
    }
    ft_linear *lin = NULL;
    if (attn && !c->w_pack && !strcmp(kind, "q_proj")) lin = &ly->q;
    if (attn && !c->w_pack && !strcmp(kind, "k_proj")) lin = &ly->k;
    if (attn && !c->w_pack && !strcmp(kind, "v_proj")) lin = &ly->v;
    if (attn && !strcmp(kind, "o_proj")) lin = &ly->o;
    if (mlp && !strcmp(kind, "gate_proj")) lin = &ly->gate;
    if (mlp && !strcmp(kind, "up_proj")) lin = &ly->up;
    if (mlp && !strcmp(kind, "down_proj")) lin = &ly->down;
    if (!lin)
        return ft_fail(why, FT_EFORMAT, "adapter module '%s' is not a linear layer of this model",
                       mod->module);
    return attach(m, mod, lin, 0, lin->W.out, why);
}

static void detach_all(ft_model *m) {
    for (int l = 0; l < m->cfg.num_layers; l++) {
        ft_layer *ly = &m->layers[l];
        ft_linear *lins[] = {&ly->q, &ly->k, &ly->v, &ly->o, &ly->gate, &ly->up, &ly->down};
        for (size_t i = 0; i < sizeof lins / sizeof *lins; i++)
            lins[i]->A = lins[i]->Bm = NULL, lins[i]->R = 0;
    }
}

int ft_model_load_adapter(ft_model *m, const char *dir, ft_buf *why) {
    if (m->lora) return ft_fail(why, FT_EINVAL, "the model already has an adapter");
    FT_TRY(ft_lora_load(dir, &m->lora, why));
    for (size_t i = 0; i < m->lora->n; i++) {
        int rc = attach_module(m, &m->lora->mods[i], why);
        if (rc) {
            detach_all(m);
            ft_lora_free(m->lora);
            m->lora = NULL;
            return rc;
        }
    }
    return 0;
}

/* ---- forward ---- */

static void acts_free(ft_backend *be, ft_acts *a) {
    if (a->mem) be->ops->free(be, a->mem);
    free(a->res);
    memset(a, 0, sizeof *a);
}

/* Carves the activations of N tokens (nsets layer sets, logits for the last out_rows) out of one backend
 * allocation. */
static int acts_new(ft_model *m, int N, int nsets, int out_rows, ft_acts *a) {
    const ft_model_config *c = &m->cfg;
    size_t n = (size_t)N, C = (size_t)c->hidden_size, F = (size_t)c->intermediate_size,
           H = (size_t)c->num_heads, KD = (size_t)c->num_kv_heads * c->head_dim, QD = H * c->head_dim;
    size_t per_set = n * (C + 1 + QD + 2 * KD + QD + H + C + C + 1 + 3 * F);
    size_t nres = nsets > 1 ? (size_t)nsets + 1 : 2;
    size_t total =
        per_set * nsets + n * (nres * C + C) + (size_t)out_rows * c->vocab_size + 2 * n; /* floats */
    memset(a, 0, sizeof *a);
    a->N = N;
    a->nsets = nsets;
    a->mem = be_alloc(m->be, total * sizeof(float));
    a->res = malloc(((size_t)c->num_layers + 1) * sizeof *a->res);
    if (!a->mem || !a->res) {
        acts_free(m->be, a);
        return FT_ENOMEM;
    }
    float *p = a->mem;
#define TAKE(ptr, count) (ptr = (void *)p, p += (count))
    TAKE(a->xn1, n * C * nsets), TAKE(a->rstd1, n * nsets), TAKE(a->q, n * QD * nsets);
    TAKE(a->k, n * KD * nsets), TAKE(a->v, n * KD * nsets), TAKE(a->att, n * QD * nsets);
    TAKE(a->lse, n * H * nsets), TAKE(a->mid, n * C * nsets), TAKE(a->xn2, n * C * nsets);
    TAKE(a->rstd2, n * nsets), TAKE(a->gate, n * F * nsets), TAKE(a->up, n * F * nsets);
    TAKE(a->hid, n * F * nsets), TAKE(a->xf, n * C), TAKE(a->logits, (size_t)out_rows * c->vocab_size);
    TAKE(a->pos, n), TAKE(a->start, n);
    for (int l = 0; l <= c->num_layers; l++)
        a->res[l] = p + (nsets > 1 ? (size_t)l : (size_t)(l % 2)) * n * C;
    p += nres * n * C;
#undef TAKE
    FT_ASSERT((size_t)(p - (float *)a->mem) == total);
    return 0;
}

static void linear(ft_backend *be, float *y, const float *x, const ft_linear *lin, int N) {
    if (lin->A)
        be->ops->lora(be, y, NULL, x, &lin->W, lin->bias, lin->A, lin->Bm, lin->R, lin->scale, N);
    else
        be->ops->matmul(be, y, x, &lin->W, lin->bias, N);
}

/* Where a layer's keys and values go: the pass's own buffers (attention over packed rows B x T with start),
 * or a KV cache at position p0 (kc, vc: (max, Hkv, D) of this layer). */
typedef struct {
    int B, T; /* packed rows, when kc is NULL */
    int p0;   /* cached positions before these tokens */
    float *kc, *vc;
} kv_where;

/* One decoder layer over N tokens: a->res[l] -> a->res[l + 1], set s of a. */
static void layer_forward(ft_model *m, int l, ft_acts *a, int s, const kv_where *kw) {
    const ft_model_config *c = &m->cfg;
    ft_backend *be = m->be;
    const ft_backend_ops *op = be->ops;
    const ft_layer *ly = &m->layers[l];
    int N = a->N, C = c->hidden_size, F = c->intermediate_size, H = c->num_heads, Hkv = c->num_kv_heads,
        D = c->head_dim;
    size_t n = (size_t)N, QD = (size_t)H * D, KD = (size_t)Hkv * D;
    float *xn1 = a->xn1 + s * n * C, *q = a->q + s * n * QD, *att = a->att + s * n * QD;
    float *k = kw->kc ? kw->kc + (size_t)kw->p0 * KD : a->k + s * n * KD; /* (N, Hkv, D) */
    float *v = kw->kc ? kw->vc + (size_t)kw->p0 * KD : a->v + s * n * KD;
    float *mid = a->mid + s * n * C, *xn2 = a->xn2 + s * n * C;
    float *gate = a->gate + s * n * F, *up = a->up + s * n * F, *hid = a->hid + s * n * F;
    float eps = (float)c->rms_norm_eps;

    op->rmsnorm(be, xn1, a->rstd1 + s * n, a->res[l], ly->ln1, N, C, eps);
    linear(be, q, xn1, &ly->q, N);
    linear(be, k, xn1, &ly->k, N);
    linear(be, v, xn1, &ly->v, N);
    if (c->pos == FT_POS_ROPE) {
        op->rope(be, q, a->pos, N, H, D, (float)c->rope_theta);
        op->rope(be, k, a->pos, N, Hkv, D, (float)c->rope_theta);
    }
    if (kw->kc)
        op->attention_kv(be, att, q, kw->kc, kw->vc, m->alibi, kw->p0, N, H, Hkv, D);
    else
        op->attention(be, att, a->lse + s * n * H, q, k, v, a->start, m->alibi, kw->B, kw->T, H, Hkv, D);
    linear(be, mid, att, &ly->o, N);
    op->add(be, mid, a->res[l], n * C);
    op->rmsnorm(be, xn2, a->rstd2 + s * n, mid, ly->ln2, N, C, eps);
    linear(be, gate, xn2, &ly->gate, N);
    linear(be, up, xn2, &ly->up, N);
    op->swiglu(be, hid, gate, up, n * F);
    linear(be, a->res[l + 1], hid, &ly->down, N);
    op->add(be, a->res[l + 1], mid, n * C);
}

/* Embedding, the layers, the final norm and lm_head for the N = rows of a (ids, pos and start already in a);
 * logits for the last `rows` tokens only (rows <= N) land in a->logits. */
static void run(ft_model *m, ft_acts *a, const int32_t *ids, const kv_where *kw, int from_row) {
    const ft_model_config *c = &m->cfg;
    ft_backend *be = m->be;
    ft_weight wte = ft_weight_f32(m->wte, c->vocab_size, c->hidden_size);
    ft_weight head = ft_weight_f32(m->head, c->vocab_size, c->hidden_size);
    be->ops->embedding(be, a->res[0], ids, &wte, a->N);
    for (int l = 0; l < c->num_layers; l++) {
        kv_where w = *kw;
        if (kw->kc) {
            size_t per = (size_t)kw->T * c->num_kv_heads * c->head_dim; /* T = cache capacity here */
            w.kc = kw->kc + (size_t)l * per;
            w.vc = kw->vc + (size_t)l * per;
        }
        layer_forward(m, l, a, a->nsets > 1 ? l : 0, &w);
    }
    size_t C = (size_t)c->hidden_size;
    int rows = a->N - from_row;
    be->ops->rmsnorm(be, a->xf, NULL, a->res[c->num_layers] + (size_t)from_row * C, m->norm, rows, (int)C,
                     (float)c->rms_norm_eps);
    be->ops->matmul(be, a->logits, a->xf, &head, NULL, rows);
}

/* One pass over N tokens: host (3 N) holds their positions, document starts and ids; logits of the tokens
 * from_row .. N - 1 go to the caller's logits. */
static int pass(ft_model *m, const int32_t *host, int N, const kv_where *kw, int from_row, float *logits) {
    ft_backend *be = m->be;
    ft_acts a;
    FT_TRY(acts_new(m, N, 1, N - from_row, &a));
    int32_t *dids = be_alloc(be, (size_t)N * sizeof *dids);
    if (!dids) {
        acts_free(be, &a);
        return FT_ENOMEM;
    }
    be->ops->upload(be, a.pos, host, (size_t)N * sizeof *host);
    be->ops->upload(be, a.start, host + N, (size_t)N * sizeof *host);
    be->ops->upload(be, dids, host + 2 * N, (size_t)N * sizeof *host);
    run(m, &a, dids, kw, from_row);
    be->ops->download(be, logits, a.logits, (size_t)(N - from_row) * m->cfg.vocab_size * sizeof *logits);
    be->ops->free(be, dids);
    acts_free(be, &a);
    return 0;
}

int ft_model_forward(ft_model *m, const int32_t *ids, int B, int T, const int32_t *seq_lens,
                     const int32_t *ndocs, const int32_t *doc_off, float *logits) {
    FT_RETURN_IF(B < 1 || T < 1 || (int64_t)B * T > INT32_MAX / 4 || (seq_lens && (!ndocs || !doc_off)),
                 FT_EINVAL);
    int N = B * T, rc = 0;
    int32_t *host = malloc(3 * (size_t)N * sizeof *host); /* pos, start, ids */
    FT_RETURN_IF(!host, FT_ENOMEM);
    for (int b = 0; b < B && !rc; b++)
        rc = ft_seq_layout(seq_lens ? seq_lens + doc_off[b] : NULL, seq_lens ? ndocs[b] : 0, T, host + b * T,
                           host + N + b * T);
    memcpy(host + 2 * N, ids, (size_t)N * sizeof *ids);
    kv_where kw = {.B = B, .T = T};
    if (!rc) rc = pass(m, host, N, &kw, 0, logits);
    free(host);
    return rc;
}

/* ---- KV cache ---- */

struct ft_kvcache {
    const ft_model *m;
    int max, len;
    float *k, *v; /* (L, max, Hkv, D) each, backend memory */
};

int ft_kvcache_new(const ft_model *m, int max_tokens, ft_kvcache **out) {
    const ft_model_config *c = &m->cfg;
    *out = NULL;
    FT_RETURN_IF(max_tokens < 1 || max_tokens > (1 << 24), FT_EINVAL);
    ft_kvcache *kv = calloc(1, sizeof *kv);
    FT_RETURN_IF(!kv, FT_ENOMEM);
    size_t n = (size_t)c->num_layers * max_tokens * c->num_kv_heads * c->head_dim;
    ft_backend *be = m->be;
    kv->m = m;
    kv->max = max_tokens;
    kv->k = be_alloc(be, n * sizeof(float));
    kv->v = be_alloc(be, n * sizeof(float));
    if (!kv->k || !kv->v) {
        ft_kvcache_free(kv);
        return FT_ENOMEM;
    }
    *out = kv;
    return 0;
}

void ft_kvcache_free(ft_kvcache *kv) {
    if (!kv) return;
    ft_backend *be = kv->m->be;
    if (kv->k) be->ops->free(be, kv->k);
    if (kv->v) be->ops->free(be, kv->v);
    free(kv);
}

int ft_kvcache_len(const ft_kvcache *kv) { return kv->len; }

void ft_kvcache_truncate(ft_kvcache *kv, int len) {
    if (len >= 0 && len < kv->len) kv->len = len;
}

int ft_model_step(ft_model *m, ft_kvcache *kv, const int32_t *ids, int n, float *logits, int last_only) {
    FT_RETURN_IF(n < 1 || kv->m != m || n > kv->max - kv->len, FT_EINVAL);
    int32_t *host = malloc(3 * (size_t)n * sizeof *host); /* pos, start, ids */
    FT_RETURN_IF(!host, FT_ENOMEM);
    for (int i = 0; i < n; i++)
        host[i] = kv->len + i, host[n + i] = 0;
    memcpy(host + 2 * n, ids, (size_t)n * sizeof *ids);
    kv_where kw = {.B = 1, .T = kv->max, .p0 = kv->len, .kc = kv->k, .vc = kv->v};
    int rc = pass(m, host, n, &kw, last_only ? n - 1 : 0, logits);
    if (!rc) kv->len += n;
    free(host);
    return rc;
}
