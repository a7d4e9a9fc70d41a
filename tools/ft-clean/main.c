/* ft-clean: normalize raw chat data (MOSS-003, Firefly, ShareGPT, Alpaca, CSV) into conversation JSONL.
 * Rule: main.c owns options, files, threads, messages and exit status; what happens to one record is
 * decided in record.c. Records go through in batches so output order never depends on -j. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "atomic.h"
#include "clean.h"
#include "csv.h"
#include "json.h"
#include "lines.h"
#include "log.h"
#include "parse.h"
#include "pool.h"

#include <stdarg.h>
#include <utf8proc.h>

#ifndef FT_BUILD_INFO
#define FT_BUILD_INFO "unknown configuration"
#endif

#define PROG "ft-clean"
#define BATCH_ITEMS 1024
#define BATCH_BYTES (4u << 20)
#define MAX_WARNINGS 50

/* ---- options ----------------------------------------------------------------------------------- */

typedef struct {
    clean_opts c;
    const char *output, *rejects, *stats;
    uint64_t max_line;
    int jobs, strict, verbose;
} options;

static void usage(FILE *f) {
    fputs("Usage: ft-clean [OPTIONS] [FILE...]\n"
          "Normalize raw chat data into conversation JSONL (one {\"conversation\": [{\"human\", \"assistant\"}]}\n"
          "object per line). Reads FILEs or stdin ('-'); writes stdout or -o FILE.\n"
          "\n"
          "Input and output:\n"
          "  -o, --output FILE          write to FILE atomically (temp file + rename)\n"
          "  -f, --format FMT           auto|moss|firefly|sharegpt|alpaca|csv|tsv (default auto: JSON records\n"
          "                             are recognized by their keys, *.csv and *.tsv files are CSV/TSV)\n"
          "      --max-line SIZE        longest line, CSV record or JSON document read (default 64M)\n"
          "  -j, --jobs N               worker threads for the per-record work (default 1)\n"
          "MOSS-003:\n"
          "      --moss-tools=MODE      drop|strip: conversations that call tools are dropped (reason\n"
          "                             tool-use) or kept without their tool parts (default drop)\n"
          "      --keep-meta            carry meta_instruction as \"system\"\n"
          "Normalization (always: MOSS markers, controls, zero-width characters and BOMs removed, line ends\n"
          "to LF, NFC, text trimmed, runs of blank lines collapsed):\n"
          "      --bad-utf8=MODE        replace|reject invalid UTF-8 (default replace, with U+FFFD)\n"
          "      --halfwidth            full-width ASCII and U+3000 to half-width (outside code blocks)\n"
          "      --t2s[=CONFIG]         Traditional to Simplified Chinese with OpenCC (default t2s.json),\n"
          "                             outside code blocks\n"
          "      --mask-pii             replace e-mails, phone numbers, Chinese ID numbers, IPv4 addresses\n"
          "                             and URLs with <EMAIL> <PHONE> <ID_NUMBER> <IP> <URL>\n"
          "Filters (a record is dropped when any message fails; 0 turns a maximum or ratio off):\n"
          "      --keep-empty           keep conversations with empty turns\n"
          "      --min-turn-chars N     characters per message (default 1)\n"
          "      --max-turn-chars N     (default 100000)\n"
          "      --min-conv-chars N     characters per conversation (default 4)\n"
          "      --max-conv-chars N     (default 1000000)\n"
          "      --max-repetition R     character n-gram repetition ratio (default 0.5)\n"
          "      --rep-ngram-cjk N      n for mostly-CJK messages (default 3)\n"
          "      --rep-ngram-latin N    n for other messages (default 10)\n"
          "      --rep-min-chars N      shorter messages are not tested (default 100)\n"
          "      --max-special R        special-character ratio (default 0.25)\n"
          "      --special-min-chars N  shorter messages are not tested (default 20)\n"
          "      --max-sentence-repeat R  share of repeated sentences in a reply (default 0.5)\n"
          "      --sentence-min-count N   replies with fewer sentences are not tested (default 6)\n"
          "      --max-loop-share R     share of a reply taken by one unit of up to 16 characters repeated\n"
          "                             back to back (default 0.3)\n"
          "      --loop-min-repeats N   repeats that make a loop (default 8)\n"
          "      --loop-min-chars N     shorter replies and loops are not tested (default 50)\n"
          "      --no-filters           turn off every quality filter above (empty turns still drop)\n"
          "Accounting:\n"
          "      --rejects FILE         every dropped or unparsable record, unchanged, with reason and file:line\n"
          "      --stats FILE           counts per reason as JSON\n"
          "      --strict               stop with exit 1 at the first unparsable record\n"
          "  -q, --quiet                errors only\n"
          "  -v, --verbose              also report every dropped record (with --version: build details)\n"
          "  -h, --help                 this help\n"
          "  -V, --version              version\n"
          "\n"
          "Exit status: 0 when every input was read (bad records are counted, not fatal), 1 when an input\n"
          "could not be read, output failed or --strict stopped, 2 for a usage error.\n",
          f);
}

enum {
    O_MAX_LINE = 256, O_MOSS_TOOLS, O_KEEP_META, O_BAD_UTF8, O_HALFWIDTH, O_T2S, O_MASK_PII, O_KEEP_EMPTY,
    O_MIN_TURN, O_MAX_TURN, O_MIN_CONV, O_MAX_CONV, O_MAX_REP, O_REP_CJK, O_REP_LATIN, O_REP_MIN,
    O_MAX_SPECIAL, O_SPECIAL_MIN, O_MAX_SENT, O_SENT_MIN, O_MAX_LOOP, O_LOOP_REPEATS, O_LOOP_MIN, O_NO_FILTERS, O_REJECTS, O_STATS, O_STRICT
};

static void parse_options(int argc, char **argv, options *o) {
    static const struct option longs[] = {
        {"output", required_argument, 0, 'o'},
        {"format", required_argument, 0, 'f'},
        {"max-line", required_argument, 0, O_MAX_LINE},
        {"jobs", required_argument, 0, 'j'},
        {"moss-tools", required_argument, 0, O_MOSS_TOOLS},
        {"keep-meta", no_argument, 0, O_KEEP_META},
        {"bad-utf8", required_argument, 0, O_BAD_UTF8},
        {"halfwidth", no_argument, 0, O_HALFWIDTH},
        {"t2s", optional_argument, 0, O_T2S},
        {"mask-pii", no_argument, 0, O_MASK_PII},
        {"keep-empty", no_argument, 0, O_KEEP_EMPTY},
        {"min-turn-chars", required_argument, 0, O_MIN_TURN},
        {"max-turn-chars", required_argument, 0, O_MAX_TURN},
        {"min-conv-chars", required_argument, 0, O_MIN_CONV},
        {"max-conv-chars", required_argument, 0, O_MAX_CONV},
        {"max-repetition", required_argument, 0, O_MAX_REP},
        {"rep-ngram-cjk", required_argument, 0, O_REP_CJK},
        {"rep-ngram-latin", required_argument, 0, O_REP_LATIN},
        {"rep-min-chars", required_argument, 0, O_REP_MIN},
        {"max-special", required_argument, 0, O_MAX_SPECIAL},
        {"special-min-chars", required_argument, 0, O_SPECIAL_MIN},
        {"max-sentence-repeat", required_argument, 0, O_MAX_SENT},
        {"sentence-min-count", required_argument, 0, O_SENT_MIN},
        {"max-loop-share", required_argument, 0, O_MAX_LOOP},
        {"loop-min-repeats", required_argument, 0, O_LOOP_REPEATS},
        {"loop-min-chars", required_argument, 0, O_LOOP_MIN},
        {"no-filters", no_argument, 0, O_NO_FILTERS},
        {"rejects", required_argument, 0, O_REJECTS},
        {"stats", required_argument, 0, O_STATS},
        {"strict", no_argument, 0, O_STRICT},
        {"quiet", no_argument, 0, 'q'},
        {"verbose", no_argument, 0, 'v'},
        {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},
        {0, 0, 0, 0},
    };
    static const char *const formats[] = {"auto", "moss", "firefly", "sharegpt", "alpaca", "csv", "tsv", NULL};
    static const char *const tools[] = {"drop", "strip", NULL};
    static const char *const utf8[] = {"replace", "reject", NULL};
    memset(o, 0, sizeof *o);
    clean_opts_default(&o->c);
    o->output = "-";
    o->max_line = 64u << 20;
    o->jobs = 1;
    int quiet = 0, version = 0, c;
    while ((c = getopt_long(argc, argv, "o:f:j:qvhV", longs, NULL)) != -1) {
        switch (c) {
        case 'o': o->output = optarg; break;
        case 'f':
            if ((o->c.format = ft_parse_choice(optarg, formats)) < 0)
                ft_cli_usage("invalid value for --format: '%s' (auto, moss, firefly, sharegpt, alpaca, csv, tsv)",
                            optarg);
            break;
        case O_MAX_LINE:
            if (ft_parse_size(optarg, 1024, (uint64_t)1 << 34, &o->max_line) < 0)
                ft_cli_usage("invalid value for --max-line: '%s' (expected a size 1K..16G)", optarg);
            break;
        case 'j': o->jobs = (int)ft_cli_count("jobs", optarg, 1, 256); break;
        case O_MOSS_TOOLS:
            if ((o->c.moss_tools = ft_parse_choice(optarg, tools)) < 0)
                ft_cli_usage("invalid value for --moss-tools: '%s' (drop, strip)", optarg);
            break;
        case O_KEEP_META: o->c.keep_meta = 1; break;
        case O_BAD_UTF8:
            if ((o->c.bad_utf8 = ft_parse_choice(optarg, utf8)) < 0)
                ft_cli_usage("invalid value for --bad-utf8: '%s' (replace, reject)", optarg);
            break;
        case O_HALFWIDTH: o->c.halfwidth = 1; break;
        case O_T2S:
            o->c.t2s = 1;
            if (optarg) o->c.t2s_config = optarg;
            break;
        case O_MASK_PII: o->c.mask_pii = 1; break;
        case O_KEEP_EMPTY: o->c.filter_empty = 0; break;
        case O_MIN_TURN: o->c.min_turn_chars = ft_cli_count("min-turn-chars", optarg, 0, UINT32_MAX); break;
        case O_MAX_TURN: o->c.max_turn_chars = ft_cli_count("max-turn-chars", optarg, 0, UINT64_MAX); break;
        case O_MIN_CONV: o->c.min_conv_chars = ft_cli_count("min-conv-chars", optarg, 0, UINT32_MAX); break;
        case O_MAX_CONV: o->c.max_conv_chars = ft_cli_count("max-conv-chars", optarg, 0, UINT64_MAX); break;
        case O_MAX_REP: o->c.max_rep_ratio = ft_cli_double("max-repetition", optarg, 0, 1); break;
        case O_REP_CJK: o->c.rep_ngram_cjk = (int)ft_cli_count("rep-ngram-cjk", optarg, 1, 64); break;
        case O_REP_LATIN: o->c.rep_ngram_latin = (int)ft_cli_count("rep-ngram-latin", optarg, 1, 64); break;
        case O_REP_MIN: o->c.rep_min_chars = ft_cli_count("rep-min-chars", optarg, 0, UINT32_MAX); break;
        case O_MAX_SPECIAL: o->c.max_special_ratio = ft_cli_double("max-special", optarg, 0, 1); break;
        case O_SPECIAL_MIN: o->c.special_min_chars = ft_cli_count("special-min-chars", optarg, 0, UINT32_MAX); break;
        case O_MAX_SENT: o->c.max_sentence_repeat = ft_cli_double("max-sentence-repeat", optarg, 0, 1); break;
        case O_SENT_MIN: o->c.sentence_min_count = ft_cli_count("sentence-min-count", optarg, 0, UINT32_MAX); break;
        case O_MAX_LOOP: o->c.max_loop_share = ft_cli_double("max-loop-share", optarg, 0, 1); break;
        case O_LOOP_REPEATS: o->c.loop_min_repeats = ft_cli_count("loop-min-repeats", optarg, 2, UINT32_MAX); break;
        case O_LOOP_MIN: o->c.loop_min_chars = ft_cli_count("loop-min-chars", optarg, 0, UINT32_MAX); break;
        case O_NO_FILTERS:
            o->c.min_turn_chars = o->c.max_turn_chars = o->c.min_conv_chars = o->c.max_conv_chars = 0;
            o->c.max_rep_ratio = o->c.max_special_ratio = o->c.max_sentence_repeat = o->c.max_loop_share = 0;
            break;
        case O_REJECTS: o->rejects = optarg; break;
        case O_STATS: o->stats = optarg; break;
        case O_STRICT: o->strict = 1; break;
        case 'q': quiet = 1; break;
        case 'v': o->verbose++; break;
        case 'h': usage(stdout); exit(fclose(stdout) ? 1 : 0);
        case 'V': version = 1; break;
        default: fputs("Try 'ft-clean --help'.\n", stderr); exit(2);
        }
    }
    if (version) {
        printf(PROG " (ft) " FT_VERSION "\n");
        if (o->verbose)
            printf("build: %s; cJSON %s, utf8proc %s, OpenCC\n", FT_BUILD_INFO, cJSON_Version(), utf8proc_version());
        exit(fclose(stdout) ? 1 : 0);
    }
    ft_log_init(PROG, quiet ? FT_LOG_QUIET : FT_LOG_NORMAL + o->verbose);
    if (o->rejects && !strcmp(o->rejects, "-")) ft_cli_usage("--rejects cannot be stdout");
    if (o->stats && !strcmp(o->stats, "-")) ft_cli_usage("--stats cannot be stdout");
}

/* ---- batches ----------------------------------------------------------------------------------- */

enum item_kind { IT_JSON, IT_CSV, IT_VALUE, IT_PRESET };

typedef struct {
    int kind;
    size_t raw_off, raw_len; /* in the batch arena: the record's bytes as read */
    size_t col_off[4];       /* IT_CSV: category, system, human, assistant (SIZE_MAX = absent) */
    uint64_t row;            /* IT_CSV: data row; IT_VALUE: element index */
    cJSON *value;            /* IT_VALUE */
    const char *where;       /* file name (borrowed) */
    uint64_t line;
    int truncated;           /* raw is only a prefix (over-long line) */
    uint64_t full_len;
} item;

typedef struct {
    item items[BATCH_ITEMS];
    clean_result res[BATCH_ITEMS];
    size_t n;
    ft_buf arena;
} batch;

static void process_item(clean_ctx *c, batch *b, size_t i) {
    item *it = &b->items[i];
    clean_result *r = &b->res[i];
    const char *raw = b->arena.data + it->raw_off;
    switch (it->kind) {
    case IT_JSON: clean_json_text(c, raw, it->raw_len, r); break;
    case IT_VALUE: clean_json_value(c, it->value, r), it->value = NULL; break;
    case IT_CSV: {
        const char *col[4];
        for (int k = 0; k < 4; k++) col[k] = it->col_off[k] == SIZE_MAX ? NULL : b->arena.data + it->col_off[k];
        clean_csv_row(c, col[0], col[1], col[2], col[3], it->row, r);
        break;
    }
    default: break; /* IT_PRESET: decided by the reader */
    }
}

/* ---- the run: inputs, outputs, counts ---------------------------------------------------------- */

typedef struct {
    options *o;
    ft_pool *pool;
    clean_ctx **ctx; /* (jobs) one per worker */
    batch *b;
    ft_atomic *out, *rej;
    FILE *outf, *rejf;
    uint64_t in, kept, by_reason[R_COUNT], fixes[F_COUNT], bytes, bytes_done, total_bytes, warnings;
    int failed, stopped;
    ft_progress prog;
    ft_buf line;
} run;

static void write_reject(run *R, const item *it, const clean_result *r, const char *raw) {
    ft_buf *l = &R->line;
    ft_buf_clear(l);
    ft_buf_adds(l, "{\"reason\":");
    const char *name = clean_reason_name(r->reason);
    ft_json_put_string(l, name, strlen(name));
    ft_buf_addf(l, ",\"where\":");
    char where[512];
    snprintf(where, sizeof where, "%s:%llu", it->where, (unsigned long long)it->line);
    ft_json_put_string(l, where, strlen(where));
    ft_buf_adds(l, ",\"detail\":");
    ft_json_put_string(l, r->detail, strlen(r->detail));
    if (it->truncated) ft_buf_addf(l, ",\"truncated\":true,\"bytes\":%llu", (unsigned long long)it->full_len);
    ft_buf_adds(l, ",\"raw\":");
    ft_json_put_string(l, raw, it->raw_len);
    ft_buf_adds(l, "}\n");
    fwrite(l->data, 1, l->len, R->rejf);
}

static void run_item(void *arg, size_t i, int worker) {
    run *R = arg;
    process_item(R->ctx[worker], R->b, i);
}

static void flush_batch(run *R) {
    batch *b = R->b;
    if (!b->n) return;
    ft_pool_run(R->pool, b->n, 16, run_item, R);
    for (size_t i = 0; i < b->n && !R->stopped; i++) {
        item *it = &b->items[i];
        clean_result *r = &b->res[i];
        R->in++;
        if (r->reason == R_KEPT) {
            for (int k = 0; k < F_COUNT; k++) R->fixes[k] += r->fixes[k];
            R->kept++;
            fwrite(r->out.data, 1, r->out.len, R->outf);
            continue;
        }
        R->by_reason[r->reason]++;
        int rej = clean_reason_is_reject(r->reason);
        if (rej && R->o->strict) {
            ft_error("%s:%llu: %s: %s (--strict)", it->where, (unsigned long long)it->line,
                     clean_reason_name(r->reason), r->detail);
            R->stopped = R->failed = 1;
        } else if (rej ? R->warnings++ < MAX_WARNINGS : ft_log_level() >= FT_LOG_VERBOSE) {
            ft_warn("%s:%llu: %s: %s", it->where, (unsigned long long)it->line, clean_reason_name(r->reason),
                    r->detail);
            if (rej && R->warnings == MAX_WARNINGS)
                ft_warn("further unparsable records are counted but not reported%s",
                        R->o->rejects ? " here (see --rejects)" : "");
        }
        if (R->rejf) write_reject(R, it, r, b->arena.data + it->raw_off);
    }
    for (size_t i = 0; i < b->n; i++) cJSON_Delete(b->items[i].value), b->items[i].value = NULL;
    b->n = 0;
    ft_buf_clear(&b->arena);
    ft_progress_update(&R->prog, R->in, R->bytes);
}

static item *add_item(run *R, int kind, const char *where, uint64_t line, const char *raw, size_t len) {
    batch *b = R->b;
    if (b->n == BATCH_ITEMS || (b->n && b->arena.len + len > BATCH_BYTES)) flush_batch(R);
    item *it = &b->items[b->n];
    clean_result_reset(&b->res[b->n]);
    b->n++;
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->where = where;
    it->line = line;
    it->raw_off = b->arena.len;
    it->raw_len = len;
    ft_buf_add(&b->arena, raw, len);
    ft_buf_addc(&b->arena, 0);
    return it;
}

static void add_preset(run *R, const char *where, uint64_t line, const char *raw, size_t len, int reason,
                       const char *detail) {
    item *it = add_item(R, IT_PRESET, where, line, raw, len);
    clean_result *r = &R->b->res[R->b->n - 1];
    r->reason = reason;
    snprintf(r->detail, sizeof r->detail, "%s", detail);
    (void)it;
}

static void add_too_large(run *R, const char *where, uint64_t line, const char *prefix, size_t full) {
    char d[128];
    snprintf(d, sizeof d, "record of %zu bytes exceeds --max-line %llu", full, (unsigned long long)R->o->max_line);
    size_t keep = strnlen(prefix, 4096);
    add_preset(R, where, line, prefix, keep, R_TOO_LARGE, d);
    item *it = &R->b->items[R->b->n - 1];
    it->truncated = 1;
    it->full_len = full;
}

static int only_brackets(const char *s, size_t n) {
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '{' || s[i] == '[') any = 1;
        else if (!strchr(" \t\r", s[i])) return 0;
    }
    return any;
}

/* A pretty-printed JSON file: one object, or an array of objects. */
static int read_document(run *R, ft_lines *L, const char *where, const char *first, size_t flen) {
    ft_buf doc;
    ft_buf_init(&doc);
    ft_buf_add(&doc, first, flen);
    uint64_t start = ft_lines_lineno(L);
    const char *s;
    size_t n;
    int rc;
    while ((rc = ft_lines_next(L, &s, &n)) != 0) {
        if (rc == FT_EIO) break;
        if (rc == FT_ETOOBIG || doc.len + n + 1 > R->o->max_line) {
            while (rc > 0 || rc == FT_ETOOBIG) rc = ft_lines_next(L, &s, &n);
            add_too_large(R, where, start, doc.data, doc.len + n);
            ft_buf_release(&doc);
            return rc == FT_EIO ? rc : 0;
        }
        ft_buf_addc(&doc, '\n');
        ft_buf_add(&doc, s, n);
    }
    if (rc == FT_EIO) {
        ft_buf_release(&doc);
        return rc;
    }
    cJSON *v;
    size_t off;
    if (ft_json_parse(doc.data, doc.len, &v, &off) < 0) {
        uint64_t line = start;
        for (size_t i = 0; i < off && i < doc.len; i++) line += doc.data[i] == '\n';
        char d[96];
        if (off >= doc.len) snprintf(d, sizeof d, "truncated JSON document");
        else snprintf(d, sizeof d, "JSON syntax error at line %llu", (unsigned long long)line);
        add_preset(R, where, start, doc.data, doc.len, R_BAD_JSON, d);
    } else if (cJSON_IsArray(v)) {
        uint64_t idx = 0;
        while (v->child) {
            cJSON *e = cJSON_DetachItemViaPointer(v, v->child);
            char *text = R->rejf ? cJSON_PrintUnformatted(e) : NULL;
            item *it = add_item(R, IT_VALUE, where, start, text ? text : "", text ? strlen(text) : 0);
            it->value = e;
            it->row = ++idx;
            free(text);
        }
        cJSON_Delete(v);
    } else {
        /* one object: parsed again from its text, which keeps its numbers as written */
        cJSON_Delete(v);
        add_item(R, IT_JSON, where, start, doc.data, doc.len);
    }
    ft_buf_release(&doc);
    return 0;
}

static int read_jsonl(run *R, ft_lines *L, const char *where) {
    const char *s;
    size_t n;
    int rc, first = 1;
    while ((rc = ft_lines_next(L, &s, &n)) != 0 && !R->stopped) {
        R->bytes = ft_lines_offset(L) + R->bytes_done;
        if (rc == FT_EIO) return rc;
        uint64_t line = ft_lines_lineno(L);
        if (rc == FT_ETOOBIG) {
            add_too_large(R, where, line, s, n);
            first = 0;
            continue;
        }
        size_t k = 0;
        while (k < n && strchr(" \t\r", s[k])) k++;
        if (k == n) continue; /* blank lines are not records */
        if (first && only_brackets(s, n)) return read_document(R, L, where, s, n);
        first = 0;
        add_item(R, IT_JSON, where, line, s, n);
    }
    return 0;
}

/* CSV column roles, by header name. */
enum { COL_CATEGORY, COL_SYSTEM, COL_HUMAN, COL_ASSISTANT };

static int column_role(const char *s, size_t n) {
    static const struct {
        const char *name;
        int role;
    } names[] = {{"category", COL_CATEGORY}, {"system", COL_SYSTEM},       {"human", COL_HUMAN},
                 {"instruction", COL_HUMAN}, {"question", COL_HUMAN},      {"prompt", COL_HUMAN},
                 {"query", COL_HUMAN},       {"user", COL_HUMAN},          {"assistant", COL_ASSISTANT},
                 {"output", COL_ASSISTANT},  {"answer", COL_ASSISTANT},    {"response", COL_ASSISTANT},
                 {"gpt", COL_ASSISTANT}};
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strlen(names[i].name) == n && !strncasecmp(s, names[i].name, n)) return names[i].role;
    return -1;
}

static int read_csv(run *R, ft_lines *L, const char *where, char delim) {
    ft_csv *csv = ft_csv_new(L, delim);
    ft_csv_record rec;
    int col[4] = {0, -1, 1, 2}; /* positional: category, human, assistant */
    size_t want = 3;
    uint64_t row = 0;
    int rc, first = 1;
    while ((rc = ft_csv_next(csv, &rec)) != 0 && !R->stopped) {
        R->bytes = ft_lines_offset(L) + R->bytes_done;
        if (rc == FT_EIO) break;
        if (rc == FT_ETOOBIG) {
            add_too_large(R, where, rec.lineno, rec.raw, rec.raw_len);
            continue;
        }
        if (rc == FT_EPARSE) {
            add_preset(R, where, rec.lineno, rec.raw, rec.raw_len, R_BAD_CSV, ft_csv_error(csv));
            first = 0;
            continue;
        }
        if (first) {
            first = 0;
            int roles[4] = {-1, -1, -1, -1}, named = 0;
            for (size_t k = 0; k < rec.nfields; k++) {
                int r = column_role(rec.field[k], rec.len[k]);
                if (r >= 0 && roles[r] < 0) roles[r] = (int)k, named++;
            }
            if (roles[COL_HUMAN] >= 0 && roles[COL_ASSISTANT] >= 0) {
                memcpy(col, roles, sizeof col);
                want = rec.nfields;
                ft_verbose("%s: header row with %zu columns", where, want);
                continue;
            }
            if (named >= 2) ft_warn("%s:1: header not recognized: it needs human and assistant columns", where);
        }
        row++;
        if (rec.nfields != want) {
            char d[96];
            snprintf(d, sizeof d, "expected %zu fields, got %zu", want, rec.nfields);
            add_preset(R, where, rec.lineno, rec.raw, rec.raw_len, R_BAD_CSV, d);
            continue;
        }
        /* the arena holds raw bytes, then each column NUL-terminated */
        item *it = add_item(R, IT_CSV, where, rec.lineno, rec.raw, rec.raw_len);
        it->row = row;
        for (int k = 0; k < 4; k++) {
            if (col[k] < 0) {
                it->col_off[k] = SIZE_MAX;
                continue;
            }
            it->col_off[k] = R->b->arena.len;
            ft_buf_add(&R->b->arena, rec.field[col[k]], rec.len[col[k]]);
            ft_buf_addc(&R->b->arena, 0);
        }
    }
    ft_csv_free(csv);
    return rc == FT_EIO ? rc : 0;
}

static int has_suffix(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcasecmp(s + n - m, suf);
}

static void read_input(run *R, const char *path) {
    const char *where = !strcmp(path, "-") ? "<stdin>" : path;
    ft_lines *L;
    if (ft_lines_open(path, R->o->max_line, &L) < 0) {
        ft_error("cannot open input: '%s': %s", path, strerror(errno));
        R->failed = 1;
        return;
    }
    int fmt = R->o->c.format, rc;
    if (fmt == FMT_AUTO) fmt = has_suffix(path, ".csv") ? FMT_CSV : has_suffix(path, ".tsv") ? FMT_TSV : FMT_AUTO;
    if (fmt == FMT_CSV || fmt == FMT_TSV) rc = read_csv(R, L, where, fmt == FMT_CSV ? ',' : '\t');
    else rc = read_jsonl(R, L, where);
    if (rc == FT_EIO) {
        ft_error("read error: '%s': %s", path, strerror(errno));
        R->failed = 1;
    }
    R->bytes_done += ft_lines_offset(L);
    ft_lines_free(L);
}

static void write_stats(run *R, FILE *f, double secs) {
    cJSON *s = cJSON_CreateObject(), *d = cJSON_CreateObject(), *j = cJSON_CreateObject(),
          *x = cJSON_CreateObject();
    uint64_t dropped = 0, rejected = 0;
    for (int r = 1; r < R_COUNT; r++) {
        if (clean_reason_is_reject(r)) rejected += R->by_reason[r];
        else dropped += R->by_reason[r];
        if (R->by_reason[r])
            cJSON_AddNumberToObject(clean_reason_is_reject(r) ? j : d, clean_reason_name(r), (double)R->by_reason[r]);
    }
    for (int k = 0; k < F_COUNT; k++)
        if (R->fixes[k]) cJSON_AddNumberToObject(x, clean_fix_name(k), (double)R->fixes[k]);
    cJSON_AddNumberToObject(s, "in", (double)R->in);
    cJSON_AddNumberToObject(s, "kept", (double)R->kept);
    cJSON_AddNumberToObject(s, "dropped", (double)dropped);
    cJSON_AddNumberToObject(s, "rejected", (double)rejected);
    cJSON_AddItemToObject(s, "dropped_by_reason", d);
    cJSON_AddItemToObject(s, "rejected_by_reason", j);
    cJSON_AddItemToObject(s, "fixes", x);
    cJSON_AddNumberToObject(s, "bytes", (double)R->bytes_done);
    cJSON_AddNumberToObject(s, "seconds", secs);
    char *p = cJSON_Print(s);
    fprintf(f, "%s\n", p);
    cJSON_free(p);
    cJSON_Delete(s);
}

static void summary(run *R, double secs) {
    ft_buf l;
    ft_buf_init(&l);
    uint64_t dropped = 0, rejected = 0;
    for (int r = 1; r < R_COUNT; r++) *(clean_reason_is_reject(r) ? &rejected : &dropped) += R->by_reason[r];
    ft_buf_addf(&l, "%llu in, %llu kept, %llu dropped", (unsigned long long)R->in, (unsigned long long)R->kept,
                (unsigned long long)dropped);
    for (int pass = 0; pass < 2; pass++) {
        int any = 0;
        for (int r = 1; r < R_COUNT; r++)
            if (R->by_reason[r] && clean_reason_is_reject(r) == pass) {
                ft_buf_addf(&l, "%s%s %llu", any ? ", " : " (", clean_reason_name(r),
                            (unsigned long long)R->by_reason[r]);
                any = 1;
            }
        if (any) ft_buf_addc(&l, ')');
        if (!pass) ft_buf_addf(&l, ", %llu rejected", (unsigned long long)rejected);
    }
    ft_buf_addf(&l, " in %.2fs (%.0f records/s, %.1f MB/s)", secs, secs > 0 ? (double)R->in / secs : 0,
                secs > 0 ? (double)R->bytes_done / 1e6 / secs : 0);
    ft_info("%s", l.data);
    ft_buf_clear(&l);
    for (int k = 0; k < F_COUNT; k++)
        if (R->fixes[k]) ft_buf_addf(&l, "%s%s %llu", l.len ? ", " : "", clean_fix_name(k), (unsigned long long)R->fixes[k]);
    if (l.len) ft_verbose("fixes: %s", l.data);
    ft_buf_release(&l);
}

int main(int argc, char **argv) {
    ft_cli_init(PROG, "Usage: ft-clean [OPTIONS] [FILE...]");
    options o;
    parse_options(argc, argv, &o);
    run R;
    memset(&R, 0, sizeof R);
    R.o = &o;
    /* Outputs first: a failure before any thread or buffer exists needs no clean-up. */
    if (ft_atomic_open(o.output, &R.out) < 0) {
        ft_error("cannot create output: '%s': %s", o.output, strerror(errno));
        return 1;
    }
    R.outf = ft_atomic_stream(R.out);
    static char obuf[1 << 20];
    if (R.outf == stdout) setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    if (o.rejects) {
        if (ft_atomic_open(o.rejects, &R.rej) < 0) {
            ft_error("cannot create rejects file: '%s': %s", o.rejects, strerror(errno));
            ft_atomic_abort(R.out);
            return 1;
        }
        R.rejf = ft_atomic_stream(R.rej);
    }
    const char *err = NULL;
    R.ctx = ft_xmalloc((size_t)o.jobs * sizeof *R.ctx);
    for (int i = 0; i < o.jobs; i++)
        if (!(R.ctx[i] = clean_ctx_new(&o.c, &err))) {
            ft_error("--t2s: '%s': %s", o.c.t2s_config, err);
            while (i-- > 0) clean_ctx_free(R.ctx[i]);
            free(R.ctx);
            ft_atomic_abort(R.out);
            ft_atomic_abort(R.rej);
            return 1;
        }
    R.b = ft_xmalloc(sizeof *R.b);
    memset(R.b, 0, sizeof *R.b);
    int started;
    if (!(R.pool = ft_pool_new(o.jobs, &started))) ft_assert_fail("ft_pool_new", __FILE__, __LINE__);
    if (started < o.jobs) ft_warn("cannot start all worker threads; going on with %d", started);

    int ninputs;
    char **inputs = ft_cli_inputs(argc, argv, optind, &ninputs);
    R.total_bytes = ft_cli_input_bytes(inputs, ninputs);
    double t0 = ft_now();
    ft_progress_init(&R.prog, PROG, R.total_bytes);
    for (int i = 0; i < ninputs && !R.stopped; i++) {
        read_input(&R, inputs[i]);
        if (!R.stopped) flush_batch(&R);
    }
    flush_batch(&R);
    ft_progress_release(&R.prog);
    double secs = ft_now() - t0;

    ft_pool_free(R.pool);

    int rc = R.failed && R.stopped ? 1 : 0;
    if (R.stopped) {
        ft_atomic_abort(R.out);
        ft_atomic_abort(R.rej);
    } else {
        if (ft_atomic_commit(R.out) < 0) {
            ft_error("cannot write output: '%s': %s", o.output, strerror(errno));
            rc = 1;
        }
        if (R.rej && ft_atomic_commit(R.rej) < 0) {
            ft_error("cannot write rejects file: '%s': %s", o.rejects, strerror(errno));
            rc = 1;
        }
    }
    if (o.stats && !R.stopped) {
        ft_atomic *st;
        if (ft_atomic_open(o.stats, &st) < 0) {
            ft_error("cannot create stats file: '%s': %s", o.stats, strerror(errno));
            rc = 1;
        } else {
            write_stats(&R, ft_atomic_stream(st), secs);
            if (ft_atomic_commit(st) < 0) {
                ft_error("cannot write stats file: '%s': %s", o.stats, strerror(errno));
                rc = 1;
            }
        }
    }
    summary(&R, secs);
    if (R.failed) rc = 1;
    for (int i = 0; i < o.jobs; i++) clean_ctx_free(R.ctx[i]);
    for (size_t i = 0; i < BATCH_ITEMS; i++) ft_buf_release(&R.b->res[i].out);
    ft_buf_release(&R.b->arena);
    ft_buf_release(&R.line);
    free(R.b), free(R.ctx);
    if (fclose(stdout) != 0 && rc == 0) {
        ft_error("cannot write output: '<stdout>': %s", strerror(errno));
        rc = 1;
    }
    return rc;
}
