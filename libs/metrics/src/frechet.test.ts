// Tests of the float64 matrix maths behind the classifier Fréchet distance: Jacobi eigen-decomposition, PSD square
// root, feature statistics, closed-form cases, and a cross-check against /usr/bin/python3 (scipy's sqrtm when
// importable, else numpy's non-symmetric eigvals of S1·S2; skipped when neither is there).
// Run: node tools/run-tests.mjs libs/metrics frechet
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Rng } from '@gan/data';
import { featureStats, frechetDistance, frechetOfStats, sqrtmPsd, symmetricEigen, traceSqrtProduct } from './frechet';

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected} ± ${tol}`);
}

/** n samples of a correlated d-dim Gaussian (x = L·z + mean), [n, d]. */
function gaussianSample(n: number, d: number, seed: number, mean = 0): Float64Array {
  const rng = new Rng(seed);
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) l[i * d + j] = rng.normal() * (i === j ? 1 : 0.3);
  const x = new Float64Array(n * d);
  const z = new Float64Array(d);
  for (let s = 0; s < n; s++) {
    for (let j = 0; j < d; j++) z[j] = rng.normal();
    for (let i = 0; i < d; i++) {
      let v = mean;
      for (let j = 0; j <= i; j++) v += l[i * d + j] * z[j];
      x[s * d + i] = v;
    }
  }
  return x;
}

function randomSymmetric(d: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) a[i * d + j] = a[j * d + i] = rng.normal();
  return a;
}

test('symmetricEigen reconstructs A = V·diag(λ)·Vᵀ with orthonormal V', () => {
  const d = 12;
  const a = randomSymmetric(d, 7);
  const { values, vectors: v } = symmetricEigen(a, d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let r = 0;
      let o = 0;
      for (let k = 0; k < d; k++) {
        r += v[i * d + k] * values[k] * v[j * d + k];
        o += v[k * d + i] * v[k * d + j];
      }
      close(r, a[i * d + j], 1e-10, `A[${i},${j}]`);
      close(o, i === j ? 1 : 0, 1e-12, `VᵀV[${i},${j}]`);
    }
  }
});

test('symmetricEigen of a known 2×2 matrix', () => {
  // [[2,1],[1,2]] has eigenvalues 1 and 3.
  const { values } = symmetricEigen([2, 1, 1, 2], 2);
  const sorted = [...values].sort((x, y) => x - y);
  close(sorted[0], 1, 1e-14, 'λ0');
  close(sorted[1], 3, 1e-14, 'λ1');
});

test('sqrtmPsd squares back to the matrix, and clamps the null space of a singular PSD matrix', () => {
  const d = 10;
  // Rank-4 PSD: B·Bᵀ with B d×4.
  const rng = new Rng(3);
  const b = Array.from({ length: d * 4 }, () => rng.normal());
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k < 4; k++) a[i * d + j] += b[i * 4 + k] * b[j * 4 + k];
  const r = sqrtmPsd(a, d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += r[i * d + k] * r[k * d + j];
      close(s, a[i * d + j], 1e-9, `(√A)²[${i},${j}]`);
      assert.ok(Number.isFinite(r[i * d + j]));
    }
  }
});

test('featureStats matches hand-computed mean and unbiased covariance', () => {
  // Samples (1,2), (3,6), (5,4): mean (3,4); cov: var x = 4, var y = 4, cov xy = 2.
  const s = featureStats([1, 2, 3, 6, 5, 4], 3, 2);
  assert.deepEqual([...s.mu], [3, 4]);
  assert.deepEqual([...s.sigma], [4, 2, 2, 4]);
  assert.throws(() => featureStats([1, 2], 1, 2), /at least 2 samples/);
  assert.throws(() => featureStats([1, 2, 3], 2, 2), /expected 2×2 = 4 values, got 3/);
  assert.throws(() => featureStats([1, 2, NaN, 4], 2, 2), /feature 0 of sample 1 is NaN/);
});

test('Fréchet of a sample against itself is ~0 and against a shifted copy is ||shift||²', () => {
  const n = 400;
  const d = 16;
  const x = gaussianSample(n, d, 11);
  const s = featureStats(x, n, d);
  close(frechetOfStats(s, s), 0, 1e-8, 'self');
  const shift = Array.from({ length: d }, (_, i) => (i % 3) - 1 + 0.25 * i);
  const y = x.map((v, k) => v + shift[k % d]);
  const t = featureStats(y, n, d);
  const expected = shift.reduce((acc, v) => acc + v * v, 0);
  close(frechetOfStats(s, t), expected, 1e-7 * expected, 'shifted');
});

test('Fréchet in a closed-form 2×2 case (commuting diagonal covariances)', () => {
  // S1 = diag(4, 9), S2 = diag(1, 16): Tr sqrtm(S1 S2) = 2 + 12 = 14; Tr S1 + Tr S2 = 30 → 30 - 28 = 2.
  // Means (0,0) and (1,2): + 5 → 7. Equals Σ (σ1ᵢ - σ2ᵢ)² + ||Δμ||² = (2-1)² + (3-4)² + 5.
  close(frechetDistance([0, 0], [4, 0, 0, 9], [1, 2], [1, 0, 0, 16]), 7, 1e-12, 'diagonal');
  // Non-commuting case: S1 = [[2,1],[1,2]], S2 = I → Tr sqrtm(S1) = 1 + √3; d² = 4 + 2 - 2(1 + √3).
  close(frechetDistance([0, 0], [2, 1, 1, 2], [0, 0], [1, 0, 0, 1]), 6 - 2 * (1 + Math.sqrt(3)), 1e-12, 'rotated');
  // Tr sqrtm(S1 S2) for non-commuting 2×2: S1 = [[1,0],[0,0]], S2 = [[1,1],[1,1]] → S1 S2 = [[1,1],[0,0]], eigen 1, 0.
  close(traceSqrtProduct([1, 0, 0, 0], [1, 1, 1, 1], 2), 1, 1e-12, 'singular product');
});

test('Fréchet is finite and stable on singular 128-d covariances (dead features, n < d)', () => {
  const d = 128;
  const n = 60; // rank ≤ 59
  const x = gaussianSample(n, d, 5).map((v, k) => (k % d < 20 ? 0 : Math.max(v, 0))); // ReLU + dead units
  const y = gaussianSample(n, d, 6).map((v, k) => (k % d < 20 ? 0 : Math.max(v, 0)));
  const sx = featureStats(x, n, d);
  const sy = featureStats(y, n, d);
  const f = frechetOfStats(sx, sy);
  assert.ok(Number.isFinite(f) && f > 0, `expected a positive finite distance, got ${f}`);
  close(frechetOfStats(sx, sx), 0, 1e-6, 'singular self');
  // Symmetric in its arguments.
  close(frechetOfStats(sy, sx), f, 1e-8 * f, 'symmetry');
});

test('frechetDistance rejects mismatched sizes', () => {
  assert.throws(() => frechetDistance([0, 0], [1, 0, 0, 1], [0], [1]), /means differ in length/);
  assert.throws(() => frechetDistance([0, 0], [1, 0, 0], [0, 0], [1, 0, 0, 1]), /first covariance has 3 entries/);
});

test('Fréchet matches an independent Python computation', (t) => {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    t.skip('/usr/bin/python3 with numpy not available');
    return;
  }
  const d = 24;
  const n = 200;
  const x = gaussianSample(n, d, 21);
  const y = gaussianSample(n, d, 22, 0.3);
  const sx = featureStats(x, n, d);
  const sy = featureStats(y, n, d);
  const ours = frechetOfStats(sx, sy);
  // Python recomputes the statistics itself (np.cov) from the raw samples, so featureStats is checked too.
  const script = `
import json, sys
import numpy as np
inp = json.load(sys.stdin)
d = inp['d']
x = np.array(inp['x']).reshape(-1, d); y = np.array(inp['y']).reshape(-1, d)
m1, m2 = x.mean(0), y.mean(0)
s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
try:
    from scipy import linalg
    c = linalg.sqrtm(s1.dot(s2), disp=False)[0].real
    tr = np.trace(c); how = 'scipy'
except ImportError:
    ev = np.linalg.eigvals(s1.dot(s2))
    tr = np.sqrt(np.clip(ev.real, 0, None)).sum(); how = 'numpy-eigvals'
print(json.dumps({'f': float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr), 'how': how}))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', script], {
    input: JSON.stringify({ d, x: Array.from(x), y: Array.from(y) }),
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, `python failed: ${r.stderr}`);
  const py = JSON.parse(r.stdout) as { f: number; how: string };
  t.diagnostic(`python (${py.how}): ${py.f}, ours: ${ours}`);
  close(ours, py.f, 1e-8 * Math.max(1, py.f), `vs python ${py.how}`);
});
