/**
 * The one place @gan/model imports TF.js core from. Gradients are the caller's: @gan/backend's initBackend (or
 * ensureGradients) registers tfjs-core's own before any step, as it picks the backend.
 * Not a runnable file; imported by the rest of the lib.
 */
import * as tf from '@tensorflow/tfjs-core';

export { tf };
