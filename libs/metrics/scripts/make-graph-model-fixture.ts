/**
 * Writes a tiny but real TF.js graph model — the files tensorflowjs_converter produces: model.json whose
 * modelTopology is a TensorFlow GraphDef as JSON, plus one weights shard — for the `--features MODEL` tests (Python
 * TensorFlow is not needed, and no binary is committed). The graph:
 *
 *   images  Placeholder [-1, S, S, C]
 *   conv    Conv2D 3×3, SAME, stride 1, kernel [3, 3, C, F]  → conv_bias BiasAdd → relu Relu
 *   features Mean over axes [1, 2] (global average pool)     → [-1, F]
 *   logits_mm MatMul [F, K] → logits BiasAdd                  → [-1, K]
 *   probs   Softmax                                           → [-1, K]  (the graph's only output)
 *
 * Weights are seeded normals, returned too so a test can redo the maths with tf ops directly.
 * Run: npx tsx libs/metrics/scripts/make-graph-model-fixture.ts OUT_DIR [--size 16] [--channels 3] [--seed 1]
 * (imported by libs/metrics/src/tfjs-model-extractor.test.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Rng } from '@gan/data';

export interface GraphFixture {
  /** The model.json written. */
  modelJson: string;
  size: number;
  channels: number;
  filters: number;
  classes: number;
  /** [3, 3, C, F] HWIO. */
  kernel: Float32Array;
  /** [F] */
  convBias: Float32Array;
  /** [F, K] */
  dense: Float32Array;
  /** [K] */
  denseBias: Float32Array;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const shapeAttr = (dims: number[]) => ({ shape: { dim: dims.map((d) => ({ size: String(d) })) } });
const F32 = { type: 'DT_FLOAT' };

function constNode(name: string, shape: number[], dtype: 'DT_FLOAT' | 'DT_INT32' = 'DT_FLOAT') {
  return {
    name,
    op: 'Const',
    attr: { dtype: { type: dtype }, value: { tensor: { dtype, tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } } },
  };
}

export function makeGraphModelFixture(
  dir: string,
  opts: { size?: number; channels?: number; filters?: number; classes?: number; seed?: number } = {},
): GraphFixture {
  const size = opts.size ?? 16;
  const channels = opts.channels ?? 3;
  const filters = opts.filters ?? 6;
  const classes = opts.classes ?? 4;
  const rng = new Rng(opts.seed ?? 1);
  const normals = (n: number, std: number) => Float32Array.from({ length: n }, () => rng.normal() * std);
  const kernel = normals(9 * channels * filters, Math.sqrt(2 / (9 * channels)));
  const convBias = normals(filters, 0.1);
  const dense = normals(filters * classes, 1);
  const denseBias = normals(classes, 0.1);
  const axes = Int32Array.from([1, 2]);

  const nodes = [
    { name: 'images', op: 'Placeholder', attr: { dtype: F32, shape: shapeAttr([-1, size, size, channels]) } },
    constNode('conv/kernel', [3, 3, channels, filters]),
    {
      name: 'conv',
      op: 'Conv2D',
      input: ['images', 'conv/kernel'],
      attr: {
        T: F32,
        strides: { list: { i: ['1', '1', '1', '1'] } },
        dilations: { list: { i: ['1', '1', '1', '1'] } },
        padding: { s: b64('SAME') },
        data_format: { s: b64('NHWC') },
        use_cudnn_on_gpu: { b: true },
      },
    },
    constNode('conv/bias', [filters]),
    { name: 'conv_bias', op: 'BiasAdd', input: ['conv', 'conv/bias'], attr: { T: F32, data_format: { s: b64('NHWC') } } },
    { name: 'relu', op: 'Relu', input: ['conv_bias'], attr: { T: F32 } },
    constNode('features/axes', [2], 'DT_INT32'),
    { name: 'features', op: 'Mean', input: ['relu', 'features/axes'], attr: { T: F32, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } } },
    constNode('dense/kernel', [filters, classes]),
    { name: 'logits_mm', op: 'MatMul', input: ['features', 'dense/kernel'], attr: { T: F32, transpose_a: { b: false }, transpose_b: { b: false } } },
    constNode('dense/bias', [classes]),
    { name: 'logits', op: 'BiasAdd', input: ['logits_mm', 'dense/bias'], attr: { T: F32, data_format: { s: b64('NHWC') } } },
    { name: 'probs', op: 'Softmax', input: ['logits'], attr: { T: F32 } },
  ];
  const weights: { name: string; shape: number[]; dtype: 'float32' | 'int32'; data: Float32Array | Int32Array }[] = [
    { name: 'conv/kernel', shape: [3, 3, channels, filters], dtype: 'float32', data: kernel },
    { name: 'conv/bias', shape: [filters], dtype: 'float32', data: convBias },
    { name: 'features/axes', shape: [2], dtype: 'int32', data: axes },
    { name: 'dense/kernel', shape: [filters, classes], dtype: 'float32', data: dense },
    { name: 'dense/bias', shape: [classes], dtype: 'float32', data: denseBias },
  ];
  const shard = 'group1-shard1of1.bin';
  const modelJson = {
    format: 'graph-model',
    generatedBy: 'gan-train libs/metrics/scripts/make-graph-model-fixture.ts',
    convertedBy: null,
    modelTopology: { node: nodes, library: {}, versions: { producer: 1286 } },
    weightsManifest: [{ paths: [shard], weights: weights.map(({ name, shape, dtype }) => ({ name, shape, dtype })) }],
  };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, shard), Buffer.concat(weights.map((w) => Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength))));
  const file = path.join(dir, 'model.json');
  fs.writeFileSync(file, JSON.stringify(modelJson, null, 1));
  return { modelJson: file, size, channels, filters, classes, kernel, convBias, dense, denseBias };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const out = process.argv[2];
  if (!out || out.startsWith('--')) {
    console.error('usage: npx tsx libs/metrics/scripts/make-graph-model-fixture.ts OUT_DIR [--size 16] [--channels 3] [--seed 1]');
    process.exit(2);
  }
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const f = makeGraphModelFixture(out, { size: arg('size'), channels: arg('channels'), seed: arg('seed') });
  console.log(JSON.stringify({ modelJson: f.modelJson, size: f.size, channels: f.channels, filters: f.filters, classes: f.classes }));
}
