/**
 * Trains the eval classifier on the real MNIST t10k split (first 8,000 images; accuracy on the last 2,000) for each
 * requested image size with the wasm backend, and prints held-out accuracy and wall time. Weights go to --out-dir
 * (default /tmp/gan-metrics-classifier); they are not meant to be committed.
 * Run: npx tsx libs/metrics/scripts/train-mnist.ts [--sizes 28,32] [--epochs 5] [--batch 64] [--data DIR]
 *      [--out-dir DIR] [--backend wasm|cpu|auto] [--limit N]
 */
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '@gan/backend';
import { trainClassifier } from '../src/index';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
}

const sizes = arg('sizes', '28,32').split(',').map(Number);
const epochs = Number(arg('epochs', '5'));
const batchSize = Number(arg('batch', '64'));
// ../shared beside the project root, as the data lib's tests look for it.
const dataRoot = arg('data', process.env.GAN_MNIST_DIR ?? path.resolve(import.meta.dirname, '../../../../shared/datasets/mnist'));
const outDir = arg('out-dir', '/tmp/gan-metrics-classifier');
const limit = process.argv.includes('--limit') ? Number(arg('limit', '0')) : undefined;
const logger = {
  info: (o: object, m: string) => console.log(`${m} ${JSON.stringify(o)}`),
  warn: (o: object, m: string) => console.warn(`WARN ${m} ${JSON.stringify(o)}`),
};

await initBackend(arg('backend', 'wasm') as 'wasm', logger);
fs.mkdirSync(outDir, { recursive: true });
const results = [];
for (const imageSize of sizes) {
  if (imageSize !== 28 && imageSize !== 32) throw new Error(`--sizes: ${imageSize} is not 28 or 32`);
  const out = path.join(outDir, `mnist-classifier-${imageSize}.safetensors`);
  const r = await trainClassifier({ dataRoot, imageSize, epochs, batchSize, seed: 1, out, logger, trainLimit: limit });
  results.push({ imageSize, ...r });
}
console.table(results.map((r) => ({ px: r.imageSize, train: r.trainAccuracy.toFixed(4), heldOut: r.heldOutAccuracy.toFixed(4), seconds: r.seconds.toFixed(1), path: r.path })));
