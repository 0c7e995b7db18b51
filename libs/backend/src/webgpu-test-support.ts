// What the webgpu kernel tests of this lib share: starting webgpu (or the one line a test skips with) and how far a
// result is from a float64 reference. Not a runnable file and not part of the public API.
import { initBackend } from './init-backend';

/** Starts webgpu; null when it runs, else why not ("no webgpu here: …") for t.skip. */
export async function startWebgpu(): Promise<string | null> {
  try {
    await initBackend('webgpu');
    return null;
  } catch (e) {
    return `no webgpu here: ${(e as Error).message.split('\n')[0]}`;
  }
}

/** max |got − want| over max |want|. */
export function worstRelative(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0;
  let e = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i] - want[i]));
  return e / scale;
}

/** NCHW values [b, c, h, w] reordered to NHWC. */
export function toNhwc(v: ArrayLike<number>, [b, c, h, w]: number[]): Float32Array {
  const out = new Float32Array(b * c * h * w);
  for (let n = 0; n < b; n++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[((n * h + y) * w + x) * c + ch] = v[((n * c + ch) * h + y) * w + x];
  return out;
}
