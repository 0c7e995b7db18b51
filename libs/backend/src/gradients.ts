// Makes tf.grad work in Node with a bare @tensorflow/tfjs-core.
//
// Why this exists: Node loads tfjs-core through its "main" (dist/tf-core.node.js), and that bundle contains no
// gradient definitions: tf.grad of anything fails with "gradient function not found for Sum". The definitions live
// in the ESM file dist/register_all_gradients.js, which plain Node (and tsx) cannot import because its imports have
// no file extensions. So, once per tfjs version, this bundles that file with esbuild into
// node_modules/.cache/gan-backend/ and imports the bundle. The bundle carries its own copy of the ops the gradients
// use, but tfjs keeps its engine and its kernel and gradient registries on globalThis, so the registrations land in
// the same registry that `import * as tf from '@tensorflow/tfjs-core'` uses.
// Bundled programs (bench/gpu-step.ts) import '@tensorflow/tfjs-core/dist/register_all_gradients' directly instead:
// esbuild resolves extensionless imports itself.
import { getGradient, version_core } from '@tensorflow/tfjs-core';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

let pending: Promise<void> | null = null;

/** True when tfjs-core has gradient definitions registered (Conv2D is a representative one). */
export function gradientsRegistered(): boolean {
  return getGradient('Conv2D') != null;
}

/**
 * Registers all tfjs-core gradients if they are not registered yet. Idempotent and safe to call concurrently.
 * @param cacheDir where the esbuild bundle is written (default: node_modules/.cache/gan-backend next to tfjs-core)
 */
export function ensureGradients(cacheDir?: string): Promise<void> {
  if (gradientsRegistered()) return Promise.resolve();
  pending ??= load(cacheDir).catch((e) => {
    pending = null;
    throw new Error(`could not register tfjs-core gradients: ${(e as Error).message.split('\n')[0]}`);
  });
  return pending;
}

async function load(cacheDir?: string): Promise<void> {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  // .../node_modules/@tensorflow/tfjs-core/dist/register_all_gradients.js → .../node_modules
  const nodeModules = path.resolve(path.dirname(entry), '..', '..', '..');
  const dir = cacheDir ?? path.join(nodeModules, '.cache', 'gan-backend');
  const file = path.join(dir, `tfjs-gradients-${version_core}.mjs`);
  if (!fs.existsSync(file)) {
    const { build } = await import('esbuild');
    fs.mkdirSync(dir, { recursive: true });
    // Build to a private name then rename: several workers may start at once, and rename is atomic.
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', minify: true, outfile: tmp, logLevel: 'error' });
    fs.renameSync(tmp, file);
  }
  await import(pathToFileURL(file).href);
  if (!gradientsRegistered()) throw new Error(`${file} loaded but registered no gradients`);
}
