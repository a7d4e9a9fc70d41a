/* tokenizer.c: what every tokenizer kind shares: id arrays, the special-string lookup, Hugging Face's
 * split-at-specials encoding, and the choice of kind in ft_tokenizer_open.
 * Rule: kinds implement ft_tokenizer_ops and call ft_tokenizer_set_specials; nothing here knows a format. */
#include "tokenizer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

void ft_ids_init(ft_ids *a) { memset(a, 0, sizeof *a); }

void ft_ids_release(ft_ids *a) {
    free(a->v);
    ft_ids_init(a);
}

void ft_ids_reserve(ft_ids *a, size_t extra) {
    if (a->cap - a->n >= extra) return;
    size_t cap = a->cap ? a->cap : 64;
    while (cap - a->n < extra) cap *= 2;
    a->v = ft_xrealloc(a->v, cap * sizeof *a->v);
    a->cap = cap;
}

void ft_ids_push(ft_ids *a, uint32_t id) {
    if (a->n == a->cap) ft_ids_reserve(a, 1);
    a->v[a->n++] = id;
}

void ft_ids_append(ft_ids *a, const uint32_t *ids, size_t n) {
    if (n == 0) return;
    ft_ids_reserve(a, n);
    memcpy(a->v + a->n, ids, n * sizeof *ids);
    a->n += n;
}

/* The special-string index: an open-addressing table of (hash of bytes → index into specials), the distinct
 * lengths longest first, and which bytes can start a special. */
typedef struct {
    uint32_t *slots; /* index + 1, 0 = empty */
    size_t mask;
    size_t *lens; /* distinct lengths, descending */
    size_t n_lens;
    uint8_t first[256];
} special_index;

static int cmp_special(const void *a, const void *b) {
    const ft_special *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->text, y->text, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int cmp_size_desc(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x < y) - (x > y);
}

static void index_free(special_index *ix) {
    if (!ix) return;
    free(ix->slots);
    free(ix->lens);
    free(ix);
}

int ft_tokenizer_set_specials(ft_tokenizer *tk, ft_special *specials, size_t n) {
    qsort(specials, n, sizeof *specials, cmp_special);
    special_index *ix = calloc(1, sizeof *ix);
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    if (ix) {
        ix->slots = calloc(cap, sizeof *ix->slots);
        ix->lens = malloc((n ? n : 1) * sizeof *ix->lens);
    }
    if (!ix || !ix->slots || !ix->lens) {
        index_free(ix);
        free(specials);
        return FT_ENOMEM;
    }
    ix->mask = cap - 1;
    for (size_t i = 0; i < n; i++) {
        const ft_special *s = &specials[i];
        if (s->len == 0) continue;
        ix->first[(uint8_t)s->text[0]] = 1;
        size_t h = XXH3_64bits(s->text, s->len) & ix->mask;
        while (ix->slots[h]) h = (h + 1) & ix->mask;
        ix->slots[h] = (uint32_t)i + 1;
        size_t j = 0;
        while (j < ix->n_lens && ix->lens[j] != s->len) j++;
        if (j == ix->n_lens) ix->lens[ix->n_lens++] = s->len;
    }
    qsort(ix->lens, ix->n_lens, sizeof *ix->lens, cmp_size_desc);
    free(tk->specials);
    index_free(tk->special_index);
    tk->specials = specials;
    tk->n_specials = n;
    tk->special_index = ix;
    return 0;
}

const ft_special *ft_tokenizer_special(const ft_tokenizer *tk, const char *s, size_t len) {
    const special_index *ix = tk->special_index;
    if (!ix || len == 0) return NULL;
    for (size_t h = XXH3_64bits(s, len) & ix->mask; ix->slots[h]; h = (h + 1) & ix->mask) {
        const ft_special *sp = &tk->specials[ix->slots[h] - 1];
        if (sp->len == len && memcmp(sp->text, s, len) == 0) return sp;
    }
    return NULL;
}

int64_t ft_tokenizer_special_id(const ft_tokenizer *tk, const char *s, size_t len) {
    const ft_special *sp = ft_tokenizer_special(tk, s, len);
    return sp ? (int64_t)sp->id : -1;
}

const ft_special *ft_tokenizer_find_special(const ft_tokenizer *tk, const char *text, size_t len, unsigned mask,
                                            size_t *at) {
    const special_index *ix = tk->special_index;
    if (!ix || ix->n_lens == 0) return NULL;
    for (size_t i = 0; i < len; i++) {
        if (!ix->first[(uint8_t)text[i]]) continue;
        for (size_t k = 0; k < ix->n_lens; k++) {
            size_t l = ix->lens[k];
            if (l > len - i) continue;
            const ft_special *sp = ft_tokenizer_special(tk, text + i, l);
            if (sp && (sp->flags & mask)) {
                *at = i;
                return sp;
            }
        }
    }
    return NULL;
}

int ft_tokenizer_encode_special(const ft_tokenizer *tk, const char *text, size_t len, ft_ids *out) {
    size_t at;
    const ft_special *sp;
    while ((sp = ft_tokenizer_find_special(tk, text, len, FT_SPECIAL_SPLIT, &at)) != NULL) {
        if (at > 0) FT_TRY(tk->ops->encode_raw(tk, text, at, out));
        ft_ids_push(out, sp->id);
        text += at + sp->len;
        len -= at + sp->len;
    }
    if (len > 0) FT_TRY(tk->ops->encode_raw(tk, text, len, out));
    return 0;
}

void ft_tokenizer_free(ft_tokenizer *tk) {
    if (!tk) return;
    if (tk->ops && tk->ops->free) tk->ops->free(tk);
    free(tk->specials);
    index_free(tk->special_index);
    free(tk->path);
    free(tk);
}

int ft_tokenizer_open(const char *path, ft_tokenizer **out, ft_buf *why) {
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (why) ft_buf_addf(why, "%s", strerror(errno));
        return FT_EIO;
    }
    /* Each loader answers FT_EFORMAT when the path is not its kind, and anything else when it is. */
    int rc = ft_tokenizer_open_spm(path, out, why);
    if (rc != FT_EFORMAT) return rc;
    rc = ft_tokenizer_open_bpe(path, out, why);
    if (rc != FT_EFORMAT) return rc;
    if (why) {
        ft_buf_clear(why);
        ft_buf_adds(why, S_ISDIR(st.st_mode) ? "no tokenizer.model, tokenizer.json, vocab.json or qwen.tiktoken in "
                                               "directory"
                                             : "neither a SentencePiece model (no pieces in the file), a "
                                               "tokenizer.json, vocab.json, merges.txt nor a *.tiktoken file");
    }
    return FT_EFORMAT;
}
