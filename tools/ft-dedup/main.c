/* ft-dedup: exact and MinHash near-duplicate removal of conversation JSONL, streaming on one machine
 * (default) or scale-out in three steps (sign, cluster, filter) that give the same result.
 * Rule: main.c owns options, files, threads, messages and exit status; records are read in batches whose
 * keys are computed by the workers and decided in input order, so nothing depends on -j. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>
#include <xxhash.h>

#include "cli.h"
#include "atomic.h"
#include "dedup.h"
#include "json.h"
#include "lines.h"
#include "log.h"
#include "parse.h"
#include "pool.h"

#ifndef FT_BUILD_INFO
#define FT_BUILD_INFO "unknown configuration"
#endif

#define PROG "ft-dedup"
#define BATCH_ITEMS 1024
#define BATCH_BYTES (8u << 20)
#define MAX_WARNINGS 50

enum { CMD_STREAM, CMD_SIGN, CMD_CLUSTER, CMD_FILTER };
enum { REJ_NONE, REJ_BAD_JSON, REJ_BAD_RECORD, REJ_TOO_LARGE, REJ_COUNT };
static const char *const reason_names[] = {"ok", "bad-json", "bad-record", "too-large"};

/* ---- options ----------------------------------------------------------------------------------- */

typedef struct {
    int cmd;
    dedup_params p;
    const char *output, *dups, *rejects, *stats, *list, *name;
    uint64_t max_line;
    int jobs, strict, verbose, hashes;
} options;

static void usage(FILE *f) {
    fputs("Usage: ft-dedup [OPTIONS] [FILE...]             streaming: one pass, first seen is kept\n"
          "       ft-dedup sign [OPTIONS] [FILE] -o SIGS      scale-out step 1: one shard -> signature file\n"
          "       ft-dedup cluster [OPTIONS] SIGS... -o LIST  step 2: all signature files -> duplicate list\n"
          "       ft-dedup filter --list LIST [OPTIONS] [FILE] step 3: one shard -> its kept records\n"
          "Remove exact and near-duplicate conversations from conversation JSONL; kept records are written\n"
          "unchanged, in input order, to stdout or -o FILE.\n"
          "\n"
          "Keys (the same for every step):\n"
          "  -k, --key KEY              text compared: all (every turn, default), human (human turns only),\n"
          "                             first (the first turn)\n"
          "      --strip-punct          exact key: punctuation removed (it is always case-folded and\n"
          "                             whitespace-collapsed)\n"
          "      --ngram N              tokens per shingle (default 5; a token is one CJK character or one\n"
          "                             word or number of other scripts)\n"
          "      --threshold T          Jaccard similarity that makes a near duplicate; picks bands and\n"
          "                             rows for --hashes values unless they are given (default (1/b)^(1/r))\n"
          "      --bands N              LSH bands (default 14)\n"
          "      --rows N               rows per band (default 8); bands * rows MinHash values\n"
          "      --hashes N             MinHash values --threshold may use (default 112)\n"
          "      --preset NAME          default (14 x 8, threshold 0.72) or bigcode (256 values, 0.7)\n"
          "      --verify MODE          signature (estimate from the signatures, default) or exact\n"
          "                             (Jaccard of the shingle sets; the index then keeps them)\n"
          "      --seed N               hashing seed (default 1)\n"
          "Input and output:\n"
          "  -o, --output FILE          write to FILE atomically (temp file + rename)\n"
          "  -j, --jobs N               threads computing signatures (default 1); output is the same\n"
          "      --max-line SIZE        longest record read (default 256M); longer ones are rejected\n"
          "      --dups FILE            every dropped record with what it duplicates, as JSONL\n"
          "      --rejects FILE         every unparsable record with reason and file:line\n"
          "      --stats FILE           counts per kind, index memory and parameters as JSON\n"
          "      --strict               stop with exit 1 at the first unparsable record\n"
          "      --list FILE            filter: the duplicate list written by cluster\n"
          "      --name NAME            sign, filter: the shard's name in the list (default: the file's\n"
          "                             base name)\n"
          "  -q, --quiet                errors only\n"
          "  -v, --verbose              also the effective parameters (with --version: build details)\n"
          "  -h, --help                 this help\n"
          "  -V, --version              version\n"
          "\n"
          "Exit status: 0 when every input was read (bad records are counted, not fatal), 1 when an input\n"
          "could not be read, output failed or --strict stopped, 2 for a usage error.\n",
          f);
}

enum { O_STRIP = 256, O_NGRAM, O_THRESHOLD, O_BANDS, O_ROWS, O_HASHES, O_PRESET, O_VERIFY, O_SEED, O_MAX_LINE,
       O_DUPS, O_REJECTS, O_STATS, O_STRICT, O_LIST, O_NAME };

static void parse_options(int *argcp, char ***argvp, options *o) {
    static const struct option longs[] = {
        {"key", required_argument, 0, 'k'},          {"strip-punct", no_argument, 0, O_STRIP},
        {"ngram", required_argument, 0, O_NGRAM},    {"threshold", required_argument, 0, O_THRESHOLD},
        {"bands", required_argument, 0, O_BANDS},    {"rows", required_argument, 0, O_ROWS},
        {"hashes", required_argument, 0, O_HASHES},  {"preset", required_argument, 0, O_PRESET},
        {"verify", required_argument, 0, O_VERIFY},  {"seed", required_argument, 0, O_SEED},
        {"output", required_argument, 0, 'o'},       {"jobs", required_argument, 0, 'j'},
        {"max-line", required_argument, 0, O_MAX_LINE}, {"dups", required_argument, 0, O_DUPS},
        {"rejects", required_argument, 0, O_REJECTS}, {"stats", required_argument, 0, O_STATS},
        {"strict", no_argument, 0, O_STRICT},        {"list", required_argument, 0, O_LIST},
        {"name", required_argument, 0, O_NAME},      {"quiet", no_argument, 0, 'q'},
        {"verbose", no_argument, 0, 'v'},            {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},            {0, 0, 0, 0},
    };
    static const char *const keys[] = {"all", "human", "first", NULL};
    static const char *const presets[] = {"default", "bigcode", NULL};
    static const char *const verifies[] = {"signature", "exact", NULL};
    static const char *const cmds[] = {"sign", "cluster", "filter", NULL};
    memset(o, 0, sizeof *o);
    dedup_params_default(&o->p);
    o->output = "-";
    o->max_line = 256u << 20;
    o->jobs = 1;
    o->hashes = 112;
    if (*argcp > 1) {
        int c = ft_parse_choice((*argvp)[1], cmds);
        if (c >= 0) {
            o->cmd = CMD_SIGN + c;
            (*argvp)[1] = (*argvp)[0];
            (*argvp)++, (*argcp)--;
        }
    }
    int argc = *argcp;
    char **argv = *argvp;
    int quiet = 0, version = 0, c, bands = 0, rows = 0, preset = 0, threshold_set = 0;
    double threshold = 0;
    while ((c = getopt_long(argc, argv, "k:o:j:qvhV", longs, NULL)) != -1) {
        switch (c) {
        case 'k':
            if ((o->p.key = ft_parse_choice(optarg, keys)) < 0)
                ft_cli_usage("invalid value for --key: '%s' (all, human, first)", optarg);
            break;
        case O_STRIP: o->p.strip_punct = 1; break;
        case O_NGRAM: o->p.ngram = (int)ft_cli_i64("ngram", optarg, 1, 64); break;
        case O_THRESHOLD:
            threshold = ft_cli_double("threshold", optarg, 0.01, 1);
            threshold_set = 1;
            break;
        case O_BANDS: bands = (int)ft_cli_i64("bands", optarg, 1, DEDUP_MAX_HASHES); break;
        case O_ROWS: rows = (int)ft_cli_i64("rows", optarg, 1, DEDUP_MAX_HASHES); break;
        case O_HASHES: o->hashes = (int)ft_cli_i64("hashes", optarg, 1, DEDUP_MAX_HASHES); break;
        case O_PRESET:
            if ((preset = ft_parse_choice(optarg, presets)) < 0)
                ft_cli_usage("invalid value for --preset: '%s' (default, bigcode)", optarg);
            break;
        case O_VERIFY:
            if ((o->p.verify = ft_parse_choice(optarg, verifies)) < 0)
                ft_cli_usage("invalid value for --verify: '%s' (signature, exact)", optarg);
            break;
        case O_SEED: {
            uint64_t s;
            if (ft_parse_count(optarg, 0, UINT64_MAX, &s) < 0)
                ft_cli_usage("invalid value for --seed: '%s': expected a number", optarg);
            o->p.seed = s;
            break;
        }
        case 'o': o->output = optarg; break;
        case 'j': o->jobs = (int)ft_cli_i64("jobs", optarg, 1, 256); break;
        case O_MAX_LINE:
            if (ft_parse_size(optarg, 1024, (uint64_t)1 << 34, &o->max_line) < 0)
                ft_cli_usage("invalid value for --max-line: '%s' (expected a size 1K..16G)", optarg);
            break;
        case O_DUPS: o->dups = optarg; break;
        case O_REJECTS: o->rejects = optarg; break;
        case O_STATS: o->stats = optarg; break;
        case O_STRICT: o->strict = 1; break;
        case O_LIST: o->list = optarg; break;
        case O_NAME: o->name = optarg; break;
        case 'q': quiet = 1; break;
        case 'v': o->verbose++; break;
        case 'h': usage(stdout); exit(fclose(stdout) ? 1 : 0);
        case 'V': version = 1; break;
        default: fputs("Try 'ft-dedup --help'.\n", stderr); exit(2);
        }
    }
    if (version) {
        printf(PROG " (ft) " FT_VERSION "\n");
        if (o->verbose)
            printf("build: %s; cJSON %s, utf8proc %s, xxHash %u\n", FT_BUILD_INFO, cJSON_Version(),
                   utf8proc_version(), XXH_versionNumber());
        exit(fclose(stdout) ? 1 : 0);
    }
    ft_log_init(PROG, quiet ? FT_LOG_QUIET : FT_LOG_NORMAL + o->verbose);
    /* LSH geometry: explicit bands/rows win; else the preset or --threshold picks them. */
    if (preset == 1) {
        o->hashes = 256;
        if (!threshold_set) threshold = 0.7, threshold_set = 1;
    }
    if (bands || rows) {
        o->p.bands = bands ? bands : 14;
        o->p.rows = rows ? rows : 8;
    } else if (threshold_set) {
        dedup_lsh_optimal(threshold, o->hashes, &o->p.bands, &o->p.rows);
    }
    if (o->p.bands * o->p.rows > DEDUP_MAX_HASHES)
        ft_cli_usage("--bands %d x --rows %d: more than %d MinHash values", o->p.bands, o->p.rows, DEDUP_MAX_HASHES);
    o->p.threshold = threshold_set ? threshold : pow(1.0 / o->p.bands, 1.0 / o->p.rows);
    const char *names[] = {"--rejects", "--stats", "--dups"};
    const char *vals[] = {o->rejects, o->stats, o->dups};
    for (int i = 0; i < 3; i++)
        if (vals[i] && !strcmp(vals[i], "-")) ft_cli_usage("%s cannot be stdout", names[i]);
    int nin = argc - optind;
    if (o->cmd == CMD_SIGN || o->cmd == CMD_FILTER) {
        if (nin > 1) ft_cli_usage("%s takes one input shard, not %d", o->cmd == CMD_SIGN ? "sign" : "filter", nin);
        if (!o->name && (nin == 0 || !strcmp(argv[optind], "-")))
            ft_cli_usage("a shard read from stdin needs --name");
    }
    if (o->cmd == CMD_CLUSTER && nin == 0) ft_cli_usage("cluster needs signature files");
    if (o->cmd == CMD_FILTER && !o->list) ft_cli_usage("filter needs --list FILE");
    if (o->cmd != CMD_FILTER && o->list) ft_cli_usage("--list is for filter");
    if ((o->cmd == CMD_SIGN || o->cmd == CMD_CLUSTER) && !strcmp(o->output, "-") && isatty(1))
        ft_cli_usage("refusing to write %s to a terminal (use -o FILE)",
                    o->cmd == CMD_SIGN ? "a signature file" : "the duplicate list");
}

static void echo_params(const options *o) {
    const dedup_params *p = &o->p;
    static const char *const keys[] = {"all", "human", "first"};
    ft_verbose("key %s%s, ngram %d, %d bands x %d rows (%d hashes), threshold %.4f, verify %s, seed %llu",
               keys[p->key], p->strip_punct ? " (punctuation stripped)" : "", p->ngram, p->bands, p->rows,
               p->bands * p->rows, p->threshold, p->verify == VERIFY_EXACT ? "exact" : "signature",
               (unsigned long long)p->seed);
}

/* ---- batches and the worker pool ----------------------------------------------------------------- */

typedef struct {
    size_t raw_off, raw_len; /* in the batch arena */
    const char *where;
    uint64_t line, full_len;
    int reason, truncated;
    char detail[96];
    uint64_t exact[2];
    int empty, has_tokens;
    uint32_t *shingles; /* owned, VERIFY_EXACT */
    size_t nshingles;
    char *id; /* owned compact JSON of conversation_id, or NULL */
    size_t id_len;
} item;

typedef struct {
    item items[BATCH_ITEMS];
    uint8_t *csig; /* (BATCH_ITEMS, csz) */
    size_t n;
    ft_buf arena;
} batch;

typedef struct {
    dedup_doc doc;
    ft_conv conv;
    ft_buf id;
} worker_ctx;

/* What the workers share: read-only options and hasher, the batch being processed, one context each. */
typedef struct {
    const options *o;
    const dedup_hasher *h;
    size_t csz;
    batch *b;
    worker_ctx *ctx;
} work;

static void process_item(void *arg, size_t i, int worker) {
    work *P = arg;
    worker_ctx *w = &P->ctx[worker];
    batch *b = P->b;
    item *it = &b->items[i];
    if (it->reason) return;
    const char *raw = b->arena.data + it->raw_off;
    cJSON *v;
    size_t off;
    if (ft_json_parse(raw, it->raw_len, &v, &off) < 0) {
        it->reason = REJ_BAD_JSON;
        if (off >= it->raw_len) snprintf(it->detail, sizeof it->detail, "truncated JSON");
        else snprintf(it->detail, sizeof it->detail, "JSON syntax error at byte %zu", off);
        return;
    }
    ft_conv_init(&w->conv);
    const char *why;
    if (ft_conv_from_json(v, &w->conv, &why) < 0) {
        it->reason = REJ_BAD_RECORD;
        snprintf(it->detail, sizeof it->detail, "%s", why);
    } else if (P->o->cmd != CMD_FILTER) {
        dedup_doc *d = &w->doc;
        dedup_doc_from_conv(P->h, &w->conv, d);
        memcpy(it->exact, d->exact, sizeof it->exact);
        it->empty = d->empty;
        it->has_tokens = d->ntokens > 0;
        dedup_sig_compact(d->sig, P->o->p.bands * P->o->p.rows, b->csig + i * P->csz);
        if (d->nshingles) {
            it->shingles = ft_xmalloc(d->nshingles * sizeof *it->shingles);
            memcpy(it->shingles, d->shingles, d->nshingles * sizeof *it->shingles);
            it->nshingles = d->nshingles;
        }
        if (w->conv.id && (P->o->dups || P->o->cmd == CMD_SIGN)) {
            ft_buf_clear(&w->id);
            ft_json_put_value(&w->id, w->conv.id);
            it->id = ft_xmalloc(w->id.len + 1);
            memcpy(it->id, w->id.data, w->id.len + 1);
            it->id_len = w->id.len;
        }
    }
    ft_conv_release(&w->conv);
    cJSON_Delete(v);
}

/* ---- the run ------------------------------------------------------------------------------------- */

typedef struct {
    options *o;
    dedup_hasher h;
    work W;
    ft_pool *pool;
    batch *b;
    ft_atomic *out, *rej, *dup;
    FILE *outf, *rejf, *dupf;
    uint64_t in, signed_, by_kind[5], by_reason[REJ_COUNT], bytes, bytes_done, total_bytes, warnings, seq;
    int failed, stopped;
    ft_progress prog;
    ft_buf line;
    /* streaming */
    dedup_index *index;
    ft_buf kid;                     /* --dups: ids of kept records, back to back */
    uint64_t *kid_off, *kline;      /* (kept) offset of the id in kid (UINT64_MAX: none), line */
    uint32_t *kid_len, *kfile;
    uint64_t cap_kid;
    const char **files;             /* input names, for the keepers' file:line */
    int nfiles, cur_file;
    /* sign */
    dedup_sigwriter *sw;
    XXH64_state_t *sum;
    /* filter */
    dedup_drop *drops;
    size_t ndrops, next_drop;
    uint64_t list_records, list_checksum;
} run;

static void write_reject(run *R, const item *it, const char *raw) {
    ft_buf *l = &R->line;
    ft_buf_clear(l);
    ft_buf_adds(l, "{\"reason\":");
    ft_json_put_string(l, reason_names[it->reason], strlen(reason_names[it->reason]));
    char where[512];
    snprintf(where, sizeof where, "%s:%llu", it->where, (unsigned long long)it->line);
    ft_buf_adds(l, ",\"where\":");
    ft_json_put_string(l, where, strlen(where));
    ft_buf_adds(l, ",\"detail\":");
    ft_json_put_string(l, it->detail, strlen(it->detail));
    if (it->truncated) ft_buf_addf(l, ",\"truncated\":true,\"bytes\":%llu", (unsigned long long)it->full_len);
    ft_buf_adds(l, ",\"raw\":");
    ft_json_put_string(l, raw, it->raw_len);
    ft_buf_adds(l, "}\n");
    fwrite(l->data, 1, l->len, R->rejf);
}

/* One --dups line: the dropped record (as JSON when it parses, which it does: it was keyed) and its keeper. */
static void write_dup(run *R, const item *it, const char *raw, uint64_t index, int kind, double sim,
                      const char *of, size_t of_len, uint64_t of_index, const char *of_where) {
    ft_buf *l = &R->line;
    ft_buf_clear(l);
    char where[512];
    snprintf(where, sizeof where, "%s:%llu", it->where, (unsigned long long)it->line);
    ft_buf_addf(l, "{\"kind\":\"%s\",\"similarity\":%.4f,\"where\":", kind == DECIDE_EXACT ? "exact" : "near", sim);
    ft_json_put_string(l, where, strlen(where));
    ft_buf_addf(l, ",\"index\":%llu,\"dup_of\":", (unsigned long long)index);
    if (of) ft_buf_add(l, of, of_len);
    else ft_buf_adds(l, "null");
    ft_buf_addf(l, ",\"dup_of_index\":%llu,\"dup_of_where\":", (unsigned long long)of_index);
    ft_json_put_string(l, of_where, strlen(of_where));
    ft_buf_adds(l, ",\"record\":");
    ft_json_put_compact(l, raw, it->raw_len);
    ft_buf_adds(l, "}\n");
    fwrite(l->data, 1, l->len, R->dupf);
}

static void keep_id(run *R, uint64_t slot, const item *it) {
    if (slot >= R->cap_kid) {
        R->cap_kid = R->cap_kid ? R->cap_kid * 2 : 1024;
        R->kid_off = ft_xrealloc(R->kid_off, R->cap_kid * sizeof *R->kid_off);
        R->kline = ft_xrealloc(R->kline, R->cap_kid * sizeof *R->kline);
        R->kid_len = ft_xrealloc(R->kid_len, R->cap_kid * sizeof *R->kid_len);
        R->kfile = ft_xrealloc(R->kfile, R->cap_kid * sizeof *R->kfile);
    }
    R->kid_off[slot] = it->id ? R->kid.len : UINT64_MAX;
    R->kid_len[slot] = (uint32_t)it->id_len;
    if (it->id) ft_buf_add(&R->kid, it->id, it->id_len);
    R->kline[slot] = it->line;
    R->kfile[slot] = (uint32_t)R->cur_file;
}

static void decide_stream(run *R, item *it, const uint8_t *csig, const char *raw, uint64_t index) {
    dedup_decision d;
    dedup_index_add(R->index, index, it->exact, it->empty, it->has_tokens, csig, it->shingles, it->nshingles, &d);
    R->by_kind[d.kind]++;
    if (d.kind == DECIDE_KEPT || d.kind == DECIDE_EMPTY) {
        if (d.kind == DECIDE_KEPT && R->dupf) keep_id(R, d.slot, it);
        fwrite(raw, 1, it->raw_len, R->outf);
        fputc('\n', R->outf);
        return;
    }
    if (!R->dupf) return;
    uint64_t s = d.slot;
    char where[512];
    snprintf(where, sizeof where, "%s:%llu", R->files[R->kfile[s]], (unsigned long long)R->kline[s]);
    write_dup(R, it, raw, index, d.kind, d.similarity, R->kid_off[s] == UINT64_MAX ? NULL : R->kid.data + R->kid_off[s],
              R->kid_len[s], d.seq, where);
}

static void decide_sign(run *R, item *it, const uint8_t *csig) {
    dedup_sigrec r = {0};
    r.kind = it->reason ? SIG_REJECT : it->empty ? SIG_EMPTY : it->has_tokens ? SIG_DOC : SIG_NOTOK;
    r.line = it->line;
    memcpy(r.exact, it->exact, sizeof r.exact);
    r.csig = csig;
    r.id = it->id;
    r.id_len = (uint32_t)it->id_len;
    r.shingles = it->shingles;
    r.nshingles = (uint32_t)it->nshingles;
    dedup_sigwriter_add(R->sw, &r);
    if (!it->reason) R->signed_++; /* cluster decides */
}

static void decide_filter(run *R, item *it, const char *raw, uint64_t index) {
    dedup_drop *d = R->next_drop < R->ndrops && R->drops[R->next_drop].index == index ? &R->drops[R->next_drop++] : NULL;
    if (!d) {
        R->by_kind[DECIDE_KEPT]++;
        fwrite(raw, 1, it->raw_len, R->outf);
        fputc('\n', R->outf);
        return;
    }
    R->by_kind[d->kind]++;
    if (R->dupf)
        write_dup(R, it, raw, d->global, d->kind, d->similarity, d->dup_of, strlen(d->dup_of), d->dup_of_index,
                  d->dup_of_where);
}

static void flush_batch(run *R) {
    batch *b = R->b;
    if (!b->n) return;
    R->W.b = b;
    ft_pool_run(R->pool, b->n, 4, process_item, &R->W);
    for (size_t i = 0; i < b->n && !R->stopped; i++) {
        item *it = &b->items[i];
        const char *raw = b->arena.data + it->raw_off;
        uint64_t index = R->seq++;
        R->in++;
        if (it->reason) {
            R->by_reason[it->reason]++;
            if (R->o->strict) {
                ft_error("%s:%llu: %s: %s (--strict)", it->where, (unsigned long long)it->line,
                         reason_names[it->reason], it->detail);
                R->stopped = R->failed = 1;
                break;
            }
            if (R->warnings++ < MAX_WARNINGS) {
                ft_warn("%s:%llu: %s: %s", it->where, (unsigned long long)it->line, reason_names[it->reason],
                        it->detail);
                if (R->warnings == MAX_WARNINGS)
                    ft_warn("further unparsable records are counted but not reported%s",
                            R->o->rejects ? " here (see --rejects)" : "");
            }
            if (R->rejf) write_reject(R, it, raw);
            if (R->o->cmd == CMD_SIGN) decide_sign(R, it, NULL);
            continue;
        }
        const uint8_t *csig = b->csig + i * R->W.csz;
        switch (R->o->cmd) {
        case CMD_STREAM: decide_stream(R, it, csig, raw, index); break;
        case CMD_SIGN: decide_sign(R, it, csig); break;
        default: decide_filter(R, it, raw, index); break;
        }
    }
    for (size_t i = 0; i < b->n; i++) {
        item *it = &b->items[i];
        free(it->shingles), free(it->id);
        it->shingles = NULL, it->id = NULL;
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
    it->raw_off = b->arena.len;
    it->raw_len = len;
    ft_buf_add(&b->arena, raw, len);
    ft_buf_addc(&b->arena, 0);
    return it;
}

/* Reads one input: every non-blank line is a record. The checksum (sign, filter) covers every line. */
static void read_input(run *R, const char *path, const char *where) {
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
        uint64_t line = ft_lines_lineno(L), len = n;
        if (R->sum) {
            XXH64_update(R->sum, s, rc == FT_ETOOBIG ? strnlen(s, 4096) : n);
            XXH64_update(R->sum, &len, sizeof len);
        }
        if (rc == FT_ETOOBIG) {
            item *it = add_item(R, where, line, s, strnlen(s, 4096));
            it->reason = REJ_TOO_LARGE;
            it->truncated = 1;
            it->full_len = n;
            snprintf(it->detail, sizeof it->detail, "record of %zu bytes exceeds --max-line %llu", n,
                     (unsigned long long)R->o->max_line);
            continue;
        }
        size_t k = 0;
        while (k < n && strchr(" \t\r", s[k])) k++;
        if (k == n) continue;
        add_item(R, where, line, s, n);
    }
    if (rc == FT_EIO) {
        ft_error("read error: '%s': %s", path, strerror(errno));
        R->failed = 1;
    }
    if (!R->stopped) flush_batch(R);
    R->bytes_done += ft_lines_offset(L);
    ft_lines_free(L);
}

static uint64_t dropped_total(const run *R) { return R->by_kind[DECIDE_EXACT] + R->by_kind[DECIDE_NEAR]; }
static uint64_t rejected_total(const run *R) {
    uint64_t r = 0;
    for (int k = 1; k < REJ_COUNT; k++) r += R->by_reason[k];
    return r;
}

static void write_stats(run *R, FILE *f, double secs, uint64_t ibytes, uint64_t sbytes) {
    cJSON *s = cJSON_CreateObject(), *d = cJSON_CreateObject(), *j = cJSON_CreateObject(), *p = cJSON_CreateObject();
    static const char *const keys[] = {"all", "human", "first"};
    uint64_t kept = R->by_kind[DECIDE_KEPT] + R->by_kind[DECIDE_EMPTY];
    cJSON_AddNumberToObject(s, "in", (double)R->in);
    int sign = R->o->cmd == CMD_SIGN; /* sign only reads: cluster decides */
    cJSON_AddNumberToObject(s, sign ? "signed" : "kept", (double)(sign ? R->signed_ : kept));
    if (!sign) cJSON_AddNumberToObject(s, "dropped", (double)dropped_total(R));
    cJSON_AddNumberToObject(s, "rejected", (double)rejected_total(R));
    cJSON_AddNumberToObject(d, "exact", (double)R->by_kind[DECIDE_EXACT]);
    cJSON_AddNumberToObject(d, "near", (double)R->by_kind[DECIDE_NEAR]);
    if (sign) cJSON_Delete(d);
    else cJSON_AddItemToObject(s, "dropped_by_kind", d);
    for (int k = 1; k < REJ_COUNT; k++)
        if (R->by_reason[k]) cJSON_AddNumberToObject(j, reason_names[k], (double)R->by_reason[k]);
    cJSON_AddItemToObject(s, "rejected_by_reason", j);
    if (R->o->cmd == CMD_STREAM) cJSON_AddNumberToObject(s, "empty", (double)R->by_kind[DECIDE_EMPTY]);
    cJSON_AddNumberToObject(s, "bytes", (double)R->bytes_done);
    cJSON_AddNumberToObject(s, "seconds", secs);
    if (R->index) {
        uint64_t ki = dedup_index_kept(R->index);
        cJSON_AddNumberToObject(s, "indexed", (double)ki);
        cJSON_AddNumberToObject(s, "index_bytes", (double)ibytes);
        cJSON_AddNumberToObject(s, "index_bytes_per_kept", ki ? (double)ibytes / (double)ki : 0);
        if (sbytes) cJSON_AddNumberToObject(s, "shingle_bytes", (double)sbytes);
    }
    const dedup_params *q = &R->o->p;
    cJSON_AddStringToObject(p, "key", keys[q->key]);
    cJSON_AddBoolToObject(p, "strip_punct", q->strip_punct);
    cJSON_AddNumberToObject(p, "ngram", q->ngram);
    cJSON_AddNumberToObject(p, "bands", q->bands);
    cJSON_AddNumberToObject(p, "rows", q->rows);
    cJSON_AddNumberToObject(p, "threshold", q->threshold);
    cJSON_AddStringToObject(p, "verify", q->verify == VERIFY_EXACT ? "exact" : "signature");
    cJSON_AddNumberToObject(p, "seed", (double)q->seed);
    cJSON_AddItemToObject(s, "params", p);
    char *t = cJSON_Print(s);
    fprintf(f, "%s\n", t);
    cJSON_free(t);
    cJSON_Delete(s);
}

static int open_out(const char *path, const char *what, ft_atomic **a, FILE **f) {
    if (!path) return 0;
    if (ft_atomic_open(path, a) < 0) {
        ft_error("cannot create %s: '%s': %s", what, path, strerror(errno));
        return -1;
    }
    *f = ft_atomic_stream(*a);
    return 0;
}

static int commit_out(ft_atomic *a, const char *path, const char *what) {
    if (!a) return 0;
    if (ft_atomic_commit(a) < 0) {
        ft_error("cannot write %s: '%s': %s", what, path, strerror(errno));
        return 1;
    }
    return 0;
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* ft-dedup cluster: signature files in, the duplicate list out. */
static int cmd_cluster(options *o, char **files, int nfiles) {
    dedup_sigfile **sf = ft_xmalloc((size_t)nfiles * sizeof *sf);
    int rc = 0, n = 0;
    for (; n < nfiles; n++) {
        const char *why = NULL;
        int e = dedup_sigfile_open(files[n], &sf[n], &why);
        if (e < 0) {
            ft_error("cannot read signature file: '%s': %s", files[n], e == FT_EIO ? strerror(errno) : why);
            rc = 1;
            break;
        }
        const dedup_params *p = dedup_sigfile_params(sf[n]), *q = dedup_sigfile_params(sf[0]);
        if (n == 0) o->p = *p;
        else if (p->bands != q->bands || p->rows != q->rows || p->ngram != q->ngram || p->key != q->key ||
                 p->strip_punct != q->strip_punct || p->verify != q->verify || p->seed != q->seed ||
                 p->threshold != q->threshold) {
            ft_error("signature file made with other parameters: '%s' (than '%s')", files[n], files[0]);
            rc = 1, n++;
            break;
        }
        for (int k = 0; k < n; k++)
            if (!strcmp(dedup_sigfile_name(sf[k]), dedup_sigfile_name(sf[n]))) {
                ft_error("two shards are named '%s': '%s' and '%s' (sign them with --name)", dedup_sigfile_name(sf[n]),
                         files[k], files[n]);
                rc = 1;
            }
        if (rc) {
            n++;
            break;
        }
    }
    if (!rc) {
        echo_params(o);
        double t0 = ft_now();
        dedup_clustering c;
        ft_atomic *a = NULL;
        FILE *f = NULL;
        if (dedup_cluster(sf, (size_t)n, &o->p, &c) < 0) {
            ft_error("cluster: %s", ft_strerror(FT_ENOMEM));
            rc = 1;
        } else if (open_out(o->output, "output", &a, &f) < 0) {
            rc = 1;
        } else {
            if (dedup_list_write(f, sf, &c) < 0) {
                ft_atomic_abort(a);
                ft_error("cannot write output: '%s': %s", o->output, strerror(errno));
                rc = 1;
            } else rc = commit_out(a, o->output, "output");
            uint64_t by[5] = {0};
            for (uint64_t g = 0; g < c.n; g++) by[c.kind[g]]++;
            ft_info("%llu records in %d shards: %llu kept, %llu dropped (exact %llu, near %llu), %llu rejected;"
                    " %llu candidate pairs, %llu verified, in %.2fs",
                    (unsigned long long)c.n, n, (unsigned long long)(by[DECIDE_KEPT] + by[DECIDE_EMPTY]),
                    (unsigned long long)(by[DECIDE_EXACT] + by[DECIDE_NEAR]), (unsigned long long)by[DECIDE_EXACT],
                    (unsigned long long)by[DECIDE_NEAR], (unsigned long long)by[DECIDE_REJECT],
                    (unsigned long long)c.pairs, (unsigned long long)c.verified, ft_now() - t0);
        }
        dedup_clustering_release(&c);
    }
    for (int k = 0; k < n; k++) dedup_sigfile_free(sf[k]);
    free(sf);
    if (fclose(stdout) != 0 && rc == 0) rc = 1;
    return rc;
}

int main(int argc, char **argv) {
    ft_cli_init(PROG, "Usage: ft-dedup [sign|cluster|filter] [OPTIONS] [FILE...]");
    options o;
    parse_options(&argc, &argv, &o);
    int ninputs;
    char **inputs = ft_cli_inputs(argc, argv, optind, &ninputs);
    if (o.cmd == CMD_CLUSTER) return cmd_cluster(&o, inputs, ninputs);
    echo_params(&o);

    run R;
    memset(&R, 0, sizeof R);
    R.o = &o;
    ft_buf_init(&R.kid);
    if (o.cmd == CMD_FILTER) {
        const char *why = NULL;
        uint64_t line;
        const char *name = o.name ? o.name : base_name(inputs[0]);
        int e = dedup_list_read(o.list, name, &R.drops, &R.ndrops, &R.list_records, &R.list_checksum, &why, &line);
        if (e < 0) {
            if (e == FT_EIO) ft_error("cannot read list: '%s': %s", o.list, strerror(errno));
            else ft_error("%s:%llu: %s (shard '%s')", o.list, (unsigned long long)line, why, name);
            return 1;
        }
    }
    if (dedup_hasher_init(&R.h, &o.p) < 0) {
        ft_error("%s", ft_strerror(FT_ENOMEM));
        return 1;
    }
    if (open_out(o.output, "output", &R.out, &R.outf) < 0) return 1;
    static char obuf[1 << 20];
    if (R.outf == stdout) setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    if (open_out(o.rejects, "rejects file", &R.rej, &R.rejf) < 0 ||
        open_out(o.cmd == CMD_SIGN ? NULL : o.dups, "dups file", &R.dup, &R.dupf) < 0) {
        ft_atomic_abort(R.out), ft_atomic_abort(R.rej);
        return 1;
    }
    if (o.cmd == CMD_STREAM) R.index = dedup_index_new(&o.p);
    if (o.cmd == CMD_SIGN) R.sw = dedup_sigwriter_new(R.outf, &o.p, o.name ? o.name : base_name(inputs[0]));
    if (o.cmd == CMD_SIGN || o.cmd == CMD_FILTER) {
        R.sum = XXH64_createState();
        XXH64_reset(R.sum, 0);
    }
    R.b = ft_xmalloc(sizeof *R.b);
    memset(R.b, 0, sizeof *R.b);
    R.W.csz = dedup_compact_size(o.p.bands * o.p.rows);
    R.b->csig = ft_xmalloc(BATCH_ITEMS * R.W.csz);
    R.W.o = &o;
    R.W.h = &R.h;
    R.W.ctx = ft_xmalloc((size_t)o.jobs * sizeof *R.W.ctx);
    for (int i = 0; i < o.jobs; i++) {
        dedup_doc_init(&R.W.ctx[i].doc);
        ft_buf_init(&R.W.ctx[i].id);
    }
    int started;
    if (!(R.pool = ft_pool_new(o.jobs, &started))) ft_assert_fail("ft_pool_new", __FILE__, __LINE__);
    if (started < o.jobs) ft_warn("cannot start all worker threads; going on with %d", started);

    R.files = (const char **)inputs;
    R.nfiles = ninputs;
    R.total_bytes = ft_cli_input_bytes(inputs, ninputs);
    double t0 = ft_now();
    ft_progress_init(&R.prog, PROG, R.total_bytes);
    for (int i = 0; i < ninputs && !R.stopped; i++) {
        R.cur_file = i;
        read_input(&R, inputs[i], strcmp(inputs[i], "-") ? inputs[i] : "<stdin>");
    }
    ft_progress_release(&R.prog);
    double secs = ft_now() - t0;

    ft_pool_free(R.pool);

    if (o.cmd == CMD_FILTER && !R.stopped && !R.failed) {
        const char *name = o.name ? o.name : base_name(inputs[0]);
        uint64_t records = R.list_records;
        if (records != R.in || R.list_checksum != XXH64_digest(R.sum)) {
            ft_error("shard '%s' is not the one signed: %llu records (the list says %llu)%s", name,
                     (unsigned long long)R.in, (unsigned long long)records,
                     records == R.in ? ", different content" : "");
            R.stopped = R.failed = 1;
        }
    }
    int rc = 0;
    if (o.cmd == CMD_SIGN && !R.stopped) {
        if (dedup_sigwriter_finish(R.sw, XXH64_digest(R.sum)) < 0) R.failed = 1;
        R.sw = NULL;
    }
    if (R.stopped) {
        ft_atomic_abort(R.out), ft_atomic_abort(R.rej), ft_atomic_abort(R.dup);
    } else {
        rc |= commit_out(R.out, o.output, "output");
        rc |= commit_out(R.rej, o.rejects, "rejects file");
        rc |= commit_out(R.dup, o.dups, "dups file");
    }
    uint64_t ibytes = 0, sbytes = 0;
    if (R.index) dedup_index_memory(R.index, &ibytes, &sbytes);
    if (o.stats && !R.stopped) {
        ft_atomic *st;
        FILE *sf;
        if (open_out(o.stats, "stats file", &st, &sf) < 0) rc = 1;
        else {
            write_stats(&R, sf, secs, ibytes, sbytes);
            rc |= commit_out(st, o.stats, "stats file");
        }
    }
    uint64_t kept = R.by_kind[DECIDE_KEPT] + R.by_kind[DECIDE_EMPTY];
    if (o.cmd == CMD_SIGN)
        ft_info("%llu records signed (%llu rejected) in %.2fs (%.1f MB/s)", (unsigned long long)R.in,
                (unsigned long long)rejected_total(&R), secs, secs > 0 ? (double)R.bytes_done / 1e6 / secs : 0);
    else
        ft_info("%llu in, %llu kept, %llu dropped (exact %llu, near %llu), %llu rejected in %.2fs (%.1f MB/s)",
                (unsigned long long)R.in, (unsigned long long)kept, (unsigned long long)dropped_total(&R),
                (unsigned long long)R.by_kind[DECIDE_EXACT], (unsigned long long)R.by_kind[DECIDE_NEAR],
                (unsigned long long)rejected_total(&R), secs, secs > 0 ? (double)R.bytes_done / 1e6 / secs : 0);
    if (R.index) {
        uint64_t ki = dedup_index_kept(R.index);
        ft_verbose("index: %llu bytes for %llu indexed records (%.1f bytes each)%s", (unsigned long long)ibytes,
                   (unsigned long long)ki, ki ? (double)ibytes / (double)ki : 0.0, sbytes ? "" : "");
        if (sbytes) ft_verbose("shingle sets for --verify exact: %llu bytes", (unsigned long long)sbytes);
    }
    if (R.failed) rc = 1;
    dedup_sigwriter_free(R.sw);
    if (R.sum) XXH64_freeState(R.sum);
    dedup_index_free(R.index);
    dedup_drops_free(R.drops, R.ndrops);
    dedup_hasher_release(&R.h);
    for (int i = 0; i < o.jobs; i++) {
        dedup_doc_release(&R.W.ctx[i].doc);
        ft_buf_release(&R.W.ctx[i].id);
    }
    ft_buf_release(&R.b->arena);
    ft_buf_release(&R.line);
    ft_buf_release(&R.kid);
    free(R.b->csig), free(R.b), free(R.W.ctx);
    free(R.kid_off), free(R.kline), free(R.kid_len), free(R.kfile);
    if (fclose(stdout) != 0 && rc == 0) {
        ft_error("cannot write output: '<stdout>': %s", strerror(errno));
        rc = 1;
    }
    return rc;
}
