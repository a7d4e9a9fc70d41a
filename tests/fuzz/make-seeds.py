#!/usr/bin/env python3
"""make-seeds.py: writes the hand-made seeds of tests/fuzz/corpus/ (seed-* files) and the short excerpts
of real records (real-* files) cut from ../shared/data (or $FT_TESTDATA/data).
Rule: every seed is at most 8 KB; regression seeds (crash-* files, minimized fuzzer finds) are not made
here and never removed. Run from anywhere: tests/fuzz/make-seeds.py"""
import json
import os
import sys

top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
corpus = os.path.join(top, "tests", "fuzz", "corpus")
shared = os.environ.get("FT_TESTDATA") or os.path.join(os.path.dirname(top), "shared")
MAX = 8192


def put(target, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    assert len(data) <= MAX, (target, name, len(data))
    # The ft-clean targets are fuzz-clean-<target>; fuzz-json is the library's own.
    d = os.path.join(corpus, "fuzz-" + (target if target == "json" else "clean-" + target))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def cut(s, n):
    return s if len(s) <= n else s[:n]


# --- JSONL records ----------------------------------------------------------------------------------------
J = {
    "firefly-full": '{"conversation_id":7,"category":"Brainstorming","system":"You are helpful.",'
    '"conversation":[{"human":"如何学习C语言？","assistant":"多写代码，多读好的代码。"},'
    '{"human":"还有呢？","assistant":"读 K&R。"}],"dataset":"moss","extra":{"a":[1,2.5,null,true]}}',
    "sharegpt": '{"id":"x1","conversations":[{"from":"system","value":"be brief"},{"from":"human","value":'
    '"What is 2+2?"},{"from":"gpt","value":"It is 4."}]}',
    "alpaca": '{"instruction":"Translate to French","input":"good morning","output":"bonjour",'
    '"history":[["q1","a1"],["q2","a2"]],"system":"translator"}',
    "moss-inline": '{"conversation_id":1,"category":"honest","num_turns":1,"meta_instruction":"You are MOSS.",'
    '"chat":{"turn_1":{"Human":"<|Human|>: 你好<eoh>\\n","Inner Thoughts":"<|Inner Thoughts|>: None<eot>\\n",'
    '"Commands":"<|Commands|>: None<eoc>\\n","Tool Responses":"<|Results|>: None<eor>\\n",'
    '"MOSS":"<|MOSS|>: 你好！有什么可以帮你的吗？<eom>\\n"}}}',
    "moss-tool": '{"chat":{"turn_2":{"Human":"<|Human|>: and now?<eoh>","MOSS":"<|MOSS|>: see <sup><|1|></sup> '
    'ok<eom>","Commands":"<|Commands|>: Search(\\"x\\")<eoc>","Tool Responses":"<|Results|>: <|1|>: r<eor>"},'
    '"turn_1":{"Human":"<|Human|>: search x<eoh>","MOSS":"<|MOSS|>: done <|/1|><eom>"}}}',
    "markers-nested": '{"conversation":[{"human":"<e<eoh>oh> <|Hu<|MOSS|>man|> text","assistant":"<eo<eom>m>ok fine"}]}',
    "markers-fullwidth": '{"conversation":[{"human":"\uff1ceoh\uff1e hello \uff21\u0301","assistant":"\uff1c|MOSS|\uff1e reply"}]}',
    "markers-control": '{"conversation":[{"human":"<eo\\u0001h>hello <eo\u200bm>","assistant":"<|MO\\u007fSS|>ok ok"}]}',
    "nfc": '{"conversation":[{"human":"e\u0301 A\u030a \u1100\u1161 \u212b","assistant":"cafe\u0301 \u0071\u0307\u0323"}]}',
    "controls": '{"conversation":[{"human":"a\\r\\nb\\rc\u2028d\u2029e\\u0000f","assistant":"\ufeffx\u00ady\u200bz\\u0085 "}]}',
    "whitespace": '{"conversation":[{"human":"  \u3000 padded \\n\\n\\n\\n middle \\n \\n ","assistant":"```\\n\\n\\n\\ncode\\n```\\n\\n\\n\\nend"}]}',
    "pii": '{"conversation":[{"human":"mail a.b@example.com, call 13812345678 or +86 138 1234 5678, ip 192.168.1.1",'
    '"assistant":"see https://example.com/x?y=1. id 11010519491231002X, tel 010-12345678, a@b.co\u0338"}]}',
    "halfwidth": '{"conversation":[{"human":"\uff28\uff45\uff4c\uff4c\uff4f\u3000\uff57\uff4f\uff52\uff4c\uff44\uff01",'
    '"assistant":"```\\n\uff41\uff42\uff43\\n```\\n\uff10\uff11\uff12\uff13"}]}',
    "truncated": '{"conversation":[{"human":"hel',
    "lone-surrogate": '{"conversation":[{"human":"\\ud800 lone","assistant":"\\udc00 low \\ud83d\\ude00 pair"}]}',
    "huge-numbers": '{"conversation_id":1e999999,"n":-123456789012345678901234567890,"f":1.7976931348623157e309,'
    '"conversation":[{"human":"numbers","assistant":"big ones"}]}',
    "deep-nesting": '{"x":' + "[" * 1200 + "]" * 1200 + ',"conversation":[{"human":"hi","assistant":"yo"}]}',
}
# The first byte picks the second pass's options (check.h fuzz_opts_from_byte); cJSON skips any byte
# <= 0x20 before a value, so a control byte in front selects them: 4 halfwidth, 8 mask-pii, 16 reject.
OPT = {"markers-fullwidth": "\x04", "halfwidth": "\x05", "pii": "\x08", "whitespace": "\x0c", "nfc": "\x0e",
       "moss-tool": "\x03", "controls": "\x1f"}
for k, v in J.items():
    put("jsonl", "seed-" + k, OPT.get(k, "") + v)
put("jsonl", "seed-invalid-utf8", b"\x10"
    b'{"conversation":[{"human":"bad \xff\xfe \xc3 \xed\xa0\x80 \xf4\x90\x80\x80","assistant":"ok \xe4\xb8"}]}')
put("jsonl", "seed-binary", bytes(range(256)))
put("jsonl", "seed-nul", b'{"conversation":[{"human":"a","assistant":"b"}]}\x00garbage')

# --- MOSS documents ---------------------------------------------------------------------------------------
M = {
    "pretty": json.dumps({"conversation_id": 3, "meta_instruction": "You are MOSS.\n- helpful", "num_turns": 2,
                          "chat": {"turn_1": {"Human": "<|Human|>: hi<eoh>\n", "Inner Thoughts": "<|Inner Thoughts|>: None<eot>\n",
                                              "Commands": "<|Commands|>: None<eoc>\n", "Tool Responses": "<|Results|>: None<eor>\n",
                                              "MOSS": "<|MOSS|>: Hello! How can I help you today?<eom>\n"},
                                   "turn_2": {"Human": "<|Human|>: thanks<eoh>\n", "MOSS": "<|MOSS|>: You are welcome.<eom>\n"}},
                          "category": "honest"}, indent=4, ensure_ascii=False),
    "array": json.dumps([{"chat": {"turn_1": {"Human": "a question here", "MOSS": "an answer there"}}},
                         {"chat": {"turn_1": {"Human": "x"}}}, 5, "s", None], indent=2),
    "turn-order": '{"chat":{"turn_10":{"Human":"tenth q","MOSS":"tenth a"},"turn_2":{"Human":"second q","MOSS":"second a"}}}',
    "turn-dup": '{"chat":{"turn_1":{"Human":"a","MOSS":"b"},"turn_01":{"Human":"c","MOSS":"d"}}}',
    "turn-bad-name": '{"chat":{"turn_x":{"Human":"a","MOSS":"b"},"turn_-1":{}}}',
    "turn-huge": '{"chat":{"turn_99999999999999999999999":{"Human":"big number","MOSS":"turn index"}}}',
    "chat-not-object": '{"chat":[1,2]}',
    "no-moss": '{"chat":{"turn_1":{"Human":"only a question"}}}',
    "tool-none": '{"chat":{"turn_1":{"Human":"<|Human|>: q<eoh>","Commands":" <|Commands|>: None <eoc> ",'
    '"Tool Responses":"\\n<|Results|>:\\nNone\\n<eor>\\n","MOSS":"<|MOSS|>: answer text<eom>"}}}',
    "citations": '{"chat":{"turn_1":{"Human":"<|Human|>: cite <|2|> me<eoh>","Commands":"Search(\\"q\\")",'
    '"MOSS":"<|MOSS|>: fact<sup><|1|></sup>, other<|2|></sup> and <|/3|> and <sup><|x|></sup><sup><|4|>'
    '<e<|5|>om>done<eom>"}}}',
    "meta-markers": '{"meta_instruction":"<|MOSS|> meta \\u0000 with e\\u0301","category":"<eoh>cat",'
    '"chat":{"turn_1":{"Human":"hello world","MOSS":"hello back"}}}',
    "truncated": '{\n    "chat": {\n        "turn_1": {\n            "Human": "<|Human|>: cut here',
    "deep": "[" * 2000 + "]" * 2000,
    "lone-surrogate": '{"chat":{"turn_1":{"Human":"\\ud800","MOSS":"\\udfff"}}}',
    "huge-numbers": '{"conversation_id":-1e400,"num_turns":123456789012345678901234567890,'
    '"chat":{"turn_1":{"Human":"numbers","MOSS":"are big"}}}',
}
OPT = {"citations": "\x0c", "meta-markers": "\x04"}
for k, v in M.items():
    put("moss", "seed-" + k, OPT.get(k, "") + v)
put("moss", "seed-invalid-utf8",
    b'{"chat":{"turn_1":{"Human":"bad \xff bytes \xc3(","MOSS":"more \xed\xa0\x80 bad \xe2\x82"}},"x\xfe":"\xc0\xaf"}')
put("moss", "seed-binary", bytes(range(256)))

# --- CSV files --------------------------------------------------------------------------------------------
C = {
    "header": "category,human,assistant\nqa,What is CSV?,Comma-separated values.\nqa,Why?,\"Because, commas.\"\n",
    "positional": "c1,hello there,general kenobi\r\nc2,second row,second answer\r\n",
    "four-cols": "cat,sys,the human says,the assistant says\n",
    "quoted-multiline": '"a","line one\nline two\r\nline three","he said ""hi"""\n"b","x","y"',
    "bom": "\ufeffcategory,human,assistant\r\nx,\"q\",\"a\"\r\n",
    "unterminated": 'a,"never closed,b\nc,d,e\nf,g,h',
    "after-quote": 'a,"quoted"tail,c\nx,y,z\n',
    "bare-quote": 'a,b"c,d\n',
    "blank-lines": "\n\r\n\na,b,c\n\n\r\nd,e,f\n\n",
    "crlf-mixed": "a,b,c\r\nd,e,f\nx,\"y\r\nz\",w\r",
    "empty-fields": ",,\n,,,\n,\n",
    "tabs": "cat\thuman\tassistant\nx\t\"q\tq\"\ta\n",
    "markers": "cat,<|Human|>: q<eoh>,<|MOSS|>: a<eom>\n",
    "wide-row": ",".join(str(i) for i in range(1500)) + "\n",
}
for k, v in C.items():
    put("csv", "seed-" + k, v)
put("csv", "seed-invalid-utf8", b"c,bad \xff\xfe,\xed\xa0\x80\nc,\"\xc3\",x\n")
put("csv", "seed-binary", bytes(range(256)))
put("csv", "seed-nul", b"a,b\x00c,d\n\x00,\x00\"\x00\",e\n")
put("csv", "seed-long-line", ("a," + "x" * 3000 + ",b\n" + '"' + "y" * 3000 + '\n,z"\n').encode())

# --- real records, cut down -------------------------------------------------------------------------------
moss = os.path.join(shared, "data", "moss", "SFT_data", "conversations")
firefly = os.path.join(shared, "data", "firefly", "dummy_data.jsonl")
if not os.path.isdir(moss) or not os.path.isfile(firefly):
    print("make-seeds: %s not found: real-* seeds not written" % shared, file=sys.stderr)
    sys.exit(0)

real_moss = [
    "conversation_without_plugins/honest_conversations/honest_conversation_1.json",
    "conversation_with_plugins/web_search/search_plugin_conversation_36.json",
    "conversation_with_plugins/calculator/calculator_plugin_conversation_1.json",
    "conversation_with_plugins/text2img/text2img_plugin_conversation_1.json",
]
for i, rel in enumerate(real_moss):
    with open(os.path.join(moss, rel), encoding="utf-8") as f:
        d = json.load(f)
    turns = sorted(d["chat"], key=lambda k: int(k[5:]))[:2]
    d["chat"] = {k: {kk: cut(vv, 400) for kk, vv in d["chat"][k].items()} for k in turns}
    d["meta_instruction"] = cut(d["meta_instruction"], 300)
    d["num_turns"] = len(turns)
    text = json.dumps(d, ensure_ascii=False, indent=4)
    put("moss", "real-%d-%s" % (i + 1, os.path.basename(rel)[:-5]), text)
    if i == 1:
        put("jsonl", "real-moss-%d" % (i + 1), json.dumps(d, ensure_ascii=False))

with open(firefly, encoding="utf-8") as f:
    lines = f.read().split("\n")
for i in (0, 5, 17):
    d = json.loads(lines[i])
    d["conversation"] = [{k: cut(v, 300) for k, v in t.items()} for t in d["conversation"][:2]]
    if i == 5:
        put("jsonl", "real-firefly-%d" % (i + 1), json.dumps(d, ensure_ascii=False))
    rows = ["category,human,assistant"]
    for t in d["conversation"]:
        q = lambda s: '"' + s.replace('"', '""') + '"'
        rows.append(",".join([d["category"], q(t["human"]), q(t["assistant"])]))
    put("csv", "real-firefly-%d.csv" % (i + 1), "\r\n".join(rows) + "\r\n")
