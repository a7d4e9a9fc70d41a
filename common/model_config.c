/* model_config.c: config.json -> ft_model_config, with the Baichuan detection rules and validation.
 * Rule: the architecture decides the structural flags (bias, W_pack, ALiBi, NormHead) in one table;
 * config fields only give sizes and constants. */
#include "model_config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json.h"
#include "mapfile.h"

static const struct {
    const char *name;
    ft_pos_kind pos;
    int qkv_bias, w_pack, norm_head;
} g_arch[FT_ARCH_COUNT] = {
    [FT_ARCH_LLAMA] = {"llama", FT_POS_ROPE, 0, 0, 0},
    [FT_ARCH_QWEN2] = {"qwen2", FT_POS_ROPE, 1, 0, 0},
    [FT_ARCH_BAICHUAN_7B] = {"baichuan-7b", FT_POS_ROPE, 0, 1, 0},
    [FT_ARCH_BAICHUAN_13B] = {"baichuan-13b", FT_POS_ALIBI, 0, 1, 0},
    [FT_ARCH_BAICHUAN2_7B] = {"baichuan2-7b", FT_POS_ROPE, 0, 1, 1},
    [FT_ARCH_BAICHUAN2_13B] = {"baichuan2-13b", FT_POS_ALIBI, 0, 1, 1},
};

int ft_arch_from_name(const char *name, ft_arch *out) {
    for (int a = 0; a < FT_ARCH_COUNT; a++)
        if (!strcmp(name, g_arch[a].name)) {
            *out = (ft_arch)a;
            return 0;
        }
    return FT_EINVAL;
}

const char *ft_arch_name(ft_arch arch) { return (unsigned)arch < FT_ARCH_COUNT ? g_arch[arch].name : "?"; }
const char *ft_arch_names(void) { return "llama, qwen2, baichuan-7b, baichuan-13b, baichuan2-7b, baichuan2-13b"; }

/* An integer field in [lo, hi]: 1 found, 0 absent (or null), -1 present but not such a number. */
static int get_int(const cJSON *root, const char *key, int64_t lo, int64_t hi, int64_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsNumber(v) || floor(v->valuedouble) != v->valuedouble || v->valuedouble < (double)lo ||
        v->valuedouble > (double)hi)
        return -1;
    *out = (int64_t)v->valuedouble;
    return 1;
}

static int need_int(const cJSON *root, const char *key, int *out, ft_buf *why) {
    int64_t v;
    int r = get_int(root, key, 1, INT32_MAX, &v);
    if (r == 0) return ft_fail(why, FT_EPARSE, "config.json: '%s' is missing", key);
    if (r < 0) return ft_fail(why, FT_EPARSE, "config.json: '%s' is not an integer in [1, %d]", key, INT32_MAX);
    *out = (int)v;
    return 0;
}

/* A positive finite number field: 1 found, 0 absent, -1 bad. */
static int get_pos(const cJSON *root, const char *key, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) || !isfinite(v->valuedouble)) return -1;
    *out = v->valuedouble;
    return 1;
}

/* A token id: an integer, or the first of a list of them; -1 when absent. */
static int64_t token_id(const cJSON *root, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (cJSON_IsArray(v)) v = v->child;
    if (!cJSON_IsNumber(v) || floor(v->valuedouble) != v->valuedouble || v->valuedouble < 0 ||
        v->valuedouble > INT32_MAX)
        return -1;
    return (int64_t)v->valuedouble;
}

static int is_true(const cJSON *root, const char *key) {
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, key));
}

/* The architecture from "architectures" (or "model_type"), with the Baichuan rules. */
static int detect(const cJSON *root, ft_arch *arch, ft_buf *why) {
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    const char *cls = NULL;
    if (cJSON_IsArray(list) && cJSON_IsString(list->child)) cls = list->child->valuestring;
    const char *mt = ft_json_str(root, "model_type");
    if (!cls && !mt) return ft_fail(why, FT_EPARSE, "config.json names no architecture (no 'architectures' or 'model_type')");
    if (cls ? !strcmp(cls, "LlamaForCausalLM") || !strcmp(cls, "LLaMAForCausalLM") : !strcmp(mt, "llama")) {
        *arch = FT_ARCH_LLAMA;
        return 0;
    }
    if (cls ? !strcmp(cls, "Qwen2ForCausalLM") : !strcmp(mt, "qwen2")) {
        *arch = FT_ARCH_QWEN2;
        return 0;
    }
    if (cls && !strcmp(cls, "BaiChuanForCausalLM")) {
        *arch = FT_ARCH_BAICHUAN_7B;
        return 0;
    }
    if (cls ? !strcmp(cls, "BaichuanForCausalLM") : !strcmp(mt, "baichuan")) {
        int64_t vocab = 0;
        int v2 = cJSON_GetObjectItemCaseSensitive(root, "z_loss_weight") != NULL ||
                 (get_int(root, "vocab_size", 1, INT32_MAX, &vocab) == 1 && vocab == 125696);
        int alibi = cJSON_GetObjectItemCaseSensitive(root, "max_position_embeddings") == NULL;
        *arch = v2 ? (alibi ? FT_ARCH_BAICHUAN2_13B : FT_ARCH_BAICHUAN2_7B)
                   : (alibi ? FT_ARCH_BAICHUAN_13B : FT_ARCH_BAICHUAN_7B);
        return 0;
    }
    return ft_fail(why, FT_EFORMAT, "unsupported architecture '%.100s' (supported: LlamaForCausalLM, Qwen2ForCausalLM, "
                                    "BaiChuanForCausalLM, BaichuanForCausalLM)", cls ? cls : mt);
}

/* Features ft's model core does not implement: refused by name rather than computed wrongly. */
static int unsupported(const cJSON *root, ft_buf *why) {
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(root, "rope_scaling");
    if (rs && !cJSON_IsNull(rs)) {
        const char *t = ft_json_str(rs, "type") ? ft_json_str(rs, "type") : ft_json_str(rs, "rope_type");
        return ft_fail(why, FT_EFORMAT, "config.json: rope_scaling ('%.40s') is not supported", t ? t : "?");
    }
    if (is_true(root, "use_sliding_window"))
        return ft_fail(why, FT_EFORMAT, "config.json: use_sliding_window is not supported");
    if (is_true(root, "attention_bias") || is_true(root, "mlp_bias"))
        return ft_fail(why, FT_EFORMAT, "config.json: attention_bias/mlp_bias are not supported for this architecture");
    const char *act = ft_json_str(root, "hidden_act");
    if (act && strcmp(act, "silu"))
        return ft_fail(why, FT_EFORMAT, "config.json: hidden_act '%.40s' is not supported (only silu)", act);
    return 0;
}

static int fill(const cJSON *root, const char *arch_override, ft_model_config *cfg, ft_buf *why) {
    memset(cfg, 0, sizeof *cfg);
    if (!cJSON_IsObject(root)) return ft_fail(why, FT_EPARSE, "config.json is not a JSON object");
    for (const cJSON *a = root->child; a; a = a->next)
        for (const cJSON *b = a->next; b; b = b->next)
            if (!strcmp(a->string, b->string))
                return ft_fail(why, FT_EPARSE, "config.json: '%.60s' appears twice", a->string);
    if (arch_override) {
        if (ft_arch_from_name(arch_override, &cfg->arch) != 0)
            return ft_fail(why, FT_EINVAL, "unknown architecture '%.60s' (one of: %s)", arch_override, ft_arch_names());
    } else {
        FT_TRY(detect(root, &cfg->arch, why));
    }
    cfg->arch_name = g_arch[cfg->arch].name;
    cfg->pos = g_arch[cfg->arch].pos;
    cfg->qkv_bias = g_arch[cfg->arch].qkv_bias;
    cfg->w_pack = g_arch[cfg->arch].w_pack;
    cfg->norm_head = g_arch[cfg->arch].norm_head;
    FT_TRY(unsupported(root, why));
    FT_TRY(need_int(root, "hidden_size", &cfg->hidden_size, why));
    FT_TRY(need_int(root, "intermediate_size", &cfg->intermediate_size, why));
    FT_TRY(need_int(root, "num_hidden_layers", &cfg->num_layers, why));
    FT_TRY(need_int(root, "num_attention_heads", &cfg->num_heads, why));
    FT_TRY(need_int(root, "vocab_size", &cfg->vocab_size, why));
    int64_t v;
    int r = get_int(root, "num_key_value_heads", 1, INT32_MAX, &v);
    if (r < 0) return ft_fail(why, FT_EPARSE, "config.json: 'num_key_value_heads' is not a positive integer");
    cfg->num_kv_heads = r ? (int)v : cfg->num_heads;
    r = get_int(root, "max_position_embeddings", 1, INT32_MAX, &v);
    if (r == 0) r = get_int(root, "model_max_length", 1, INT32_MAX, &v);
    if (r < 0) return ft_fail(why, FT_EPARSE, "config.json: the maximum length is not a positive integer");
    cfg->max_positions = r ? (int)v : 0;
    cfg->rms_norm_eps = 1e-6;
    if (get_pos(root, "rms_norm_eps", &cfg->rms_norm_eps) < 0 || cfg->rms_norm_eps >= 1)
        return ft_fail(why, FT_EPARSE, "config.json: 'rms_norm_eps' is not a number in (0, 1)");
    cfg->rope_theta = 10000.0;
    if (get_pos(root, "rope_theta", &cfg->rope_theta) < 0)
        return ft_fail(why, FT_EPARSE, "config.json: 'rope_theta' is not a positive number");
    const cJSON *tie = cJSON_GetObjectItemCaseSensitive(root, "tie_word_embeddings");
    if (tie && !cJSON_IsBool(tie)) return ft_fail(why, FT_EPARSE, "config.json: 'tie_word_embeddings' is not a boolean");
    cfg->tie_word_embeddings = cJSON_IsTrue(tie);
    const cJSON *td = cJSON_GetObjectItemCaseSensitive(root, "torch_dtype");
    if (td && !cJSON_IsNull(td)) {
        if (!cJSON_IsString(td) || ft_dtype_from_torch_name(td->valuestring, &cfg->torch_dtype) != 0)
            return ft_fail(why, FT_EFORMAT, "config.json: torch_dtype '%.40s' is not float32, float16 or bfloat16",
                           cJSON_IsString(td) ? td->valuestring : "?");
        cfg->has_torch_dtype = 1;
    }
    cfg->bos_id = token_id(root, "bos_token_id");
    cfg->eos_id = token_id(root, "eos_token_id");
    cfg->pad_id = token_id(root, "pad_token_id");
    /* consistency */
    if (cfg->hidden_size % cfg->num_heads)
        return ft_fail(why, FT_EINVAL, "config.json: hidden_size %d is not a multiple of num_attention_heads %d",
                       cfg->hidden_size, cfg->num_heads);
    cfg->head_dim = cfg->hidden_size / cfg->num_heads;
    if (cfg->num_kv_heads > cfg->num_heads || cfg->num_heads % cfg->num_kv_heads)
        return ft_fail(why, FT_EINVAL, "config.json: num_key_value_heads %d does not divide num_attention_heads %d",
                       cfg->num_kv_heads, cfg->num_heads);
    if (cfg->w_pack && cfg->num_kv_heads != cfg->num_heads)
        return ft_fail(why, FT_EINVAL, "config.json: Baichuan models have no grouped-query attention");
    if (cfg->pos == FT_POS_ROPE && cfg->head_dim % 2)
        return ft_fail(why, FT_EINVAL, "config.json: RoPE needs an even head dimension, not %d", cfg->head_dim);
    r = get_int(root, "head_dim", 1, INT32_MAX, &v);
    if (r < 0 || (r == 1 && v != cfg->head_dim))
        return ft_fail(why, FT_EFORMAT, "config.json: head_dim other than hidden_size / num_attention_heads (%d) is not supported",
                       cfg->head_dim);
    return 0;
}

int ft_model_config_parse(const char *json, size_t n, const char *arch_override, ft_model_config *cfg,
                          ft_buf *why) {
    cJSON *root = NULL;
    size_t off = 0;
    if (ft_json_parse(json, n, &root, &off) != 0)
        return ft_fail(why, FT_EPARSE, "config.json: malformed JSON at byte %zu", off);
    int rc = fill(root, arch_override, cfg, why);
    cJSON_Delete(root);
    return rc;
}

int ft_model_config_load(const char *path, const char *arch_override, ft_model_config *cfg, ft_buf *why) {
    char buf[4096];
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(buf, sizeof buf, "%s/config.json", path);
        path = buf;
    }
    ft_mapfile m;
    if (ft_mapfile_open(path, &m) != 0) return ft_fail(why, FT_EIO, "'%s': %s", path, strerror(errno));
    int rc = m.size > (16u << 20) ? ft_fail(why, FT_ETOOBIG, "'%s': larger than 16 MiB", path)
                                  : ft_model_config_parse((const char *)m.data, m.size, arch_override, cfg, why);
    ft_mapfile_close(&m);
    return rc;
}
