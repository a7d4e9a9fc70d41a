/* test-dedup-minhash.c: ft-dedup's keys: normalization and tokens for mixed scripts, the signature against
 * a plain 64-bit reference of the permutation family, LSH parameter choice, b-bit estimates, the streaming
 * index's decision rule, and the signature file's checks. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "dedup.h"
#include "tap.h"

static void norm_is(const char *in, int strip, const char *norm, const char *tok) {
    ft_buf n, t;
    ft_buf_init(&n), ft_buf_init(&t);
    dedup_normalize(in, strlen(in), strip, &n, &t);
    is_str(n.data ? n.data : "", norm, "normalized '%s'%s", in, strip ? " (strip punct)" : "");
    is_str(t.data ? t.data : "", tok, "tokens of '%s'", in);
    ft_buf_release(&n), ft_buf_release(&t);
}

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The documented family with whole 64-bit arithmetic, over shingles of the token text. */
static void reference_sig(const char *tok, int ngram, int hashes, uint64_t seed, uint32_t *sig) {
    const char *starts[4096];
    size_t nt = 0;
    for (const char *p = tok; *p; p++)
        if (p == tok || p[-1] == ' ') starts[nt++] = p;
    uint64_t s = seed, a[DEDUP_MAX_HASHES], b[DEDUP_MAX_HASHES];
    for (int i = 0; i < (hashes + 15) / 16 * 16; i++) {
        uint64_t x = splitmix(&s), y = splitmix(&s);
        if (i < hashes) a[i] = x, b[i] = y;
    }
    for (int i = 0; i < hashes; i++) sig[i] = UINT32_MAX;
    size_t ns = nt < (size_t)ngram ? 1 : nt - ngram + 1;
    for (size_t k = 0; k < ns; k++) {
        size_t last = k + ngram - 1 < nt ? k + ngram - 1 : nt - 1;
        const char *end = last + 1 < nt ? starts[last + 1] - 1 : tok + strlen(tok);
        uint32_t x = (uint32_t)XXH3_64bits_withSeed(starts[k], (size_t)(end - starts[k]), seed);
        for (int i = 0; i < hashes; i++) {
            uint32_t h = (uint32_t)((a[i] * x + b[i]) >> 32);
            if (h < sig[i]) sig[i] = h;
        }
    }
}

static void test_normalize(void) {
    norm_is("Hello,  World! 你好世界", 0, "hello, world! 你好世界", "hello world 你 好 世 界");
    norm_is("Hello,  World! 你好世界", 1, "hello world 你好世界", "hello world 你 好 世 界");
    norm_is("  GPT-4 在 2023年发布。\tÉCOLE ΣΊΣΥΦΟΣ Straße ", 0, "gpt-4 在 2023年发布。 école σίσυφοσ strasse",
            "gpt 4 在 2023 年 发 布 école σίσυφοσ strasse");
    norm_is("日本語のテキスト、カタカナ", 0, "日本語のテキスト、カタカナ", "日 本 語 の テ キ ス ト カ タ カ ナ");
    norm_is("!!! ... ???", 1, "", "");
    norm_is("😀 x", 0, "😀 x", "x");
    norm_is("ŉ ΐ", 0, "\xCA\xBCn \xCE\xB9\xCC\x88\xCC\x81", "\xCA\xBCn \xCE\xB9\xCC\x88\xCC\x81");
    /* case folds that grow the text three times over its own length, past the first reservation */
    ft_buf in, n, t;
    ft_buf_init(&in), ft_buf_init(&n), ft_buf_init(&t);
    for (int i = 0; i < 3000; i++) ft_buf_adds(&in, "\xCE\x90"); /* U+0390 folds to 3 code points, 6 bytes */
    dedup_normalize(in.data, in.len, 0, &n, &t);
    ok(n.len == 18000 && t.len == 18000 && !memcmp(n.data + 17994, "\xCE\xB9\xCC\x88\xCC\x81", 6),
       "3000 x U+0390 fold to 18000 bytes");
    ft_buf_release(&in), ft_buf_release(&n), ft_buf_release(&t);
}

static void test_signature(void) {
    dedup_params p;
    dedup_params_default(&p);
    dedup_hasher h;
    ok(dedup_hasher_init(&h, &p) == 0, "hasher for 14 x 8");
    dedup_doc d;
    dedup_doc_init(&d);
    const char *texts[] = {"MinHash 用来估计 Jaccard 相似度，LSH banding finds candidate pairs quickly.",
                           "第二条消息 with more words"};
    size_t lens[] = {strlen(texts[0]), strlen(texts[1])};
    dedup_doc_from_texts(&h, texts, lens, 2, &d);
    uint32_t ref[112];
    reference_sig(d.tok.data, 5, 112, 1, ref);
    ok(!memcmp(ref, d.sig, sizeof ref), "vectorized signature equals the 64-bit reference");
    ok(d.ntokens == 23, "23 tokens (got %llu)", (unsigned long long)d.ntokens);
    /* pinned (first computed by this test's reference): the same input and seed, the same values everywhere */
    ok(d.sig[0] == 64993662u && d.sig[1] == 385956406u && d.sig[2] == 175640993u && d.sig[3] == 118266076u,
       "pinned values (got %u %u %u %u)", d.sig[0], d.sig[1], d.sig[2], d.sig[3]);
    uint64_t e0 = d.exact[0];
    const char *upper[] = {"MINHASH 用来估计   JACCARD 相似度，lsh BANDING finds candidate pairs quickly.",
                           "第二条消息 WITH more words"};
    size_t ulens[] = {strlen(upper[0]), strlen(upper[1])};
    dedup_doc_from_texts(&h, upper, ulens, 2, &d);
    ok(d.exact[0] == e0, "case and whitespace do not change the exact key");
    ok(!memcmp(ref, d.sig, sizeof ref), "nor the signature");
    const char *one[] = {"短"};
    size_t onel[] = {3};
    dedup_doc_from_texts(&h, one, onel, 1, &d);
    ok(d.ntokens == 1 && d.sig[0] != UINT32_MAX, "one token: one shingle");
    const char *none[] = {"...", ""};
    size_t nonel[] = {3, 0};
    dedup_doc_from_texts(&h, none, nonel, 2, &d);
    ok(d.ntokens == 0 && !d.empty && d.sig[5] == UINT32_MAX, "punctuation only: no token, not empty");
    dedup_doc_from_texts(&h, none + 1, nonel + 1, 1, &d);
    ok(d.empty, "an empty text is empty");
    dedup_doc_release(&d);
    dedup_hasher_release(&h);
}

static void test_lsh(void) {
    int b, r;
    dedup_lsh_optimal(0.72, 112, &b, &r);
    printf("# threshold 0.72, 112 hashes: %d bands x %d rows\n", b, r);
    ok(b * r <= 112 && fabs(pow(1.0 / b, 1.0 / r) - 0.72) < 0.08, "0.72 over 112 hashes: S-curve midpoint near 0.72");
    dedup_lsh_optimal(0.7, 256, &b, &r);
    printf("# bigcode: threshold 0.7, 256 hashes: %d bands x %d rows\n", b, r);
    ok(b * r <= 256 && b >= 10, "bigcode geometry");
    ok(fabs(dedup_scurve(0.5, 14, 8) - (1 - pow(1 - pow(0.5, 8), 14))) < 1e-12, "S-curve formula");
    double t = pow(1.0 / 14, 1.0 / 8);
    ok(fabs(t - 0.7190) < 1e-3, "default threshold (1/14)^(1/8) = 0.719");
}

static void test_estimates(void) {
    uint32_t a[112], b[112];
    uint64_t s = 7;
    for (int i = 0; i < 112; i++) a[i] = (uint32_t)splitmix(&s), b[i] = i < 84 ? a[i] : (uint32_t)splitmix(&s);
    ok(fabs(dedup_sig_jaccard(a, b, 112) - 0.75) < 1e-12, "full estimate 84/112");
    uint8_t ca[56], cb[56];
    dedup_sig_compact(a, 112, ca);
    dedup_sig_compact(b, 112, cb);
    double e = dedup_compact_jaccard(ca, cb, 112);
    ok(e > 0.6 && e < 0.9, "4-bit estimate near 0.75 (%.3f)", e);
    ok(dedup_compact_jaccard(ca, ca, 112) == 1, "identical: 1");
    for (int j = 0; j < 14; j++) {
        int want = (j + 1) * 8 <= 84;
        if (dedup_band_equal(ca, cb, j, 8) != want && want) ok(0, "band %d equal", j);
    }
    ok(dedup_band_equal(ca, cb, 0, 8) && dedup_band_key(ca, 0, 8, 1) == dedup_band_key(cb, 0, 8, 1),
       "equal bands have equal keys");
    uint32_t x[] = {1, 3, 5, 7}, y[] = {3, 5, 9};
    ok(fabs(dedup_set_jaccard(x, 4, y, 3) - 2.0 / 5) < 1e-12, "exact Jaccard of sets");
}

/* The decision rule: exact first, then the lowest kept verified record; dropped records are no keepers. */
static void test_index(void) {
    dedup_params p;
    dedup_params_default(&p);
    p.bands = 2, p.rows = 2, p.threshold = 0.4;
    dedup_index *x = dedup_index_new(&p);
    uint8_t A[2] = {0x11, 0x11}, B[2] = {0x11, 0x22}, C[2] = {0x33, 0x22}, D[2] = {0x44, 0x55};
    uint64_t e[4][2] = {{1, 1}, {2, 2}, {3, 3}, {4, 4}};
    dedup_decision d;
    dedup_index_add(x, 0, e[0], 0, 1, A, NULL, 0, &d);
    is_int(d.kind, DECIDE_KEPT, "first record kept");
    dedup_index_add(x, 1, e[1], 0, 1, B, NULL, 0, &d);
    ok(d.kind == DECIDE_NEAR && d.seq == 0, "B shares band 0 with A and half its values: near dup of 0");
    dedup_index_add(x, 2, e[2], 0, 1, C, NULL, 0, &d);
    is_int(d.kind, DECIDE_KEPT, "C is like B only; B was dropped, so C is kept (no chains)");
    dedup_index_add(x, 3, e[0], 0, 1, D, NULL, 0, &d);
    ok(d.kind == DECIDE_KEPT, "same exact hash but no shared band: the exact key is found through bands");
    dedup_index_add(x, 4, e[0], 0, 1, A, NULL, 0, &d);
    ok(d.kind == DECIDE_EXACT && d.seq == 0, "an exact copy of A: exact dup of 0, before any near candidate");
    dedup_index_add(x, 5, e[3], 1, 0, NULL, NULL, 0, &d);
    is_int(d.kind, DECIDE_EMPTY, "empty: kept, not indexed");
    dedup_index_add(x, 6, e[3], 0, 0, A, NULL, 0, &d);
    is_int(d.kind, DECIDE_KEPT, "no tokens: exact table only");
    dedup_index_add(x, 7, e[3], 0, 0, A, NULL, 0, &d);
    ok(d.kind == DECIDE_EXACT && d.seq == 6, "no tokens, same text: exact dup");
    is_int(dedup_index_kept(x), 4, "4 records indexed");
    /* many records: the tables grow and still find everything */
    dedup_index_free(x);
    dedup_params_default(&p);
    x = dedup_index_new(&p);
    uint8_t c[56];
    uint64_t s = 99;
    int bad = 0;
    for (uint64_t i = 0; i < 20000; i++) {
        for (int k = 0; k < 56; k++) c[k] = (uint8_t)splitmix(&s);
        uint64_t ex[2] = {i, i};
        dedup_index_add(x, i, ex, 0, 1, c, NULL, 0, &d);
        bad += d.kind != DECIDE_KEPT;
    }
    is_int(bad, 0, "20000 random signatures: all kept");
    uint64_t ib, sb;
    dedup_index_memory(x, &ib, &sb);
    printf("# index: %.1f bytes per kept record\n", (double)ib / 20000);
    ok((double)ib / 20000 <= 200, "index memory <= 200 bytes per kept record");
    s = 99;
    for (int k = 0; k < 56; k++) c[k] = (uint8_t)splitmix(&s);
    uint64_t ex[2] = {0, 0};
    dedup_index_add(x, 20000, ex, 0, 1, c, NULL, 0, &d);
    ok(d.kind == DECIDE_EXACT && d.seq == 0, "the first one is found again after growth");
    dedup_index_free(x);
}

static void test_sigfile(void) {
    dedup_params p;
    dedup_params_default(&p);
    p.verify = VERIFY_EXACT;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    dedup_sigwriter *w = dedup_sigwriter_new(f, &p, "shard-7.jsonl");
    uint8_t c[56];
    memset(c, 0xA5, sizeof c);
    uint32_t sh[] = {3, 9, 27};
    dedup_sigrec r = {SIG_DOC, 12, {5, 6}, c, "\"id-1\"", 6, sh, 3};
    dedup_sigwriter_add(w, &r);
    dedup_sigrec r2 = {SIG_REJECT, 13, {0, 0}, NULL, NULL, 0, NULL, 0};
    dedup_sigwriter_add(w, &r2);
    ok(dedup_sigwriter_finish(w, 0x1234) == 0, "signature file written");
    fclose(f);
    uint64_t *al = malloc(len + 8);
    memcpy(al, buf, len);
    dedup_sigfile *sf;
    const char *why = NULL;
    ok(dedup_sigfile_parse(al, len, &sf, &why) == 0, "parsed back (%s)", why ? why : "ok");
    if (sf) {
        is_str(dedup_sigfile_name(sf), "shard-7.jsonl", "name");
        is_int(dedup_sigfile_count(sf), 2, "two records");
        is_int(dedup_sigfile_input_checksum(sf), 0x1234, "input checksum");
        dedup_sigrec g;
        dedup_sigfile_record(sf, 0, &g);
        ok(g.kind == SIG_DOC && g.line == 12 && g.exact[1] == 6 && g.nshingles == 3 && g.shingles[2] == 27 &&
               g.id_len == 6 && !memcmp(g.id, "\"id-1\"", 6) && !memcmp(g.csig, c, 56),
           "record 0 round-trips");
        ok(dedup_sigfile_params(sf)->verify == VERIFY_EXACT && dedup_sigfile_params(sf)->bands == 14, "params");
        dedup_sigfile_free(sf);
    }
    /* every single-byte change and every truncation is refused, never read out of bounds */
    int refused = 0, total = 0;
    for (size_t i = 0; i < len; i++) {
        ((uint8_t *)al)[i] ^= 0x40;
        total++;
        if (dedup_sigfile_parse(al, len, &sf, &why) < 0) refused++;
        else dedup_sigfile_free(sf);
        ((uint8_t *)al)[i] ^= 0x40;
    }
    is_int(refused, total, "every flipped byte is refused (checksum or a check)");
    refused = 0;
    for (size_t n = 0; n < len; n += 3) refused += dedup_sigfile_parse(al, n, &sf, &why) < 0;
    is_int(refused, (int)((len + 2) / 3), "every truncation is refused");
    free(al);
    free(buf);
}

int main(void) {
    test_normalize();
    test_signature();
    test_lsh();
    test_estimates();
    test_index();
    test_sigfile();
    return done_testing();
}
