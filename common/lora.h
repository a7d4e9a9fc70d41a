/* lora.h: a PEFT LoRA adapter directory read into plain float matrices, ready to attach to a model's linear
 * layers (model.h): adapter_config.json + adapter_model.safetensors (or adapter_model.bin).
 * Rule: what ft cannot apply exactly is refused with a reason (fan_in_fan_out, a LoRA bias, DoRA,
 * per-module rank or alpha patterns, modules_to_save); nothing is silently dropped. */
#ifndef FT_LORA_H
#define FT_LORA_H

#include <stddef.h>

#include "ft.h"

/* One adapted linear layer W (O, I): y = x Wᵀ + scale · (x Aᵀ) Bᵀ. */
typedef struct {
    char *module; /* the module path without PEFT's prefix, e.g. "model.layers.0.self_attn.q_proj" */
    int out, in;  /* O, I */
    float *A;     /* (R, I) lora_A.weight */
    float *B;     /* (O, R) lora_B.weight */
} ft_lora_module;

typedef struct {
    int r;                /* R */
    double alpha;         /* lora_alpha */
    float scale;          /* alpha / r, or alpha / sqrt(r) with use_rslora */
    size_t n;             /* modules */
    ft_lora_module *mods; /* (n) sorted by module path */
} ft_lora;

/* ft_lora_parse_config: the settings of adapter_config.json text json[0..n) into l->r, alpha and scale (the
 * rest of l untouched). Returns 0, FT_EPARSE (malformed JSON, r not a whole number in 1..65536, lora_alpha
 * not a number of magnitude <= 1e6) or FT_EFORMAT (peft_type other than LORA, fan_in_fan_out, use_dora, bias
 * other than "none", a non-empty rank_pattern / alpha_pattern / modules_to_save) with a one-line reason in
 * why. */
int ft_lora_parse_config(const char *json, size_t n, ft_lora *l, ft_buf *why);

/* ft_lora_load: reads dir/adapter_config.json and dir/adapter_model.safetensors (else adapter_model.bin).
 * Every tensor must be base_model.model.<module>.lora_A.weight (R, I) or .lora_B.weight (O, R), F32/F16/BF16,
 * each module having both. Returns 0 and a heap adapter (free with ft_lora_free), or FT_EIO / FT_EPARSE /
 * FT_EFORMAT (an unsupported setting, a foreign or misshapen tensor, named) / FT_ENOMEM with a one-line
 * reason appended to why. */
int ft_lora_load(const char *dir, ft_lora **out, ft_buf *why);
void ft_lora_free(ft_lora *l);
/* The module called path, or NULL. */
const ft_lora_module *ft_lora_find(const ft_lora *l, const char *path);

#endif
