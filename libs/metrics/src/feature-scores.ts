/**
 * The Fréchet distance and the Inception-Score formula over any FeatureExtractor, each with its real-vs-real floor,
 * for `gan-train eval`:
 *   - FD = Fréchet distance (./frechet) between the extractor's features of n generated images and of m real ones
 *     (reference set A); its floor is the same distance between n *other* real images (set B, disjoint from A) and
 *     A. The statistic is biased upwards at finite n, so even perfect samples score about the floor, not 0: the
 *     floor is the best value a generator can expect at these sample sizes.
 *   - IS = exp(E KL(p(y|x) ‖ p(y))) (./inception-score) over the extractor's class probabilities of the n
 *     generated images; its "floor" is the IS of the n real images of B: what real data scores (higher is better,
 *     so for IS this is the ceiling a generator aims at).
 * Names say whose features these are: "shapes-classifier FD", "mnist-classifier IS", "<model> FD"; only an
 * extractor named 'inception-v3' gets the usual "FID" / "IS" (and then values compare with published ones only
 * with the same weights and preprocessing).
 * Not a runnable file; tests: node tools/run-tests.mjs libs/metrics feature-scores
 */
import { extractFeatures, type FeatureExtractor } from './feature-extractor';
import { featureStats, frechetOfStats } from './frechet';
import { inceptionScore } from './inception-score';

export interface NamedScore {
  /** e.g. "shapes-classifier FD". */
  name: string;
  /** Generated vs real. */
  value: number;
  /** The same score of real images in place of the generated ones (two disjoint real samples of these sizes). */
  real_vs_real: number;
  better: 'lower' | 'higher';
}

export interface FeatureScores {
  /** Whose features: the extractor's name. */
  features: string;
  generated: number;
  /** Size of the real reference set A (set B has `generated` images). */
  real: number;
  fd: NamedScore;
  /** Absent when the extractor gives no class probabilities. */
  is?: NamedScore;
  /** Generated images' class probabilities [generated, classes] (for histograms), when the extractor has classes. */
  probs?: Float32Array;
}

/** The score names for an extractor: plain FID / IS only for Inception-v3. */
export function scoreNames(features: string): { fd: string; is: string } {
  if (features.toLowerCase() === 'inception-v3') return { fd: 'FID', is: 'IS' };
  return { fd: `${features} FD`, is: `${features} IS` };
}

/**
 * @param generated [n, size, size, channels] in [-1, 1]
 * @param realA [m, ...] the reference real images
 * @param realB [n, ...] real images disjoint from realA, as many as generated
 */
export async function featureScores(
  ex: FeatureExtractor,
  images: { generated: Float32Array; realA: Float32Array; realB: Float32Array },
  shape: { size: number; channels: number },
): Promise<FeatureScores> {
  const g = await extractFeatures(ex, images.generated, shape, { what: 'generated images' });
  const a = await extractFeatures(ex, images.realA, shape, { what: 'real images' });
  const b = await extractFeatures(ex, images.realB, shape, { what: 'real images (floor set)' });
  if (b.n !== g.n) throw new Error(`featureScores: the floor's real set has ${b.n} images, the generated set ${g.n}; they must be the same size`);
  if (g.n < 2 || a.n < 2) throw new Error(`featureScores: need at least 2 generated and 2 real images, got ${g.n} and ${a.n}`);
  const d = ex.featureDim;
  const sa = featureStats(a.features, a.n, d);
  const names = scoreNames(ex.name);
  const out: FeatureScores = {
    features: ex.name,
    generated: g.n,
    real: a.n,
    fd: {
      name: names.fd,
      value: frechetOfStats(sa, featureStats(g.features, g.n, d)),
      real_vs_real: frechetOfStats(sa, featureStats(b.features, b.n, d)),
      better: 'lower',
    },
  };
  if (ex.classes > 0 && g.probs && b.probs) {
    out.is = {
      name: names.is,
      value: inceptionScore(g.probs, g.n, ex.classes).score,
      real_vs_real: inceptionScore(b.probs, b.n, ex.classes).score,
      better: 'higher',
    };
    out.probs = g.probs;
  }
  return out;
}
