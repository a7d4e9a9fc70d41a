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

static int32_t *decode_all(clean_ctx *c, const char *s, size_t n, size_t *count) {
    if (c->cps_cap < n + 1) {
        c->cps_cap = n + 1 + n / 2;
        c->cps = ft_xrealloc(c->cps, c->cps_cap * sizeof *c->cps);
    }
    int32_t *cps = c->cps;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x80) {
            cps[k++] = ch, i++;
            continue;
        }
        i += (size_t)ft_utf8_decode(s + i, n - i, &cps[k++]);
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

/* Open-addressing counter of 64-bit hashes in the context's scratch (0 marks an empty slot). */
static size_t table_init(clean_ctx *c, size_t expect) {
    size_t cap = 64;
    while (cap < 2 * expect + 2) cap <<= 1;
    if (c->tab_cap < cap) {
        free(c->keys), free(c->cnt), free(c->slots);
        c->keys = ft_xmalloc(cap * sizeof *c->keys);
        c->cnt = ft_xmalloc(cap * sizeof *c->cnt);
        c->slots = ft_xmalloc(cap * sizeof *c->slots);
        c->tab_cap = cap;
    }
    c->nslots = 0;
    memset(c->keys, 0, cap * sizeof *c->keys);
    return cap - 1;
}

/* Returns 1 when h was new. */
static int table_add(clean_ctx *c, size_t mask, uint64_t h) {
    h |= 1;
    size_t i = (size_t)(h >> 7) & mask;
    while (c->keys[i] && c->keys[i] != h) i = (i + 1) & mask;
    if (c->keys[i]) {
        c->cnt[i]++;
        return 0;
    }
    c->keys[i] = h, c->cnt[i] = 1;
    c->slots[c->nslots++] = (uint32_t)i;
    return 1;
}

/* data-juicer's character_repetition_filter ratio: over all character n-grams, the share of occurrences
 * taken by the floor(sqrt(distinct)) most frequent ones (only n-grams seen more than once count).
 * N-gram hashes roll: H = sum h(cp[i+j]) * P^(n-1-j), so each position costs O(1). */
static double char_rep_ratio(clean_ctx *c, const int32_t *cps, size_t k, int ngram, uint32_t *max_freq) {
    *max_freq = 0;
    if (k < (size_t)ngram) return 0;
    const uint64_t P = 0x100000001B3ull;
    size_t total = k - (size_t)ngram + 1, mask = table_init(c, total), distinct = 0;
    uint64_t pn = 1, h = 0;
    for (int j = 0; j < ngram - 1; j++) pn *= P;
    for (size_t i = 0; i < k; i++) {
        if (i >= (size_t)ngram) h -= mix((uint64_t)(uint32_t)cps[i - (size_t)ngram] + 1) * pn;
        h = h * P + mix((uint64_t)(uint32_t)cps[i] + 1);
        if (i + 1 >= (size_t)ngram) distinct += (size_t)table_add(c, mask, mix(h));
    }
    /* histogram of frequencies > 1, then the top floor(sqrt(distinct)) from the highest down */
    uint32_t maxf = 1;
    size_t rep = 0;
    for (size_t j = 0; j < c->nslots; j++) {
        uint32_t f = c->cnt[c->slots[j]];
        if (f > 1) {
            rep++;
            if (f > maxf) maxf = f;
        }
    }
    *max_freq = maxf;
    if (!rep) return 0;
    if (c->hist_cap < (size_t)maxf + 1) {
        free(c->hist);
        c->hist_cap = (size_t)maxf + 1;
        c->hist = ft_xmalloc(c->hist_cap * sizeof *c->hist);
    }
    memset(c->hist, 0, ((size_t)maxf + 1) * sizeof *c->hist);
    for (size_t j = 0; j < c->nslots; j++) {
        uint32_t f = c->cnt[c->slots[j]];
        if (f > 1) c->hist[f]++;
    }
    size_t top = (size_t)sqrt((double)distinct);
    if (top > rep) top = rep;
    uint64_t sum = 0;
    for (uint32_t f = maxf; f > 1 && top; f--) {
        size_t take = c->hist[f] < top ? c->hist[f] : top;
        sum += (uint64_t)take * f;
        top -= take;
    }
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
static double sentence_repeat(clean_ctx *c, const int32_t *cps, size_t k, size_t *nsent) {
    size_t mask = table_init(c, k / 8 + 8), total = 0, distinct = 0, start = 0;
    int code = 0;
    for (size_t i = 0; i <= k; i++) {
        int end = i == k || is_sentence_end(cps[i]) ||
                  (cps[i] == '.' && (i + 1 == k || cps[i + 1] == ' ' || cps[i + 1] == '\n'));
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
        distinct += (size_t)table_add(c, mask, h);
        total++;
    }
    *nsent = total;
    return total ? (double)(total - distinct) / (double)total : 0;
}

/* The longest run where a unit of 1..16 characters holding a letter repeats back to back at least
 * min_repeats times ("好的好的好的…", "hahaha…"): a reply stuck in a loop below the sentence level, which the
 * n-gram ratio misses for units longer than 2. Returns the run length in characters, *unit its length. */
static size_t longest_loop(const int32_t *cps, size_t k, uint64_t min_repeats, size_t *unit) {
    size_t best = 0;
    for (size_t p = 1; p <= 16 && 2 * p <= k; p++) {
        size_t run = 0, max = 0, end = 0;
        for (size_t i = p; i < k; i++) {
            run = cps[i] == cps[i - p] ? run + 1 : 0;
            if (run > max) max = run, end = i;
        }
        size_t len = max + p;
        if (len <= best || len / p < min_repeats) continue;
        int letter = 0;
        for (size_t j = end + 1 - p; j <= end && !letter; j++) {
            utf8proc_category_t cat = utf8proc_category(cps[j]);
            letter = cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
        }
        if (letter) best = len, *unit = p;
    }
    return best;
}

int clean_filter_message(clean_ctx *c, const char *s, size_t n, int is_assistant, char *detail, size_t cap) {
    const clean_opts *o = c->o;
    const char *who = is_assistant ? "assistant" : "human";
    if (o->filter_empty && n == 0) {
        snprintf(detail, cap, "empty %s turn", who);
        return R_EMPTY_TURN;
    }
    size_t k;
    const int32_t *cps = decode_all(c, s, n, &k);
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
    /* A loop of r repeats makes some n-gram occur about r times: without one, no loop scan is needed
     * (max_freq stays UINT32_MAX, "unknown", when the n-gram table was not built). */
    uint32_t max_freq = UINT32_MAX;
    if (o->max_rep_ratio > 0 && k >= o->rep_min_chars) {
        size_t cjk = 0, latin = 0;
        for (size_t i = 0; i < k; i++) {
            if (is_cjk(cps[i])) cjk++;
            else if (cps[i] < 0x80 && ((cps[i] | 32) >= 'a' && (cps[i] | 32) <= 'z')) latin++;
        }
        int ng = cjk >= latin ? o->rep_ngram_cjk : o->rep_ngram_latin;
        double ratio = char_rep_ratio(c, cps, k, ng, &max_freq);
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
        double ratio = sentence_repeat(c, cps, k, &ns);
        if (ns >= o->sentence_min_count && ratio > o->max_sentence_repeat) {
            snprintf(detail, cap, "assistant turn: %.0f%% of %zu sentences are repeats (max %.0f%%)", 100 * ratio, ns,
                     100 * o->max_sentence_repeat);
            r = R_REPEATED_SENTENCES;
            goto out;
        }
    }
    /* The loop's unit (at most 16 characters) then repeats at least max(min repeats, share * k / 16) times. */
    double need = o->max_loop_share * (double)k / 16;
    if (need < (double)o->loop_min_repeats) need = (double)o->loop_min_repeats;
    if (is_assistant && o->max_loop_share > 0 && k >= o->loop_min_chars && (double)max_freq + 2 >= need) {
        size_t unit = 0, run = longest_loop(cps, k, o->loop_min_repeats, &unit);
        if (run >= o->loop_min_chars && (double)run > o->max_loop_share * (double)k) {
            snprintf(detail, cap, "assistant turn: a %zu-character unit repeated %zu times takes %.0f%% (max %.0f%%)",
                     unit, run / unit, 100.0 * (double)run / (double)k, 100 * o->max_loop_share);
            r = R_LOOPING;
            goto out;
        }
    }
out:
    return r;
}
