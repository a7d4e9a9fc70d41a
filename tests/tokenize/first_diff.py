#!/usr/bin/env python3
"""first_diff.py [--tokenizer MODEL] GOT WANT: where two {"input_ids","loss_mask"} JSONL files first
differ: the record index, the first differing token position, and a few tokens around it from each side
(as pieces when a tokenizer is given: a SentencePiece model or a byte-level BPE directory). A line that is not such JSON is shown as text."""
import argparse
import json
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer")
    ap.add_argument("got")
    ap.add_argument("want")
    a = ap.parse_args()
    piece = str
    if a.tokenizer:
        import os
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import firefly_ref
        tok = firefly_ref.open_tokenizer(a.tokenizer)
        piece = lambda i: "%d:%s" % (i, tok.id_to_piece(i))
    with open(a.got, "rb") as f:
        got = f.read().split(b"\n")
    with open(a.want, "rb") as f:
        want = f.read().split(b"\n")
    for n, (g, w) in enumerate(zip(got, want)):
        if g == w:
            continue
        print("first difference: record %d (line %d)" % (n, n + 1))
        try:
            g, w = json.loads(g), json.loads(w)
        except ValueError:
            print("  got:  %.200r\n  want: %.200r" % (g, w))
            return 1
        if set(g) != set(w):
            print("  keys: got %s, want %s" % (sorted(g), sorted(w)))
        for key in ("input_ids", "loss_mask"):
            gv, wv = g.get(key, []), w.get(key, [])
            if gv == wv:
                continue
            p = next((i for i, (x, y) in enumerate(zip(gv, wv)) if x != y), min(len(gv), len(wv)))
            show = piece if key == "input_ids" else str
            lo = max(0, p - 4)
            print("  %s: lengths got %d, want %d; first difference at position %d" % (key, len(gv), len(wv), p))
            print("    got:  ... %s" % " ".join(show(x) for x in gv[lo:p + 8]))
            print("    want: ... %s" % " ".join(show(x) for x in wv[lo:p + 8]))
        if g == w:
            print("  same values, different text: %.200r" % json.dumps(g))
        return 1
    if len(got) != len(want):
        print("records: got %d lines, want %d" % (len(got) - (got[-1] == b""), len(want) - (want[-1] == b"")))
    return 1


if __name__ == "__main__":
    sys.exit(main())
