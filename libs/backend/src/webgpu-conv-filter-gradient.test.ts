// The webgpu Conv2DBackpropFilter (./webgpu-conv-filter-gradient, a tiled implicit GEMM) against a float64 loop of
// the definition, on shapes that leave partial tiles in every dimension, strides 1 and 2, 'same', 'valid' and
// explicit padding, and k split over several workgroups (split-K, a last slice shorter than the rest); NCHW goes to tfjs's own kernel and is right too. Skips with a message where no WebGPU adapter
// exists. Run: node tools/run-tests.mjs libs/backend webgpu-conv-filter-gradient
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { splitKSlices } from './webgpu-conv-filter-gradient';
import { lcg } from './reduction-test-data';
import { startWebgpu, toNhwc, worstRelative } from './webgpu-test-support';

let missing: string | null = null;

before(async () => {
  missing = await startWebgpu();
});

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

/** dW[r, s, ci, co] = Σ x[b, oy·stride + r − pt, ox·stride + s − pl, ci]·dy[b, oy, ox, co], in float64 (NHWC). */
function reference(x: Float32Array, xs: number[], dy: Float32Array, ds: number[], k: number, stride: number, pt: number, pl: number): Float64Array {
  const [B, H, W, Ci] = xs;
  const [, OH, OW, Co] = ds;
  const dw = new Float64Array(k * k * Ci * Co);
  for (let b = 0; b < B; b++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let r = 0; r < k; r++)
          for (let s = 0; s < k; s++) {
            const iy = oy * stride + r - pt;
            const ix = ox * stride + s - pl;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            for (let ci = 0; ci < Ci; ci++) {
              const xv = x[((b * H + iy) * W + ix) * Ci + ci];
              for (let co = 0; co < Co; co++) dw[((r * k + s) * Ci + ci) * Co + co] += xv * dy[((b * OH + oy) * OW + ox) * Co + co];
            }
          }
  return dw;
}

test('webgpu Conv2DBackpropFilter equals the definition (partial tiles, strides 1 and 2, every padding form)', async (t) => {
  if (missing) return t.skip(missing);
  const cases: { x: number[]; k: number; co: number; stride: number; pad: Pad }[] = [
    { x: [2, 9, 9, 3], k: 4, co: 5, stride: 2, pad: 1 }, // the DCGAN's first layer in small: m = 48, one tile
    { x: [3, 16, 16, 70], k: 4, co: 130, stride: 2, pad: 1 }, // m = 1120, n = 130: partial tiles both ways
    { x: [2, 7, 7, 4], k: 3, co: 6, stride: 1, pad: 'same' },
    { x: [2, 10, 10, 8], k: 4, co: 17, stride: 2, pad: 'valid' },
    { x: [1, 5, 5, 2], k: 4, co: 3, stride: 1, pad: 'same' }, // even k, 'same': pads 1 top/left, 2 bottom/right
    { x: [2, 9, 8, 5], k: 3, co: 7, stride: 2, pad: [[0, 0], [2, 1], [0, 1], [0, 0]] }, // explicit, top ≠ left
    { x: [4, 32, 32, 3], k: 4, co: 8, stride: 2, pad: 1 }, // k = 1024 over one tile: split into 4 slices
    { x: [3, 30, 30, 5], k: 4, co: 9, stride: 2, pad: 1 }, // k = 675: 2 slices, the last one short
  ];
  const split: number[] = [];
  for (const [i, c] of cases.entries()) {
    const info = tf.backend_util.computeConv2DInfo(c.x as [number, number, number, number], [c.k, c.k, c.x[3], c.co], c.stride, 1, c.pad);
    const ds = [c.x[0], info.outHeight, info.outWidth, c.co];
    split.push(splitKSlices(c.k * c.k * c.x[3], c.co, c.x[0] * info.outHeight * info.outWidth));
    const xv = lcg(c.x.reduce((a, b) => a * b, 1), 3 * i + 1);
    const dv = lcg(ds.reduce((a, b) => a * b, 1), 3 * i + 2);
    const x = tf.tensor(xv, c.x);
    const dy = tf.tensor(dv, ds);
    const dw = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: [c.k, c.k, c.x[3], c.co] }) as tf.Tensor;
    assert.deepEqual(dw.shape, [c.k, c.k, c.x[3], c.co]);
    const got = await dw.data();
    tf.dispose([x, dy, dw]);
    const e = worstRelative(got, reference(xv, c.x, dv, ds, c.k, c.stride, info.padInfo.top, info.padInfo.left));
    assert.ok(e < 1e-5, `case ${i} (${split[i]} slices) x [${c.x}] k ${c.k} co ${c.co} stride ${c.stride} pad ${JSON.stringify(c.pad)}: max error ${e} of the largest value`);
  }
  assert.deepEqual(split.slice(-2), [4, 2], 'the last two cases run split-K');
});

test('webgpu Conv2DBackpropFilter on NCHW data is tfjs\'s own kernel, and right', async (t) => {
  if (missing) return t.skip(missing);
  const [B, C, H, W, k, co] = [2, 3, 8, 8, 4, 4];
  const xv = lcg(B * C * H * W, 11);
  const dv = lcg(B * co * 4 * 4, 12);
  const x = tf.tensor(xv, [B, C, H, W]);
  const dy = tf.tensor(dv, [B, co, 4, 4]);
  const dw = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { strides: 2, pad: 1, dataFormat: 'NCHW', filterShape: [k, k, C, co] }) as tf.Tensor;
  const got = await dw.data();
  tf.dispose([x, dy, dw]);
  const e = worstRelative(got, reference(toNhwc(xv, [B, C, H, W]), [B, H, W, C], toNhwc(dv, [B, co, 4, 4]), [B, 4, 4, co], k, 2, 1, 1));
  assert.ok(e < 1e-5, `NCHW: max error ${e}`);
});
