# PyTorch gloo all-reduce timing: the anchor for bench/allreduce.ts.
# Run: /usr/bin/python3 bench/gloo_allreduce.py --n 2 --bytes 62000000 [--iters 10] [--warmup 3]
# Prints one JSON line: {"impl": "gloo", "n", "bytes", "ms" (median), "times"}.
import argparse, json, os, socket, statistics, time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def run(rank, n, port, nbytes, warmup, iters, q):
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=n)
    t = torch.rand(nbytes // 4, dtype=torch.float32)
    times = []
    for i in range(warmup + iters):
        dist.barrier()
        t0 = time.perf_counter()
        dist.all_reduce(t)
        ms = (time.perf_counter() - t0) * 1e3
        if i >= warmup:
            times.append(ms)
    if rank == 0:
        q.put(times)
    dist.barrier()
    dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=2)
    ap.add_argument('--bytes', type=int, default=62_000_000)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--iters', type=int, default=10)
    a = ap.parse_args()
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    ctx = mp.get_context('spawn')
    q = ctx.Queue()
    procs = [ctx.Process(target=run, args=(r, a.n, port, a.bytes, a.warmup, a.iters, q)) for r in range(a.n)]
    for p in procs:
        p.start()
    times = q.get(timeout=600)
    for p in procs:
        p.join(60)
        if p.is_alive():
            p.kill()
    print(json.dumps({'impl': 'gloo', 'n': a.n, 'bytes': a.bytes, 'ms': statistics.median(times), 'times': times}))


if __name__ == '__main__':
    main()
