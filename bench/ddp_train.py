#!/usr/bin/env python3
"""PyTorch DistributedDataParallel on gloo, timed: the anchor of bench/scaling.ts (training samples/s vs workers).

Run: /usr/bin/python3 bench/ddp_train.py --model '{"model":"dcgan","imageSize":32,"channels":1,"nz":100,...}'
         --batch 64 --procs 2 [--steps 20] [--warmup 3] [--threads N]
Prints one JSON line: {"procs", "batch", "threads", "median_s", "times", "samples_per_s", "torch", "params" (G's and D's
parameter counts), "lossD", "lossG"};
on failure exits non-zero with a one-line message on stderr.

The model is the product's own family in PyTorch, built by bench/torch_step.py's build_product from
test/torch/gan_torch.py (the definition the PyTorch reference suite checks the product against), every rank from
the same seed. --procs processes on 127.0.0.1 (torch.multiprocessing, a gloo process group over TCP), each with
--threads compute threads (default: this machine's cores ÷ procs, as gan-train local gives its workers), each on
its own batch of --batch samples (the per-worker batch, as gan-train's --batch-size). Per step, what the product's
trainStep does with an all-reduce (mean) of each phase's gradient:
  z ~ N(0,1) [B,nz], used by both phases;
  D phase: fakes = G(z) without gradients; BCE(D(real), 1) + BCE(D(fakes), 0) on logits, real and fake rows in
           separate passes (separate BatchNorm batch statistics, as the product); backward (DDP all-reduces D's
           gradient, bucketed and overlapped with the backward pass); Adam(D);
  G phase: BCE(D(G(z)), 1) through the updated D with D's parameters frozen; backward (DDP all-reduces G's
           gradient); Adam(G).
DDP broadcasts rank 0's BatchNorm buffers before each wrapped forward (broadcast_buffers, the product does it once
a step). D's two passes run inside one wrapped forward (RealFake below), so DDP sees one forward per backward.
With --procs 1 the step runs without DDP or a process group, as `gan-train train` runs without a collective.
Adam is lr 2e-4, betas (0.5, 0.999), eps 1e-8 (gan-train's defaults); the real batch is uniform noise in [-1, 1],
fixed (the product prefetches its data, so loading is not part of either side's step). The time of a step is rank
0's: every step ends in all-reduces, so the ranks leave it together.
"""
import argparse
import json
import os
import socket
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from torch_step import build_product  # noqa: E402 - the product's family, built as bench/step-time.ts's PyTorch side


def rank_main(rank, a, port, q):
    import torch
    import torch.distributed as dist
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.nn.parallel import DistributedDataParallel as DDP

    torch.set_num_threads(a.threads)
    ddp = a.procs > 1
    if ddp:
        dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=a.procs)
    torch.manual_seed(1)
    G, D, shape, nz = build_product(json.loads(a.model))
    G.train()
    D.train()

    class RealFake(nn.Module):
        """D on the real rows and on the fakes, in one forward (two passes, separate batch statistics)."""

        def __init__(self, d):
            super().__init__()
            self.d = d

        def forward(self, real, fakes):
            return self.d(real), self.d(fakes)

    d_pair = DDP(RealFake(D)) if ddp else RealFake(D)
    g_step = DDP(G) if ddp else G
    optD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
    optG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
    b = a.batch
    torch.manual_seed(1000 + rank)  # each rank its own data and noise, as each worker its own shard
    real = torch.rand(b, *shape) * 2 - 1
    ones = torch.ones(b)
    zeros = torch.zeros(b)

    def step():
        z = torch.randn(b, nz)
        with torch.no_grad():
            fakes = G(z)
        optD.zero_grad(set_to_none=True)
        out_real, out_fake = d_pair(real, fakes)
        lossD = F.binary_cross_entropy_with_logits(out_real.view(-1), ones) + \
            F.binary_cross_entropy_with_logits(out_fake.view(-1), zeros)
        lossD.backward()
        optD.step()
        for p in D.parameters():
            p.requires_grad_(False)
        optG.zero_grad(set_to_none=True)
        lossG = F.binary_cross_entropy_with_logits(D(g_step(z)).view(-1), ones)
        lossG.backward()
        optG.step()
        for p in D.parameters():
            p.requires_grad_(True)
        return lossD.item(), lossG.item()

    times = []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        lossD, lossG = step()
        if i >= a.warmup:
            times.append(time.perf_counter() - t0)
    if rank == 0:
        q.put(dict(times=times, lossD=lossD, lossG=lossG, torch=torch.__version__, threads=torch.get_num_threads(),
                   params=dict(g=sum(p.numel() for p in G.parameters()), d=sum(p.numel() for p in D.parameters()))))
    if ddp:
        dist.barrier()
        dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', required=True, help='gan-train model config as JSON (the product family)')
    ap.add_argument('--batch', type=int, required=True, help='samples per process and step')
    ap.add_argument('--procs', type=int, default=2)
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--threads', type=int, default=0, help='compute threads per process (0: cores ÷ procs, at least 1)')
    a = ap.parse_args()
    if a.procs < 1 or a.batch < 2 or a.steps < 1 or a.warmup < 0:
        print('--procs ≥ 1, --batch ≥ 2, --steps ≥ 1 and --warmup ≥ 0', file=sys.stderr)
        sys.exit(2)
    try:
        json.loads(a.model)
    except json.JSONDecodeError as e:
        print(f'--model is not JSON: {e}', file=sys.stderr)
        sys.exit(2)
    if a.threads <= 0:
        a.threads = max(1, (os.cpu_count() or 1) // a.procs)
    try:
        import torch.multiprocessing as mp
    except Exception as e:  # noqa: BLE001 - any import failure means "no PyTorch column"
        print(f'import torch failed: {e}', file=sys.stderr)
        sys.exit(2)
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    ctx = mp.get_context('spawn')
    q = ctx.Queue()
    procs = [ctx.Process(target=rank_main, args=(r, a, port, q)) for r in range(a.procs)]
    for p in procs:
        p.start()
    try:
        res = None
        deadline = time.monotonic() + 900
        while res is None:
            try:
                res = q.get(timeout=1)
            except Exception:  # noqa: BLE001 - queue.Empty: check that no rank died
                if any(p.exitcode not in (None, 0) for p in procs) or time.monotonic() > deadline:
                    print(f'ddp_train: a rank failed or timed out (exit codes {[p.exitcode for p in procs]})', file=sys.stderr)
                    sys.exit(1)
        for p in procs:
            p.join(60)
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
    med = statistics.median(res['times'])
    print(json.dumps(dict(procs=a.procs, batch=a.batch, threads=res['threads'], median_s=med, times=res['times'],
                          samples_per_s=a.procs * a.batch / med, torch=res['torch'], params=res['params'],
                          lossD=res['lossD'], lossG=res['lossG'])))


if __name__ == '__main__':
    main()
