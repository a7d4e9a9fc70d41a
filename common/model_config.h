/* model_config.h: a Hugging Face config.json read into the facts the model core needs, for the architectures
 * ft supports: Llama / Llama-2 (and Chinese-LLaMA/Alpaca-2), Qwen1.5 / Qwen2, Baichuan-7B, Baichuan-13B,
 * Baichuan2-7B and Baichuan2-13B.
 * Rule (DESIGN.md "Models"): Baichuan variants are told apart as their real config files differ:
 * BaiChuanForCausalLM = Baichuan-7B (RoPE); BaichuanForCausalLM without max_position_embeddings = ALiBi
 * (13B), with it = RoPE (7B); z_loss_weight present, or vocab_size 125696, = Baichuan2 (NormHead). An explicit
 * architecture name given by the caller (--arch) wins over all of this. */
#ifndef FT_MODEL_CONFIG_H
#define FT_MODEL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "dtype.h"
#include "ft.h"

typedef enum {
    FT_ARCH_LLAMA,         /* LlamaForCausalLM: RoPE, GQA, optional tied embeddings */
    FT_ARCH_QWEN2,         /* Qwen2ForCausalLM: Llama + q/k/v bias */
    FT_ARCH_BAICHUAN_7B,   /* W_pack, RoPE, MHA */
    FT_ARCH_BAICHUAN_13B,  /* W_pack, ALiBi */
    FT_ARCH_BAICHUAN2_7B,  /* W_pack, RoPE, NormHead */
    FT_ARCH_BAICHUAN2_13B, /* W_pack, ALiBi, NormHead */
    FT_ARCH_COUNT
} ft_arch;

typedef enum { FT_POS_ROPE, FT_POS_ALIBI } ft_pos_kind;

typedef struct {
    ft_arch arch;
    const char *arch_name;    /* ft's name for arch ("llama", "baichuan2-13b"...), static */
    int hidden_size;          /* C */
    int intermediate_size;    /* FFN width */
    int num_layers;           /* L */
    int num_heads;            /* H */
    int num_kv_heads;         /* Hkv: divides H; = H when the config has none */
    int head_dim;             /* D = C / H */
    int vocab_size;           /* V */
    int max_positions;        /* max_position_embeddings, else model_max_length, else 0 */
    double rms_norm_eps;      /* default 1e-6 */
    double rope_theta;        /* default 10000 */
    ft_pos_kind pos;          /* RoPE or ALiBi */
    int qkv_bias;             /* q/k/v projections have a bias (Qwen2) */
    int w_pack;               /* q/k/v fused in one W_pack weight (Baichuan) */
    int norm_head;            /* lm_head rows are L2-normalized at use (Baichuan2) */
    int tie_word_embeddings;  /* lm_head shares model.embed_tokens (default false) */
    int has_torch_dtype;      /* torch_dtype given */
    ft_dtype torch_dtype;     /* F32, F16 or BF16 when has_torch_dtype */
    int64_t bos_id, eos_id, pad_id; /* -1 when absent (a list of eos ids gives its first) */
} ft_model_config;

/* ft_arch_from_name: one of ft's names ("llama", "qwen2", "baichuan-7b", "baichuan-13b", "baichuan2-7b",
 * "baichuan2-13b"). Returns 0 and *out, or FT_EINVAL. */
int ft_arch_from_name(const char *name, ft_arch *out);
/* ft's name of arch (static). */
const char *ft_arch_name(ft_arch arch);
/* "llama, qwen2, ..." (static), for usage messages. */
const char *ft_arch_names(void);

/* ft_model_config_parse: reads config.json text json[0..n). arch_override is NULL or one of ft's names and
 * then replaces the detection. Returns 0 with *cfg filled, or FT_EPARSE (malformed JSON, a missing or
 * mistyped field), FT_EFORMAT (unsupported architecture, named; an unsupported feature such as
 * rope_scaling or sliding windows), FT_EINVAL (inconsistent sizes, a bad override), with a one-line reason
 * appended to why (when not NULL). */
int ft_model_config_parse(const char *json, size_t n, const char *arch_override, ft_model_config *cfg,
                          ft_buf *why);
/* ft_model_config_load: the same for path, a config.json file or a directory holding one; FT_EIO with errno
 * when it cannot be read. */
int ft_model_config_load(const char *path, const char *arch_override, ft_model_config *cfg, ft_buf *why);

#endif
