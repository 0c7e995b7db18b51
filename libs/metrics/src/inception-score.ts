/**
 * The Inception Score formula, IS = exp(E_x KL(p(y|x) ‖ p(y))) with p(y) = E_x p(y|x), over any classifier's class
 * probabilities (Salimans et al. 2016). It is "IS" only over Inception-v3's 1008/1000 ImageNet classes; over our
 * own classifiers it is the "classifier IS" (at most K, the number of classes: K when every sample is classified
 * with certainty and the classes are used equally, 1 when all samples get the same distribution).
 * Computed in float64 JS; 0·log 0 counts as 0. With `splits` > 1 the samples are cut into that many consecutive
 * parts, the score computed on each, and the mean and (population) standard deviation reported, as the reference
 * implementations (openai/improved-gan, sbarratt/inception-score-pytorch) do with 10 splits.
 * Tests (against numpy and torch on the same probabilities): node tools/run-tests.mjs libs/metrics inception-score
 */

export interface InceptionScore {
  /** Mean over the splits of exp(E KL(p(y|x) ‖ p(y))). */
  score: number;
  /** Standard deviation over the splits (0 with one split). */
  std: number;
  splits: number;
}

/**
 * @param probs [n, k] row-major class probabilities (each row non-negative, summing to ~1)
 * @throws Error on a size mismatch, n < splits, or a row that is not a probability distribution (a negative or
 *   non-finite entry, or a sum off 1 by more than 1e-3: logits passed by mistake)
 */
export function inceptionScore(probs: ArrayLike<number>, n: number, k: number, splits = 1): InceptionScore {
  if (!Number.isInteger(k) || k < 1) throw new Error(`inceptionScore: number of classes must be a positive integer, got ${k}`);
  if (!Number.isInteger(n) || n < 1) throw new Error(`inceptionScore: need at least one sample, got ${n}`);
  if (probs.length !== n * k) throw new Error(`inceptionScore: expected ${n}×${k} = ${n * k} probabilities, got ${probs.length}`);
  if (!Number.isInteger(splits) || splits < 1 || splits > n) throw new Error(`inceptionScore: splits must be an integer in [1, ${n}], got ${splits}`);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const p = probs[i * k + j];
      if (!(p >= 0) || !Number.isFinite(p)) throw new Error(`inceptionScore: probability ${j} of sample ${i} is ${p}`);
      sum += p;
    }
    if (Math.abs(sum - 1) > 1e-3) throw new Error(`inceptionScore: the probabilities of sample ${i} sum to ${sum}, not 1 (logits instead of softmax outputs?)`);
  }
  const scores: number[] = [];
  const py = new Float64Array(k);
  const base = Math.floor(n / splits);
  const extra = n % splits;
  for (let s = 0, to = 0; s < splits; s++) {
    // Parts as numpy's array_split (and torch.tensor_split) cut them: the first n % splits parts get one more.
    const from = to;
    to = from + base + (s < extra ? 1 : 0);
    py.fill(0);
    for (let i = from; i < to; i++) for (let j = 0; j < k; j++) py[j] += probs[i * k + j];
    for (let j = 0; j < k; j++) py[j] /= to - from;
    let kl = 0;
    for (let i = from; i < to; i++) {
      for (let j = 0; j < k; j++) {
        const p = probs[i * k + j];
        // p > 0 implies p(y=j) > 0, so the log is finite.
        if (p > 0) kl += p * (Math.log(p) - Math.log(py[j]));
      }
    }
    scores.push(Math.exp(kl / (to - from)));
  }
  const score = scores.reduce((a, b) => a + b, 0) / splits;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - score) ** 2, 0) / splits);
  return { score, std, splits };
}
