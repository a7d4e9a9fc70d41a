/* tokenize.h: ft-tokenize's modules: chat templates as Firefly renders them (template.c) and one conversation
 * record turned into token ids and a loss mask (record.c).
 * Rule: everything here is a pure function of (tokenizer, template, options, record): no I/O, no globals,
 * so worker threads share the tokenizer and template and each owns one tok_ctx. */
#ifndef FT_TOKENIZE_H
#define FT_TOKENIZE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "ft.h"
#include "tokenizer.h"

/* ---- templates ------------------------------------------------------------------------------------ */

/* One piece of a format string: literal text, or the {content} / {stop_token} field. */
enum { TPL_LIT, TPL_CONTENT, TPL_STOP };
typedef struct {
    int kind;
    size_t off, n; /* TPL_LIT: the text ({{ and }} already unescaped) at store.data + off */
} tpl_part;

typedef struct {
    tpl_part *v;
    size_t n;
} tpl_format;

typedef struct {
    char *name;
    int v1;              /* firefly-v1: <s>, then every utterance followed by </s> (Firefly's 2023 SFTDataset) */
    int has_system;      /* system_format is not None */
    tpl_format sys, user, asst;
    /* The fields as given (register_template's), for the stream header; NULL = None. */
    char *system_format, *user_format, *assistant_format, *system, *stop_word;
    ft_buf store;        /* literal texts */
} tpl;

/* Names of the built-in templates, NULL-terminated (for --list-templates). */
extern const char *const tpl_builtin_names[];

/* tpl_load: a built-in name or a JSON file (a path ending in .json) with register_template's fields
 * (template_name, system_format, user_format, assistant_format, system, stop_word; user_format and
 * assistant_format required). Returns 0, or FT_EINVAL/FT_EIO/FT_EPARSE with the reason in why. */
int tpl_load(const char *name_or_file, tpl *t, ft_buf *why);
void tpl_release(tpl *t);
/* The template as a JSON object (name and the fields, null for None); the caller owns it. */
cJSON *tpl_to_json(const tpl *t);

/* tpl_parse_format: parses a Python str.format string whose fields are among allowed (bits 1 << TPL_CONTENT,
 * 1 << TPL_STOP) into out (parts malloc'd; literal texts appended to store). Returns 0 or FT_EPARSE with the
 * reason appended to why. */
int tpl_parse_format(const char *fmt, unsigned allowed, tpl_format *out, ft_buf *store, ft_buf *why);

/* py_strip: the bounds of s[0..n) without the leading and trailing characters Python's str.strip()
 * removes (str.isspace(): ASCII whitespace, U+001C..U+001F, U+0085, U+00A0, U+1680, U+2000..U+200A,
 * U+2028, U+2029, U+202F, U+205F, U+3000). */
void py_strip(const char *s, size_t n, size_t *begin, size_t *end);

/* ---- records ---------------------------------------------------------------------------------------- */

enum { OVERLONG_TRUNCATE, OVERLONG_DROP, OVERLONG_SPLIT };

typedef struct {
    const ft_tokenizer *tk;
    const tpl *t;
    int hf_special;       /* --hf-special-tokens: content strings become special ids, as HF does */
    uint64_t max_seq_len; /* 0 = no limit */
    int overlong;
} tok_opts;

/* A span of a rendered segment: template text or content. */
typedef struct {
    const char *s;
    size_t n;
    int content;
} tok_span;

/* Why a record produced nothing. */
enum { TOK_OK, TOK_BAD_JSON, TOK_BAD_UTF8, TOK_NOT_OBJECT, TOK_NO_CONVERSATION, TOK_EMPTY_CONVERSATION,
       TOK_BAD_TURN, TOK_BAD_SYSTEM, TOK_TOO_LARGE, TOK_ENCODE_FAILED, TOK_DROPPED_OVERLONG, TOK_REASONS };
const char *tok_reason_name(int reason);

/* Per-worker state and the result of the last record. */
typedef struct {
    ft_ids ids;        /* the whole record */
    ft_buf mask;       /* one byte per id */
    size_t *turn_end;  /* (nturns) token count after each turn's assistant segment */
    size_t prefix;     /* tokens before the first turn (system segment, or firefly-v1's <s>) */
    size_t nturns, turn_cap;
    ft_buf scratch;    /* rendered segment text */
    ft_ids tmp;
    /* Pieces to write: [start, end) ranges into ids/mask, prefixed by the prefix tokens when with_prefix. */
    struct tok_piece {
        size_t start, end;
        int with_prefix;
    } *pieces;
    size_t npieces, piece_cap;
    int reason;
    char detail[160];
    int truncated, split; /* what the overlong policy did */
} tok_ctx;

void tok_ctx_init(tok_ctx *c);
void tok_ctx_release(tok_ctx *c);

/* tok_segment: appends the ids of one rendered segment (spans joined) to out, following the options'
 * special-token mode (see docs/ft-tokenize.md "Special tokens"). Returns 0 or a negative code. */
int tok_segment(tok_ctx *c, const tok_opts *o, const tok_span *spans, size_t nspans, ft_ids *out);

/* tok_record: one JSONL line. Sets c->reason (TOK_OK or why not) and c->detail; on TOK_OK, c->pieces say
 * what to write (one piece, or several with --overlong split). Returns c->reason. */
int tok_record(tok_ctx *c, const tok_opts *o, const char *line, size_t len);
/* tok_conv: the same from a parsed record (obj is borrowed). */
int tok_conv(tok_ctx *c, const tok_opts *o, const cJSON *obj);

/* The ids and mask of piece k, written into ids/mask (reset first). */
void tok_piece_get(const tok_ctx *c, size_t k, ft_ids *ids, ft_buf *mask);

#endif
