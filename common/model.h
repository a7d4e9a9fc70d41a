/* model.h: a decoder-only chat model (DESIGN.md "Models") built from a Hugging Face model directory
 * (model_config.h + weights.h), run through the op table of a compute backend (kernels/backend.h).
 * Architectures: Llama / Llama-2, Qwen1.5 / Qwen2 (q/k/v bias, tied embeddings), Baichuan-7B (W_pack, RoPE),
 * Baichuan-13B (W_pack, ALiBi), Baichuan2-7B / 13B (NormHead).
 * Rule: the model owns its weights in the storage asked for (fp32, bf16 or NF4 quantized at load exactly as
 * bitsandbytes does); activations are float32; every op goes through the backend, so the CPU and (later) the
 * CUDA backend run the same code. The forward pass over packed rows keeps what the backward needs
 * (ft-train reuses it); the step forward appends to a KV cache so a shared prompt prefix is computed once
 * (ft-eval, generation). Dimension letters as in kernels/backend.h. The bound tensors, the storage rules, the
 * adapter rules and the measured accuracy are in docs/models.md.
 * Changes since the first version of this header: ft_model_opts.nf4_plain_absmax (NF4 without double
 * quantization, to match checkpoints and references made with compress_statistics=False); ft_model_forward's
 * logits are raw (before log-softmax), as HF's; ft_model_step reads the cache through the backend's
 * attention_kv op. */
#ifndef FT_MODEL_H
#define FT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "ft.h"
#include "model_config.h"

typedef struct ft_model ft_model;

typedef struct {
    const char *arch; /* ft's architecture name overriding detection ("llama", "baichuan-13b"...), or NULL */
    ft_wtype quant;   /* storage of the linear layers' weights: F32, BF16 or NF4 (embeddings and norms
                         stay fp32; NF4 uses double quantization of the absmax) */
    const char *backend;  /* "ref" or "cpu" (NULL = "cpu") */
    int nthreads;         /* CPU threads, 0 = the OpenMP default */
    int nf4_plain_absmax; /* NF4 only: keep the fp32 absmax (no double quantization), as bitsandbytes'
                             compress_statistics=False; 0 (the default) = double quantization */
} ft_model_opts;

/* ft_model_opts_default: F32 weights, the cpu backend, default threads, no override. */
ft_model_opts ft_model_opts_default(void);

/* ft_model_open: reads dir/config.json and the weights (safetensors single or sharded, pytorch .bin) and
 * builds the model. Returns 0 and a heap model (free with ft_model_free), or FT_EIO / FT_EPARSE /
 * FT_EFORMAT (unsupported architecture or a missing, misshapen or mistyped tensor, named) / FT_EINVAL /
 * FT_ENOMEM with a one-line reason appended to why. */
int ft_model_open(const char *dir, const ft_model_opts *opts, ft_model **out, ft_buf *why);
void ft_model_free(ft_model *m);

const ft_model_config *ft_model_cfg(const ft_model *m);
ft_backend *ft_model_backend(ft_model *m);

/* ft_model_load_adapter: applies a PEFT LoRA adapter directory (adapter_config.json +
 * adapter_model.safetensors, or adapter_model.bin): every base_model.model.<module>.lora_A/B.weight pair
 * becomes a LoRA branch on that linear layer with scale lora_alpha / r. Returns 0, or FT_EIO / FT_EPARSE /
 * FT_EFORMAT (an unknown module, a shape that does not fit, an unsupported setting such as
 * fan_in_fan_out or use_dora) with the reason in why. A model holds at most one adapter. */
int ft_model_load_adapter(ft_model *m, const char *dir, ft_buf *why);

/* ft_model_forward: logits (B, T, V) (raw, before any softmax) for B packed rows of T tokens ids (B, T);
 * seq_lens gives each row's documents: ndocs[b] lengths starting at seq_lens + doc_off[b] (NULL = one
 * document per row), so positions restart and attention never crosses documents (ft_seq_layout). Returns 0,
 * FT_EINVAL (bad sizes) or FT_ENOMEM. */
int ft_model_forward(ft_model *m, const int32_t *ids, int B, int T, const int32_t *seq_lens,
                     const int32_t *ndocs, const int32_t *doc_off, float *logits);

/* ---- incremental forward with a key/value cache (one sequence) ---------------------------------------- */

typedef struct ft_kvcache ft_kvcache;

/* ft_kvcache_new: room for max_tokens positions of m. Returns 0 and a heap cache, FT_EINVAL, FT_ENOMEM. */
int ft_kvcache_new(const ft_model *m, int max_tokens, ft_kvcache **out);
void ft_kvcache_free(ft_kvcache *kv);
/* Positions held. */
int ft_kvcache_len(const ft_kvcache *kv);
/* ft_kvcache_truncate: forgets positions >= len (len <= the current length), e.g. back to a shared prefix. */
void ft_kvcache_truncate(ft_kvcache *kv, int len);

/* ft_model_step: runs n new tokens ids (n) at positions len .. len + n - 1 of kv, attending to everything
 * cached before them, appends their keys and values, and writes logits: (n, V) for every new token, or
 * only the last one's (V) when last_only. Returns 0, FT_EINVAL (n < 1, or the cache would overflow), or
 * FT_ENOMEM. */
int ft_model_step(ft_model *m, ft_kvcache *kv, const int32_t *ids, int n, float *logits, int last_only);

#endif
