/* test-clean-text.c: ft-clean's modules through clean.h: text normalization, PII masking, the quality
 * filters and whole records (MOSS, Firefly, ShareGPT, Alpaca, CSV rows) with their reasons and output lines.
 * Rule: each case states the exact output and the exact fix counters, so a changed step shows up here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clean.h"
#include "ft.h"
#include "tap.h"

static clean_opts g_opts;
static clean_ctx *g_ctx;

/* The nonzero fix counters as "name=N name=N" (static buffer). */
static const char *fixes_str(const uint32_t *fixes) {
    static char buf[256];
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < F_COUNT; i++)
        if (fixes[i])
            k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%s=%u", k ? " " : "", clean_fix_name(i),
                                  fixes[i]);
    return buf;
}

static void text_is(const char *in, const char *want, const char *want_fixes, const char *name) {
    ft_buf b;
    ft_buf_init(&b);
    ft_buf_adds(&b, "#");
    uint32_t fixes[F_COUNT] = {0};
    clean_text(g_ctx, in, strlen(in), &b, fixes);
    const char *got = b.data + 1, *fx = fixes_str(fixes);
    int good = !strcmp(got, want) && !strcmp(fx, want_fixes);
    ok(good, "text: %s", name);
    if (!good) printf("#   got  '%s' [%s]\n#   want '%s' [%s]\n", got, fx, want, want_fixes);
    ft_buf_release(&b);
}

static void test_normalize(void) {
    text_is("<|Human|>: hi<eoh>\n", "hi", "markers-removed=2 whitespace=1",
            "MOSS markers and the newline after them");
    text_is("<|MOSS|>: Sure.<eom>", "Sure.", "markers-removed=2", "MOSS reply markers");
    text_is("<|Inner Thoughts|>:None<eot>", "None", "markers-removed=2", "marker with a colon and no space");
    text_is("a <eo<eoh>h> b", "a  b", "markers-removed=2", "a marker hidden inside another is removed too");
    text_is("x<eohh>y <b>z</b>", "x<eohh>y <b>z</b>", "", "look-alikes and HTML are kept");
    text_is("plain text", "plain text", "", "clean text is untouched, no fixes");

    text_is("a\xE2\x80\x8B"
            "b\xE2\x80\x8D"
            "c\xE2\x80\x8C"
            "d",
            "ab\xE2\x80\x8D"
            "c\xE2\x80\x8C"
            "d",
            "controls-removed=1", "zero width space removed, ZWJ and ZWNJ kept");
    text_is("\xEF\xBB\xBFx\x01y\x7Fz\xC2\x85w\xC2\xAD!", "xyzw!", "controls-removed=1",
            "BOM, C0, DEL, C1 and soft hyphen removed");
    text_is("tab\there", "tab\there", "", "tab kept");
    text_is("l1\r\nl2\rl3\xE2\x80\xA8l4", "l1\nl2\nl3\nl4", "controls-removed=1",
            "CRLF, CR and U+2028 become LF");

    text_is("\xE3\x80\x80 hi\xC2\xA0\t\xE3\x80\x80\n", "hi", "whitespace=1",
            "trim includes U+3000 and U+00A0");
    text_is("a\n\n\n\nb", "a\n\nb", "whitespace=1", "a run of blank lines becomes one empty line");
    text_is("a\n \t\n\xE3\x80\x80\nb", "a\n\nb", "whitespace=1", "whitespace-only lines count as blank");
    text_is("a\n\nb", "a\n\nb", "", "a single blank line is untouched");
    text_is("a\n  \nb", "a\n  \nb", "", "a single whitespace-only line is untouched");
    text_is("x\n```\na\n\n\n\nb\n```\ny\n\n\nz", "x\n```\na\n\n\n\nb\n```\ny\n\nz", "whitespace=1",
            "blank lines inside a code fence are untouched, outside collapsed");
    text_is("~~~\na\n\n\nb", "~~~\na\n\n\nb", "", "an unclosed ~~~ fence protects the rest");

    text_is("caf\x65\xCC\x81", "caf\xC3\xA9", "nfc=1", "NFC composes e + U+0301");
    text_is("\xE2\x84\xAB", "\xC3\x85", "nfc=1", "NFC maps U+212B to U+00C5");

    g_opts.halfwidth = 1;
    text_is("\xEF\xBC\xA1\xEF\xBC\x8C\xE3\x80\x80\xEF\xBD\x9A\n```\n\xEF\xBC\xA1\n```\n\xEF\xBC\x81",
            "A, z\n```\n\xEF\xBC\xA1\n```\n!", "halfwidth=1", "--halfwidth converts outside code only");
    text_is("\xE4\xB8\xAD\xE6\x96\x87\xE3\x80\x82", "\xE4\xB8\xAD\xE6\x96\x87\xE3\x80\x82", "",
            "--halfwidth keeps CJK text and the ideographic full stop");
    text_is("hi\xEF\xBC\x9C"
            "eoh\xEF\xBC\x9E",
            "hi", "markers-removed=1 halfwidth=1",
            "--halfwidth runs before marker stripping (a full-width marker is removed)");
    g_opts.halfwidth = 0;
    text_is("\xEF\xBC\xA1", "\xEF\xBC\xA1", "", "without --halfwidth full-width forms stay");
}

static void pii_is(const char *in, const char *want, size_t want_k, const char *name) {
    ft_buf b;
    ft_buf_init(&b);
    size_t k = clean_mask_pii(in, strlen(in), &b);
    const char *got = b.data ? b.data : "";
    ok(k == want_k && !strcmp(got, want), "pii: %s", name);
    if (k != want_k || strcmp(got, want))
        printf("#   got %zu: '%s'\n#   want %zu: '%s'\n", k, got, want_k, want);
    ft_buf_release(&b);
}

static void test_pii(void) {
    pii_is("mail john.doe+x@example.com.", "mail <EMAIL>.", 1, "e-mail, the full stop after it kept");
    pii_is("a.b@ex-ample.co.uk, 12345@qq.com", "<EMAIL>, <EMAIL>", 2, "two e-mails, a numeric local part");
    pii_is("\xE9\x82\xAE\xE7\xAE\xB1"
           "abc@163.com\xE3\x80\x82",
           "\xE9\x82\xAE\xE7\xAE\xB1<EMAIL>\xE3\x80\x82", 1, "e-mail between CJK characters");
    pii_is("a@b.c user@localhost @example.com", "a@b.c user@localhost @example.com", 0,
           "not e-mails: one-letter TLD, no dot, no local part");

    pii_is("+86 138 0013 8000", "<PHONE>", 1, "+86 mobile with spaces");
    pii_is("+86-138-0013-8000 or +1 415 555 2671", "<PHONE> or <PHONE>", 2,
           "international numbers with dashes");
    pii_is("\xE7\x94\xB5\xE8\xAF\x9D"
           "13800138000\xE8\xB0\xA2",
           "\xE7\x94\xB5\xE8\xAF\x9D<PHONE>\xE8\xB0\xA2", 1, "bare Chinese mobile touching CJK text");
    pii_is("call 13800138000.", "call <PHONE>.", 1, "bare mobile before a full stop");
    pii_is("12800138000 3+4 +5", "12800138000 3+4 +5", 0, "not phones: 12x prefix, arithmetic, short +N");
    pii_is("tel 010-12345678, 0755-1234567", "tel <PHONE>, <PHONE>", 2,
           "landlines 010-12345678, 0755-1234567");
    pii_is("010-123456 010-123456789", "010-123456 010-123456789", 0,
           "landline with 6 or 9 digits left alone");

    pii_is("id 11010519491231002X ok", "id <ID_NUMBER> ok", 1, "valid ID number (check digit X)");
    pii_is("id 11010519491231002x.", "id <ID_NUMBER>.", 1, "valid ID number, lower-case x");
    pii_is("440304199001010011", "<ID_NUMBER>", 1, "valid ID number (check digit 1)");
    pii_is("440304199001010012", "440304199001010012", 0, "ID number with a wrong check digit left alone");
    pii_is("110105194913310021", "110105194913310021", 0, "ID number with month 13 left alone");

    pii_is("ip 192.168.1.1 and 10.0.0.1:8080", "ip <IP> and <IP>:8080", 2, "IPv4 addresses");
    pii_is("1.2.3.4.", "<IP>.", 1, "IPv4 before a full stop");
    pii_is("1.2.3.4.5 999.1.1.1 256.1.1.1 v1.2.3.4 1.2.3", "1.2.3.4.5 999.1.1.1 256.1.1.1 v1.2.3.4 1.2.3", 0,
           "not IPv4: five parts, parts over 255, a version string, three parts");

    pii_is("see https://example.com/a?b=1. or (http://x.org/p), www.foo.cn!", "see <URL>. or (<URL>), <URL>!",
           3, "URLs; trailing punctuation and brackets excluded");
    pii_is("\xE8\xAE\xBF\xE9\x97\xAEhttps://example.com\xE8\x8E\xB7\xE5\x8F\x96",
           "\xE8\xAE\xBF\xE9\x97\xAE<URL>\xE8\x8E\xB7\xE5\x8F\x96", 1, "URL between CJK characters");
    pii_is("https:// xhttp://a.com", "https:// xhttp://a.com", 0, "not URLs: no host, glued to a word");

    pii_is("order 12138001380001 and 1101051949123100211", "order 12138001380001 and 1101051949123100211", 0,
           "numbers inside longer digit runs untouched");
    pii_is("a13800138000 x11010519491231002X 13800138000b", "a13800138000 x11010519491231002X 13800138000b",
           0, "numbers glued to letters untouched");
    pii_is("", "", 0, "empty");

    g_opts.mask_pii = 1;
    text_is("<|MOSS|>: call 13800138000<eom>", "call <PHONE>", "markers-removed=2 pii-masked=1",
            "clean_text with --mask-pii");
    g_opts.mask_pii = 0;
    text_is("call 13800138000", "call 13800138000", "", "clean_text without --mask-pii keeps numbers");
}

static void filter_is(const char *s, int is_assistant, int want, const char *name) {
    char detail[160] = "";
    int r = clean_filter_message(g_ctx, s, strlen(s), is_assistant, detail, sizeof detail);
    ok(r == want && (want == R_KEPT) == (detail[0] == 0), "filter: %s -> %s", name, clean_reason_name(want));
    if (r != want) printf("#   got %s: %s\n", clean_reason_name(r), detail);
}

static char *repeat(const char *s, int times) {
    size_t n = strlen(s);
    char *p = malloc(n * (size_t)times + 1);
    for (int i = 0; i < times; i++)
        memcpy(p + n * (size_t)i, s, n);
    p[n * (size_t)times] = 0;
    return p;
}

static void test_filters(void) {
    char *s = repeat("\xE5\x93\x88", 150); /* 哈 x 150 */
    filter_is(s, 1, R_REPETITION, "a reply of one character looping");
    free(s);
    s = repeat("\xE5\xA5\xBD\xE7\x9A\x84", 60); /* 好的 x 60, plus one more 好 */
    char *t = malloc(strlen(s) + 4);
    sprintf(t, "%s\xE5\xA5\xBD", s);
    filter_is(t, 1, R_REPETITION, "'haode' looping (121 characters)");
    free(s), free(t);
    s = repeat(
        "\xE6\x88\x91\xE4\xB8\x8D\xE7\x9F\xA5\xE9\x81\x93\xE8\xBF\x99\xE4\xB8\xAA\xE9\x97\xAE\xE9\xA2\x98\xE3"
        "\x80\x82",
        20); /* 我不知道这个问题。 x 20 */
    filter_is(s, 1, R_REPEATED_SENTENCES, "a sentence repeated 20 times");
    filter_is(s, 0, R_KEPT, "the same from the human side (the sentence filter is for replies)");
    free(s);
    s = repeat("I am sorry. ", 8);
    filter_is(s, 1, R_REPEATED_SENTENCES, "an English sentence repeated 8 times");
    free(s);
    filter_is("\xE6\x9C\xBA\xE5\x99\xA8\xE5\xAD\xA6\xE4\xB9\xA0\xE6\x98\xAF\xE4\xBA\xBA\xE5\xB7\xA5\xE6\x99"
              "\xBA\xE8\x83"
              "\xBD\xE7\x9A\x84\xE4\xB8\x80\xE4\xB8\xAA\xE5\x88\x86\xE6\x94\xAF\xE3\x80\x82\xE5\xB8\xB8\xE8"
              "\xA7\x81\xE7"
              "\x9A\x84\xE6\x96\xB9\xE6\xB3\x95\xE5\x8C\x85\xE6\x8B\xAC\xE7\x9B\x91\xE7\x9D\xA3\xE5\xAD\xA6"
              "\xE4\xB9\xA0"
              "\xE3\x80\x81\xE6\x97\xA0\xE7\x9B\x91\xE7\x9D\xA3\xE5\xAD\xA6\xE4\xB9\xA0\xE5\x92\x8C\xE5\xBC"
              "\xBA\xE5\x8C"
              "\x96\xE5\xAD\xA6\xE4\xB9\xA0\xE3\x80\x82",
              1, R_KEPT, "an ordinary Chinese reply");
    filter_is("The capital of France is Paris. It is known for the Eiffel Tower, museums such as the Louvre, "
              "and its cafes. About two million people live in the city proper!",
              1, R_KEPT, "an ordinary English reply");
    s = repeat("\xF0\x9F\x98\x80", 22); /* 22 emoji and a word */
    t = malloc(strlen(s) + 8);
    sprintf(t, "%s ok", s);
    filter_is(t, 1, R_SPECIAL_CHARS, "emoji-heavy text");
    free(s), free(t);
    filter_is(
        "\xE2\x98\x85\xE2\x98\x86\xE2\x98\x85\xE2\x98\x86\xE2\x98\x85\xE2\x98\x86\xE2\x98\x85\xE2\x98\x86\xE2"
        "\x98\x85\xE2\x98\x86\xE2\x98\x85\xE2\x98\x86\xE2\x98\x85\xE2\x98\x86\xE2\x98\x85\xE2\x98\x86\xE2\x98"
        "\x85\xE2\x98\x86\xE2\x98\x85\xE2\x98\x86",
        0, R_SPECIAL_CHARS, "a line of stars (human side too)");
    filter_is("if (a >= b && c != d) { x = y * 2 + z / 3 - w % 4; } // <>=!|^~ [i] #define X(a) a##b", 1,
              R_KEPT, "code with ASCII operators is not special");
    filter_is("```\nprint(1)\nprint(1)\nprint(1)\nprint(1)\nprint(1)\nprint(1)\nprint(1)\n```", 1, R_KEPT,
              "repeated lines inside a code fence are not repeated sentences");
    filter_is("", 1, R_EMPTY_TURN, "empty reply");
    filter_is("", 0, R_EMPTY_TURN, "empty question");
    filter_is("ok", 1, R_KEPT, "a short reply");
    s = repeat("x", 100001);
    filter_is(s, 1, R_TURN_TOO_LONG, "a reply over max_turn_chars");
    free(s);
}

static void json_is(const char *in, int want_reason, const char *want_out, const char *want_fixes,
                    const char *detail_has, const char *name) {
    clean_result r;
    memset(&r, 0, sizeof r);
    clean_result_reset(&r);
    clean_json_text(g_ctx, in, strlen(in), &r);
    const char *out = r.out.data ? r.out.data : "", *fx = fixes_str(r.fixes);
    int good = r.reason == want_reason && !strcmp(out, want_out ? want_out : "") &&
               (want_reason == R_KEPT) == (r.detail[0] == 0) &&
               (!detail_has || strstr(r.detail, detail_has)) && (!want_fixes || !strcmp(fx, want_fixes));
    ok(good, "record: %s -> %s", name, clean_reason_name(want_reason));
    if (!good)
        printf("#   got %s (%s) [%s]: %s\n", clean_reason_name(r.reason), r.detail, fx,
               out[0] ? out : "(no output)\n");
    ft_buf_release(&r.out);
}

#define MOSS_TURN(n, h, cmd, res, m)                                                                         \
    "\"turn_" #n "\":{\"Human\":\"<|Human|>: " h                                                             \
    "<eoh>\\n\",\"Inner Thoughts\":\"<|Inner Thoughts|>: None<eot>\\n\","                                    \
    "\"Commands\":\"<|Commands|>: " cmd "<eoc>\\n\",\"Tool Responses\":\"" res "\",\"MOSS\":\"<|MOSS|>: " m  \
    "<eom>\\n\"}"
#define NO_RESULTS "<|Results|>: None<eor>\\n"

static void test_records(void) {
    const char *moss =
        "{\"conversation_id\":1,\"meta_instruction\":\"You are MOSS.\",\"num_turns\":2,\"chat\":{" MOSS_TURN(
            2, "second", "None", NO_RESULTS,
            "answer two") "," MOSS_TURN(1, "first q", "None", NO_RESULTS,
                                        "answer one") "},\"category\":\"honest\",\"src\":[1]}";
    json_is(moss, R_KEPT,
            "{\"conversation_id\":1,\"category\":\"honest\",\"conversation\":[{\"human\":\"first "
            "q\",\"assistant\":"
            "\"answer one\"},{\"human\":\"second\",\"assistant\":\"answer two\"}],\"src\":[1]}\n",
            "markers-removed=8 whitespace=4", NULL,
            "MOSS: turns in numeric order, markers gone, meta dropped");
    g_opts.keep_meta = 1;
    json_is(moss, R_KEPT,
            "{\"conversation_id\":1,\"category\":\"honest\",\"system\":\"You are "
            "MOSS.\",\"conversation\":[{\"human\":"
            "\"first q\",\"assistant\":\"answer one\"},{\"human\":\"second\",\"assistant\":\"answer two\"}],"
            "\"src\":[1]}\n",
            NULL, NULL, "MOSS --keep-meta: meta_instruction becomes system");
    g_opts.keep_meta = 0;

    const char *tool =
        "{\"conversation_id\":2,\"meta_instruction\":\"M\",\"num_turns\":1,\"chat\":{" MOSS_TURN(
            1, "weather?", "Search(\\\"weather\\\")",
            "<|Results|>:\\nSearch(\\\"weather\\\") =>\\n<|1|>: sunny\\n<eor>\\n",
            "It is sunny<sup><|1|></sup>.") "},\"category\":\"tool\"}";
    json_is(tool, R_TOOL_USE, NULL, NULL, "turn_1 calls a tool", "MOSS tool use is dropped by default");
    g_opts.moss_tools = MOSS_TOOLS_STRIP;
    json_is(tool, R_KEPT,
            "{\"conversation_id\":2,\"category\":\"tool\",\"conversation\":[{\"human\":\"weather?\","
            "\"assistant\":"
            "\"It is sunny.\"}]}\n",
            "markers-removed=4 whitespace=2 tools-stripped=1", NULL,
            "MOSS --moss-tools=strip keeps the text, no citation");
    g_opts.moss_tools = MOSS_TOOLS_DROP;
    json_is("{\"chat\":{\"turn_1\":{\"Human\":\"h\"}}}", R_BAD_RECORD, NULL, NULL, "no string 'MOSS'",
            "MOSS turn without a reply");
    json_is("{\"chat\":{\"round_1\":{\"Human\":\"h\",\"MOSS\":\"m\"}}}", R_BAD_RECORD, NULL, NULL, "round_1",
            "MOSS chat with an unexpected key");

    json_is("{\"conversation_id\":3,\"category\":\"c\",\"conversation\":[{\"human\":\"caf\\u0065\\u0301?\","
            "\"assistant\":\"hello there\"}],\"dataset\":{\"n\":1}}",
            R_KEPT,
            "{\"conversation_id\":3,\"category\":\"c\",\"conversation\":[{\"human\":\"caf\xC3\xA9?\","
            "\"assistant\":"
            "\"hello there\"}],\"dataset\":{\"n\":1}}\n",
            "nfc=1", NULL, "Firefly: NFC applied, extra keys carried");
    json_is("{\"conversation\":[{\"human\":\"hi\"}]}", R_BAD_RECORD, NULL, NULL, "no string 'assistant'",
            "Firefly turn without assistant");

    json_is(
        "{\"id\":\"s1\",\"conversations\":[{\"from\":\"system\",\"value\":\"Be nice\"},{\"from\":\"human\","
        "\"value\":\"hey\"},{\"from\":\"gpt\",\"value\":\"hi there\"}]}",
        R_KEPT,
        "{\"system\":\"Be nice\",\"conversation\":[{\"human\":\"hey\",\"assistant\":\"hi "
        "there\"}],\"id\":\"s1\"}\n",
        "", NULL, "ShareGPT with a system message");
    json_is(
        "{\"messages\":[{\"role\":\"user\",\"content\":\"q1\"},{\"role\":\"assistant\",\"content\":\"a1\"},"
        "{\"role\":\"user\",\"content\":\"q2\"},{\"role\":\"assistant\",\"content\":\"a2\"}]}",
        R_KEPT,
        "{\"conversation\":[{\"human\":\"q1\",\"assistant\":\"a1\"},{\"human\":\"q2\",\"assistant\":\"a2\"}]}"
        "\n",
        "", NULL, "OpenAI-style messages");
    json_is("{\"conversations\":[{\"from\":\"human\",\"value\":\"hey\"},{\"from\":\"human\",\"value\":"
            "\"again\"}]}",
            R_BAD_ROLES, NULL, NULL, "expected a", "ShareGPT: two human messages in a row");
    json_is(
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hey\"},{\"role\":\"wizard\",\"content\":\"x\"}]}",
        R_BAD_ROLES, NULL, NULL, "unknown role 'wizard'", "ShareGPT: unknown role");
    json_is("{\"conversations\":[{\"from\":\"human\",\"value\":\"q\"},{\"from\":\"gpt\",\"value\":\"a\"},"
            "{\"from\":\"human\",\"value\":\"left open\"}]}",
            R_BAD_ROLES, NULL, NULL, "no answer", "ShareGPT: last question unanswered");
    json_is(
        "{\"conversations\":[{\"from\":\"human\",\"value\":\"q\"},{\"from\":\"system\",\"value\":\"s\"}]}",
        R_BAD_ROLES, NULL, NULL, "only allowed first", "ShareGPT: system in the middle");
    json_is("{\"messages\":[{\"role\":\"user\",\"content\":\"hey\"},{\"role\":\"tool\",\"content\":\"x\"}]}",
            R_TOOL_USE, NULL, NULL, "'tool' message", "ShareGPT: a tool message");

    json_is("{\"instruction\":\"Translate\",\"input\":\"\xE4\xBD\xA0\xE5\xA5\xBD\",\"output\":\"Hello\","
            "\"history\":[[\"q0\",\"a0\"]],\"system\":\"S\",\"lang\":\"zh\"}",
            R_KEPT,
            "{\"system\":\"S\",\"conversation\":[{\"human\":\"q0\",\"assistant\":\"a0\"},{\"human\":"
            "\"Translate\\n"
            "\xE4\xBD\xA0\xE5\xA5\xBD\",\"assistant\":\"Hello\"}],\"lang\":\"zh\"}\n",
            "", NULL, "Alpaca with input, history and system");
    json_is("{\"instruction\":\"Say hi\",\"input\":\"\",\"output\":\"hi!\",\"history\":null}", R_KEPT,
            "{\"conversation\":[{\"human\":\"Say hi\",\"assistant\":\"hi!\"}]}\n", "", NULL,
            "Alpaca with empty input and null history");
    json_is("{\"instruction\":\"x\",\"output\":\"y\",\"history\":[[\"only one\"]]}", R_BAD_RECORD, NULL, NULL,
            "not a [question, answer] pair", "Alpaca with a bad history entry");

    json_is("{\"foo\":1,\"bar\":2}", R_UNKNOWN_FORMAT, NULL, NULL, "keys: foo, bar",
            "unknown format names its keys");
    json_is("[1,2]", R_BAD_RECORD, NULL, NULL, "an array", "a JSON array is not a record");
    json_is("{\"conversation\":[{\"human\":\"hi\",\"assistant\":\"hel", R_BAD_JSON, NULL, NULL, "truncated",
            "truncated JSON");
    json_is("{\"conversation\":[{\"human\":\"hi\",\"assistant\":\"hello\"}]} x", R_BAD_JSON, NULL, NULL,
            "syntax error at byte 54", "trailing junk is a syntax error at its offset");
    json_is("{\"conversation\":[]}", R_NO_TURNS, NULL, NULL, "no turns", "no turns");
    json_is("{\"conversation\":[{\"human\":\" \\u3000\",\"assistant\":\"x\"}]}", R_EMPTY_TURN, NULL, NULL,
            "turn 1: empty human turn", "a question of only whitespace is empty after trimming");
    json_is("{\"conversation\":[{\"human\":\"h\",\"assistant\":\"x\"}]}", R_CONV_TOO_SHORT, NULL, NULL,
            "2 characters (min 4)", "a conversation under min_conv_chars");

    const char *bad = "{\"conversation\":[{\"human\":\"caf\xC3\x28\",\"assistant\":\"ok then\"}]}";
    json_is(bad, R_KEPT, "{\"conversation\":[{\"human\":\"caf\xEF\xBF\xBD(\",\"assistant\":\"ok then\"}]}\n",
            "utf8-repaired=1", NULL, "bad UTF-8 replaced by U+FFFD (default)");
    g_opts.bad_utf8 = BAD_UTF8_REJECT;
    json_is(bad, R_BAD_UTF8, NULL, "", "invalid UTF-8 at byte 30",
            "bad UTF-8 rejected with --bad-utf8=reject");
    g_opts.bad_utf8 = BAD_UTF8_REPLACE;

    ok(clean_reason_is_reject(R_BAD_JSON) && clean_reason_is_reject(R_UNKNOWN_FORMAT) &&
           !clean_reason_is_reject(R_TOOL_USE) && !clean_reason_is_reject(R_KEPT) &&
           !clean_reason_is_reject(R_COUNT),
       "reasons: unparsable records are rejects, filtered ones drops");
    is_str(clean_reason_name(R_REPETITION), "char-repetition", "reason names");

    clean_result r;
    memset(&r, 0, sizeof r);
    clean_result_reset(&r);
    clean_csv_row(g_ctx, "qa", "", "Why?", "Because.", 7, &r);
    ok(r.reason == R_KEPT && r.out.data &&
           !strcmp(r.out.data,
                   "{\"conversation_id\":7,\"category\":\"qa\",\"conversation\":[{\"human\":\"Why?\","
                   "\"assistant\":\"Because.\"}]}\n"),
       "CSV row: row number as id, empty system omitted");
    clean_result_reset(&r);
    clean_csv_row(g_ctx, NULL, NULL, "\xFFq?", "an answer", 8, &r);
    ok(r.reason == R_KEPT && r.fixes[F_UTF8] == 1 && r.out.data && strstr(r.out.data, "\"\xEF\xBF\xBDq?\""),
       "CSV row: bad UTF-8 repaired");
    g_opts.bad_utf8 = BAD_UTF8_REJECT;
    clean_result_reset(&r);
    clean_csv_row(g_ctx, NULL, NULL, "\xFFq?", "an answer", 9, &r);
    ok(r.reason == R_BAD_UTF8 && r.out.len == 0, "CSV row: bad UTF-8 rejected");
    g_opts.bad_utf8 = BAD_UTF8_REPLACE;
    ft_buf_release(&r.out);
}

int main(void) {
    clean_opts_default(&g_opts);
    const char *err = NULL;
    g_ctx = clean_ctx_new(&g_opts, &err);
    if (!g_ctx) {
        printf("Bail out! clean_ctx_new: %s\n", err);
        return 1;
    }
    test_normalize();
    test_pii();
    test_filters();
    test_records();
    clean_ctx_free(g_ctx);
    return done_testing();
}
