#!/usr/bin/env python3
"""PyTorch twin of the product's training step, timed: the PyTorch column of bench/step-time.ts.

Run: /usr/bin/python3 bench/torch_step.py --model '{"model":"dcgan","imageSize":64,"channels":3,"nz":100,...}'
         --batch 16 [--steps 5] [--warmup 2] [--min-seconds 0] [--threads 2] [--device cpu|cuda]
     /usr/bin/python3 bench/torch_step.py --config seed|small --batch 16 [...]
Prints one JSON line: {"median_s", "times", "torch", "threads", "blas", "device", ...}; on failure exits non-zero
with a one-line message on stderr (the benches show it in place of the PyTorch column).

--model takes a gan-train model config (libs/model's ModelConfig, camelCase keys) and builds the product's own
family in PyTorch: test/torch/gan_torch.py, the definition the PyTorch reference suite checks the product against
(G: linear → BatchNorm1d → deconvs with biases; D: convs with biases → linear; or the MLP pair). Per step, as
@gan/training's trainStep does with a world of one:
  z ~ N(0,1) [B,nz], used by both phases;
  D phase: fakes = G(z) without gradients; BCE(D(real), 1) + BCE(D(fakes), 0) on logits; backward over D; Adam(D);
  G phase: BCE(D(G(z)), 1) through the updated D with D's parameters frozen (the product takes gradients over G's
           variables only); backward over G; Adam(G).
Adam is lr 2e-4, betas (0.5, 0.999), eps 1e-8 (gan-train's defaults); BatchNorm in training mode. Layout is NCHW
here (PyTorch's native one), NHWC in TF.js: each side runs its own fast path.

--config seed|small is the older self-contained raw-op DCGAN (no linear layers, no biases) of the first GPU figures
(../shared/gpu/README.md); no bench times it now.
Steps timed: at least --steps, and more until --min-seconds have been timed (at most 50 × --steps), so that
millisecond steps (the MLP) get a steady median too.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

RAW_CONFIGS = {
    "seed": dict(nc=3, size=64, nz=100, ngf=128, ndf=64),
    "small": dict(nc=1, size=32, nz=100, ngf=64, ndf=32),
}
HERE = os.path.dirname(os.path.abspath(__file__))
GAN_TORCH_DIRS = [os.path.join(HERE, "..", "test", "torch"), HERE]


def build_raw(nn, nc, size, nz, ngf, ndf):
    """The older raw-op DCGAN: z reshaped to 1×1, 4×4 deconvs and convs without biases."""
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


def build_product(config):
    """The product's G and D from a model config, plus (real sample shape without batch, nz)."""
    for d in GAN_TORCH_DIRS:
        if os.path.exists(os.path.join(d, "gan_torch.py")):
            sys.path.insert(0, d)
            break
    else:
        raise RuntimeError(f"gan_torch.py not found in {' or '.join(os.path.normpath(d) for d in GAN_TORCH_DIRS)}")
    from gan_torch import GAN  # noqa: E402 - found at run time, next to the test suite
    model = GAN(config)
    if config["model"] == "mlp":
        shape = (config.get("dataDim", 2),)
    else:
        shape = (config["channels"], config["imageSize"], config["imageSize"])
    return model.g, model.d, shape, config["nz"]


def main():
    ap = argparse.ArgumentParser()
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", help="gan-train model config as JSON (the product's family)")
    which.add_argument("--config", choices=sorted(RAW_CONFIGS), help="the older raw-op DCGAN (no bench times it now)")
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--min-seconds", type=float, default=0.0)
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
    b = a.batch
    try:
        if a.model is not None:
            G, D, shape, nz = build_product(json.loads(a.model))
            noise_shape = (b, nz)
        else:
            cfg = RAW_CONFIGS[a.config]
            G, D = build_raw(nn, **cfg)
            shape, nz = (cfg["nc"], cfg["size"], cfg["size"]), cfg["nz"]
            noise_shape = (b, nz, 1, 1)
    except (ValueError, KeyError, RuntimeError, json.JSONDecodeError) as e:
        print(f"bad model: {e}", file=sys.stderr)
        sys.exit(2)
    G.to(dev).train()
    D.to(dev).train()
    optD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
    optG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
    real = torch.rand(b, *shape, device=dev) * 2 - 1
    # The product's D gives [B,1] logits, the raw model [B,1,1,1]: compare flat.
    ones = torch.ones(b, device=dev)
    zeros = torch.zeros(b, device=dev)

    def sync():
        if a.device == "cuda":
            torch.cuda.synchronize()

    def step():
        z = torch.randn(*noise_shape, device=dev)
        # D phase
        with torch.no_grad():
            fakes = G(z)
        optD.zero_grad(set_to_none=True)
        lossD = F.binary_cross_entropy_with_logits(D(real).view(-1), ones) + \
            F.binary_cross_entropy_with_logits(D(fakes).view(-1), zeros)
        lossD.backward()
        optD.step()
        # G phase through the updated D, D frozen
        for p in D.parameters():
            p.requires_grad_(False)
        optG.zero_grad(set_to_none=True)
        lossG = F.binary_cross_entropy_with_logits(D(G(z)).view(-1), ones)
        lossG.backward()
        optG.step()
        for p in D.parameters():
            p.requires_grad_(True)
        return lossD.item(), lossG.item()  # .item() waits for the device, like TF.js's data()

    for _ in range(a.warmup):
        step()
    times = []
    while len(times) < a.steps or (sum(times) < a.min_seconds and len(times) < 50 * a.steps):
        sync()
        t0 = time.perf_counter()
        lossD, lossG = step()
        sync()
        times.append(time.perf_counter() - t0)
    blas = "unknown"
    try:
        import re
        m = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
        blas = m.group(1) if m else blas
        if blas == "generic":  # Debian's build: whatever libblas.so.3 the alternatives system points at
            blas += ":" + os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    except Exception:  # noqa: BLE001
        pass
    print(json.dumps(dict(config=a.config, model=json.loads(a.model) if a.model else None, batch=b, device=a.device,
                          median_s=statistics.median(times), times=times, torch=torch.__version__,
                          threads=torch.get_num_threads(), blas=blas,
                          gpu=torch.cuda.get_device_name(0) if a.device == "cuda" else None,
                          lossD=lossD, lossG=lossG)))


if __name__ == "__main__":
    main()
