/**
 * Measures one Adam update of the document's full-size DCGAN generator (12.7M params) two ways, on the cpu and
 * wasm backends: (a) the lib's adamApply (WebAssembly SIMD loop over flat float32 arrays, then setFlatWeights),
 * and (b) a tfjs-ops Adam (m/v as tf.variables, gradient uploaded once and sliced per variable, ~10 tensor ops per
 * variable). (a) runs at each of --threads (default 1; @gan/backend's host threads, which split the update's
 * elements), all in one process so the thread counts are compared on the same machine state.
 * Run: node --import tsx libs/model/scripts/bench-adam.ts [cpu|wasm ...] [--threads 1,2] [--no-ops]
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { setHostThreads } from '@gan/backend';
import { adamApply, buildGan, createAdam, disposeGan, paramCount, type Net } from '../src/index';

function tfAdam(net: Net) {
  const m = net.params.map((p) => tf.variable(tf.zerosLike(p.variable), false));
  const v = net.params.map((p) => tf.variable(tf.zerosLike(p.variable), false));
  let step = 0;
  const [lr, b1, b2, eps] = [2e-4, 0.5, 0.999, 1e-8];
  return {
    apply(flat: Float32Array): void {
      for (let i = 0; i < flat.length; i++) if (!Number.isFinite(flat[i])) throw new Error('non-finite');
      step++;
      const stepSize = lr / (1 - b1 ** step);
      const bc2 = Math.sqrt(1 - b2 ** step);
      tf.tidy(() => {
        const g = tf.tensor1d(flat);
        let off = 0;
        net.params.forEach((p, k) => {
          const gi = tf.reshape(tf.slice(g, off, p.variable.size), p.variable.shape);
          off += p.variable.size;
          m[k].assign(tf.add(tf.mul(m[k], b1), tf.mul(gi, 1 - b1)));
          v[k].assign(tf.add(tf.mul(v[k], b2), tf.mul(tf.square(gi), 1 - b2)));
          const denom = tf.add(tf.div(tf.sqrt(v[k]), bc2), eps);
          p.variable.assign(tf.sub(p.variable, tf.mul(tf.div(m[k], denom), stepSize)));
        });
      });
      net.params[0].variable.dataSync(); // make sure the work is done
    },
    dispose: () => [...m, ...v].forEach((t) => t.dispose()),
  };
}

function time(label: string, reps: number, fn: () => void): void {
  fn(); // warm-up
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  console.log(`${label}: median ${ts[Math.floor(reps / 2)].toFixed(1)} ms (min ${ts[0].toFixed(1)})`);
}

const argv = process.argv.slice(2);
const at = argv.indexOf('--threads');
const threads = at >= 0 ? argv[at + 1].split(',').map(Number) : [1];
const named = argv.filter((a, i) => !a.startsWith('--') && (at < 0 || i !== at + 1));
const backends = named.length ? named : ['cpu', 'wasm'];
for (const be of backends) {
  await tf.setBackend(be);
  await tf.ready();
  const gan = buildGan({ model: 'dcgan', imageSize: 64, channels: 3, nz: 100, ngf: 128, ndf: 64, norm: 'batch', mlpHidden: 0, dataDim: 0 }, 1);
  const n = paramCount(gan.g);
  const grads = new Float32Array(n).map((_, i) => Math.sin(i) * 1e-3);
  for (const th of threads) {
    setHostThreads(th);
    const js = createAdam(gan.g);
    time(`${be} adamApply (wasm SIMD, ${th} host thread${th === 1 ? '' : 's'}), ${n} params`, 9, () => adamApply(js, gan.g, grads));
  }
  setHostThreads(1);
  if (!argv.includes('--no-ops')) {
    const t = tfAdam(gan.g);
    time(`${be} tfjs-ops Adam, ${n} params`, 5, () => t.apply(grads));
    t.dispose();
  }
  disposeGan(gan);
}
