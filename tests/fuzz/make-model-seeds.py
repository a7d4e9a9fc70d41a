#!/usr/bin/env python3
"""make-model-seeds.py: writes the hand-made seeds of corpus/fuzz-safetensors, fuzz-pickle and fuzz-torchbin
(seed-* files) and one real excerpt: the data.pkl of ../shared/models/stories260K/hf-bin/pytorch_model.bin
(names and shapes only, no weights).
Rule: every seed is at most 8 KB and spelled byte by byte here, so it shows what the reader sees.
Run from anywhere: tests/fuzz/make-model-seeds.py"""
import json
import os
import struct
import zipfile
import zlib

top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
corpus = os.path.join(top, "tests", "fuzz", "corpus")
shared = os.environ.get("FT_TESTDATA") or os.path.join(os.path.dirname(top), "shared")


def put(target, name, data):
    assert len(data) <= 8192, (target, name, len(data))
    d = os.path.join(corpus, "fuzz-" + target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def safetensors(tensors, meta=None, pad=True):
    """tensors: list of (name, dtype, shape, bytes) laid out in order."""
    h, off, body = {}, 0, b""
    if meta is not None:
        h["__metadata__"] = meta
    for name, dt, shape, data in tensors:
        h[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(data)]}
        off += len(data)
        body += data
    text = json.dumps(h, separators=(",", ":")).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


f32 = lambda *v: struct.pack("<%df" % len(v), *v)
put("safetensors", "seed-two-tensors", safetensors(
    [("a", "F32", [2, 2], f32(1, 2, 3, 4)), ("b", "BF16", [3], b"\x80\x3f\x00\x40\xc0\x7f")], {"format": "pt"}))
put("safetensors", "seed-scalar-empty-i32", safetensors(
    [("s", "I32", [], struct.pack("<i", -7)), ("e", "F16", [0, 4], b""), ("u", "U8", [2], b"\x01\x02")]))
put("safetensors", "seed-unpadded-f64", safetensors([("x", "F64", [1], struct.pack("<d", 0.5))], pad=False))
put("safetensors", "seed-hole", safetensors([("a", "F32", [1], f32(1))]) + b"\0\0\0\0")
put("safetensors", "seed-empty-header", struct.pack("<Q", 2) + b"{}")


def ustr(s):
    s = s.encode()
    return b"X" + struct.pack("<I", len(s)) + s


def tensor(name, cls, key, numel, offset, size, stride):
    return (ustr(name) + b"ctorch._utils\n_rebuild_tensor_v2\n((" + ustr("storage") + b"ctorch\n" + cls.encode() +
            b"\n" + ustr(key) + ustr("cpu") + b"K" + bytes([numel]) + b"tQK" + bytes([offset]) + b"(" +
            b"".join(b"K" + bytes([d]) for d in size) + b"t(" + b"".join(b"K" + bytes([d]) for d in stride) +
            b"t\x89ccollections\nOrderedDict\n)RtR")


head = b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01("
two = head + tensor("w", "FloatStorage", "0", 6, 0, [2, 3], [3, 1]) + tensor("v", "FloatStorage", "0", 6, 2, [4], [1]) + b"u."
put("pickle", "seed-two-tensors", two)
put("pickle", "seed-metadata-build", head + tensor("h", "HalfStorage", "1", 4, 0, [4], [1]) + b"u}" + ustr("_metadata") + b"}sb.")
proto4 = (b"\x80\x04\x95\x00\x01\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01w\x94\x8c\x0ctorch._utils\x94\x8c\x12"
          b"_rebuild_tensor_v2\x94\x93\x94((\x8c\x07storage\x94\x8c\x05torch\x94\x8c\x0fBFloat16Storage\x94\x93\x94"
          b"\x8c\x010\x94\x8c\x03cpu\x94K\x02t\x94QK\x00K\x02\x85K\x01\x85\x88h\x02)\x81t\x94R\x94u.")
put("pickle", "seed-proto4-frame-memoize", proto4.replace(b"h\x02)\x81", b"}"))
put("pickle", "seed-forbidden-global", b"\x80\x02cos\nsystem\n" + ustr("echo") + b"\x85R.")
put("pickle", "seed-list-dict-ops", b"\x80\x02](K\x01K\x02e]K\x03a}(X\x01\x00\x00\x00aN" + b"u(K\x01K\x02l(d0J\xff\xff\xff\xff\x8a\x02\x00\x01G?\xf0\x00\x00\x00\x00\x00\x00\x88\x86\x87.")


def stored_zip(entries):
    out, central = b"", b""
    for name, data in entries:
        n = name.encode()
        crc = zlib.crc32(data)
        local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x21, crc, len(data), len(data), len(n), 0)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0x21, crc, len(data), len(data),
                               len(n), 0, 0, 0, 0, 0, len(out)) + n
        out += local + n + data
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(out), 0)
    return out + central + eocd


put("torchbin", "seed-two-tensors", stored_zip([("archive/data.pkl", two), ("archive/data/0", f32(1, 2, 3, 4, 5, 6)),
                                                 ("archive/version", b"3\n"), ("archive/byteorder", b"little")]))
put("torchbin", "seed-missing-storage", stored_zip([("archive/data.pkl", two)]))
put("pickle", "seed-empty-dict", b"\x80\x02}.")
pkl = os.path.join(shared, "models", "stories260K", "hf-bin", "pytorch_model.bin")
if os.path.exists(pkl):
    data = zipfile.ZipFile(pkl).read("pytorch_model/data.pkl")
    put("pickle", "real-stories260K-data.pkl", data)
    put("torchbin", "real-stories260K-first-tensors",
        stored_zip([("pytorch_model/data.pkl", data[:1200] + b".")]))
