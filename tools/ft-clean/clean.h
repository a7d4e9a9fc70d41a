/* clean.h: what the modules of ft-clean share: options, reasons, the per-thread context and the
 * one-record entry points (record.c) used by main.c and by the fuzz targets.
 * Rule: everything a record's fate depends on is in clean_opts; a record is processed with no global state. */
#ifndef FT_CLEAN_H
#define FT_CLEAN_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "conversation.h"
#include "ft.h"

enum clean_format { FMT_AUTO, FMT_MOSS, FMT_FIREFLY, FMT_SHAREGPT, FMT_ALPACA, FMT_CSV, FMT_TSV };
enum moss_tools { MOSS_TOOLS_DROP, MOSS_TOOLS_STRIP };
enum bad_utf8 { BAD_UTF8_REPLACE, BAD_UTF8_REJECT };

/* Every way a record can end; the first group is "rejected" (unparsable), the second "dropped". */
#define CLEAN_REASONS(X)                                                                                 \
    X(R_BAD_JSON, "bad-json", 1)                                                                         \
    X(R_BAD_UTF8, "bad-utf8", 1)                                                                         \
    X(R_BAD_CSV, "bad-csv", 1)                                                                           \
    X(R_BAD_RECORD, "bad-record", 1)                                                                     \
    X(R_UNKNOWN_FORMAT, "unknown-format", 1)                                                             \
    X(R_TOO_LARGE, "too-large", 1)                                                                       \
    X(R_TOOL_USE, "tool-use", 0)                                                                         \
    X(R_BAD_ROLES, "bad-roles", 0)                                                                       \
    X(R_NO_TURNS, "no-turns", 0)                                                                         \
    X(R_EMPTY_TURN, "empty-turn", 0)                                                                     \
    X(R_TURN_TOO_SHORT, "turn-too-short", 0)                                                             \
    X(R_TURN_TOO_LONG, "turn-too-long", 0)                                                               \
    X(R_CONV_TOO_SHORT, "conv-too-short", 0)                                                             \
    X(R_CONV_TOO_LONG, "conv-too-long", 0)                                                               \
    X(R_REPETITION, "char-repetition", 0)                                                                \
    X(R_SPECIAL_CHARS, "special-chars", 0)                                                               \
    X(R_REPEATED_SENTENCES, "repeated-sentences", 0)                                                     \
    X(R_LOOPING, "looping", 0)

enum clean_reason {
    R_KEPT = 0,
#define X(id, name, rej) id,
    CLEAN_REASONS(X)
#undef X
        R_COUNT
};
const char *clean_reason_name(int reason);
int clean_reason_is_reject(int reason);

/* Fix counters: how often normalization changed something (summed over records). */
#define CLEAN_FIXES(X)                                                                                   \
    X(F_UTF8, "utf8-repaired")                                                                           \
    X(F_MARKERS, "markers-removed")                                                                      \
    X(F_CONTROL, "controls-removed")                                                                     \
    X(F_NFC, "nfc")                                                                                      \
    X(F_WHITESPACE, "whitespace")                                                                        \
    X(F_HALFWIDTH, "halfwidth")                                                                          \
    X(F_T2S, "t2s")                                                                                      \
    X(F_PII, "pii-masked")                                                                               \
    X(F_TOOLS_STRIPPED, "tools-stripped")
enum clean_fix {
#define X(id, name) id,
    CLEAN_FIXES(X)
#undef X
        F_COUNT
};
const char *clean_fix_name(int fix);

typedef struct {
    int format;     /* enum clean_format; FMT_AUTO detects per record (JSON) or per file (.csv/.tsv) */
    int moss_tools; /* enum moss_tools */
    int keep_meta;
    int bad_utf8;   /* enum bad_utf8 */
    int halfwidth, t2s, mask_pii;
    const char *t2s_config; /* OpenCC config name or path */
    /* filters: 0 disables a maximum; ratios <= 0 disable */
    int filter_empty;
    uint64_t min_turn_chars, max_turn_chars, min_conv_chars, max_conv_chars;
    double max_rep_ratio;   /* character n-gram repetition (data-juicer formula) */
    int rep_ngram_cjk, rep_ngram_latin;
    uint64_t rep_min_chars; /* messages shorter than this are not tested for repetition */
    double max_special_ratio;
    uint64_t special_min_chars;
    double max_sentence_repeat; /* share of repeated sentences in one reply */
    uint64_t sentence_min_count;
    double max_loop_share;      /* share of a reply taken by one short unit repeated back to back */
    uint64_t loop_min_repeats, loop_min_chars;
} clean_opts;

void clean_opts_default(clean_opts *o);

/* Per-thread state: the options, an OpenCC handle when --t2s is on, scratch buffers. */
typedef struct clean_ctx {
    const clean_opts *o; /* borrowed */
    void *opencc;
    ft_buf a, b;         /* normalization scratch */
    ft_buf norm;         /* a normalized text on its way back into the record (record.c) */
    ft_buf raw;          /* repaired UTF-8 copy of a record */
    /* filter scratch (filters.c), grown as needed: code points and where sentences may end, a map of
     * n-gram hashes, the counting table (all zero between uses) with its list of used slots, frequency
     * histogram */
    int32_t *cps;
    uint32_t *ends;
    size_t cps_cap;
    uint8_t *seen;
    size_t seen_cap;
    struct clean_slot { uint64_t key; uint32_t cnt; } *tab;
    uint32_t *slots;
    size_t tab_cap;
    uint32_t *hist;
    size_t hist_cap;
    size_t nchars; /* code points of the message clean_filter_message last saw */
} clean_ctx;
/* Returns NULL with *err set (a static message) when OpenCC cannot load its configuration. */
clean_ctx *clean_ctx_new(const clean_opts *o, const char **err);
void clean_ctx_free(clean_ctx *c);

/* The fate of one record. out receives the JSONL line when kept. */
typedef struct {
    int reason;        /* R_KEPT or a reason */
    char detail[160];  /* human-readable detail for drops and rejects, may be empty */
    uint32_t fixes[F_COUNT];
    ft_buf out;
} clean_result;
void clean_result_reset(clean_result *r);

/* A JSON record given as text (one JSONL line or one whole document). */
void clean_json_text(clean_ctx *c, const char *s, size_t n, clean_result *r);
/* A JSON record already parsed (an element of a top-level array); v is consumed. */
void clean_json_value(clean_ctx *c, cJSON *v, clean_result *r);
/* A CSV row mapped to its columns (NULL = absent). row is the 1-based data row, used as the id. */
void clean_csv_row(clean_ctx *c, const char *category, const char *system, const char *human,
                   const char *assistant, uint64_t row, clean_result *r);

/* Text normalization (normalize.c): appends the clean form of s to out and counts fixes. */
void clean_text(clean_ctx *c, const char *s, size_t n, ft_buf *out, uint32_t *fixes);
/* Removes MOSS role markers; returns how many were removed. */
size_t clean_strip_markers(const char *s, size_t n, ft_buf *out);

/* Quality filters (filters.c) on one normalized message; returns R_KEPT or a reason with detail, and
 * leaves the message's length in code points in c->nchars. */
int clean_filter_message(clean_ctx *c, const char *s, size_t n, int is_assistant, char *detail,
                         size_t detail_cap);

/* PII masking (pii.c): appends s with e-mails, phone numbers, Chinese ID numbers, IPv4 addresses and
 * URLs replaced by <EMAIL>, <PHONE>, <ID_NUMBER>, <IP>, <URL>; returns the number of replacements. */
size_t clean_mask_pii(const char *s, size_t n, ft_buf *out);

/* OpenCC wrapper (normalize.c), NULL-safe. */
void *clean_opencc_open(const char *config);
void clean_opencc_close(void *h);

#endif
