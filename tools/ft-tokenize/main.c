/* ft-tokenize: conversation JSONL to the token stream (ids + loss mask) with a chat template, as Firefly
 * builds its SFT data; also --decode (a stream back to marked text) and --encode-text (tokenizer checks).
 * Rule: main.c owns options, files, threads, messages and exit status; record.c decides one record.
 * Records go through in batches so the output never depends on -j. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "atomic.h"
#include "json.h"
#include "lines.h"
#include "log.h"
#include "parse.h"
#include "pool.h"
#include "tokenize.h"
#include "tokstream.h"

#ifndef FT_BUILD_INFO
#define FT_BUILD_INFO "unknown configuration"
#endif

#define PROG "ft-tokenize"
#define BATCH_ITEMS 1024
#define BATCH_BYTES (4u << 20)
#define MAX_WARNINGS 50

/* ---- options ----------------------------------------------------------------------------------- */

enum { MODE_ENCODE, MODE_DECODE, MODE_TEXT, MODE_LIST };
enum { FMT_STREAM, FMT_JSONL };

typedef struct {
    const char *tokenizer, *template_arg, *output, *rejects, *stats, *text_sep;
    int mode, format, jobs, strict, verbose, force, hf_special, overlong;
    uint64_t max_seq_len, max_line;
} options;

static void usage(FILE *f) {
    fputs("Usage: ft-tokenize --tokenizer PATH --template NAME|FILE.json [OPTIONS] [FILE...]\n"
          "       ft-tokenize --decode [--tokenizer PATH] [FILE]\n"
          "       ft-tokenize --encode-text --tokenizer PATH [--text-sep LINE] [FILE...]\n"
          "Turn conversation JSONL into token ids and a loss mask with a chat template, exactly as Firefly\n"
          "builds its SFT data. Reads FILEs or stdin ('-'); writes the binary token stream to stdout or -o FILE.\n"
          "\n"
          "Tokenizer and template:\n"
          "  -t, --tokenizer PATH       tokenizer.model (SentencePiece), qwen.tiktoken, or a model directory\n"
          "                             holding tokenizer.model, tokenizer.json or vocab.json + merges.txt\n"
          "  -T, --template NAME|FILE   default, qwen, baichuan, baichuan2, llama2, firefly-v1, or a JSON file\n"
          "                             with Firefly's register_template fields\n"
          "      --list-templates       print the built-in templates and exit\n"
          "      --hf-special-tokens    special-token strings inside content become special ids, as in Hugging\n"
          "                             Face and Firefly (default: content is always text)\n"
          "Length:\n"
          "      --max-seq-len N        tokens per sequence, 0 = no limit (default 0)\n"
          "      --overlong POLICY      truncate|drop|split: keep the head (Firefly), drop the record, or cut\n"
          "                             between turns repeating the system prompt (default truncate)\n"
          "Output:\n"
          "  -o, --output FILE          write to FILE atomically (temp file + rename)\n"
          "      --format FMT           stream|jsonl: the binary token stream (default), or one\n"
          "                             {\"input_ids\":[...],\"loss_mask\":[...]} line per sequence\n"
          "  -f, --force                write the binary stream to a terminal\n"
          "  -j, --jobs N               worker threads (default 1); the output does not depend on N\n"
          "      --max-line SIZE        longest input line (default 64M)\n"
          "Other modes:\n"
          "      --decode               read a token stream (FILE or stdin), print each sequence as text with\n"
          "                             the trained tokens between \xe2\x9f\xa6 and \xe2\x9f\xa7 (with --tokenizer; without, the ids)\n"
          "      --encode-text          read raw text, print the ids of each text on one line\n"
          "      --text-sep LINE        with --encode-text: texts are separated by lines equal to LINE\n"
          "                             (default: every line is a text)\n"
          "Accounting:\n"
          "      --rejects FILE         every unusable record, unchanged, one per line\n"
          "      --stats FILE           counts as JSON\n"
          "      --strict               stop with exit 1 at the first unusable record\n"
          "  -q, --quiet                errors only\n"
          "  -v, --verbose              also report every dropped record and the options (with --version: build)\n"
          "  -h, --help                 this help\n"
          "  -V, --version              version\n"
          "\n"
          "Exit status: 0 when every input was read (bad records are counted, not fatal), 1 when an input\n"
          "could not be read, output failed or --strict stopped, 2 for a usage error.\n",
          f);
}

enum { O_LIST = 256, O_HF, O_MAX_SEQ, O_OVERLONG, O_FORMAT, O_MAX_LINE, O_DECODE, O_TEXT, O_SEP, O_REJECTS, O_STATS,
       O_STRICT };

static void parse_options(int argc, char **argv, options *o) {
    static const struct option longs[] = {
        {"tokenizer", required_argument, 0, 't'},
        {"template", required_argument, 0, 'T'},
        {"list-templates", no_argument, 0, O_LIST},
        {"hf-special-tokens", no_argument, 0, O_HF},
        {"max-seq-len", required_argument, 0, O_MAX_SEQ},
        {"overlong", required_argument, 0, O_OVERLONG},
        {"output", required_argument, 0, 'o'},
        {"format", required_argument, 0, O_FORMAT},
        {"force", no_argument, 0, 'f'},
        {"jobs", required_argument, 0, 'j'},
        {"max-line", required_argument, 0, O_MAX_LINE},
        {"decode", no_argument, 0, O_DECODE},
        {"encode-text", no_argument, 0, O_TEXT},
        {"text-sep", required_argument, 0, O_SEP},
        {"rejects", required_argument, 0, O_REJECTS},
        {"stats", required_argument, 0, O_STATS},
        {"strict", no_argument, 0, O_STRICT},
        {"quiet", no_argument, 0, 'q'},
        {"verbose", no_argument, 0, 'v'},
        {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},
        {0, 0, 0, 0},
    };
    static const char *const policies[] = {"truncate", "drop", "split", NULL};
    static const char *const formats[] = {"stream", "jsonl", NULL};
    memset(o, 0, sizeof *o);
    o->output = "-";
    o->max_line = 64u << 20;
    o->jobs = 1;
    int quiet = 0, version = 0, c;
    while ((c = getopt_long(argc, argv, "t:T:o:fj:qvhV", longs, NULL)) != -1) {
        switch (c) {
        case 't': o->tokenizer = optarg; break;
        case 'T': o->template_arg = optarg; break;
        case O_LIST: o->mode = MODE_LIST; break;
        case O_HF: o->hf_special = 1; break;
        case O_MAX_SEQ:
            o->max_seq_len = ft_cli_count("max-seq-len", optarg, 0, FT_TOKSTREAM_MAX_TOKENS);
            break;
        case O_OVERLONG:
            if ((o->overlong = ft_parse_choice(optarg, policies)) < 0)
                ft_cli_usage("invalid value for --overlong: '%s' (truncate, drop, split)", optarg);
            break;
        case 'o': o->output = optarg; break;
        case O_FORMAT:
            if ((o->format = ft_parse_choice(optarg, formats)) < 0)
                ft_cli_usage("invalid value for --format: '%s' (stream, jsonl)", optarg);
            break;
        case 'f': o->force = 1; break;
        case 'j':
            o->jobs = (int)ft_cli_count("jobs", optarg, 1, 256);
            break;
        case O_MAX_LINE:
            if (ft_parse_size(optarg, 1024, (uint64_t)1 << 34, &o->max_line) < 0)
                ft_cli_usage("invalid value for --max-line: '%s' (expected a size 1K..16G)", optarg);
            break;
        case O_DECODE: o->mode = MODE_DECODE; break;
        case O_TEXT: o->mode = MODE_TEXT; break;
        case O_SEP: o->text_sep = optarg; break;
        case O_REJECTS: o->rejects = optarg; break;
        case O_STATS: o->stats = optarg; break;
        case O_STRICT: o->strict = 1; break;
        case 'q': quiet = 1; break;
        case 'v': o->verbose++; break;
        case 'h': usage(stdout); exit(fclose(stdout) ? 1 : 0);
        case 'V': version = 1; break;
        default: fputs("Try 'ft-tokenize --help'.\n", stderr); exit(2);
        }
    }
    if (version) {
        printf(PROG " (ft) " FT_VERSION "\n");
        if (o->verbose) printf("build: %s; cJSON %s, SentencePiece\n", FT_BUILD_INFO, cJSON_Version());
        exit(fclose(stdout) ? 1 : 0);
    }
    ft_log_init(PROG, quiet ? FT_LOG_QUIET : FT_LOG_NORMAL + o->verbose);
    if (o->mode == MODE_LIST) return;
    if (o->mode != MODE_DECODE && !o->tokenizer) ft_cli_usage("--tokenizer is required");
    if (o->mode == MODE_ENCODE && !o->template_arg) ft_cli_usage("--template is required");
    if (o->text_sep && o->mode != MODE_TEXT) ft_cli_usage("--text-sep goes with --encode-text");
    if (o->mode == MODE_DECODE && argc - optind > 1) ft_cli_usage("--decode reads one stream (FILE or stdin)");
    if (o->rejects && !strcmp(o->rejects, "-")) ft_cli_usage("--rejects cannot be stdout");
    if (o->stats && !strcmp(o->stats, "-")) ft_cli_usage("--stats cannot be stdout");
}

static ft_tokenizer *open_tokenizer(const char *path) {
    ft_tokenizer *tk;
    ft_buf why;
    ft_buf_init(&why);
    int rc = ft_tokenizer_open(path, &tk, &why);
    if (rc < 0) ft_error("cannot load tokenizer: '%s': %s", path, why.len ? why.data : ft_strerror(rc));
    ft_buf_release(&why);
    return rc < 0 ? NULL : tk;
}

/* ---- batches of records ------------------------------------------------------------------------ */

typedef struct {
    size_t raw_off, raw_len;
    const char *where;
    uint64_t line, index;
    uint64_t too_large; /* the full length of an over-long line (raw holds its first bytes), else 0 */
} item;

typedef struct {
    int reason;
    char detail[160];
    ft_buf out;   /* serialized sequences */
    uint64_t pieces, tokens, masked;
    int truncated, split;
} result;

typedef struct {
    item items[BATCH_ITEMS];
    result res[BATCH_ITEMS];
    size_t n;
    ft_buf arena;
} batch;

typedef struct {
    const options *o;
    tok_opts to;
    tok_ctx *ctx;   /* (jobs) */
    ft_ids *ids;    /* (jobs) piece scratch */
    ft_buf *mask;   /* (jobs) */
    ft_pool *pool;
    batch *b;
    FILE *outf, *rejf;
    uint64_t in, out, rejected, dropped, by_reason[TOK_REASONS], sequences, tokens, masked, truncated, split;
    uint64_t bytes, bytes_done, total_bytes, warnings;
    int failed, stopped;
    ft_progress prog;
} run;

static void put_u64(ft_buf *b, uint64_t v) {
    char s[24];
    int k = 24;
    do s[--k] = (char)('0' + v % 10), v /= 10;
    while (v);
    ft_buf_add(b, s + k, (size_t)(24 - k));
}

static void put_jsonl(ft_buf *b, const uint32_t *ids, const uint8_t *mask, size_t n) {
    ft_buf_reserve(b, 34 + 12 * n);
    ft_buf_adds(b, "{\"input_ids\":[");
    for (size_t i = 0; i < n; i++) {
        if (i) ft_buf_addc(b, ',');
        put_u64(b, ids[i]);
    }
    ft_buf_adds(b, "],\"loss_mask\":[");
    for (size_t i = 0; i < n; i++) ft_buf_add(b, i ? (mask[i] ? ",1" : ",0") : (mask[i] ? "1" : "0"), i ? 2 : 1);
    ft_buf_adds(b, "]}\n");
}

static void process_item(void *arg, size_t i, int w) {
    run *R = arg;
    batch *b = R->b;
    item *it = &b->items[i];
    result *r = &b->res[i];
    tok_ctx *c = &R->ctx[w];
    r->pieces = r->tokens = r->masked = 0;
    r->truncated = r->split = 0;
    ft_buf_clear(&r->out);
    if (it->too_large) {
        r->reason = TOK_TOO_LARGE;
        snprintf(r->detail, sizeof r->detail, "line of %llu bytes exceeds --max-line %llu",
                 (unsigned long long)it->too_large, (unsigned long long)R->o->max_line);
        return;
    }
    r->reason = tok_record(c, &R->to, b->arena.data + it->raw_off, it->raw_len);
    if (r->reason != TOK_OK) {
        memcpy(r->detail, c->detail, sizeof r->detail);
        return;
    }
    r->truncated = c->truncated;
    r->split = c->split;
    for (size_t k = 0; k < c->npieces; k++) {
        ft_ids *ids = &R->ids[w];
        ft_buf *mask = &R->mask[w];
        tok_piece_get(c, k, ids, mask);
        const uint8_t *m = (const uint8_t *)mask->data;
        if (R->o->format == FMT_JSONL) put_jsonl(&r->out, ids->v, m, ids->n);
        else ft_tokstream_put_record(&r->out, it->index, ids->v, m, ids->n);
        r->pieces++;
        r->tokens += ids->n;
        for (size_t j = 0; j < ids->n; j++) r->masked += m[j];
    }
}

static void flush_batch(run *R) {
    batch *b = R->b;
    if (!b->n) return;
    ft_pool_run(R->pool, b->n, 8, process_item, R);
    for (size_t i = 0; i < b->n && !R->stopped; i++) {
        item *it = &b->items[i];
        result *r = &b->res[i];
        R->in++;
        if (r->reason == TOK_OK) {
            R->out++;
            R->sequences += r->pieces;
            R->tokens += r->tokens;
            R->masked += r->masked;
            R->truncated += r->truncated != 0;
            R->split += r->split != 0;
            if (fwrite(r->out.data, 1, r->out.len, R->outf) != r->out.len) {
                ft_error("cannot write output: '%s': %s", R->o->output, strerror(errno));
                R->stopped = R->failed = 1;
            }
            continue;
        }
        R->by_reason[r->reason]++;
        int rej = r->reason != TOK_DROPPED_OVERLONG;
        if (rej) R->rejected++;
        else R->dropped++;
        if (rej && R->o->strict) {
            ft_error("%s:%llu: %s: %s (--strict)", it->where, (unsigned long long)it->line,
                     tok_reason_name(r->reason), r->detail);
            R->stopped = R->failed = 1;
        } else if (rej ? R->warnings++ < MAX_WARNINGS : ft_log_level() >= FT_LOG_VERBOSE) {
            ft_warn("%s:%llu: %s: %s", it->where, (unsigned long long)it->line, tok_reason_name(r->reason),
                    r->detail);
            if (rej && R->warnings == MAX_WARNINGS)
                ft_warn("further unusable records are counted but not reported%s",
                        R->o->rejects ? " here (see --rejects)" : "");
        }
        if (rej && R->rejf) {
            fwrite(b->arena.data + it->raw_off, 1, it->raw_len, R->rejf);
            fputc('\n', R->rejf);
        }
    }
    b->n = 0;
    ft_buf_clear(&b->arena);
    ft_progress_update(&R->prog, R->in, R->bytes);
}

static item *add_item(run *R, const char *where, uint64_t line, const char *raw, size_t len) {
    batch *b = R->b;
    if (b->n == BATCH_ITEMS || (b->n && b->arena.len + len > BATCH_BYTES)) flush_batch(R);
    item *it = &b->items[b->n++];
    memset(it, 0, sizeof *it);
    it->where = where;
    it->line = line;
    it->index = R->in + b->n - 1;
    it->raw_off = b->arena.len;
    it->raw_len = len;
    ft_buf_add(&b->arena, raw, len);
    ft_buf_addc(&b->arena, 0);
    return it;
}

static void read_input(run *R, const char *path) {
    const char *where = !strcmp(path, "-") ? "<stdin>" : path;
    ft_lines *L;
    if (ft_lines_open(path, R->o->max_line, &L) < 0) {
        ft_error("cannot open input: '%s': %s", path, strerror(errno));
        R->failed = 1;
        return;
    }
    const char *s;
    size_t n;
    int rc;
    while ((rc = ft_lines_next(L, &s, &n)) != 0 && !R->stopped) {
        R->bytes = ft_lines_offset(L) + R->bytes_done;
        if (rc == FT_EIO) break;
        uint64_t line = ft_lines_lineno(L);
        if (rc == FT_ETOOBIG) {
            item *it = add_item(R, where, line, s, strnlen(s, 4096));
            it->too_large = n;
            continue;
        }
        size_t k = 0;
        while (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r')) k++;
        if (k == n) continue; /* blank lines are not records */
        add_item(R, where, line, s, n);
    }
    if (rc == FT_EIO) {
        ft_error("read error: '%s': %s", path, strerror(errno));
        R->failed = 1;
    }
    R->bytes_done += ft_lines_offset(L);
    ft_lines_free(L);
}

/* ---- the stream header ------------------------------------------------------------------------- */

static char *header_json(const options *o, const ft_tokenizer *tk, const tpl *t) {
    cJSON *h = cJSON_CreateObject(), *k = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "format", "ft-token-stream");
    cJSON_AddStringToObject(h, "tool", PROG " " FT_VERSION);
    cJSON_AddStringToObject(k, "path", tk->path);
    cJSON_AddStringToObject(k, "kind", tk->ops->kind);
    cJSON_AddStringToObject(k, "hash", tk->hash);
    cJSON_AddNumberToObject(k, "vocab_size", tk->vocab_size);
    cJSON_AddNumberToObject(k, "bos_id", (double)tk->bos_id);
    cJSON_AddNumberToObject(k, "eos_id", (double)tk->eos_id);
    cJSON_AddNumberToObject(k, "unk_id", (double)tk->unk_id);
    cJSON_AddNumberToObject(k, "pad_id", (double)tk->pad_id);
    cJSON_AddItemToObject(h, "tokenizer", k);
    cJSON_AddItemToObject(h, "template", tpl_to_json(t));
    cJSON_AddBoolToObject(h, "hf_special_tokens", o->hf_special);
    cJSON_AddNumberToObject(h, "max_seq_len", (double)o->max_seq_len);
    static const char *const policies[] = {"truncate", "drop", "split"};
    cJSON_AddStringToObject(h, "overlong", policies[o->overlong]);
    char *s = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    if (!s) ft_assert_fail("cJSON_PrintUnformatted", __FILE__, __LINE__);
    return s;
}

/* ---- stats -------------------------------------------------------------------------------------- */

static void write_stats(const run *R, FILE *f, double secs) {
    cJSON *s = cJSON_CreateObject(), *j = cJSON_CreateObject();
    for (int r = 1; r < TOK_REASONS; r++)
        if (R->by_reason[r] && r != TOK_DROPPED_OVERLONG)
            cJSON_AddNumberToObject(j, tok_reason_name(r), (double)R->by_reason[r]);
    cJSON_AddNumberToObject(s, "in", (double)R->in);
    cJSON_AddNumberToObject(s, "out", (double)R->out);
    cJSON_AddNumberToObject(s, "dropped", (double)R->dropped);
    cJSON_AddNumberToObject(s, "rejected", (double)R->rejected);
    cJSON_AddItemToObject(s, "rejected_by_reason", j);
    cJSON_AddNumberToObject(s, "sequences", (double)R->sequences);
    cJSON_AddNumberToObject(s, "tokens", (double)R->tokens);
    cJSON_AddNumberToObject(s, "masked_tokens", (double)R->masked);
    cJSON_AddNumberToObject(s, "truncated", (double)R->truncated);
    cJSON_AddNumberToObject(s, "dropped_overlong", (double)R->by_reason[TOK_DROPPED_OVERLONG]);
    cJSON_AddNumberToObject(s, "split", (double)R->split);
    cJSON_AddNumberToObject(s, "bytes", (double)R->bytes_done);
    cJSON_AddNumberToObject(s, "seconds", secs);
    cJSON_AddNumberToObject(s, "tokens_per_second", secs > 0 ? (double)R->tokens / secs : 0);
    char *p = cJSON_Print(s);
    fprintf(f, "%s\n", p);
    cJSON_free(p);
    cJSON_Delete(s);
}

static void summary(const run *R, double secs) {
    ft_buf l;
    ft_buf_init(&l);
    ft_buf_addf(&l, "%llu in, %llu out (%llu sequences, %llu tokens, %llu trained), %llu dropped, %llu rejected",
                (unsigned long long)R->in, (unsigned long long)R->out, (unsigned long long)R->sequences,
                (unsigned long long)R->tokens, (unsigned long long)R->masked, (unsigned long long)R->dropped,
                (unsigned long long)R->rejected);
    int any = 0;
    for (int r = 1; r < TOK_REASONS; r++)
        if (R->by_reason[r] && r != TOK_DROPPED_OVERLONG) {
            ft_buf_addf(&l, "%s%s %llu", any ? ", " : " (", tok_reason_name(r), (unsigned long long)R->by_reason[r]);
            any = 1;
        }
    if (any) ft_buf_addc(&l, ')');
    if (R->o->max_seq_len)
        ft_buf_addf(&l, "; overlong: %llu truncated, %llu dropped, %llu split", (unsigned long long)R->truncated,
                    (unsigned long long)R->by_reason[TOK_DROPPED_OVERLONG], (unsigned long long)R->split);
    ft_buf_addf(&l, " in %.2fs (%.0f tokens/s, %.1f MB/s)", secs, secs > 0 ? (double)R->tokens / secs : 0,
                secs > 0 ? (double)R->bytes_done / 1e6 / secs : 0);
    ft_info("%s", l.data);
    ft_buf_release(&l);
}

/* ---- encode mode ------------------------------------------------------------------------------- */

static int check_template(const tpl *t, const ft_tokenizer *tk) {
    int uses_stop = 0;
    for (size_t i = 0; i < t->user.n; i++) uses_stop |= t->user.v[i].kind == TPL_STOP;
    for (size_t i = 0; i < t->asst.n; i++) uses_stop |= t->asst.v[i].kind == TPL_STOP;
    if ((uses_stop || t->v1) && tk->eos_id < 0) {
        ft_error("template '%s' needs an end-of-sequence token: '%s' has none", t->name, tk->path);
        return -1;
    }
    if (t->v1 && tk->bos_id < 0) {
        ft_error("template '%s' needs a beginning-of-sequence token: '%s' has none", t->name, tk->path);
        return -1;
    }
    return 0;
}

static int commit_or_report(ft_atomic *a, const char *what, const char *path) {
    if (a && ft_atomic_commit(a) < 0) {
        ft_error("cannot write %s: '%s': %s", what, path, strerror(errno));
        return 1;
    }
    return 0;
}

static int encode_main(const options *o, int ninputs, char **inputs) {
    tpl t;
    ft_buf why;
    ft_buf_init(&why);
    if (tpl_load(o->template_arg, &t, &why) < 0) {
        ft_error("cannot load template: '%s': %s", o->template_arg, why.data);
        ft_buf_release(&why);
        return 1;
    }
    ft_buf_release(&why);
    ft_tokenizer *tk = open_tokenizer(o->tokenizer);
    if (!tk || check_template(&t, tk) < 0) {
        ft_tokenizer_free(tk);
        tpl_release(&t);
        return 1;
    }
    run R;
    memset(&R, 0, sizeof R);
    R.o = o;
    R.to = (tok_opts){tk, &t, o->hf_special, o->max_seq_len, o->overlong};
    ft_atomic *out = NULL, *rej = NULL;
    int rc = 0;
    if (ft_atomic_open(o->output, &out) < 0) {
        ft_error("cannot create output: '%s': %s", o->output, strerror(errno));
        rc = 1;
    } else if (o->format == FMT_STREAM && !o->force && isatty(fileno(ft_atomic_stream(out)))) {
        ft_error("refusing to write a binary token stream to a terminal (use -o FILE, --format jsonl or -f)");
        rc = 1;
    } else if (o->rejects && ft_atomic_open(o->rejects, &rej) < 0) {
        ft_error("cannot create rejects file: '%s': %s", o->rejects, strerror(errno));
        rc = 1;
    }
    if (rc) {
        ft_atomic_abort(out);
        ft_tokenizer_free(tk);
        tpl_release(&t);
        return rc;
    }
    R.outf = ft_atomic_stream(out);
    R.rejf = rej ? ft_atomic_stream(rej) : NULL;
    static char obuf[1 << 20];
    if (R.outf == stdout) setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    int jobs = o->jobs;
    R.pool = ft_pool_new(jobs, &jobs);
    if (!R.pool) ft_assert_fail("ft_pool_new", __FILE__, __LINE__);
    if (jobs < o->jobs) ft_warn("could only start %d of %d worker threads", jobs, o->jobs);
    R.ctx = ft_xmalloc((size_t)o->jobs * sizeof *R.ctx);
    R.ids = ft_xmalloc((size_t)o->jobs * sizeof *R.ids);
    R.mask = ft_xmalloc((size_t)o->jobs * sizeof *R.mask);
    for (int i = 0; i < o->jobs; i++) tok_ctx_init(&R.ctx[i]), ft_ids_init(&R.ids[i]), ft_buf_init(&R.mask[i]);
    R.b = ft_xmalloc(sizeof *R.b);
    memset(R.b, 0, sizeof *R.b);
    if (ft_log_level() >= FT_LOG_VERBOSE)
        ft_verbose("tokenizer %s (%s, %u pieces, hash %s), template %s, %s special tokens, max-seq-len %llu, "
                   "overlong %s, %d jobs",
                   tk->path, tk->ops->kind, tk->vocab_size, tk->hash, t.name, o->hf_special ? "HF" : "safe",
                   (unsigned long long)o->max_seq_len, (const char *[]){"truncate", "drop", "split"}[o->overlong],
                   jobs);

    ft_buf head;
    ft_buf_init(&head);
    if (o->format == FMT_STREAM) {
        char *js = header_json(o, tk, &t);
        ft_tokstream_put_header(&head, js, strlen(js));
        cJSON_free(js);
        fwrite(head.data, 1, head.len, R.outf);
    }
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
    if (o->format == FMT_STREAM && !R.stopped) {
        ft_buf_clear(&head);
        ft_tokstream_put_trailer(&head, R.sequences, R.tokens, R.masked);
        fwrite(head.data, 1, head.len, R.outf);
    }
    ft_buf_release(&head);

    rc = R.failed ? 1 : 0;
    if (R.stopped) {
        ft_atomic_abort(out);
        ft_atomic_abort(rej);
    } else {
        rc |= commit_or_report(out, "output", o->output);
        rc |= commit_or_report(rej, "rejects file", o->rejects);
    }
    if (o->stats && !R.stopped) {
        ft_atomic *st;
        if (ft_atomic_open(o->stats, &st) < 0) {
            ft_error("cannot create stats file: '%s': %s", o->stats, strerror(errno));
            rc = 1;
        } else {
            write_stats(&R, ft_atomic_stream(st), secs);
            rc |= commit_or_report(st, "stats file", o->stats);
        }
    }
    summary(&R, secs);
    ft_pool_free(R.pool);
    for (int i = 0; i < o->jobs; i++) tok_ctx_release(&R.ctx[i]), ft_ids_release(&R.ids[i]), ft_buf_release(&R.mask[i]);
    for (size_t i = 0; i < BATCH_ITEMS; i++) ft_buf_release(&R.b->res[i].out);
    ft_buf_release(&R.b->arena);
    free(R.b), free(R.ctx), free(R.ids), free(R.mask);
    ft_tokenizer_free(tk);
    tpl_release(&t);
    return rc;
}

/* ---- decode mode ------------------------------------------------------------------------------- */

/* The text of ids[a..b) within the record: decoded with everything before it and cut, so that a span does
 * not lose the leading space SentencePiece drops at the start of a decode. */
static void decode_span(const ft_tokenizer *tk, const uint32_t *ids, size_t a, size_t b, ft_buf *tmp, ft_buf *out) {
    ft_buf_clear(tmp);
    ft_tokenizer_decode(tk, ids, a, tmp);
    size_t before = tmp->len;
    ft_buf_clear(tmp);
    ft_tokenizer_decode(tk, ids, b, tmp);
    if (tmp->len >= before) ft_buf_add(out, tmp->data + before, tmp->len - before);
}

static int decode_main(const options *o, const char *path) {
    ft_tokenizer *tk = NULL;
    if (o->tokenizer && !(tk = open_tokenizer(o->tokenizer))) return 1;
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        ft_error("cannot open input: '%s': %s", path, strerror(errno));
        ft_tokenizer_free(tk);
        return 1;
    }
    ft_tokstream_reader *r;
    ft_buf why, line, tmp;
    ft_buf_init(&why), ft_buf_init(&line), ft_buf_init(&tmp);
    int rc = ft_tokstream_open(f, &r, &why);
    if (rc < 0) {
        ft_error("cannot read token stream: '%s': %s", path, why.data);
        rc = 1;
    } else {
        const ft_tokstream_info *in = ft_tokstream_info_of(r);
        if (tk && (strcmp(in->hash, tk->hash) || in->vocab_size != tk->vocab_size))
            ft_warn("'%s' was made with another tokenizer (hash %s, vocab %u) than '%s' (hash %s, vocab %u)", path,
                    in->hash, in->vocab_size, tk->path, tk->hash, tk->vocab_size);
        ft_verbose("%s", in->json);
        ft_tokrec rec;
        while ((rc = ft_tokstream_next(r, &rec)) > 0) {
            ft_buf_clear(&line);
            uint64_t trained = 0;
            for (size_t i = 0; i < rec.n; i++) trained += rec.mask[i];
            ft_buf_addf(&line, "# record %llu: %zu tokens, %llu trained\n", (unsigned long long)rec.index, rec.n,
                        (unsigned long long)trained);
            for (size_t a = 0; a < rec.n;) {
                size_t b = a;
                while (b < rec.n && rec.mask[b] == rec.mask[a]) b++;
                if (rec.mask[a]) ft_buf_adds(&line, "\xe2\x9f\xa6");
                if (tk && rec.ids[b - 1] < tk->vocab_size) decode_span(tk, rec.ids, a, b, &tmp, &line);
                else
                    for (size_t i = a; i < b; i++) ft_buf_addf(&line, "%s%u", i > a ? " " : "", rec.ids[i]);
                if (rec.mask[a]) ft_buf_adds(&line, "\xe2\x9f\xa7");
                a = b;
            }
            ft_buf_addc(&line, '\n');
            fwrite(line.data, 1, line.len, stdout);
        }
        if (rc < 0) ft_error("cannot read token stream: '%s': %s", path, ft_tokstream_error(r));
        rc = rc < 0;
        ft_tokstream_close(r);
    }
    if (f != stdin) fclose(f);
    ft_buf_release(&why), ft_buf_release(&line), ft_buf_release(&tmp);
    ft_tokenizer_free(tk);
    return rc;
}

/* ---- encode-text mode -------------------------------------------------------------------------- */

static void print_ids(const ft_tokenizer *tk, int hf, const char *s, size_t n, ft_ids *ids, ft_buf *line) {
    ids->n = 0;
    ft_buf_clear(line);
    int rc = hf ? ft_tokenizer_encode_special(tk, s, n, ids) : ft_tokenizer_encode(tk, s, n, ids);
    if (rc < 0) ft_error("cannot encode a text: %s", ft_strerror(rc));
    for (size_t i = 0; i < ids->n; i++) {
        if (i) ft_buf_addc(line, ' ');
        put_u64(line, ids->v[i]);
    }
    ft_buf_addc(line, '\n');
    fwrite(line->data, 1, line->len, stdout);
}

static int text_main(const options *o, int ninputs, char **inputs) {
    ft_tokenizer *tk = open_tokenizer(o->tokenizer);
    if (!tk) return 1;
    ft_ids ids;
    ft_buf text, line;
    ft_ids_init(&ids), ft_buf_init(&text), ft_buf_init(&line);
    int rc = 0;
    size_t seplen = o->text_sep ? strlen(o->text_sep) : 0;
    for (int i = 0; i < ninputs; i++) {
        ft_lines *L;
        if (ft_lines_open(inputs[i], o->max_line, &L) < 0) {
            ft_error("cannot open input: '%s': %s", inputs[i], strerror(errno));
            rc = 1;
            continue;
        }
        const char *s;
        size_t n;
        int r, pending = 0; /* lines gathered since the last separator */
        ft_buf_clear(&text);
        while ((r = ft_lines_next(L, &s, &n)) > 0) {
            if (!o->text_sep) {
                print_ids(tk, o->hf_special, s, n, &ids, &line);
                continue;
            }
            if (n == seplen && !memcmp(s, o->text_sep, n)) {
                print_ids(tk, o->hf_special, text.data ? text.data : "", text.len, &ids, &line);
                ft_buf_clear(&text);
                pending = 0;
                continue;
            }
            if (pending++) ft_buf_addc(&text, '\n');
            ft_buf_add(&text, s, n);
        }
        if (r < 0) {
            ft_error("read error: '%s': %s", inputs[i], r == FT_ETOOBIG ? "line longer than --max-line" : strerror(errno));
            rc = 1;
        } else if (pending) {
            print_ids(tk, o->hf_special, text.data, text.len, &ids, &line);
        }
        ft_lines_free(L);
    }
    ft_ids_release(&ids), ft_buf_release(&text), ft_buf_release(&line);
    ft_tokenizer_free(tk);
    return rc;
}

int main(int argc, char **argv) {
    ft_cli_init(PROG, "Usage: ft-tokenize --tokenizer PATH --template NAME [OPTIONS] [FILE...]");
    options o;
    parse_options(argc, argv, &o);
    int ninputs, rc;
    char **inputs = ft_cli_inputs(argc, argv, optind, &ninputs);
    switch (o.mode) {
    case MODE_LIST:
        for (const char *const *n = tpl_builtin_names; *n; n++) printf("%s\n", *n);
        rc = 0;
        break;
    case MODE_DECODE: rc = decode_main(&o, inputs[0]); break;
    case MODE_TEXT: rc = text_main(&o, ninputs, inputs); break;
    default: rc = encode_main(&o, ninputs, inputs); break;
    }
    if (fclose(stdout) != 0 && rc == 0) {
        ft_error("cannot write output: '<stdout>': %s", strerror(errno));
        rc = 1;
    }
    return rc;
}
