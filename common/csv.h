/* csv.h: an RFC 4180 CSV reader over ft_lines: quoted fields with embedded newlines and doubled
 * quotes, CRLF/LF mixes, a leading UTF-8 BOM and a missing final newline.
 * Rule: one record at a time; a malformed record is reported with its line and skipped, never fatal. */
#ifndef FT_CSV_H
#define FT_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "lines.h"

typedef struct {
    size_t nfields;
    const char **field;   /* (nfields) borrowed, NUL-terminated, valid until the next call */
    const size_t *len;    /* (nfields) */
    const char *raw;      /* the record's bytes as read (lines joined with '\n'), borrowed */
    size_t raw_len;
    uint64_t lineno;      /* line where the record starts */
} ft_csv_record;

typedef struct ft_csv ft_csv;

/* ft_csv_new: reads from lines (borrowed; the caller frees it after ft_csv_free) with delimiter delim. */
ft_csv *ft_csv_new(ft_lines *lines, char delim);
void ft_csv_free(ft_csv *c);

/* ft_csv_next: 1 and *rec for a record, 0 at end of input, FT_EPARSE for a malformed record (rec->raw
 * and rec->lineno describe it and ft_csv_error names the problem; reading can go on), FT_EIO or
 * FT_ETOOBIG from the line reader (for FT_ETOOBIG, rec->lineno is where the record starts, rec->raw_len
 * its length through the line too long and rec->raw its first bytes, NUL-terminated). Blank lines
 * between records are skipped. */
int ft_csv_next(ft_csv *c, ft_csv_record *rec);
/* A static description of the last FT_EPARSE. */
const char *ft_csv_error(const ft_csv *c);

#endif
