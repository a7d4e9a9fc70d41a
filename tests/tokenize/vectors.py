#!/usr/bin/env python3
"""vectors.py: reads the tokenizer test vectors in ../shared/tokenizers/*/vectors/ (llama.cpp's format).

    vectors.py count INP                      number of test strings in INP
    vectors.py check --tokenizer MODEL INP OUT
                                              SentencePiece's own encode of every string equals OUT, and so
                                              do firefly_ref.py's plain and HF encodings of every string that
                                              holds no special string
    vectors.py expect --tokenizer MODEL [--hf-special-tokens] INP
                                              firefly_ref.py's ids of every string, one line each: the plain
                                              encoding (special strings are text), or Hugging Face's
    vectors.py compare INP OUT GOT            GOT (one line of ids per string, any spacing) equals OUT

The format (tokenizers/llama2/SOURCE.md): INP holds the test strings, each followed by
"\n__ggml_vocab_test__\n" (so the text after the last separator is empty and is not a test; a string may
itself hold or end in newlines); OUT has one line per string: its ids, each preceded by a space, no BOS/EOS
(an empty string gives an empty line). The ids are SentencePieceProcessor.encode(text) of the string as it
is: no space is added in front by the test, the model's own dummy prefix (Llama, Baichuan-7B) applies, and
USER_DEFINED pieces in the text (Baichuan's <SEP>, "\n", digits) are matched by the library as usual.
So OUT is neither of ft-tokenize's encodings where a string holds a special string (zh test 12 has <s>,
</s>, <unk>, <SEP>, <CLS>): the plain one spells them all as text, the HF one makes <s> </s> <unk> ids.
Exit status 0 when all match, 1 with the differing strings listed on stderr."""
import os
import sys

SEP = "\n__ggml_vocab_test__\n"


def read_inputs(path):
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    parts = text.split(SEP)
    if parts[-1] != "":
        raise SystemExit("vectors.py: %s: does not end with the separator" % path)
    return parts[:-1]


def read_lines(path, strip):
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [" ".join(l.split()) for l in lines] if strip else lines


def fmt(ids):
    return "".join(" %d" % i for i in ids)


def reference(model):
    """firefly_ref's tokenizer for model (a SentencePiece file or a byte-level BPE directory), and a regex
    of its special strings (CONTROL, UNKNOWN, marker USER_DEFINED; a BPE model's added tokens)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import firefly_ref
    tok = firefly_ref.open_tokenizer(model)
    return tok, firefly_ref.special_regex(dict(tok.hf_specials, **tok.protected))


def report(inputs, got, want, what):
    bad = [i for i in range(len(inputs)) if i >= len(got) or got[i] != want[i]]
    if len(got) != len(want):
        print("%s: %d lines, want %d" % (what, len(got), len(want)), file=sys.stderr)
    for i in bad[:10]:
        print("%s: test %d %r: got [%s], want [%s]" % (what, i + 1, inputs[i][:60],
                                                      got[i] if i < len(got) else "(none)", want[i]),
              file=sys.stderr)
    if bad:
        print("%s: %d of %d tests differ" % (what, len(bad), len(inputs)), file=sys.stderr)
    return 1 if bad or len(got) != len(want) else 0


def main(argv):
    if len(argv) == 2 and argv[0] == "count":
        print(len(read_inputs(argv[1])))
        return 0
    if len(argv) == 5 and argv[0] == "check" and argv[1] == "--tokenizer":
        import sentencepiece
        sp = sentencepiece.SentencePieceProcessor(model_file=argv[2])
        inputs, want = read_inputs(argv[3]), read_lines(argv[4], False)
        if len(inputs) != len(want):
            print("%s: %d strings but %d lines in %s" % (argv[3], len(inputs), len(want), argv[4]),
                  file=sys.stderr)
            return 1
        got = [fmt(sp.encode(s)) for s in inputs]
        rc = report(inputs, got, want, "sentencepiece " + argv[3])
        tok, rx = reference(argv[2])
        plain = [i for i, s in enumerate(inputs) if not rx.search(s)]
        for name, enc in (("plain", tok.encode_plain), ("hf", tok.encode_hf)):
            got = [fmt(enc(inputs[i])) for i in plain]
            rc |= report([inputs[i] for i in plain], got, [want[i] for i in plain], name + " " + argv[3])
        return rc
    if len(argv) in (4, 5) and argv[0] == "expect" and argv[1] == "--tokenizer" and \
            (len(argv) == 4 or argv[3] == "--hf-special-tokens"):
        tok, _ = reference(argv[2])
        enc = tok.encode_hf if len(argv) == 5 else tok.encode_plain
        for s in read_inputs(argv[-1]):
            print(fmt(enc(s)))
        return 0
    if len(argv) == 4 and argv[0] == "compare":
        inputs = read_inputs(argv[1])
        want, got = read_lines(argv[2], True), read_lines(argv[3], True)
        return report(inputs, got, want, argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
