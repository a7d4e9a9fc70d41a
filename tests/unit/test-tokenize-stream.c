/* test-tokenize-stream: the token stream (common/tokstream) round trip, concatenated parts, and the reader
 * against truncation, every flipped byte and hostile headers. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tokstream.h"

static const char *header(const char *hash, unsigned vocab, char *buf, size_t cap) {
    snprintf(buf, cap, "{\"tokenizer\":{\"hash\":\"%s\",\"vocab_size\":%u,\"bos_id\":1,\"eos_id\":2},"
                       "\"template\":{\"name\":\"t\"}}", hash, vocab);
    return buf;
}

/* A stream of nrec records: record k has k % 13 + 1 tokens, ids (k * 7 + i) % vocab, mask on odd i. */
static void make_stream(ft_buf *out, const char *hash, unsigned vocab, int nrec) {
    char h[256];
    header(hash, vocab, h, sizeof h);
    ft_tokstream_put_header(out, h, strlen(h));
    uint32_t ids[16];
    uint8_t mask[16];
    uint64_t tokens = 0, masked = 0;
    for (int k = 0; k < nrec; k++) {
        size_t n = (size_t)(k % 13) + 1;
        for (size_t i = 0; i < n; i++) ids[i] = (uint32_t)((k * 7 + (int)i) % (int)vocab), mask[i] = i & 1;
        ft_tokstream_put_record(out, (uint64_t)k * 3, ids, mask, n);
        tokens += n;
        for (size_t i = 0; i < n; i++) masked += mask[i];
    }
    ft_tokstream_put_trailer(out, (uint64_t)nrec, tokens, masked);
}

/* Reads a whole stream from memory: returns the final code (0 = clean end) and counts records. */
static int read_all(const char *data, size_t len, uint64_t *nrec, int check_content) {
    FILE *f = fmemopen((void *)data, len ? len : 1, "rb");
    if (!len) {
        fclose(f);
        f = fopen("/dev/null", "rb");
    }
    ft_tokstream_reader *r;
    int rc = ft_tokstream_open(f, &r, NULL);
    *nrec = 0;
    if (rc < 0) {
        fclose(f);
        return rc;
    }
    ft_tokrec rec;
    int bad = 0;
    while ((rc = ft_tokstream_next(r, &rec)) > 0) {
        if (check_content) {
            int k = (int)(*nrec % 50);
            bad |= rec.index != (uint64_t)k * 3 || rec.n != (size_t)(k % 13) + 1;
            for (size_t i = 0; i < rec.n && !bad; i++) bad |= rec.ids[i] != (uint32_t)((k * 7 + (int)i) % 1000) || rec.mask[i] != (i & 1);
        }
        (*nrec)++;
    }
    ft_tokstream_close(r);
    fclose(f);
    return bad ? -100 : rc;
}

int main(void) {
    ft_buf s;
    ft_buf_init(&s);
    make_stream(&s, "00000000deadbeef", 1000, 50);
    uint64_t n;
    is_int(read_all(s.data, s.len, &n, 1), 0, "round trip: clean end, ids, masks and indices as written");
    is_int(n, 50, "round trip: 50 records");

    FILE *f = fmemopen(s.data, s.len, "rb");
    ft_tokstream_reader *r;
    ft_buf why;
    ft_buf_init(&why);
    if (ok(ft_tokstream_open(f, &r, &why) == 0, "open")) {
        const ft_tokstream_info *in = ft_tokstream_info_of(r);
        is_str(in->hash, "00000000deadbeef", "header: tokenizer hash");
        is_int(in->vocab_size, 1000, "header: vocab size");
        is_int(in->eos_id, 2, "header: eos id");
        is_int(in->unk_id, -1, "header: absent unk id is -1");
        is_str(in->template_name, "t", "header: template name");
        ok(strstr(in->json, "\"template\"") != NULL, "header: the JSON is kept");
        ft_tokstream_close(r);
    }
    fclose(f);

    /* Two parts with the same tokenizer read as one stream; another tokenizer is refused. */
    ft_buf two;
    ft_buf_init(&two);
    make_stream(&two, "00000000deadbeef", 1000, 50);
    make_stream(&two, "00000000deadbeef", 1000, 50);
    is_int(read_all(two.data, two.len, &n, 1), 0, "cat a b: clean end");
    is_int(n, 100, "cat a b: 100 records");
    make_stream(&two, "0000000012345678", 1000, 5);
    is_int(read_all(two.data, two.len, &n, 0), FT_EFORMAT, "a part with another tokenizer is FT_EFORMAT");

    /* Every truncation is an error, never a crash or a clean end. */
    int all_err = 1;
    for (size_t len = 0; len < s.len; len++) {
        int rc = read_all(s.data, len, &n, 0);
        if (rc >= 0) all_err = 0, printf("# truncated at %zu read cleanly\n", len);
    }
    ok(all_err, "every truncation of the stream is reported");

    /* Every flipped bit of every byte is caught (checksums, magic, padding, counts). */
    int all_caught = 1;
    for (size_t i = 0; i < s.len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            s.data[i] ^= (char)(1 << bit);
            int rc = read_all(s.data, s.len, &n, 1);
            s.data[i] ^= (char)(1 << bit);
            if (rc == 0) all_caught = 0, printf("# flip of bit %d at %zu read cleanly\n", bit, i);
        }
    }
    ok(all_caught, "every flipped byte is detected");

    /* Data after the trailer that is not another stream. */
    ft_buf_add(&s, "junkjunk", 8);
    is_int(read_all(s.data, s.len, &n, 0), FT_EPARSE, "junk after the trailer is FT_EPARSE");

    /* An id outside the header's vocabulary is FT_ERANGE. */
    ft_buf big;
    ft_buf_init(&big);
    char h[256];
    header("00000000deadbeef", 10, h, sizeof h);
    ft_tokstream_put_header(&big, h, strlen(h));
    uint32_t ids[2] = {3, 10};
    uint8_t mask[2] = {0, 1};
    ft_tokstream_put_record(&big, 0, ids, mask, 2);
    ft_tokstream_put_trailer(&big, 1, 2, 1);
    is_int(read_all(big.data, big.len, &n, 0), FT_ERANGE, "an id >= vocab_size is FT_ERANGE");

    /* A header without the tokenizer, and a hostile header length. */
    ft_buf_clear(&big);
    ft_tokstream_put_header(&big, "{}", 2);
    is_int(read_all(big.data, big.len, &n, 0), FT_EFORMAT, "a header without tokenizer.hash is FT_EFORMAT");
    ft_buf_clear(&big);
    ft_buf_add(&big, "FTTOKSTR\1\0\0\0\xff\xff\xff\x7f", 16);
    is_int(read_all(big.data, big.len, &n, 0), FT_EFORMAT, "a 2 GB header length is refused before reading");
    is_int(read_all("hello world, not a stream", 25, &n, 0), FT_EFORMAT, "other data is not a token stream");
    is_int(read_all("", 0, &n, 0), FT_EEOF, "empty input is FT_EEOF");
    /* A record that claims 2^28 tokens but ends: no giant allocation, a truncation error. */
    ft_buf_clear(&big);
    ft_tokstream_put_header(&big, h, strlen(h));
    ft_buf_add(&big, "REC1\0\0\0\x10\0\0\0\0\0\0\0\0", 16);
    is_int(read_all(big.data, big.len, &n, 0), FT_EEOF, "a record longer than the data is FT_EEOF");

    ft_buf_release(&s), ft_buf_release(&two), ft_buf_release(&big), ft_buf_release(&why);
    return done_testing();
}
