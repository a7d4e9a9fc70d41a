/* test-model-config.c: common/model_config.h: the stories260K configs give the right architecture by
 * DESIGN.md's rules; an override wins; bad or unsupported configs are refused with a reason that names them.
 * Rule: inline configs start from one valid Llama text and change one thing. */
#include <stdio.h>
#include <string.h>

#include "ft.h"
#include "model_config.h"
#include "tap.h"
#include "testdata.h"

static const char *llama =
    "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64,\"intermediate_size\":172,"
    "\"num_hidden_layers\":5,\"num_attention_heads\":8,\"vocab_size\":512%s}";

static int parse_extra(const char *extra, const char *override, ft_model_config *c, ft_buf *why) {
    char json[1024];
    snprintf(json, sizeof json, llama, extra);
    ft_buf_clear(why);
    return ft_model_config_parse(json, strlen(json), override, c, why);
}

/* The Llama text with from replaced by to. */
static void edit(char *json, size_t cap, const char *from, const char *to) {
    char base[1024];
    snprintf(base, sizeof base, llama, "");
    const char *at = strstr(base, from);
    snprintf(json, cap, "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
}

static void refused(const char *json, int want, const char *needle, const char *what) {
    ft_model_config c;
    ft_buf why;
    ft_buf_init(&why);
    int rc = ft_model_config_parse(json, strlen(json), NULL, &c, &why);
    ok(rc == want && why.data && strstr(why.data, needle), "refused: %s ('%s')", what, why.data ? why.data : "");
    ft_buf_release(&why);
}

static void test_inline(void) {
    ft_model_config c;
    ft_buf why;
    ft_buf_init(&why);
    int rc = parse_extra("", NULL, &c, &why);
    ok(rc == 0 && c.arch == FT_ARCH_LLAMA && c.num_kv_heads == 8 && c.head_dim == 8 && c.rope_theta == 10000.0 &&
           c.rms_norm_eps == 1e-6 && !c.tie_word_embeddings && !c.has_torch_dtype && c.bos_id == -1 && c.max_positions == 0,
       "defaults: kv heads = heads, rope_theta 10000, eps 1e-6, untied, no dtype (%s)", why.data ? why.data : "");
    rc = parse_extra(",\"num_key_value_heads\":2,\"rope_theta\":1e6,\"torch_dtype\":\"float16\",\"eos_token_id\":[7,8]", NULL, &c, &why);
    ok(rc == 0 && c.num_kv_heads == 2 && c.rope_theta == 1e6 && c.has_torch_dtype && c.torch_dtype == FT_DTYPE_F16 &&
           c.eos_id == 7, "GQA 8/2, rope_theta 1e6, float16, first of an eos list");
    rc = parse_extra("", "baichuan2-13b", &c, &why);
    ok(rc == 0 && c.arch == FT_ARCH_BAICHUAN2_13B && c.pos == FT_POS_ALIBI && c.norm_head && c.w_pack,
       "the override wins over architectures");
    rc = parse_extra("", "mistral", &c, &why);
    ok(rc == FT_EINVAL && strstr(why.data, "'mistral'"), "an unknown override is named (%s)", why.data);
    rc = parse_extra(",\"model_type\":\"llama\"", NULL, &c, &why);
    is_int(rc, 0, "model_type beside architectures is fine");
    const char *b2 = "{\"architectures\":[\"BaichuanForCausalLM\"],\"hidden_size\":5120,\"intermediate_size\":13696,"
                     "\"num_hidden_layers\":40,\"num_attention_heads\":40,\"vocab_size\":125696}";
    rc = ft_model_config_parse(b2, strlen(b2), NULL, &c, &why);
    ok(rc == 0 && c.arch == FT_ARCH_BAICHUAN2_13B, "BaichuanForCausalLM, vocab 125696, no max_position_embeddings: "
                                                  "baichuan2-13b");
    refused("{\"architectures\":[\"MistralForCausalLM\"],\"hidden_size\":64}", FT_EFORMAT,
            "unsupported architecture 'MistralForCausalLM'", "an unsupported architecture, named");
    refused("{\"architectures\":[\"QWenLMHeadModel\"]}", FT_EFORMAT, "'QWenLMHeadModel'", "Qwen (1) is not Qwen2");
    refused("{\"hidden_size\":64}", FT_EPARSE, "names no architecture", "no architectures, no model_type");
    refused("{\"architectures\":[\"LlamaForCausalLM\"],", FT_EPARSE, "malformed JSON", "bad JSON");
    refused("[1]", FT_EPARSE, "not a JSON object", "not an object");
    refused("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64,\"hidden_size\":32}", FT_EPARSE,
            "'hidden_size' appears twice", "a duplicate key (Python keeps the last, cJSON the first)");
    char json[1024];
    edit(json, sizeof json, "\"num_attention_heads\":8", "\"num_attention_heads\":7");
    refused(json, FT_EINVAL, "not a multiple", "heads that do not divide hidden_size");
    snprintf(json, sizeof json, llama, ",\"num_key_value_heads\":3");
    refused(json, FT_EINVAL, "does not divide", "kv heads that do not divide heads");
    snprintf(json, sizeof json, "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64}");
    refused(json, FT_EPARSE, "'intermediate_size' is missing", "a missing field, named");
    edit(json, sizeof json, "\"vocab_size\":512", "\"vocab_size\":-5");
    refused(json, FT_EPARSE, "'vocab_size' is not an integer", "a negative vocab");
    edit(json, sizeof json, "\"hidden_size\":64", "\"hidden_size\":64.5");
    refused(json, FT_EPARSE, "'hidden_size' is not an integer", "a fractional size");
    snprintf(json, sizeof json, llama, ",\"rope_scaling\":{\"type\":\"dynamic\",\"factor\":2}");
    refused(json, FT_EFORMAT, "rope_scaling ('dynamic')", "rope_scaling");
    snprintf(json, sizeof json, llama, ",\"hidden_act\":\"gelu\"");
    refused(json, FT_EFORMAT, "hidden_act 'gelu'", "another activation");
    snprintf(json, sizeof json, llama, ",\"torch_dtype\":\"int8\"");
    refused(json, FT_EFORMAT, "torch_dtype 'int8'", "an unsupported torch_dtype");
    snprintf(json, sizeof json, llama, ",\"rms_norm_eps\":0");
    refused(json, FT_EPARSE, "rms_norm_eps", "eps 0");
    snprintf(json, sizeof json, llama, ",\"tie_word_embeddings\":\"yes\"");
    refused(json, FT_EPARSE, "tie_word_embeddings", "a non-boolean tie flag");
    ft_buf_release(&why);
}

static void test_stories(void) {
    static const struct {
        const char *dir;
        ft_arch arch;
        ft_pos_kind pos;
        int qkv_bias, w_pack, norm_head, tied, kv;
    } cases[] = {
        {"hf", FT_ARCH_LLAMA, FT_POS_ROPE, 0, 0, 0, 1, 4},
        {"hf-bf16", FT_ARCH_LLAMA, FT_POS_ROPE, 0, 0, 0, 1, 4},
        {"hf-bin", FT_ARCH_LLAMA, FT_POS_ROPE, 0, 0, 0, 1, 4},
        {"hf-sharded", FT_ARCH_LLAMA, FT_POS_ROPE, 0, 0, 0, 1, 4},
        {"qwen2", FT_ARCH_QWEN2, FT_POS_ROPE, 1, 0, 0, 0, 4},
        {"baichuan7b", FT_ARCH_BAICHUAN_7B, FT_POS_ROPE, 0, 1, 0, 0, 8},
        {"baichuan13b-alibi", FT_ARCH_BAICHUAN_13B, FT_POS_ALIBI, 0, 1, 0, 0, 8},
        {"baichuan2-7b-normhead", FT_ARCH_BAICHUAN2_7B, FT_POS_ROPE, 0, 1, 1, 0, 8},
    };
    char dir[512];
    if (!testdata("models/stories260K", dir, sizeof dir)) {
        skip("stories260K not found", "stories260K configs (%s)", dir);
        return;
    }
    ft_buf why;
    ft_buf_init(&why);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, cases[i].dir);
        ft_model_config c;
        ft_buf_clear(&why);
        int rc = ft_model_config_load(path, NULL, &c, &why);
        ok(rc == 0 && c.arch == cases[i].arch && c.pos == cases[i].pos && c.qkv_bias == cases[i].qkv_bias &&
               c.w_pack == cases[i].w_pack && c.norm_head == cases[i].norm_head &&
               c.tie_word_embeddings == cases[i].tied && c.num_kv_heads == cases[i].kv && c.hidden_size == 64 &&
               c.intermediate_size == 172 && c.num_layers == 5 && c.num_heads == 8 && c.vocab_size == 512 &&
               c.rms_norm_eps == 1e-5 && c.rope_theta == 10000.0 && c.max_positions == 512,
           "%s: %s (%s)", cases[i].dir, rc == 0 ? c.arch_name : "?", why.data ? why.data : "");
    }
    char path[600];
    snprintf(path, sizeof path, "%s/hf-bf16/config.json", dir);
    ft_model_config c;
    int rc = ft_model_config_load(path, NULL, &c, &why);
    ok(rc == 0 && c.has_torch_dtype && c.torch_dtype == FT_DTYPE_BF16 && c.bos_id == 1 && c.eos_id == 2,
       "hf-bf16/config.json: bfloat16, bos 1, eos 2");
    snprintf(path, sizeof path, "%s/baichuan13b-alibi", dir);
    rc = ft_model_config_load(path, "baichuan-7b", &c, &why);
    ok(rc == 0 && c.arch == FT_ARCH_BAICHUAN_7B && c.pos == FT_POS_ROPE, "--arch baichuan-7b overrides the ALiBi rule");
    snprintf(path, sizeof path, "%s/no-such-model", dir);
    ft_buf_clear(&why);
    rc = ft_model_config_load(path, NULL, &c, &why);
    ok(rc == FT_EIO && strstr(why.data, "no-such-model"), "a missing config names its path (%s)", why.data);
    ft_buf_release(&why);
}

int main(void) {
    test_inline();
    test_stories();
    return done_testing();
}
