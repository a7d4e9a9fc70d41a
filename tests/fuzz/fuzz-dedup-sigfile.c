/* fuzz-dedup-sigfile.c: arbitrary bytes as an ft-dedup signature file, through dedup_sigfile_parse and, when
 * accepted, every record accessor, dedup_cluster and dedup_list_write.
 * Rule: pass 1 parses the bytes as they are; pass 2 first rewrites the footer's checksum so the fuzzer
 * reaches the structural checks behind it. A refused file must name a reason; an accepted one must be
 * readable to its last byte. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "dedup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, what)                                                                                \
    do {                                                                                                 \
        if (!(cond)) {                                                                                   \
            fprintf(stderr, "fuzz-dedup-sigfile: %s (%s)\n", what, #cond);                               \
            abort();                                                                                     \
        }                                                                                                \
    } while (0)

static void use(const uint8_t *buf, size_t size) {
    dedup_sigfile *f = NULL;
    const char *why = NULL;
    int rc = dedup_sigfile_parse(buf, size, &f, &why);
    if (rc < 0) {
        CHECK(rc == FT_EFORMAT && why && *why && !f, "a refused file has a reason and no handle");
        return;
    }
    const dedup_params *p = dedup_sigfile_params(f);
    size_t csz = dedup_compact_size(p->bands * p->rows);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < dedup_sigfile_count(f); i++) {
        dedup_sigrec r;
        dedup_sigfile_record(f, i, &r);
        CHECK(r.kind >= SIG_DOC && r.kind <= SIG_REJECT, "record kind in range");
        for (size_t k = 0; k < csz; k++) sum += r.csig[k];
        for (uint32_t k = 0; k < r.id_len; k++) sum += (uint8_t)r.id[k];
        for (uint32_t k = 0; k < r.nshingles; k++) sum += r.shingles[k];
    }
    dedup_sigfile *files[1] = {f};
    dedup_clustering c;
    if (dedup_cluster(files, 1, p, &c) == 0) {
        for (uint64_t g = 0; g < c.n; g++) {
            CHECK(c.kind[g] <= DECIDE_REJECT, "decision in range");
            if (c.kind[g] == DECIDE_EXACT || c.kind[g] == DECIDE_NEAR)
                CHECK(c.dup_of[g] < g && c.kind[c.dup_of[g]] == DECIDE_KEPT, "the keeper is an earlier kept record");
        }
        FILE *null = fopen("/dev/null", "w");
        if (null) {
            dedup_list_write(null, files, &c);
            fclose(null);
        }
        dedup_clustering_release(&c);
    }
    dedup_sigfile_free(f);
    (void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint64_t *buf = malloc((size / 8 + 1) * 8); /* 8-byte aligned, as a mapping is */
    if (!buf) return 0;
    memcpy(buf, data, size);
    use((const uint8_t *)buf, size);
    if (size >= 32) {
        uint8_t *b = (uint8_t *)buf;
        uint64_t h = XXH64(b, size - 8, 0);
        for (int i = 0; i < 8; i++) b[size - 8 + i] = (uint8_t)(h >> (8 * i));
        use(b, size);
    }
    free(buf);
    return 0;
}
