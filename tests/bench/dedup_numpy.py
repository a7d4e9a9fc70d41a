#!/usr/bin/python3
"""dedup_numpy.py: the dedup benchmark's peer: ft-dedup's streaming algorithm written the way datatrove
computes MinHash signatures (Python tokens and shingles, one xxHash call per shingle, the permutations as
one vectorized NumPy expression over shingles x hashes), with the same parameters and hash functions, so
its kept count can be compared with ft-dedup's.

Usage: dedup_numpy.py FILE [MAX_BYTES]   (prints 'in N kept N exact N near N bytes N' on stdout)
Rule: NumPy from Debian's python3-numpy and libxxhash through ctypes; nothing else outside the stdlib.
"""
import ctypes
import json
import re
import sys

import numpy as np

BANDS, ROWS, NGRAM, SEED = 14, 8, 5, 1
HASHES = BANDS * ROWS
THRESHOLD = (1.0 / BANDS) ** (1.0 / ROWS)

_xx = ctypes.CDLL("libxxhash.so.0")
_xx.XXH3_64bits_withSeed.restype = ctypes.c_uint64
_xx.XXH3_64bits_withSeed.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64]


class _H128(ctypes.Structure):
    _fields_ = [("low64", ctypes.c_uint64), ("high64", ctypes.c_uint64)]


_xx.XXH3_128bits_withSeed.restype = _H128
_xx.XXH3_128bits_withSeed.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64]

M64 = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def permutations():
    a, b, s = [], [], SEED
    for _ in range((HASHES + 15) // 16 * 16):
        s, x = splitmix64(s)
        s, y = splitmix64(s)
        a.append(x)
        b.append(y)
    return np.array(a[:HASHES], dtype=np.uint64), np.array(b[:HASHES], dtype=np.uint64)


CJK = "\u3400-\u4dbf\u4e00-\u9fff\u3040-\u30ff\u31f0-\u31ff\uf900-\ufaff\U00020000-\U000323af"
TOKEN = re.compile("[" + CJK + "]|[^\\W_" + CJK + "]+")


def keys(texts, a, b):
    norm = "\n".join(" ".join(t.casefold().split()) for t in texts)
    tokens = []
    for t in texts:
        tokens.extend(TOKEN.findall(t.casefold()))
    if not norm:
        return None, None, 0
    e = _xx.XXH3_128bits_withSeed(norm.encode(), len(norm.encode()), SEED)
    exact = (e.low64, e.high64)
    if not tokens:
        return exact, None, 0
    n = len(tokens)
    shingles = [" ".join(tokens[i:i + NGRAM]).encode() for i in range(max(1, n - NGRAM + 1))]
    x = np.fromiter((_xx.XXH3_64bits_withSeed(s, len(s), SEED) & 0xFFFFFFFF for s in shingles),
                    dtype=np.uint64, count=len(shingles))
    sig = ((x[:, None] * a[None, :] + b[None, :]) >> np.uint64(32)).astype(np.uint32).min(axis=0)
    return exact, (sig & 15).astype(np.uint8), n


def main():
    path = sys.argv[1]
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else None
    a, b = permutations()
    bands = [dict() for _ in range(BANDS)]
    kept_sigs, exact_seen = [], {}
    n_in = kept = n_exact = n_near = nbytes = 0
    c = 1.0 / 16
    with open(path, "rb") as f:
        for line in f:
            if limit is not None and nbytes + len(line) > limit:
                break
            nbytes += len(line)
            if not line.strip():
                continue
            n_in += 1
            rec = json.loads(line)
            texts = []
            for turn in rec["conversation"]:
                texts += [turn["human"], turn["assistant"]]
            exact, sig, ntok = keys(texts, a, b)
            if exact is None:
                kept += 1
                continue
            if sig is None:
                if exact in exact_seen:
                    n_exact += 1
                else:
                    exact_seen[exact] = True
                    kept += 1
                continue
            cands = set()
            bkeys = [sig[j * ROWS:(j + 1) * ROWS].tobytes() for j in range(BANDS)]
            for j in range(BANDS):
                cands.update(bands[j].get(bkeys[j], ()))
            decided = False
            for k in sorted(cands):
                if kept_sigs[k][0] == exact:
                    n_exact += 1
                    decided = True
                    break
            if not decided:
                for k in sorted(cands):
                    m = int(np.count_nonzero(kept_sigs[k][1] == sig)) / HASHES
                    if max(0.0, (m - c) / (1 - c)) >= THRESHOLD - 1e-12:
                        n_near += 1
                        decided = True
                        break
            if decided:
                continue
            slot = len(kept_sigs)
            kept_sigs.append((exact, sig))
            for j in range(BANDS):
                bands[j].setdefault(bkeys[j], []).append(slot)
            kept += 1
    print("in %d kept %d exact %d near %d bytes %d" % (n_in, kept, n_exact, n_near, nbytes))


if __name__ == "__main__":
    main()
