/* fuzz-spm-bpe.c: the native SentencePiece BPE encoder (common/spm_bpe.h) against libsentencepiece on any
 * bytes: the Baichuan2 model from the shared test data, else the tiny stories260K tok512 model (byte
 * fallback, extra spaces removed); with neither there is nothing to compare and every input passes.
 * Rule: the same ids from both, through the encoder itself and through both tokenizer processors (plain:
 * tag-like user-defined pieces never matched; raw: the file as it is). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spm_bpe.h"
#include "spm_shim.h"
#include "tokenizer.h"

#define FUZZ_CHECK(cond, what)                                                                               \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "fuzz-spm-bpe: invariant violated: %s (%s:%d)\n", what, __FILE__, __LINE__);     \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ready;
static ft_spm *lib;
static ft_spm_bpe *nat;
static ft_tokenizer *tk_lib, *tk_nat;

static ft_tokenizer *open_with(const char *path, const char *native) {
    ft_tokenizer *tk = NULL;
    setenv("FT_SPM_NATIVE", native, 1);
    if (ft_tokenizer_open(path, &tk, NULL) != 0) tk = NULL;
    unsetenv("FT_SPM_NATIVE");
    return tk;
}

static int load(const char *path) {
    char *data;
    size_t len;
    if (ft_read_file(path, (size_t)1 << 30, &data, &len, NULL) != 0) return -1;
    ft_spm_model m;
    char err[256];
    int rc = ft_spm_model_parse((uint8_t *)data, len, &m);
    if (rc == 0) {
        rc = ft_spm_bpe_new(&m, &nat, NULL);
        ft_spm_model_release(&m);
    }
    if (rc == 0) rc = ft_spm_load(data, len, &lib, err, sizeof err);
    free(data);
    if (rc == 0) {
        tk_lib = open_with(path, "0");
        tk_nat = open_with(path, "1");
        FUZZ_CHECK(tk_lib && tk_nat, "the tokenizer opens both ways");
    }
    return rc;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *env = getenv("FT_TESTDATA");
    const char *dir = env && *env ? env : "../shared";
    static const char *const rel[] = {"tokenizers/baichuan2/tokenizer.model",
                                      "models/stories260K/tok512.model"};
    for (size_t i = 0; i < 2 && !nat; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, rel[i]);
        if (load(path) != 0) {
            ft_spm_bpe_free(nat);
            nat = NULL;
        }
    }
    if (!nat) fprintf(stderr, "fuzz-spm-bpe: no model in %s: nothing to compare\n", dir);
    ready = 1;
    return 0;
}

static int same(const uint32_t *a, size_t na, const uint32_t *b, size_t nb) {
    return na == nb && (na == 0 || !memcmp(a, b, na * sizeof *a));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ready) LLVMFuzzerInitialize(NULL, NULL);
    if (!nat) return 0;
    char *s = malloc(size ? size : 1); /* exact size: ASan sees any read past the end */
    if (!s) return 0;
    if (size) memcpy(s, data, size);
    uint32_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0, ca = 0, cb = 0;
    FUZZ_CHECK(ft_spm_encode(lib, s, size, &a, &na, &ca) == 0, "the library encodes any bytes");
    FUZZ_CHECK(ft_spm_bpe_encode(nat, s, size, &b, &nb, &cb) == 0, "the native encoder encodes any bytes");
    FUZZ_CHECK(same(a, na, b, nb), "native ids == library ids");
    ft_ids x, y;
    ft_ids_init(&x);
    ft_ids_init(&y);
    FUZZ_CHECK(tk_lib->ops->encode(tk_lib, s, size, &x) == 0 && tk_nat->ops->encode(tk_nat, s, size, &y) == 0,
               "plain processors encode any bytes");
    FUZZ_CHECK(same(x.v, x.n, y.v, y.n), "plain processor: native ids == library ids");
    x.n = y.n = 0;
    FUZZ_CHECK(tk_lib->ops->encode_raw(tk_lib, s, size, &x) == 0 &&
                   tk_nat->ops->encode_raw(tk_nat, s, size, &y) == 0,
               "raw processors encode any bytes");
    FUZZ_CHECK(same(x.v, x.n, y.v, y.n), "raw processor: native ids == library ids");
    ft_ids_release(&x);
    ft_ids_release(&y);
    free(a);
    free(b);
    free(s);
    return 0;
}
