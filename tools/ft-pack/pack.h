/* pack.h: ft-pack's packing algorithms: which documents of a window share a row.
 * Rule: pure functions of (lengths, seq_len, mode, seed): the same input gives the same rows on any machine. */
#ifndef FT_PACK_PACK_H
#define FT_PACK_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"

enum { PACK_FFD, PACK_SHUFFLE, PACK_NONE };

/* pack_window: puts the n documents of a window, lens[i] tokens each (1..seq_len), into rows of at most
 * seq_len tokens, every document in exactly one row.
 *   PACK_FFD: documents by length, longest first (ties in input order), each into the first row with room;
 *   PACK_SHUFFLE: the same first fit, in an order shuffled by rng (Fisher-Yates);
 *   PACK_NONE: one document per row, in input order.
 * Rows are numbered in the order they were opened. On return order[0..n) lists the documents row by row
 * (inside a row in placement order) and row_end[r] is where row r ends in order; returns the number of rows.
 * order and row_end hold n entries each; rng is used by PACK_SHUFFLE only. */
size_t pack_window(int mode, const uint32_t *lens, size_t n, uint32_t seq_len, ft_rng *rng, uint32_t *order,
                   uint32_t *row_end);

#endif
