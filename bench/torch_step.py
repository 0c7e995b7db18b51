#!/usr/bin/env python3
"""PyTorch twin of bench/step-time.ts: times one DCGAN training step (D step + G step), same work as the TF.js one.

Run: /usr/bin/python3 bench/torch_step.py --config seed|small --batch 16 [--steps 5] [--warmup 2] [--threads 2]
     [--device cpu|cuda]
Prints one JSON line: {"median_s", "times", "torch", "threads", "blas", "device", ...}; on failure exits non-zero
with a one-line message on stderr (step-time.ts shows it in place of the PyTorch column).

Per step, as in step-time.ts: D step: fakes = G(z) under no_grad; BCE(D(real), 1) + BCE(D(fakes), 0) on logits;
backward over D; Adam. G step: BCE(D(G(z)), 1) with D's parameters frozen (TF.js prunes D weight gradients there
too); backward over G; Adam. BN in training mode; 4x4 kernels, no conv biases (the PyTorch DCGAN layout).
Layout is NCHW here (PyTorch's native one), NHWC in TF.js: each side runs its own fast path.
"""
import argparse
import json
import math
import statistics
import sys
import time

CONFIGS = {
    "seed": dict(nc=3, size=64, nz=100, ngf=128, ndf=64),
    "small": dict(nc=1, size=32, nz=100, ngf=64, ndf=32),
}


def build(torch, nn, nc, size, nz, ngf, ndf):
    ups = int(math.log2(size // 4))
    g = []
    c = ngf * 2 ** (ups - 1)
    g += [nn.ConvTranspose2d(nz, c, 4, 1, 0, bias=False), nn.BatchNorm2d(c), nn.ReLU(True)]
    for _ in range(1, ups):
        g += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU(True)]
        c //= 2
    g += [nn.ConvTranspose2d(c, nc, 4, 2, 1, bias=False), nn.Tanh()]
    d = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
    c = ndf
    for _ in range(1, ups):
        d += [nn.Conv2d(c, c * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c * 2), nn.LeakyReLU(0.2, inplace=True)]
        c *= 2
    d += [nn.Conv2d(c, 1, 4, 1, 0, bias=False)]
    G, D = nn.Sequential(*g), nn.Sequential(*d)
    for m in list(G.modules()) + list(D.modules()):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return G, D


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", choices=sorted(CONFIGS), required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    a = ap.parse_args()
    try:
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
    except Exception as e:  # noqa: BLE001 - any import failure means "no PyTorch column"
        print(f"import torch failed: {e}", file=sys.stderr)
        sys.exit(2)
    if a.device == "cuda" and not torch.cuda.is_available():
        print("torch.cuda.is_available() is False", file=sys.stderr)
        sys.exit(3)
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    dev = torch.device(a.device)
    cfg = CONFIGS[a.config]
    G, D = build(torch, nn, **cfg)
    G.to(dev)
    D.to(dev)
    optD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    b, nz = a.batch, cfg["nz"]
    real = torch.rand(b, cfg["nc"], cfg["size"], cfg["size"], device=dev) * 2 - 1
    ones = torch.ones(b, device=dev)
    zeros = torch.zeros(b, device=dev)

    def sync():
        if a.device == "cuda":
            torch.cuda.synchronize()

    def step():
        # D step
        with torch.no_grad():
            fakes = G(torch.randn(b, nz, 1, 1, device=dev))
        optD.zero_grad(set_to_none=True)
        lossD = F.binary_cross_entropy_with_logits(D(real).view(-1), ones) + \
            F.binary_cross_entropy_with_logits(D(fakes).view(-1), zeros)
        lossD.backward()
        optD.step()
        # G step, D frozen
        for p in D.parameters():
            p.requires_grad_(False)
        optG.zero_grad(set_to_none=True)
        lossG = F.binary_cross_entropy_with_logits(D(G(torch.randn(b, nz, 1, 1, device=dev))).view(-1), ones)
        lossG.backward()
        optG.step()
        for p in D.parameters():
            p.requires_grad_(True)
        return lossD.item(), lossG.item()  # .item() waits for the device, like TF.js's data()

    times = []
    for i in range(a.warmup + a.steps):
        sync()
        t0 = time.perf_counter()
        lossD, lossG = step()
        sync()
        if i >= a.warmup:
            times.append(time.perf_counter() - t0)
    blas = "unknown"
    try:
        import os
        import re
        m = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
        blas = m.group(1) if m else blas
        if blas == "generic":  # Debian's build: whatever libblas.so.3 the alternatives system points at
            blas += ":" + os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    except Exception:  # noqa: BLE001
        pass
    print(json.dumps(dict(config=a.config, batch=b, device=a.device, median_s=statistics.median(times), times=times,
                          torch=torch.__version__, threads=torch.get_num_threads(), blas=blas,
                          gpu=torch.cuda.get_device_name(0) if a.device == "cuda" else None,
                          lossD=lossD, lossG=lossG)))


if __name__ == "__main__":
    main()
