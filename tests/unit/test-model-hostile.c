/* test-model-hostile.c: broken model and adapter directories written here, in a temp dir, from the
 * stories260K tensors: a missing tensor, a wrong shape, a bad dtype, an unsupported architecture, and
 * adapters ft cannot apply; each must fail with FT_EFORMAT and a message naming the problem.
 * Rule: one change per directory, so each message is the one that change causes. */
#include <sys/stat.h>

#include "modelref.h"
#include "weights.h"

static char tmp[256];
static ft_weights *src;

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) fputs(text, f), fclose(f);
}

static const char *llama_config =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64, \"intermediate_size\": 172,"
    " \"num_hidden_layers\": 5, \"num_attention_heads\": 8, \"num_key_value_heads\": 4, \"vocab_size\": 512,"
    " \"rms_norm_eps\": 1e-05, \"tie_word_embeddings\": true}";

/* dir/<name>/ with config text and the stories260K tensors, minus drop, with edit applied to the tensor
 * called target. Returns the model dir. */
typedef void (*edit_fn)(ft_tensor *t);

static const char *make_model(const char *name, const char *config, const char *drop, const char *target,
                              edit_fn edit) {
    static char dir[512];
    char path[600];
    snprintf(dir, sizeof dir, "%s/%s", tmp, name);
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/config.json", dir);
    write_text(path, config);
    size_t n = ft_weights_count(src), k = 0;
    ft_tensor *ts = calloc(n, sizeof *ts);
    for (size_t i = 0; i < n; i++) {
        const ft_tensor *t = ft_weights_at(src, i);
        if (drop && !strcmp(t->name, drop)) continue;
        ts[k] = *t;
        if (target && !strcmp(t->name, target)) edit(&ts[k]);
        k++;
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    FT_ASSERT(ft_safetensors_write(path, ts, k, NULL, NULL) == 0);
    free(ts);
    return dir;
}

/* Opening dir fails with rc and a message containing want. */
static void refused(const char *dir, const char *arch, int rc, const char *want, const char *what) {
    ft_buf why;
    ft_buf_init(&why);
    ft_model *m = NULL;
    ft_model_opts o = ft_model_opts_default();
    o.arch = arch;
    int got = ft_model_open(dir, &o, &m, &why);
    ok(got == rc && m == NULL && why.data && strstr(why.data, want), "%s: refused with '%s'", what,
       why.data ? why.data : "");
    ft_buf_release(&why);
}

static void shrink(ft_tensor *t) { /* [172, 64] -> [171, 64]: the same bytes as a smaller tensor */
    int64_t dims[2] = {t->shape[0] - 1, t->shape[1]};
    ft_tensor_set_shape(t, 2, dims);
}

static void as_int(ft_tensor *t) { /* the F32 bytes relabelled I32 */
    t->dtype = FT_DTYPE_I32;
}

/* An adapter dir with config text and one module's tensors A (r, in), B (out, r). */
static const char *make_adapter(const char *name, const char *config, const char *module, int r, int in,
                                int out) {
    static char dir[512];
    char path[600], na[256], nb[256];
    snprintf(dir, sizeof dir, "%s/%s", tmp, name);
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/adapter_config.json", dir);
    write_text(path, config);
    float *a = calloc((size_t)r * in + (size_t)out * r, sizeof *a);
    snprintf(na, sizeof na, "base_model.model.%s.lora_A.weight", module);
    snprintf(nb, sizeof nb, "base_model.model.%s.lora_B.weight", module);
    ft_tensor ts[2] = {{.name = na, .dtype = FT_DTYPE_F32, .data = a},
                       {.name = nb, .dtype = FT_DTYPE_F32, .data = a + (size_t)r * in}};
    ft_tensor_set_shape(&ts[0], 2, (int64_t[]){r, in});
    ft_tensor_set_shape(&ts[1], 2, (int64_t[]){out, r});
    snprintf(path, sizeof path, "%s/adapter_model.safetensors", dir);
    FT_ASSERT(ft_safetensors_write(path, ts, 2, NULL, NULL) == 0);
    free(a);
    return dir;
}

static void adapter_refused(ft_model *m, const char *dir, const char *want, const char *what) {
    ft_buf why;
    ft_buf_init(&why);
    int rc = ft_model_load_adapter(m, dir, &why);
    ok(rc == FT_EFORMAT && why.data && strstr(why.data, want), "%s: refused with '%s'", what,
       why.data ? why.data : "");
    ft_buf_release(&why);
}

int main(void) {
    char hf[4096];
    if (!model_path("hf", hf, sizeof hf) || ft_weights_open(hf, &src, NULL) != 0) {
        skip("stories260K fixture not found", "hostile model directories (%s)", hf);
        return done_testing();
    }
    if (tap_tmpdir(tmp, sizeof tmp, "model")) return 1;
    const char *d = make_model("good", llama_config, NULL, NULL, NULL);
    ft_model *m = NULL;
    ok(ft_model_open(d, NULL, &m, NULL) == 0, "the rewritten stories260K directory opens");

    d = make_model("missing", llama_config, "model.layers.3.mlp.up_proj.weight", NULL, NULL);
    refused(d, NULL, FT_EFORMAT, "missing tensor 'model.layers.3.mlp.up_proj.weight'", "a missing tensor");
    d = make_model("shape", llama_config, NULL, "model.layers.1.mlp.gate_proj.weight", shrink);
    refused(d, NULL, FT_EFORMAT, "'model.layers.1.mlp.gate_proj.weight': shape [171, 64], expected [172, 64]",
            "a misshapen tensor");
    d = make_model("dtype", llama_config, NULL, "model.norm.weight", as_int);
    refused(d, NULL, FT_EFORMAT, "'model.norm.weight': dtype I32, expected F32, F16 or BF16", "a bad dtype");
    d = make_model("nohead",
                   "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64, "
                   "\"intermediate_size\": 172, \"num_hidden_layers\": 5, \"num_attention_heads\": 8, "
                   "\"num_key_value_heads\": 4, \"vocab_size\": 512}",
                   NULL, NULL, NULL);
    refused(d, NULL, FT_EFORMAT, "missing tensor 'lm_head.weight'", "untied embeddings without lm_head");
    d = make_model("mistral",
                   "{\"architectures\": [\"MistralForCausalLM\"], \"hidden_size\": 64, "
                   "\"intermediate_size\": 172, \"num_hidden_layers\": 5, \"num_attention_heads\": 8, "
                   "\"vocab_size\": 512}",
                   NULL, NULL, NULL);
    refused(d, NULL, FT_EFORMAT, "MistralForCausalLM", "an unsupported architecture");
    d = make_model("wpack",
                   "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64, "
                   "\"intermediate_size\": 172, \"num_hidden_layers\": 5, \"num_attention_heads\": 8, "
                   "\"vocab_size\": 512, \"tie_word_embeddings\": true}",
                   NULL, NULL, NULL);
    refused(d, "baichuan-7b", FT_EFORMAT, "missing tensor 'model.layers.0.self_attn.W_pack.weight'",
            "Llama tensors under --arch baichuan-7b");
    refused(d, "gpt2", FT_EINVAL, "gpt2", "an unknown --arch name");

    const char *good = "{\"r\": 4, \"lora_alpha\": 8, \"target_modules\": [\"q_proj\"]}";
    const char *q0 = "model.layers.0.self_attn.q_proj";
    if (m) {
        adapter_refused(
            m, make_adapter("fifo", "{\"r\": 4, \"lora_alpha\": 8, \"fan_in_fan_out\": true}", q0, 4, 64, 64),
            "fan_in_fan_out", "an adapter with fan_in_fan_out");
        adapter_refused(m, make_adapter("dora", "{\"r\": 4, \"use_dora\": true}", q0, 4, 64, 64), "use_dora",
                        "a DoRA adapter");
        adapter_refused(m, make_adapter("bias", "{\"r\": 4, \"bias\": \"all\"}", q0, 4, 64, 64), "bias 'all'",
                        "an adapter with LoRA biases");
        adapter_refused(m,
                        make_adapter("rank", "{\"r\": 4, \"rank_pattern\": {\"q_proj\": 8}}", q0, 4, 64, 64),
                        "rank_pattern", "an adapter with a rank pattern");
        adapter_refused(m, make_adapter("r", good, q0, 8, 64, 64), "do not fit r = 4", "lora_A rows != r");
        adapter_refused(m, make_adapter("out", good, q0, 4, 64, 32), "do not fit the layer",
                        "lora_B of 32 rows "
                        "on q_proj (64)");
        adapter_refused(m, make_adapter("mod", good, "model.layers.9.self_attn.q_proj", 4, 64, 64),
                        "is not a linear layer of this model", "a module past the last layer");
        adapter_refused(m, make_adapter("pack", good, "model.layers.0.self_attn.W_pack", 4, 64, 128),
                        "is not a linear layer of this model", "W_pack on a Llama model");
        /* adapter_model.bin is read when there is no adapter_model.safetensors: a state dict of base weights
         * (hf-bin's) is read through the torch reader and refused tensor by name */
        char bin[4096], cmd[9000];
        if (model_path("hf-bin/pytorch_model.bin", bin, sizeof bin)) {
            const char *bd = make_adapter("bin", good, q0, 4, 64, 64);
            snprintf(cmd, sizeof cmd, "rm '%s/adapter_model.safetensors' && cp '%s' '%s/adapter_model.bin'",
                     bd, bin, bd);
            ok(system(cmd) == 0, "an adapter dir with adapter_model.bin");
            adapter_refused(m, bd, "'model.embed_tokens.weight': not a PEFT LoRA tensor",
                            "adapter_model.bin holding base weights");
        } else {
            skip("stories260K fixture not found", "adapter_model.bin (%s)", bin);
        }
        ok(ft_model_load_adapter(m, make_adapter("ok", good, q0, 4, 64, 64), NULL) == 0,
           "after the refusals a fitting adapter still loads");
    }
    ft_model_free(m);
    ft_weights_free(src);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) printf("# could not remove %s\n", tmp);
    return done_testing();
}
