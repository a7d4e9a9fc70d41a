/* test-safetensors.c: common/safetensors.h and weights.h on the stories260K layouts (single, sharded, BF16)
 * and on malformed files made here: every header check names its problem and nothing reads out of bounds.
 * Rule: each malformed case is one small edit of a valid header, so the check it hits is unambiguous. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtype.h"
#include "ft.h"
#include "half.h"
#include "safetensors.h"
#include "tap.h"
#include "testdata.h"
#include "weights.h"

/* A file: 8-byte length, the header text as given, then data_len bytes (i % 251). */
static void make(ft_buf *b, const char *header, size_t data_len) {
    ft_buf_clear(b);
    uint64_t n = strlen(header);
    for (int i = 0; i < 8; i++) ft_buf_addc(b, (char)(n >> (8 * i)));
    ft_buf_adds(b, header);
    for (size_t i = 0; i < data_len; i++) ft_buf_addc(b, (char)(i % 251));
}

/* Parses b[0..len) expecting failure with code want and a reason containing needle. */
static void refuse(const ft_buf *b, size_t len, int want, const char *needle, const char *what) {
    ft_buf why;
    ft_buf_init(&why);
    ft_safetensors *st = NULL;
    /* an exact-size copy so ASan sees any read past the end */
    char *copy = malloc(len ? len : 1);
    memcpy(copy, b->data, len);
    int rc = ft_safetensors_parse(copy, len, &st, &why);
    ok(rc == want && !st && why.data && strstr(why.data, needle), "refused: %s ('%s')", what,
       why.data ? why.data : "");
    if (rc != want) printf("#   rc %d (%s), want %d\n", rc, ft_strerror(rc), want);
    ft_safetensors_free(st);
    free(copy);
    ft_buf_release(&why);
}

static void test_malformed(void) {
    ft_buf b;
    ft_buf_init(&b);
    const char *good = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                       "\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[16,22]}}";
    make(&b, good, 22);
    ft_safetensors *st = NULL;
    ft_buf why;
    ft_buf_init(&why);
    int rc = ft_safetensors_parse(b.data, b.len, &st, &why);
    is_int(rc, 0, "the hand-made file parses (%s)", why.data ? why.data : "");
    if (st) {
        const ft_tensor *a = ft_safetensors_find(st, "a"), *bb = ft_safetensors_find(st, "b");
        ok(a && a->dtype == FT_DTYPE_F32 && a->ndim == 2 && a->numel == 4 && a->data == b.data + 8 + strlen(good),
           "tensor a: F32 [2, 2] at the start of the data");
        ok(bb && bb->dtype == FT_DTYPE_BF16 && bb->nbytes == 6 && ft_safetensors_count(st) == 2,
           "tensor b: BF16 [3], 6 bytes");
        ok(!ft_safetensors_find(st, "c") && !ft_safetensors_meta(st, "format"), "no tensor c, no metadata");
    }
    ft_safetensors_free(st);
    ft_buf_release(&why);

    refuse(&b, 5, FT_EEOF, "shorter than the 8-byte", "file shorter than the length field");
    refuse(&b, 20, FT_EEOF, "exceeds the", "header length past the end (truncated header)");
    refuse(&b, b.len - 1, FT_ERANGE, "outside the data section", "truncated data section");
    make(&b, good, 23);
    refuse(&b, b.len, FT_EFORMAT, "cover 22 bytes of a 23-byte", "trailing bytes after the tensors");
    ft_buf_clear(&b);
    ft_buf_add(&b, "\x00\x00\x00\x10\x00\x00\x00\x00{}", 10);
    refuse(&b, b.len, FT_ETOOBIG, "exceeds the limit", "header length over 100 MB");
    make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]", 4);
    refuse(&b, b.len, FT_EPARSE, "malformed at byte", "bad JSON");
    make(&b, "[1, 2]", 0);
    refuse(&b, b.len, FT_EPARSE, "not a JSON object", "header not an object");
    make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4000]}}", 4);
    refuse(&b, b.len, FT_ERANGE, "outside the data section", "offsets out of bounds");
    make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4);
    refuse(&b, b.len, FT_ERANGE, "outside the data section", "end before begin");
    make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4);
    refuse(&b, b.len, FT_EFORMAT, "need 8", "size differs from numel * dtype size");
    make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4);
    refuse(&b, b.len, FT_ERANGE, "overflows", "overflowing shape");
    make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4);
    refuse(&b, b.len, FT_EPARSE, "not a size", "fractional dimension");
    make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4);
    refuse(&b, b.len, FT_EPARSE, "not a size", "negative dimension");
    make(&b, "{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
    refuse(&b, b.len, FT_EFORMAT, "unsupported dtype 'Q4'", "unknown dtype");
    make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
             "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}", 6);
    refuse(&b, b.len, FT_EFORMAT, "overlaps", "overlapping tensors");
    make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
             "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[6,10]}}", 10);
    refuse(&b, b.len, FT_EFORMAT, "hole", "a hole between tensors");
    make(&b, "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
             "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2);
    refuse(&b, b.len, FT_EPARSE, "appears twice", "duplicate tensor name");
    make(&b, "{\"__metadata__\":{\"format\":1}}", 0);
    refuse(&b, b.len, FT_EPARSE, "not a string", "non-string metadata");
    make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4);
    refuse(&b, b.len, FT_EFORMAT, "dimensions", "too many dimensions");
    make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4);
    refuse(&b, b.len, FT_EPARSE, "data_offsets", "data_offsets of one number");
    make(&b, "{\"\xff\":{}}", 0);
    refuse(&b, b.len, FT_EPARSE, "UTF-8", "header not UTF-8");
    ft_buf_release(&b);
}

static void test_write_roundtrip(const char *dir) {
    float f[6] = {1.5f, -2.0f, 0.0f, 3.25f, -0.0f, 1e-20f};
    uint16_t h[3] = {0x3f80, 0xc000, 0x7fc0};
    int32_t scalar = -7;
    ft_tensor ts[4] = {{.name = "z.weight", .dtype = FT_DTYPE_F32, .data = f},
                       {.name = "a.bias", .dtype = FT_DTYPE_BF16, .data = h},
                       {.name = "step", .dtype = FT_DTYPE_I32, .data = &scalar},
                       {.name = "empty", .dtype = FT_DTYPE_F16, .data = NULL}};
    ft_tensor_set_shape(&ts[0], 2, (int64_t[]){2, 3});
    ft_tensor_set_shape(&ts[1], 1, (int64_t[]){3});
    ft_tensor_set_shape(&ts[2], 0, NULL);
    ft_tensor_set_shape(&ts[3], 2, (int64_t[]){0, 4});
    char path[256];
    snprintf(path, sizeof path, "%s/adapter_model.safetensors", dir);
    const char *meta[] = {"peft", "ft", NULL};
    ft_buf why;
    ft_buf_init(&why);
    int rc = ft_safetensors_write(path, ts, 4, meta, &why);
    is_int(rc, 0, "write 4 tensors (%s)", why.data ? why.data : "");
    ft_safetensors *st = NULL;
    rc = ft_safetensors_open(path, &st, &why);
    is_int(rc, 0, "the written file reads back (%s)", why.data ? why.data : "");
    if (!st) return;
    is_str(ft_safetensors_meta(st, "format"), "pt", "__metadata__ format is pt");
    is_str(ft_safetensors_meta(st, "peft"), "ft", "extra metadata kept");
    is_int(ft_safetensors_count(st), 4, "4 tensors");
    is_str(ft_safetensors_at(st, 0)->name, "a.bias", "tensors come in name order");
    int same = 1;
    for (int i = 0; i < 4; i++) {
        const ft_tensor *t = ft_safetensors_find(st, ts[i].name);
        same &= t && t->dtype == ts[i].dtype && t->ndim == ts[i].ndim && t->nbytes == ts[i].nbytes &&
                !memcmp(t->shape, ts[i].shape, sizeof t->shape) && (!t->nbytes || !memcmp(t->data, ts[i].data, t->nbytes));
    }
    ok(same, "every tensor round-trips: dtype, shape (scalar and empty included) and bytes");
    FILE *fp = fopen(path, "rb");
    unsigned char len8[8] = {0};
    if (fp) {
        if (fread(len8, 1, 8, fp) != 8) len8[0] = 1;
        fclose(fp);
    }
    ok(len8[0] % 8 == 0, "header length is a multiple of 8 (%u)", len8[0]);
    ft_safetensors_free(st);
    ts[1].name = "z.weight";
    ft_buf_clear(&why);
    rc = ft_safetensors_write(path, ts, 2, NULL, &why);
    ok(rc == FT_EINVAL && strstr(why.data, "twice"), "a duplicate name is refused (%s)", why.data);
    ft_buf_release(&why);
}

static int bits_equal(const ft_tensor *a, const ft_tensor *b) {
    return a && b && a->dtype == b->dtype && a->ndim == b->ndim && !memcmp(a->shape, b->shape, sizeof a->shape) &&
           a->nbytes == b->nbytes && !memcmp(a->data, b->data, a->nbytes);
}

static void test_stories(void) {
    char hf[512], sharded[512], bf16[512];
    if (!testdata("models/stories260K/hf", hf, sizeof hf)) {
        skip("stories260K not found", "stories260K safetensors layouts (%s)", hf);
        return;
    }
    testdata("models/stories260K/hf-sharded", sharded, sizeof sharded);
    testdata("models/stories260K/hf-bf16", bf16, sizeof bf16);
    ft_buf why;
    ft_buf_init(&why);
    ft_weights *w = NULL, *ws = NULL, *wb = NULL;
    int rc = ft_weights_open(hf, &w, &why);
    is_int(rc, 0, "hf/: opens (%s)", why.data ? why.data : "");
    if (rc) return;
    is_str(ft_weights_format(w), "safetensors", "hf/ is safetensors");
    is_int(ft_weights_count(w), 47, "hf/ has 47 tensors");
    const ft_tensor *emb = ft_weights_find(w, "model.embed_tokens.weight");
    ok(emb && emb->dtype == FT_DTYPE_F32 && emb->ndim == 2 && emb->shape[0] == 512 && emb->shape[1] == 64,
       "model.embed_tokens.weight is F32 [512, 64]");
    const ft_tensor *k = ft_weights_find(w, "model.layers.4.self_attn.k_proj.weight");
    ok(k && k->shape[0] == 32 && k->shape[1] == 64, "k_proj is [32, 64] (4 KV heads of 8)");
    ok(!ft_weights_find(w, "lm_head.weight"), "no lm_head (tied)");

    rc = ft_weights_open(sharded, &ws, &why);
    is_int(rc, 0, "hf-sharded/: opens through model.safetensors.index.json (%s)", why.data ? why.data : "");
    if (ws) {
        is_int(ft_weights_files(ws), 2, "two shards");
        int same = ft_weights_count(ws) == ft_weights_count(w);
        for (size_t i = 0; same && i < ft_weights_count(w); i++) {
            const ft_tensor *a = ft_weights_at(w, i);
            same = !strcmp(a->name, ft_weights_at(ws, i)->name) && bits_equal(a, ft_weights_find(ws, a->name));
        }
        ok(same, "sharded: the same 47 tensors as hf/, bit for bit");
    }
    rc = ft_weights_open(bf16, &wb, &why);
    is_int(rc, 0, "hf-bf16/: opens (%s)", why.data ? why.data : "");
    if (wb) {
        size_t bad = 0, n = 0;
        float *x = NULL, *y = NULL;
        for (size_t i = 0; i < ft_weights_count(w); i++) {
            const ft_tensor *a = ft_weights_at(w, i), *b = ft_weights_find(wb, a->name);
            if (!b || b->dtype != FT_DTYPE_BF16 || b->numel != a->numel) {
                bad++;
                continue;
            }
            x = realloc(x, a->numel * sizeof *x);
            y = realloc(y, a->numel * sizeof *y);
            ft_tensor_read_f32(a, 0, a->numel, x);
            ft_tensor_read_f32(b, 0, b->numel, y);
            const unsigned char *raw = b->data;
            for (uint64_t j = 0; j < a->numel; j++, n++) {
                uint16_t want = ft_f32_to_bf16(x[j]), got = (uint16_t)(raw[2 * j] | raw[2 * j + 1] << 8);
                bad += want != got || y[j] != ft_bf16_to_f32(got);
            }
        }
        ok(bad == 0 && n == 260032, "bf16: every value of %zu is hf/'s value rounded to nearest even, "
                                                   "and widens exactly (%zu differ)", n, bad);
        free(x);
        free(y);
    }
    ft_weights_free(w);
    ft_weights_free(ws);
    ft_weights_free(wb);
    ft_buf_release(&why);
}

int main(void) {
    char dir[64];
    if (tap_tmpdir(dir, sizeof dir, "safetensors")) return 1;
    test_malformed();
    test_write_roundtrip(dir);
    test_stories();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("# could not remove %s\n", dir);
    return done_testing();
}
