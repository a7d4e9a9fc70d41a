/* bpe-driver.c: the bpe benchmark's encoder side (compiled by tests/bench/bpe.sh): encodes every line of a
 * text file with one tokenizer on one thread, as spm_encode does, and prints "bytes tokens seconds".
 * Rule: the file is read whole before the clock starts; only encoding is timed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tokenizer.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: bpe-driver TOKENIZER TEXT\n");
        return 2;
    }
    ft_buf why;
    ft_buf_init(&why);
    ft_tokenizer *tk;
    struct timespec t0, tl, t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (ft_tokenizer_open(argv[1], &tk, &why) != 0) {
        fprintf(stderr, "bpe-driver: cannot open '%s': %s\n", argv[1], why.data);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &tl);
    FILE *f = fopen(argv[2], "rb");
    ft_buf text;
    ft_buf_init(&text);
    char chunk[1 << 16];
    size_t got;
    while (f && (got = fread(chunk, 1, sizeof chunk, f)) > 0) ft_buf_add(&text, chunk, got);
    if (!f || ferror(f) || !text.data) {
        fprintf(stderr, "bpe-driver: cannot read '%s'\n", argv[2]);
        return 1;
    }
    fclose(f);
    ft_ids ids;
    ft_ids_init(&ids);
    size_t tokens = 0;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    for (char *s = text.data, *end = text.data + text.len; s < end;) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
        ids.n = 0;
        if (ft_tokenizer_encode(tk, s, n, &ids) != 0) return 1;
        tokens += ids.n;
        s += n + 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t2);
    double load = (double)(tl.tv_sec - t0.tv_sec) + (tl.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%zu %zu %.3f %.3f\n", text.len, tokens,
           (double)(t2.tv_sec - t1.tv_sec) + (t2.tv_nsec - t1.tv_nsec) / 1e9, load);
    ft_ids_release(&ids);
    ft_buf_release(&text);
    ft_tokenizer_free(tk);
    return 0;
}
