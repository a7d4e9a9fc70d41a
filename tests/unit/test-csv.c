/* test-csv.c: common/csv.h against RFC 4180: quoting, doubled quotes, embedded LF and CRLF, line-end
 * mixes, BOM, empty fields, blank lines, malformed records (reported, then reading goes on), TSV.
 * Rule: each case is a small file written by the test; fields, raw bytes and line numbers are all checked. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"
#include "ft.h"
#include "lines.h"
#include "tap.h"

static char g_dir[64];
static int g_files;

typedef struct {
    ft_lines *lines;
    ft_csv *csv;
} reader;

static reader open_csv(const char *data, size_t n, char delim, size_t max_line) {
    char path[128];
    snprintf(path, sizeof path, "%s/%d.csv", g_dir, g_files++);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        printf("Bail out! cannot write %s\n", path);
        exit(1);
    }
    reader r = {NULL, NULL};
    if (ft_lines_open(path, max_line, &r.lines) != 0) {
        printf("Bail out! cannot open %s\n", path);
        exit(1);
    }
    unlink(path);
    r.csv = ft_csv_new(r.lines, delim);
    return r;
}
#define OPEN(s) open_csv(s, sizeof(s) - 1, ',', 0)

static void close_csv(reader *r) {
    ft_csv_free(r->csv);
    ft_lines_free(r->lines);
}

/* Fields are given as one string with '|' between them (no case below has '|' in a field). */
static int fields_match(const ft_csv_record *rec, const char *want) {
    size_t k = 0;
    const char *p = want;
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (k >= rec->nfields || rec->len[k] != len || memcmp(rec->field[k], p, len) || rec->field[k][len])
            return 0;
        k++;
        if (!bar) break;
        p = bar + 1;
    }
    return k == rec->nfields;
}

static void dump(const ft_csv_record *rec, int rc) {
    printf("#   rc %d, line %llu, %zu fields:", rc, (unsigned long long)rec->lineno, rec->nfields);
    for (size_t i = 0; i < rec->nfields; i++)
        printf(" [%s]", rec->field[i]);
    printf("\n");
}

/* Next record: its fields, its starting line and (when raw is not NULL) its raw bytes. */
static void rec_is(reader *r, const char *fields, uint64_t lineno, const char *raw, const char *name) {
    ft_csv_record rec;
    memset(&rec, 0, sizeof rec);
    int rc = ft_csv_next(r->csv, &rec);
    int good = rc == 1 && fields_match(&rec, fields) && rec.lineno == lineno;
    if (good && raw) good = rec.raw_len == strlen(raw) && !memcmp(rec.raw, raw, rec.raw_len);
    ok(good, "%s", name);
    if (!good) {
        if (rc == 1)
            dump(&rec, rc);
        else
            printf("#   rc %d (%s)\n", rc, rc == FT_EPARSE ? ft_csv_error(r->csv) : ft_strerror(rc));
    }
}

static void end_is(reader *r, const char *name) {
    ft_csv_record rec;
    int rc1 = ft_csv_next(r->csv, &rec), rc2 = ft_csv_next(r->csv, &rec);
    ok(rc1 == 0 && rc2 == 0, "%s: end of input", name);
}

static void test_basic(void) {
    reader r = OPEN("name,age,city\nAlice,30,\"Paris, France\"\n");
    rec_is(&r, "name|age|city", 1, "name,age,city", "header");
    rec_is(&r, "Alice|30|Paris, France", 2, "Alice,30,\"Paris, France\"", "quoted field with a comma");
    end_is(&r, "basic");
    close_csv(&r);

    r = OPEN("\"He said \"\"hi\"\"\",x\n\"\"\"\",\"\"\n");
    rec_is(&r, "He said \"hi\"|x", 1, NULL, "doubled quotes inside a quoted field");
    rec_is(&r, "\"|", 2, NULL, "a field of one quote, and an empty quoted field");
    close_csv(&r);

    r = OPEN("a,,b\n,,\n\"\",x\nlast,\n");
    rec_is(&r, "a||b", 1, NULL, "empty field in the middle");
    rec_is(&r, "||", 2, NULL, "three empty fields");
    rec_is(&r, "|x", 3, NULL, "empty quoted field first");
    rec_is(&r, "last|", 4, NULL, "trailing delimiter: one more empty field");
    end_is(&r, "empty fields");
    close_csv(&r);

    r = OPEN("ab\"c,d\"e\n");
    rec_is(&r, "ab\"c|d\"e", 1, NULL, "a bare quote inside an unquoted field is text");
    close_csv(&r);

    r = OPEN("single\n");
    rec_is(&r, "single", 1, NULL, "one field");
    close_csv(&r);
}

static void test_newlines(void) {
    reader r = OPEN("id,text\n1,\"line one\nline two\n\nline four\"\n2,after\n");
    rec_is(&r, "id|text", 1, NULL, "embedded LF: header");
    rec_is(&r, "1|line one\nline two\n\nline four", 2, "1,\"line one\nline two\n\nline four\"",
           "quoted field with embedded LF and an empty line; raw joins lines with LF");
    rec_is(&r, "2|after", 6, NULL, "record after a multi-line one starts at line 6");
    end_is(&r, "embedded LF");
    close_csv(&r);

    r = OPEN("a,b\r\n\"x\r\ny\",z\r\nc,d\r\n");
    rec_is(&r, "a|b", 1, "a,b\r", "CRLF record: no \\r in the last field, raw keeps it");
    rec_is(&r, "x\r\ny|z", 2, "\"x\r\ny\",z\r", "embedded CRLF inside quotes is kept as data");
    rec_is(&r, "c|d", 4, NULL, "CRLF: next record");
    end_is(&r, "CRLF");
    close_csv(&r);

    r = OPEN("a,b\r\nc,\"d\"\ne,f\r\n\"g\"\r\n");
    rec_is(&r, "a|b", 1, NULL, "mixed line ends: CRLF");
    rec_is(&r, "c|d", 2, NULL, "mixed line ends: LF after a quoted field");
    rec_is(&r, "e|f", 3, NULL, "mixed line ends: CRLF again");
    rec_is(&r, "g", 4, NULL, "quoted field followed by CRLF");
    close_csv(&r);

    r = OPEN("a,b\nc,d");
    rec_is(&r, "a|b", 1, NULL, "no final newline: first record");
    rec_is(&r, "c|d", 2, "c,d", "no final newline: last record");
    end_is(&r, "no final newline");
    close_csv(&r);

    r = OPEN("x,\"multi\nline\"");
    rec_is(&r, "x|multi\nline", 1, NULL, "no final newline after a multi-line quoted field");
    end_is(&r, "no final newline, quoted");
    close_csv(&r);

    r = OPEN("\n\na\n\n\r\n\nb\n\n");
    rec_is(&r, "a", 3, NULL, "blank lines before the first record are skipped");
    rec_is(&r, "b", 7, NULL, "blank and CR-only lines between records are skipped");
    end_is(&r, "blank lines");
    close_csv(&r);
}

static void test_bom(void) {
    reader r = OPEN("\xEF\xBB\xBFh1,h2\nv1,\xEF\xBB\xBFv2\n");
    rec_is(&r, "h1|h2", 1, "h1,h2", "leading BOM is dropped");
    rec_is(&r, "v1|\xEF\xBB\xBFv2", 2, NULL, "a BOM elsewhere is data");
    close_csv(&r);

    r = OPEN("\xEF\xBB\xBF\"q,1\",2\n");
    rec_is(&r, "q,1|2", 1, NULL, "BOM before a quoted field");
    close_csv(&r);

    r = OPEN("\xEF\xBB\xBF\nfirst\n");
    rec_is(&r, "first", 2, NULL, "a line holding only the BOM is blank");
    close_csv(&r);
}

static void test_errors(void) {
    ft_csv_record rec;
    reader r = OPEN("ok,1\n\"open,2\nmore text\n");
    rec_is(&r, "ok|1", 1, NULL, "unterminated: record before");
    int rc = ft_csv_next(r.csv, &rec);
    ok(rc == FT_EPARSE && rec.lineno == 2 && rec.nfields == 0 &&
           strstr(ft_csv_error(r.csv), "unterminated") && rec.raw_len == strlen("\"open,2\nmore text") &&
           !memcmp(rec.raw, "\"open,2\nmore text", rec.raw_len),
       "unterminated quote at EOF: FT_EPARSE, line 2, raw, message '%s'", ft_csv_error(r.csv));
    end_is(&r, "unterminated");
    close_csv(&r);

    r = OPEN("\"a\"b,c\nx,y\n\"p\" ,q\n\"m\nn\"junk\nlast,1\n");
    rc = ft_csv_next(r.csv, &rec);
    ok(rc == FT_EPARSE && rec.lineno == 1 && strstr(ft_csv_error(r.csv), "after a closing quote") &&
           rec.raw_len == 6 && !memcmp(rec.raw, "\"a\"b,c", 6),
       "text after a closing quote: FT_EPARSE, line 1, message '%s'", ft_csv_error(r.csv));
    rec_is(&r, "x|y", 2, NULL, "the next record is read correctly");
    rc = ft_csv_next(r.csv, &rec);
    ok(rc == FT_EPARSE && rec.lineno == 3, "a space after a closing quote is an error too");
    rc = ft_csv_next(r.csv, &rec);
    ok(rc == FT_EPARSE && rec.lineno == 4 && rec.raw_len == 9 && !memcmp(rec.raw, "\"m\nn\"junk", 9),
       "junk after a multi-line quoted field: FT_EPARSE at its first line, raw has both lines");
    rec_is(&r, "last|1", 6, NULL, "after a bad multi-line record, the next one has the right line");
    end_is(&r, "junk after quote");
    close_csv(&r);

    /* an over-long line is the line reader's FT_ETOOBIG; the reader goes on */
    ft_buf b;
    ft_buf_init(&b);
    ft_buf_adds(&b, "a,b\n");
    for (int i = 0; i < 300; i++)
        ft_buf_adds(&b, "x,");
    ft_buf_adds(&b, "\nc,d\n");
    r = open_csv(b.data, b.len, ',', 100);
    rec_is(&r, "a|b", 1, NULL, "too long: record before");
    rc = ft_csv_next(r.csv, &rec);
    ok(rc == FT_ETOOBIG && rec.lineno == 2 && rec.raw_len == 600 && rec.nfields == 0,
       "a line over max_line: FT_ETOOBIG with its line and length");
    rec_is(&r, "c|d", 3, NULL, "too long: next record");
    close_csv(&r);
    ft_buf_release(&b);
}

static void test_tsv_and_wide(void) {
    const char tsv[] = "a\tb c\t\"q\tx\"\nk,v\tw\n";
    reader r = open_csv(tsv, sizeof tsv - 1, '\t', 0);
    rec_is(&r, "a|b c|q\tx", 1, NULL, "TSV: quoted field with a tab");
    rec_is(&r, "k,v|w", 2, NULL, "TSV: a comma is data");
    end_is(&r, "TSV");
    close_csv(&r);

    ft_buf b, want;
    ft_buf_init(&b), ft_buf_init(&want);
    for (int i = 0; i < 100; i++) {
        ft_buf_addf(&b, i % 3 ? "%s%d" : "%s\"f,%d\"", i ? "," : "", i);
        ft_buf_addf(&want, i % 3 ? "%s%d" : "%sf,%d", i ? "|" : "", i);
    }
    ft_buf_adds(&b, "\n1,2\n");
    r = open_csv(b.data, b.len, ',', 0);
    rec_is(&r, want.data, 1, NULL, "100 fields");
    rec_is(&r, "1|2", 2, NULL, "a short record after a wide one");
    close_csv(&r);
    ft_buf_release(&b), ft_buf_release(&want);
}

int main(void) {
    if (tap_tmpdir(g_dir, sizeof g_dir, "csv")) return 1;
    test_basic();
    test_newlines();
    test_bom();
    test_errors();
    test_tsv_and_wide();
    ok(rmdir(g_dir) == 0, "temp directory removed");
    return done_testing();
}
