/* seq.c: ft_seq_layout (seq.h).
 * Rule: one pass over the row, the padding handled as a last document. */
#include "seq.h"

#include "ft.h"

int ft_seq_layout(const int32_t *seq_lens, int ndocs, int T, int32_t *pos, int32_t *start) {
    int t = 0;
    for (int d = 0; d <= ndocs; d++) {
        int len = d < ndocs ? seq_lens[d] : T - t; /* the last "document" is the padding */
        FT_RETURN_IF(len < 0 || len > T - t, FT_EINVAL);
        for (int i = 0; i < len; i++) {
            pos[t + i] = i;
            start[t + i] = t;
        }
        t += len;
    }
    return 0;
}
