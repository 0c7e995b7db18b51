// Our wasm BatchMatMul: every transpose combination, batched and broadcast, equals the cpu backend's product, and
// the transposed operands it lays out are freed. Run: node tools/run-tests.mjs libs/backend wasm-matmul
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './index';
import { wasmMatMulKernelRegistered } from './wasm-matmul-kernel';

before(async () => {
  await initBackend('cpu');
  await initBackend('wasm');
});

async function product(backend: string, a: { v: Float32Array; s: number[] }, b: { v: Float32Array; s: number[] }, ta: boolean, tb: boolean): Promise<Float32Array> {
  await tf.setBackend(backend);
  return tf.tidy(() => tf.matMul(tf.tensor(a.v, a.s), tf.tensor(b.v, b.s), ta, tb).dataSync() as Float32Array).slice();
}

function rand(shape: number[], seed: number): { v: Float32Array; s: number[] } {
  return { v: tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', seed).dataSync() as Float32Array).slice(), s: shape };
}

test('BatchMatMul with transposeA and/or transposeB equals cpu (2-D, batched, broadcast batch)', async () => {
  assert.ok(wasmMatMulKernelRegistered());
  const cases: [number[], number[]][] = [[[5, 7], [7, 3]], [[2, 5, 7], [2, 7, 3]], [[1, 5, 7], [3, 7, 4]]];
  for (const [as, bs] of cases) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const sa = ta ? [...as.slice(0, -2), as.at(-1)!, as.at(-2)!] : as;
        const sb = tb ? [...bs.slice(0, -2), bs.at(-1)!, bs.at(-2)!] : bs;
        const a = rand(sa, 1);
        const b = rand(sb, 2);
        const want = await product('cpu', a, b, ta, tb);
        await tf.setBackend('wasm');
        const ids = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
        const got = await product('wasm', a, b, ta, tb);
        assert.equal((tf.backend() as unknown as { numDataIds(): number }).numDataIds(), ids, 'no wasm data left behind');
        let err = 0;
        for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(want[i] - got[i]));
        assert.equal(got.length, want.length);
        assert.ok(err < 1e-5, `[${sa}]${ta ? 'ᵀ' : ''} · [${sb}]${tb ? 'ᵀ' : ''}: max error ${err}`);
      }
    }
  }
});
