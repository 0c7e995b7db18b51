#!/usr/bin/env bash
# Installs Mesa's lavapipe (a software Vulkan driver) from the Debian release's backports suite, so that WebGPU
# (tfjs-backend-webgpu through the npm package `webgpu`, i.e. Dawn) finds an adapter on a machine without a GPU:
# for the correctness tests (test/webgpu.test.ts) and for counting dispatches and read-backs, not for speed.
# The base release's Mesa is too old for Dawn (requestAdapter() answers null). The backports suite is added from
# the machine's own apt sources, so no mirror address is written here. Debian 12+ (deb822 sources) only.
# Run as root: bash tools/lavapipe.sh   (.ci/run does, and carries on without WebGPU when it fails)
set -euo pipefail
if ls /usr/share/vulkan/icd.d/ 2>/dev/null | grep -qi lvp; then
  echo "lavapipe already installed: $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || echo unknown)"
  exit 0
fi
src=/etc/apt/sources.list.d/debian.sources
[ -f "$src" ] || { echo "no $src (deb822 apt sources): add <codename>-backports yourself" >&2; exit 1; }
codename=$(. /etc/os-release; echo "$VERSION_CODENAME")
bp=/etc/apt/sources.list.d/backports-from-base.sources
if [ ! -f "$bp" ]; then
  # The first stanza of the base sources (the main archive) with its suites replaced by <codename>-backports.
  awk -v s="Suites: ${codename}-backports" 'BEGIN{RS="";ORS="\n\n"} NR==1{gsub(/Suites:[^\n]*/, s); print}' "$src" > "$bp"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq -t "${codename}-backports" mesa-vulkan-drivers libvulkan1 >/dev/null
ls /usr/share/vulkan/icd.d/ | grep -qi lvp || { echo "lavapipe ICD not found after install" >&2; exit 1; }
echo "lavapipe installed: $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
