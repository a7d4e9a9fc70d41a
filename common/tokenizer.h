/* tokenizer.h: one interface over every tokenizer ft reads (SentencePiece models, byte-level BPE), used by
 * ft-tokenize, ft-eval and the trainer. The kind is chosen from the file given to ft_tokenizer_open; each
 * kind is one module implementing ft_tokenizer_ops (tokenizer_spm.c + spm_shim.cc, bpe.c).
 *
 * Rules shared by every kind:
 * - encode never adds BOS/EOS and never turns text into a special id (ft_special below): strings such as
 *   "</s>", "<|im_end|>" or a SentencePiece USER_DEFINED tag ("<reserved_106>") inside the text come out as
 *   ordinary text tokens, and decode(encode(x)) == x for valid UTF-8 x whenever the model can represent it
 *   (byte fallback / byte-level). Recognizing special strings is the caller's choice:
 *   ft_tokenizer_encode_special does what Hugging Face tokenizers do with their special tokens.
 * - A tokenizer is immutable after ft_tokenizer_open: encode/decode may be called from many threads at once
 *   on the same object.
 * Ownership: ft_tokenizer_open allocates; ft_tokenizer_free releases it and everything it points to. */
#ifndef FT_TOKENIZER_H
#define FT_TOKENIZER_H
#include <stddef.h>
#include <stdint.h>

#include "ft.h"

/* A growable array of token ids. ft_ids_init zeroes it; pushes abort on memory exhaustion (ft_x*). */
typedef struct {
    uint32_t *v;
    size_t n, cap;
} ft_ids;
void ft_ids_init(ft_ids *a);
void ft_ids_release(ft_ids *a);
void ft_ids_reserve(ft_ids *a, size_t extra);
void ft_ids_push(ft_ids *a, uint32_t id);
void ft_ids_append(ft_ids *a, const uint32_t *ids, size_t n);

/* A string the tokenizer has as one token that plain text must not produce. Flags:
 * FT_SPECIAL_SPLIT: Hugging Face splits text at it before encoding (SentencePiece CONTROL and UNKNOWN
 *   pieces such as <s> </s> <unk>; BPE added tokens such as <|im_end|>);
 * FT_SPECIAL_INLINE: the model's own encoder matches it inside text (SentencePiece USER_DEFINED pieces that
 *   are markers: <reserved_N> with digits N, <|name|> with no '<', '>' or '|' in name, <NAME> of capitals,
 *   digits and '_' starting with a capital, such as "<reserved_106>", "<SEP>"). Other USER_DEFINED pieces
 *   (digits, "\n", punctuation, HTML tags such as "<br>" in Baichuan) are ordinary text. */
enum { FT_SPECIAL_SPLIT = 1, FT_SPECIAL_INLINE = 2 };
typedef struct {
    const char *text; /* NUL-terminated, owned by the tokenizer */
    size_t len;
    uint32_t id;
    unsigned flags;
} ft_special;

typedef struct ft_tokenizer ft_tokenizer;

typedef struct {
    const char *kind; /* "sentencepiece", "bpe", "tiktoken" */
    /* Appends the ids of text[0..len) to out (no BOS/EOS, special strings as plain text). text need not be
     * NUL-terminated. Returns 0, FT_ENOMEM, or FT_EUTF8 when the kind cannot take invalid UTF-8. */
    int (*encode)(const ft_tokenizer *tk, const char *text, size_t len, ft_ids *out);
    /* The model's encoder as Hugging Face calls it on the text between FT_SPECIAL_SPLIT strings: like encode,
     * but FT_SPECIAL_INLINE strings inside text become their ids (SentencePiece); the same as encode for
     * kinds without inline specials. */
    int (*encode_raw)(const ft_tokenizer *tk, const char *text, size_t len, ft_ids *out);
    /* Appends the bytes that ids decode to (special ids as their strings). Returns 0 or FT_ERANGE for an id
     * outside the vocabulary. */
    int (*decode)(const ft_tokenizer *tk, const uint32_t *ids, size_t n, ft_buf *out);
    /* The piece string of id (SentencePiece "▁Hello", BPE byte-mapped form), or NULL when out of range. */
    const char *(*piece)(const ft_tokenizer *tk, uint32_t id);
    /* The id of an exact piece string, or -1. */
    int64_t (*piece_id)(const ft_tokenizer *tk, const char *piece, size_t len);
    void (*free)(ft_tokenizer *tk);
} ft_tokenizer_ops;

struct ft_tokenizer {
    const ft_tokenizer_ops *ops;
    void *impl;               /* the kind's own state */
    uint32_t vocab_size;      /* ids are < vocab_size */
    int64_t bos_id, eos_id;   /* -1 when the model has none */
    int64_t unk_id, pad_id;   /* -1 when the model has none */
    ft_special *specials;     /* sorted bytewise by text (ft_tokenizer_set_specials) */
    size_t n_specials;
    void *special_index;      /* lookup built by ft_tokenizer_set_specials */
    char hash[17];            /* xxh64 of the model file(s), 16 lower-case hex digits */
    char *path;               /* as given to ft_tokenizer_open */
};

/* ft_tokenizer_open: loads the tokenizer at path and picks its kind: a SentencePiece model file
 * (tokenizer.model, or a directory holding one), a directory with tokenizer.json or vocab.json + merges.txt,
 * or a *.tiktoken file. On failure returns a negative FT_E* code and, when why is not NULL, appends a
 * one-line reason to it ("not a SentencePiece model: ...", "no tokenizer.model, tokenizer.json or
 * vocab.json in directory"); *out is left NULL. */
int ft_tokenizer_open(const char *path, ft_tokenizer **out, ft_buf *why);
void ft_tokenizer_free(ft_tokenizer *tk);

static inline int ft_tokenizer_encode(const ft_tokenizer *tk, const char *text, size_t len, ft_ids *out) {
    return tk->ops->encode(tk, text, len, out);
}
static inline int ft_tokenizer_decode(const ft_tokenizer *tk, const uint32_t *ids, size_t n, ft_buf *out) {
    return tk->ops->decode(tk, ids, n, out);
}

/* ft_tokenizer_encode_special: Hugging Face's encode(text, add_special_tokens=False): text is split at every
 * FT_SPECIAL_SPLIT string (leftmost, longest first), each occurrence becomes its id, and each piece between
 * is encoded by its own encode_raw call (so FT_SPECIAL_INLINE strings inside the pieces become ids too). */
int ft_tokenizer_encode_special(const ft_tokenizer *tk, const char *text, size_t len, ft_ids *out);

/* ft_tokenizer_find_special: the leftmost, then longest, special string in text[0..len) whose flags share a
 * bit with mask: returns it and sets *at to its offset, or returns NULL. */
const ft_special *ft_tokenizer_find_special(const ft_tokenizer *tk, const char *text, size_t len, unsigned mask,
                                            size_t *at);

/* ft_tokenizer_special: the special whose string is exactly s[0..len), or NULL. */
const ft_special *ft_tokenizer_special(const ft_tokenizer *tk, const char *s, size_t len);
/* ft_tokenizer_special_id: the id of special string s (exact match), or -1. */
int64_t ft_tokenizer_special_id(const ft_tokenizer *tk, const char *s, size_t len);

/* For the kinds' loaders: ft_tokenizer_set_specials takes ownership of specials (an array from malloc whose
 * texts the kind owns), sorts it and builds the lookup used by find_special. Returns 0 or FT_ENOMEM. */
int ft_tokenizer_set_specials(ft_tokenizer *tk, ft_special *specials, size_t n);

/* The kinds' loaders, tried in turn by ft_tokenizer_open: each returns FT_EFORMAT when path is not its kind
 * (so the next one is tried) and another negative code, with why filled, when it is but is broken. */
int ft_tokenizer_open_spm(const char *path, ft_tokenizer **out, ft_buf *why); /* tokenizer_spm.c */
/* Byte-level BPE: a directory with tokenizer.json, vocab.json + merges.txt or qwen.tiktoken (tried in that
 * order), or one of those files itself (any *.json is read as tokenizer.json, any *.tiktoken as tiktoken). */
int ft_tokenizer_open_bpe(const char *path, ft_tokenizer **out, ft_buf *why); /* tokenizer_bpe.c */

#endif
