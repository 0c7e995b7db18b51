/**
 * Public API of @gan/metrics: the MNIST classifier that judges generated images (train, save/load, classify) and
 * the image-run scores of `gan-train eval` (confident share, class histogram / coverage, classifier Fréchet
 * distance), plus the float64 Fréchet maths. The TF.js backend is the caller's choice (@gan/backend initBackend).
 * Tests: node tools/run-tests.mjs libs/metrics
 */
export {
  CLASSIFIER_ARCH_VERSION,
  CLASSIFIER_FORMAT,
  DEFAULT_ARCH,
  NUM_CLASSES,
  accuracy,
  classify,
  createClassifier,
  disposeClassifier,
  fitClassifier,
  forward,
  loadClassifier,
  saveClassifier,
  type Classification,
  type Classifier,
  type ClassifierArch,
  type FitOptions,
  type MetricsLogger,
} from './classifier';
export { HELD_OUT, trainClassifier, type TrainClassifierOptions, type TrainClassifierResult } from './train-classifier';
export { CONFIDENCE_THRESHOLD, scoreImages, type ImageScores } from './score';
export {
  featureStats,
  frechetDistance,
  frechetOfStats,
  sqrtmPsd,
  symmetricEigen,
  traceSqrtProduct,
  type FeatureStats,
  type SymmetricEigen,
} from './frechet';
