// The one place that fills tfjs-core's gradient registry (the one on globalThis that every copy of tfjs-core and
// `import * as tf from '@tensorflow/tfjs-core'` use) with tfjs-core's own gradient definitions.
//
// Why this exists: Node loads tfjs-core through its "main" (dist/tf-core.node.js), and that bundle, like every
// other bundle tfjs-core ships (tf-core.js, .fesm.js, .es2017.js, .min.js), contains no gradient definitions: tf.grad
// of anything fails with "gradient function not found for Sum". The definitions live only in the ESM file
// dist/register_all_gradients.js, which plain Node (and tsx) cannot import: its ~480-file import tree uses
// extensionless specifiers. So ./tfjs-gradients.generated.mjs holds that file's gradient configs, bundled at
// development time by ./tfjs-gradients.gen.ts and committed (gradients.test.ts checks it equals a fresh generation
// from the installed tfjs-core): nothing is bundled or written at run time, and loading it takes ~10 ms.
// The configs come with a copy of the ops they call; tfjs keeps its engine and its kernel and gradient registries on
// globalThis, so those ops run on the engine of the tfjs-core the program imported. We register the configs through
// that tfjs-core's own registerGradient, replacing any gradient registered for the same kernel before. One of them
// is then replaced by a faster definition with the same results (./leaky-relu-gradient).
// Bundled programs that cannot import @gan/backend import
// '@tensorflow/tfjs-core/dist/register_all_gradients' instead: esbuild resolves extensionless imports itself.
import { getGradient, registerGradient, version_core } from '@tensorflow/tfjs-core';
import { leakyReluGradConfig } from './leaky-relu-gradient';
import { meanGradConfig, sumGradConfig } from './reduce-gradients';
import { biasActivationGradGradConfig } from './bias-activation-gradient';

let pending: Promise<void> | null = null;

/** True when tfjs-core has gradient definitions registered (Conv2D is a representative one). */
export function gradientsRegistered(): boolean {
  return getGradient('Conv2D') != null;
}

/**
 * Registers all of tfjs-core's gradients (once per process; later calls resolve at once). Safe to call concurrently.
 * @throws (rejects) when the committed gradient module was generated from another tfjs-core version than the one
 *   installed: regenerate it with `node --import tsx libs/backend/src/tfjs-gradients.gen.ts`
 */
export function ensureGradients(): Promise<void> {
  pending ??= load().catch((e) => {
    pending = null;
    throw new Error(`could not register tfjs-core gradients: ${(e as Error).message.split('\n')[0]}`);
  });
  return pending;
}

async function load(): Promise<void> {
  const { gradConfigs, tfjsCoreVersion } = await import('./tfjs-gradients.generated.mjs');
  if (tfjsCoreVersion !== version_core) {
    throw new Error(
      `tfjs-gradients.generated.mjs is from @tensorflow/tfjs-core ${tfjsCoreVersion} but ${version_core} is installed; ` +
        'regenerate it: node --import tsx libs/backend/src/tfjs-gradients.gen.ts',
    );
  }
  for (const config of gradConfigs) registerGradient(config);
  registerOwnGradients();
  if (!gradientsRegistered()) throw new Error('tfjs-gradients.generated.mjs registered no Conv2D gradient');
}

/**
 * Puts @gan/backend's own gradient definitions (LeakyRelu's, ./leaky-relu-gradient; Sum's and Mean's,
 * ./reduce-gradients; the fused bias + activation gradient's, ./bias-activation-gradient) back on top of tfjs-core's. Importing @tensorflow/tfjs (as @tensorflow/tfjs-node does, even when its native binding then fails
 * to load) registers all of tfjs-core's gradients again, over ours; initBackend calls this after every backend it
 * tried. Idempotent.
 */
export function registerOwnGradients(): void {
  for (const config of [leakyReluGradConfig, sumGradConfig, meanGradConfig, biasActivationGradGradConfig]) registerGradient(config);
}
