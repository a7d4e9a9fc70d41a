/* sigfile.c: the signature file of ft-dedup sign / cluster: header, one variable-size record per input
 * record, footer with count and checksums (the last covers every byte before it). Layout in docs/ft-dedup.md; all integers little-endian.
 * Rule: the reader trusts nothing: every size is checked against the bytes present before it is used. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "dedup.h"

#define SIG_MAGIC "FTDDSIG1"
#define END_MAGIC "FTDDEND1"
#define SIG_VERSION 1
#define HEADER_FIXED 72
#define REC_FIXED 40
#define FOOTER 32
#define MAX_NAME 4096

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}
static size_t pad8(size_t n) { return (n + 7) & ~(size_t)7; }
static size_t pad4(size_t n) { return (n + 3) & ~(size_t)3; }
static int little_endian(void) {
    uint16_t one = 1;
    return *(uint8_t *)&one == 1;
}

/* ---- writer ------------------------------------------------------------------------------------ */

struct dedup_sigwriter {
    FILE *f;
    XXH64_state_t *h;
    uint64_t n;
    size_t csz;
    ft_buf rec;
    int err;
};

static void w_put(dedup_sigwriter *w, const void *p, size_t n) {
    if (fwrite(p, 1, n, w->f) != n) w->err = 1;
    XXH64_update(w->h, p, n);
}

dedup_sigwriter *dedup_sigwriter_new(FILE *f, const dedup_params *p, const char *name) {
    dedup_sigwriter *w = ft_xmalloc(sizeof *w);
    memset(w, 0, sizeof *w);
    w->f = f;
    w->h = XXH64_createState();
    if (!w->h) ft_assert_fail("XXH64_createState", __FILE__, __LINE__);
    XXH64_reset(w->h, 0);
    w->csz = dedup_compact_size(p->bands * p->rows);
    ft_buf_init(&w->rec);
    size_t nl = strnlen(name, MAX_NAME);
    size_t hs = pad8(HEADER_FIXED + nl);
    uint8_t *h = calloc(1, hs);
    if (!h) ft_assert_fail("calloc", __FILE__, __LINE__);
    memcpy(h, SIG_MAGIC, 8);
    put32(h + 8, SIG_VERSION);
    put32(h + 12, (uint32_t)hs);
    put32(h + 16, (uint32_t)p->bands);
    put32(h + 20, (uint32_t)p->rows);
    put32(h + 24, (uint32_t)p->ngram);
    put32(h + 28, (uint32_t)p->key);
    put32(h + 32, (uint32_t)(p->strip_punct ? 1 : 0) | (p->verify == VERIFY_EXACT ? 2u : 0));
    put32(h + 36, (uint32_t)nl);
    put64(h + 40, p->seed);
    uint64_t t;
    memcpy(&t, &p->threshold, 8);
    put64(h + 48, t);
    put32(h + 56, REC_FIXED);
    put32(h + 60, (uint32_t)w->csz);
    memcpy(h + HEADER_FIXED, name, nl);
    w_put(w, h, hs);
    free(h);
    return w;
}

void dedup_sigwriter_add(dedup_sigwriter *w, const dedup_sigrec *r) {
    size_t body = pad4(REC_FIXED + w->csz + r->id_len);
    size_t size = pad8(body + 4 * (size_t)r->nshingles);
    ft_buf_clear(&w->rec);
    ft_buf_reserve(&w->rec, size);
    uint8_t *b = (uint8_t *)w->rec.data;
    memset(b, 0, size);
    put32(b, (uint32_t)size);
    b[4] = (uint8_t)r->kind;
    put64(b + 8, r->line);
    put64(b + 16, r->exact[0]);
    put64(b + 24, r->exact[1]);
    put32(b + 32, r->id_len);
    put32(b + 36, r->nshingles);
    if (r->kind == SIG_DOC && r->csig) memcpy(b + REC_FIXED, r->csig, w->csz);
    if (r->id_len) memcpy(b + REC_FIXED + w->csz, r->id, r->id_len);
    for (uint32_t i = 0; i < r->nshingles; i++) put32(b + body + 4 * i, r->shingles[i]);
    w_put(w, b, size);
    w->n++;
}

int dedup_sigwriter_finish(dedup_sigwriter *w, uint64_t input_checksum) {
    uint8_t f[FOOTER];
    memcpy(f, END_MAGIC, 8);
    put64(f + 8, w->n);
    put64(f + 16, input_checksum);
    XXH64_update(w->h, f, 24);
    put64(f + 24, XXH64_digest(w->h));
    if (fwrite(f, 1, FOOTER, w->f) != FOOTER) w->err = 1;
    int rc = w->err ? FT_EIO : 0;
    dedup_sigwriter_free(w);
    return rc;
}

void dedup_sigwriter_free(dedup_sigwriter *w) {
    if (!w) return;
    XXH64_freeState(w->h);
    ft_buf_release(&w->rec);
    free(w);
}

/* ---- reader ------------------------------------------------------------------------------------ */

struct dedup_sigfile {
    const uint8_t *data;
    size_t len;
    void *map; /* munmap on free when set */
    dedup_params p;
    char *name;
    size_t csz;
    uint64_t n, input_checksum;
    uint64_t *off; /* (n) record offsets */
};

#define BAD(msg)                                                                                         \
    do {                                                                                                 \
        *why = (msg);                                                                                    \
        dedup_sigfile_free(f);                                                                           \
        return FT_EFORMAT;                                                                               \
    } while (0)

int dedup_sigfile_parse(const void *data, size_t len, dedup_sigfile **out, const char **why) {
    *out = NULL;
    dedup_sigfile *f = calloc(1, sizeof *f);
    if (!f) return FT_ENOMEM;
    const uint8_t *d = data;
    f->data = d, f->len = len;
    if (!little_endian()) BAD("signature files are read on little-endian hosts only");
    if ((uintptr_t)d % 8) BAD("buffer not 8-byte aligned");
    if (len < HEADER_FIXED + FOOTER || memcmp(d, SIG_MAGIC, 8)) BAD("not an ft-dedup signature file (bad magic)");
    if (get32(d + 8) != SIG_VERSION) BAD("unsupported signature file version");
    uint32_t hs = get32(d + 12), nl = get32(d + 36);
    if (nl > MAX_NAME || hs != pad8(HEADER_FIXED + nl) || hs > len - FOOTER) BAD("bad header size");
    dedup_params *p = &f->p;
    dedup_params_default(p);
    uint32_t bands = get32(d + 16), rows = get32(d + 20), ngram = get32(d + 24), key = get32(d + 28),
             flags = get32(d + 32);
    if (!bands || !rows || bands > DEDUP_MAX_HASHES || rows > DEDUP_MAX_HASHES || bands * rows > DEDUP_MAX_HASHES)
        BAD("bad bands or rows");
    if (!ngram || ngram > 64 || key > KEY_FIRST || flags > 3) BAD("bad parameters");
    p->bands = (int)bands, p->rows = (int)rows, p->ngram = (int)ngram, p->key = (int)key;
    p->strip_punct = flags & 1;
    p->verify = flags & 2 ? VERIFY_EXACT : VERIFY_SIG;
    p->seed = get64(d + 40);
    uint64_t t = get64(d + 48);
    memcpy(&p->threshold, &t, 8);
    if (!(p->threshold >= 0 && p->threshold <= 1)) BAD("bad threshold");
    f->csz = dedup_compact_size(p->bands * p->rows);
    if (get32(d + 56) != REC_FIXED || get32(d + 60) != f->csz) BAD("bad record geometry");
    if (!(f->name = malloc(nl + 1))) return dedup_sigfile_free(f), FT_ENOMEM;
    memcpy(f->name, d + HEADER_FIXED, nl);
    f->name[nl] = 0;
    if (memchr(f->name, 0, nl)) BAD("bad shard name");

    const uint8_t *foot = d + len - FOOTER;
    if (memcmp(foot, END_MAGIC, 8)) BAD("truncated signature file (no footer)");
    if (XXH64(d, len - 8, 0) != get64(foot + 24)) BAD("checksum mismatch");
    uint64_t n = get64(foot + 8);
    f->input_checksum = get64(foot + 16);
    size_t end = len - FOOTER, off = hs;
    if (n > (end - off) / (REC_FIXED + 8)) BAD("record count larger than the file");
    if (!(f->off = malloc((n ? n : 1) * sizeof *f->off))) return dedup_sigfile_free(f), FT_ENOMEM;
    for (uint64_t i = 0; i < n; i++) {
        if (end - off < REC_FIXED) BAD("record past the end of the file");
        const uint8_t *r = d + off;
        uint32_t size = get32(r), id_len = get32(r + 32), nsh = get32(r + 36);
        if (r[4] > SIG_REJECT || r[5] || get32(r + 4) >> 8) BAD("bad record kind");
        if (id_len > size || nsh > size / 4) BAD("bad record size");
        size_t body = pad4(REC_FIXED + f->csz + id_len);
        if (size != pad8(body + 4 * (size_t)nsh) || size > end - off) BAD("bad record size");
        if (nsh && p->verify != VERIFY_EXACT) BAD("shingles in a file without exact verification");
        for (uint32_t k = 1; k < nsh; k++)
            if (get32(r + body + 4 * k) <= get32(r + body + 4 * (k - 1))) BAD("shingle set not sorted");
        f->off[i] = off;
        off += size;
    }
    if (off != end) BAD("bytes after the last record");
    f->n = n;
    *out = f;
    return 0;
}

int dedup_sigfile_open(const char *path, dedup_sigfile **out, const char **why) {
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return FT_EIO;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return FT_EIO;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < HEADER_FIXED + FOOTER) {
        close(fd);
        *why = S_ISREG(st.st_mode) ? "too short for a signature file" : "not a regular file";
        return FT_EFORMAT;
    }
    size_t len = (size_t)st.st_size;
    void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (m == MAP_FAILED) {
        errno = e;
        return FT_EIO;
    }
    int rc = dedup_sigfile_parse(m, len, out, why);
    if (rc < 0) {
        munmap(m, len);
        return rc;
    }
    (*out)->map = m;
    return 0;
}

void dedup_sigfile_free(dedup_sigfile *f) {
    if (!f) return;
    if (f->map) munmap(f->map, f->len);
    free(f->name), free(f->off);
    free(f);
}

const dedup_params *dedup_sigfile_params(const dedup_sigfile *f) { return &f->p; }
const char *dedup_sigfile_name(const dedup_sigfile *f) { return f->name; }
uint64_t dedup_sigfile_count(const dedup_sigfile *f) { return f->n; }
uint64_t dedup_sigfile_input_checksum(const dedup_sigfile *f) { return f->input_checksum; }

void dedup_sigfile_record(const dedup_sigfile *f, uint64_t i, dedup_sigrec *out) {
    const uint8_t *r = f->data + f->off[i];
    out->kind = r[4];
    out->line = get64(r + 8);
    out->exact[0] = get64(r + 16);
    out->exact[1] = get64(r + 24);
    out->id_len = get32(r + 32);
    out->nshingles = get32(r + 36);
    out->csig = r + REC_FIXED;
    out->id = (const char *)r + REC_FIXED + f->csz;
    out->shingles = (const uint32_t *)(const void *)(r + pad4(REC_FIXED + f->csz + out->id_len));
}
