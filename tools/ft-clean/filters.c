/* filters.c: per-message quality filters for ft-clean.
 * Rule: each filter is a pure function of (options, text) that returns a measured value; the thresholds
 * and the defaults (see clean_opts_default in record.c and docs/ft-clean.md) decide. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "clean.h"
#include "utf8.h"

static int is_cjk(int32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2FA1F) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0xAC00 && cp <= 0xD7A3);
}

static int32_t *decode_all(const char *s, size_t n, size_t *count) {
    int32_t *cps = ft_xmalloc((n + 1) * sizeof *cps);
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        int l = ft_utf8_decode(s + i, n - i, &cps[k++]);
        i += (size_t)l;
    }
    *count = k;
    return cps;
}

static uint64_t mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

typedef struct {
    uint64_t *key;
    uint32_t *cnt;
    size_t mask, used;
} counter;

static void counter_init(counter *c, size_t expect) {
    size_t cap = 16;
    while (cap < 2 * expect + 2) cap <<= 1;
    c->key = calloc(cap, sizeof *c->key);
    c->cnt = calloc(cap, sizeof *c->cnt);
    if (!c->key || !c->cnt) ft_assert_fail("calloc", __FILE__, __LINE__);
    c->mask = cap - 1;
    c->used = 0;
}

static void counter_add(counter *c, uint64_t h) {
    if (!h) h = 1; /* 0 marks an empty slot */
    size_t i = (size_t)h & c->mask;
    while (c->key[i] && c->key[i] != h) i = (i + 1) & c->mask;
    if (!c->key[i]) c->key[i] = h, c->used++;
    c->cnt[i]++;
}

static void counter_release(counter *c) { free(c->key), free(c->cnt); }

static int cmp_desc(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* data-juicer's character_repetition_filter ratio: over all character n-grams, the share of occurrences
 * taken by the floor(sqrt(distinct)) most frequent ones (only n-grams seen more than once count). */
static double char_rep_ratio(const int32_t *cps, size_t k, int ngram) {
    if (k < (size_t)ngram) return 0;
    size_t total = k - (size_t)ngram + 1;
    counter c;
    counter_init(&c, total);
    for (size_t i = 0; i < total; i++) {
        uint64_t h = 0x9E3779B97F4A7C15ull;
        for (int j = 0; j < ngram; j++) h = mix(h ^ (uint64_t)(uint32_t)cps[i + (size_t)j]) + (uint64_t)j;
        counter_add(&c, h);
    }
    size_t distinct = c.used, rep = 0;
    uint32_t *freq = ft_xmalloc((distinct + 1) * sizeof *freq);
    for (size_t i = 0; i <= c.mask; i++)
        if (c.key[i] && c.cnt[i] > 1) freq[rep++] = c.cnt[i];
    size_t top = (size_t)sqrt((double)distinct);
    if (top > rep) top = rep;
    qsort(freq, rep, sizeof *freq, cmp_desc);
    uint64_t sum = 0;
    for (size_t i = 0; i < top; i++) sum += freq[i];
    free(freq);
    counter_release(&c);
    return (double)sum / (double)total;
}

/* Special characters: non-ASCII symbols (math, currency, modifier, other: emoji, box drawing, dingbats),
 * private-use, unassigned and surrogate code points, and U+FFFD. ASCII operators are not special, so
 * code and arithmetic pass. */
static int is_special(int32_t cp) {
    if (cp < 0x80) return 0;
    if (cp == 0xFFFD) return 1;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_SM:
    case UTF8PROC_CATEGORY_SC:
    case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CS: return 1;
    default: return 0;
    }
}

static int is_sentence_end(int32_t cp) {
    return cp == 0x3002 || cp == 0xFF01 || cp == 0xFF1F || cp == 0xFF1B || cp == '!' || cp == '?' || cp == ';' ||
           cp == '\n';
}

/* Share of sentences (of at least 4 characters, outside fenced code) that repeat an earlier one. */
static double sentence_repeat(const int32_t *cps, size_t k, size_t *nsent) {
    counter c;
    counter_init(&c, k / 8 + 8);
    size_t total = 0, start = 0;
    int code = 0;
    for (size_t i = 0; i <= k; i++) {
        int end = i == k || is_sentence_end(cps[i]) || (cps[i] == '.' && (i + 1 == k || cps[i + 1] == ' ' ||
                                                                         cps[i + 1] == '\n'));
        if (!end) continue;
        size_t b = start, e = i;
        start = i + 1;
        while (b < e && (cps[b] == ' ' || cps[b] == '\t' || cps[b] == 0x3000)) b++;
        while (e > b && (cps[e - 1] == ' ' || cps[e - 1] == '\t' || cps[e - 1] == 0x3000)) e--;
        if (e - b >= 3 && ((cps[b] == '`' && cps[b + 1] == '`' && cps[b + 2] == '`') ||
                           (cps[b] == '~' && cps[b + 1] == '~' && cps[b + 2] == '~'))) {
            code = !code;
            continue;
        }
        if (code || e - b < 4) continue;
        uint64_t h = 0x243F6A8885A308D3ull;
        for (size_t j = b; j < e; j++) h = mix(h ^ (uint64_t)(uint32_t)cps[j]);
        counter_add(&c, h);
        total++;
    }
    size_t distinct = c.used;
    counter_release(&c);
    *nsent = total;
    return total ? (double)(total - distinct) / (double)total : 0;
}

int clean_filter_message(const clean_opts *o, const char *s, size_t n, int is_assistant, char *detail,
                         size_t cap) {
    const char *who = is_assistant ? "assistant" : "human";
    if (o->filter_empty && n == 0) {
        snprintf(detail, cap, "empty %s turn", who);
        return R_EMPTY_TURN;
    }
    size_t k;
    int32_t *cps = decode_all(s, n, &k);
    int r = R_KEPT;
    if (k < o->min_turn_chars) {
        snprintf(detail, cap, "%s turn has %zu characters (min %llu)", who, k, (unsigned long long)o->min_turn_chars);
        r = R_TURN_TOO_SHORT;
        goto out;
    }
    if (o->max_turn_chars && k > o->max_turn_chars) {
        snprintf(detail, cap, "%s turn has %zu characters (max %llu)", who, k, (unsigned long long)o->max_turn_chars);
        r = R_TURN_TOO_LONG;
        goto out;
    }
    if (o->max_rep_ratio > 0 && k >= o->rep_min_chars) {
        size_t cjk = 0, latin = 0;
        for (size_t i = 0; i < k; i++) {
            if (is_cjk(cps[i])) cjk++;
            else if (cps[i] < 0x80 && ((cps[i] | 32) >= 'a' && (cps[i] | 32) <= 'z')) latin++;
        }
        int ng = cjk >= latin ? o->rep_ngram_cjk : o->rep_ngram_latin;
        double ratio = char_rep_ratio(cps, k, ng);
        if (ratio > o->max_rep_ratio) {
            snprintf(detail, cap, "%s turn: character %d-gram repetition %.3f > %.3f", who, ng, ratio,
                     o->max_rep_ratio);
            r = R_REPETITION;
            goto out;
        }
    }
    if (o->max_special_ratio > 0 && k >= o->special_min_chars) {
        size_t sp = 0;
        for (size_t i = 0; i < k; i++) sp += (size_t)is_special(cps[i]);
        double ratio = (double)sp / (double)k;
        if (ratio > o->max_special_ratio) {
            snprintf(detail, cap, "%s turn: special characters %.3f > %.3f", who, ratio, o->max_special_ratio);
            r = R_SPECIAL_CHARS;
            goto out;
        }
    }
    if (is_assistant && o->max_sentence_repeat > 0) {
        size_t ns;
        double ratio = sentence_repeat(cps, k, &ns);
        if (ns >= o->sentence_min_count && ratio > o->max_sentence_repeat) {
            snprintf(detail, cap, "assistant turn: %.0f%% of %zu sentences are repeats (max %.0f%%)", 100 * ratio, ns,
                     100 * o->max_sentence_repeat);
            r = R_REPEATED_SENTENCES;
            goto out;
        }
    }
out:
    free(cps);
    return r;
}
