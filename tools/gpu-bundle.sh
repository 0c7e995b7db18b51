#!/usr/bin/env bash
# Builds .gpu/ for the lent GPU machine (see ../shared/gpu/README.md), which has no Node.js, npm or network:
#   .gpu/node.xz, .gpu/debs/, .gpu/on-device.sh   node and the Vulkan loader (../shared/gpu/prepare.sh, once)
#   .gpu/app/main.mjs                             bench/step-time.ts bundled: the product's own training step
#                                                 (@gan/training's trainStep), timed next to PyTorch
#   .gpu/app/torch_step.py, gan_torch.py          the PyTorch side (bench/torch_step.py and the model it imports)
#   .gpu/app/node_modules/webgpu/                 the one package left outside the bundle: dawn.node, found by
#                                                 its index.js relative to itself
#   .gpu/app/cli/                                 gan-train itself, for `gan-train local --workers 2` there: the
#                                                 three apps bundled whole, bin/gan-train.mjs, the protos
#   .gpu/app/split.mjs                            bench/step-split.ts bundled: steps/s of such a run
#   .gpu/app/node_modules/@tensorflow/tfjs-backend-wasm/  the files the wasm backend reads at run time
#   .gpu/run-bench.sh                             tools/gpu-device-bench.sh: the one command to run there
# and checks that .gpu stays under 60 MiB (the device tool carries 64 MiB at most).
# Run from anywhere in the repo: bash tools/gpu-bundle.sh
# Then on the device, from the repo root with .gpu carried: bash .gpu/run-bench.sh   (see that script's header)
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
[ -s .gpu/node.xz ] || bash ../shared/gpu/prepare.sh
# Older prepare.sh runs brought only libvulkan1 + libglvnd0; on the H200 the NVIDIA ICD (libGLX_nvidia) also needs
# the GLX/EGL dispatch libraries, or vkCreateInstance finds no driver (seen 2026-11-26). Fetch them if missing.
if ! ls .gpu/debs/libglx0_*.deb >/dev/null 2>&1; then
  lists=$(mktemp -d); mkdir -p "$lists/partial"
  o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
  apt-get $o update >/dev/null 2>&1 || true
  (cd .gpu/debs && apt-get $o download libegl1 libopengl0 libgl1 libglx0 libgles2 >/dev/null 2>&1) || echo "could not download the GLX/EGL packages" >&2
fi
[ -s .gpu/on-device.sh ] || cp ../shared/gpu/on-device.sh .gpu/on-device.sh
app=.gpu/app
rm -rf "$app"
mkdir -p "$app/node_modules/webgpu/dist/linux-x64"
# Everything else is bundled, workspace libs included, so the bench runs the product's code from the same sources
# that `npm run bench:step` runs. Left out of the bundle:
# - webgpu: it loads dawn.node relative to its own index.js, so it is copied as a package below;
# - sharp (native, loads its binary at import time; only image folders use it): replaced by a stub that throws;
# - the wasm backend's files read at run time (copied as a package below); our own WebAssembly kernels (Adam,
#   BatchNorm sums) are base64 inside the bundle;
# - tfjs-node: @gan/backend imports it by a computed name, which esbuild leaves to run time (not found there).
# An ES module has no require, __filename or __dirname, which bundled CommonJS code (Emscripten's loader among it)
# uses: the banner defines them for each bundle. Whitespace and syntax are minified (identifiers are kept: a
# third of the size, error messages and stacks still readable).
banner="import { createRequire as __cr } from 'module'; import { fileURLToPath as __fu } from 'url'; import { dirname as __dn } from 'path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);"
bundle() {
  npx esbuild --bundle --platform=node --format=esm --target=node20 --minify-whitespace --minify-syntax \
    --external:webgpu --alias:sharp=./tools/gpu-bundle-sharp-stub.mjs --banner:js="$banner" --log-level=warning "$@"
}
bundle bench/step-time.ts --outfile="$app/main.mjs"
bundle bench/step-split.ts --outfile="$app/split.mjs"
# gan-train as tools/build.mjs lays it out (the worker's heartbeat thread beside its main.mjs), everything bundled;
# bin/gan-train.mjs runs dist/apps/<app>/main.mjs where no sources sit beside it, and the launcher finds bin/ from
# the bundle's place. Not code-split: both lookups go from the importing module's own URL, which in a shared chunk
# is the chunk's folder (the heartbeat thread would not be found, and a worker would miss every heartbeat).
bundle cli/main=apps/cli/src/main.ts worker/main=apps/worker/src/main.ts coordinator/main=apps/coordinator/src/main.ts \
  worker/heartbeat-worker=libs/distributed/src/heartbeat-worker.ts --outdir="$app/cli/dist/apps" --out-extension:.js=.mjs
mkdir -p "$app/cli/bin"
cp bin/gan-train.mjs "$app/cli/bin/"
cp -r protos "$app/cli/"
cp bench/torch_step.py test/torch/gan_torch.py "$app/"
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$app/node_modules/webgpu/"
cp node_modules/webgpu/dist/linux-x64/dawn.node "$app/node_modules/webgpu/dist/linux-x64/"
# The wasm backend locates its .wasm files (and, with threads, its threaded build's loader) through its package.
wasm=node_modules/@tensorflow/tfjs-backend-wasm
mkdir -p "$app/$wasm/dist" "$app/$wasm/wasm-out"
cp "$wasm/package.json" "$app/$wasm/"
cp "$wasm"/dist/tf-backend-wasm.node.js "$wasm"/dist/*.wasm "$app/$wasm/dist/"
cp "$wasm"/wasm-out/tfjs-backend-wasm-threaded-simd.js "$wasm"/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js "$app/$wasm/wasm-out/"
cp tools/gpu-device-bench.sh .gpu/run-bench.sh
kib=$(du -sk .gpu | cut -f1)
echo "gpu-bundle: .gpu is $((kib / 1024)) MiB ($(du -sh "$app/main.mjs" | cut -f1) main.mjs); on the device: bash .gpu/run-bench.sh"
if [ "$kib" -ge $((60 * 1024)) ]; then
  echo "gpu-bundle: .gpu is over 60 MiB; the device tool carries 64 MiB at most" >&2
  exit 1
fi
