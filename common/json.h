/* json.h: the small layer over cJSON that every tool shares: parsing with an error offset, typed
 * getters, and a fast string escaper for writers.
 * Rule: cJSON owns the tree; everything here either borrows from it or appends to an ft_buf. */
#ifndef FT_JSON_H
#define FT_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "ft.h"

/* ft_json_parse: parses exactly one JSON value from s[0..n) (surrounding whitespace allowed).
 * Returns 0 and the tree in *out (free with cJSON_Delete), or FT_EPARSE with *err_off set to the byte
 * offset where parsing failed (n for truncated input). */
int ft_json_parse(const char *s, size_t n, cJSON **out, size_t *err_off);

/* ft_json_member_spans: for s[0..n), a JSON object already known to be valid, stores where each top-level
 * member's value starts and ends (begin[k], end[k]), in text order, which is cJSON's child order. It stops
 * after max members (the rest of the text is not read). Returns the number of members stored or -1 when s
 * is not an object. */
int ft_json_member_spans(const char *s, size_t n, size_t *begin, size_t *end, int max);

/* Appends the JSON text s[0..n) without the whitespace outside strings (numbers keep their spelling). */
void ft_json_put_compact(ft_buf *out, const char *s, size_t n);

/* The string value of key in obj, or NULL when missing or not a string (borrowed from obj). */
const char *ft_json_str(const cJSON *obj, const char *key);

/* Appends s[0..n) as a JSON string literal (quotes included). Bytes >= 0x80 are copied unchanged;
 * '"', '\\' and control characters are escaped. */
void ft_json_put_string(ft_buf *out, const char *s, size_t n);

/* Appends the compact serialization of v. Returns 0 or FT_ENOMEM. */
int ft_json_put_value(ft_buf *out, const cJSON *v);

#endif
