#!/usr/bin/env bash
# The one command for a lent GPU machine: times the product's training step (bench/step-time.ts, bundled by
# tools/gpu-bundle.sh, which copies this script to .gpu/run-bench.sh) on --backend webgpu next to PyTorch on CUDA
# in the same run, and prints one JSON line per case: product and PyTorch medians (s), ratio, dispatches,
# read-backs, bytes read back, uploads and submits per step, the adapter, the top kernels of one profiled step.
# Then `gan-train local --workers 2` (the bundled CLI, both workers on the one GPU) on webgpu and on wasm
# (bench/step-split.ts): one JSON line per backend and case with steps/s and where a step's time went.
#
# On the device, from the repo root with .gpu carried (default/16, default/64, small/64; ~2-3 min on an H200, then
# the local runs, ~2 min):
#   bash .gpu/run-bench.sh [more bench/step-time.ts flags; later flags win, e.g. --cases small/64 --steps 3]
#   GPU_LOCAL_CASES (default small:2,seed:2) and GPU_LOCAL_STEPS (default 8) set the local runs; GPU_LOCAL_CASES=
#   (empty) skips them.
# Here, to check the bundle on lavapipe (this machine's node, PyTorch on the CPU, no Vulkan set-up):
#   GPU_BENCH_HERE=1 GPU_LOCAL_CASES=small:2 GPU_LOCAL_STEPS=3 bash .gpu/run-bench.sh --cases mlp/64 --steps 1 \
#     --warmup 0 --min-seconds 0
#
# Budget: the webgpu step took 0.2-0.5 s on an H200 (shared/gpu/README.md), so a case is ~15 timed and untimed
# steps, a child start with shader compilation, and a PyTorch start with CUDA init: well under a minute. Each child
# is killed after --timeout 150 s and the bench after 360 s; each backend's local runs after 90 s; 540 s in all,
# inside the device tool's 600 s per command. Every case that finished has printed its line by then.
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
cases=${GPU_LOCAL_CASES-small:2,seed:2}
local_runs() {
  [ -n "$cases" ] || return 0
  for backend in webgpu wasm; do
    timeout -k 10 "$1" node "$here/app/split.mjs" --json --bin "$here/app/cli/bin/gan-train.mjs" --backend "$backend" \
      --cases "$cases" --steps "${GPU_LOCAL_STEPS:-8}" || echo "{\"local\":\"$backend\",\"error\":\"exit $?\"}"
  done
}
if [ "${GPU_BENCH_HERE:-}" = 1 ]; then
  timeout -k 10 900 node "$here/app/main.mjs" "${args[@]}" "$@"
  local_runs 900
  exit 0
fi
# on-device.sh unpacks node to /tmp/gpu-node and the Vulkan loader into /, then runs the bench.
timeout -k 10 360 bash "$here/on-device.sh" "$here/app/main.mjs" "${args[@]}" "$@" || echo '{"bench":"error","exit":'$?'}'
export PATH=/tmp/gpu-node:$PATH VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
local_runs 90
