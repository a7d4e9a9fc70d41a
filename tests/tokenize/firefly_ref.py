#!/usr/bin/env python3
"""firefly_ref.py: an independent Python statement of how Firefly turns conversation JSONL into token ids and
a loss mask, the oracle for ft-tokenize's golden tests (tests/cli/t300*-tokenize-*.sh) and the Python peer
of its benchmark (tests/bench/tokenize.sh).

    firefly_ref.py --tokenizer MODEL --template NAME|FILE.json [--hf-special-tokens] [--max-seq-len N]
                   [--overlong truncate|drop] [FILE...]

Writes one line {"input_ids":[...],"loss_mask":[...]} per input record, in input order (blank lines are
skipped). MODEL is a SentencePiece tokenizer.model (needs python3-sentencepiece, SentencePiece's own Python
binding) or a directory with a byte-level BPE tokenizer, tokenizer.json or vocab.json + merges.txt (Qwen;
needs python3-regex; encoded by BpeTokenizer below). Hugging Face transformers and tokenizers are not used,
so their behaviour is restated below.

What Firefly does (yangjianxin1/Firefly, component/dataset.py UnifiedSFTDataset, component/template.py):
- system: only when the template has a system_format: the record's "system" with str.strip() when the key is
  present, else the template's default system; when that is not None, system_format.format(content=system)
  is one segment, mask 0.
- each turn: human and assistant with str.strip() (Python's: every character for which str.isspace() is
  true, which includes U+3000, U+00A0, U+2028, U+001C..U+001F); user_format / assistant_format .format()ed
  with content= and stop_token=<the tokenizer's eos piece>; the user segment gets mask 0, the whole
  assistant segment (content, stop token and any trailing template text) mask 1.
- each segment is its own tokenizer.encode(text, add_special_tokens=False) call; no BOS/EOS is added.
- input_ids[:max_seq_length] (the head is kept).
- firefly-v1 is the 2023 SFTDataset (Baichuan/MOSS era): [bos] then, for every utterance (human, assistant,
  human, ...), encode(utterance) + [eos]; mask 0 on bos and human utterances with their eos, 1 on assistant
  utterances with their eos; utterances are not stripped and there is no system.

What a Hugging Face slow tokenizer's encode(text, add_special_tokens=False) is for these SentencePiece
models (LlamaTokenizer legacy mode, BaichuanTokenizer): the text is split at its special tokens (leftmost,
longest match first), each occurrence becomes its single id and each piece between is encoded by its own
SentencePiece encode call. The special tokens are the bos/eos/unk tokens: exactly the model's CONTROL and
UNKNOWN pieces (<unk>, <s>, </s>). SentencePiece's USER_DEFINED pieces are NOT split out by HF: the
SentencePiece encoder itself matches them inside each piece, in context. This matters: Baichuan's 390 /
1086 USER_DEFINED pieces include "\n", "\t", the digits, "，", "。", "<br>" next to <reserved_102..>, and
Baichuan-7B has a dummy prefix, so cutting the text at USER_DEFINED pieces would put a "▁" after every
newline and digit.

Two modes:
- --hf-special-tokens: exactly the above on the whole rendered segment, so "</s>" typed in content becomes
  the eos id and "<reserved_106>" typed in content (Baichuan) its id, as in Firefly.
- default (safe): special strings count only where the template put them. The segment is cut at the
  CONTROL/UNKNOWN strings of the template's literal text (format string parts and the stop token); each
  chunk between is one SentencePiece encode call over literal text and content together, which gives the
  same ids as Firefly whenever the content holds no special string. CONTROL strings in content are plain
  text by nature (SentencePiece never matches them). The content escape (escape_chunk) applies only when
  content holds a *protected* USER_DEFINED string (is_protected_piece: the markers <reserved_106>, <SEP>,
  <|x|>; not Baichuan's HTML pieces such as <br>, which stay ordinary text; the same rule as the C side's
  common/tokenizer_spm.c is_tag).
"""
import argparse
import json
import re
import string
import sys

import os
import unicodedata

try:
    import sentencepiece
except ImportError:  # only the SentencePiece tokenizers need it; the callers test for it first and skip
    sentencepiece = None
try:
    import regex
except ImportError:  # only the byte-level BPE tokenizers need it (Debian python3-regex)
    regex = None

# SentencePiece ModelProto.SentencePiece.Type values (sentencepiece_model.proto)
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


# ---- the model file: piece types. python3-sentencepiece 0.1.97 has no IsUserDefined(), and the protobuf
# module is not a dependency, so the few protobuf fields needed are read here (wire format: varint keys,
# ModelProto field 1 = repeated SentencePiece {1: piece, 2: score, 3: type}).

def _varint(b, i):
    r = shift = 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return r, i


def _fields(b, i, end):
    """Yields (field number, wire type, value, offset of the value) for the message in b[i:end]; a
    length-delimited value is given as (start, end)."""
    while i < end:
        key, i = _varint(b, i)
        num, wt = key >> 3, key & 7
        at = i
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 1:
            v, i = None, i + 8
        elif wt == 5:
            v, i = None, i + 4
        elif wt == 2:
            n, i = _varint(b, i)
            at, v, i = i, (i, i + n), i + n
        else:
            raise ValueError("unsupported protobuf wire type %d" % wt)
        yield num, wt, v, at


def piece_types(model):
    """[(type, offset of the type byte or None)] per piece id, from the serialized ModelProto."""
    out = []
    for num, wt, v, _ in _fields(model, 0, len(model)):
        if num == 1 and wt == 2:
            t, at = NORMAL, None
            for n2, _, v2, at2 in _fields(model, v[0], v[1]):
                if n2 == 3:
                    t, at = v2, at2
            out.append((t, at))
    return out


def is_protected_piece(piece):
    """A USER_DEFINED piece that content must not produce in the default mode: a marker, <reserved_N>
    (N digits), <|name|> (name without '<', '>' or '|'), or <NAME> (an upper-case letter, then upper-case
    letters, digits or '_': <SEP>, <CLS>). The others are ordinary text pieces: Baichuan's "\\n", "\\t",
    digits, punctuation, "```" and its HTML tags such as <br> and </p>."""
    return re.fullmatch(r"<(reserved_[0-9]+|\|[^<>|]+\||[A-Z][A-Z0-9_]*)>", piece) is not None


class Tokenizer:
    def __init__(self, path):
        if sentencepiece is None:
            raise ValueError("needs python3-sentencepiece (import sentencepiece failed)")
        with open(path, "rb") as f:
            self.model = f.read()
        self.sp = sentencepiece.SentencePieceProcessor(model_proto=self.model)
        self.types = piece_types(self.model)
        if len(self.types) != self.sp.get_piece_size():
            raise ValueError("%s: %d pieces parsed, SentencePiece has %d" % (path, len(self.types),
                                                                            self.sp.get_piece_size()))
        piece = self.sp.id_to_piece
        self.hf_specials = {piece(i): i for i, (t, _) in enumerate(self.types) if t in (CONTROL, UNKNOWN)}
        self.protected = {piece(i): i for i, (t, _) in enumerate(self.types)
                          if t == USER_DEFINED and is_protected_piece(piece(i))}
        self.bos_id, self.eos_id = self.sp.bos_id(), self.sp.eos_id()
        self.eos_piece = piece(self.eos_id)
        self.hf_re = special_regex(self.hf_specials)
        self.protected_re = special_regex(self.protected)
        self._sp_plain = None

    def encode(self, text):
        return self.sp.encode(text) if text else []

    def encode_hf(self, text):
        """HF slow tokenizer encode(text, add_special_tokens=False): see the module comment."""
        return split_encode(text, self.hf_re, self.hf_specials, self.encode)

    def encode_plain(self, text):
        """SentencePiece encode with the protected USER_DEFINED pieces unknown to the matcher: the model
        with those pieces retyped UNUSED (SentencePiece spells an UNUSED piece with the pieces it was merged
        from, so text never yields it)."""
        if self._sp_plain is None:
            m = bytearray(self.model)
            for i in self.protected.values():
                m[self.types[i][1]] = UNUSED  # one-byte varint either way
            self._sp_plain = sentencepiece.SentencePieceProcessor(model_proto=bytes(m))
        return self._sp_plain.encode(text) if text else []

    def id_to_piece(self, i):
        return self.sp.id_to_piece(i) if 0 <= i < self.sp.get_piece_size() else "?"


def special_regex(specials):
    if not specials:
        return None
    # longest first, so that at the leftmost position the longest special wins
    return re.compile("|".join(re.escape(s) for s in sorted(specials, key=lambda s: (-len(s), s))))


def split_encode(text, rx, specials, encode):
    """Cuts text at every match of rx: a match -> its single id, the text between -> encode(text)."""
    if rx is None:
        return encode(text)
    ids, pos = [], 0
    for m in rx.finditer(text):
        ids += encode(text[pos:m.start()])
        ids.append(specials[m.group(0)])
        pos = m.end()
    return ids + encode(text[pos:])


# ---- byte-level BPE (Qwen v1.5/2/2.5): an encoder of its own, sharing nothing with the C side
# (common/pretok.c, bpe.c). A Hugging Face tokenizer of this kind encodes text with
# encode(text, add_special_tokens=False) as follows: the added tokens are cut out first (leftmost, longest
# match; each becomes its id, whether typed in content or not: that is the --hf-special-tokens mode); every
# piece between is normalized (NFC for Qwen2), split by the pre-tokenizer regex, each split mapped byte by
# byte into GPT-2's printable alphabet and merged by merge rank, lowest first (leftmost on ties).

# Qwen2Tokenizer's PRETOKENIZE_REGEX, used for a vocab.json + merges.txt directory; a tokenizer.json gives
# its own pattern (pre_tokenizer Split), which is read from the file.
QWEN2_PATTERN = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
                 r"""|\s*[\r\n]+|\s+(?!\S)|\s+""")
# Qwen2's added_tokens.json, used when the directory has neither it nor a tokenizer_config.json that lists
# them: these follow the 151,643 regular tokens.
QWEN2_ADDED = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")


def gpt2_byte_alphabet():
    """byte -> character: the printable Latin-1 bytes stand for themselves, every other byte, in byte
    order, for U+0100, U+0101, ..."""
    keep = set(range(ord("!"), ord("~") + 1)) | set(range(0xA1, 0xAC + 1)) | set(range(0xAE, 0xFF + 1))
    out, extra = {}, 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(0x100 + extra)
            extra += 1
    return out


def _json_file(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _split_pattern(pre):
    """The Split regex of a tokenizer.json pre_tokenizer (alone or in a Sequence), or None."""
    if not isinstance(pre, dict):
        return None
    if pre.get("type") == "Sequence":
        for p in pre.get("pretokenizers", []):
            rx = _split_pattern(p)
            if rx is not None:
                return rx
        return None
    if pre.get("type") == "Split" and isinstance(pre.get("pattern"), dict):
        return pre["pattern"].get("Regex")
    return None


class BpeTokenizer:
    """The same members as Tokenizer, for a directory with tokenizer.json or vocab.json + merges.txt.
    Added tokens are the special strings (hf_specials); there are no protected pieces, since plain BPE
    encoding never produces an added token."""

    def __init__(self, path):
        if regex is None:
            raise ValueError("needs the regex module (Debian python3-regex)")
        tj = os.path.join(path, "tokenizer.json")
        added = {}
        if os.path.exists(tj):
            d = _json_file(tj)
            model = d.get("model") or {}
            if model.get("type") != "BPE" or model.get("ignore_merges"):
                raise ValueError("%s: model type %r (ignore_merges %r) is not restated here: only BPE with "
                                 "merges" % (tj, model.get("type"), model.get("ignore_merges")))
            self.vocab = model["vocab"]
            merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
            pattern = _split_pattern(d.get("pre_tokenizer"))
            if pattern is None:
                raise ValueError("%s: no Split pre-tokenizer pattern" % tj)
            norm = (d.get("normalizer") or {}).get("type")
            if norm not in (None, "NFC"):
                raise ValueError("%s: normalizer %r is not restated here" % (tj, norm))
            self.nfc = norm == "NFC"
            for t in d.get("added_tokens", []):
                if t.get("lstrip") or t.get("rstrip") or t.get("single_word"):
                    raise ValueError("%s: added token %r: lstrip/rstrip/single_word are not restated here"
                                     % (tj, t["content"]))
                added[t["content"]] = t["id"]
        else:
            self.vocab = _json_file(os.path.join(path, "vocab.json"))
            with open(os.path.join(path, "merges.txt"), encoding="utf-8") as f:
                lines = f.read().split("\n")
            if lines and lines[0].startswith("#version"):
                lines = lines[1:]
            merges = [tuple(ln.split(" ")) for ln in lines if ln]
            pattern, self.nfc = QWEN2_PATTERN, True
            at = os.path.join(path, "added_tokens.json")
            if os.path.exists(at):
                added = _json_file(at)
            else:
                added = {t: len(self.vocab) + k for k, t in enumerate(QWEN2_ADDED)}
        cfg = os.path.join(path, "tokenizer_config.json")
        cfg = _json_file(cfg) if os.path.exists(cfg) else {}
        for k, v in (cfg.get("added_tokens_decoder") or {}).items():
            added.setdefault(v["content"], int(k))
        eos = cfg.get("eos_token") or "<|endoftext|>"
        self.eos_piece = eos["content"] if isinstance(eos, dict) else eos
        self.ranks = {m: r for r, m in enumerate(merges)}
        self.split = regex.compile(pattern)
        self.alphabet = gpt2_byte_alphabet()
        self.pieces = {i: t for t, i in self.vocab.items()}
        self.pieces.update({i: t for t, i in added.items()})
        self.hf_specials = added
        self.protected, self.protected_re = {}, None
        self.bos_id, self.eos_id = None, added.get(self.eos_piece, self.vocab.get(self.eos_piece))
        self.hf_re = special_regex(added)
        self.cache = {}

    def bpe(self, word):
        """The ids of one pre-tokenizer split (bytes mapped into the alphabet)."""
        ids = self.cache.get(word)
        if ids is not None:
            return ids
        parts = list(word)
        while len(parts) > 1:
            best, at = None, -1
            for k in range(len(parts) - 1):
                r = self.ranks.get((parts[k], parts[k + 1]))
                if r is not None and (best is None or r < best):
                    best, at = r, k
            if best is None:
                break
            parts[at:at + 2] = [parts[at] + parts[at + 1]]
        ids = [self.vocab[p] for p in parts]
        self.cache[word] = ids
        return ids

    def encode(self, text):
        if self.nfc:
            text = unicodedata.normalize("NFC", text)
        ids = []
        for w in self.split.findall(text):
            ids += self.bpe("".join(self.alphabet[b] for b in w.encode("utf-8")))
        return ids

    def encode_hf(self, text):
        return split_encode(text, self.hf_re, self.hf_specials, self.encode)

    encode_plain = encode

    def id_to_piece(self, i):
        return self.pieces.get(i, "?")


def open_tokenizer(path):
    """Tokenizer for a SentencePiece model file, BpeTokenizer for a directory of byte-level BPE files."""
    return BpeTokenizer(path) if os.path.isdir(path) else Tokenizer(path)


# ---- safe mode

def escape_chunk(tok, spans):
    """THE content-escape rule (default mode only, and only for a chunk whose content holds a protected
    USER_DEFINED string): the chunk is cut at the protected strings of its literal spans (each -> its id)
    and every piece between is encoded with those pieces unknown (Tokenizer.encode_plain), so content
    occurrences come out as ordinary text tokens. This rule is a project decision, not Firefly behaviour
    (Firefly has no such mode); the golden tests on real data never reach it."""
    ids, buf = [], []
    for text, is_content in spans:
        if is_content or tok.protected_re is None:
            buf.append(text)
            continue
        pos = 0
        for m in tok.protected_re.finditer(text):
            buf.append(text[pos:m.start()])
            ids += tok.encode_plain("".join(buf))
            ids.append(tok.protected[m.group(0)])
            buf, pos = [], m.end()
        buf.append(text[pos:])
    return ids + tok.encode_plain("".join(buf))


def encode_chunk(tok, spans):
    """One SentencePiece call over the chunk, as Firefly, unless content holds a protected string."""
    if tok.protected_re is not None and any(c and tok.protected_re.search(t) for t, c in spans):
        return escape_chunk(tok, spans)
    return tok.encode("".join(t for t, _ in spans))


def encode_segment(tok, spans, hf):
    """spans: [(text, is_content)] of one rendered segment -> ids."""
    if hf:
        return tok.encode_hf("".join(t for t, _ in spans))
    ids, chunk = [], []
    for text, is_content in spans:
        if is_content or tok.hf_re is None:
            chunk.append((text, is_content))
            continue
        pos = 0
        for m in tok.hf_re.finditer(text):
            chunk.append((text[pos:m.start()], False))
            ids += encode_chunk(tok, chunk)
            ids.append(tok.hf_specials[m.group(0)])
            chunk, pos = [], m.end()
        chunk.append((text[pos:], False))
    return ids + encode_chunk(tok, chunk)


# ---- templates (component/template.py)

BUILTIN = {
    "default": dict(system_format="System: {content}\n\n", user_format="User: {content}\nAssistant: ",
                    assistant_format="{content} {stop_token}", system=None),
    "qwen": dict(system_format="<|im_start|>system\n{content}<|im_end|>\n",
                 user_format="<|im_start|>user\n{content}<|im_end|>\n<|im_start|>assistant\n",
                 assistant_format="{content}<|im_end|>\n", system="You are a helpful assistant."),
    "baichuan": dict(system_format=None, user_format="<reserved_102>{content}<reserved_103>",
                     assistant_format="{content}</s>", system=None),
    "baichuan2": dict(system_format=None, user_format="<reserved_106>{content}<reserved_107>",
                      assistant_format="{content}</s>", system=None),
    "llama2": dict(system_format="<<SYS>>\n{content}\n<</SYS>>\n\n", user_format="[INST]{content}[/INST]",
                   assistant_format="{content} </s>",
                   system="You are a helpful, respectful and honest assistant. "
                          "Always answer as helpfully as possible, while being safe. "
                          "Your answers should not include any harmful, unethical, "
                          "racist, sexist, toxic, dangerous, or illegal content. "
                          "Please ensure that your responses are socially unbiased and positive in nature.\n\n"
                          "If a question does not make any sense, or is not factually coherent, "
                          "explain why instead of answering something not correct. "
                          "If you don't know the answer to a question, please don't share false information."),
}


class Template:
    def __init__(self, name, system_format, user_format, assistant_format, system):
        self.name = name
        self.system = system
        # system_format is .format()ed with content only; the turn formats with content and stop_token
        self.system_format = None if system_format is None else parse_format(system_format, ("content",))
        self.user_format = parse_format(user_format, ("content", "stop_token"))
        self.assistant_format = parse_format(assistant_format, ("content", "stop_token"))


def parse_format(fmt, allowed):
    """A str.format string -> [(literal, None) | (None, field)], {{ and }} unescaped as str.format does."""
    if not isinstance(fmt, str):
        raise ValueError("format must be a string, not %r" % (fmt,))
    out = []
    for literal, field, spec, conv in string.Formatter().parse(fmt):
        if literal:
            out.append((literal, None))
        if field is not None:
            if field not in allowed or spec or conv:
                raise ValueError("format %r: field {%s} is not one of %s" % (fmt, field, "/".join(allowed)))
            out.append((None, field))
    return out


def render(parts, content, stop_token):
    """The spans of a formatted segment: literal text and the stop token are template text, content is
    content."""
    return [(lit, False) if lit is not None else
            ((content, True) if field == "content" else (stop_token, False)) for lit, field in parts]


def load_template(arg):
    if arg == "firefly-v1":
        return "firefly-v1"
    if arg in BUILTIN:
        return Template(arg, **BUILTIN[arg])
    if not arg.endswith(".json"):
        raise ValueError("unknown template '%s' (built in: %s, firefly-v1, or a FILE.json)" %
                         (arg, ", ".join(BUILTIN)))
    with open(arg, encoding="utf-8") as f:
        d = json.load(f)
    if not isinstance(d, dict):
        raise ValueError("%s: not a JSON object" % arg)
    known = ("template_name", "system_format", "user_format", "assistant_format", "system", "stop_word")
    for k in d:
        if k not in known:
            raise ValueError("%s: unknown key '%s'" % (arg, k))
    for k in ("user_format", "assistant_format"):
        if k not in d:
            raise ValueError("%s: missing '%s'" % (arg, k))
    sysv = d.get("system")
    if sysv is not None and not isinstance(sysv, str):
        raise ValueError("%s: system must be a string or null" % arg)
    return Template(d.get("template_name", arg), d.get("system_format"), d["user_format"],
                    d["assistant_format"], sysv)


# ---- records

def tokenize_record(tok, tpl, rec, hf):
    """-> (input_ids, loss_mask) of one parsed record."""
    conv = rec.get("conversation")
    if not isinstance(conv, list):
        raise ValueError("no 'conversation' list")
    turns = []
    for t in conv:
        if not isinstance(t, dict) or not isinstance(t.get("human"), str) or \
                not isinstance(t.get("assistant"), str):
            raise ValueError("a turn without string 'human' and 'assistant'")
        turns.append((t["human"], t["assistant"]))
    ids, mask = [], []

    def add(seg, m):
        ids.extend(seg)
        mask.extend([m] * len(seg))

    if tpl == "firefly-v1":
        if tok.bos_id is None:
            raise ValueError("template firefly-v1 needs a BOS token, which this tokenizer does not have")
        add([tok.bos_id], 0)
        for human, assistant in turns:
            add(encode_segment(tok, [(human, True)], hf) + [tok.eos_id], 0)
            add(encode_segment(tok, [(assistant, True)], hf) + [tok.eos_id], 1)
        return ids, mask
    if tpl.system_format is not None:
        if "system" in rec:
            if not isinstance(rec["system"], str):
                raise ValueError("'system' is not a string")
            system = rec["system"].strip()
        else:
            system = tpl.system
        if system is not None:
            add(encode_segment(tok, render(tpl.system_format, system, None), hf), 0)
    for human, assistant in turns:
        add(encode_segment(tok, render(tpl.user_format, human.strip(), tok.eos_piece), hf), 0)
        add(encode_segment(tok, render(tpl.assistant_format, assistant.strip(), tok.eos_piece), hf), 1)
    return ids, mask


def main():
    ap = argparse.ArgumentParser(description="Firefly's SFT tokenization, restated (see the source).")
    ap.add_argument("--tokenizer", required=True,
                    help="SentencePiece tokenizer.model, or a byte-level BPE directory (tokenizer.json or "
                    "vocab.json + merges.txt)")
    ap.add_argument("--template", required=True, help="default, qwen, baichuan, baichuan2, llama2, "
                    "firefly-v1, or a JSON file with register_template's fields")
    ap.add_argument("--hf-special-tokens", action="store_true",
                    help="special strings in content become special ids, as in HF/Firefly")
    ap.add_argument("--max-seq-len", type=int, default=0, help="keep the first N tokens (0: no limit)")
    ap.add_argument("--overlong", choices=("truncate", "drop"), default="truncate")
    ap.add_argument("files", nargs="*", default=["-"])
    a = ap.parse_args()
    try:
        tok = open_tokenizer(a.tokenizer)
        tpl = load_template(a.template)
    except (OSError, ValueError) as e:
        sys.exit("firefly_ref.py: %s" % e)
    out = sys.stdout
    for name in a.files:
        f = sys.stdin.buffer if name == "-" else open(name, "rb")
        for lineno, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                ids, mask = tokenize_record(tok, tpl, json.loads(raw.decode("utf-8")), a.hf_special_tokens)
            except (ValueError, AttributeError) as e:
                sys.exit("firefly_ref.py: %s:%d: %s" % (name, lineno, e))
            if a.max_seq_len > 0 and len(ids) > a.max_seq_len:
                if a.overlong == "drop":
                    continue
                ids, mask = ids[:a.max_seq_len], mask[:a.max_seq_len]
            out.write(json.dumps({"input_ids": ids, "loss_mask": mask}, separators=(",", ":")))
            out.write("\n")
        if f is not sys.stdin.buffer:
            f.close()


if __name__ == "__main__":
    main()
