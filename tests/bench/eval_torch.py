#!/usr/bin/env python3
"""eval_torch.py: the eval benchmark's PyTorch side: a plain Llama forward (GQA, rotate-half RoPE, RMSNorm,
SwiGLU, tied or untied head) over a Hugging Face model.safetensors read with json/struct/numpy, timed on
the same batch as eval-driver.c, with as many threads as the machine has cores (FT_BENCH_THREADS overrides),
as ft's OpenMP default.  Prints "tokens seconds checksum" for the fastest of RUNS passes after
one warm-up pass.

Usage: eval_torch.py MODEL_DIR B T RUNS
"""
import json
import os
import struct
import sys
import time

import numpy as np
import torch

DTYPES = {"F32": np.float32, "F16": np.float16}


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        buf = raw[base + begin:base + end]
        if info["dtype"] == "BF16":
            bits = np.frombuffer(buf, dtype=np.uint16).astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            arr = np.frombuffer(buf, dtype=DTYPES[info["dtype"]]).astype(np.float32)
        out[name] = torch.from_numpy(arr.reshape(info["shape"]).copy())
    return out


class Llama:
    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "config.json")) as f:
            cfg = json.load(f)
        self.w = load_safetensors(os.path.join(model_dir, "model.safetensors"))
        self.C = cfg["hidden_size"]
        self.H = cfg["num_attention_heads"]
        self.Hkv = cfg.get("num_key_value_heads", self.H)
        self.D = self.C // self.H
        self.L = cfg["num_hidden_layers"]
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        self.theta = cfg.get("rope_theta", 10000.0)
        self.head = self.w.get("lm_head.weight", self.w["model.embed_tokens.weight"])

    def rmsnorm(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def rope(self, x, cos, sin):  # x (B, h, T, D): pairs (i, i + D/2)
        half = self.D // 2
        x1, x2 = x[..., :half], x[..., half:]
        return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)

    def forward(self, ids):
        B, T = ids.shape
        p = "model.layers.%d."
        inv = self.theta ** (-torch.arange(0, self.D, 2, dtype=torch.float64) / self.D)
        ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]
        cos, sin = ang.cos().float(), ang.sin().float()
        mask = torch.full((T, T), float("-inf")).triu(1)
        x = self.w["model.embed_tokens.weight"][ids]
        rep = self.H // self.Hkv
        for l in range(self.L):
            w = lambda s: self.w[(p % l) + s]
            h = self.rmsnorm(x, w("input_layernorm.weight"))
            q = (h @ w("self_attn.q_proj.weight").t()).view(B, T, self.H, self.D).transpose(1, 2)
            k = (h @ w("self_attn.k_proj.weight").t()).view(B, T, self.Hkv, self.D).transpose(1, 2)
            v = (h @ w("self_attn.v_proj.weight").t()).view(B, T, self.Hkv, self.D).transpose(1, 2)
            q, k = self.rope(q, cos, sin), self.rope(k, cos, sin)
            if rep > 1:
                k = k.repeat_interleave(rep, dim=1)
                v = v.repeat_interleave(rep, dim=1)
            s = (q @ k.transpose(-1, -2)) / (self.D ** 0.5) + mask
            a = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(B, T, self.C)
            x = x + a @ w("self_attn.o_proj.weight").t()
            h = self.rmsnorm(x, w("post_attention_layernorm.weight"))
            g = torch.nn.functional.silu(h @ w("mlp.gate_proj.weight").t()) * (h @ w("mlp.up_proj.weight").t())
            x = x + g @ w("mlp.down_proj.weight").t()
        return self.rmsnorm(x, self.w["model.norm.weight"]) @ self.head.t()


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    model_dir, B, T, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(int(os.environ.get("FT_BENCH_THREADS", os.cpu_count() or 1)))
    m = Llama(model_dir)
    V = m.head.shape[0]
    ids = torch.tensor([[(b * 1009 + t * 7919 + 13) % (V - 3) + 3 for t in range(T)] for b in range(B)])
    best = float("inf")
    with torch.no_grad():
        for r in range(runs + 1):
            t0 = time.perf_counter()
            logits = m.forward(ids)
            s = time.perf_counter() - t0
            if r > 0:
                best = min(best, s)
    print("%d %.6f %.6f" % (B * T, best, logits[:, -1, :].double().sum().item()))


if __name__ == "__main__":
    main()
