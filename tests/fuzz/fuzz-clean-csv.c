/* fuzz-clean-csv.c: arbitrary bytes as a CSV file: memfd → ft_lines → ft_csv, every row through clean_csv_row.
 * Rule: pass 1 reads with ',' and no line limit and the default options; pass 2 takes the delimiter, a
 * small --max-line and the cleaning options from the first input byte. Records are checked for bounds,
 * NUL termination and line order; a line without '"' must split into fields that join back into it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "csv.h"
#include "lines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fuzz_pair plain, flip;
static clean_result res;
static volatile unsigned sink; /* keeps the reads below from being optimized away */

/* Reads every byte of a borrowed string of n bytes and its terminating NUL. */
static void check_str(const char *s, size_t n, const char *what) {
    FUZZ_CHECK(s != NULL, what);
    for (size_t i = 0; i < n; i++) sink += (unsigned char)s[i];
    FUZZ_CHECK(s[n] == 0, what);
}

static void check_record(const ft_csv_record *rec, char delim, int raw_has_quote) {
    FUZZ_CHECK(rec->nfields >= 1, "a record has at least one field");
    check_str(rec->raw, rec->raw_len, "raw record is NUL-terminated");
    size_t total = 0;
    for (size_t k = 0; k < rec->nfields; k++) {
        check_str(rec->field[k], rec->len[k], "field is NUL-terminated");
        total += rec->len[k];
    }
    FUZZ_CHECK(total + rec->nfields - 1 <= rec->raw_len, "fields fit in the raw record");
    if (raw_has_quote) return;
    /* unquoted: the fields joined by the delimiter are the raw line, less a final CR */
    size_t n = rec->raw_len;
    if (n && rec->raw[n - 1] == '\r') n--;
    FUZZ_CHECK(memchr(rec->raw, '\n', rec->raw_len) == NULL, "an unquoted record is one line");
    size_t at = 0;
    for (size_t k = 0; k < rec->nfields; k++) {
        FUZZ_CHECK(at + rec->len[k] <= n && !memcmp(rec->raw + at, rec->field[k], rec->len[k]),
                   "unquoted fields are slices of the line");
        at += rec->len[k];
        if (k + 1 < rec->nfields) {
            FUZZ_CHECK(at < n && rec->raw[at] == delim, "unquoted fields are split at the delimiter");
            at++;
        }
    }
    FUZZ_CHECK(at == n, "unquoted fields joined give the line back");
}

/* Maps a row's fields to ft-clean's columns as main.c does without a header: category, human, assistant
 * (and with four or more fields: category, system, human, assistant). */
static void clean_row(clean_ctx *c, clean_ctx *again, const ft_csv_record *rec, uint64_t row) {
    const char *const *f = rec->field;
    clean_result_reset(&res);
    if (rec->nfields == 2) clean_csv_row(c, NULL, NULL, f[0], f[1], row, &res);
    else if (rec->nfields == 3) clean_csv_row(c, f[0], NULL, f[1], f[2], row, &res);
    else if (rec->nfields >= 4) clean_csv_row(c, f[0], f[1], f[2], f[3], row, &res);
    else return;
    if (fuzz_check_result(&res) == R_KEPT) fuzz_check_idempotent(again, &res);
    else FUZZ_CHECK(res.out.len == 0, "a row not kept has no output");
}

static void one_pass(clean_ctx *c, clean_ctx *again, const uint8_t *data, size_t size, char delim, size_t max_line) {
    int fd = memfd_create("fuzz-csv", MFD_CLOEXEC);
    if (fd < 0) abort();
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) abort();
        off += (size_t)w;
    }
    if (lseek(fd, 0, SEEK_SET) != 0) abort();
    ft_lines *L;
    if (ft_lines_open_fd(fd, max_line, 1, &L) < 0) abort();
    ft_csv *csv = ft_csv_new(L, delim);
    uint64_t last = 0, row = 0, nl = 0;
    for (size_t i = 0; i < size; i++) nl += data[i] == '\n';
    int rc;
    for (;;) {
        ft_csv_record rec;
        memset(&rec, 0, sizeof rec); /* a return that does not describe its record shows up as NULL */
        uint64_t before = ft_lines_offset(L);
        rc = ft_csv_next(csv, &rec);
        if (rc == 0) break;
        FUZZ_CHECK(rc == 1 || rc == FT_EPARSE || rc == FT_ETOOBIG, "ft_csv_next returns 1, 0 or an error");
        FUZZ_CHECK(ft_lines_offset(L) > before, "every record consumes input");
        FUZZ_CHECK(rec.lineno >= 1 && rec.lineno >= last, "line numbers do not decrease");
        FUZZ_CHECK(rec.lineno <= ft_lines_lineno(L) && rec.lineno <= nl + 1, "line number is in the input");
        last = rec.lineno;
        if (rc == FT_ETOOBIG) {
            FUZZ_CHECK(max_line && rec.raw_len > max_line, "a record too large is longer than max_line");
            FUZZ_CHECK(rec.raw != NULL, "a record too large has its first bytes");
            sink += (unsigned)strnlen(rec.raw, rec.raw_len); /* its first bytes end in a NUL inside the buffer */
            continue;
        }
        if (rc == FT_EPARSE) {
            check_str(rec.raw, rec.raw_len, "a malformed record has its raw bytes");
            FUZZ_CHECK(ft_csv_error(csv) && strcmp(ft_csv_error(csv), "no error"), "a malformed record has a reason");
            continue;
        }
        check_record(&rec, delim, memchr(rec.raw, '"', rec.raw_len) != NULL);
        clean_row(c, again, &rec, ++row);
    }
    ft_csv_free(csv);
    ft_lines_free(L);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!plain.c) {
        clean_opts o;
        clean_opts_default(&o);
        fuzz_pair_set(&plain, &o);
        ft_buf_init(&res.out);
    }
    one_pass(plain.c, plain.again, data, size, ',', 0);
    unsigned b = size ? data[0] : 0;
    clean_opts o;
    fuzz_opts_from_byte(&o, b);
    fuzz_pair_set(&flip, &o);
    one_pass(flip.c, flip.again, data, size, b & 128 ? '\t' : ',', b & 64 ? (b & 63) + 1 : 0);
    return 0;
}
