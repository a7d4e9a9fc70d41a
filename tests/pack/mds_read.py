#!/usr/bin/env python3
"""mds_read.py: an independent reader of an MDS dataset directory, written from the mosaicml/streaming
specification (MDSWriter, the NDArray encoding, JointWriter's index) and not from ft's C code; prints every
row as `ft-pack cat` does, so the two can be diffed. zstd through Python's `zstandard` module (Debian
python3-zstandard), or the `zstd` command where the module is missing; XXH64 in pure Python. Also checks that index.json and each shard's embedded configuration are byte for byte
what Python's json.dumps(obj, sort_keys=True) gives, as MDSWriter writes them.

usage: mds_read.py DIR  (exit 1 with a message on the first mismatch; FT_MDS_ZSTD=cli forces the command)"""
import json
import os
import struct
import subprocess
import sys

try:
    import zstandard
except ImportError:
    zstandard = None

M = (1 << 64) - 1
P1, P2, P3, P4, P5 = (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x85EBCA77C2B2AE63,
                      0x27D4EB2F165667C5)


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M


def rnd(acc, lane):
    return (rotl((acc + lane * P2) & M, 31) * P1) & M


def xxh64(data):
    """XXH64 with seed 0, from the xxHash specification (xxhash_spec.md)."""
    n, i = len(data), 0
    if n >= 32:
        v = [(P1 + P2) & M, P2, 0, (-P1) & M]
        while i + 32 <= n:
            lanes = struct.unpack_from('<4Q', data, i)
            v = [rnd(v[k], lanes[k]) for k in range(4)]
            i += 32
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & M
        for k in range(4):
            h = ((h ^ rnd(0, v[k])) * P1 + P4) & M
    else:
        h = P5
    h = (h + n) & M
    while i + 8 <= n:
        h = (rotl(h ^ rnd(0, struct.unpack_from('<Q', data, i)[0]), 27) * P1 + P4) & M
        i += 8
    if i + 4 <= n:
        h = (rotl(h ^ (struct.unpack_from('<I', data, i)[0] * P1) & M, 23) * P2 + P3) & M
        i += 4
    while i < n:
        h = (rotl(h ^ (data[i] * P5) & M, 11) * P1) & M
        i += 1
    h ^= h >> 33
    h = (h * P2) & M
    h ^= h >> 29
    h = (h * P3) & M
    return h ^ (h >> 32)


def fail(msg):
    sys.exit('mds_read.py: ' + msg)


def ndarray(buf, dtype):
    """streaming's NDArray decode with a fixed dtype and a dynamic shape: [ndim<<2|w][shape][values]."""
    ndim, w = buf[0] >> 2, buf[0] & 3
    width = 1 << w
    shape = [int.from_bytes(buf[1 + k * width:1 + (k + 1) * width], 'little') for k in range(ndim)]
    if ndim != 1:
        fail('not a 1-D array')
    body = buf[1 + ndim * width:]
    size = {'uint32': 4, 'uint8': 1}[dtype]
    if len(body) != shape[0] * size:
        fail('array length does not match its bytes')
    return list(struct.unpack('<%d%s' % (shape[0], 'I' if size == 4 else 'B'), body))


def unzstd(blob):
    """One zstd frame, decompressed; MDS frames carry their content size, which zstandard needs."""
    if zstandard and os.environ.get('FT_MDS_ZSTD') != 'cli':
        return zstandard.ZstdDecompressor().decompress(blob)
    return subprocess.run(['zstd', '-dcq'], input=blob, stdout=subprocess.PIPE, check=True).stdout


def main():
    d = sys.argv[1]
    text = open(os.path.join(d, 'index.json'), 'rb').read()
    index = json.loads(text)
    # MDSWriter's part, byte for byte; ft's own "ft_pack" member comes first (sorted keys) and is free-form.
    mds_part = json.dumps({'shards': index['shards'], 'version': index['version']}, sort_keys=True).encode()
    if not text.endswith(mds_part[1:]) or not (text[:1] + text[-len(mds_part) + 1:] == mds_part or
                                               text.startswith(b'{"ft_pack": ')):
        fail('index.json is not json.dumps(obj, sort_keys=True)')
    if index['version'] != 2:
        fail('index version')
    out = sys.stdout
    for k, sh in enumerate(index['shards']):
        zd = sh['zip_data']
        name = zd['basename'] if zd else sh['raw_data']['basename']
        blob = open(os.path.join(d, name), 'rb').read()
        if zd:
            if len(blob) != zd['bytes'] or '%016x' % xxh64(blob) != zd['hashes']['xxh64']:
                fail('%s: size or xxh64 differ from zip_data' % name)
            raw = unzstd(blob)
        else:
            raw = blob
        rd = sh['raw_data']
        if len(raw) != rd['bytes'] or '%016x' % xxh64(raw) != rd['hashes']['xxh64']:
            fail('%s: raw size or xxh64 differ from raw_data' % name)
        if sh['format'] != 'mds' or sh['version'] != 2 or sh['samples'] != struct.unpack_from('<I', raw)[0]:
            fail('%s: format, version or samples' % name)
        n = sh['samples']
        offsets = struct.unpack_from('<%dI' % (n + 1), raw, 4)
        config = {key: sh[key] for key in ('column_encodings', 'column_names', 'column_sizes', 'compression',
                                          'format', 'hashes', 'size_limit', 'version')}
        want = json.dumps(config, sort_keys=True).encode()
        head = 4 + 4 * (n + 1)
        if raw[head:offsets[0]] != want or offsets[-1] != len(raw):
            fail('%s: embedded config or offsets differ from MDSWriter' % name)
        names, encs = sh['column_names'], sh['column_encodings']
        if names != sorted(names):
            fail('columns not sorted')
        for i in range(n):
            s = raw[offsets[i]:offsets[i + 1]]
            sizes, at, row = [], 0, {}
            for size in sh['column_sizes']:
                if size is None:
                    sizes.append(struct.unpack_from('<I', s, at)[0])
                    at += 4
                else:
                    sizes.append(size)
            for name_, enc, size in zip(names, encs, sizes):
                kind, dtype = enc.split(':')
                if kind != 'ndarray':
                    fail('encoding ' + enc)
                row[name_] = ndarray(s[at:at + size], dtype)
                at += size
            if at != len(s):
                fail('sample %d of %s has trailing bytes' % (i, name))
            out.write('{"input_ids":[%s],"loss_mask":[%s],"seq_lens":[%s]}\n' % tuple(
                ','.join(map(str, row[c])) for c in ('input_ids', 'loss_mask', 'seq_lens')))


if __name__ == '__main__':
    main()
