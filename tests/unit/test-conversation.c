/* test-conversation.c: common/conversation.h and json.h: Firefly records read and written back with the
 * fixed key order, unknown keys carried through, string escaping, format errors, JSON error offsets.
 * Rule: expected output lines are written out byte for byte in the test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conversation.h"
#include "ft.h"
#include "json.h"
#include "tap.h"

/* Parses in, converts and writes; returns the output line (malloc'ed) or NULL with *rc and *why set. */
static char *convert(const char *in, int *rc, const char **why) {
    cJSON *v = NULL;
    size_t off = 0;
    *why = NULL;
    *rc = ft_json_parse(in, strlen(in), &v, &off);
    if (*rc) return NULL;
    ft_conv c;
    ft_conv_init(&c);
    *rc = ft_conv_from_json(v, &c, why);
    char *line = NULL;
    if (*rc == 0) {
        ft_buf b;
        ft_buf_init(&b);
        ft_conv_write_jsonl(&c, &b);
        line = b.data;
    } else if (c.nturns || c.id || c.extra || c.category || c.system) {
        *why = "the record was partly filled on error";
    }
    ft_conv_release(&c);
    cJSON_Delete(v);
    return line;
}

static void conv_is(const char *in, const char *want, const char *name) {
    int rc;
    const char *why;
    char *got = convert(in, &rc, &why);
    if (rc) printf("#   rc %d: %s\n", rc, why ? why : "");
    is_str(got, want, "%s", name);
    /* the output reads back to itself */
    if (got) {
        size_t n = strlen(got);
        got[n - 1] = 0;
        char *again = convert(got, &rc, &why);
        got[n - 1] = '\n';
        is_str(again, want, "%s: output is a fixed point", name);
        free(again);
    }
    free(got);
}

static void conv_err(const char *in, const char *want_why, const char *name) {
    int rc;
    const char *why;
    char *got = convert(in, &rc, &why);
    ok(!got && rc == FT_EFORMAT && why && !strcmp(why, want_why), "error: %s -> '%s'", name, want_why);
    if (got || rc != FT_EFORMAT || !why || strcmp(why, want_why))
        printf("#   rc %d, why '%s'\n", rc, why ? why : "");
    free(got);
}

static void test_roundtrip(void) {
    conv_is("{\"conversation\":[{\"human\":\"hi\",\"assistant\":\"hello\"}]}",
            "{\"conversation\":[{\"human\":\"hi\",\"assistant\":\"hello\"}]}\n", "minimal record");
    conv_is("{ \"extra_b\": {\"n\": [1, -2.5, 3e2, {\"deep\": null}], \"t\": true},\n"
            "  \"conversation\": [{\"assistant\": \"A1\", \"human\": \"H1\", \"turn_meta\": 1},\n"
            "                   {\"human\": \"H2\", \"assistant\": \"A2\"}],\n"
            "  \"system\": \"S\", \"num\": 42, \"category\": \"Brainstorming\", \"conversation_id\": 17,\n"
            "  \"arr\": [\"x\", 0.125], \"flag\": false, \"nothing\": null }",
            "{\"conversation_id\":17,\"category\":\"Brainstorming\",\"system\":\"S\",\"conversation\":["
            "{\"human\":\"H1\",\"assistant\":\"A1\"},{\"human\":\"H2\",\"assistant\":\"A2\"}],"
            "\"extra_b\":{\"n\":[1,-2.5,300,{\"deep\":null}],\"t\":true},\"num\":42,\"arr\":[\"x\",0.125],"
            "\"flag\":false,\"nothing\":null}\n",
            "key order: id, category, system, conversation, then extras in input order");
    conv_is("{\"conversation_id\":\"abc-1\",\"conversation\":[]}",
            "{\"conversation_id\":\"abc-1\",\"conversation\":[]}\n", "string id, empty conversation");
    conv_is("{\"conversation_id\":null,\"system\":\"s\",\"conversation\":[]}",
            "{\"conversation_id\":null,\"system\":\"s\",\"conversation\":[]}\n",
            "null id, system without category");
    /* a category or system that is not a string is not interpreted: it stays an extra key, in place */
    conv_is(
        "{\"category\":5,\"a\":1,\"system\":null,\"conversation\":[{\"human\":\"h\",\"assistant\":\"a\"}]}",
        "{\"conversation\":[{\"human\":\"h\",\"assistant\":\"a\"}],\"category\":5,\"a\":1,\"system\":null}\n",
        "non-string category and system stay as extra keys");
    conv_is("{\"category\":\"c\",\"a\":1,\"system\":[1],\"conversation\":[]}",
            "{\"category\":\"c\",\"conversation\":[],\"a\":1,\"system\":[1]}\n",
            "string category, non-string system");
    conv_is("{\"conversation\":[],\"k\":1,\"k\":2}", "{\"conversation\":[],\"k\":1}\n",
            "a duplicate extra key keeps its first value");
}

static void test_escaping(void) {
    conv_is("{\"conversation\":[{\"human\":\"q\\\"uote\\\\back/"
            "slash\",\"assistant\":\"\\b\\f\\n\\r\\t\\u0001\\u001f\"}]}",
            "{\"conversation\":[{\"human\":\"q\\\"uote\\\\back/"
            "slash\",\"assistant\":\"\\b\\f\\n\\r\\t\\u0001\\u001f\"}]}\n",
            "quotes, backslashes and control characters are escaped");
    conv_is("{\"conversation\":[{\"human\":\"\\u00e9\\u4e2d\\ud83d\\ude00\",\"assistant\":"
            "\"\xC3\xA9\xE4\xB8\xAD\"}]}",
            "{\"conversation\":[{\"human\":\"\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80\",\"assistant\":"
            "\"\xC3\xA9\xE4\xB8\xAD\"}]}\n",
            "non-ASCII is written raw, \\u escapes (and surrogate pairs) become UTF-8");
    conv_is("{\"conversation\":[],\"k\\\"ey\":\"v\\n\\u0002\"}",
            "{\"conversation\":[],\"k\\\"ey\":\"v\\n\\u0002\"}\n",
            "extra keys and string values are escaped the same way");

    ft_buf b;
    ft_buf_init(&b);
    ft_json_put_string(&b, "a\0b\x7f\x1f\xFF", 6);
    ok(b.len == 18 && !memcmp(b.data, "\"a\\u0000b\x7f\\u001f\xFF\"", 18),
       "put_string: NUL escaped, DEL and bytes >= 0x80 copied as they are");
    ft_buf_clear(&b);
    ft_json_put_string(&b, "", 0);
    is_str(b.data, "\"\"", "put_string: empty");
    ft_buf_clear(&b);
    for (int c = 0; c < 0x20; c++) {
        char ch = (char)c;
        ft_json_put_string(&b, &ch, 1);
    }
    cJSON *v = NULL;
    size_t off;
    ft_buf wrapped;
    ft_buf_init(&wrapped);
    ft_buf_addc(&wrapped, '[');
    for (size_t i = 0; i < b.len; i++) {
        ft_buf_addc(&wrapped, b.data[i]);
        if (b.data[i] == '"' && i + 1 < b.len && b.data[i + 1] == '"') ft_buf_addc(&wrapped, ',');
    }
    ft_buf_addc(&wrapped, ']');
    int good = ft_json_parse(wrapped.data, wrapped.len, &v, &off) == 0 && cJSON_GetArraySize(v) == 32;
    for (int c = 1; good && c < 0x20; c++) {
        const cJSON *s = cJSON_GetArrayItem(v, c);
        good = cJSON_IsString(s) && (unsigned char)s->valuestring[0] == c && !s->valuestring[1];
    }
    ok(good, "put_string: all 32 control characters escape to JSON that reads back");
    cJSON_Delete(v);
    ft_buf_release(&wrapped);
    ft_buf_release(&b);
}

static void test_errors(void) {
    conv_err("[1,2]", "record is not a JSON object", "array record");
    conv_err("{\"conversations\":[]}", "'conversation' is not an array", "no conversation");
    conv_err("{\"conversation\":{\"human\":\"h\",\"assistant\":\"a\"}}", "'conversation' is not an array",
             "conversation is an object");
    conv_err("{\"conversation\":\"text\"}", "'conversation' is not an array", "conversation is a string");
    conv_err("{\"conversation\":[\"hi\"]}", "a turn is not an object", "turn is a string");
    conv_err("{\"conversation\":[[\"h\",\"a\"]]}", "a turn is not an object", "turn is an array");
    conv_err("{\"conversation\":[{\"assistant\":\"a\"}]}", "a turn has no string 'human'",
             "turn missing human");
    conv_err("{\"conversation\":[{\"human\":\"h\",\"assistant\":\"a\"},{\"human\":\"h\",\"assistant\":3}]}",
             "a turn has no string 'assistant'", "second turn's assistant is a number");
    conv_err("{\"conversation_id\":1,\"conversation\":[{\"human\":null,\"assistant\":\"a\"}]}",
             "a turn has no string 'human'", "human is null");

    ft_conv c;
    ft_conv_init(&c);
    cJSON *v = cJSON_Parse("{\"conversation_id\":9,\"conversation\":[{\"human\":\"h\"}]}");
    const char *why = NULL;
    int rc = ft_conv_from_json(v, &c, &why);
    ok(rc == FT_EFORMAT && cJSON_GetObjectItem(v, "conversation_id") && c.id == NULL && c.nturns == 0,
       "on error nothing is taken from the object");
    ft_conv_release(&c);
    cJSON_Delete(v);
}

static void test_api(void) {
    ft_conv c;
    ft_conv_init(&c);
    ft_conv_add_turn(&c, "h\0x", 3, "a", 1);
    ft_conv_set_text(&c.category, &c.category_len, "cat", 3);
    char *sys = malloc(4);
    memcpy(sys, "sys", 4);
    ft_conv_take_text(&c.system, &c.system_len, sys, 3);
    c.id = cJSON_CreateNumber(5);
    ft_buf b;
    ft_buf_init(&b);
    ft_conv_write_jsonl(&c, &b);
    is_str(b.data,
           "{\"conversation_id\":5,\"category\":\"cat\",\"system\":\"sys\",\"conversation\":"
           "[{\"human\":\"h\\u0000x\",\"assistant\":\"a\"}]}\n",
           "built with the API; lengths (not NUL) bound the texts");
    ft_conv_set_text(&c.system, &c.system_len, NULL, 0);
    ft_buf_clear(&b);
    ft_conv_write_jsonl(&c, &b);
    ok(c.system == NULL && c.system_len == 0 && !strstr(b.data, "system"), "set_text(NULL) clears a text");
    for (int i = 0; i < 20; i++)
        ft_conv_add_turn(&c, "q", 1, "r", 1);
    ok(c.nturns == 21 && !strcmp(c.turns[20].text[FT_ASSISTANT], "r"),
       "turns grow past the first allocation");
    ft_conv_release(&c);
    ok(c.nturns == 0 && c.turns == NULL && c.id == NULL, "release leaves an empty record");
    ft_buf_release(&b);

    cJSON *o = cJSON_Parse("{\"s\":\"x\",\"n\":1,\"z\":null}");
    ok(ft_json_str(o, "s") && !strcmp(ft_json_str(o, "s"), "x") && !ft_json_str(o, "n") &&
           !ft_json_str(o, "z") && !ft_json_str(o, "missing"),
       "ft_json_str: strings only");
    cJSON_Delete(o);
}

static void parse_err(const char *s, size_t want_off, const char *name) {
    cJSON *v = (cJSON *)&v; /* must not be touched on error */
    size_t off = 12345;
    int rc = ft_json_parse(s, strlen(s), &v, &off);
    ok(rc == FT_EPARSE && off == want_off && v == (cJSON *)&v, "json error: %s at byte %zu", name, want_off);
    if (rc != FT_EPARSE || off != want_off) printf("#   rc %d, offset %zu\n", rc, off);
}

static void test_json_parse(void) {
    cJSON *v = NULL;
    size_t off;
    const char *s = " \t{\"a\": [1, 2]}\r\n ";
    ok(ft_json_parse(s, strlen(s), &v, &off) == 0 && cJSON_IsObject(v),
       "json: surrounding whitespace allowed");
    cJSON_Delete(v);
    s = "{\"a\":1}garbage";
    ok(ft_json_parse(s, 7, &v, &off) == 0, "json: only n bytes are read");
    cJSON_Delete(v);
    s = "\"text\"";
    ok(ft_json_parse(s, strlen(s), &v, &off) == 0 && cJSON_IsString(v), "json: a scalar value");
    cJSON_Delete(v);

    parse_err("{\"a\":1} x", 8, "trailing junk");
    parse_err("{\"a\":1}}", 7, "a second closing brace");
    parse_err("[1] [2]", 4, "two values");
    /* truncated input reports n, whatever the parser was in the middle of */
    parse_err("{\"a\":1", 6, "truncated after a number");
    parse_err("{\"a\":", 5, "truncated after a colon");
    parse_err("[1,2", 4, "truncated array");
    parse_err("{\"conversation\":[{\"human\":\"unterminated", 39, "truncated inside a string");
    parse_err("{\"a\":\"x\\", 8, "truncated inside an escape");
    parse_err("{\"a\":\"\\u12", 10, "truncated inside a \\u escape");
    parse_err("{\"a\":tr", 7, "truncated literal");
    parse_err("{\"a\":1.", 7, "truncated fraction");
    parse_err("  ", 2, "only whitespace");
    parse_err("", 0, "empty input");
    /* syntax errors report where they are */
    parse_err("[1,]", 3, "missing value");
    parse_err("{\"a\" 1}", 5, "missing colon");
    parse_err("{\"a\":trux}", 8, "bad literal");
    parse_err("{\"a\":1,}", 7, "trailing comma in an object");
    parse_err("{a:1}", 1, "unquoted key");
    parse_err("[\"\\x\"]", 3, "bad escape");

    /* every proper prefix of a record that does not parse is reported as truncated: offset = its length */
    const char *doc = "{\"conversation_id\": -12.5e+3, \"conversation\": [{\"human\": \"a\\\"b\\u00e9\\n\", "
                      "\"assistant\": \"\xE4\xB8\xAD\"}], \"x\": [true, false, null, {}, [], 0, \"\"]}";
    size_t n = strlen(doc), bad = 0;
    for (size_t k = 0; k < n; k++) {
        v = NULL;
        off = 12345;
        int rc = ft_json_parse(doc, k, &v, &off);
        if (rc == 0) cJSON_Delete(v);
        if ((rc == 0 || off != k) && bad++ < 3)
            printf("#   prefix of %zu bytes: rc %d, offset %zu\n", k, rc, off);
    }
    is_int(bad, 0, "json: all %zu proper prefixes of a record fail with offset = their length", n);
}

int main(void) {
    test_roundtrip();
    test_escaping();
    test_errors();
    test_api();
    test_json_parse();
    return done_testing();
}
