/* pretok.h: the pre-tokenization split of byte-level BPE tokenizers: where the text is cut into the words
 * that BPE then encodes one by one. Qwen (v1, 1.5, 2, 2.5) uses one regular expression, implemented here as
 * a hand-written scanner with the regex engine's semantics, not as a regex.
 * Rule: every byte of the text belongs to exactly one piece; an invalid UTF-8 byte is one character of its
 * own that is neither letter, number nor whitespace (the class U+FFFD has), so any bytes can be split. */
#ifndef FT_PRETOK_H
#define FT_PRETOK_H

#include <stddef.h>

/* The Qwen2 pattern, as Hugging Face tokenizers (Oniguruma) and tiktoken (fancy-regex) run it:
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * \p{L} = general categories L*, \p{N} = N* (utf8proc's tables), \s = the Unicode White_Space property,
 * (?i) = simple case folding (so "'S" and "'ſ" match like "'s"). */
#define FT_PRETOK_QWEN2_PATTERN                                                                             \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"      \
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/* A split function: the length in bytes (>= 1) of the piece that starts at s[0], for n >= 1. */
typedef size_t (*ft_pretok_fn)(const char *s, size_t n);

/* ft_pretok_qwen2: the match of FT_PRETOK_QWEN2_PATTERN at s[0] (the pattern matches at every position, so
 * the pieces are the consecutive matches). Thread-safe, no allocation. */
size_t ft_pretok_qwen2(const char *s, size_t n);

#endif
