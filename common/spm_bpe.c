/* spm_bpe.c: the ModelProto reader and the native SentencePiece BPE encoder of spm_bpe.h.
 * Rule: the encoder follows libsentencepiece 0.1.97 step for step (identity normalizer, symbols, a queue of
 * adjacent pairs by score then left index, UNUSED pieces split back, unknown pieces to unk or bytes); it
 * only differs in how it finds things: id-pair and string hash tables, per-thread scratch. */
#include "spm_bpe.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define MAX_TEXT (256u << 20) /* symbol indexes and offsets are 32-bit; larger texts go to the library */

/* ---- Protocol-buffer wire reading: varints and field skipping, bounds-checked. ---- */

typedef struct {
    const uint8_t *p, *end;
} wire;

static int wire_varint(wire *w, uint64_t *v) {
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (w->p >= w->end) return FT_EPARSE;
        uint8_t b = *w->p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return FT_EPARSE;
}

/* Reads one field: a varint's value in *v; a length-delimited or fixed-size field's bytes in *body, *blen. */
static int wire_field(wire *w, uint32_t *field, int *type, uint64_t *v, const uint8_t **body, size_t *blen) {
    uint64_t key;
    FT_TRY(wire_varint(w, &key));
    *field = (uint32_t)(key >> 3);
    *type = (int)(key & 7);
    *v = 0;
    *body = w->p;
    *blen = 0;
    if (*field == 0) return FT_EPARSE;
    switch (*type) {
    case 0: return wire_varint(w, v);
    case 1: *blen = 8; break;
    case 5: *blen = 4; break;
    case 2:
        FT_TRY(wire_varint(w, v));
        *body = w->p;
        FT_RETURN_IF(*v > (uint64_t)(w->end - w->p), FT_EPARSE);
        *blen = (size_t)*v;
        break;
    default: return FT_EPARSE;
    }
    FT_RETURN_IF(*blen > (size_t)(w->end - w->p), FT_EPARSE);
    w->p += *blen;
    return 0;
}

/* One submessage's fields, each handed to fn; FT_EPARSE when it is not a message. */
typedef int (*field_fn)(void *ctx, uint32_t field, int type, uint64_t v, const uint8_t *body, size_t blen);

static int wire_each(const uint8_t *p, size_t n, field_fn fn, void *ctx) {
    wire w = {p, p + n};
    while (w.p < w.end) {
        uint32_t f;
        int t;
        uint64_t v;
        const uint8_t *b;
        size_t bl;
        FT_TRY(wire_field(&w, &f, &t, &v, &b, &bl));
        FT_TRY(fn(ctx, f, t, v, b, bl));
    }
    return 0;
}

static int piece_field(void *ctx, uint32_t f, int t, uint64_t v, const uint8_t *b, size_t bl) {
    ft_spm_model_piece *pi = ctx;
    if (f == 1) {
        FT_RETURN_IF(t != 2, FT_EPARSE);
        pi->text = (const char *)b;
        pi->len = bl;
    } else if (f == 2) {
        if (t == 5)
            memcpy(&pi->score, b, 4); /* little-endian, as every machine ft runs on */
        else
            pi->score = NAN; /* not a float32: the encoder refuses the model */
    } else if (f == 3) {
        FT_RETURN_IF(t != 0, FT_EPARSE);
        pi->type = v > 255 ? 255 : (int)v;
    }
    return 0;
}

/* A varint-typed bool/enum field of a spec: its value, or marks the model odd on another wire type. */
static void spec_int(ft_spm_model *m, int t, uint64_t v, int *dst) {
    if (t != 0)
        m->odd = 1;
    else
        *dst = v > 0x7fffffff ? -1 : (int)v;
}

static int trainer_field(void *ctx, uint32_t f, int t, uint64_t v, const uint8_t *b, size_t bl) {
    ft_spm_model *m = ctx;
    (void)b, (void)bl;
    if (f == 3)
        spec_int(m, t, v, &m->model_type);
    else if (f == 35)
        spec_int(m, t, v, &m->byte_fallback);
    else if (f == 24)
        spec_int(m, t, v, &m->ws_as_suffix);
    return 0;
}

static int normalizer_field(void *ctx, uint32_t f, int t, uint64_t v, const uint8_t *b, size_t bl) {
    ft_spm_model *m = ctx;
    if (f == 1 || f == 2) {
        if (t != 2) {
            m->odd = 1;
            return 0;
        }
        if (f == 1) m->norm_name = (const char *)b, m->norm_name_len = bl;
        if (f == 2) m->charsmap_len = bl;
    } else if (f == 3)
        spec_int(m, t, v, &m->add_dummy_prefix);
    else if (f == 4)
        spec_int(m, t, v, &m->remove_extra_ws);
    else if (f == 5)
        spec_int(m, t, v, &m->escape_ws);
    return 0;
}

int ft_spm_model_parse(uint8_t *buf, size_t len, ft_spm_model *m) {
    memset(m, 0, sizeof *m);
    m->model_type = 1;
    m->add_dummy_prefix = m->remove_extra_ws = m->escape_ws = 1;
    wire w = {buf, buf + len};
    size_t cap = 0;
    int rc = 0;
    while (w.p < w.end && rc == 0) {
        uint32_t field;
        int type;
        uint64_t v;
        const uint8_t *body;
        size_t blen;
        if ((rc = wire_field(&w, &field, &type, &v, &body, &blen)) < 0) break;
        if (field == 2 || field == 3) {
            /* Repeated occurrences of a message merge, later scalars winning: the same as reading in order.
             */
            if (type == 2)
                rc = wire_each(body, blen, field == 2 ? trainer_field : normalizer_field, m);
            else
                m->odd = 1;
            continue;
        }
        if (field != 1) continue;
        if (type != 2) {
            rc = FT_EPARSE;
            break;
        }
        ft_spm_model_piece pi = {"", 0, 0.0f, FT_SPM_NORMAL, NULL};
        wire pw = {body, body + blen};
        while (pw.p < pw.end && rc == 0) {
            uint32_t f;
            int t;
            uint64_t pv;
            const uint8_t *pb;
            size_t pl;
            const uint8_t *at = pw.p;
            if ((rc = wire_field(&pw, &f, &t, &pv, &pb, &pl)) < 0) break;
            if ((rc = piece_field(&pi, f, t, pv, pb, pl)) < 0) break;
            if (f == 3) pi.type_byte = (pw.p - at == 2) ? (uint8_t *)pw.p - 1 : NULL;
        }
        if (rc < 0) break;
        if (m->n == cap) {
            cap = cap ? 2 * cap : 1024;
            ft_spm_model_piece *np = realloc(m->pieces, cap * sizeof *np);
            if (!np) {
                rc = FT_ENOMEM;
                break;
            }
            m->pieces = np;
        }
        m->pieces[m->n++] = pi;
    }
    if (rc == 0 && m->n == 0) rc = FT_EPARSE;
    if (rc < 0) ft_spm_model_release(m);
    return rc;
}

void ft_spm_model_release(ft_spm_model *m) {
    free(m->pieces);
    m->pieces = NULL;
    m->n = 0;
}

/* ---- UTF-8 as the library reads it ---- */

/* The length the library steps over at a symbol start (string_util::OneCharLen: the lead byte only). */
static inline uint32_t one_char_len(uint8_t b) {
    return (uint32_t) "\1\1\1\1\1\1\1\1\1\1\1\1\2\2\3\4"[b >> 4];
}

/* string_util::DecodeUTF8: the length of the valid character at s[0..n), or 0 when it is malformed
 * (the library then consumes one byte as U+FFFD). Sets *cp. */
static inline uint32_t decode_utf8(const uint8_t *s, size_t n, uint32_t *cp) {
    uint8_t b = s[0];
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (n >= 2 && (b & 0xe0) == 0xc0) {
        uint32_t c = (uint32_t)(b & 0x1f) << 6 | (s[1] & 0x3fu);
        if ((s[1] & 0xc0) == 0x80 && c >= 0x80) return *cp = c, 2;
    } else if (n >= 3 && (b & 0xf0) == 0xe0) {
        uint32_t c = (uint32_t)(b & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3fu);
        if ((s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 && c >= 0x800 && (c < 0xd800 || c >= 0xe000))
            return *cp = c, 3;
    } else if (n >= 4 && (b & 0xf8) == 0xf0) {
        uint32_t c = (uint32_t)(b & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
                     (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3fu);
        if ((s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80 && c >= 0x10000 &&
            c <= 0x10ffff)
            return *cp = c, 4;
    }
    return 0;
}

/* ---- The encoder ---- */

typedef struct {
    uint32_t child, sibling; /* node indexes, 0 = none (the root is never a child) */
    int32_t id;              /* the user-defined piece ending here, or -1 */
    uint8_t byte;
} trie_node;

struct ft_spm_bpe {
    uint32_t n;   /* pieces */
    uint32_t unk; /* the UNKNOWN piece's id */
    int byte_fallback, add_dummy_prefix, remove_extra_ws, escape_ws;
    uint8_t *type;  /* (n) FT_SPM_* */
    uint32_t *skey; /* (n) the score as an unsigned key ordered like the float */
    uint32_t *off;  /* (n) each piece's text in arena */
    uint32_t *len;  /* (n) */
    char *arena;
    uint32_t
        *str_slot; /* (str_mask + 1) id + 1 of a piece in pieces_ (NORMAL, USER_DEFINED, UNUSED), 0 empty */
    size_t str_mask;
    uint64_t *pair_key; /* (pair_mask + 1) left id << 32 | right id, PAIR_EMPTY when empty */
    uint32_t *pair_val; /* (pair_mask + 1) the id of their concatenation */
    size_t pair_mask;
    int32_t byte_sym[256]; /* id of the one-byte piece, or -1 */
    int32_t *bmp;          /* (65536) id of the piece that is one 2- or 3-byte character, or -1 */
    uint32_t byte_id[256]; /* <0xXX> pieces (byte fallback) */
    trie_node *trie;       /* user-defined pieces (the prefix matcher); node 0 is the root */
    size_t n_trie;
    uint8_t user_first[256];
};

#define PAIR_EMPTY UINT64_MAX

static inline size_t pair_hash(uint64_t k) { return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 32); }

/* The id of the pieces_ entry s[0..n), or -1. */
static inline int32_t str_lookup(const ft_spm_bpe *e, const char *s, size_t n) {
    size_t i = (size_t)XXH3_64bits(s, n) & e->str_mask;
    for (;; i = (i + 1) & e->str_mask) {
        uint32_t slot = e->str_slot[i];
        if (!slot) return -1;
        uint32_t id = slot - 1;
        if (e->len[id] == n && !memcmp(e->arena + e->off[id], s, n)) return (int32_t)id;
    }
}

static inline int32_t pair_lookup(const ft_spm_bpe *e, uint32_t l, uint32_t r) {
    uint64_t k = (uint64_t)l << 32 | r;
    for (size_t i = pair_hash(k) & e->pair_mask;; i = (i + 1) & e->pair_mask) {
        if (e->pair_key[i] == k) return (int32_t)e->pair_val[i];
        if (e->pair_key[i] == PAIR_EMPTY) return -1;
    }
}

static size_t table_size(size_t n) {
    size_t s = 1024;
    while (s < 2 * n)
        s *= 2;
    return s;
}

void ft_spm_bpe_free(ft_spm_bpe *e) {
    if (!e) return;
    free(e->type);
    free(e->skey);
    free(e->off);
    free(e->len);
    free(e->arena);
    free(e->str_slot);
    free(e->pair_key);
    free(e->pair_val);
    free(e->bmp);
    free(e->trie);
    free(e);
}

static int is_pieces_type(int t) {
    return t == FT_SPM_NORMAL || t == FT_SPM_USER_DEFINED || t == FT_SPM_UNUSED;
}

/* "<0xXX>" with upper-case hex, as ByteToPiece writes it: the byte, or -1. */
static int byte_piece(const char *s, size_t n) {
    static const char hex[] = "0123456789ABCDEF";
    if (n != 6 || memcmp(s, "<0x", 3) || s[5] != '>') return -1;
    const char *hi = memchr(hex, s[3], 16), *lo = memchr(hex, s[4], 16);
    if (!hi || !lo || !s[3] || !s[4]) return -1;
    return (int)((hi - hex) * 16 + (lo - hex));
}

/* Why the model is not one this encoder reproduces, or NULL when it is. */
static const char *refuse(const ft_spm_model *m) {
    if (m->odd) return "a spec field has an unexpected wire type";
    if (m->model_type != 2) return "not a BPE model";
    if (m->ws_as_suffix) return "treat_whitespace_as_suffix";
    if (m->charsmap_len) return "the normalizer has a precompiled charsmap";
    if (m->norm_name && !(m->norm_name_len == 8 && !memcmp(m->norm_name, "identity", 8)))
        return "the normalizer is not the identity";
    if (m->n >= (1u << 30)) return "too many pieces";
    size_t n_unk = 0, n_byte = 0;
    for (size_t i = 0; i < m->n; i++) {
        const ft_spm_model_piece *p = &m->pieces[i];
        if (p->len == 0 || p->len > MAX_TEXT) return "a piece is empty";
        if (p->type < FT_SPM_NORMAL || p->type > FT_SPM_BYTE) return "a piece has an unknown type";
        if (isnan(p->score)) return "a piece's score is not a number";
        if (p->type == FT_SPM_UNKNOWN) n_unk++;
        if (p->type == FT_SPM_BYTE) {
            if (!m->byte_fallback || byte_piece(p->text, p->len) < 0)
                return "a byte piece without byte fallback";
            n_byte++;
        }
        if (p->type == FT_SPM_USER_DEFINED) {
            /* The normalizer passes these through whole; with no space, NUL or bad UTF-8 in them that is
             * what it does character by character, which is all this encoder does. */
            for (size_t k = 0; k < p->len;) {
                uint32_t cp, l = decode_utf8((const uint8_t *)p->text + k, p->len - k, &cp);
                if (!l || cp == ' ' || cp == 0) return "a user-defined piece has a space, NUL or bad UTF-8";
                k += l;
            }
        }
    }
    if (n_unk != 1) return "not exactly one unknown piece";
    if (m->byte_fallback && n_byte != 256) return "byte fallback without the 256 byte pieces";
    return NULL;
}

static int insert_str(ft_spm_bpe *e, uint32_t id) {
    const char *s = e->arena + e->off[id];
    size_t i = (size_t)XXH3_64bits(s, e->len[id]) & e->str_mask;
    for (;; i = (i + 1) & e->str_mask) {
        uint32_t slot = e->str_slot[i];
        if (!slot) {
            e->str_slot[i] = id + 1;
            return 0;
        }
        if (e->len[slot - 1] == e->len[id] && !memcmp(e->arena + e->off[slot - 1], s, e->len[id])) return -1;
    }
}

/* Adds the user-defined piece id to the prefix trie. */
static int trie_add(ft_spm_bpe *e, uint32_t id, size_t *cap) {
    const uint8_t *s = (const uint8_t *)e->arena + e->off[id];
    uint32_t node = 0;
    for (size_t k = 0; k < e->len[id]; k++) {
        uint32_t c = e->trie[node].child;
        while (c && e->trie[c].byte != s[k])
            c = e->trie[c].sibling;
        if (!c) {
            if (e->n_trie == *cap) {
                *cap *= 2;
                trie_node *nt = realloc(e->trie, *cap * sizeof *nt);
                if (!nt) return FT_ENOMEM;
                e->trie = nt;
            }
            c = (uint32_t)e->n_trie++;
            e->trie[c] = (trie_node){0, e->trie[node].child, -1, s[k]};
            e->trie[node].child = c;
        }
        node = c;
    }
    e->trie[node].id = (int32_t)id;
    return 0;
}

static int build(ft_spm_bpe *e, const ft_spm_model *m, const char **why_not) {
    size_t n = m->n, total = 0;
    e->n = (uint32_t)n;
    e->byte_fallback = m->byte_fallback != 0;
    e->add_dummy_prefix = m->add_dummy_prefix != 0;
    e->remove_extra_ws = m->remove_extra_ws != 0;
    e->escape_ws = m->escape_ws != 0;
    for (size_t i = 0; i < n; i++)
        total += m->pieces[i].len;
    e->type = malloc(n);
    e->skey = malloc(n * sizeof *e->skey);
    e->off = malloc(n * sizeof *e->off);
    e->len = malloc(n * sizeof *e->len);
    e->arena = malloc(total ? total : 1);
    e->str_mask = table_size(n) - 1;
    e->str_slot = calloc(e->str_mask + 1, sizeof *e->str_slot);
    e->bmp = malloc(65536 * sizeof *e->bmp);
    size_t trie_cap = 64;
    e->trie = malloc(trie_cap * sizeof *e->trie);
    if (!e->type || !e->skey || !e->off || !e->len || !e->arena || !e->str_slot || !e->bmp || !e->trie)
        return FT_ENOMEM;
    e->trie[0] = (trie_node){0, 0, -1, 0};
    e->n_trie = 1;
    memset(e->bmp, 0xff, 65536 * sizeof *e->bmp);
    memset(e->byte_sym, 0xff, sizeof e->byte_sym);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const ft_spm_model_piece *p = &m->pieces[i];
        e->type[i] = (uint8_t)p->type;
        float s = p->score == 0.0f ? 0.0f : p->score; /* -0 and +0 compare equal: one key */
        uint32_t u;
        memcpy(&u, &s, 4);
        e->skey[i] = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
        e->off[i] = (uint32_t)at;
        e->len[i] = (uint32_t)p->len;
        memcpy(e->arena + at, p->text, p->len);
        at += p->len;
        if (p->type == FT_SPM_UNKNOWN) e->unk = (uint32_t)i;
        if (p->type == FT_SPM_BYTE) e->byte_id[byte_piece(p->text, p->len)] = (uint32_t)i;
        if (!is_pieces_type(p->type)) continue;
        if (insert_str(e, (uint32_t)i) < 0) return *why_not = "a piece is defined twice", FT_EFORMAT;
        if (p->type == FT_SPM_USER_DEFINED) {
            FT_TRY(trie_add(e, (uint32_t)i, &trie_cap));
            e->user_first[(uint8_t)p->text[0]] = 1;
        }
        uint32_t cp, l = decode_utf8((const uint8_t *)p->text, p->len, &cp);
        if (p->len == 1)
            e->byte_sym[(uint8_t)p->text[0]] = (int32_t)i;
        else if (l == p->len && (l == 2 || l == 3))
            e->bmp[cp] = (int32_t)i;
    }
    /* CONTROL, UNKNOWN and BYTE pieces are looked up first by the library (PieceToId); a symbol can only be
     * one of them if its text is a pieces_ entry or one character: such a model goes to the library. */
    for (size_t i = 0; i < n; i++) {
        const ft_spm_model_piece *p = &m->pieces[i];
        if (is_pieces_type(p->type)) continue;
        if (str_lookup(e, p->text, p->len) >= 0 || p->len <= one_char_len((uint8_t)p->text[0]))
            return *why_not = "a control, unknown or byte piece could be a symbol", FT_EFORMAT;
    }
    /* Every (left, right) pair of pieces whose concatenation is a piece, split where symbols can meet. */
    size_t n_pairs = 0, pcap = 1024;
    uint64_t *pk = malloc(pcap * sizeof *pk);
    uint32_t *pv = malloc(pcap * sizeof *pv);
    for (size_t i = 0; i < n && pk && pv; i++) {
        if (!is_pieces_type(m->pieces[i].type)) continue;
        const char *s = e->arena + e->off[i];
        size_t len = e->len[i];
        for (size_t k = one_char_len((uint8_t)s[0]); k < len; k += one_char_len((uint8_t)s[k])) {
            int32_t l = str_lookup(e, s, k), r;
            if (l < 0 || (r = str_lookup(e, s + k, len - k)) < 0) continue;
            if (n_pairs == pcap) {
                pcap *= 2;
                uint64_t *nk = realloc(pk, pcap * sizeof *nk);
                if (nk) pk = nk;
                uint32_t *nv = realloc(pv, pcap * sizeof *nv);
                if (nv) pv = nv;
                if (!nk || !nv) break;
            }
            pk[n_pairs] = (uint64_t)(uint32_t)l << 32 | (uint32_t)r;
            pv[n_pairs++] = (uint32_t)i;
        }
    }
    int rc = pk && pv ? 0 : FT_ENOMEM;
    if (rc == 0) {
        e->pair_mask = table_size(n_pairs) - 1;
        e->pair_key = malloc((e->pair_mask + 1) * sizeof *e->pair_key);
        e->pair_val = malloc((e->pair_mask + 1) * sizeof *e->pair_val);
        if (!e->pair_key || !e->pair_val) rc = FT_ENOMEM;
    }
    if (rc == 0) {
        memset(e->pair_key, 0xff, (e->pair_mask + 1) * sizeof *e->pair_key);
        for (size_t j = 0; j < n_pairs; j++) {
            size_t i = pair_hash(pk[j]) & e->pair_mask;
            while (e->pair_key[i] != PAIR_EMPTY)
                i = (i + 1) & e->pair_mask;
            e->pair_key[i] = pk[j];
            e->pair_val[i] = pv[j];
        }
    }
    free(pk);
    free(pv);
    return rc;
}

int ft_spm_bpe_new(const ft_spm_model *m, ft_spm_bpe **out, const char **why_not) {
    const char *why = refuse(m);
    *out = NULL;
    if (why) {
        if (why_not) *why_not = why;
        return FT_EFORMAT;
    }
    ft_spm_bpe *e = calloc(1, sizeof *e);
    if (!e) return FT_ENOMEM;
    int rc = build(e, m, &why);
    if (rc < 0) {
        if (why_not && why) *why_not = why;
        ft_spm_bpe_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

/* ---- Per-thread scratch ---- */

typedef struct {
    uint32_t start, len; /* the symbol's text in the normalized buffer; len 0 once merged away */
    int32_t prev, next;  /* -1 at either end */
    int32_t id;          /* its pieces_ id, or -1 */
    int32_t freeze;      /* a user-defined piece: never merged */
} sym;

typedef struct {
    uint64_t key; /* skey of the merged piece << 32 | ~left: the largest is the best */
    uint32_t right, size, id;
} pair_ent;

typedef struct {
    char *norm;
    size_t norm_cap;
    sym *syms;
    size_t syms_cap;
    pair_ent *heap;
    size_t heap_cap;
    uint32_t *rm_gen, *rm_left; /* (rm_cap) rev_merge: the left length of the last pair seen per UNUSED id */
    size_t rm_cap;
    uint32_t gen;
    uint32_t *stack; /* (stack_cap) offset, length pairs being split */
    size_t stack_cap;
} scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static _Thread_local scratch *tls_scratch;

static void scratch_free(void *p) {
    scratch *s = p;
    if (!s) return;
    free(s->norm);
    free(s->syms);
    free(s->heap);
    free(s->rm_gen);
    free(s->rm_left);
    free(s->stack);
    free(s);
}

static void scratch_key_init(void) { (void)pthread_key_create(&scratch_key, scratch_free); }

static scratch *get_scratch(void) {
    if (tls_scratch) return tls_scratch;
    pthread_once(&scratch_once, scratch_key_init);
    scratch *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (pthread_setspecific(scratch_key, s) != 0) {
        free(s);
        return NULL;
    }
    return tls_scratch = s;
}

/* Grows *p to hold need elements of size sz (contents kept). */
static int grow(void *pp, size_t *cap, size_t need, size_t sz) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    void *np = realloc(*(void **)pp, c * sz);
    if (!np) return FT_ENOMEM;
    *(void **)pp = np;
    *cap = c;
    return 0;
}

/* ---- Encoding ---- */

/* Normalizer::Normalize with an empty charsmap: spaces to U+2581 (escape_whitespaces), a dummy prefix,
 * runs of spaces squeezed and trimmed (remove_extra_whitespaces), each malformed byte to U+FFFD. out has
 * room for 3 * n + 3 bytes. Returns the normalized length. */
static size_t normalize(const ft_spm_bpe *e, const uint8_t *in, size_t n, char *out) {
    static const char ws[3] = {'\xe2', '\x96', '\x81'};
    const char *sp = e->escape_ws ? ws : " ";
    size_t sp_len = e->escape_ws ? 3 : 1;
    size_t i = 0, o = 0;
    if (e->remove_extra_ws)
        while (i < n && in[i] == ' ')
            i++;
    if (i == n) return 0;
    if (e->add_dummy_prefix) memcpy(out, sp, sp_len), o = sp_len;
    int prev_space = e->remove_extra_ws;
    while (i < n) {
        uint8_t b = in[i];
        if (b < 0x80) {
            i++;
            if (b == ' ') {
                if (prev_space) continue;
                memcpy(out + o, sp, sp_len), o += sp_len;
                prev_space = e->remove_extra_ws;
            } else {
                out[o++] = (char)b;
                prev_space = 0;
            }
            continue;
        }
        uint32_t cp, l = decode_utf8(in + i, n - i, &cp);
        if (l) {
            memcpy(out + o, in + i, l);
            o += l, i += l;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3, i++;
        }
        prev_space = 0;
    }
    if (e->remove_extra_ws)
        while (o >= sp_len && !memcmp(out + o - sp_len, sp, sp_len))
            o -= sp_len;
    return o;
}

/* The longest user-defined piece that s[0..n) starts with: its length and *id, or 0. */
static inline uint32_t user_match(const ft_spm_bpe *e, const uint8_t *s, size_t n, int32_t *id) {
    uint32_t node = 0, best = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t c = e->trie[node].child;
        while (c && e->trie[c].byte != s[k])
            c = e->trie[c].sibling;
        if (!c) break;
        node = c;
        if (e->trie[c].id >= 0) best = (uint32_t)k + 1, *id = e->trie[c].id;
    }
    return best;
}

/* The pieces_ id of a symbol of one character (as one_char_len cut it), or -1. */
static inline int32_t char_id(const ft_spm_bpe *e, const uint8_t *s, uint32_t l) {
    if (l == 1) return e->byte_sym[s[0]];
    if (l == 2) return e->bmp[(uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3fu)];
    if (l == 3) return e->bmp[(uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3fu)];
    return str_lookup(e, (const char *)s, l);
}

static inline void heap_push(pair_ent *h, size_t *n, pair_ent x) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p].key >= x.key) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static inline void heap_down(pair_ent *h, size_t n, size_t i) {
    pair_ent x = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && h[c + 1].key > h[c].key) c++;
        if (h[c].key <= x.key) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

typedef struct {
    const ft_spm_bpe *e;
    scratch *s;
    const char *norm;
    size_t n_heap;
} enc;

/* MaybeAddNewSymbolPair: queues the pair (l, r) when their concatenation is a piece; an UNUSED one records
 * how it was split (the library's rev_merge, keyed by the piece: the last pair seen wins). */
static inline void add_pair(enc *c, int32_t l, int32_t r) {
    sym *sy = c->s->syms;
    if (l < 0 || r < 0 || sy[l].freeze || sy[r].freeze) return;
    const ft_spm_bpe *e = c->e;
    int32_t id;
    if (sy[l].id >= 0 && sy[r].id >= 0)
        id = pair_lookup(e, (uint32_t)sy[l].id, (uint32_t)sy[r].id);
    else
        id = str_lookup(e, c->norm + sy[l].start, sy[l].len + sy[r].len);
    if (id < 0) return;
    pair_ent x = {(uint64_t)e->skey[id] << 32 | (uint32_t) ~(uint32_t)l, (uint32_t)r, sy[l].len + sy[r].len,
                  (uint32_t)id};
    heap_push(c->s->heap, &c->n_heap, x);
    if (e->type[id] == FT_SPM_UNUSED) {
        c->s->rm_gen[id] = c->s->gen;
        c->s->rm_left[id] = sy[l].len;
    }
}

/* Appends id, or for an unknown piece (id -1) unk once per run, or its bytes' pieces with byte fallback. */
typedef struct {
    uint32_t *v;
    size_t n, cap;
    int prev_unk;
} out_ids;

static inline int put(out_ids *o, uint32_t id) {
    if (o->n == o->cap && grow(&o->v, &o->cap, o->n + 1, sizeof *o->v) < 0) return FT_ENOMEM;
    o->v[o->n++] = id;
    return 0;
}

static int emit(const ft_spm_bpe *e, out_ids *o, int32_t id, const char *w, uint32_t wl) {
    if (id >= 0) {
        o->prev_unk = 0;
        return put(o, (uint32_t)id);
    }
    if (e->byte_fallback) {
        for (uint32_t k = 0; k < wl; k++)
            FT_TRY(put(o, e->byte_id[(uint8_t)w[k]]));
    } else if (!o->prev_unk) {
        FT_TRY(put(o, e->unk));
    }
    o->prev_unk = 1;
    return 0;
}

/* A final symbol: an UNUSED piece that a recorded pair made is split back into that pair, recursively. */
static int emit_symbol(enc *c, out_ids *o, uint32_t start, uint32_t len, int32_t id) {
    const ft_spm_bpe *e = c->e;
    scratch *s = c->s;
    if (id < 0 || e->type[id] != FT_SPM_UNUSED || s->rm_gen[id] != s->gen)
        return emit(e, o, id, c->norm + start, len);
    size_t top = 0;
    FT_TRY(grow(&s->stack, &s->stack_cap, 2, sizeof *s->stack));
    s->stack[top++] = start;
    s->stack[top++] = len;
    while (top) {
        uint32_t wl = s->stack[--top], ws = s->stack[--top];
        int32_t wid = str_lookup(e, c->norm + ws, wl);
        if (wid < 0 || e->type[wid] != FT_SPM_UNUSED || s->rm_gen[wid] != s->gen) {
            FT_TRY(emit(e, o, wid, c->norm + ws, wl));
            continue;
        }
        uint32_t ll = s->rm_left[wid];
        FT_TRY(grow(&s->stack, &s->stack_cap, top + 4, sizeof *s->stack));
        s->stack[top++] = ws + ll; /* right, popped after the left */
        s->stack[top++] = wl - ll;
        s->stack[top++] = ws;
        s->stack[top++] = ll;
    }
    return 0;
}

int ft_spm_bpe_encode(const ft_spm_bpe *e, const char *text, size_t len, uint32_t **v, size_t *n,
                      size_t *cap) {
    if (len == 0) return 0;
    if (len > MAX_TEXT) return FT_ETOOBIG;
    scratch *s = get_scratch();
    if (!s) return FT_ENOMEM;
    FT_TRY(grow(&s->norm, &s->norm_cap, 3 * len + 3, 1));
    size_t nl = normalize(e, (const uint8_t *)text, len, s->norm);
    if (nl == 0) return 0;
    FT_TRY(grow(&s->syms, &s->syms_cap, nl, sizeof *s->syms));
    if (s->rm_cap < e->n) {
        free(s->rm_gen);
        free(s->rm_left);
        s->rm_gen = calloc(e->n, sizeof *s->rm_gen);
        s->rm_left = malloc(e->n * sizeof *s->rm_left);
        s->rm_cap = s->rm_gen && s->rm_left ? e->n : 0;
        s->gen = 0;
        if (!s->rm_cap) return FT_ENOMEM;
    }
    if (++s->gen == 0) {
        memset(s->rm_gen, 0, s->rm_cap * sizeof *s->rm_gen);
        s->gen = 1;
    }

    /* Symbols: a user-defined piece (frozen) where one starts, else one character. */
    const uint8_t *u = (const uint8_t *)s->norm;
    sym *sy = s->syms;
    int32_t ns = 0;
    for (size_t i = 0; i < nl; ns++) {
        uint32_t l = 0;
        int32_t id = -1;
        if (e->user_first[u[i]]) l = user_match(e, u + i, nl - i, &id);
        int freeze = l > 0;
        if (!freeze) {
            l = one_char_len(u[i]);
            if (l > nl - i) l = (uint32_t)(nl - i);
            id = char_id(e, u + i, l);
        }
        sy[ns] = (sym){(uint32_t)i, l, ns - 1, ns + 1, id, freeze};
        i += l;
    }
    sy[ns - 1].next = -1;

    /* Every bigram, then merges best first until none is left. The heap never holds more entries than
     * were pushed: ns - 1 first, then at most two per merge, and each merge removes one symbol. */
    enc c = {e, s, s->norm, 0};
    FT_TRY(grow(&s->heap, &s->heap_cap, 3 * (size_t)ns, sizeof *s->heap));
    for (int32_t i = 1; i < ns; i++)
        add_pair(&c, i - 1, i);
    pair_ent *h = s->heap;
    while (c.n_heap) {
        pair_ent top = h[0];
        h[0] = h[--c.n_heap];
        if (c.n_heap) heap_down(h, c.n_heap, 0);
        int32_t l = (int32_t) ~(uint32_t)top.key, r = (int32_t)top.right;
        if (sy[l].len == 0 || sy[r].len == 0 || sy[l].len + sy[r].len != top.size) continue;
        sy[l].len += sy[r].len;
        sy[l].id = (int32_t)top.id;
        sy[l].next = sy[r].next;
        if (sy[r].next >= 0) sy[sy[r].next].prev = l;
        sy[r].len = 0;
        add_pair(&c, sy[l].prev, l);
        add_pair(&c, l, sy[l].next);
    }

    out_ids o = {*v, *n, *cap, 0};
    int rc = 0;
    for (int32_t i = 0; i != -1 && rc == 0; i = sy[i].next)
        rc = emit_symbol(&c, &o, sy[i].start, sy[i].len, sy[i].id);
    *v = o.v, *n = o.n, *cap = o.cap;
    return rc;
}
