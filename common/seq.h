/* seq.h: the layout of a packed row (documents back to back, then padding): each token's position inside its
 * document and the column where its document starts, shared by the dataloader (common/loader) and the
 * attention and RoPE ops (kernels/backend.h).
 * Rule: padding past the documents is one more document, so every column has a position and a start. */
#ifndef FT_SEQ_H
#define FT_SEQ_H

#include <stdint.h>

/* ft_seq_layout: for one packed row of T tokens holding documents of lengths seq_lens[0..ndocs) (in order),
 * writes pos (T), the position of each token within its document (restarting at 0), and start (T), the row
 * index of its document's first token. Tokens past the documents' total (padding) form one more document.
 * Returns 0, or FT_EINVAL when a length is negative or they sum past T. */
int ft_seq_layout(const int32_t *seq_lens, int ndocs, int T, int32_t *pos, int32_t *start);

#endif
