#!/usr/bin/env python3
"""specials.py: counts for the special-token injection test (tests/cli/t3003-tokenize-injection.sh).

    specials.py ids --tokenizer MODEL TOKENS.jsonl     per record: how many of its input_ids are special
    specials.py text --tokenizer MODEL RECORDS.jsonl [TEMPLATE]
                                                       per record: how many special strings its texts hold
    specials.py has --tokenizer MODEL RECORDS.jsonl    per record: 1 when its system or a text holds one, else 0
    specials.py strip --tokenizer MODEL RECORDS.jsonl  the records with every special string removed

"Special" is firefly_ref.py's definition: the model's CONTROL and UNKNOWN pieces (<s>, </s>, <unk>) and its
protected USER_DEFINED pieces (is_protected_piece: Baichuan's <reserved_N>, <SEP>, <CLS>). Texts are the
record's system (only when TEMPLATE is given and has a system_format) and every human/assistant text; occurrences are counted leftmost-longest, without overlap,
as the tokenizer would match them."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import firefly_ref  # noqa: E402


def texts(rec, with_system):
    out = [rec["system"]] if with_system and isinstance(rec.get("system"), str) else []
    for t in rec["conversation"]:
        out += [t["human"], t["assistant"]]
    return out


def main(argv):
    if len(argv) not in (4, 5) or argv[1] != "--tokenizer" or argv[0] not in ("ids", "text", "has", "strip") or \
            (len(argv) == 5 and argv[0] != "text"):
        print(__doc__, file=sys.stderr)
        return 2
    with_system = False
    if len(argv) == 5:
        tpl = firefly_ref.load_template(argv[4])
        with_system = tpl != "firefly-v1" and tpl.system_format is not None
    tok = firefly_ref.open_tokenizer(argv[2])
    table = dict(tok.hf_specials, **tok.protected)
    rx = firefly_ref.special_regex(table)
    ids = set(table.values())
    with open(argv[3], encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            if argv[0] == "ids":
                print(sum(1 for i in rec["input_ids"] if i in ids))
            elif argv[0] == "has":
                print(int(any(rx.search(t) for t in texts(rec, True))))
            elif argv[0] == "text":
                print(sum(len(rx.findall(t)) for t in texts(rec, with_system)))
            else:
                if isinstance(rec.get("system"), str):
                    rec["system"] = rx.sub("", rec["system"])
                for t in rec["conversation"]:
                    t["human"], t["assistant"] = rx.sub("", t["human"]), rx.sub("", t["assistant"])
                print(json.dumps(rec, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
