/* tokenizer_spm.c: the SentencePiece kind of ft_tokenizer: a tokenizer.model read and checked here, encoded
 * by libsentencepiece through spm_shim. Rule: two processors over the same model: "raw" is the file as it is
 * (Hugging Face's encoder), "plain" has its tag-like USER_DEFINED pieces marked UNUSED so that text never
 * turns into them (the library then spells such a string with ordinary pieces). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "spm_bpe.h"
#include "spm_shim.h"
#include "tokenizer.h"

#define SPM_MAX_FILE (512u << 20) /* a real model is a few MB; this only bounds a hostile file */

typedef struct {
    ft_spm *raw, *plain;       /* plain == raw when the model has no tag-like USER_DEFINED piece */
    ft_spm_bpe *nraw, *nplain; /* the native encoders (spm_bpe.h), NULL where the library encodes */
} spm_impl;

/* A marker-like USER_DEFINED piece (FT_SPECIAL_INLINE): <reserved_N>, <|name|> or <UPPER_NAME>. HTML-like
 * pieces (Baichuan's <br>, </p>, <td>) are ordinary text that real data is full of: they stay matchable. */
static int is_tag(const char *s, size_t n) {
    if (n < 3 || s[0] != '<' || s[n - 1] != '>') return 0;
    const char *b = s + 1;
    size_t m = n - 2;
    if (m > 9 && !memcmp(b, "reserved_", 9)) {
        for (size_t i = 9; i < m; i++)
            if (b[i] < '0' || b[i] > '9') return 0;
        return 1;
    }
    if (m >= 3 && b[0] == '|' && b[m - 1] == '|') {
        for (size_t i = 1; i + 1 < m; i++)
            if (strchr("<>|", b[i])) return 0;
        return 1;
    }
    if (b[0] < 'A' || b[0] > 'Z') return 0;
    for (size_t i = 1; i < m; i++)
        if (!((b[i] >= 'A' && b[i] <= 'Z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '_')) return 0;
    return 1;
}

static void impl_free(spm_impl *im) {
    if (im->plain != im->raw) ft_spm_free(im->plain);
    ft_spm_free(im->raw);
    if (im->nplain != im->nraw) ft_spm_bpe_free(im->nplain);
    ft_spm_bpe_free(im->nraw);
    free(im);
}

static void spm_free_impl(ft_tokenizer *tk) {
    spm_impl *im = tk->impl;
    if (!im) return;
    impl_free(im);
    tk->impl = NULL;
}

/* The native encoder where there is one; the library for the rest and for texts too large for it. */
static int encode_with(const ft_spm_bpe *native, const ft_spm *lib, const char *text, size_t len,
                       ft_ids *out) {
    if (native) {
        int rc = ft_spm_bpe_encode(native, text, len, &out->v, &out->n, &out->cap);
        if (rc != FT_ETOOBIG) return rc;
    }
    return ft_spm_encode(lib, text, len, &out->v, &out->n, &out->cap);
}

static int spm_encode(const ft_tokenizer *tk, const char *text, size_t len, ft_ids *out) {
    const spm_impl *im = tk->impl;
    return encode_with(im->nplain, im->plain, text, len, out);
}

static int spm_encode_raw(const ft_tokenizer *tk, const char *text, size_t len, ft_ids *out) {
    const spm_impl *im = tk->impl;
    return encode_with(im->nraw, im->raw, text, len, out);
}

/* The library drops CONTROL pieces when decoding; ft shows them: runs of other ids are decoded by the
 * library, each SPLIT special in between is written as its string, and a run after one keeps its leading
 * space (as Hugging Face's decode does). */
static int spm_decode(const ft_tokenizer *tk, const uint32_t *ids, size_t n, ft_buf *out) {
    const spm_impl *im = tk->impl;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        const char *special = NULL;
        if (i < n) {
            if (ids[i] >= tk->vocab_size) return FT_ERANGE;
            const char *piece = ft_spm_piece(im->raw, (int)ids[i]);
            const ft_special *sp = ft_tokenizer_special(tk, piece, strlen(piece));
            if (sp && sp->id == ids[i] && (sp->flags & FT_SPECIAL_SPLIT)) special = piece;
            if (!special) continue;
        }
        if (i > start) {
            char *s;
            size_t len;
            FT_TRY(ft_spm_decode(im->raw, ids + start, i - start, &s, &len));
            /* The library drops the leading space of what it decodes (the dummy prefix); a run after a
             * special is not the start of the text, so its space is kept. */
            if (start > 0 && (len == 0 || s[0] != ' ') &&
                !strncmp(ft_spm_piece(im->raw, (int)ids[start]), "\xe2\x96\x81", 3))
                ft_buf_addc(out, ' ');
            ft_buf_add(out, s, len);
            free(s);
        }
        if (special) ft_buf_adds(out, special);
        start = i + 1;
    }
    return 0;
}

static const char *spm_piece(const ft_tokenizer *tk, uint32_t id) {
    const spm_impl *im = tk->impl;
    return id < tk->vocab_size ? ft_spm_piece(im->raw, (int)id) : NULL;
}

static int64_t spm_piece_id(const ft_tokenizer *tk, const char *piece, size_t len) {
    const spm_impl *im = tk->impl;
    return ft_spm_piece_id(im->raw, piece, len);
}

static const ft_tokenizer_ops spm_ops = {
    .kind = "sentencepiece",
    .encode = spm_encode,
    .encode_raw = spm_encode_raw,
    .decode = spm_decode,
    .piece = spm_piece,
    .piece_id = spm_piece_id,
    .free = spm_free_impl,
};

/* The native encoder unless FT_SPM_NATIVE=0 asks for the library. */
static int native_wanted(void) {
    const char *env = getenv("FT_SPM_NATIVE");
    return !(env && !strcmp(env, "0"));
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The library's two processors over the model bytes (plain only when some pieces were retyped). */
typedef struct {
    const uint8_t *buf, *copy;
    size_t len;
    int patched;
    ft_spm *raw, *plain;
    int rc;
    char err[256];
} lib_load;

static void *load_libs(void *arg) {
    lib_load *L = arg;
    L->rc = ft_spm_load(L->buf, L->len, &L->raw, L->err, sizeof L->err);
    if (L->rc == 0 && L->patched) L->rc = ft_spm_load(L->copy, L->len, &L->plain, L->err, sizeof L->err);
    return NULL;
}

int ft_tokenizer_open_spm(const char *path, ft_tokenizer **out, ft_buf *why) {
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (why) ft_buf_addf(why, "%s", strerror(errno));
        return FT_EIO;
    }
    /* Ours for sure: a *.model file or a directory's tokenizer.model; any other file only if it parses. */
    char *file;
    int claimed;
    if (S_ISDIR(st.st_mode)) {
        size_t n = strlen(path) + sizeof "/tokenizer.model";
        file = ft_xmalloc(n);
        snprintf(file, n, "%s/tokenizer.model", path);
        if (access(file, F_OK) != 0) {
            free(file);
            return FT_EFORMAT;
        }
        claimed = 1;
    } else {
        file = ft_xstrdup(path);
        claimed = ends_with(path, ".model");
    }
    uint8_t *buf = NULL, *copy = NULL;
    size_t len = 0, n = 0;
    ft_spm_model model = {0};
    ft_special *specials = NULL;
    spm_impl *im = NULL;
    ft_tokenizer *tk = NULL;
    int rc = ft_read_file(file, SPM_MAX_FILE, (char **)&buf, &len, why);
    if (rc < 0) goto fail;
    copy = malloc(len ? len : 1);
    if (!copy) {
        rc = FT_ENOMEM;
        goto fail;
    }
    memcpy(copy, buf, len);
    rc = ft_spm_model_parse(copy, len, &model);
    n = model.n;
    if (rc == FT_EPARSE) {
        if (!claimed) {
            rc = FT_EFORMAT;
            goto fail;
        }
        if (why) ft_buf_addf(why, "not a SentencePiece model: '%s' is not a valid ModelProto", file);
        goto fail;
    }
    if (rc < 0) goto fail;
    /* Specials: CONTROL and UNKNOWN pieces split text (HF's special tokens); tag-like USER_DEFINED pieces are
     * matched inline by the library, so they are marked UNUSED in the plain processor's copy. */
    size_t n_special = 0, n_patched = 0;
    specials = calloc(n ? n : 1, sizeof *specials);
    im = calloc(1, sizeof *im);
    tk = calloc(1, sizeof *tk);
    if (!specials || !im || !tk) {
        rc = FT_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        ft_spm_model_piece *pi = &model.pieces[i];
        unsigned flags = 0;
        if (pi->type == FT_SPM_CONTROL || pi->type == FT_SPM_UNKNOWN) flags = FT_SPECIAL_SPLIT;
        if (pi->type == FT_SPM_USER_DEFINED && is_tag(pi->text, pi->len)) {
            flags = FT_SPECIAL_INLINE;
            if (pi->type_byte) {
                *pi->type_byte = FT_SPM_UNUSED;
                pi->type = FT_SPM_UNUSED;
                n_patched++;
            }
        }
        if (!flags || pi->len == 0) continue;
        specials[n_special++] = (ft_special){NULL, pi->len, (uint32_t)i, flags};
    }
    /* The library's processors load on a second thread while this one builds the native encoders: both
     * only read buf and copy, and the load is most of a tool's start-up time. */
    lib_load L = {buf, copy, len, n_patched != 0, NULL, NULL, 0, ""};
    pthread_t loader;
    int threaded = pthread_create(&loader, NULL, load_libs, &L) == 0;
    if (!threaded) load_libs(&L);
    int nrc = 0;
    if (native_wanted()) {
        /* The raw encoder from the file's types, the plain one from the patched copy's (re-read). */
        const char *why_not = NULL;
        ft_spm_model raw_model;
        nrc = ft_spm_model_parse(buf, len, &raw_model);
        if (nrc == 0) {
            nrc = ft_spm_bpe_new(&raw_model, &im->nraw, &why_not);
            ft_spm_model_release(&raw_model);
        }
        if (nrc == 0 && n_patched) nrc = ft_spm_bpe_new(&model, &im->nplain, &why_not);
        if (nrc == 0 && !n_patched) im->nplain = im->nraw;
        if (nrc == FT_EFORMAT) { /* not a model the native encoder reproduces: the library encodes */
            ft_spm_bpe_free(im->nplain != im->nraw ? im->nplain : NULL);
            ft_spm_bpe_free(im->nraw);
            im->nraw = im->nplain = NULL;
            nrc = 0;
        }
    }
    if (threaded) pthread_join(loader, NULL);
    im->raw = L.raw;
    im->plain = n_patched ? L.plain : L.raw;
    rc = L.rc;
    if (rc < 0) {
        if (rc == FT_EFORMAT && !claimed) goto fail;
        if (why) ft_buf_addf(why, "not a SentencePiece model: %s", L.err);
        goto fail;
    }
    if ((rc = nrc) < 0) goto fail;
    if ((size_t)ft_spm_size(im->raw) != n) {
        if (why)
            ft_buf_addf(why, "piece count mismatch: %zu in the file, %d loaded", n, ft_spm_size(im->raw));
        rc = FT_EPARSE;
        goto fail;
    }
    tk->ops = &spm_ops;
    tk->impl = im;
    im = NULL;
    tk->vocab_size = (uint32_t)n;
    tk->bos_id = ft_spm_bos_id(((spm_impl *)tk->impl)->raw);
    tk->eos_id = ft_spm_eos_id(((spm_impl *)tk->impl)->raw);
    tk->unk_id = ft_spm_unk_id(((spm_impl *)tk->impl)->raw);
    tk->pad_id = ft_spm_pad_id(((spm_impl *)tk->impl)->raw);
    /* Special texts point into the library's own piece strings, which live as long as the processor. */
    for (size_t i = 0; i < n_special; i++)
        specials[i].text = ft_spm_piece(((spm_impl *)tk->impl)->raw, (int)specials[i].id);
    rc = ft_tokenizer_set_specials(tk, specials, n_special);
    specials = NULL;
    if (rc < 0) goto fail;
    snprintf(tk->hash, sizeof tk->hash, "%016llx", (unsigned long long)XXH64(buf, len, 0));
    tk->path = ft_xstrdup(path);
    free(buf);
    free(copy);
    ft_spm_model_release(&model);
    free(file);
    *out = tk;
    return 0;
fail:
    if (im) impl_free(im);
    ft_tokenizer_free(tk);
    free(specials);
    free(buf);
    free(copy);
    ft_spm_model_release(&model);
    free(file);
    return rc;
}
