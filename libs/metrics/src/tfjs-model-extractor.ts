/**
 * A user's own feature extractor for `gan-train eval --features MODEL`: a TF.js graph model (model.json + weight
 * shards, e.g. Inception-v3 converted with tensorflowjs_converter) run by @tensorflow/tfjs-converter, or a TF.js
 * layers model run by @tensorflow/tfjs-layers, on whatever tfjs-core backend is active (no tfjs-node needed: the
 * files are read by ./model-files).
 *
 * featuresNode / logitsNode name the graph nodes (layer names for a layers model) whose outputs are the features
 * (flattened per image, e.g. Inception's pool_3 [b, 1, 1, 2048] → [b, 2048]) and the class logits (softmax is
 * applied here). Without featuresNode a model with one output uses it; without logitsNode there are no class
 * probabilities and so no Inception-Score formula. The input size and channels come from the model's input shape
 * unless given (a graph with a free spatial size needs inputSize).
 * A probe run on two images at load time checks the nodes exist and have usable shapes, so a wrong name is one
 * line before any scoring starts.
 * Not a runnable file; tests: node tools/run-tests.mjs libs/metrics tfjs-model
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { FeatureExtractor } from './feature-extractor';
import { artifactsHandler, readModelFiles } from './model-files';

export interface ModelExtractorOptions {
  /** Node (graph) or layer (layers model) whose output is the features; default: the model's only output. */
  featuresNode?: string;
  /** Node or layer whose output is the class logits (pre-softmax); default: none. */
  logitsNode?: string;
  /** Side of the square input the model reads; default: from its input shape. */
  inputSize?: number;
  /** Pixel range the model expects (default [-1, 1]; TF-Hub image models want [0, 1]). */
  inputRange?: readonly [number, number];
  /** Whose features these are, for the score names (default: the model's folder name). */
  name?: string;
}

interface Runner {
  inputShape: (number | null)[] | undefined;
  outputNames: string[];
  /** Runs the model and returns the requested outputs, in order. */
  run(x: tf.Tensor4D, outputs: string[]): Promise<tf.Tensor[]>;
  dispose(): void;
}

async function optionalImport<T>(pkg: string, why: string): Promise<T> {
  try {
    return (await import(pkg)) as T;
  } catch (e) {
    throw new Error(`${why} needs the npm package ${pkg} (npm install ${pkg}@4): ${(e as Error).message.split('\n')[0]}`);
  }
}

async function graphRunner(files: ReturnType<typeof readModelFiles>, where: string): Promise<Runner> {
  const converter = await optionalImport<typeof import('@tensorflow/tfjs-converter')>('@tensorflow/tfjs-converter', 'a TF.js graph model');
  let model: import('@tensorflow/tfjs-converter').GraphModel;
  try {
    model = await converter.loadGraphModel(artifactsHandler(files));
  } catch (e) {
    throw new Error(`${where}: TF.js could not build the graph: ${(e as Error).message.split('\n')[0]}`);
  }
  if (model.inputs.length !== 1) {
    model.dispose();
    throw new Error(`${where}: the graph has ${model.inputs.length} inputs (${model.inputNodes.join(', ')}); an image feature extractor has one`);
  }
  let needsAsync = false;
  return {
    inputShape: model.inputs[0].shape,
    outputNames: model.outputNodes,
    // execute runs plain graphs (Inception's) synchronously; graphs with control flow or dynamic shapes need
    // executeAsync, which warns on every call when it was not needed, so it is used only once execute refuses.
    run: async (x, outputs) => {
      let r: tf.Tensor | tf.Tensor[];
      if (!needsAsync) {
        try {
          r = model.execute(x, outputs);
          return Array.isArray(r) ? r : [r];
        } catch (e) {
          if (!/executeAsync/.test((e as Error).message)) throw e;
          needsAsync = true;
        }
      }
      r = await model.executeAsync(x, outputs);
      return Array.isArray(r) ? r : [r];
    },
    dispose: () => model.dispose(),
  };
}

async function layersRunner(files: ReturnType<typeof readModelFiles>, where: string): Promise<Runner> {
  const tfl = await optionalImport<typeof import('@tensorflow/tfjs-layers')>('@tensorflow/tfjs-layers', 'a TF.js layers model');
  let model: import('@tensorflow/tfjs-layers').LayersModel;
  try {
    model = await tfl.loadLayersModel(artifactsHandler(files));
  } catch (e) {
    throw new Error(`${where}: TF.js could not build the layers model: ${(e as Error).message.split('\n')[0]}`);
  }
  if (model.inputs.length !== 1) {
    model.dispose();
    throw new Error(`${where}: the model has ${model.inputs.length} inputs; an image feature extractor has one`);
  }
  const subModels = new Map<string, import('@tensorflow/tfjs-layers').LayersModel>();
  return {
    inputShape: model.inputs[0].shape,
    outputNames: model.outputs.map((o) => o.sourceLayer.name),
    run: async (x, outputs) => {
      const key = outputs.join('\0');
      let m = subModels.get(key);
      if (!m) {
        // A model sharing the loaded layers (and weights) whose outputs are the named layers' outputs.
        m = tfl.model({ inputs: model.inputs, outputs: outputs.map((name) => model.getLayer(name).output as import('@tensorflow/tfjs-layers').SymbolicTensor) });
        subModels.set(key, m);
      }
      const r = m.predict(x);
      return Array.isArray(r) ? r : [r];
    },
    dispose: () => model.dispose(),
  };
}

/**
 * Loads model.json (or a folder holding it) as a FeatureExtractor.
 * @throws Error (one line, naming the file) for a malformed model.json, missing or short weights, a missing
 *   package, an unknown node, or outputs of unusable shape
 */
export async function loadModelExtractor(model: string, opts: ModelExtractorOptions = {}): Promise<FeatureExtractor> {
  const files = readModelFiles(model);
  const where = `features model ${files.path}`;
  const runner = files.format === 'graph-model' ? await graphRunner(files, where) : await layersRunner(files, where);
  try {
    const shape = runner.inputShape ?? [];
    if (shape.length !== 4) throw new Error(`${where}: input shape [${shape.join(', ')}] is not [batch, height, width, channels]`);
    const [, h, w, c] = shape;
    const inputSize = opts.inputSize ?? (h !== null && h > 0 && h === w ? h : undefined);
    if (inputSize === undefined) throw new Error(`${where}: input shape [${shape.join(', ')}] has no fixed square size; give the input size (--features-size N)`);
    if (!Number.isInteger(inputSize) || inputSize < 1) throw new Error(`${where}: input size must be a positive integer, got ${inputSize}`);
    if (h !== null && h > 0 && (h !== inputSize || w !== inputSize)) throw new Error(`${where}: the model reads ${h}×${w} images, not ${inputSize}×${inputSize}`);
    const channels = c === null || c === undefined || c < 0 ? 3 : c;
    if (channels !== 1 && channels !== 3) throw new Error(`${where}: the model reads ${channels}-channel images; 1 or 3 expected`);
    let featuresNode = opts.featuresNode;
    if (featuresNode === undefined) {
      if (runner.outputNames.length !== 1) throw new Error(`${where}: the model has outputs ${runner.outputNames.join(', ')}; name the features one (--features-node NAME)`);
      featuresNode = runner.outputNames[0];
    }
    const outputs = opts.logitsNode === undefined ? [featuresNode] : [featuresNode, opts.logitsNode];
    const range = opts.inputRange ?? [-1, 1];

    // Probe: two mid-grey images, through the same path the real batches take.
    const probe = tf.fill([2, inputSize, inputSize, channels], (range[0] + range[1]) / 2) as tf.Tensor4D;
    let out: tf.Tensor[];
    try {
      out = await runner.run(probe, outputs);
    } catch (e) {
      throw new Error(`${where}: running it on a ${inputSize}×${inputSize}×${channels} image failed (output ${outputs.join(', ')}): ${(e as Error).message.split('\n')[0]}`);
    } finally {
      probe.dispose();
    }
    let featureDim: number;
    let classes = 0;
    try {
      const f = out[0];
      if (f.rank < 2 || f.shape[0] !== 2) throw new Error(`${where}: features node '${featuresNode}' gives shape [${f.shape.join(', ')}] for 2 images; expected [2, ...]`);
      featureDim = f.size / 2;
      if (opts.logitsNode !== undefined) {
        const l = out[1];
        const k = l.rank === 2 ? (l.shape[1] as number) : 0;
        if (l.shape[0] !== 2 || k < 2) throw new Error(`${where}: logits node '${opts.logitsNode}' gives shape [${l.shape.join(', ')}] for 2 images; expected [2, classes]`);
        const v = (await l.data()) as Float32Array;
        const rowSum = (r: number) => Array.from(v.subarray(r * k, (r + 1) * k)).reduce((a, b) => a + b, 0);
        // Softmax of probabilities would flatten them towards uniform and quietly wreck the score.
        if (v.every((p) => p >= 0) && Math.abs(rowSum(0) - 1) < 1e-4 && Math.abs(rowSum(1) - 1) < 1e-4) {
          throw new Error(`${where}: node '${opts.logitsNode}' already gives probabilities (rows sum to 1); name the logits before the softmax`);
        }
        classes = k;
      }
    } finally {
      tf.dispose(out);
    }
    const name = opts.name ?? path.basename(path.dirname(files.path));
    return {
      name,
      inputSize,
      channels,
      inputRange: range,
      featureDim,
      classes,
      run: async (x) => {
        const r = await runner.run(x, outputs);
        const b = x.shape[0];
        const features = tf.tidy(() => tf.reshape(r[0], [b, featureDim]) as tf.Tensor2D);
        const probs = classes > 0 ? tf.tidy(() => tf.softmax(r[1] as tf.Tensor2D) as tf.Tensor2D) : null;
        tf.dispose(r);
        return { features, probs };
      },
      dispose: () => runner.dispose(),
    };
  } catch (e) {
    runner.dispose();
    throw e;
  }
}
