/* utf8.h: UTF-8 validation, repair, code point decoding and NFC normalization (utf8proc).
 * Rule: strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF); NFC keeps a fast path
 * for text that is already normalized, which is almost all of it. */
#ifndef FT_UTF8_H
#define FT_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "ft.h"

/* Returns n when s[0..n) is valid UTF-8, else the offset of the first invalid sequence. */
size_t ft_utf8_check(const char *s, size_t n);

/* Appends s to out with every invalid sequence replaced by U+FFFD (one per maximal ill-formed
 * subpart, as Unicode recommends). Returns the number of replacements. */
size_t ft_utf8_repair(const char *s, size_t n, ft_buf *out);

/* Decodes one code point of valid UTF-8 at s (n > 0 bytes left); returns its length (1..4) and the
 * code point in *cp. On an invalid sequence returns 1 and U+FFFD. */
int ft_utf8_decode(const char *s, size_t n, int32_t *cp);

/* Encodes cp (<= U+10FFFF) into out (4 bytes room); returns the length. */
int ft_utf8_encode(int32_t cp, char *out);

/* Number of code points in valid UTF-8. */
size_t ft_utf8_count(const char *s, size_t n);

/* ft_utf8_nfc: appends the NFC form of valid UTF-8 s to out. Returns 1 when the text changed, 0 when
 * it was already NFC, FT_EUTF8 if s is not valid UTF-8, FT_ENOMEM. Thread-safe. */
int ft_utf8_nfc(const char *s, size_t n, ft_buf *out);

/* Whether cp is stable under NFC in any context: combining class 0, no canonical decomposition and
 * never the second part of a canonical composition. Exposed for tests. */
int ft_utf8_nfc_stable(int32_t cp);

#endif
