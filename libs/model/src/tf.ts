/**
 * The one place @gan/model imports TF.js core from. Importing this module also makes sure every kernel the model
 * differentiates through has a gradient registered (see ./gradients for why we register our own).
 * Not a runnable file; imported by the rest of the lib.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients } from './gradients';

ensureGradients();

export { tf };
