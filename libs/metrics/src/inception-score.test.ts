// Tests of the Inception-Score formula: closed-form cases (certain and equally used classes give K, identical rows
// give 1), splits, bad input, and a cross-check against /usr/bin/python3 on the same probabilities: numpy following
// sbarratt/inception-score-pytorch (scipy.stats.entropy written out) and torch's F.kl_div, both in float64
// (skipped, saying so, when neither numpy nor torch is importable).
// Run: node tools/run-tests.mjs libs/metrics inception-score
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Rng } from '@gan/data';
import { inceptionScore } from './inception-score';

/** n rows of softmax(scale · normal) over k classes, float32 like a classifier's output. */
function randomProbs(n: number, k: number, seed: number, scale: number): Float32Array {
  const rng = new Rng(seed);
  const p = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: k }, () => rng.normal() * scale);
    const mx = Math.max(...row);
    const e = row.map((v) => Math.exp(v - mx));
    const s = e.reduce((a, b) => a + b, 0);
    e.forEach((v, j) => (p[i * k + j] = v / s));
  }
  return p;
}

test('closed forms: one-hot rows over all K classes equally give K; identical rows give 1', () => {
  const k = 5;
  const n = 50;
  const onehot = new Float32Array(n * k);
  for (let i = 0; i < n; i++) onehot[i * k + (i % k)] = 1;
  assert.ok(Math.abs(inceptionScore(onehot, n, k).score - k) < 1e-12);
  // Only 2 of the 5 classes used, equally: exp(log 2) = 2.
  const two = new Float32Array(n * k);
  for (let i = 0; i < n; i++) two[i * k + (i % 2)] = 1;
  assert.ok(Math.abs(inceptionScore(two, n, k).score - 2) < 1e-12);
  const same = new Float32Array(n * k);
  for (let i = 0; i < n; i++) same.set([0.1, 0.2, 0.3, 0.25, 0.15], i * k);
  assert.ok(Math.abs(inceptionScore(same, n, k).score - 1) < 1e-6);
});

test('splits: each part scored on its own, mean and population std reported', () => {
  const k = 3;
  // First half one-hot over 3 classes (IS 3), second half all the same class (IS 1).
  const p = new Float32Array(12 * k);
  for (let i = 0; i < 6; i++) p[i * k + (i % 3)] = 1;
  for (let i = 6; i < 12; i++) p[i * k] = 1;
  const r = inceptionScore(p, 12, k, 2);
  assert.ok(Math.abs(r.score - 2) < 1e-12, `score ${r.score}`);
  assert.ok(Math.abs(r.std - 1) < 1e-12, `std ${r.std}`);
});

test('bad input: logits, sizes and splits are one-line errors', () => {
  assert.throws(() => inceptionScore([2, -1, 0.5, 0.5], 2, 2), /probability 1 of sample 0 is -1/);
  assert.throws(() => inceptionScore([0.7, 0.7, 0.5, 0.5], 2, 2), /sum to 1\.4.*logits instead/);
  assert.throws(() => inceptionScore([1, 0, 0], 2, 2), /expected 2×2 = 4/);
  assert.throws(() => inceptionScore([1, 0, 0, 1], 2, 2, 3), /splits must be an integer in \[1, 2\]/);
});

test('matches numpy (reference implementation) and torch F.kl_div on the same probabilities', (t) => {
  const have = (mod: string) => spawnSync('/usr/bin/python3', ['-c', `import ${mod}`], { encoding: 'utf8' }).status === 0;
  const np = have('numpy');
  const torch = have('torch');
  if (!np && !torch) {
    t.skip('/usr/bin/python3 with numpy or torch not available');
    return;
  }
  const n = 500;
  const k = 10;
  const sharp = randomProbs(n, k, 3, 4);
  // Near-one-hot rows with exact zeros: the 0·log 0 convention matters.
  const withZeros = randomProbs(n, k, 4, 2);
  for (let i = 0; i < n; i += 3) {
    withZeros.fill(0, i * k, (i + 1) * k);
    withZeros[i * k + (i % k)] = 1;
  }
  const script = String.raw`
import json, sys
cases = json.load(sys.stdin)
out = []
for c in cases:
    n, k, splits = c['n'], c['k'], c['splits']
    r = {}
    try:
        import numpy as np
        p = np.asarray(c['p'], dtype=np.float64).reshape(n, k)
        scores = []
        for part in np.array_split(p, splits):
            py = part.mean(axis=0)
            # scipy.stats.entropy(pyx, py) = sum pyx * log(pyx / py), with 0 where pyx == 0
            kl = [np.sum(np.where(pyx > 0, pyx * np.log(np.where(pyx > 0, pyx, 1) / py), 0.0)) for pyx in part]
            scores.append(np.exp(np.mean(kl)))
        r['numpy'] = [float(np.mean(scores)), float(np.std(scores))]
    except ImportError:
        pass
    try:
        import torch
        import torch.nn.functional as F
        p = torch.tensor(c['p'], dtype=torch.float64).reshape(n, k)
        scores = []
        for part in torch.tensor_split(p, splits):
            py = part.mean(0, keepdim=True).expand_as(part)
            kl = F.kl_div(py.log(), part, reduction='none').sum(1)
            scores.append(torch.exp(kl.mean()))
        s = torch.stack(scores)
        r['torch'] = [float(s.mean()), float(s.std(unbiased=False))]
    except ImportError:
        pass
    out.append(r)
print(json.dumps(out))
`;
  const cases = [
    { p: Array.from(sharp), n, k, splits: 1 },
    { p: Array.from(sharp), n, k, splits: 10 },
    { p: Array.from(withZeros), n, k, splits: 7 },
  ];
  const r = spawnSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(cases), encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `python failed: ${r.stderr}`);
  const py = JSON.parse(r.stdout) as Record<string, [number, number]>[];
  cases.forEach((c, i) => {
    const ours = inceptionScore(c.p, c.n, c.k, c.splits);
    for (const [how, [score, std]] of Object.entries(py[i])) {
      t.diagnostic(`case ${i} (${c.splits} splits): ours ${ours.score} ± ${ours.std}, ${how} ${score} ± ${std}`);
      assert.ok(Math.abs(ours.score - score) <= 1e-9 * score, `case ${i} vs ${how}: ${ours.score} vs ${score}`);
      assert.ok(Math.abs(ours.std - std) <= 1e-9 * Math.max(1, score), `case ${i} std vs ${how}: ${ours.std} vs ${std}`);
    }
  });
  // The cases must not be trivial: a sharp 10-class set scores well above 1.
  assert.ok(inceptionScore(sharp, n, k).score > 3);
});
