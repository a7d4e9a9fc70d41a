/* tokstream.h: the token stream (DESIGN.md "Token stream"), written by ft-tokenize and read by ft-pack and
 * ft-tokenize --decode. Rule: this is the only module that knows the bytes; the reader trusts nothing it
 * reads (every length is bounded, every record checksummed, the end is proven by a trailer).
 *
 * Layout (all integers little-endian; the stream is a sequence of 4-byte aligned frames):
 *   header  "FTTOKSTR" (8 bytes), u32 version (1), u32 json_len, json_len bytes of a JSON object, zero
 *           padding to a multiple of 4, u64 XXH64 (seed 0) of everything before it in the header.
 *           The JSON names the tokenizer (path, kind, hash, vocab_size, bos/eos/unk/pad ids: -1 = none),
 *           the template and the options that shaped the tokens; the reader requires only
 *           "tokenizer": {"hash": string, "vocab_size": 1..2^31}.
 *   record  "REC1", u32 n (tokens, 1..FT_TOKSTREAM_MAX_TOKENS), u64 index (the source record's 0-based
 *           position among the input records; a record split in pieces repeats it), u32 ids[n]
 *           (each < vocab_size), the loss mask as n bits packed LSB first into ceil(n/8) bytes (unused
 *           bits 0), zero padding to a multiple of 4, u64 XXH64 of everything before it in the record.
 *   trailer "END1", u32 0, u64 records, u64 tokens, u64 masked (mask-1 tokens), u64 XXH64 of the 32
 *           bytes before it. A stream without its trailer is truncated, and the counts must match.
 * Concatenation: "cat a.tok b.tok" is one valid stream when every part names the same tokenizer hash and
 * vocab_size: after a trailer the reader accepts another header and goes on (indices restart per part);
 * parts with different tokenizers are an error (FT_EFORMAT). */
#ifndef FT_TOKSTREAM_H
#define FT_TOKSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ft.h"

#define FT_TOKSTREAM_VERSION 1
#define FT_TOKSTREAM_MAX_TOKENS (1u << 28) /* per record: 1 GiB of ids */
#define FT_TOKSTREAM_MAX_HEADER (1u << 20) /* header JSON bytes */

/* ---- writing: appenders, so that worker threads can serialize records in parallel -------------- */

/* Appends a header carrying json[0..len) (a JSON object the caller built; not checked here). */
void ft_tokstream_put_header(ft_buf *out, const char *json, size_t len);
/* Appends one record: ids (n), mask (n bytes, each 0 or non-zero). n must be 1..FT_TOKSTREAM_MAX_TOKENS. */
void ft_tokstream_put_record(ft_buf *out, uint64_t index, const uint32_t *ids, const uint8_t *mask, size_t n);
/* Appends the trailer with the totals of the records written since the header. */
void ft_tokstream_put_trailer(ft_buf *out, uint64_t records, uint64_t tokens, uint64_t masked);

/* ---- reading: streaming, one record at a time ---------------------------------------------------- */

typedef struct {
    char *json;           /* the first part's header JSON, NUL-terminated, owned by the reader */
    size_t json_len;
    char hash[65];        /* tokenizer.hash */
    uint32_t vocab_size;  /* tokenizer.vocab_size */
    int64_t bos_id, eos_id, unk_id, pad_id; /* -1 when absent */
    char template_name[64]; /* template.name, "" when absent */
    uint32_t version;
} ft_tokstream_info;

typedef struct {
    uint64_t index;        /* as written */
    size_t n;              /* tokens */
    const uint32_t *ids;   /* (n) borrowed from the reader until the next call */
    const uint8_t *mask;   /* (n) 0 or 1 per token, borrowed likewise */
} ft_tokrec;

typedef struct ft_tokstream_reader ft_tokstream_reader;

/* ft_tokstream_open: reads and checks the header from f (borrowed; read sequentially, never seeked).
 * Returns 0 and a heap reader in *out, or a negative code (FT_EFORMAT not a token stream or bad header,
 * FT_EEOF empty or cut short, FT_EIO, FT_ENOMEM) with the reason in why (when not NULL). */
int ft_tokstream_open(FILE *f, ft_tokstream_reader **out, ft_buf *why);
const ft_tokstream_info *ft_tokstream_info_of(const ft_tokstream_reader *r);
/* ft_tokstream_next: 1 and the next record in *rec, 0 at the end of the stream (every trailer matched),
 * or a negative code: FT_EEOF truncated, FT_EPARSE corrupt (bad frame, checksum, padding, counts),
 * FT_ERANGE an id >= vocab_size, FT_ETOOBIG n over the limit, FT_EFORMAT a concatenated part with another
 * tokenizer, FT_EIO. After an error the reader is done; ft_tokstream_error says what and where. */
int ft_tokstream_next(ft_tokstream_reader *r, ft_tokrec *rec);
/* The last error with its byte offset ("" when none): NUL-terminated, owned by r. */
const char *ft_tokstream_error(const ft_tokstream_reader *r);
/* Records, tokens and parts read so far. */
uint64_t ft_tokstream_records(const ft_tokstream_reader *r);
uint64_t ft_tokstream_parts(const ft_tokstream_reader *r);
void ft_tokstream_close(ft_tokstream_reader *r);

#endif
