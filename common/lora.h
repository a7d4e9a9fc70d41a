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
