/* fuzz-mds.c: the MDS reader (common/mds) on any bytes: the first byte picks the target, index.json text or a
 * raw shard. Rule: whatever the bytes, the reader returns an error with a reason or well-formed values, and
 * never reads out of bounds; every row it accepts holds a 0/1 mask and seq_lens summing to its length. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mds.h"

#define FUZZ_CHECK(cond, what)                                                                           \
    do {                                                                                                 \
        if (!(cond)) {                                                                                   \
            fprintf(stderr, "fuzz-mds: invariant violated: %s (%s:%d)\n", what, __FILE__, __LINE__);     \
            abort();                                                                                     \
        }                                                                                                \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    ft_buf why;
    ft_buf_init(&why);
    if (data[0] & 1) {
        ft_mds_index ix;
        if (ft_mds_index_parse((const char *)data + 1, size - 1, &ix, &why) == 0) {
            uint64_t sum = 0;
            for (size_t i = 0; i < ix.nshards; i++) sum += ix.shards[i].samples;
            FUZZ_CHECK(sum == ix.samples, "sample count");
            ft_mds_index_release(&ix);
        } else {
            FUZZ_CHECK(why.len > 0, "an error without a reason");
        }
    } else {
        uint8_t *copy = malloc(size - 1 ? size - 1 : 1);
        if (!copy) return 0;
        memcpy(copy, data + 1, size - 1);
        ft_mds_shard sh;
        if (ft_mds_shard_parse(copy, size - 1, -1, &sh, &why) == 0) {
            ft_mds_rowbuf r;
            ft_mds_rowbuf_init(&r);
            for (uint32_t i = 0; i < sh.n; i++) {
                ft_buf_clear(&why);
                if (ft_mds_shard_row(&sh, i, &r, &why) < 0) continue;
                uint64_t sum = 0;
                for (size_t d = 0; d < r.docs; d++) sum += r.seq_lens[d];
                FUZZ_CHECK(sum == r.n && r.n >= 1, "seq_lens sum");
                for (size_t k = 0; k < r.n; k++) FUZZ_CHECK(r.mask[k] <= 1, "mask bit");
            }
            ft_mds_rowbuf_release(&r);
            ft_mds_shard_release(&sh);
        }
    }
    ft_buf_release(&why);
    return 0;
}
