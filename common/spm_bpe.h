/* spm_bpe.h: a SentencePiece ModelProto read from its wire bytes, and a native encoder for the BPE models
 * whose normalizer is the identity (Llama-2, Baichuan2), giving the ids libsentencepiece 0.1.97 gives.
 * Rule: the encoder takes only models it reproduces exactly (ft_spm_bpe_new says why not otherwise); the
 * caller keeps the library for everything else and for decoding. */
#ifndef FT_SPM_BPE_H
#define FT_SPM_BPE_H
#include <stddef.h>
#include <stdint.h>

#include "ft.h"

/* ModelProto.SentencePiece.Type values (sentencepiece_model.proto). */
enum {
    FT_SPM_NORMAL = 1,
    FT_SPM_UNKNOWN = 2,
    FT_SPM_CONTROL = 3,
    FT_SPM_USER_DEFINED = 4,
    FT_SPM_UNUSED = 5,
    FT_SPM_BYTE = 6
};

typedef struct {
    const char *text; /* points into the parsed bytes, not NUL-terminated */
    size_t len;
    float score;
    int type;           /* FT_SPM_*, or the raw value when out of range */
    uint8_t *type_byte; /* where the type's one-byte varint sits in the parsed bytes, or NULL */
} ft_spm_model_piece;

/* What the encoder depends on, as the file says it (proto2 defaults where a field is absent). */
typedef struct {
    ft_spm_model_piece *pieces; /* (n) malloc'd; texts point into the parsed buffer */
    size_t n;
    int model_type;        /* trainer_spec.model_type: 1 unigram (default), 2 BPE, 3 word, 4 char */
    int byte_fallback;     /* trainer_spec.byte_fallback */
    int ws_as_suffix;      /* trainer_spec.treat_whitespace_as_suffix */
    const char *norm_name; /* normalizer_spec.name (not NUL-terminated), NULL when absent */
    size_t norm_name_len;
    size_t charsmap_len;  /* normalizer_spec.precompiled_charsmap length (normalization_rule_tsv, a training
                           * input, is not read: the 0.1.97 normalizer ignores it when encoding) */ /* normalizer_spec.precompiled_charsmap length */
    int add_dummy_prefix, remove_extra_ws, escape_ws;
    int odd; /* a field the encoder depends on came with an unexpected wire type */
} ft_spm_model;

/* ft_spm_model_parse: reads the ModelProto in buf[0..len). buf is the caller's and must outlive m (piece
 * texts and type_byte point into it). Returns 0, FT_EPARSE (not a ModelProto, or no piece) or FT_ENOMEM. */
int ft_spm_model_parse(uint8_t *buf, size_t len, ft_spm_model *m);
void ft_spm_model_release(ft_spm_model *m);

typedef struct ft_spm_bpe ft_spm_bpe;

/* ft_spm_bpe_new: the native encoder of m (copied: m may be released after). Returns 0; FT_EFORMAT when the
 * model is not one this encoder reproduces exactly, with a static reason in *why_not (may be NULL); or
 * FT_ENOMEM. The encoder is immutable: ft_spm_bpe_encode may run on many threads at once. */
int ft_spm_bpe_new(const ft_spm_model *m, ft_spm_bpe **out, const char **why_not);
void ft_spm_bpe_free(ft_spm_bpe *e);

/* ft_spm_bpe_encode: appends the ids of text[0..len) to the growable array (*v, *n, *cap: malloc'd or
 * NULL/0/0), the ids SentencePieceProcessor::Encode gives. Scratch memory is per thread and kept between
 * calls (released when the thread exits). Returns 0, FT_ENOMEM, or FT_ETOOBIG for a text over 256 MiB (the
 * caller encodes it another way). */
int ft_spm_bpe_encode(const ft_spm_bpe *e, const char *text, size_t len, uint32_t **v, size_t *n,
                      size_t *cap);

#endif
