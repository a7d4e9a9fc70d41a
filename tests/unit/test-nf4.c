/* test-nf4.c: common/nf4.h against nf4/reference.safetensors (codes, packed bytes, absmax, dequant, the tie
 * block) and the 35 NF4 weights of nf4/qlora-reference.safetensors, bit for bit; the all-zero and short-block
 * rules; double quantization of the absmax (properties only: no bitsandbytes fixture exists for it).
 * Rule: exact equality of bytes and float bits, never a tolerance, where the reference has the data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ft.h"
#include "half.h"
#include "nf4.h"
#include "safetensors.h"
#include "tap.h"
#include "testdata.h"

static const ft_tensor *get(const ft_safetensors *st, const char *name, uint64_t numel) {
    const ft_tensor *t = ft_safetensors_find(st, name);
    if (!t || t->numel != numel) {
        printf("# %s missing or not %llu elements\n", name, (unsigned long long)numel);
        return NULL;
    }
    return t;
}

static float *floats(const ft_tensor *t) {
    float *v = malloc(t->numel * sizeof *v + 1);
    ft_tensor_read_f32(t, 0, t->numel, v);
    return v;
}

static int same_bits(const float *a, const float *b, size_t n, size_t *bad_at) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], 4)) {
            *bad_at = i;
            return 0;
        }
    return 1;
}

/* Quantizes x (n values) and compares packed, absmax and dequant with the reference tensors prefixed by p. */
static void check_block(const ft_safetensors *st, const char *what, const float *x, size_t n, const char *packed_name,
                        const char *absmax_name, const char *codes_name, const char *dequant_name) {
    size_t nb = (n + 63) / 64, bad = 0;
    const ft_tensor *tp = get(st, packed_name, n / 2), *ta = get(st, absmax_name, nb);
    const ft_tensor *tc = codes_name ? get(st, codes_name, n) : NULL, *td = dequant_name ? get(st, dequant_name, n) : NULL;
    if (!tp || !ta) {
        ok(0, "%s: reference tensors present", what);
        return;
    }
    uint8_t *packed = malloc(n / 2);
    float *absmax = malloc(nb * sizeof *absmax), *deq = malloc(n * sizeof *deq);
    ft_nf4_quantize(x, n, packed, absmax);
    float *ref_absmax = floats(ta);
    ok(!memcmp(packed, tp->data, n / 2), "%s: all %zu packed bytes equal the reference", what, n / 2);
    ok(same_bits(absmax, ref_absmax, nb, &bad), "%s: all %zu absmax equal bit for bit", what, nb);
    if (tc) {
        const uint8_t *codes = tc->data;
        size_t diff = 0;
        for (size_t i = 0; i < n; i++) diff += (packed[i / 2] >> (i & 1 ? 0 : 4) & 15) != codes[i];
        ok(diff == 0, "%s: element 2j is the high nibble: unpacked codes equal 'codes' (%zu differ)", what, diff);
    }
    if (td) {
        float *ref = floats(td);
        ft_nf4_dequantize(packed, absmax, 0, n, deq);
        ok(same_bits(deq, ref, n, &bad), "%s: dequantized values equal bit for bit", what);
        free(ref);
    }
    free(ref_absmax);
    free(packed);
    free(absmax);
    free(deq);
}

static void test_reference(void) {
    char path[512];
    if (!testdata("models/stories260K/nf4/reference.safetensors", path, sizeof path)) {
        skip("nf4 reference not found", "NF4 reference (%s)", path);
        return;
    }
    ft_safetensors *st = NULL;
    ft_buf why;
    ft_buf_init(&why);
    if (ft_safetensors_open(path, &st, &why) != 0) {
        ok(0, "open %s: %s", path, why.data);
        return;
    }
    const ft_tensor *tcode = get(st, "nf4_code", 16), *tthr = get(st, "nf4_thresholds", 15);
    size_t bad = 0;
    if (tcode && tthr) {
        float *code = floats(tcode), *thr = floats(tthr);
        ok(same_bits(code, ft_nf4_code, 16, &bad), "ft_nf4_code equals bitsandbytes' table bit for bit");
        ok(same_bits(thr, ft_nf4_thresholds, 15, &bad), "ft_nf4_thresholds equal the kernel's decision tree");
        int mid = 1;
        for (int k = 0; k < 15; k++) {
            float m = (ft_nf4_code[k] + ft_nf4_code[k + 1]) / 2;
            mid &= m == ft_nf4_thresholds[k];
        }
        ok(mid, "each threshold is the float midpoint of its neighbouring codes");
        free(code);
        free(thr);
    }
    const ft_tensor *tw = get(st, "W", 128 * 256), *tt = get(st, "ties_input", 64);
    if (tw) {
        float *w = floats(tw);
        check_block(st, "W [128, 256]", w, 128 * 256, "nf4_packed", "absmax", "codes", "dequant");
        ft_nf4_tensor q;
        int rc = ft_nf4_tensor_quantize(&q, w, 128 * 256, 0, NULL);
        const ft_tensor *td = get(st, "dequant", 128 * 256);
        float row[256];
        size_t rows_ok = 0;
        for (int r = 0; rc == 0 && td && r < 128; r++) {
            ft_nf4_tensor_dequantize(&q, (size_t)r * 256, 256, row);
            rows_ok += !memcmp(row, (const char *)td->data + (size_t)r * 1024, 1024);
        }
        ok(rc == 0 && rows_ok == 128 && !memcmp(q.packed, get(st, "nf4_packed", 16384)->data, 16384),
           "ft_nf4_tensor: same bytes, row-by-row dequantization on the fly equals 'dequant' (%zu/128 rows)", rows_ok);
        ft_nf4_tensor_release(&q);
        free(w);
    }
    if (tt) {
        float *t = floats(tt);
        check_block(st, "ties block (thresholds, their neighbours, table values, +-0)", t, 64, "ties_packed",
                    "ties_absmax", "ties_codes", "ties_dequant");
        free(t);
    }
    ft_safetensors_free(st);
    ft_buf_release(&why);
}

static void test_qlora_reference(void) {
    char path[512], model[512];
    if (!testdata("models/stories260K/nf4/qlora-reference.safetensors", path, sizeof path) ||
        !testdata("models/stories260K/hf/model.safetensors", model, sizeof model)) {
        skip("nf4 qlora reference not found", "NF4 codes of the stories260K weights (%s)", path);
        return;
    }
    ft_safetensors *ref = NULL, *m = NULL;
    if (ft_safetensors_open(path, &ref, NULL) != 0 || ft_safetensors_open(model, &m, NULL) != 0) {
        ok(0, "open the qlora reference and hf/model.safetensors");
        ft_safetensors_free(ref);
        return;
    }
    static const char *mods[] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                                 "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};
    int checked = 0, good = 0;
    for (int l = 0; l < 5; l++)
        for (int k = 0; k < 7; k++) {
            char name[128], pn[160], an[160];
            snprintf(name, sizeof name, "model.layers.%d.%s.weight", l, mods[k]);
            snprintf(pn, sizeof pn, "%s.nf4_packed", name);
            snprintf(an, sizeof an, "%s.absmax", name);
            const ft_tensor *w = ft_safetensors_find(m, name), *tp = ft_safetensors_find(ref, pn),
                            *ta = ft_safetensors_find(ref, an);
            checked++;
            if (!w || !tp || !ta || tp->numel != w->numel / 2 || ta->numel != (w->numel + 63) / 64) continue;
            float *x = floats(w), *amax = malloc(ta->numel * sizeof *amax), *ref_amax = floats(ta);
            uint8_t *packed = malloc(tp->numel);
            ft_nf4_quantize(x, w->numel, packed, amax);
            size_t bad;
            good += !memcmp(packed, tp->data, tp->numel) && same_bits(amax, ref_amax, ta->numel, &bad);
            free(x), free(amax), free(ref_amax), free(packed);
        }
    ok(checked == 35 && good == 35, "all 35 stories260K linear weights: packed bytes and absmax equal bit for bit "
                                    "(%d/%d)", good, checked);
    ft_safetensors_free(ref);
    ft_safetensors_free(m);
}

static void test_rules(void) {
    float zeros[64] = {0}, absmax[2];
    uint8_t packed[32];
    ft_nf4_quantize(zeros, 64, packed, absmax);
    int all0 = absmax[0] == 0;
    for (int i = 0; i < 32; i++) all0 &= packed[i] == 0;
    float out[64];
    ft_nf4_dequantize(packed, absmax, 0, 64, out);
    int negzero = 1;
    for (int i = 0; i < 64; i++) negzero &= out[i] == 0 && signbit(out[i]);
    ok(all0 && negzero, "an all-zero block: absmax 0, code 0 everywhere (CUDA's NaN path), dequantizes to -0.0");
    /* a short last block: 64 + 3 values; the odd element's low nibble is the code of 0 */
    float x[67];
    for (int i = 0; i < 67; i++) x[i] = (float)(i % 7) - 3;
    uint8_t p[34];
    ft_nf4_quantize(x, 67, p, absmax);
    ok(absmax[1] == 2 && (p[33] & 15) == 7 && (p[32] >> 4) == ft_nf4_code_of(x[64] / 2) && (p[32] & 15) == ft_nf4_code_of(x[65] / 2),
       "a short last block: its own absmax, padding nibble is code 7 (zero)");
    float y[67];
    ft_nf4_dequantize(p, absmax, 0, 67, y);
    float z[5];
    ft_nf4_dequantize(p, absmax, 62, 5, z);
    ok(!memcmp(z, y + 62, sizeof z), "dequantizing a range that crosses a block and starts at an even index");
    ft_nf4_dequantize(p, absmax, 63, 3, z);
    ok(!memcmp(z, y + 63, 3 * sizeof *z), "and one that starts at an odd index");
    float nanblk[64];
    for (int i = 0; i < 64; i++) nanblk[i] = i == 5 ? NAN : 0.5f;
    ft_nf4_quantize(nanblk, 64, packed, absmax);
    ok(absmax[0] == 0.5f && (packed[2] & 15) == 0 && (packed[0] >> 4) == 15, "NaN is ignored by absmax and gets code 0");
}

static void test_double_quant(void) {
    float map[256];
    ft_nf4_dynamic_map(map);
    int sorted = 1, sym = 1, zero = 0;
    for (int i = 1; i < 256; i++) sorted &= map[i - 1] < map[i];
    for (int i = 0; i < 127; i++) sym &= map[i] == -map[254 - i];
    for (int i = 0; i < 256; i++) zero += map[i] == 0;
    ok(sorted && sym && zero == 1 && map[255] == 1.0f && map[127] == 0 && map[0] > -1.0f && map[0] < -0.99f,
       "dynamic map: 256 distinct sorted values, 0 at 127, 1.0 last, 127 negatives mirroring 127 positives");
    /* the 8-bit rule is the nearest map entry (ties by the kernel's midpoint test) */
    float xs[4096], am[16];
    uint8_t q[4096];
    for (int i = 0; i < 4096; i++) xs[i] = sinf((float)i * 0.37f) * (float)(1 + i % 13);
    ft_quantize_blockwise8(xs, 4096, map, 256, q, am);
    size_t far = 0;
    for (int i = 0; i < 4096; i++) {
        float v = xs[i] * (1.0f / am[i / 256]);
        for (int k = 0; k < 256; k++)
            far += fabsf(map[k] - v) < fabsf(map[q[i]] - v) * (1 - 1e-6f) && fabsf(map[k] - v) + 1e-7f < fabsf(map[q[i]] - v);
    }
    ok(far == 0, "8-bit blockwise codes are the nearest map entries (%zu closer entries found)", far);
    /* nf4 with double quant: absmax recovered to within the 8-bit map's resolution, offset the mean */
    size_t n = 64 * 600;
    float *w = malloc(n * sizeof *w);
    for (size_t i = 0; i < n; i++) w[i] = sinf((float)i * 0.013f) * 0.02f * (float)(1 + (i / 64) % 5);
    ft_nf4_tensor plain, dq;
    int rc = ft_nf4_tensor_quantize(&plain, w, n, 0, NULL) | ft_nf4_tensor_quantize(&dq, w, n, 1, NULL);
    double mean = 0, worst = 0;
    for (size_t b = 0; b < 600; b++) mean += plain.absmax[b];
    mean /= 600;
    for (size_t b = 0; b < 600; b++) {
        double e = fabs(ft_nf4_tensor_absmax(&dq, b) - plain.absmax[b]) / plain.absmax[b];
        if (e > worst) worst = e;
    }
    ok(rc == 0 && !dq.absmax && dq.qabsmax && dq.offset == (float)mean && !memcmp(dq.packed, plain.packed, n / 2),
       "double quant: same 4-bit codes, offset = mean absmax, fp32 absmax not kept");
    ok(worst < 0.05, "double quant: every block scale recovered within 5%% (worst %.4f)", worst);
    float *a = malloc(n * sizeof *a), *b2 = malloc(n * sizeof *b2);
    ft_nf4_tensor_dequantize(&plain, 0, n, a);
    ft_nf4_tensor_dequantize(&dq, 0, n, b2);
    double err = 0;
    for (size_t i = 0; i < n; i++) err = fmax(err, fabs(a[i] - b2[i]));
    ok(err < 0.005, "double-quantized weights dequantize within %.5f of plain NF4", err);
    ft_nf4_tensor_release(&plain);
    ft_nf4_tensor_release(&dq);
    free(w), free(a), free(b2);
}

int main(void) {
    test_reference();
    test_qlora_reference();
    test_rules();
    test_double_quant();
    return done_testing();
}
