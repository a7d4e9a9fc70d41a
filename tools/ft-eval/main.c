/* ft-eval: C-Eval, CMMLU and MMLU few-shot accuracy of a model (and a LoRA adapter) on the CPU backend.
 * Rule: main.c owns options, the tokenizer, the model, files, messages and exit status; task.c reads the
 * data, prompt.c writes the prompts, report.c does the arithmetic. Per subject the shared few-shot prefix is
 * run once into a KV cache and each question steps only the tokens after the prefix it shares with the cache.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "cli.h"
#include "eval.h"
#include "json.h"
#include "log.h"
#include "model.h"
#include "parse.h"
#include "tokenizer.h"

#ifndef FT_BUILD_INFO
#define FT_BUILD_INFO "unknown configuration"
#endif

#define PROG "ft-eval"
/* Below this hidden size the default is one thread (stories260K, C = 64: 6.8 s for the C-Eval val split with
 * --max-length 64 on one thread, 163 s on two busy cores). */
#define SMALL_HIDDEN 512

static const char *const bos_names[] = {"auto", "yes", "no", NULL};
static const char *const letter_names[] = {"context", "encode", NULL};
static const char *const quant_names[] = {"fp32", "bf16", "nf4", NULL};
static const char *const device_names[] = {"auto", "cpu", "cuda", NULL};
enum { BOS_AUTO, BOS_YES, BOS_NO };
enum { LETTER_CONTEXT, LETTER_ENCODE };
enum { DEV_AUTO, DEV_CPU, DEV_CUDA };

typedef struct {
    const char *model, *adapter, *data, *tokenizer, *split, *subjects, *arch;
    const char *json, *submission, *dump;
    int task, shots, bos, letters, quant, device, threads, verbose, quiet, predictions, max_length, no_reuse;
} options;

static void usage(FILE *f) {
    fputs("Usage: ft-eval --model DIR [--adapter DIR] --task ceval|cmmlu|mmlu --data DIR [OPTIONS]\n"
          "       ft-eval --task ceval|cmmlu|mmlu --data DIR --dump-prompts FILE   (prompts only)\n"
          "Few-shot multiple-choice accuracy: the prediction is the answer letter (A-D) whose token\n"
          "has the largest logit after the prompt. Prints a table per subject, the category means,\n"
          "C-Eval Hard and the averages over subjects (official) and over questions on stdout.\n"
          "\n"
          "Model:\n"
          "  -m, --model DIR          Hugging Face model directory (config.json + safetensors or .bin)\n"
          "  -a, --adapter DIR        PEFT LoRA adapter applied to the model\n"
          "  -t, --tokenizer PATH     tokenizer.model, tokenizer.json, qwen.tiktoken or a directory\n"
          "                           holding one (default: the model directory)\n"
          "      --arch NAME          architecture instead of config.json's (llama, qwen2, ...)\n"
          "      --quant TYPE         linear weights as fp32 (default), bf16 or nf4 (bitsandbytes')\n"
          "      --device DEV         cpu, cuda or auto (= cpu; this build has no CUDA backend yet)\n"
          "  -j, --threads N          CPU threads (default: all; 1 for a hidden size below 512)\n"
          "Benchmark:\n"
          "  -T, --task NAME          ceval, cmmlu or mmlu\n"
          "  -d, --data DIR           the benchmark directory (mapping.json, dev/, the split's folder)\n"
          "      --split NAME         ceval: val (default) or test; cmmlu: test; mmlu: test (default)\n"
          "                           or val\n"
          "  -k, --shots K            dev rows before each question, 0..5 (default 5)\n"
          "  -s, --subjects LIST      comma-separated subject handles (default: all in mapping.json)\n"
          "      --max-length N       the longest prompt in tokens (default: the model's positions);\n"
          "                           longer prompts lose tokens from their start, the prefix shared\n"
          "                           by a subject's questions first (BOS kept)\n"
          "      --no-prefix-reuse    run every prompt from its first token (the same predictions,\n"
          "                           slower; for checking the KV cache and for benchmarks)\n"
          "      --bos WHEN           start prompts with BOS: auto (as Hugging Face's tokenizer(prompt):\n"
          "                           tokenizer_config.json add_bos_token, else yes for SentencePiece,\n"
          "                           no for byte-level BPE), yes or no\n"
          "      --letter-ids RULE    the token of answer letter X: context (default: the last id of\n"
          "                           the encoded cue + X, e.g. \"答案：A\") or encode (the last id of\n"
          "                           encode(\"X\"), as Baichuan's and LLaMA-Factory's scripts do)\n"
          "Output:\n"
          "      --json FILE          everything as JSON: run, summary, each subject's correct, total,\n"
          "                           acc ('-': stdout, instead of the table)\n"
          "      --predictions        the JSON also lists each question's prediction\n"
          "      --submission FILE    C-Eval's submission JSON {subject: {id: letter}} (--split test)\n"
          "      --dump-prompts FILE  each prompt's exact text as JSON lines {subject, id, prompt}\n"
          "  -q, --quiet              errors only\n"
          "  -v, --verbose            the effective settings and letter ids (with --version: build)\n"
          "  -h, --help               this help\n"
          "  -V, --version            version\n"
          "\n"
          "Exit status: 0 success, 1 failure (unreadable data, model or tokenizer; bad CSV rows are\n"
          "reported with file:line and left out, and make the status 1), 2 usage error.\n",
          f);
}

enum { O_ARCH = 256, O_QUANT, O_DEVICE, O_SPLIT, O_BOS, O_LETTERS, O_JSON, O_PREDS, O_SUBMIT, O_DUMP,
       O_MAXLEN, O_NOREUSE };

static int choice(const char *opt, const char *v, const char *const *names) {
    int k = ft_parse_choice(v, names);
    if (k < 0) {
        ft_buf all;
        ft_buf_init(&all);
        for (int i = 0; names[i]; i++) ft_buf_addf(&all, "%s%s", i ? ", " : "", names[i]);
        ft_cli_usage("invalid value for --%s: '%s' (%s)", opt, v, all.data);
    }
    return k;
}

static void parse_options(int argc, char **argv, options *o) {
    static const struct option longs[] = {
        {"model", required_argument, 0, 'm'},      {"adapter", required_argument, 0, 'a'},
        {"tokenizer", required_argument, 0, 't'},  {"arch", required_argument, 0, O_ARCH},
        {"quant", required_argument, 0, O_QUANT},  {"device", required_argument, 0, O_DEVICE},
        {"threads", required_argument, 0, 'j'},    {"task", required_argument, 0, 'T'},
        {"data", required_argument, 0, 'd'},       {"split", required_argument, 0, O_SPLIT},
        {"shots", required_argument, 0, 'k'},      {"subjects", required_argument, 0, 's'},
        {"bos", required_argument, 0, O_BOS},      {"letter-ids", required_argument, 0, O_LETTERS},
        {"json", required_argument, 0, O_JSON},    {"predictions", no_argument, 0, O_PREDS},
        {"submission", required_argument, 0, O_SUBMIT}, {"dump-prompts", required_argument, 0, O_DUMP},
        {"max-length", required_argument, 0, O_MAXLEN}, {"no-prefix-reuse", no_argument, 0, O_NOREUSE},
        {"quiet", no_argument, 0, 'q'},            {"verbose", no_argument, 0, 'v'},
        {"help", no_argument, 0, 'h'},             {"version", no_argument, 0, 'V'},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    o->task = -1;
    o->shots = 5;
    int version = 0, c;
    while ((c = getopt_long(argc, argv, "m:a:t:j:T:d:k:s:qvhV", longs, NULL)) != -1) {
        switch (c) {
        case 'm': o->model = optarg; break;
        case 'a': o->adapter = optarg; break;
        case 't': o->tokenizer = optarg; break;
        case O_ARCH: o->arch = optarg; break;
        case O_QUANT: o->quant = choice("quant", optarg, quant_names); break;
        case O_DEVICE: o->device = choice("device", optarg, device_names); break;
        case 'j': o->threads = (int)ft_cli_count("threads", optarg, 1, 1024); break;
        case 'T': o->task = choice("task", optarg, ev_task_names); break;
        case 'd': o->data = optarg; break;
        case O_SPLIT: o->split = optarg; break;
        case 'k': o->shots = (int)ft_cli_count("shots", optarg, 0, 5); break;
        case 's': o->subjects = optarg; break;
        case O_BOS: o->bos = choice("bos", optarg, bos_names); break;
        case O_LETTERS: o->letters = choice("letter-ids", optarg, letter_names); break;
        case O_JSON: o->json = optarg; break;
        case O_PREDS: o->predictions = 1; break;
        case O_SUBMIT: o->submission = optarg; break;
        case O_DUMP: o->dump = optarg; break;
        case O_NOREUSE: o->no_reuse = 1; break;
        case O_MAXLEN: o->max_length = (int)ft_cli_count("max-length", optarg, 2, 1 << 24); break;
        case 'q': o->quiet = 1; break;
        case 'v': o->verbose++; break;
        case 'h': usage(stdout); exit(fclose(stdout) ? 1 : 0);
        case 'V': version = 1; break;
        default: fputs("Try 'ft-eval --help'.\n", stderr); exit(2);
        }
    }
    if (version) {
        printf(PROG " (ft) " FT_VERSION "\n");
        if (o->verbose) printf("build: %s\n", FT_BUILD_INFO);
        exit(fclose(stdout) ? 1 : 0);
    }
    ft_log_init(PROG, o->quiet ? FT_LOG_QUIET : FT_LOG_NORMAL + o->verbose);
    if (optind < argc) ft_cli_usage("unexpected operand '%s'", argv[optind]);
    if (o->task < 0) ft_cli_usage("--task is required (ceval, cmmlu or mmlu)");
    if (!o->data) ft_cli_usage("--data DIR is required");
    if (!o->model && !o->dump) ft_cli_usage("--model DIR is required (or --dump-prompts FILE alone)");
    if (o->submission && o->task != EV_CEVAL) ft_cli_usage("--submission is C-Eval's format (--task ceval)");
    if (o->arch) {
        ft_arch a;
        if (ft_arch_from_name(o->arch, &a) < 0)
            ft_cli_usage("invalid value for --arch: '%s' (%s)", o->arch, ft_arch_names());
    }
}

/* ---- output files ------------------------------------------------------------------------------------ */

/* Writes b to path atomically ("-" = stdout). Returns 0, or 1 after printing what failed. */
static int write_file(const char *path, const char *what, const ft_buf *b) {
    ft_atomic *a;
    if (ft_atomic_open(path, &a) < 0) {
        ft_error("cannot write %s: '%s': %s", what, path, strerror(errno));
        return 1;
    }
    if (fwrite(b->data, 1, b->len, ft_atomic_stream(a)) != b->len) {
        int e = errno;
        ft_atomic_abort(a);
        errno = e;
    } else if (ft_atomic_commit(a) == 0) {
        return 0;
    }
    ft_error("cannot write %s: '%s': %s", what, path, strerror(errno ? errno : EIO));
    return 1;
}

/* --dump-prompts: one JSON line per question of every subject. */
static void dump_prompts(ft_buf *out, const ev_set *set, int shots) {
    ft_buf prefix, text;
    ft_buf_init(&prefix), ft_buf_init(&text);
    for (size_t i = 0; i < set->nsubj; i++) {
        const ev_subject *s = &set->subj[i];
        ft_buf_clear(&prefix);
        ev_prompt_prefix(&prefix, set->task, s, shots);
        for (size_t j = 0; j < s->nitems; j++) {
            ft_buf_clear(&text);
            ft_buf_add(&text, prefix.data, prefix.len);
            ev_prompt_question(&text, set->task, &s->items[j]);
            ft_buf_adds(out, "{\"subject\": ");
            ft_json_put_string(out, s->handle, strlen(s->handle));
            ft_buf_adds(out, ", \"id\": ");
            ft_json_put_string(out, s->items[j].id, strlen(s->items[j].id));
            ft_buf_adds(out, ", \"prompt\": ");
            ft_json_put_string(out, text.data, text.len);
            ft_buf_adds(out, "}\n");
        }
    }
    ft_buf_release(&prefix), ft_buf_release(&text);
}

/* ---- tokenizer decisions ------------------------------------------------------------------------------- */

/* add_bos_token from tokenizer_config.json beside the tokenizer (or in the model directory): 1, 0, or -1 when
 * no such file or key. */
static int config_add_bos(const char *dir) {
    ft_buf p;
    ft_buf_init(&p);
    ft_buf_addf(&p, "%s/tokenizer_config.json", dir);
    char *text;
    size_t n, off;
    int r = -1;
    cJSON *j = NULL;
    if (ft_read_file(p.data, 1u << 24, &text, &n, NULL) == 0) {
        if (ft_json_parse(text, n, &j, &off) == 0) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "add_bos_token");
            if (cJSON_IsBool(v)) r = cJSON_IsTrue(v);
        } else {
            ft_warn("ignoring '%s': malformed JSON at byte %zu", p.data, off);
        }
        cJSON_Delete(j);
        free(text);
    }
    ft_buf_release(&p);
    return r;
}

/* --bos auto: what Hugging Face's tokenizer(prompt) does. */
static int decide_bos(const options *o, const ft_tokenizer *tk, const char **why) {
    if (o->bos != BOS_AUTO) {
        *why = "--bos";
        return o->bos == BOS_YES && tk->bos_id >= 0;
    }
    int r = -1;
    if (o->tokenizer) { /* beside the tokenizer: the directory given, or the folder of the file given */
        r = config_add_bos(o->tokenizer);
        if (r < 0) {
            char *copy = ft_xstrdup(o->tokenizer);
            r = config_add_bos(dirname(copy));
            free(copy);
        }
    }
    if (r < 0 && o->model) r = config_add_bos(o->model);
    if (r >= 0) {
        *why = "tokenizer_config.json add_bos_token";
        return r && tk->bos_id >= 0;
    }
    *why = strcmp(tk->ops->kind, "sentencepiece") ? "byte-level BPE adds none" : "SentencePiece adds <s>";
    return !strcmp(tk->ops->kind, "sentencepiece") && tk->bos_id >= 0;
}

/* The four answer-letter ids by the chosen rule. Returns 0, or 1 after printing why. */
static int letter_ids(const options *o, const ft_tokenizer *tk, ev_task t, uint32_t ids[4]) {
    ft_buf text, dec;
    ft_ids v;
    ft_buf_init(&text), ft_buf_init(&dec), ft_ids_init(&v);
    int rc = 0;
    for (int k = 0; k < 4 && !rc; k++) {
        char letter = (char)('A' + k);
        ft_buf_clear(&text);
        if (o->letters == LETTER_CONTEXT) ev_prompt_letter_context(&text, t, letter);
        else ft_buf_addc(&text, letter);
        v.n = 0;
        if (ft_tokenizer_encode_special(tk, text.data, text.len, &v) < 0 || !v.n) {
            ft_error("cannot encode the answer letter: '%s'", text.data);
            rc = 1;
            break;
        }
        ids[k] = v.v[v.n - 1];
        ft_buf_clear(&dec);
        ft_tokenizer_decode(tk, &ids[k], 1, &dec);
        const char *d = dec.data ? dec.data : "";
        while (*d == ' ') d++;
        if (strcmp(d, (const char[]){letter, 0}))
            ft_warn("the last token of '%s' is '%s', not the letter alone", text.data,
                    dec.data ? dec.data : "");
        for (int j = 0; j < k; j++)
            if (ids[j] == ids[k]) {
                ft_error("answer letters %c and %c get the same token id %u", 'A' + j, letter, ids[k]);
                rc = 1;
            }
    }
    ft_buf_release(&text), ft_buf_release(&dec), ft_ids_release(&v);
    return rc;
}

/* ---- the run ------------------------------------------------------------------------------------------ */

typedef struct {
    const options *o;
    const ev_set *set;
    ft_model *m;
    ft_tokenizer *tk;
    int bos, max_pos, V;
    uint32_t letters[4];
    ft_kvcache *kv;
    int kv_cap;
    int32_t *cached; /* (kv_cap) the ids the cache holds */
    float *logits;   /* (V) */
    ev_count *counts; /* (nsubj) */
    char *preds;      /* (questions) */
    uint64_t forwarded, without_reuse, truncated;
    int warned;
    double start, last_draw;
    size_t done, total;
} run;

static size_t lcp(const int32_t *a, size_t na, const int32_t *b, size_t nb) {
    size_t i = 0;
    while (i < na && i < nb && a[i] == b[i]) i++;
    return i;
}

static void progress(run *R, size_t subj, int force) {
    if (ft_log_level() < FT_LOG_NORMAL || !isatty(2)) return;
    double now = ft_now();
    if (!force && now - R->last_draw < 0.2) return;
    R->last_draw = now;
    double el = now - R->start;
    fprintf(stderr, "\r" PROG ": subject %zu/%zu, %zu/%zu questions, %.1f questions/s   ", subj + 1,
            R->set->nsubj, R->done, R->total, el > 0 ? (double)R->done / el : 0.0);
    if (force) fputc('\n', stderr);
}

/* The token sequences of one subject's prompts, cut to the model's positions: when the longest is too long,
 * the part every prompt shares (BOS kept) loses tokens from its start so the longest fits, which keeps the
 * prefix shared; a prompt still too long then loses more from its own start. */
typedef struct {
    int32_t **seq;
    size_t *len;
} seqs;

static int encode_subject(run *R, const ev_subject *s, seqs *out, ft_buf *why) {
    ft_buf prefix, text;
    ft_ids ids;
    ft_buf_init(&prefix), ft_buf_init(&text), ft_ids_init(&ids);
    ev_prompt_prefix(&prefix, R->set->task, s, R->o->shots);
    size_t n = s->nitems, b = R->bos ? 1 : 0, maxlen = 0, common = SIZE_MAX;
    out->seq = ft_xmalloc((n ? n : 1) * sizeof *out->seq);
    out->len = ft_xmalloc((n ? n : 1) * sizeof *out->len);
    int rc = 0;
    for (size_t j = 0; j < n; j++) {
        ft_buf_clear(&text);
        ft_buf_add(&text, prefix.data, prefix.len);
        ev_prompt_question(&text, R->set->task, &s->items[j]);
        ids.n = 0;
        if (b) ft_ids_push(&ids, (uint32_t)R->tk->bos_id);
        if ((rc = ft_tokenizer_encode_special(R->tk, text.data, text.len, &ids)) < 0) {
            rc = ft_fail(why, rc, "cannot encode the prompt of %s question %s: %s", s->handle, s->items[j].id,
                         ft_strerror(rc));
            for (size_t k = 0; k < j; k++) free(out->seq[k]);
            goto out;
        }
        out->seq[j] = ft_xmalloc(ids.n * sizeof **out->seq);
        for (size_t k = 0; k < ids.n; k++) {
            if (ids.v[k] >= (uint32_t)R->V) {
                rc = ft_fail(why, FT_ERANGE, "token id %u is outside the model's vocabulary of %d (is the "
                             "tokenizer the model's?)",
                             ids.v[k], R->V);
                for (size_t q = 0; q <= j; q++) free(out->seq[q]);
                goto out;
            }
            out->seq[j][k] = (int32_t)ids.v[k];
        }
        out->len[j] = ids.n;
        if (ids.n > maxlen) maxlen = ids.n;
        size_t l = j ? lcp(out->seq[0], out->len[0], out->seq[j], out->len[j]) : ids.n;
        if (l < common) common = l;
    }
    size_t P = (size_t)R->max_pos;
    if (P && maxlen > P) {
        if (!R->warned++)
            ft_warn("prompts are longer than %zu tokens (%s; %zu tokens in %s): each subject's shared "
                    "prefix is cut from its start (BOS kept) to fit, so scores are not comparable with full "
                    "prompts",
                    P, R->o->max_length ? "--max-length" : "the model's positions", maxlen, s->handle);
        size_t cut = maxlen - P, room = common > b ? common - b : 0;
        if (cut > room) cut = room;
        for (size_t j = 0; j < n; j++) {
            size_t drop = cut;
            if (out->len[j] - drop > P) drop = out->len[j] - P;
            if (!drop) continue;
            memmove(out->seq[j] + b, out->seq[j] + b + drop, (out->len[j] - b - drop) * sizeof **out->seq);
            out->len[j] -= drop;
            R->truncated++;
        }
    }
out:
    ft_buf_release(&prefix), ft_buf_release(&text), ft_ids_release(&ids);
    if (rc < 0) free(out->seq), free(out->len);
    return rc;
}

/* Runs one subject: its questions' predictions into preds, its counts into *c. */
static int run_subject(run *R, size_t si, char *preds, ev_count *c, ft_buf *why) {
    const ev_subject *s = &R->set->subj[si];
    seqs S;
    FT_TRY(encode_subject(R, s, &S, why));
    size_t need = 0;
    for (size_t j = 0; j < s->nitems; j++)
        if (S.len[j] > need) need = S.len[j];
    int rc = 0;
    if (need > (size_t)R->kv_cap) {
        ft_kvcache_free(R->kv);
        R->kv = NULL;
        if ((rc = ft_kvcache_new(R->m, (int)need, &R->kv)) < 0) {
            rc = ft_fail(why, rc, "cannot make a KV cache of %zu positions: %s", need, ft_strerror(rc));
            goto out;
        }
        R->kv_cap = (int)need;
        R->cached = ft_xrealloc(R->cached, need * sizeof *R->cached);
    }
    size_t held = 0; /* tokens of R->cached that the cache holds */
    for (size_t j = 0; j < s->nitems; j++) {
        const int32_t *q = S.seq[j];
        size_t n = S.len[j], keep = R->o->no_reuse ? 0 : lcp(R->cached, held, q, n);
        if (keep == n) keep = n - 1; /* the last token must run to give its logits */
        ft_kvcache_truncate(R->kv, (int)keep);
        if ((rc = ft_model_step(R->m, R->kv, q + keep, (int)(n - keep), R->logits, 1)) < 0) {
            rc = ft_fail(why, rc, "forward pass failed on %s question %s: %s", s->handle, s->items[j].id,
                         ft_strerror(rc));
            goto out;
        }
        memcpy(R->cached + keep, q + keep, (n - keep) * sizeof *q);
        held = n;
        R->forwarded += n - keep;
        R->without_reuse += n;
        float v[4];
        for (int k = 0; k < 4; k++) v[k] = R->logits[R->letters[k]];
        preds[j] = (char)('A' + ev_argmax4(v));
        c->total += s->items[j].answer != 0;
        c->correct += s->items[j].answer && preds[j] == s->items[j].answer;
        R->done++;
        progress(R, si, 0);
    }
out:
    for (size_t j = 0; j < s->nitems; j++) free(S.seq[j]);
    free(S.seq), free(S.len);
    return rc;
}

static const char *quant_label(int q) { return quant_names[q]; }

/* Prints "cannot load WHAT: 'PATH': REASON", dropping the "'PATH': " that the library's reason may start
 * with. */
static void load_failed(const char *what, const char *path, const ft_buf *why, int rc) {
    const char *r = why->len ? why->data : ft_strerror(rc);
    size_t n = strlen(path);
    if (r[0] == '\'' && !strncmp(r + 1, path, n) && !strncmp(r + 1 + n, "': ", 3)) r += n + 4;
    ft_error("cannot load the %s: '%s': %s", what, path, r);
}

int main(int argc, char **argv) {
    options o;
    ft_cli_init(PROG,
                "Usage: ft-eval --model DIR [--adapter DIR] --task ceval|cmmlu|mmlu --data DIR [OPTIONS]");
    parse_options(argc, argv, &o);
    if (o.device == DEV_CUDA) {
        ft_error("--device cuda: this build has no CUDA backend yet (use --device cpu)");
        return 1;
    }
    int status = 0;
    ev_set set;
    ft_buf why;
    ft_buf_init(&why);
    int rc = ev_set_load(&set, (ev_task)o.task, o.data, o.split, o.subjects, &why);
    if (rc < 0) {
        ft_error("cannot read the %s data: %s", ev_task_names[o.task], why.data);
        ft_buf_release(&why);
        return rc == FT_EINVAL ? 2 : 1;
    }
    for (size_t i = 0; i < set.nbad; i++)
        ft_error("%s:%llu: bad row left out: %s", set.bad[i].file, (unsigned long long)set.bad[i].line,
                 set.bad[i].why);
    if (set.nbad) status = 1;
    size_t total = ev_set_questions(&set);
    ft_verbose("%s %s: %zu subjects, %zu questions, %d shots", ev_task_names[o.task], set.split, set.nsubj,
               total, o.shots);
    for (size_t i = 0; i < set.nsubj; i++)
        if (set.subj[i].ndev < (size_t)o.shots)
            ft_warn("%s has %zu dev rows, fewer than %d shots", set.subj[i].handle, set.subj[i].ndev,
                    o.shots);
    if (o.dump) {
        ft_buf d;
        ft_buf_init(&d);
        dump_prompts(&d, &set, o.shots);
        status |= write_file(o.dump, "the prompts", &d);
        ft_buf_release(&d);
        if (!o.model) {
            ev_set_release(&set);
            ft_buf_release(&why);
            return status;
        }
    }

    run R;
    memset(&R, 0, sizeof R);
    R.o = &o;
    R.set = &set;
    R.total = total;
    const char *tpath = o.tokenizer ? o.tokenizer : o.model;
    ft_buf_clear(&why);
    if ((rc = ft_tokenizer_open(tpath, &R.tk, &why)) < 0) {
        load_failed("tokenizer", tpath, &why, rc);
        status = 1;
        goto done;
    }
    ft_model_opts mo = ft_model_opts_default();
    mo.arch = o.arch;
    mo.quant = o.quant == 1 ? FT_WTYPE_BF16 : o.quant == 2 ? FT_WTYPE_NF4 : FT_WTYPE_F32;
    mo.nthreads = o.threads;
    double t0 = ft_now();
    ft_buf_clear(&why);
    if ((rc = ft_model_open(o.model, &mo, &R.m, &why)) < 0) {
        load_failed("model", o.model, &why, rc);
        status = 1;
        goto done;
    }
    if (o.adapter) {
        ft_buf_clear(&why);
        if ((rc = ft_model_load_adapter(R.m, o.adapter, &why)) < 0) {
            load_failed("adapter", o.adapter, &why, rc);
            status = 1;
            goto done;
        }
    }
    const ft_model_config *cfg = ft_model_cfg(R.m);
    if (!o.threads && cfg->hidden_size < SMALL_HIDDEN) /* the backend reads its thread count at each op */
        mo.nthreads = ft_model_backend(R.m)->nthreads = 1; /* a tiny model's ops are too small to share */
    R.V = cfg->vocab_size;
    R.max_pos = o.max_length ? o.max_length : cfg->max_positions;
    if (o.max_length && cfg->max_positions && o.max_length > cfg->max_positions)
        ft_warn("--max-length %d goes beyond the model's %d positions", o.max_length, cfg->max_positions);
    ft_verbose(
        "model %s (%s, %d layers, hidden %d, vocab %d, %d positions) loaded in %.2f s as %s; threads: %d "
        "(0 = all)",
        o.model, cfg->arch_name, cfg->num_layers, cfg->hidden_size, cfg->vocab_size, cfg->max_positions,
        ft_now() - t0, quant_label(o.quant), mo.nthreads);
    const char *bos_why;
    R.bos = decide_bos(&o, R.tk, &bos_why);
    ft_verbose("tokenizer %s (%s, vocab %u); BOS %s (%s)", R.tk->path, R.tk->ops->kind, R.tk->vocab_size,
               R.bos ? "yes" : "no", bos_why);
    if (o.bos == BOS_YES && R.tk->bos_id < 0)
        ft_warn("--bos yes: the tokenizer has no BOS token; none is added");
    if (letter_ids(&o, R.tk, (ev_task)o.task, R.letters)) {
        status = 1;
        goto done;
    }
    for (int k = 0; k < 4; k++)
        if (R.letters[k] >= (uint32_t)R.V) {
            ft_error("answer letter %c has id %u, outside the model's vocabulary of %d", 'A' + k,
                     R.letters[k], R.V);
            status = 1;
            goto done;
        }
    ft_verbose("letter ids (%s): A %u, B %u, C %u, D %u", letter_names[o.letters], R.letters[0], R.letters[1],
               R.letters[2], R.letters[3]);

    R.logits = ft_xmalloc((size_t)R.V * sizeof *R.logits);
    R.counts = ft_xmalloc((set.nsubj ? set.nsubj : 1) * sizeof *R.counts);
    memset(R.counts, 0, (set.nsubj ? set.nsubj : 1) * sizeof *R.counts);
    R.preds = ft_xmalloc(total + 1);
    R.start = ft_now();
    for (size_t i = 0, q = 0; i < set.nsubj; q += set.subj[i].nitems, i++) {
        ft_buf_clear(&why);
        if ((rc = run_subject(&R, i, R.preds + q, &R.counts[i], &why)) < 0) {
            progress(&R, i, 1);
            ft_error("%s", why.data);
            status = 1;
            goto done;
        }
    }
    double secs = ft_now() - R.start;
    if (set.nsubj) progress(&R, set.nsubj - 1, 1);

    ev_summary sum;
    ev_summarize(&set, R.counts, &sum);
    int json_on_stdout = (o.json && !strcmp(o.json, "-")) || (o.submission && !strcmp(o.submission, "-"));
    if (sum.total && !json_on_stdout) ev_report_table(stdout, &set, R.counts, &sum);
    else ft_info("the %s split has no answers: predictions only", set.split);
    ft_info("%zu questions, %zu subjects in %.2f s (%.1f questions/s); tokens forwarded %llu, without prefix "
            "reuse %llu (%.1f%%)%s",
            total, set.nsubj, secs, secs > 0 ? (double)total / secs : 0.0, (unsigned long long)R.forwarded,
            (unsigned long long)R.without_reuse,
            R.without_reuse ? 100.0 * (double)R.forwarded / (double)R.without_reuse : 0.0,
            R.truncated ? "; prompts cut to fit" : "");
    if (o.json) {
        ev_run_info info = {o.model, o.adapter, R.tk->path, o.data, letter_names[o.letters],
                            quant_label(o.quant), o.shots, R.bos,
                            {R.letters[0], R.letters[1], R.letters[2], R.letters[3]}, R.forwarded,
                            R.without_reuse, R.truncated, secs, !o.no_reuse, R.max_pos};
        ft_buf j;
        ft_buf_init(&j);
        ev_report_json(&j, &set, R.counts, &sum, &info, o.predictions ? R.preds : NULL);
        status |= write_file(o.json, "the JSON report", &j);
        ft_buf_release(&j);
    }
    if (o.submission) {
        ft_buf j;
        ft_buf_init(&j);
        ev_report_submission(&j, &set, R.preds);
        status |= write_file(o.submission, "the submission", &j);
        ft_buf_release(&j);
    }
    if (fflush(stdout) != 0) {
        ft_error("cannot write the table: %s", strerror(errno));
        status = 1;
    }

done:
    ft_kvcache_free(R.kv);
    ft_model_free(R.m);
    ft_tokenizer_free(R.tk);
    free(R.cached), free(R.logits), free(R.counts), free(R.preds);
    ev_set_release(&set);
    ft_buf_release(&why);
    if (fclose(stdout) != 0) status = 1;
    return status;
}
