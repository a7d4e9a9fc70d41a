/* ft-pack: token streams to packed rows in MDS shards (common/mds.h); stat, verify and cat read them back.
 * Rule: main.c owns options, files, messages and exit status; pack.c decides which documents share a row.
 * The output directory is built aside and renamed at the end, so it is complete or absent. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "atomic.h"
#include "cli.h"
#include "json.h"
#include "log.h"
#include "mds.h"
#include "pack.h"
#include "parse.h"
#include "tokstream.h"

#ifndef FT_BUILD_INFO
#define FT_BUILD_INFO "unknown configuration"
#endif

#define PROG "ft-pack"

enum { OVER_TRUNCATE, OVER_DROP, OVER_SPLIT };
static const char *const pack_names[] = {"ffd", "shuffle", "none", NULL};
static const char *const overlong_names[] = {"truncate", "drop", "split", NULL};

typedef struct {
    const char *output;
    int pack, overlong, level, force, docs, verbose;
    uint64_t seq_len, window, seed, shard_size;
} options;

static void usage(FILE *f) {
    fputs("Usage: ft-pack --seq-len N -o DIR [OPTIONS] [FILE...]\n"
          "       ft-pack stat DIR | verify DIR | cat [--docs] DIR\n"
          "Pack token streams (from ft-tokenize) into rows of at most N tokens, whole documents only, written\n"
          "as MosaicML Streaming MDS shards (index.json + shard.NNNNN.mds.zstd) in DIR. Reads FILEs or stdin.\n"
          "\n"
          "Packing:\n"
          "  -n, --seq-len N            tokens per row (1..2^28), required\n"
          "      --pack MODE            ffd: first-fit-decreasing within a window (default); shuffle: first fit\n"
          "                             in a seeded random order; none: one document per row\n"
          "      --window N             documents packed together (default 10000)\n"
          "      --seed N               the shuffle's seed (default 0)\n"
          "      --overlong POLICY      documents longer than N: truncate (keep the head, default), drop, or\n"
          "                             split into pieces of N tokens\n"
          "Output:\n"
          "  -o, --output DIR           the dataset directory; appears complete or not at all\n"
          "  -f, --force                replace an existing DIR that holds an index.json (or is empty)\n"
          "      --zstd-level L         zstd level 1..22, 0 = uncompressed shards (default 3)\n"
          "      --shard-size SIZE      raw bytes per shard before a new one starts (default 64M)\n"
          "Reading (subcommands):\n"
          "  stat DIR                   rows, documents, tokens, trained tokens, fill rate, padding, shards\n"
          "  verify DIR                 hashes, structure and index against shards; exit 1 at the first bad shard\n"
          "  cat DIR                    every row as a JSON line; with --docs, every document\n"
          "      --docs                 cat: one {\"input_ids\",\"loss_mask\"} line per document, as\n"
          "                             ft-tokenize --format jsonl writes them\n"
          "  -q, --quiet                errors only\n"
          "  -v, --verbose              more detail (with --version: build)\n"
          "  -h, --help                 this help\n"
          "  -V, --version              version\n"
          "\n"
          "Exit status: 0 success, 1 an input or the output failed (nothing is left in DIR's place) or verify\n"
          "found a bad shard, 2 usage error.\n",
          f);
}

enum { O_PACK = 256, O_WINDOW, O_SEED, O_OVERLONG, O_LEVEL, O_SHARD, O_DOCS };

static void parse_options(int argc, char **argv, options *o, int sub) {
    static const struct option longs[] = {
        {"seq-len", required_argument, 0, 'n'},   {"pack", required_argument, 0, O_PACK},
        {"window", required_argument, 0, O_WINDOW}, {"seed", required_argument, 0, O_SEED},
        {"overlong", required_argument, 0, O_OVERLONG}, {"output", required_argument, 0, 'o'},
        {"force", no_argument, 0, 'f'},          {"zstd-level", required_argument, 0, O_LEVEL},
        {"shard-size", required_argument, 0, O_SHARD}, {"docs", no_argument, 0, O_DOCS},
        {"quiet", no_argument, 0, 'q'},          {"verbose", no_argument, 0, 'v'},
        {"help", no_argument, 0, 'h'},           {"version", no_argument, 0, 'V'},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    o->window = 10000;
    o->level = 3;
    o->shard_size = 1u << 26;
    int quiet = 0, version = 0, c;
    while ((c = getopt_long(argc, argv, "n:o:fqvhV", longs, NULL)) != -1) {
        switch (c) {
        case 'n': o->seq_len = ft_cli_count("seq-len", optarg, 1, FT_MDS_MAX_ROW); break;
        case O_PACK:
            if ((o->pack = ft_parse_choice(optarg, pack_names)) < 0)
                ft_cli_usage("invalid value for --pack: '%s' (ffd, shuffle, none)", optarg);
            break;
        case O_WINDOW: o->window = ft_cli_count("window", optarg, 1, 1u << 26); break;
        case O_SEED: o->seed = ft_cli_count("seed", optarg, 0, UINT64_MAX); break;
        case O_OVERLONG:
            if ((o->overlong = ft_parse_choice(optarg, overlong_names)) < 0)
                ft_cli_usage("invalid value for --overlong: '%s' (truncate, drop, split)", optarg);
            break;
        case 'o': o->output = optarg; break;
        case 'f': o->force = 1; break;
        case O_LEVEL: o->level = (int)ft_cli_count("zstd-level", optarg, 0, 22); break;
        case O_SHARD:
            if (ft_parse_size(optarg, 4096, FT_MDS_MAX_SHARD, &o->shard_size) < 0)
                ft_cli_usage("invalid value for --shard-size: '%s' (expected a size 4K..2G)", optarg);
            break;
        case O_DOCS: o->docs = 1; break;
        case 'q': quiet = 1; break;
        case 'v': o->verbose++; break;
        case 'h': usage(stdout); exit(fclose(stdout) ? 1 : 0);
        case 'V': version = 1; break;
        default: fputs("Try 'ft-pack --help'.\n", stderr); exit(2);
        }
    }
    if (version) {
        printf(PROG " (ft) " FT_VERSION "\n");
        if (o->verbose) printf("build: %s; zstd %s, xxHash %u\n", FT_BUILD_INFO, ZSTD_versionString(), XXH_versionNumber());
        exit(fclose(stdout) ? 1 : 0);
    }
    ft_log_init(PROG, quiet ? FT_LOG_QUIET : FT_LOG_NORMAL + o->verbose);
    if (sub) {
        if (argc - optind != 1) ft_cli_usage("%s takes one directory", argv[0]);
        if (o->docs && strcmp(argv[0], "cat")) ft_cli_usage("--docs goes with cat");
        return;
    }
    if (!o->seq_len) ft_cli_usage("--seq-len is required");
    if (!o->output) ft_cli_usage("--output DIR is required");
    if (!strcmp(o->output, "-")) ft_cli_usage("--output must be a directory, not stdout");
    if (o->docs) ft_cli_usage("--docs goes with cat");
}

/* ---- packing ------------------------------------------------------------------------------------------ */

typedef struct {
    uint64_t records, documents, rows, tokens, trained, split, pieces, truncated, dropped, cut_tokens;
} counts;

typedef struct {
    const options *o;
    ft_mds_writer *w;
    ft_rng rng;
    uint32_t *ids;   /* (ntok) the window's documents, one after another */
    uint8_t *mask;   /* (ntok) */
    size_t ntok, cap_tok;
    uint64_t *start; /* (ndocs) where each document starts in ids */
    uint32_t *lens;  /* (ndocs) */
    size_t ndocs;
    uint32_t *order, *row_end, *row_lens;
    const uint32_t **row_ids; /* a row's documents where they lie in ids and mask */
    const uint8_t **row_mask;
    counts c;
    ft_buf why;
} packer;

static int flush_window(packer *p) {
    size_t rows = pack_window(p->o->pack, p->lens, p->ndocs, (uint32_t)p->o->seq_len, &p->rng, p->order, p->row_end);
    for (size_t r = 0, k = 0; r < rows; r++) {
        size_t n = 0, docs = 0;
        for (; k < p->row_end[r]; k++, docs++) {
            uint32_t d = p->order[k];
            p->row_ids[docs] = p->ids + p->start[d];
            p->row_mask[docs] = p->mask + p->start[d];
            n += p->row_lens[docs] = p->lens[d];
        }
        FT_ASSERT(n <= p->o->seq_len);
        int rc = ft_mds_writer_add_docs(p->w, p->row_ids, p->row_mask, p->row_lens, docs, &p->why);
        if (rc < 0) return rc;
        p->c.rows++;
    }
    p->ntok = p->ndocs = 0;
    return 0;
}

/* Adds one document (ids/mask[0..n), n <= seq_len) to the window, packing the window when it is full. */
static int add_doc(packer *p, const uint32_t *ids, const uint8_t *mask, size_t n) {
    if (p->ntok + n > p->cap_tok) {
        while (p->ntok + n > p->cap_tok) p->cap_tok = p->cap_tok ? 2 * p->cap_tok : 1u << 20;
        p->ids = ft_xrealloc(p->ids, p->cap_tok * sizeof *p->ids);
        p->mask = ft_xrealloc(p->mask, p->cap_tok);
    }
    memcpy(p->ids + p->ntok, ids, n * sizeof *ids);
    memcpy(p->mask + p->ntok, mask, n);
    p->start[p->ndocs] = p->ntok;
    p->lens[p->ndocs++] = (uint32_t)n;
    p->ntok += n;
    p->c.documents++;
    p->c.tokens += n;
    for (size_t i = 0; i < n; i++) p->c.trained += mask[i];
    return p->ndocs == p->o->window ? flush_window(p) : 0;
}

static int add_record(packer *p, const ft_tokrec *rec) {
    size_t L = p->o->seq_len;
    p->c.records++;
    if (rec->n <= L) return add_doc(p, rec->ids, rec->mask, rec->n);
    switch (p->o->overlong) {
    case OVER_DROP:
        p->c.dropped++;
        p->c.cut_tokens += rec->n;
        return 0;
    case OVER_TRUNCATE:
        p->c.truncated++;
        p->c.cut_tokens += rec->n - L;
        return add_doc(p, rec->ids, rec->mask, L);
    default:
        p->c.split++;
        for (size_t at = 0; at < rec->n; at += L) {
            p->c.pieces++;
            FT_TRY(add_doc(p, rec->ids + at, rec->mask + at, rec->n - at < L ? rec->n - at : L));
        }
        return 0;
    }
}

/* ft_pack's metadata in index.json: the options, the first stream's header and the counts. */
static void put_meta(ft_buf *b, const options *o, const ft_tokstream_info *in, const counts *c) {
    ft_buf_addf(b, "{\"version\": 1, \"tool\": \"ft-pack %s\", \"seq_len\": %llu, \"pack\": \"%s\", \"window\": %llu, "
                   "\"seed\": %llu, \"overlong\": \"%s\", \"tokenizer_hash\": ",
                FT_VERSION, (unsigned long long)o->seq_len, pack_names[o->pack], (unsigned long long)o->window,
                (unsigned long long)o->seed, overlong_names[o->overlong]);
    ft_json_put_string(b, in ? in->hash : "", in ? strlen(in->hash) : 0);
    ft_buf_adds(b, ", \"vocab_size\": ");
    ft_buf_addf(b, "%u, \"template\": ", in ? in->vocab_size : 0);
    ft_json_put_string(b, in ? in->template_name : "", in ? strlen(in->template_name) : 0);
    ft_buf_adds(b, ", \"token_stream\": ");
    if (in) ft_json_put_compact(b, in->json, in->json_len);
    else ft_buf_adds(b, "null");
    double fill = c->rows ? (double)c->tokens / ((double)c->rows * (double)o->seq_len) : 0;
    ft_buf_addf(b, ", \"stats\": {\"records\": %llu, \"documents\": %llu, \"rows\": %llu, \"tokens\": %llu, "
                   "\"trained_tokens\": %llu, \"truncated\": %llu, \"dropped\": %llu, \"split\": %llu, "
                   "\"split_pieces\": %llu, \"cut_tokens\": %llu, \"fill_rate\": %.6f}}",
                (unsigned long long)c->records, (unsigned long long)c->documents, (unsigned long long)c->rows,
                (unsigned long long)c->tokens, (unsigned long long)c->trained, (unsigned long long)c->truncated,
                (unsigned long long)c->dropped, (unsigned long long)c->split, (unsigned long long)c->pieces,
                (unsigned long long)c->cut_tokens, fill);
}

/* Reads one token stream into the packer. Returns 0, or 1 after printing what failed. */
static int read_stream(packer *p, const char *path, ft_tokstream_info *first, char **first_json, uint64_t *bytes) {
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        ft_error("cannot open input: '%s': %s", path, strerror(errno));
        return 1;
    }
    setvbuf(f, NULL, _IOFBF, 1u << 20); /* a few large reads instead of several small ones per record */
    ft_tokstream_reader *r;
    ft_buf why;
    ft_buf_init(&why);
    int rc = ft_tokstream_open(f, &r, &why), bad = 0;
    if (rc < 0) {
        ft_error("cannot read token stream: '%s': %s", path, why.len ? why.data : ft_strerror(rc));
        bad = 1;
    } else {
        const ft_tokstream_info *in = ft_tokstream_info_of(r);
        if (!*first_json) {
            *first = *in;
            *first_json = first->json = ft_xstrdup(in->json);
        } else if (strcmp(first->hash, in->hash) || first->vocab_size != in->vocab_size) {
            ft_error("'%s' was made with another tokenizer (hash %s) than the first input (hash %s)", path, in->hash,
                     first->hash);
            bad = 1;
        }
        ft_tokrec rec;
        while (!bad && (rc = ft_tokstream_next(r, &rec)) > 0) {
            *bytes += 16 + rec.n * 4 + (rec.n + 7) / 8 + 8;
            if ((rc = add_record(p, &rec)) < 0) {
                ft_error("cannot write shards: '%s': %s", p->o->output, p->why.len ? p->why.data : ft_strerror(rc));
                bad = 1;
            }
        }
        if (!bad && rc < 0) {
            ft_error("cannot read token stream: '%s': %s", path, ft_tokstream_error(r));
            bad = 1;
        }
        ft_tokstream_close(r);
    }
    if (f != stdin) fclose(f);
    ft_buf_release(&why);
    return bad;
}

/* An existing output may be replaced only when it looks like a dataset (or is empty): never a user's dir. */
static int replaceable(const char *dir) {
    ft_buf path;
    ft_buf_init(&path);
    ft_buf_addf(&path, "%s/index.json", dir);
    struct stat st;
    int ok = stat(path.data, &st) == 0 || rmdir(dir) == 0 || errno == ENOENT;
    if (!ok && mkdir(dir, 0777) == 0) ok = 1; /* rmdir succeeded only if it was empty: nothing to restore */
    ft_buf_release(&path);
    return ok;
}

static int pack_main(const options *o, int ninputs, char **inputs) {
    struct stat st;
    if (stat(o->output, &st) == 0 && (!o->force || !S_ISDIR(st.st_mode) || !replaceable(o->output))) {
        ft_error("cannot write output: '%s': %s", o->output,
                 !o->force ? "exists (use --force to replace it)"
                           : S_ISDIR(st.st_mode) ? "not an ft-pack dataset (no index.json), not replaced"
                                                 : "not a directory");
        return 1;
    }
    ft_atomic_dir *dir;
    if (ft_atomic_dir_open(o->output, &dir) < 0) {
        ft_error("cannot write output: '%s': %s", o->output, strerror(errno));
        return 1;
    }
    packer p;
    memset(&p, 0, sizeof p);
    p.o = o;
    ft_rng_seed(&p.rng, o->seed);
    size_t W = o->window;
    p.start = ft_xmalloc(W * sizeof *p.start), p.lens = ft_xmalloc(W * sizeof *p.lens);
    p.order = ft_xmalloc(W * sizeof *p.order), p.row_end = ft_xmalloc(W * sizeof *p.row_end);
    p.row_lens = ft_xmalloc(W * sizeof *p.row_lens);
    p.row_ids = ft_xmalloc(W * sizeof *p.row_ids), p.row_mask = ft_xmalloc(W * sizeof *p.row_mask);
    int rc = ft_mds_writer_new(ft_atomic_dir_temp(dir), o->level, o->shard_size, &p.w);
    FT_ASSERT(rc == 0);
    ft_tokstream_info first;
    char *first_json = NULL;
    uint64_t bytes = 0;
    double t0 = ft_now();
    int bad = 0;
    for (int i = 0; i < ninputs && !bad; i++) bad = read_stream(&p, inputs[i], &first, &first_json, &bytes);
    if (!bad && p.ndocs && (rc = flush_window(&p)) < 0) {
        ft_error("cannot write shards: '%s': %s", o->output, p.why.len ? p.why.data : ft_strerror(rc));
        bad = 1;
    }
    if (!bad) {
        ft_buf meta;
        ft_buf_init(&meta);
        put_meta(&meta, o, first_json ? &first : NULL, &p.c);
        if ((rc = ft_mds_writer_finish(p.w, meta.data, &p.why)) < 0) {
            ft_error("cannot write shards: '%s': %s", o->output, p.why.len ? p.why.data : ft_strerror(rc));
            bad = 1;
        }
        ft_buf_release(&meta);
    }
    size_t shards = ft_mds_writer_shards(p.w);
    ft_mds_writer_free(p.w);
    if (bad) {
        ft_atomic_dir_abort(dir);
    } else if (ft_atomic_dir_commit(dir, o->force) < 0) {
        ft_error("cannot write output: '%s': %s", o->output, errno == EEXIST ? "exists" : strerror(errno));
        bad = 1;
    }
    double secs = ft_now() - t0;
    if (!bad) {
        const counts *c = &p.c;
        double fill = c->rows ? (double)c->tokens / ((double)c->rows * (double)o->seq_len) : 0;
        ft_info("%llu records, %llu documents, %llu rows (%zu shards), %llu tokens, %llu trained, fill %.2f%%; "
                "overlong: %llu truncated, %llu dropped, %llu split; in %.2fs (%.1f MB/s)",
                (unsigned long long)c->records, (unsigned long long)c->documents, (unsigned long long)c->rows, shards,
                (unsigned long long)c->tokens, (unsigned long long)c->trained, 100 * fill,
                (unsigned long long)c->truncated, (unsigned long long)c->dropped, (unsigned long long)c->split, secs,
                secs > 0 ? (double)bytes / 1e6 / secs : 0.0);
    }
    free(first_json);
    free(p.ids), free(p.mask), free(p.start), free(p.lens), free(p.order), free(p.row_end), free(p.row_lens);
    free((void *)p.row_ids), free((void *)p.row_mask);
    ft_buf_release(&p.why);
    return bad;
}

/* ---- stat, verify, cat ------------------------------------------------------------------------------- */

static void put_u32_list(ft_buf *b, const char *key, const uint32_t *v, size_t n) {
    ft_buf_addf(b, "\"%s\":[", key);
    for (size_t i = 0; i < n; i++) ft_buf_addf(b, i ? ",%u" : "%u", v[i]);
    ft_buf_addc(b, ']');
}
static void put_mask_list(ft_buf *b, const uint8_t *v, size_t n) {
    ft_buf_adds(b, "\"loss_mask\":[");
    ft_buf_reserve(b, 2 * n);
    for (size_t i = 0; i < n; i++) {
        if (i) ft_buf_addc(b, ',');
        ft_buf_addc(b, (char)('0' + v[i]));
    }
    ft_buf_addc(b, ']');
}

/* The seq_len ft-pack recorded in the index, or 0. */
static uint64_t index_seq_len(const ft_mds_index *ix) { return ft_mds_index_seq_len(ix); }

enum { SUB_STAT, SUB_VERIFY, SUB_CAT };

static int read_main(const options *o, int sub, const char *dir) {
    ft_mds_index ix;
    ft_buf why, line;
    ft_buf_init(&why), ft_buf_init(&line);
    int rc = ft_mds_index_load(dir, &ix, &why);
    if (rc < 0) {
        ft_error("cannot read dataset: '%s/index.json': %s", dir, why.len ? why.data : ft_strerror(rc));
        ft_buf_release(&why);
        return 1;
    }
    ft_mds_rowbuf r;
    ft_mds_rowbuf_init(&r);
    uint64_t rows = 0, docs = 0, tokens = 0, trained = 0, longest = 0;
    int bad = 0;
    for (size_t s = 0; s < ix.nshards && !bad; s++) {
        ft_mds_shard sh;
        ft_buf_clear(&why);
        rc = ft_mds_shard_load(dir, &ix, s, &sh, &why);
        for (uint32_t i = 0; rc == 0 && i < sh.n; i++) {
            if ((rc = ft_mds_shard_row(&sh, i, &r, &why)) < 0) break;
            rows++, docs += r.docs, tokens += r.n;
            if (r.n > longest) longest = r.n;
            for (size_t k = 0; k < r.n; k++) trained += r.mask[k];
            if (sub != SUB_CAT) continue;
            if (!o->docs) {
                ft_buf_clear(&line);
                ft_buf_addc(&line, '{');
                put_u32_list(&line, "input_ids", r.ids, r.n);
                ft_buf_addc(&line, ',');
                put_mask_list(&line, r.mask, r.n);
                ft_buf_addc(&line, ',');
                put_u32_list(&line, "seq_lens", r.seq_lens, r.docs);
                ft_buf_adds(&line, "}\n");
                fwrite(line.data, 1, line.len, stdout);
                continue;
            }
            for (size_t d = 0, at = 0; d < r.docs; at += r.seq_lens[d++]) {
                ft_buf_clear(&line);
                ft_buf_addc(&line, '{');
                put_u32_list(&line, "input_ids", r.ids + at, r.seq_lens[d]);
                ft_buf_addc(&line, ',');
                put_mask_list(&line, r.mask + at, r.seq_lens[d]);
                ft_buf_adds(&line, "}\n");
                fwrite(line.data, 1, line.len, stdout);
            }
        }
        if (rc < 0) {
            ft_error("%s: '%s/%s': %s", sub == SUB_VERIFY ? "verify failed" : "cannot read shard", dir,
                     ix.shards[s].basename, why.len ? why.data : ft_strerror(rc));
            bad = 1;
        }
        ft_mds_shard_release(&sh);
    }
    uint64_t seq_len = index_seq_len(&ix);
    if (!bad && seq_len && longest > seq_len) {
        ft_error("%s: '%s': a row of %llu tokens is longer than seq_len %llu", sub == SUB_VERIFY ? "verify failed" : "bad dataset",
                 dir, (unsigned long long)longest, (unsigned long long)seq_len);
        bad = 1;
    }
    if (!bad && sub == SUB_VERIFY && ix.ft_json) {
        /* The counts ft-pack recorded must be what the shards hold. */
        cJSON *j;
        size_t off;
        if (ft_json_parse(ix.ft_json, strlen(ix.ft_json), &j, &off) == 0) {
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "stats");
            const char *keys[] = {"rows", "documents", "tokens", "trained_tokens"};
            uint64_t have[] = {rows, docs, tokens, trained};
            for (int k = 0; k < 4 && !bad; k++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(st, keys[k]);
                if (cJSON_IsNumber(v) && v->valuedouble != (double)have[k]) {
                    ft_error("verify failed: '%s/index.json': ft_pack.stats.%s is %.0f, the shards hold %llu", dir,
                             keys[k], v->valuedouble, (unsigned long long)have[k]);
                    bad = 1;
                }
            }
            cJSON_Delete(j);
        }
    }
    if (!bad && sub == SUB_STAT) {
        if (!seq_len) seq_len = longest;
        double slots = (double)rows * (double)seq_len;
        printf("rows            %llu\ndocuments       %llu\ntokens          %llu\ntrained_tokens  %llu\n"
               "seq_len         %llu\nfill_rate       %.4f\npadding_tokens  %llu\npadding_waste   %.4f\n"
               "shards          %zu\n",
               (unsigned long long)rows, (unsigned long long)docs, (unsigned long long)tokens,
               (unsigned long long)trained, (unsigned long long)seq_len, slots > 0 ? tokens / slots : 0.0,
               (unsigned long long)(rows * seq_len - tokens), slots > 0 ? 1 - tokens / slots : 0.0, ix.nshards);
        for (size_t s = 0; s < ix.nshards; s++)
            printf("%s  samples %u  raw %llu  file %llu\n", ix.shards[s].basename, ix.shards[s].samples,
                   (unsigned long long)ix.shards[s].raw_bytes, (unsigned long long)ix.shards[s].file_bytes);
    }
    if (!bad && sub == SUB_VERIFY)
        ft_info("%s: ok: %zu shards, %llu rows, %llu documents, %llu tokens", dir, ix.nshards,
                (unsigned long long)rows, (unsigned long long)docs, (unsigned long long)tokens);
    ft_mds_rowbuf_release(&r);
    ft_mds_index_release(&ix);
    ft_buf_release(&why), ft_buf_release(&line);
    return bad;
}

int main(int argc, char **argv) {
    ft_cli_init(PROG, "Usage: ft-pack --seq-len N -o DIR [OPTIONS] [FILE...]\n"
                      "       ft-pack stat DIR | verify DIR | cat [--docs] DIR");
    static const char *const subs[] = {"stat", "verify", "cat", NULL};
    int sub = argc > 1 ? ft_parse_choice(argv[1], subs) : -1;
    options o;
    int rc;
    if (sub >= 0) {
        parse_options(argc - 1, argv + 1, &o, 1);
        rc = read_main(&o, sub, argv[1 + optind]);
    } else {
        parse_options(argc, argv, &o, 0);
        int ninputs;
        char **inputs = ft_cli_inputs(argc, argv, optind, &ninputs);
        rc = pack_main(&o, ninputs, inputs);
    }
    if (fclose(stdout) != 0 && rc == 0) {
        ft_error("cannot write output: '<stdout>': %s", strerror(errno));
        rc = 1;
    }
    return rc;
}
