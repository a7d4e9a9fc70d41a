/* bpe.h: the byte-level BPE model behind the "bpe" and "tiktoken" tokenizer kinds: tokens as byte strings,
 * merges as ranked pairs of tokens, GPT-2's byte <-> character alphabet, word encoding with a per-thread
 * cache, decoding. The loaders (tokenizer_bpe.c) fill it from vocab.json + merges.txt, tokenizer.json or a
 * tiktoken file.
 * Rule: built once (tokens, then merges, then ft_bpe_finish), read-only afterwards; encode may run on many
 * threads at once. */
#ifndef FT_BPE_H
#define FT_BPE_H

#include <stddef.h>
#include <stdint.h>

#include "ft.h"
#include "pretok.h"
#include "tokenizer.h"

typedef struct ft_bpe ft_bpe;

/* GPT-2's bytes_to_unicode: the code point byte b is written as in vocab.json and merges.txt (printable
 * Latin-1 bytes stand for themselves, the others for U+0100 + k). */
int32_t ft_bpe_byte_char(uint8_t b);
/* The byte that code point cp stands for, or -1 when cp is not in that alphabet. */
int ft_bpe_char_byte(int32_t cp);
/* ft_bpe_unmap: appends to out the bytes that s[0..n), UTF-8 text in the byte alphabet, stands for.
 * Returns 0, or FT_EPARSE when s holds invalid UTF-8 or a character outside the alphabet (out then holds
 * the bytes before it). */
int ft_bpe_unmap(const char *s, size_t n, ft_buf *out);
/* ft_bpe_map: appends the alphabet form (UTF-8) of the bytes s[0..n). */
void ft_bpe_map(const char *s, size_t n, ft_buf *out);

/* ft_bpe_new: an empty model. Returns 0 or FT_ENOMEM; free with ft_bpe_free (NULL is harmless). */
int ft_bpe_new(ft_bpe **out);
void ft_bpe_free(ft_bpe *b);

/* ft_bpe_add_token: token id is the bytes s[0..n) (n >= 1, id < FT_BPE_MAX_ID). With FT_BPE_ADDED it is an
 * added token (Hugging Face added_tokens, tiktoken specials): it decodes to its bytes but encoding never
 * produces it. Returns 0, FT_ENOMEM, FT_ERANGE (id too large), or FT_EINVAL when the id is taken or, for a
 * vocabulary token, its bytes already are another token. */
enum { FT_BPE_ADDED = 1 };
#define FT_BPE_MAX_ID (1u << 24)
int ft_bpe_add_token(ft_bpe *b, uint32_t id, const char *s, size_t n, unsigned flags);

/* The id of the vocabulary token whose bytes are s[0..n), or -1 (added tokens are not looked up here). */
int64_t ft_bpe_token_id(const ft_bpe *b, const char *s, size_t n);
/* The bytes of token id (vocabulary or added) and their length, or NULL when no token has that id; its
 * flags (FT_BPE_ADDED) in *flags when flags is not NULL. */
const char *ft_bpe_token(const ft_bpe *b, uint32_t id, size_t *len, unsigned *flags);
/* One more than the largest id given to ft_bpe_add_token (0 when none). */
uint32_t ft_bpe_id_limit(const ft_bpe *b);

/* ft_bpe_add_merge: merges.txt / tokenizer.json style: adjacent tokens left and right become token result
 * (whose bytes must be theirs joined) with priority rank (lower merges first). A pair given twice keeps its
 * first rank. Returns 0, FT_ENOMEM, or FT_EINVAL when an id is not a vocabulary token or the bytes do not
 * join up. */
int ft_bpe_add_merge(ft_bpe *b, uint32_t left, uint32_t right, uint32_t rank);
/* ft_bpe_merges_from_ranks: tiktoken style: any two adjacent tokens whose joined bytes are a token merge
 * into it, ranked by its id. Call after every token is added, instead of ft_bpe_add_merge. Returns 0 or
 * FT_ENOMEM. */
int ft_bpe_merges_from_ranks(ft_bpe *b);

/* ft_bpe_finish: makes the model ready to encode. Flags: FT_BPE_NFC normalizes text to NFC first;
 * FT_BPE_WHOLE_WORDS takes a word that is itself a token as that token without merging (tiktoken, and
 * tokenizer.json's ignore_merges). split cuts text into words (ft_pretok_qwen2). Returns 0, FT_ENOMEM, or
 * FT_EINVAL when a byte has no single-byte token (the model is not byte-level). */
enum { FT_BPE_NFC = 1, FT_BPE_WHOLE_WORDS = 2 };
int ft_bpe_finish(ft_bpe *b, unsigned flags, ft_pretok_fn split);

/* ft_bpe_encode: appends the ids of text[0..len): NFC (valid stretches only, when the model asks for it),
 * split into words, each word's bytes merged by rank (lowest first, leftmost on ties). Any bytes are
 * accepted: an invalid UTF-8 byte is encoded as itself. Returns 0 or FT_ENOMEM. Thread-safe. */
int ft_bpe_encode(const ft_bpe *b, const char *text, size_t len, ft_ids *out);
/* ft_bpe_encode_word: the merges on one word's bytes w[0..n) (n >= 1), no splitting, no cache. */
void ft_bpe_encode_word(const ft_bpe *b, const char *w, size_t n, ft_ids *out);

/* ft_bpe_decode: appends the bytes of ids[0..n). Returns 0 or FT_ERANGE for an id without a token. */
int ft_bpe_decode(const ft_bpe *b, const uint32_t *ids, size_t n, ft_buf *out);

#endif
