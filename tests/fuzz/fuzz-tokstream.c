/* fuzz-tokstream.c: the token stream reader (common/tokstream) on any bytes.
 * Rule: whatever the bytes, the reader ends cleanly or with an error and a message, never reads out of
 * bounds; every record it returns is well formed; a one-part stream read cleanly is written back
 * byte for byte by the writer (so reader and writer agree on the format). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokstream.h"

#define FUZZ_CHECK(cond, what)                                                                           \
    do {                                                                                                 \
        if (!(cond)) {                                                                                   \
            fprintf(stderr, "fuzz-tokstream: invariant violated: %s (%s:%d)\n", what, __FILE__, __LINE__); \
            abort();                                                                                     \
        }                                                                                                \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* an exact-size copy read through a FILE, as the tools read it */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    FILE *f = size ? fmemopen(copy, size, "rb") : fopen("/dev/null", "rb");
    if (!f) {
        free(copy);
        return 0;
    }
    ft_tokstream_reader *r;
    ft_buf why, back;
    ft_buf_init(&why);
    ft_buf_init(&back);
    int rc = ft_tokstream_open(f, &r, &why);
    if (rc < 0) {
        FUZZ_CHECK(why.len > 0, "an open error has a reason");
    } else {
        const ft_tokstream_info *in = ft_tokstream_info_of(r);
        FUZZ_CHECK(in->vocab_size >= 1 && in->json && strlen(in->json) == in->json_len, "header info");
        ft_tokstream_put_header(&back, in->json, in->json_len);
        ft_tokrec rec;
        uint64_t tokens = 0, masked = 0, n = 0;
        while ((rc = ft_tokstream_next(r, &rec)) > 0) {
            FUZZ_CHECK(rec.n >= 1 && rec.n <= FT_TOKSTREAM_MAX_TOKENS, "record length");
            for (size_t i = 0; i < rec.n; i++) {
                FUZZ_CHECK(rec.ids[i] < in->vocab_size, "ids inside the vocabulary");
                FUZZ_CHECK(rec.mask[i] <= 1, "mask is 0 or 1");
                masked += rec.mask[i];
            }
            tokens += rec.n;
            n++;
            ft_tokstream_put_record(&back, rec.index, rec.ids, rec.mask, rec.n);
        }
        FUZZ_CHECK(rc == 0 || ft_tokstream_error(r)[0], "a read error has a message");
        FUZZ_CHECK(ft_tokstream_next(r, &rec) <= 0, "nothing after the end or an error");
        FUZZ_CHECK(n == ft_tokstream_records(r), "record count");
        if (rc == 0 && ft_tokstream_parts(r) == 1) {
            ft_tokstream_put_trailer(&back, n, tokens, masked);
            FUZZ_CHECK(back.len == size && !memcmp(back.data, data, size), "a clean stream is written back as read");
        }
        ft_tokstream_close(r);
    }
    fclose(f);
    ft_buf_release(&why);
    ft_buf_release(&back);
    free(copy);
    return 0;
}
