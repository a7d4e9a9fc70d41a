/* test-dedup-accuracy.c: near-duplicate accuracy at the default settings on pairs planted in real text.
 * Every MOSS-003 sample conversation and Firefly record with enough tokens is a base text A; for target
 * similarities 0.30 ... 1.00 a copy B has one block of tokens replaced by tokens of another text, sized so
 * the exact Jaccard of the shingle sets lands near the target (and is then measured exactly). Each pair
 * goes through a fresh streaming index: A, then B. The table compares the drop rate per bucket of exact
 * Jaccard with the S-curve 1-(1-s^r)^b; recall must be >= 0.95 at J >= 0.85 and false drops <= 1% below 0.5. */
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dedup.h"
#include "json.h"
#include "lines.h"
#include "tap.h"

typedef struct {
    char **text;
    size_t n, cap;
} texts;
static texts g_texts;

static void add_text(ft_buf *b) {
    if (g_texts.n == g_texts.cap) {
        g_texts.cap = g_texts.cap ? 2 * g_texts.cap : 1024;
        g_texts.text = ft_xrealloc(g_texts.text, g_texts.cap * sizeof *g_texts.text);
    }
    g_texts.text[g_texts.n++] = ft_xstrdup(b->data ? b->data : "");
}

/* A MOSS value "<|MOSS|>: text<eom>\n": the text between the first ": " and the last '<'. */
static void add_moss_value(ft_buf *b, const char *v) {
    const char *s = strstr(v, ": "), *e = strrchr(v, '<');
    if (!s || !e || e < s + 2) return;
    ft_buf_add(b, s + 2, (size_t)(e - s - 2));
    ft_buf_addc(b, '\n');
}

static int moss_file(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)st, (void)ftw;
    size_t n = strlen(path);
    if (type != FTW_F || n < 5 || strcmp(path + n - 5, ".json")) return 0;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    ft_buf doc, b;
    ft_buf_init(&doc), ft_buf_init(&b);
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) ft_buf_add(&doc, chunk, got);
    fclose(f);
    cJSON *v;
    size_t off;
    if (doc.len && ft_json_parse(doc.data, doc.len, &v, &off) == 0) {
        const cJSON *chat = cJSON_GetObjectItemCaseSensitive(v, "chat"), *t;
        cJSON_ArrayForEach(t, chat) {
            const char *h = ft_json_str(t, "Human"), *m = ft_json_str(t, "MOSS");
            if (h) add_moss_value(&b, h);
            if (m) add_moss_value(&b, m);
        }
        cJSON_Delete(v);
        add_text(&b);
    }
    ft_buf_release(&doc), ft_buf_release(&b);
    return 0;
}

static void firefly_file(const char *path) {
    ft_lines *L;
    if (ft_lines_open(path, 0, &L) < 0) return;
    const char *s;
    size_t n;
    ft_buf b;
    ft_buf_init(&b);
    while (ft_lines_next(L, &s, &n) > 0) {
        cJSON *v;
        size_t off;
        if (ft_json_parse(s, n, &v, &off) < 0) continue;
        ft_conv c;
        ft_conv_init(&c);
        const char *why;
        if (ft_conv_from_json(v, &c, &why) == 0) {
            ft_buf_clear(&b);
            for (size_t i = 0; i < c.nturns; i++)
                for (int r = 0; r < 2; r++) ft_buf_add(&b, c.turns[i].text[r], c.turns[i].len[r]), ft_buf_addc(&b, '\n');
            add_text(&b);
        }
        ft_conv_release(&c);
        cJSON_Delete(v);
    }
    ft_buf_release(&b);
    ft_lines_free(L);
}

static uint64_t g_rng = 12345;
static uint64_t rnd(void) {
    uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Token list of a token text (tokens joined by one space): offsets of each token. */
static size_t split_tokens(const char *t, size_t len, size_t *start, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; i < len && n < cap; i++)
        if (i == 0 || t[i - 1] == ' ') start[n++] = i;
    return n;
}

#define NB 8 /* buckets [0.3,0.4) ... [0.9,1.0) and exactly 1.0 */
#define MAXTOK 4096

int main(void) {
    const char *env = getenv("FT_TESTDATA");
    char moss[4096], firefly[4096];
    snprintf(moss, sizeof moss, "%s/data/moss/SFT_data/conversations", env && *env ? env : "../shared");
    snprintf(firefly, sizeof firefly, "%s/data/firefly/dummy_data.jsonl", env && *env ? env : "../shared");
    nftw(moss, moss_file, 16, FTW_PHYS);
    firefly_file(firefly);
    if (g_texts.n < 100) {
        printf("1..0 # SKIP MOSS-003 / Firefly samples not found (../shared/data or $FT_TESTDATA)\n");
        return 0;
    }
    dedup_params p, pe;
    dedup_params_default(&p);
    pe = p;
    pe.verify = VERIFY_EXACT; /* the same signature; the exact shingle set is measured too */
    dedup_hasher h;
    dedup_hasher_init(&h, &pe);
    dedup_doc a, b, o;
    dedup_doc_init(&a), dedup_doc_init(&b), dedup_doc_init(&o);
    size_t *sa = ft_xmalloc(MAXTOK * sizeof *sa), *so = ft_xmalloc(MAXTOK * sizeof *so);
    uint32_t *setA = ft_xmalloc(MAXTOK * sizeof *setA);
    uint8_t ca[64], cb[64];
    uint64_t pairs[NB] = {0}, dropped[NB] = {0}, cand[NB] = {0}, hi_p = 0, hi_d = 0;
    double jsum[NB] = {0};
    ft_buf bt;
    ft_buf_init(&bt);
    size_t bases = 0;
    const int hashes = p.bands * p.rows, n = p.ngram;
    for (size_t ti = 0; ti < g_texts.n; ti++) {
        const char *txt = g_texts.text[ti];
        size_t len = strlen(txt);
        dedup_doc_from_texts(&h, &txt, &len, 1, &a);
        size_t L = split_tokens(a.tok.data ? a.tok.data : "", a.tok.len, sa, MAXTOK);
        if (L < 80 || L >= MAXTOK) continue;
        bases++;
        size_t nA = a.nshingles;
        memcpy(setA, a.shingles, nA * sizeof *setA);
        dedup_sig_compact(a.sig, hashes, ca);
        /* another text to take replacement tokens from */
        const char *other = g_texts.text[(ti + 1 + rnd() % (g_texts.n - 1)) % g_texts.n];
        size_t olen = strlen(other);
        dedup_doc_from_texts(&h, &other, &olen, 1, &o);
        size_t Lo = split_tokens(o.tok.data ? o.tok.data : "", o.tok.len, so, MAXTOK);
        for (int k = 0; k <= 14; k++) {
            double target = 0.30 + 0.05 * k;
            size_t N = L - (size_t)n + 1;
            double shared = 2.0 * (double)N * target / (1 + target);
            long m = lround((double)N - shared) - (n - 1);
            if (target < 1 && m < 1) m = 1;
            if (target >= 1) m = 0;
            if ((size_t)m > L || (m && (size_t)m > Lo)) continue;
            size_t at = m ? rnd() % (L - (size_t)m + 1) : 0, from = m && Lo > (size_t)m ? rnd() % (Lo - (size_t)m + 1) : 0;
            /* B = A's tokens [0, at) + other's [from, from + m) + A's [at + m, L) */
            ft_buf_clear(&bt);
            const char *t = a.tok.data;
            ft_buf_add(&bt, t, at ? sa[at] : 0);
            if (m) {
                size_t e = from + (size_t)m < Lo ? so[from + m] - 1 : o.tok.len;
                ft_buf_add(&bt, o.tok.data + so[from], e - so[from]);
                ft_buf_addc(&bt, ' ');
            }
            if (at + (size_t)m < L) ft_buf_add(&bt, t + sa[at + m], a.tok.len - sa[at + m]);
            else if (bt.len) bt.data[--bt.len] = 0;
            if (!m) ft_buf_adds(&bt, " !"); /* the same shingles, not the same text: a near duplicate */
            const char *bs = bt.data;
            size_t bl = bt.len;
            dedup_doc_from_texts(&h, &bs, &bl, 1, &b);
            double j = dedup_set_jaccard(setA, nA, b.shingles, b.nshingles);
            if (j < 0.3) continue;
            int bk = j >= 1 ? NB - 1 : (int)floor(j * 10 + 1e-9) - 3;
            dedup_sig_compact(b.sig, hashes, cb);
            dedup_index *x = dedup_index_new(&p);
            dedup_decision d;
            dedup_index_add(x, 0, a.exact, a.empty, 1, ca, NULL, 0, &d);
            dedup_index_add(x, 1, b.exact, b.empty, 1, cb, NULL, 0, &d);
            dedup_index_free(x);
            int band = 0;
            for (int q = 0; q < p.bands; q++) band |= dedup_band_equal(ca, cb, q, p.rows);
            int drop = d.kind == DECIDE_NEAR || d.kind == DECIDE_EXACT;
            pairs[bk]++, jsum[bk] += j, cand[bk] += band, dropped[bk] += drop;
            if (j >= 0.85) hi_p++, hi_d += drop;
        }
    }
    printf("# %zu texts read, %zu base texts with >= 80 tokens; %d bands x %d rows, threshold %.3f, verify by\n"
           "# the 4-bit signature estimate\n", g_texts.n, bases, p.bands, p.rows, p.threshold);
    printf("# %-11s %7s %8s %9s %10s %12s\n", "exact J", "pairs", "dropped", "drop rate", "S-curve", "share a band");
    uint64_t lo_p = 0, lo_d = 0;
    for (int k = 0; k < NB; k++) {
        if (!pairs[k]) continue;
        char name[32];
        if (k == NB - 1) snprintf(name, sizeof name, "1.0");
        else snprintf(name, sizeof name, "[%.1f,%.1f)", 0.3 + 0.1 * k, 0.4 + 0.1 * k);
        double mean = jsum[k] / (double)pairs[k];
        printf("# %-11s %7llu %8llu %9.4f %10.4f %12.4f\n", name, (unsigned long long)pairs[k],
               (unsigned long long)dropped[k], (double)dropped[k] / (double)pairs[k],
               dedup_scurve(mean, p.bands, p.rows), (double)cand[k] / (double)pairs[k]);
        if (k <= 1) lo_p += pairs[k], lo_d += dropped[k];
    }
    printf("# J >= 0.85: %llu of %llu pairs dropped (recall %.4f)\n", (unsigned long long)hi_d,
           (unsigned long long)hi_p, hi_p ? (double)hi_d / (double)hi_p : 0.0);
    ok(hi_p > 500, "enough pairs at J >= 0.85 (%llu)", (unsigned long long)hi_p);
    ok((double)hi_d >= 0.95 * (double)hi_p, "recall at J >= 0.85 >= 0.95");
    ok(lo_p > 500, "enough pairs below 0.5 (%llu)", (unsigned long long)lo_p);
    ok((double)lo_d <= 0.01 * (double)lo_p, "false drops below J = 0.5: %llu of %llu (<= 1%%)",
       (unsigned long long)lo_d, (unsigned long long)lo_p);
    ft_buf_release(&bt);
    dedup_doc_release(&a), dedup_doc_release(&b), dedup_doc_release(&o);
    dedup_hasher_release(&h);
    for (size_t i = 0; i < g_texts.n; i++) free(g_texts.text[i]);
    free(g_texts.text), free(sa), free(so), free(setA);
    return done_testing();
}
