#!/usr/bin/env bash
# Builds .gpu/ for the lent GPU machine (see ../shared/gpu/README.md): node + the Vulkan loader (prepare.sh, once),
# bench/gpu-step.ts bundled into .gpu/app/main.mjs, bench/torch_step.py beside it, and the `webgpu` package files
# (dawn.node) it loads at run time. Checks that .gpu stays under 60 MiB (the device tool carries 64 MiB at most).
# Run from anywhere in the repo: bash tools/gpu-bundle.sh
# Then, on the device (repo root): bash .gpu/on-device.sh .gpu/app/main.mjs [--cases seed:16,seed:64,small:64]
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
[ -s .gpu/node.xz ] || bash ../shared/gpu/prepare.sh
# prepare.sh brings only libvulkan1 + libglvnd0; on the H200 the NVIDIA ICD (libGLX_nvidia) also needs the GLX/EGL
# dispatch libraries, or vkCreateInstance finds no driver (seen 2026-11-26). Fetch them once.
if [ ! -s .gpu/debs/libglx0_*.deb ] 2>/dev/null || ! ls .gpu/debs/libglx0_*.deb >/dev/null 2>&1; then
  lists=$(mktemp -d); mkdir -p "$lists/partial"
  o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
  apt-get $o update >/dev/null 2>&1 || true
  (cd .gpu/debs && apt-get $o download libegl1 libopengl0 libgl1 libglx0 libgles2 >/dev/null 2>&1) || echo "could not download the GLX/EGL packages" >&2
fi
app=.gpu/app
rm -rf "$app"
mkdir -p "$app/node_modules/webgpu/dist/linux-x64"
# webgpu stays external: it loads dawn.node relative to its own index.js. Workspace imports are not needed on the
# device (the bundle is gpu-step.ts + raw-dcgan-step.ts), so @gan/backend and esbuild stay out of the bundle.
npx esbuild bench/gpu-step.ts --bundle --platform=node --format=esm --target=node20 \
  --external:webgpu --external:@gan/backend --external:esbuild \
  --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" \
  --outfile="$app/main.mjs" --log-level=warning
cp bench/torch_step.py "$app/"
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$app/node_modules/webgpu/"
cp node_modules/webgpu/dist/linux-x64/dawn.node "$app/node_modules/webgpu/dist/linux-x64/"
cp -r node_modules/debug node_modules/ms "$app/node_modules/"
kib=$(du -sk .gpu | cut -f1)
echo "gpu-bundle: .gpu is $((kib / 1024)) MiB ($(du -sh "$app/main.mjs" | cut -f1) main.mjs)"
if [ "$kib" -ge $((60 * 1024)) ]; then
  echo "gpu-bundle: .gpu is over 60 MiB; the device tool carries 64 MiB at most" >&2
  exit 1
fi
