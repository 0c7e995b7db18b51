// Sum's and Mean's gradients as dy broadcast back to x's shape by Tile, instead of tfjs-core's product with a
// tensor of ones that it fills in JS and uploads for every call.
//
// Why: every BatchNorm runs two Means per pass, and tfjs-core's backward pass of each built a ones tensor the size
// of the activations in a JS loop (28 ms of a default/16 step on wasm, as `makeOnesTypedArray` in the profile),
// copied it into the backend and multiplied it in (a broadcasting Multiply: 3 ms for 524 K values). Tile writes the
// result once (./wasm-tile-kernel makes the leading-axes case a memory copy on wasm). The values are the same bits:
// dy·1 = dy, and Mean's (dy·1)/n is dy/n, divided before the broadcast instead of after.
// Registered by ./gradients after tfjs-core's own set. Tests: node tools/run-tests.mjs libs/backend reduce-gradients
import {
  backend_util, div, Mean, reshape, Sum, tile, util, type GradConfig, type NamedAttrMap, type Tensor,
} from '@tensorflow/tfjs-core';

/** dy (x's shape with `axes` reduced, kept or not) repeated along `axes` back to x's shape. */
function broadcastBack(dy: Tensor, x: Tensor, axes: number[]): Tensor {
  const expanded = x.shape.slice();
  for (const a of axes) expanded[a] = 1;
  return tile(reshape(dy, expanded), x.shape.map((d, i) => (axes.includes(i) ? d : 1)));
}

function axesOf(attrs: NamedAttrMap | undefined, x: Tensor): number[] {
  return util.parseAxisParam((attrs as unknown as { axis: number | number[] }).axis, x.shape);
}

export const sumGradConfig: GradConfig = {
  kernelName: Sum,
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs?: NamedAttrMap) => {
    const [x] = saved;
    return { x: () => broadcastBack(dy as Tensor, x, axesOf(attrs, x)) };
  },
};

export const meanGradConfig: GradConfig = {
  kernelName: Mean,
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs?: NamedAttrMap) => {
    const [x] = saved;
    const axes = axesOf(attrs, x);
    const n = util.sizeFromShape(backend_util.computeOutAndReduceShapes(x.shape, axes)[1]);
    return { x: () => broadcastBack(div(dy as Tensor, n), x, axes) };
  },
};
