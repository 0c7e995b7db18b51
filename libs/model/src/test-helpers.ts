/**
 * Shared helpers for this lib's tests (cpu backend, tiny shapes). Not part of the public API; not runnable.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ensureGradients } from '@gan/backend';
import type { ModelConfig } from './model-config';

/** Selects the cpu backend and registers tfjs-core's gradients, as initBackend would (call in a `before` hook). */
export async function useCpu(): Promise<void> {
  await ensureGradients();
  await tf.setBackend('cpu');
  await tf.ready();
}

/** A tiny DCGAN config (32×32×1, widths 4) for fast cpu tests; override any field. */
export function tinyDcgan(over: Partial<ModelConfig> = {}): ModelConfig {
  return { model: 'dcgan', imageSize: 32, channels: 1, nz: 8, ngf: 4, ndf: 4, norm: 'batch', mlpHidden: 8, dataDim: 2, ...over };
}

/** A tiny MLP config for 2-D data. */
export function tinyMlp(over: Partial<ModelConfig> = {}): ModelConfig {
  return { model: 'mlp', imageSize: 32, channels: 1, nz: 4, ngf: 4, ndf: 4, norm: 'none', mlpHidden: 8, dataDim: 2, ...over };
}

/** Deterministic pseudo-random values in [lo, hi) (a tiny LCG, independent of the lib's RNG). */
export function lcgArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 4294967296;
  }
  return out;
}

/** True when the two arrays hold the same bytes. */
export function sameBytes(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return false;
  return true;
}
