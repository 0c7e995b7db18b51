/**
 * scoreImages: the image-run numbers of `gan-train eval`, from one pass of a classifier of ./classifier (MNIST
 * digits or shapes) over generated and real images:
 *   - confident: share of generated samples whose top softmax probability exceeds 0.9 (a sharpness/recognisability
 *     proxy, in the spirit of the Inception Score's confident-prediction term);
 *   - histogram / classesCovered: argmax class counts over the generated samples (mode coverage of the 10 digits,
 *     or of the 3 shapes);
 *   - frechet: the classifier Fréchet distance between real and generated penultimate-layer features (pytorch-fid's
 *     formula on our own small CNN; not FID, not comparable with published FIDs; it depends on the sample sizes, so
 *     compare runs only at equal n and m).
 * Not a runnable file; tests: node tools/run-tests.mjs libs/metrics score
 */
import { classify, imageCount, type Classifier } from './classifier';
import { featureStats, frechetOfStats } from './frechet';

/** Top-class probability above which a generated sample counts as confidently classified. */
export const CONFIDENCE_THRESHOLD = 0.9;

export interface ImageScores {
  /** Number of generated images scored. */
  generated: number;
  /** Number of real images the reference statistics came from. */
  real: number;
  /** Share (0..1) of generated images with max softmax probability > 0.9. */
  confident: number;
  /** [K] counts of the argmax class over the generated images (sums to `generated`). */
  histogram: number[];
  /** Number of classes that are the argmax of at least one generated image. */
  classesCovered: number;
  /** Classifier Fréchet distance between real and generated penultimate features (≥ 0). */
  frechet: number;
}

/**
 * Scores generated images against real ones with a trained classifier.
 * @param generated [n, S, S, C] in [-1, 1], n ≥ 2
 * @param real [m, S, S, C] in [-1, 1], m ≥ 2 (S, C = the classifier's imageSize and channels for both)
 * @throws Error when an array is not a whole number of S×S×C images or holds fewer than 2
 */
export function scoreImages(classifier: Classifier, generated: Float32Array, real: Float32Array): ImageScores {
  const n = imageCount(classifier, generated, 'scoreImages (generated)');
  const m = imageCount(classifier, real, 'scoreImages (real)');
  if (n < 2) throw new Error(`scoreImages: need at least 2 generated images for the Fréchet statistics, got ${n}`);
  if (m < 2) throw new Error(`scoreImages: need at least 2 real images for the Fréchet statistics, got ${m}`);
  const g = classify(classifier, generated);
  const histogram = new Array<number>(classifier.arch.classes).fill(0);
  let confidentCount = 0;
  for (let i = 0; i < n; i++) {
    histogram[g.predictions[i]]++;
    if (g.confidence[i] > CONFIDENCE_THRESHOLD) confidentCount++;
  }
  const r = classify(classifier, real);
  const d = classifier.arch.hidden;
  const frechet = frechetOfStats(featureStats(r.features, m, d), featureStats(g.features, n, d));
  return {
    generated: n,
    real: m,
    confident: confidentCount / n,
    histogram,
    classesCovered: histogram.filter((c) => c > 0).length,
    frechet,
  };
}
