// Stands in for the npm package `sharp` in the GPU bundle (tools/gpu-bundle.sh aliases `sharp` to this file).
// @gan/training imports @gan/data, whose image-folder reader imports sharp, a native module that loads its binary at
// import time: the lent GPU machine has no node_modules, so the real one would stop the bundle before it started.
// The bench never reads an image folder; should anything call it there, it says so in one line.
export default function sharp() {
  throw new Error("sharp is not in the GPU bundle (tools/gpu-bundle.sh): image folders cannot be read with it");
}
