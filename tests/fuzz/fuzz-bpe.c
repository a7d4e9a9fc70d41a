/* fuzz-bpe.c: the byte-level BPE encoder on any bytes: the Qwen2 tokenizer from the shared test data when
 * it is there, else a small tiktoken model this target writes; plain and special-splitting encoding.
 * Rule: whatever the bytes, the split covers them in pieces of at least one byte, every id is in the
 * vocabulary (plain encoding: never an added token), and decoding gives back the text, NFC'd where the
 * tokenizer normalizes (each valid UTF-8 stretch; invalid bytes come back as they were). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pretok.h"
#include "tokenizer.h"
#include "utf8.h"

#define FUZZ_CHECK(cond, what)                                                                           \
    do {                                                                                                 \
        if (!(cond)) {                                                                                   \
            fprintf(stderr, "fuzz-bpe: invariant violated: %s (%s:%d)\n", what, __FILE__, __LINE__);     \
            abort();                                                                                     \
        }                                                                                                \
    } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ft_tokenizer *tk;

/* 256 single bytes and a few merges as tiktoken ranks, written to a temp file and loaded. */
static ft_tokenizer *small_model(void) {
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char *const merged[] = {"he", "ll", "hell", "hello", " w", " h", "  ", "\n\n", "\xe4\xbd", "\xe4\xbd\xa0"};
    char path[] = "/tmp/fuzz-bpe.XXXXXX.tiktoken";
    int fd = mkstemps(path, 9);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "w");
    for (size_t id = 0; f && id < 256 + sizeof merged / sizeof *merged; id++) {
        char one = (char)id;
        const char *s = id < 256 ? &one : merged[id - 256];
        size_t n = id < 256 ? 1 : strlen(s);
        for (size_t i = 0; i < n; i += 3) {
            uint32_t w = (uint32_t)(uint8_t)s[i] << 16 | (i + 1 < n ? (uint32_t)(uint8_t)s[i + 1] << 8 : 0) |
                         (i + 2 < n ? (uint8_t)s[i + 2] : 0);
            fprintf(f, "%c%c%c%c", b64[w >> 18], b64[(w >> 12) & 63], i + 1 < n ? b64[(w >> 6) & 63] : '=',
                    i + 2 < n ? b64[w & 63] : '=');
        }
        fprintf(f, " %zu\n", id);
    }
    ft_tokenizer *t = NULL;
    if (f && fclose(f) == 0) ft_tokenizer_open(path, &t, NULL);
    unlink(path);
    return t;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *env = getenv("FT_TESTDATA");
    char path[600];
    snprintf(path, sizeof path, "%s/tokenizers/qwen2", env && *env ? env : "../shared");
    if (ft_tokenizer_open(path, &tk, NULL) != 0) tk = small_model();
    if (!tk) {
        fprintf(stderr, "fuzz-bpe: no tokenizer to fuzz\n");
        abort();
    }
    return 0;
}

/* What decoding must give back: NFC of each valid stretch, invalid bytes as they are (bpe.c's rule). */
static void expected_text(const char *s, size_t n, ft_buf *out) {
    for (;;) {
        size_t k = ft_utf8_check(s, n);
        FUZZ_CHECK(ft_utf8_nfc(s, k, out) >= 0, "NFC of valid UTF-8");
        if (k == n) return;
        ft_buf_addc(out, s[k]);
        s += k + 1;
        n -= k + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!tk) LLVMFuzzerInitialize(NULL, NULL);
    char *s = malloc(size ? size : 1); /* exact size: ASan sees any read past the end */
    if (!s) return 0;
    if (size) memcpy(s, data, size);
    for (size_t i = 0; i < size;) {
        size_t l = ft_pretok_qwen2(s + i, size - i);
        FUZZ_CHECK(l >= 1 && l <= size - i, "a split piece is 1 byte or more, inside the text");
        i += l;
    }
    ft_ids ids;
    ft_ids_init(&ids);
    FUZZ_CHECK(ft_tokenizer_encode(tk, s, size, &ids) == 0, "encode accepts any bytes");
    for (size_t i = 0; i < ids.n; i++) {
        FUZZ_CHECK(ids.v[i] < tk->vocab_size, "ids are in the vocabulary");
        const char *piece = tk->ops->piece(tk, ids.v[i]);
        FUZZ_CHECK(piece != NULL, "every id has a piece");
        FUZZ_CHECK(ft_tokenizer_special(tk, piece, strlen(piece)) == NULL, "plain encoding gives no added token");
    }
    ft_buf out, want;
    ft_buf_init(&out);
    ft_buf_init(&want);
    FUZZ_CHECK(ft_tokenizer_decode(tk, ids.v, ids.n, &out) == 0, "decode takes encode's ids");
    expected_text(s, size, &want);
    FUZZ_CHECK(out.len == want.len && (out.len == 0 || !memcmp(out.data, want.data, out.len)),
               "decode(encode(x)) == x, NFC'd");
    ids.n = 0;
    FUZZ_CHECK(ft_tokenizer_encode_special(tk, s, size, &ids) == 0, "encode_special accepts any bytes");
    for (size_t i = 0; i < ids.n; i++) FUZZ_CHECK(ids.v[i] < tk->vocab_size, "special-split ids are in range");
    ft_buf_clear(&out);
    FUZZ_CHECK(ft_tokenizer_decode(tk, ids.v, ids.n, &out) == 0, "decode takes encode_special's ids");
    ft_buf_release(&out);
    ft_buf_release(&want);
    ft_ids_release(&ids);
    free(s);
    return 0;
}
