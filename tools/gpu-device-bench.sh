#!/usr/bin/env bash
# The one command for a lent GPU machine: times the product's training step (bench/step-time.ts, bundled by
# tools/gpu-bundle.sh, which copies this script to .gpu/run-bench.sh) on --backend webgpu next to PyTorch on CUDA
# in the same run, and prints one JSON line per case: product and PyTorch medians (s), ratio, dispatches,
# read-backs, bytes read back, uploads and submits per step, the adapter, the top kernels of one profiled step.
#
# On the device, from the repo root with .gpu carried (default/16, default/64, small/64; ~2-3 min on an H200):
#   bash .gpu/run-bench.sh [more bench/step-time.ts flags; later flags win, e.g. --cases small/64 --steps 3]
# Here, to check the bundle on lavapipe (this machine's node, PyTorch on the CPU, no Vulkan set-up):
#   GPU_BENCH_HERE=1 bash .gpu/run-bench.sh --cases mlp/64 --steps 1 --warmup 0 --min-seconds 0
#
# Budget: the webgpu step took 0.2-0.5 s on an H200 (shared/gpu/README.md), so a case is ~15 timed and untimed
# steps, a child start with shader compilation, and a PyTorch start with CUDA init: well under a minute. Each child
# is killed after --timeout 150 s and the whole run after 480 s, inside the device tool's 600 s per command; every
# case that finished has printed its line by then.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# PyTorch with CUDA is the `python3` on the device's PATH; here it is Debian's /usr/bin/python3 (CONTRIBUTING.md),
# which need not be the first python3 on PATH.
if [ "${GPU_BENCH_HERE:-}" = 1 ]; then
  TORCH_PYTHON=${TORCH_PYTHON:-/usr/bin/python3}
else
  TORCH_PYTHON=${TORCH_PYTHON:-$(command -v python3 || echo /usr/bin/python3)}
fi
export TORCH_PYTHON
args=(--backend webgpu --json --cases default/16,default/64,small/64 --threads 4 --steps 10 --warmup 3
  --min-seconds 2 --profile 10 --timeout 150)
if [ "${GPU_BENCH_HERE:-}" = 1 ]; then
  exec timeout -k 10 900 node "$here/app/main.mjs" "${args[@]}" "$@"
fi
exec timeout -k 10 480 bash "$here/on-device.sh" "$here/app/main.mjs" "${args[@]}" "$@"
