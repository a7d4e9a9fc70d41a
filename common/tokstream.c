/* tokstream.c: the token stream's writer (appenders) and its streaming reader; the layout is in tokstream.h.
 * Rule: the reader allocates only for bytes it has actually read, so a hostile length costs nothing. */
#include "tokstream.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LITTLE_ENDIAN_HOST 1 /* the file's u32 order: ids are used where they lie */
#else
#define LITTLE_ENDIAN_HOST 0
#endif

static const char HEADER_MAGIC[8] = {'F', 'T', 'T', 'O', 'K', 'S', 'T', 'R'};
static const char REC_MAGIC[4] = {'R', 'E', 'C', '1'};
static const char END_MAGIC[4] = {'E', 'N', 'D', '1'};

static void put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}
static void put_u64(uint8_t *p, uint64_t v) {
    put_u32(p, (uint32_t)v);
    put_u32(p + 4, (uint32_t)(v >> 32));
}
static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get_u64(const uint8_t *p) { return get_u32(p) | (uint64_t)get_u32(p + 4) << 32; }

static size_t pad4(size_t n) { return (4 - (n & 3)) & 3; }

/* Appends n bytes of room to out and returns where they start (zeroed). */
static uint8_t *grow(ft_buf *out, size_t n) {
    ft_buf_reserve(out, n);
    uint8_t *p = (uint8_t *)out->data + out->len;
    memset(p, 0, n);
    out->len += n;
    out->data[out->len] = 0;
    return p;
}

static void put_hash(ft_buf *out, size_t start) {
    uint64_t h = XXH64(out->data + start, out->len - start, 0);
    put_u64(grow(out, 8), h);
}

void ft_tokstream_put_header(ft_buf *out, const char *json, size_t len) {
    size_t start = out->len;
    uint8_t *p = grow(out, 16 + len + pad4(len));
    memcpy(p, HEADER_MAGIC, 8);
    put_u32(p + 8, FT_TOKSTREAM_VERSION);
    put_u32(p + 12, (uint32_t)len);
    memcpy(p + 16, json, len);
    put_hash(out, start);
}

void ft_tokstream_put_record(ft_buf *out, uint64_t index, const uint32_t *ids, const uint8_t *mask, size_t n) {
    size_t start = out->len, mbytes = (n + 7) / 8;
    uint8_t *p = grow(out, 16 + 4 * n + mbytes + pad4(mbytes));
    memcpy(p, REC_MAGIC, 4);
    put_u32(p + 4, (uint32_t)n);
    put_u64(p + 8, index);
    uint8_t *q = p + 16;
#if LITTLE_ENDIAN_HOST
    memcpy(q, ids, 4 * n);
#else
    for (size_t i = 0; i < n; i++) put_u32(q + 4 * i, ids[i]);
#endif
    q += 4 * n;
    for (size_t i = 0; i < n; i++)
        if (mask[i]) q[i >> 3] |= (uint8_t)(1u << (i & 7));
    put_hash(out, start);
}

void ft_tokstream_put_trailer(ft_buf *out, uint64_t records, uint64_t tokens, uint64_t masked) {
    size_t start = out->len;
    uint8_t *p = grow(out, 32);
    memcpy(p, END_MAGIC, 4);
    put_u64(p + 8, records);
    put_u64(p + 16, tokens);
    put_u64(p + 24, masked);
    put_hash(out, start);
}

/* ---- reader ---------------------------------------------------------------------------------------- */

struct ft_tokstream_reader {
    FILE *f;
    ft_tokstream_info info;
    uint64_t offset;          /* bytes consumed */
    uint8_t *buf;             /* the current frame's bytes */
    size_t cap;
    uint32_t *ids;            /* decoded ids (n), on a big-endian host (a little-endian one reads them in buf) */
    uint8_t *mask;            /* expanded mask (n) */
    size_t idcap;
    uint64_t records, tokens, masked; /* in the current part, checked against its trailer */
    uint64_t all_records, parts;
    int done, failed;
    char err[256];
};

static int fail(ft_tokstream_reader *r, int code, uint64_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(ft_tokstream_reader *r, int code, uint64_t at, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
    if (k >= 0 && (size_t)k < sizeof r->err)
        snprintf(r->err + k, sizeof r->err - (size_t)k, " at byte %llu", (unsigned long long)at);
    r->failed = 1;
    return code;
}

/* Reads exactly n more bytes of the current frame into r->buf[have..have+n), growing the buffer by at most
 * 1 MiB beyond what has been read. Returns 0, FT_EEOF (none or some bytes missing: *got says how many
 * arrived), FT_EIO or FT_ENOMEM. */
static int read_more(ft_tokstream_reader *r, size_t have, size_t n, size_t *got) {
    *got = 0;
    while (*got < n) {
        size_t want = n - *got;
        if (want > (1u << 20)) want = 1u << 20;
        size_t need = have + *got + want;
        if (need > r->cap) {
            size_t c = r->cap ? r->cap : 4096;
            while (c < need) c *= 2;
            uint8_t *p = realloc(r->buf, c);
            if (!p) return FT_ENOMEM;
            r->buf = p, r->cap = c;
        }
        size_t k = fread(r->buf + have + *got, 1, want, r->f);
        *got += k;
        r->offset += k;
        if (k < want) return ferror(r->f) ? FT_EIO : FT_EEOF;
    }
    return 0;
}

static int read_exact(ft_tokstream_reader *r, size_t have, size_t n, uint64_t frame_at, const char *what) {
    size_t got;
    int rc = read_more(r, have, n, &got);
    if (rc == FT_EEOF) return fail(r, rc, frame_at, "truncated stream: %s cut short", what);
    if (rc == FT_EIO) return fail(r, rc, r->offset, "read error: %s", strerror(errno));
    if (rc == FT_ENOMEM) return fail(r, rc, frame_at, "out of memory");
    return 0;
}

static int check_hash(ft_tokstream_reader *r, size_t len, uint64_t at, const char *what) {
    if (XXH64(r->buf, len, 0) != get_u64(r->buf + len)) return fail(r, FT_EPARSE, at, "%s checksum mismatch", what);
    return 0;
}

static int64_t json_id(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 4294967296.0 ? (int64_t)v->valuedouble : -1;
}

/* The header after its 8 magic bytes (already in r->buf[0..8)). first: fill r->info; else compare. */
static int read_header(ft_tokstream_reader *r, uint64_t at, int first) {
    FT_TRY(read_exact(r, 8, 8, at, "header"));
    uint32_t version = get_u32(r->buf + 8), len = get_u32(r->buf + 12);
    if (version != FT_TOKSTREAM_VERSION)
        return fail(r, FT_EFORMAT, at, "unsupported token stream version %u (this reader knows %u)", version,
                    FT_TOKSTREAM_VERSION);
    if (len > FT_TOKSTREAM_MAX_HEADER) return fail(r, FT_EFORMAT, at, "header of %u bytes is too large", len);
    size_t body = len + pad4(len);
    FT_TRY(read_exact(r, 16, body + 8, at, "header"));
    for (size_t i = 16 + len; i < 16 + body; i++)
        if (r->buf[i]) return fail(r, FT_EPARSE, at, "header padding is not zero");
    FT_TRY(check_hash(r, 16 + body, at, "header"));
    cJSON *j = cJSON_ParseWithLength((const char *)r->buf + 16, len);
    const cJSON *tk = cJSON_GetObjectItemCaseSensitive(j, "tokenizer");
    const cJSON *hash = cJSON_GetObjectItemCaseSensitive(tk, "hash");
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(tk, "vocab_size");
    int rc = 0;
    if (!cJSON_IsObject(j)) rc = fail(r, FT_EFORMAT, at, "header is not a JSON object");
    else if (!cJSON_IsString(hash) || strlen(hash->valuestring) >= sizeof r->info.hash)
        rc = fail(r, FT_EFORMAT, at, "header has no tokenizer.hash");
    else if (!cJSON_IsNumber(vs) || vs->valuedouble < 1 || vs->valuedouble > 2147483648.0 ||
             vs->valuedouble != (double)(uint32_t)vs->valuedouble)
        rc = fail(r, FT_EFORMAT, at, "header has no valid tokenizer.vocab_size");
    else if (first) {
        ft_tokstream_info *in = &r->info;
        in->version = version;
        snprintf(in->hash, sizeof in->hash, "%s", hash->valuestring);
        in->vocab_size = (uint32_t)vs->valuedouble;
        in->bos_id = json_id(tk, "bos_id"), in->eos_id = json_id(tk, "eos_id");
        in->unk_id = json_id(tk, "unk_id"), in->pad_id = json_id(tk, "pad_id");
        const char *name = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "template"), "name"));
        snprintf(in->template_name, sizeof in->template_name, "%s", name ? name : "");
        in->json = malloc((size_t)len + 1);
        if (!in->json) rc = fail(r, FT_ENOMEM, at, "out of memory");
        else {
            memcpy(in->json, r->buf + 16, len);
            in->json[len] = 0;
            in->json_len = len;
        }
    } else if (strcmp(hash->valuestring, r->info.hash) || (uint32_t)vs->valuedouble != r->info.vocab_size) {
        rc = fail(r, FT_EFORMAT, at, "concatenated stream part %llu has another tokenizer (%s, vocab %u; first %s, %u)",
                  (unsigned long long)r->parts + 1, hash->valuestring, (uint32_t)vs->valuedouble, r->info.hash,
                  r->info.vocab_size);
    }
    cJSON_Delete(j);
    if (rc == 0) {
        r->parts++;
        r->records = r->tokens = r->masked = 0;
    }
    return rc;
}

int ft_tokstream_open(FILE *f, ft_tokstream_reader **out, ft_buf *why) {
    *out = NULL;
    ft_tokstream_reader *r = calloc(1, sizeof *r);
    if (!r) return FT_ENOMEM;
    r->f = f;
    size_t got;
    int rc = read_more(r, 0, 8, &got);
    if (rc == 0 && memcmp(r->buf, HEADER_MAGIC, 8) != 0)
        rc = fail(r, FT_EFORMAT, 0, "not a token stream (no FTTOKSTR magic)");
    else if (rc == FT_EEOF) rc = fail(r, got ? FT_EFORMAT : FT_EEOF, 0, got ? "not a token stream (too short)" : "empty input");
    else if (rc == FT_EIO) rc = fail(r, rc, 0, "read error: %s", strerror(errno));
    else if (rc == FT_ENOMEM) rc = fail(r, rc, 0, "out of memory");
    if (rc == 0) rc = read_header(r, 0, 1);
    if (rc < 0) {
        if (why) ft_buf_adds(why, r->err);
        ft_tokstream_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

const ft_tokstream_info *ft_tokstream_info_of(const ft_tokstream_reader *r) { return &r->info; }
const char *ft_tokstream_error(const ft_tokstream_reader *r) { return r->err; }
uint64_t ft_tokstream_records(const ft_tokstream_reader *r) { return r->all_records; }
uint64_t ft_tokstream_parts(const ft_tokstream_reader *r) { return r->parts; }

static int read_trailer(ft_tokstream_reader *r, uint64_t at) {
    FT_TRY(read_exact(r, 4, 36, at, "trailer"));
    if (get_u32(r->buf + 4)) return fail(r, FT_EPARSE, at, "trailer reserved field is not zero");
    FT_TRY(check_hash(r, 32, at, "trailer"));
    uint64_t rec = get_u64(r->buf + 8), tok = get_u64(r->buf + 16), msk = get_u64(r->buf + 24);
    if (rec != r->records || tok != r->tokens || msk != r->masked)
        return fail(r, FT_EPARSE, at,
                    "trailer counts (%llu records, %llu tokens, %llu masked) differ from the stream's (%llu, %llu, %llu)",
                    (unsigned long long)rec, (unsigned long long)tok, (unsigned long long)msk,
                    (unsigned long long)r->records, (unsigned long long)r->tokens, (unsigned long long)r->masked);
    return 0;
}

static int read_record(ft_tokstream_reader *r, uint64_t at, ft_tokrec *rec) {
    FT_TRY(read_exact(r, 4, 12, at, "record"));
    uint32_t n = get_u32(r->buf + 4);
    if (n == 0 || n > FT_TOKSTREAM_MAX_TOKENS)
        return fail(r, n ? FT_ETOOBIG : FT_EPARSE, at, "record of %u tokens (expected 1..%u)", n, FT_TOKSTREAM_MAX_TOKENS);
    size_t mbytes = ((size_t)n + 7) / 8, body = 4 * (size_t)n + mbytes + pad4(mbytes);
    FT_TRY(read_exact(r, 16, body + 8, at, "record"));
    FT_TRY(check_hash(r, 16 + body, at, "record"));
    const uint8_t *mb = r->buf + 16 + 4 * (size_t)n;
    if (n & 7 && mb[mbytes - 1] >> (n & 7)) return fail(r, FT_EPARSE, at, "unused mask bits are not zero");
    for (size_t i = mbytes; i < mbytes + pad4(mbytes); i++)
        if (mb[i]) return fail(r, FT_EPARSE, at, "record padding is not zero");
    if (n > r->idcap) {
        uint8_t *mask = realloc(r->mask, n);
        if (!mask) return fail(r, FT_ENOMEM, at, "out of memory");
        r->mask = mask;
#if !LITTLE_ENDIAN_HOST
        uint32_t *id = realloc(r->ids, (size_t)n * sizeof *id);
        if (!id) return fail(r, FT_ENOMEM, at, "out of memory");
        r->ids = id;
#endif
        r->idcap = n;
    }
#if LITTLE_ENDIAN_HOST
    const uint32_t *ids = (const uint32_t *)(r->buf + 16); /* in place: buf is malloc'd, so 4-byte aligned */
#else
    for (size_t i = 0; i < n; i++) r->ids[i] = get_u32(r->buf + 16 + 4 * i);
    const uint32_t *ids = r->ids;
#endif
    uint32_t top = 0; /* the largest id: a branch-free pass the compiler vectorizes */
    for (size_t i = 0; i < n; i++) top = ids[i] > top ? ids[i] : top;
    if (top >= r->info.vocab_size)
        for (size_t i = 0; i < n; i++)
            if (ids[i] >= r->info.vocab_size)
                return fail(r, FT_ERANGE, at, "token %zu of the record is id %u, outside the vocabulary (%u)", i,
                            ids[i], r->info.vocab_size);
    uint64_t masked = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) { /* 8 mask bits at a time, LSB first, spread into 8 bytes 0/1 */
        uint64_t x = mb[i >> 3];
        x = (x | x << 28) & 0x0000000F0000000Full;
        x = (x | x << 14) & 0x0003000300030003ull;
        x = (x | x << 7) & 0x0101010101010101ull;
        for (int k = 0; k < 8; k++) r->mask[i + k] = (uint8_t)(x >> (8 * k));
        masked += (x * 0x0101010101010101ull) >> 56; /* the sum of the 8 bytes */
    }
    for (; i < n; i++) masked += r->mask[i] = (mb[i >> 3] >> (i & 7)) & 1;
    r->records++, r->all_records++;
    r->tokens += n;
    r->masked += masked;
    rec->index = get_u64(r->buf + 8);
    rec->n = n;
    rec->ids = ids;
    rec->mask = r->mask;
    return 1;
}

int ft_tokstream_next(ft_tokstream_reader *r, ft_tokrec *rec) {
    if (r->failed) return FT_EINVAL;
    for (;;) {
        if (r->done) return 0;
        uint64_t at = r->offset;
        size_t got;
        int rc = read_more(r, 0, 4, &got);
        if (rc == FT_EIO) return fail(r, rc, at, "read error: %s", strerror(errno));
        if (rc == FT_ENOMEM) return fail(r, rc, at, "out of memory");
        if (rc == FT_EEOF) return fail(r, rc, at, "truncated stream: no trailer");
        if (!memcmp(r->buf, REC_MAGIC, 4)) return read_record(r, at, rec);
        if (memcmp(r->buf, END_MAGIC, 4)) return fail(r, FT_EPARSE, at, "bad frame (neither record nor trailer)");
        FT_TRY(read_trailer(r, at));
        /* After a trailer: the end, or the header of a concatenated part. */
        at = r->offset;
        rc = read_more(r, 0, 8, &got);
        if (rc == FT_EEOF && got == 0) {
            r->done = 1;
            return 0;
        }
        if (rc == FT_EIO) return fail(r, rc, at, "read error: %s", strerror(errno));
        if (rc == FT_ENOMEM) return fail(r, rc, at, "out of memory");
        if (rc == FT_EEOF || memcmp(r->buf, HEADER_MAGIC, 8))
            return fail(r, FT_EPARSE, at, "data after the trailer is not another token stream");
        FT_TRY(read_header(r, at, 0));
    }
}

void ft_tokstream_close(ft_tokstream_reader *r) {
    if (!r) return;
    free(r->info.json);
    free(r->buf);
    free(r->ids);
    free(r->mask);
    free(r);
}
