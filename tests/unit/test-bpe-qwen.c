/* test-bpe-qwen.c: the real Qwen tokenizers from the shared test data: load times, the llama.cpp/HF vectors
 * through vocab.json + merges.txt, qwen.tiktoken and a tokenizer.json written from the same two files, the
 * tiktoken ranks against the vocab.json ids, and on every C-Eval text (and every text of the conversation
 * JSONL files named on the command line): identical ids from all loaders, decode(encode(x)) == NFC(x), and
 * the ids of a plain rescanning merge under tiktoken's rules.
 * Usage: test-bpe-qwen [CONVERSATIONS.jsonl...]; skips when ../shared (or $FT_TESTDATA) is absent. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bpe.h"
#include "csv.h"
#include "json.h"
#include "lines.h"
#include "pretok.h"
#include "tap.h"
#include "tokenizer.h"
#include "utf8.h"

static char shared[512], tmp[64];
static ft_tokenizer *vm, *tt, *tj; /* vocab.json + merges.txt, qwen.tiktoken, tokenizer.json */

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *n) {
    char *s;
    return ft_read_file(path, (size_t)1 << 30, &s, n, NULL) == 0 ? s : NULL;
}

static ft_tokenizer *timed_open(const char *path, const char *what) {
    ft_tokenizer *tk = NULL;
    ft_buf why;
    ft_buf_init(&why);
    double t0 = now();
    int rc = ft_tokenizer_open(path, &tk, &why);
    double t = now() - t0;
    if (ok(rc == 0, "%s loads", what)) printf("# %s: loaded in %.3f s (%u ids)\n", what, t, tk->vocab_size);
    else printf("#   %s\n", why.data ? why.data : ft_strerror(rc));
    ft_buf_release(&why);
    return tk;
}

/* Qwen2's tokenizer.json, written from vocab.json and merges.txt as Hugging Face saves it. */
static int write_tokenizer_json(const char *qwen2, const char *out_path) {
    char p[700];
    size_t nv, nm;
    snprintf(p, sizeof p, "%s/vocab.json", qwen2);
    char *vocab = slurp(p, &nv);
    snprintf(p, sizeof p, "%s/merges.txt", qwen2);
    char *merges = slurp(p, &nm);
    if (!vocab || !merges) {
        free(vocab), free(merges);
        return -1;
    }
    ft_buf b;
    ft_buf_init(&b);
    ft_buf_adds(&b, "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[");
    static const char *const added[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
    for (int k = 0; k < 3; k++)
        ft_buf_addf(&b, "%s{\"id\":%d,\"content\":\"%s\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"
                        "\"normalized\":false,\"special\":true}", k ? "," : "", 151643 + k, added[k]);
    ft_buf_adds(&b, "],\"normalizer\":{\"type\":\"NFC\"},\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":"
                    "[{\"type\":\"Split\",\"pattern\":{\"Regex\":");
    ft_json_put_string(&b, FT_PRETOK_QWEN2_PATTERN, strlen(FT_PRETOK_QWEN2_PATTERN));
    ft_buf_adds(&b, "},\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
                    "\"trim_offsets\":false,\"use_regex\":false}]},\"post_processor\":{\"type\":\"ByteLevel\"},"
                    "\"decoder\":{\"type\":\"ByteLevel\"},\"model\":{\"type\":\"BPE\",\"dropout\":null,"
                    "\"unk_token\":null,\"continuing_subword_prefix\":\"\",\"end_of_word_suffix\":\"\","
                    "\"fuse_unk\":false,\"byte_fallback\":false,\"ignore_merges\":false,\"vocab\":");
    ft_buf_add(&b, vocab, nv);
    ft_buf_adds(&b, ",\"merges\":[");
    int first = 1;
    for (char *line = merges, *end; line < merges + nm; line = end + 1) {
        end = memchr(line, '\n', (size_t)(merges + nm - line));
        if (!end) end = merges + nm;
        if (end == line || !strncmp(line, "#version", 8)) continue;
        if (!first) ft_buf_addc(&b, ',');
        first = 0;
        ft_json_put_string(&b, line, (size_t)(end - line));
    }
    ft_buf_adds(&b, "]}}");
    FILE *f = fopen(out_path, "wb");
    int rc = f && fwrite(b.data, 1, b.len, f) == b.len ? 0 : -1;
    if (f && fclose(f) != 0) rc = -1;
    ft_buf_release(&b);
    free(vocab);
    free(merges);
    return rc;
}

static int same_ids(const ft_ids *a, const ft_ids *b) {
    return a->n == b->n && (a->n == 0 || !memcmp(a->v, b->v, a->n * sizeof *a->v));
}

static void print_ids(const char *what, const ft_ids *a) {
    printf("#   %s", what);
    for (size_t i = 0; i < a->n && i < 64; i++) printf(" %u", a->v[i]);
    printf("\n");
}

/* ---- the reference: tiktoken's merge loop written plainly (one rescan per merge) ---- */

static int64_t ref_id(const ft_tokenizer *tk, const char *s, size_t n) {
    ft_buf m;
    ft_buf_init(&m);
    ft_bpe_map(s, n, &m);
    int64_t id = tk->ops->piece_id(tk, m.data, m.len);
    ft_buf_release(&m);
    /* an added token's text is not a rank */
    return id >= 0 && ft_tokenizer_special(tk, s, n) == NULL ? id : -1;
}

static void ref_word(const ft_tokenizer *tk, const char *w, size_t n, ft_ids *out) {
    int64_t whole = ref_id(tk, w, n);
    if (whole >= 0) {
        ft_ids_push(out, (uint32_t)whole);
        return;
    }
    size_t *cut = malloc((n + 1) * sizeof *cut), parts = n;
    int64_t *rank = malloc((n + 1) * sizeof *rank); /* rank[k]: of parts k and k + 1 joined, -1 none */
    for (size_t i = 0; i <= n; i++) cut[i] = i;
    for (size_t k = 0; k + 1 < parts; k++) rank[k] = ref_id(tk, w + cut[k], cut[k + 2] - cut[k]);
    for (;;) {
        size_t best = SIZE_MAX;
        for (size_t k = 0; k + 1 < parts; k++)
            if (rank[k] >= 0 && (best == SIZE_MAX || rank[k] < rank[best])) best = k;
        if (best == SIZE_MAX) break;
        memmove(cut + best + 1, cut + best + 2, (parts - best - 1) * sizeof *cut);
        memmove(rank + best, rank + best + 1, (parts - best - 1) * sizeof *rank);
        parts--;
        if (best > 0) rank[best - 1] = ref_id(tk, w + cut[best - 1], cut[best + 1] - cut[best - 1]);
        if (best + 1 < parts) rank[best] = ref_id(tk, w + cut[best], cut[best + 2] - cut[best]);
    }
    for (size_t k = 0; k < parts; k++) ft_ids_push(out, (uint32_t)ref_id(tk, w + cut[k], cut[k + 1] - cut[k]));
    free(cut);
    free(rank);
}

static void ref_encode(const ft_tokenizer *tk, const char *s, size_t n, ft_ids *out) {
    ft_buf norm;
    ft_buf_init(&norm);
    ft_utf8_nfc(s, n, &norm);
    for (size_t i = 0; i < norm.len;) {
        size_t l = ft_pretok_qwen2(norm.data + i, norm.len - i);
        ref_word(tk, norm.data + i, l, out);
        i += l;
    }
    ft_buf_release(&norm);
}

/* ---- one text through everything ---- */

typedef struct {
    long texts, bytes, tokens, differ, round_trip, not_nfc, reference;
} tally;

static void check_text(const char *s, size_t n, tally *t) {
    ft_ids a, b, c, r;
    ft_ids_init(&a), ft_ids_init(&b), ft_ids_init(&c), ft_ids_init(&r);
    ft_tokenizer_encode(vm, s, n, &a);
    ft_tokenizer_encode(tt, s, n, &b);
    if (tj) ft_tokenizer_encode(tj, s, n, &c);
    ref_encode(tt, s, n, &r);
    t->texts++;
    t->bytes += (long)n;
    t->tokens += (long)a.n;
    if (!same_ids(&a, &b) || (tj && !same_ids(&a, &c))) {
        if (t->differ++ < 3) printf("#   loaders differ on '%.60s'\n", s);
    }
    if (!same_ids(&b, &r)) {
        if (t->reference++ < 3) {
            printf("#   reference differs on '%.60s'\n", s);
            print_ids("ours", &b), print_ids("reference", &r);
        }
    }
    ft_buf out, want;
    ft_buf_init(&out), ft_buf_init(&want);
    if (ft_utf8_nfc(s, n, &want) == 1) t->not_nfc++;
    if (ft_tokenizer_decode(vm, a.v, a.n, &out) != 0 || out.len != want.len ||
        (out.len && memcmp(out.data, want.data, out.len))) {
        if (t->round_trip++ < 3) printf("#   round trip fails on '%.60s'\n", s);
    }
    ft_buf_release(&out), ft_buf_release(&want);
    ft_ids_release(&a), ft_ids_release(&b), ft_ids_release(&c), ft_ids_release(&r);
}

static void report(const char *what, const tally *t) {
    printf("# %s: %ld texts, %ld bytes, %ld tokens (%ld not NFC)\n", what, t->texts, t->bytes, t->tokens, t->not_nfc);
    ok(t->texts > 0, "%s: texts read", what);
    ok(t->differ == 0, "%s: vocab.json+merges.txt, qwen.tiktoken%s give identical ids (%ld differ)", what,
       tj ? " and tokenizer.json" : "", t->differ);
    ok(t->round_trip == 0, "%s: decode(encode(x)) == NFC(x) (%ld fail)", what, t->round_trip);
    ok(t->reference == 0, "%s: ids equal a plain rescanning merge under tiktoken's rules (%ld differ)", what,
       t->reference);
}

/* ---- the data ---- */

/* s cut to 40 bytes with control characters as '?', for one TAP line. */
static const char *shown(const char *s) {
    static char out[48];
    size_t i = 0;
    for (; s[i] && i < 40; i++) out[i] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
    out[i] = 0;
    return out;
}

static void test_vectors(const char *name, const char *want_name) {
    char p[700], q[700];
    snprintf(p, sizeof p, "%s/tokenizers/qwen2/vectors/%s", shared, name);
    snprintf(q, sizeof q, "%s/tokenizers/qwen2/vectors/%s", shared, want_name);
    size_t ni, nw;
    char *in = slurp(p, &ni), *want = slurp(q, &nw);
    if (!ok(in && want, "vectors %s and %s read", name, want_name)) {
        free(in), free(want);
        return;
    }
    static const char sep[] = "\n__ggml_vocab_test__\n";
    const ft_tokenizer *tks[3] = {vm, tt, tj};
    const char *names[3] = {"vocab.json+merges.txt", "qwen.tiktoken", "tokenizer.json"};
    int good[3] = {0, 0, 0}, count = 0, round_trips = 0;
    char *s = in, *w = want;
    for (char *e; (e = strstr(s, sep)) != NULL; s = e + strlen(sep), count++) {
        *e = 0;
        char *wl = strchr(w, '\n');
        if (!wl) break;
        *wl = 0;
        ft_ids expect;
        ft_ids_init(&expect);
        for (char *x = w, *end; *x; x = end) {
            unsigned long v = strtoul(x, &end, 10);
            if (end == x) break;
            ft_ids_push(&expect, (uint32_t)v);
        }
        for (int k = 0; k < 3; k++) {
            if (!tks[k]) continue;
            ft_ids got;
            ft_ids_init(&got);
            ft_tokenizer_encode_special(tks[k], s, strlen(s), &got);
            if (k == 0) {
                if (!ok(same_ids(&got, &expect), "%s %d (%s): '%s'", name, count, names[k], shown(s)))
                    print_ids("got ", &got), print_ids("want", &expect);
                ft_buf out;
                ft_buf_init(&out);
                round_trips += ft_tokenizer_decode(tks[k], got.v, got.n, &out) == 0 && !strcmp(out.data ? out.data : "", s);
                ft_buf_release(&out);
            }
            good[k] += same_ids(&got, &expect);
            ft_ids_release(&got);
        }
        ft_ids_release(&expect);
        w = wl + 1;
    }
    for (int k = 1; k < 3; k++)
        if (tks[k]) is_int(good[k], count, "%s: all %d vectors of %s", names[k], count, name);
    is_int(round_trips, count, "%s: decode(encode_special(x)) == x for all %d", name, count);
    free(in);
    free(want);
}

static void test_vocab_identity(void) {
    int same = 1;
    uint32_t first_bad = 0;
    for (uint32_t id = 0; id < 151643 && same; id++) {
        ft_buf a, b;
        ft_buf_init(&a), ft_buf_init(&b);
        same = ft_tokenizer_decode(vm, &id, 1, &a) == 0 && ft_tokenizer_decode(tt, &id, 1, &b) == 0 &&
               a.len == b.len && !memcmp(a.data, b.data, a.len);
        if (!same) first_bad = id;
        ft_buf_release(&a), ft_buf_release(&b);
    }
    if (!ok(same, "every qwen.tiktoken rank 0..151642 is the vocab.json token with that id")) printf("#   id %u\n", first_bad);
    static const char *const sp[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
    for (int k = 0; k < 3; k++) {
        is_int(ft_tokenizer_special_id(vm, sp[k], strlen(sp[k])), 151643 + k, "vocab.json dir: %s", sp[k]);
        is_int(ft_tokenizer_special_id(tt, sp[k], strlen(sp[k])), 151643 + k, "qwen.tiktoken: %s", sp[k]);
    }
    is_int(ft_tokenizer_special_id(tt, "<|extra_204|>", 13), 151850, "qwen.tiktoken: <|extra_204|>");
    is_int(vm->vocab_size, 151646, "Qwen2 ids: 151,643 tokens + 3 added");
    is_int(vm->eos_id, 151643, "eos <|endoftext|>");
    is_int(vm->bos_id, -1, "Qwen has no bos");
}

static void test_ceval(void) {
    tally t = {0};
    static const char *const parts[] = {"dev", "val"};
    for (int k = 0; k < 2; k++) {
        char d[600];
        snprintf(d, sizeof d, "%s/data/ceval/%s", shared, parts[k]);
        DIR *dp = opendir(d);
        struct dirent *e;
        while (dp && (e = readdir(dp)) != NULL) {
            size_t l = strlen(e->d_name);
            if (l < 4 || strcmp(e->d_name + l - 4, ".csv")) continue;
            char p[900];
            snprintf(p, sizeof p, "%s/%s", d, e->d_name);
            ft_lines *lines;
            if (ft_lines_open(p, 1u << 24, &lines) != 0) continue;
            ft_csv *c = ft_csv_new(lines, ',');
            ft_csv_record rec;
            int rc;
            while ((rc = ft_csv_next(c, &rec)) != 0)
                if (rc == 1)
                    for (size_t f = 0; f < rec.nfields; f++) check_text(rec.field[f], rec.len[f], &t);
            ft_csv_free(c);
            ft_lines_free(lines);
        }
        if (dp) closedir(dp);
    }
    report("C-Eval dev+val", &t);
}

static void test_jsonl(const char *path) {
    tally t = {0};
    ft_lines *lines;
    if (!ok(ft_lines_open(path, 1u << 26, &lines) == 0, "%s opens", path)) return;
    const char *line;
    size_t n;
    while (ft_lines_next(lines, &line, &n) == 1) {
        cJSON *v = NULL;
        size_t off;
        if (ft_json_parse(line, n, &v, &off) != 0) continue;
        const char *sys = ft_json_str(v, "system");
        if (sys) check_text(sys, strlen(sys), &t);
        const cJSON *turn, *m;
        cJSON_ArrayForEach(turn, cJSON_GetObjectItemCaseSensitive(v, "conversation")) {
            cJSON_ArrayForEach(m, turn) {
                if (cJSON_IsString(m)) check_text(m->valuestring, strlen(m->valuestring), &t);
            }
        }
        cJSON_Delete(v);
    }
    ft_lines_free(lines);
    report(path, &t);
    ok(t.not_nfc == 0, "%s: every text is NFC, so decode(encode(x)) == x exactly", path);
}

int main(int argc, char **argv) {
    const char *env = getenv("FT_TESTDATA");
    snprintf(shared, sizeof shared, "%s", env && *env ? env : "../shared");
    char qwen2[600], tik[600], tj_path[128];
    snprintf(qwen2, sizeof qwen2, "%s/tokenizers/qwen2", shared);
    snprintf(tik, sizeof tik, "%s/tokenizers/qwen/qwen.tiktoken", shared);
    struct stat st;
    if (stat(qwen2, &st) != 0 || stat(tik, &st) != 0) {
        printf("1..0 # SKIP Qwen tokenizers not found (%s/tokenizers: set FT_TESTDATA)\n", shared);
        return 0;
    }
    if (tap_tmpdir(tmp, sizeof tmp, "bpe-qwen")) return 1;
    vm = timed_open(qwen2, "vocab.json + merges.txt");
    tt = timed_open(tik, "qwen.tiktoken");
    snprintf(tj_path, sizeof tj_path, "%s/tokenizer.json", tmp);
    if (ok(write_tokenizer_json(qwen2, tj_path) == 0, "tokenizer.json written from vocab.json + merges.txt"))
        tj = timed_open(tj_path, "tokenizer.json");
    remove(tj_path);
    remove(tmp);
    if (!vm || !tt) return done_testing();
    test_vocab_identity();
    test_vectors("qwen2.inp", "qwen2.out");
    test_vectors("zh.inp", "zh.ref.out");
    test_ceval();
    for (int i = 1; i < argc; i++) test_jsonl(argv[i]);
    ft_tokenizer_free(vm);
    ft_tokenizer_free(tt);
    ft_tokenizer_free(tj);
    return done_testing();
}
