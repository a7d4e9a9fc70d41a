/* test-torchbin.c: common/torchbin.h, zip.h and pickle.h: stories260K's pytorch_model.bin equals its safetensors
 * bit for bit; hand-made archives and pickles exercise every refusal (forbidden globals and opcodes, strides,
 * storage bounds, truncation, compression, CRC).
 * Rule: pickles are spelled opcode by opcode here, so each case shows exactly what the reader sees. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ft.h"
#include "mapfile.h"
#include "pickle.h"
#include "safetensors.h"
#include "tap.h"
#include "testdata.h"
#include "torchbin.h"
#include "weights.h"
#include "zip.h"

/* ---- a pickle spelled by hand ---- */
static void op(ft_buf *b, const char *bytes) { ft_buf_adds(b, bytes); }
static void ustr(ft_buf *b, const char *s) { /* BINUNICODE */
    uint32_t n = (uint32_t)strlen(s);
    ft_buf_addc(b, 'X');
    for (int i = 0; i < 4; i++) ft_buf_addc(b, (char)(n >> (8 * i)));
    ft_buf_adds(b, s);
}
static void int1(ft_buf *b, int v) {
    ft_buf_addc(b, 'K');
    ft_buf_addc(b, (char)v);
}

/* One tensor entry: key -> _rebuild_tensor_v2(storage(key0, numel), offset, size, stride, False, OrderedDict()) */
static void tensor(ft_buf *b, const char *name, const char *cls, const char *key, int numel, int offset,
                   int ndim, const int *size, const int *stride) {
    ustr(b, name);
    op(b, "ctorch._utils\n_rebuild_tensor_v2\n((");
    ustr(b, "storage");
    ft_buf_addf(b, "ctorch\n%s\n", cls);
    ustr(b, key);
    ustr(b, "cpu");
    int1(b, numel);
    op(b, "tQ");
    int1(b, offset);
    op(b, "(");
    for (int i = 0; i < ndim; i++) int1(b, size[i]);
    op(b, "t(");
    for (int i = 0; i < ndim; i++) int1(b, stride[i]);
    op(b, "t\x89");
    op(b, "ccollections\nOrderedDict\n)RtR");
}

static void dict_open(ft_buf *b) {
    ft_buf_clear(b);
    op(b, "\x80\x02" "ccollections\nOrderedDict\nq\x01)Rq\x02(");
}

/* The standard two-tensor state dict: w (2, 3) and v (4,) at offset 2 of the same 6-float storage "0". */
static void two_tensors(ft_buf *b) {
    dict_open(b);
    tensor(b, "w", "FloatStorage", "0", 6, 0, 2, (int[]){2, 3}, (int[]){3, 1});
    tensor(b, "v", "FloatStorage", "0", 6, 2, 1, (int[]){4}, (int[]){1});
    op(b, "u.");
}

static void pickle_refused(const ft_buf *b, int want, const char *needle, const char *what) {
    ft_state_dict sd;
    ft_buf why;
    ft_buf_init(&why);
    char *copy = malloc(b->len ? b->len : 1);
    memcpy(copy, b->data, b->len);
    int rc = ft_pickle_state_dict(copy, b->len, &sd, &why);
    ok(rc == want && sd.count == 0 && why.data && strstr(why.data, needle), "pickle refused: %s ('%s')", what,
       why.data ? why.data : "");
    if (rc != want) printf("#   rc %d, want %d\n", rc, want);
    free(copy);
    ft_buf_release(&why);
}

static void test_pickle(void) {
    ft_buf b, why;
    ft_buf_init(&b);
    ft_buf_init(&why);
    two_tensors(&b);
    ft_state_dict sd;
    int rc = ft_pickle_state_dict(b.data, b.len, &sd, &why);
    is_int(rc, 0, "hand-made state dict parses (%s)", why.data ? why.data : "");
    ok(sd.count == 2 && !strcmp(sd.tensors[0].name, "w") && sd.tensors[0].ndim == 2 &&
           sd.tensors[0].shape[1] == 3 && !strcmp(sd.tensors[1].storage, "0") && sd.tensors[1].offset == 2 &&
           sd.tensors[1].storage_numel == 6 && sd.tensors[1].dtype == FT_DTYPE_F32,
       "two tensors in insertion order, sharing storage 0");
    ft_state_dict_release(&sd);

    /* the OrderedDict's _metadata attribute comes as BUILD with a dict state: accepted, dropped */
    dict_open(&b);
    tensor(&b, "w", "HalfStorage", "0", 6, 0, 1, (int[]){6}, (int[]){1});
    op(&b, "u}");
    ustr(&b, "_metadata");
    op(&b, "}sb.");
    rc = ft_pickle_state_dict(b.data, b.len, &sd, &why);
    ok(rc == 0 && sd.count == 1 && sd.tensors[0].dtype == FT_DTYPE_F16, "BUILD of the state dict's attributes is accepted");
    ft_state_dict_release(&sd);

    ft_buf_clear(&b);
    op(&b, "\x80\x02" "cos\nsystem\n");
    ustr(&b, "echo hi");
    op(&b, "\x85R.");
    pickle_refused(&b, FT_EFORMAT, "global 'os.system' is not allowed", "GLOBAL os.system");
    ft_buf_clear(&b);
    op(&b, "\x80\x04");
    ft_buf_add(&b, "\x8c\x08" "builtins" "\x8c\x04" "eval" "\x93", 17);
    op(&b, ".");
    pickle_refused(&b, FT_EFORMAT, "builtins.eval", "STACK_GLOBAL builtins.eval");
    ft_buf_clear(&b);
    op(&b, "\x80\x02(iposix\nsystem\n.");
    pickle_refused(&b, FT_EFORMAT, "opcode 'i'", "INST opcode");
    ft_buf_clear(&b);
    op(&b, "\x80\x02" "ccollections\nOrderedDict\n)\x81.");
    pickle_refused(&b, FT_EFORMAT, "opcode 0x81", "NEWOBJ opcode");
    ft_buf_clear(&b);
    op(&b, "\x80\x02" "ctorch\nFloatStorage\n)R.");
    pickle_refused(&b, FT_EFORMAT, "cannot be called", "REDUCE on a storage class");
    dict_open(&b);
    tensor(&b, "w", "FloatStorage", "0", 6, 0, 2, (int[]){2, 3}, (int[]){1, 2});
    op(&b, "u.");
    pickle_refused(&b, FT_EFORMAT, "not contiguous", "transposed strides");
    dict_open(&b);
    tensor(&b, "w", "FloatStorage", "0", 6, 4, 2, (int[]){2, 3}, (int[]){3, 1});
    op(&b, "u.");
    pickle_refused(&b, FT_ERANGE, "outside its storage", "tensor past the end of its storage");
    dict_open(&b);
    tensor(&b, "w", "IntStorage", "0", 6, 0, 1, (int[]){6}, (int[]){1});
    tensor(&b, "w", "IntStorage", "0", 6, 0, 1, (int[]){6}, (int[]){1});
    op(&b, "u.");
    pickle_refused(&b, FT_EFORMAT, "appears twice", "duplicate key");
    two_tensors(&b);
    b.len -= 3;
    pickle_refused(&b, FT_EEOF, "truncated", "truncated pickle");
    ft_buf_clear(&b);
    pickle_refused(&b, FT_EEOF, "truncated", "empty pickle");
    ft_buf_clear(&b);
    op(&b, "\x80\x02R.");
    pickle_refused(&b, FT_EPARSE, "underflow", "REDUCE on an empty stack");
    ft_buf_clear(&b);
    op(&b, "\x80\x02K\x01.");
    pickle_refused(&b, FT_EFORMAT, "not a state dict", "an int instead of a dict");
    ft_buf_clear(&b);
    op(&b, "\x80\x02}(");
    ustr(&b, "step");
    int1(&b, 3);
    op(&b, "u.");
    pickle_refused(&b, FT_EFORMAT, "is a int, not a tensor", "a non-tensor value");
    ft_buf_clear(&b);
    op(&b, "\x80\x02h\x05.");
    pickle_refused(&b, FT_EPARSE, "never set", "BINGET of an unset memo slot");
    ft_buf_clear(&b);
    op(&b, "\x80\x02r\xff\xff\xff\x7f.");
    pickle_refused(&b, FT_EPARSE, "underflow", "LONG_BINPUT on an empty stack");
    ft_buf_clear(&b);
    op(&b, "\x80\x02N");
    op(&b, "r\xff\xff\xff\x7f.");
    pickle_refused(&b, FT_ERANGE, "too large", "a memo index beyond the input size");
    ft_buf_release(&b);
    ft_buf_release(&why);
}

/* ---- a stored zip written by hand ---- */
typedef struct {
    const char *name;
    const void *data;
    size_t len;
} entry;
static void put16(ft_buf *b, unsigned v) { ft_buf_add(b, (char[]){(char)v, (char)(v >> 8)}, 2); }
static void put32(ft_buf *b, uint32_t v) { put16(b, v & 0xffff), put16(b, v >> 16); }

static void zip_write(ft_buf *b, const entry *e, int n, unsigned method) {
    ft_buf_clear(b);
    uint32_t offs[16];
    for (int i = 0; i < n; i++) {
        offs[i] = (uint32_t)b->len;
        put32(b, 0x04034b50), put16(b, 20), put16(b, 0), put16(b, method), put16(b, 0), put16(b, 0x21);
        put32(b, ft_crc32(0, e[i].data, e[i].len)), put32(b, (uint32_t)e[i].len), put32(b, (uint32_t)e[i].len);
        put16(b, (unsigned)strlen(e[i].name)), put16(b, 0);
        ft_buf_adds(b, e[i].name);
        ft_buf_add(b, e[i].data, e[i].len);
    }
    uint32_t cd = (uint32_t)b->len;
    for (int i = 0; i < n; i++) {
        put32(b, 0x02014b50), put16(b, 20), put16(b, 20), put16(b, 0), put16(b, method), put16(b, 0), put16(b, 0x21);
        put32(b, ft_crc32(0, e[i].data, e[i].len)), put32(b, (uint32_t)e[i].len), put32(b, (uint32_t)e[i].len);
        put16(b, (unsigned)strlen(e[i].name)), put16(b, 0), put16(b, 0), put16(b, 0), put16(b, 0), put32(b, 0);
        put32(b, offs[i]);
        ft_buf_adds(b, e[i].name);
    }
    uint32_t cd_size = (uint32_t)b->len - cd;
    put32(b, 0x06054b50), put16(b, 0), put16(b, 0), put16(b, (unsigned)n), put16(b, (unsigned)n);
    put32(b, cd_size), put32(b, cd), put16(b, 0);
}

static void bin_refused(const ft_buf *b, int want, const char *needle, const char *what) {
    ft_torchbin *tb = NULL;
    ft_buf why;
    ft_buf_init(&why);
    char *copy = malloc(b->len ? b->len : 1);
    memcpy(copy, b->data, b->len);
    int rc = ft_torchbin_parse(copy, b->len, &tb, &why);
    ok(rc == want && !tb && why.data && strstr(why.data, needle), "archive refused: %s ('%s')", what,
       why.data ? why.data : "");
    if (rc != want) printf("#   rc %d, want %d\n", rc, want);
    ft_torchbin_free(tb);
    free(copy);
    ft_buf_release(&why);
}

static void test_archive(void) {
    ft_buf pk, z, why;
    ft_buf_init(&pk);
    ft_buf_init(&z);
    ft_buf_init(&why);
    two_tensors(&pk);
    float data[6] = {1, 2, 3, 4, 5, 6};
    entry e[4] = {{"archive/data.pkl", pk.data, pk.len},
                  {"archive/data/0", data, sizeof data},
                  {"archive/version", "3\n", 2},
                  {"archive/byteorder", "little", 6}};
    zip_write(&z, e, 4, 0);
    ft_torchbin *tb = NULL;
    int rc = ft_torchbin_parse(z.data, z.len, &tb, &why);
    is_int(rc, 0, "hand-made torch archive parses (%s)", why.data ? why.data : "");
    if (tb) {
        const ft_tensor *w = ft_torchbin_find(tb, "w"), *v = ft_torchbin_find(tb, "v");
        float got[4] = {0};
        if (v) ft_tensor_read_f32(v, 0, 4, got);
        ok(w && v && w->numel == 6 && v->numel == 4 && (const char *)v->data - (const char *)w->data == 8 &&
               got[0] == 3 && got[3] == 6,
           "views into the shared storage: v starts 2 floats in, values 3..6");
        is_str(ft_torchbin_at(tb, 0)->name, "v", "tensors come in name order");
    }
    ft_torchbin_free(tb);

    ft_buf half;
    ft_buf_init(&half);
    ft_buf_add(&half, z.data, z.len / 2);
    bin_refused(&half, FT_EFORMAT, "end of central directory", "truncated zip");
    ft_buf_clear(&half);
    ft_buf_add(&half, z.data, z.len - 1);
    bin_refused(&half, FT_EFORMAT, "end of central directory", "zip missing its last byte");
    ft_buf_release(&half);
    zip_write(&z, e, 4, 8);
    bin_refused(&z, FT_EFORMAT, "compressed (method 8)", "deflated entries");
    entry short_store[2] = {e[0], {"archive/data/0", data, 20}};
    zip_write(&z, short_store, 2, 0);
    bin_refused(&z, FT_EFORMAT, "holds 20 bytes", "storage smaller than its persistent id says");
    zip_write(&z, e, 1, 0);
    bin_refused(&z, FT_EFORMAT, "is missing", "storage entry missing");
    entry outside[3] = {e[0], e[1], {"other/file", "x", 1}};
    zip_write(&z, outside, 3, 0);
    bin_refused(&z, FT_EFORMAT, "outside the archive's folder", "entry outside the archive's folder");
    entry big[3] = {e[0], e[1], {"archive/byteorder", "big", 3}};
    zip_write(&z, big, 3, 0);
    bin_refused(&z, FT_EFORMAT, "byteorder", "big-endian archive");
    zip_write(&z, e, 2, 0);
    z.data[50] ^= 1; /* a byte of data.pkl, after its 30-byte header and 16-byte name */
    bin_refused(&z, FT_EPARSE, "CRC-32", "data.pkl with a flipped byte");
    bin_refused(&pk, FT_EFORMAT, "legacy", "legacy (pre-1.6) format");
    zip_write(&z, e, 2, 0);
    z.data[z.len - 6] = (char)0xff; /* central directory offset far outside */
    bin_refused(&z, FT_EPARSE, "outside the archive", "central directory offset out of bounds");
    ft_buf_release(&pk);
    ft_buf_release(&z);
    ft_buf_release(&why);
}

static void test_stories(void) {
    char bin[512], hf[512], binfile[600];
    if (!testdata("models/stories260K/hf-bin", bin, sizeof bin) || !testdata("models/stories260K/hf", hf, sizeof hf)) {
        skip("stories260K not found", "stories260K pytorch_model.bin (%s)", bin);
        return;
    }
    ft_buf why;
    ft_buf_init(&why);
    snprintf(binfile, sizeof binfile, "%s/pytorch_model.bin", bin);
    ft_mapfile m;
    ft_zip *z = NULL;
    if (ft_mapfile_open(binfile, &m) == 0 && ft_zip_parse(m.data, m.size, &z, &why) == 0) {
        size_t good = 0;
        for (size_t i = 0; i < ft_zip_count(z); i++) good += ft_zip_crc_ok(ft_zip_at(z, i));
        ok(ft_zip_count(z) == 49 && good == 49, "pytorch_model.bin: 49 zip entries, every CRC-32 matches (%zu)", good);
        ft_zip_free(z);
    } else {
        ok(0, "pytorch_model.bin maps and its zip directory reads (%s)", why.data ? why.data : "");
    }
    ft_mapfile_close(&m);
    ft_weights *wb = NULL, *ws = NULL;
    int rc = ft_weights_open(bin, &wb, &why);
    is_int(rc, 0, "hf-bin/: opens (%s)", why.data ? why.data : "");
    rc = ft_weights_open(hf, &ws, &why);
    if (wb && ws) {
        is_str(ft_weights_format(wb), "pytorch", "hf-bin/ is read as pytorch");
        int same = ft_weights_count(wb) == 47 && ft_weights_count(ws) == 47;
        for (size_t i = 0; same && i < 47; i++) {
            const ft_tensor *a = ft_weights_at(wb, i), *b = ft_weights_find(ws, a->name);
            same = b && a->dtype == b->dtype && a->ndim == b->ndim && !memcmp(a->shape, b->shape, sizeof a->shape) &&
                   a->nbytes == b->nbytes && !memcmp(a->data, b->data, a->nbytes);
        }
        ok(same, "all 47 tensors equal hf/model.safetensors bit for bit (names, dtype, shape, bytes)");
    }
    ft_weights_free(wb);
    ft_weights_free(ws);
    ft_buf_release(&why);
}

int main(void) {
    test_pickle();
    test_archive();
    test_stories();
    return done_testing();
}
