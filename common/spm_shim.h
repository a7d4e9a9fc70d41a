/* spm_shim.h: the C face of libsentencepiece (C++), used only by tokenizer_spm.c.
 * Rule: plain C types across the boundary; no C++ exception escapes (each becomes a negative FT_E* code);
 * a processor is immutable after ft_spm_load, so its functions may run on many threads at once. */
#ifndef FT_SPM_SHIM_H
#define FT_SPM_SHIM_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ft_spm ft_spm;

/* ft_spm_load: a processor from a serialized ModelProto (the bytes of a tokenizer.model). On failure returns
 * a negative FT_E* code (FT_EFORMAT: the library rejected the model) and copies the library's message into
 * err (NUL-terminated, truncated to errlen). The bytes are copied; the caller keeps ownership. */
int ft_spm_load(const void *proto, size_t len, ft_spm **out, char *err, size_t errlen);
void ft_spm_free(ft_spm *sp);

/* ft_spm_encode: appends the ids of text[0..len) to the caller's growable array (*v, *n, *cap: malloc'd or
 * NULL/0/0; grown with realloc). Returns 0, FT_ENOMEM, or FT_EINVAL when the library fails. */
int ft_spm_encode(const ft_spm *sp, const char *text, size_t len, uint32_t **v, size_t *n, size_t *cap);

/* ft_spm_decode: the text of ids as a malloc'd NUL-terminated string in *out (length *len), which the caller
 * frees. Returns 0, FT_ENOMEM, or FT_ERANGE for an id outside the vocabulary. */
int ft_spm_decode(const ft_spm *sp, const uint32_t *ids, size_t n, char **out, size_t *len);

int ft_spm_size(const ft_spm *sp);
/* The piece of id: a NUL-terminated string owned by sp, or NULL when id is out of range. */
const char *ft_spm_piece(const ft_spm *sp, int id);
/* The id of an exact piece, or -1 (the library maps unknown pieces to unk; this does not). */
int ft_spm_piece_id(const ft_spm *sp, const char *piece, size_t len);
int ft_spm_bos_id(const ft_spm *sp);
int ft_spm_eos_id(const ft_spm *sp);
int ft_spm_unk_id(const ft_spm *sp);
int ft_spm_pad_id(const ft_spm *sp);

#ifdef __cplusplus
}
#endif
#endif
