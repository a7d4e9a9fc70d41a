/* zip.c: central-directory reader for stored ZIP/ZIP64 archives.
 * Rule: every little-endian field is read through rd16/rd32/rd64 after a bounds check of the record. */
#include "zip.h"

#include <stdlib.h>
#include <string.h>

struct ft_zip {
    ft_zip_entry *entries; /* (count) sorted by name */
    size_t count;
    char *names; /* all names, NUL-terminated, one allocation */
};

static uint16_t rd16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const unsigned char *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

enum {
    SIG_LOCAL = 0x04034b50,
    SIG_CENTRAL = 0x02014b50,
    SIG_EOCD = 0x06054b50,
    SIG_EOCD64 = 0x06064b50,
    SIG_LOC64 = 0x07064b50,
};

uint32_t ft_crc32(uint32_t crc, const void *p, size_t n) {
    static uint32_t table[256];
    static int ready;
    if (!ready) { /* idempotent: racing threads compute the same values */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    const unsigned char *b = p;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) crc = table[(crc ^ b[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

int ft_zip_crc_ok(const ft_zip_entry *e) { return ft_crc32(0, e->data, (size_t)e->size) == e->crc32; }

static int by_name(const void *a, const void *b) {
    return strcmp(((const ft_zip_entry *)a)->name, ((const ft_zip_entry *)b)->name);
}

/* Finds the end-of-central-directory record: the last signature whose comment ends exactly at the end. */
static int find_eocd(const unsigned char *d, size_t size, size_t *at) {
    if (size < 22) return 0;
    size_t lo = size - 22 > 65535 ? size - 22 - 65535 : 0;
    for (size_t i = size - 22 + 1; i-- > lo;)
        if (rd32(d + i) == SIG_EOCD && i + 22 + rd16(d + i + 20) == size) {
            *at = i;
            return 1;
        }
    return 0;
}

/* Reads the ZIP64 extended-information extra field into the fields that were saturated. */
static int zip64_extra(const unsigned char *ex, size_t len, uint64_t *usize, uint64_t *csize, uint64_t *off,
                       int need_u, int need_c, int need_o) {
    for (size_t i = 0; i + 4 <= len;) {
        uint16_t id = rd16(ex + i), n = rd16(ex + i + 2);
        if (i + 4 + n > len) return 0;
        if (id == 1) {
            const unsigned char *p = ex + i + 4;
            size_t need = 8u * (size_t)(need_u + need_c + need_o);
            if (n < need) return 0;
            if (need_u) *usize = rd64(p), p += 8;
            if (need_c) *csize = rd64(p), p += 8;
            if (need_o) *off = rd64(p);
            return 1;
        }
        i += 4 + (size_t)n;
    }
    return !(need_u || need_c || need_o);
}

static int parse(ft_zip *z, const unsigned char *d, size_t size, ft_buf *why) {
    size_t eocd;
    if (!find_eocd(d, size, &eocd)) return ft_fail(why, FT_EFORMAT, "not a zip archive (no end of central directory)");
    uint64_t n_entries = rd16(d + eocd + 10), cd_size = rd32(d + eocd + 12), cd_off = rd32(d + eocd + 16);
    if (rd16(d + eocd + 4) != 0 || rd16(d + eocd + 6) != 0 || rd16(d + eocd + 8) != rd16(d + eocd + 10))
        return ft_fail(why, FT_EFORMAT, "multi-disk zip archives are not supported");
    uint64_t cd_end_limit = eocd;
    if (eocd >= 20 && rd32(d + eocd - 20) == SIG_LOC64) {
        const unsigned char *loc = d + eocd - 20;
        uint64_t off64 = rd64(loc + 8);
        if (rd32(loc + 4) != 0 || rd32(loc + 16) > 1)
            return ft_fail(why, FT_EFORMAT, "multi-disk zip archives are not supported");
        if (off64 > eocd - 20 || eocd - 20 - off64 < 56 || rd32(d + off64) != SIG_EOCD64)
            return ft_fail(why, FT_EPARSE, "zip64 end of central directory record is missing or out of bounds");
        const unsigned char *e64 = d + off64;
        if (rd32(e64 + 16) != 0 || rd32(e64 + 20) != 0 || rd64(e64 + 24) != rd64(e64 + 32))
            return ft_fail(why, FT_EFORMAT, "multi-disk zip archives are not supported");
        n_entries = rd64(e64 + 32), cd_size = rd64(e64 + 40), cd_off = rd64(e64 + 48);
        cd_end_limit = off64;
    }
    if (cd_off > cd_end_limit || cd_size > cd_end_limit - cd_off)
        return ft_fail(why, FT_EPARSE, "central directory (offset %llu, %llu bytes) is outside the archive",
                       (unsigned long long)cd_off, (unsigned long long)cd_size);
    if (n_entries > cd_size / 46)
        return ft_fail(why, FT_EPARSE, "%llu entries cannot fit in a %llu-byte central directory",
                       (unsigned long long)n_entries, (unsigned long long)cd_size);
    z->entries = calloc(n_entries ? n_entries : 1, sizeof *z->entries);
    z->names = malloc(cd_size + 1);
    if (!z->entries || !z->names) return ft_fail(why, FT_ENOMEM, "out of memory");
    size_t at = (size_t)cd_off, end = (size_t)(cd_off + cd_size), names_len = 0;
    for (uint64_t k = 0; k < n_entries; k++) {
        const unsigned char *c = d + at;
        if (end - at < 46 || rd32(c) != SIG_CENTRAL)
            return ft_fail(why, FT_EPARSE, "central directory entry %llu is malformed", (unsigned long long)k);
        uint16_t flags = rd16(c + 8), method = rd16(c + 10), nlen = rd16(c + 28), xlen = rd16(c + 30),
                 clen = rd16(c + 32);
        uint64_t csize = rd32(c + 20), usize = rd32(c + 24), off = rd32(c + 42);
        if (end - at - 46 < (size_t)nlen + xlen + clen)
            return ft_fail(why, FT_EPARSE, "central directory entry %llu overruns the directory", (unsigned long long)k);
        const char *name = (const char *)c + 46;
        if (nlen == 0 || memchr(name, 0, nlen))
            return ft_fail(why, FT_EPARSE, "central directory entry %llu has an empty or invalid name", (unsigned long long)k);
        if (!zip64_extra(c + 46 + nlen, xlen, &usize, &csize, &off, usize == 0xffffffffu, csize == 0xffffffffu,
                         off == 0xffffffffu))
            return ft_fail(why, FT_EPARSE, "entry '%.*s': malformed zip64 extra field", (int)nlen, name);
        if (flags & 1) return ft_fail(why, FT_EFORMAT, "entry '%.*s' is encrypted", (int)nlen, name);
        if (method != 0)
            return ft_fail(why, FT_EFORMAT, "entry '%.*s' is compressed (method %u); only stored entries are read",
                           (int)nlen, name, method);
        if (csize != usize)
            return ft_fail(why, FT_EPARSE, "entry '%.*s': stored size %llu differs from its size %llu", (int)nlen,
                           name, (unsigned long long)csize, (unsigned long long)usize);
        if (off > cd_off || cd_off - off < 30 || rd32(d + off) != SIG_LOCAL)
            return ft_fail(why, FT_EPARSE, "entry '%.*s': local header missing or out of bounds", (int)nlen, name);
        const unsigned char *l = d + off;
        uint64_t data_off = off + 30 + rd16(l + 26) + rd16(l + 28);
        if (data_off > cd_off || rd16(l + 26) != nlen || memcmp(l + 30, name, nlen) != 0)
            return ft_fail(why, FT_EPARSE, "entry '%.*s': local header does not match the central directory",
                           (int)nlen, name);
        if (rd16(l + 8) != method)
            return ft_fail(why, FT_EPARSE, "entry '%.*s': compression method differs between headers", (int)nlen, name);
        if (usize > cd_off - data_off)
            return ft_fail(why, FT_EPARSE, "entry '%.*s': %llu bytes at offset %llu run past the entries", (int)nlen,
                           name, (unsigned long long)usize, (unsigned long long)data_off);
        ft_zip_entry *e = &z->entries[k];
        memcpy(z->names + names_len, name, nlen);
        e->name = (const char *)(uintptr_t)names_len; /* fixed up below, once names is complete */
        z->names[names_len + nlen] = 0;
        names_len += (size_t)nlen + 1;
        e->data = d + data_off;
        e->size = usize;
        e->crc32 = rd32(c + 16);
        z->count++;
        at += 46 + (size_t)nlen + xlen + clen;
    }
    for (size_t i = 0; i < z->count; i++) z->entries[i].name = z->names + (uintptr_t)z->entries[i].name;
    qsort(z->entries, z->count, sizeof *z->entries, by_name);
    for (size_t i = 1; i < z->count; i++)
        if (!strcmp(z->entries[i - 1].name, z->entries[i].name))
            return ft_fail(why, FT_EPARSE, "entry '%s' appears twice", z->entries[i].name);
    return 0;
}

int ft_zip_parse(const void *data, size_t size, ft_zip **out, ft_buf *why) {
    *out = NULL;
    ft_zip *z = calloc(1, sizeof *z);
    if (!z) return ft_fail(why, FT_ENOMEM, "out of memory");
    int rc = parse(z, data, size, why);
    if (rc) {
        ft_zip_free(z);
        return rc;
    }
    *out = z;
    return 0;
}

void ft_zip_free(ft_zip *z) {
    if (!z) return;
    free(z->entries);
    free(z->names);
    free(z);
}

size_t ft_zip_count(const ft_zip *z) { return z->count; }
const ft_zip_entry *ft_zip_at(const ft_zip *z, size_t i) { return i < z->count ? &z->entries[i] : NULL; }
const ft_zip_entry *ft_zip_find(const ft_zip *z, const char *name) {
    ft_zip_entry key = {.name = name};
    return bsearch(&key, z->entries, z->count, sizeof key, by_name);
}
