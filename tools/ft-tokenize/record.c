/* record.c: one conversation record to token ids and a loss mask, as Firefly's UnifiedSFTDataset makes them
 * (component/dataset.py): every segment (system, each user turn, each assistant turn) is its own encode call
 * without BOS/EOS; the mask is 1 on whole assistant segments; then the overlong policy.
 * Rule: ordinary text gets exactly Hugging Face's ids; special strings count only where the template put
 * them, unless --hf-special-tokens asks for Hugging Face's behaviour on content too. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tokenize.h"
#include "utf8.h"

static const char *const reason_names[TOK_REASONS] = {
    "ok", "bad-json", "bad-utf8", "not-object", "no-conversation", "empty-conversation", "bad-turn",
    "bad-system", "too-large", "encode-failed", "overlong",
};

const char *tok_reason_name(int reason) {
    return reason >= 0 && reason < TOK_REASONS ? reason_names[reason] : "unknown";
}

void tok_ctx_init(tok_ctx *c) {
    memset(c, 0, sizeof *c);
    ft_ids_init(&c->ids);
    ft_ids_init(&c->tmp);
    ft_buf_init(&c->mask);
    ft_buf_init(&c->scratch);
}

void tok_ctx_release(tok_ctx *c) {
    ft_ids_release(&c->ids);
    ft_ids_release(&c->tmp);
    ft_buf_release(&c->mask);
    ft_buf_release(&c->scratch);
    free(c->turn_end);
    free(c->pieces);
    memset(c, 0, sizeof *c);
}

/* ---- one segment ------------------------------------------------------------------------------------ */

/* The spans' offsets in the joined text: content spans are never cut, so a chunk [a, b) of the text
 * holds whole content spans. */
typedef struct {
    const tok_span *v;
    const size_t *off;
    size_t n;
    const char *text;
} joined;

/* Whether a content span inside [a, b) holds a special string of the mask. */
static int content_has(const ft_tokenizer *tk, const joined *j, size_t a, size_t b, unsigned mask) {
    size_t at;
    for (size_t i = 0; i < j->n; i++)
        if (j->v[i].content && j->off[i] >= a && j->off[i] + j->v[i].n <= b &&
            ft_tokenizer_find_special(tk, j->v[i].s, j->v[i].n, mask, &at))
            return 1;
    return 0;
}

/* A chunk between the template's split specials: one call of the model's own encoder, as Hugging Face
 * makes it, unless content in it holds an inline special (a SentencePiece USER_DEFINED marker such as
 * <reserved_106>): then the chunk is cut at the inline specials of the template text (each becomes its id)
 * and the pieces between are encoded plainly, so that content spells the marker as text. */
static int encode_chunk(const ft_tokenizer *tk, const joined *j, size_t a, size_t b, int inline_in_content,
                        ft_ids *out) {
    if (a == b) return 0;
    if (!inline_in_content || !content_has(tk, j, a, b, FT_SPECIAL_INLINE))
        return tk->ops->encode_raw(tk, j->text + a, b - a, out);
    size_t pos = a;
    for (size_t i = 0; i < j->n; i++) {
        if (j->v[i].content) continue;
        size_t lo = j->off[i] > a ? j->off[i] : a, hi = j->off[i] + j->v[i].n < b ? j->off[i] + j->v[i].n : b, at;
        const ft_special *sp;
        while (lo < hi && (sp = ft_tokenizer_find_special(tk, j->text + lo, hi - lo, FT_SPECIAL_INLINE, &at))) {
            if (lo + at > pos) FT_TRY(ft_tokenizer_encode(tk, j->text + pos, lo + at - pos, out));
            ft_ids_push(out, sp->id);
            pos = lo = lo + at + sp->len;
        }
    }
    return b > pos ? ft_tokenizer_encode(tk, j->text + pos, b - pos, out) : 0;
}

int tok_segment(tok_ctx *c, const tok_opts *o, const tok_span *spans, size_t nspans, ft_ids *out) {
    const ft_tokenizer *tk = o->tk;
    size_t offs_fixed[16], *off = nspans <= 16 ? offs_fixed : ft_xmalloc(nspans * sizeof *off);
    ft_buf *t = &c->scratch;
    ft_buf_clear(t);
    for (size_t i = 0; i < nspans; i++) {
        off[i] = t->len;
        ft_buf_add(t, spans[i].s, spans[i].n);
    }
    joined j = {spans, off, nspans, t->data ? t->data : ""};
    int rc = 0;
    if (o->hf_special) {
        rc = ft_tokenizer_encode_special(tk, j.text, t->len, out);
    } else {
        /* Safe: only the template's own special strings count. Cut at the split specials of the template
         * text (where Hugging Face cuts), content specials stay in the chunks as text. Without specials in
         * content this is exactly Hugging Face's encoding. */
        int inl = content_has(tk, &j, 0, t->len, FT_SPECIAL_INLINE);
        size_t pos = 0, at;
        for (size_t i = 0; i < nspans && rc == 0; i++) {
            if (spans[i].content) continue;
            size_t lo = off[i], hi = off[i] + spans[i].n;
            const ft_special *sp;
            while (rc == 0 && lo < hi &&
                   (sp = ft_tokenizer_find_special(tk, j.text + lo, hi - lo, FT_SPECIAL_SPLIT, &at))) {
                rc = encode_chunk(tk, &j, pos, lo + at, inl, out);
                ft_ids_push(out, sp->id);
                pos = lo = lo + at + sp->len;
            }
        }
        if (rc == 0) rc = encode_chunk(tk, &j, pos, t->len, inl, out);
    }
    if (off != offs_fixed) free(off);
    return rc;
}

/* ---- one record ------------------------------------------------------------------------------------- */

static int reject(tok_ctx *c, int reason, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int reject(tok_ctx *c, int reason, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
    return c->reason = reason;
}

/* Appends a segment's ids to the record with mask m. */
static int add_segment(tok_ctx *c, const tok_opts *o, const tok_span *s, size_t n, int m, int64_t eos) {
    size_t before = c->ids.n;
    int rc = tok_segment(c, o, s, n, &c->ids);
    if (rc < 0) return reject(c, TOK_ENCODE_FAILED, "the tokenizer failed: %s", ft_strerror(rc)), rc;
    if (eos >= 0) ft_ids_push(&c->ids, (uint32_t)eos);
    size_t add = c->ids.n - before;
    ft_buf_reserve(&c->mask, add);
    memset(c->mask.data + c->mask.len, m, add);
    c->mask.len += add;
    return 0;
}

/* The spans of a format with content (stripped by the caller) and the stop token filled in. */
static size_t render(const tpl *t, const tpl_format *f, const char *content, size_t clen, const char *stop,
                     tok_span *out) {
    size_t n = 0;
    for (size_t i = 0; i < f->n && n < 16; i++) {
        const tpl_part *p = &f->v[i];
        if (p->kind == TPL_LIT) out[n++] = (tok_span){t->store.data + p->off, p->n, 0};
        else if (p->kind == TPL_CONTENT) out[n++] = (tok_span){content, clen, 1};
        else out[n++] = (tok_span){stop, strlen(stop), 0};
    }
    return n;
}

static int render_segment(tok_ctx *c, const tok_opts *o, const tpl_format *f, const char *s, size_t len, int m) {
    size_t b, e;
    py_strip(s, len, &b, &e);
    tok_span sp[16];
    const char *stop = o->tk->eos_id >= 0 ? o->tk->ops->piece(o->tk, (uint32_t)o->tk->eos_id) : NULL;
    size_t n = render(o->t, f, s + b, e - b, stop ? stop : "", sp);
    return add_segment(c, o, sp, n, m, -1);
}

static void add_piece(tok_ctx *c, size_t start, size_t end, int with_prefix) {
    if (c->npieces == c->piece_cap) {
        c->piece_cap = c->piece_cap ? 2 * c->piece_cap : 8;
        c->pieces = ft_xrealloc(c->pieces, c->piece_cap * sizeof *c->pieces);
    }
    c->pieces[c->npieces++] = (struct tok_piece){start, end, with_prefix};
}

/* --overlong split: consecutive turns packed greedily into pieces of at most max tokens, each after the
 * prefix (system segment, or <s>); a turn too long alone is cut to fit (its head kept). */
static void split_turns(tok_ctx *c, size_t max) {
    size_t P = c->prefix, start = P, prev = P;
    if (P >= max) { /* no room for any turn: Firefly's truncation */
        add_piece(c, 0, max, 0);
        c->truncated = 1;
        return;
    }
    for (size_t i = 0; i < c->nturns; i++) {
        size_t end = c->turn_end[i];
        if (P + (end - start) <= max) {
            prev = end;
            continue;
        }
        if (prev > start) add_piece(c, start, prev, 1), start = prev;
        if (P + (end - start) > max) {
            add_piece(c, start, start + (max - P), 1);
            c->truncated = 1;
            start = end;
        }
        prev = end;
    }
    if (prev > start) add_piece(c, start, prev, 1);
    c->split = c->npieces > 1;
}

int tok_conv(tok_ctx *c, const tok_opts *o, const cJSON *obj) {
    const ft_tokenizer *tk = o->tk;
    const tpl *t = o->t;
    c->ids.n = 0;
    ft_buf_clear(&c->mask);
    c->nturns = c->npieces = 0;
    c->prefix = 0;
    c->truncated = c->split = 0;
    c->detail[0] = 0;
    c->reason = TOK_OK;
    if (!cJSON_IsObject(obj)) return reject(c, TOK_NOT_OBJECT, "record is not a JSON object");
    const cJSON *conv = cJSON_GetObjectItemCaseSensitive(obj, "conversation");
    if (!conv) return reject(c, TOK_NO_CONVERSATION, "no 'conversation'");
    if (!cJSON_IsArray(conv)) return reject(c, TOK_NO_CONVERSATION, "'conversation' is not an array");
    if (!conv->child) return reject(c, TOK_EMPTY_CONVERSATION, "'conversation' is an empty list");
    size_t nturns = 0;
    const cJSON *turn;
    cJSON_ArrayForEach(turn, conv) {
        nturns++;
        if (!cJSON_IsObject(turn)) return reject(c, TOK_BAD_TURN, "turn %zu is not an object", nturns);
        if (!ft_json_str(turn, "human")) return reject(c, TOK_BAD_TURN, "turn %zu has no string 'human'", nturns);
        if (!ft_json_str(turn, "assistant"))
            return reject(c, TOK_BAD_TURN, "turn %zu has no string 'assistant'", nturns);
    }
    const cJSON *sys = cJSON_GetObjectItemCaseSensitive(obj, "system");
    if (sys && !cJSON_IsString(sys)) return reject(c, TOK_BAD_SYSTEM, "'system' is not a string");
    if (nturns > c->turn_cap) {
        c->turn_cap = nturns;
        c->turn_end = ft_xrealloc(c->turn_end, nturns * sizeof *c->turn_end);
    }

    if (t->v1) { /* <s> u1 </s> a1 </s> ...: utterances as they are (no strip), no system */
        tok_span sp;
        ft_ids_push(&c->ids, (uint32_t)tk->bos_id);
        ft_buf_addc(&c->mask, 0);
        c->prefix = 1;
        cJSON_ArrayForEach(turn, conv) {
            for (int k = 0; k < 2; k++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(turn, k ? "assistant" : "human");
                sp = (tok_span){v->valuestring, strlen(v->valuestring), 1};
                if (add_segment(c, o, &sp, 1, k, tk->eos_id) < 0) return c->reason;
            }
            c->turn_end[c->nturns++] = c->ids.n;
        }
    } else {
        if (t->has_system) {
            const char *s = sys ? sys->valuestring : t->system;
            if (s && render_segment(c, o, &t->sys, s, strlen(s), 0) < 0) return c->reason;
            c->prefix = c->ids.n;
        }
        cJSON_ArrayForEach(turn, conv) {
            const char *h = ft_json_str(turn, "human"), *a = ft_json_str(turn, "assistant");
            if (render_segment(c, o, &t->user, h, strlen(h), 0) < 0) return c->reason;
            if (render_segment(c, o, &t->asst, a, strlen(a), 1) < 0) return c->reason;
            c->turn_end[c->nturns++] = c->ids.n;
        }
    }

    size_t n = c->ids.n, max = (size_t)o->max_seq_len;
    if (n == 0) return reject(c, TOK_EMPTY_CONVERSATION, "the record renders to no tokens");
    if (!max || n <= max) add_piece(c, 0, n, 0);
    else if (o->overlong == OVERLONG_DROP)
        return reject(c, TOK_DROPPED_OVERLONG, "%zu tokens > --max-seq-len %zu", n, max);
    else if (o->overlong == OVERLONG_TRUNCATE) add_piece(c, 0, max, 0), c->truncated = 1;
    else split_turns(c, max);
    return TOK_OK;
}

int tok_record(tok_ctx *c, const tok_opts *o, const char *line, size_t len) {
    c->npieces = 0;
    c->truncated = c->split = 0;
    size_t bad = ft_utf8_check(line, len);
    if (bad != len) return reject(c, TOK_BAD_UTF8, "invalid UTF-8 at byte %zu", bad);
    cJSON *obj;
    size_t off;
    if (ft_json_parse(line, len, &obj, &off) < 0) {
        if (off >= len) return reject(c, TOK_BAD_JSON, "truncated JSON");
        return reject(c, TOK_BAD_JSON, "JSON syntax error at byte %zu", off);
    }
    tok_conv(c, o, obj);
    cJSON_Delete(obj);
    return c->reason;
}

void tok_piece_get(const tok_ctx *c, size_t k, ft_ids *ids, ft_buf *mask) {
    const struct tok_piece *p = &c->pieces[k];
    ids->n = 0;
    ft_buf_clear(mask);
    if (p->with_prefix) {
        ft_ids_append(ids, c->ids.v, c->prefix);
        ft_buf_add(mask, c->mask.data, c->prefix);
    }
    ft_ids_append(ids, c->ids.v + p->start, p->end - p->start);
    ft_buf_add(mask, c->mask.data + p->start, p->end - p->start);
}
