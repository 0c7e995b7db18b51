/**
 * Public API of @gan/metrics: the classifiers that judge generated images (MNIST digits, shapes; train, save/load,
 * classify), feature extractors (ours, or a user's TF.js graph / layers model), the image-run scores of
 * `gan-train eval` (FD and the Inception-Score formula with real-vs-real floors, confident share, class histogram /
 * coverage), plus the float64 Fréchet maths. The TF.js backend is the caller's choice (@gan/backend initBackend).
 * Tests: node tools/run-tests.mjs libs/metrics
 */
export {
  CLASSIFIER_ARCH_VERSION,
  CLASSIFIER_FORMAT,
  CLASSIFIER_TASKS,
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
  type ClassifierTask,
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
export { inceptionScore, type InceptionScore } from './inception-score';
export { classifierExtractor, extractFeatures, type ExtractedFeatures, type FeatureExtractor } from './feature-extractor';
export { featureScores, scoreNames, type FeatureScores, type NamedScore } from './feature-scores';
export { loadModelExtractor, type ModelExtractorOptions } from './tfjs-model-extractor';
export { readModelFiles, type ModelFiles, type ModelFormat } from './model-files';
export { SHAPES_ARCH, shapesDownsample, trainShapesClassifier, type TrainShapesClassifierOptions, type TrainShapesClassifierResult } from './train-shapes-classifier';
