/* zip.h: a read-only view of a ZIP archive in memory whose entries are stored (not compressed), the container
 * of PyTorch's torch.save files; ZIP64 included (checkpoints over 4 GiB).
 * Rule: the central directory is the truth; every offset and size is checked against the bytes before an entry
 * is handed out, and compressed or encrypted entries are refused, never decoded. */
#ifndef FT_ZIP_H
#define FT_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "ft.h"

typedef struct {
    const char *name;          /* NUL-terminated, owned by the ft_zip */
    const unsigned char *data; /* size bytes inside the archive (borrowed from its bytes) */
    uint64_t size;
    uint32_t crc32;            /* as recorded in the central directory */
} ft_zip_entry;

typedef struct ft_zip ft_zip;

/* ft_zip_parse: reads the directory of the archive data[0..size) (borrowed: must outlive *out). Returns 0
 * and a heap object (free with ft_zip_free), or FT_EPARSE/FT_EFORMAT/FT_EEOF/FT_ERANGE/FT_ENOMEM with a
 * one-line reason appended to why (when not NULL); *out is NULL on failure. Refused: no end-of-central-
 * directory record, several disks, entries outside the archive or overlapping the directory, names that
 * differ between the local and central headers or appear twice, compression methods other than 0 (stored),
 * encryption. */
int ft_zip_parse(const void *data, size_t size, ft_zip **out, ft_buf *why);
void ft_zip_free(ft_zip *z);

size_t ft_zip_count(const ft_zip *z);
/* Entry i (0 <= i < count) in bytewise name order; owned by z. */
const ft_zip_entry *ft_zip_at(const ft_zip *z, size_t i);
/* The entry called name, or NULL. */
const ft_zip_entry *ft_zip_find(const ft_zip *z, const char *name);

/* The CRC-32 (ZIP/PNG polynomial) of p[0..n) continuing from crc (0 to start). */
uint32_t ft_crc32(uint32_t crc, const void *p, size_t n);
/* 1 when the entry's bytes match its recorded CRC-32. */
int ft_zip_crc_ok(const ft_zip_entry *e);

#endif
