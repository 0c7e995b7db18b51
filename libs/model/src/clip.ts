/**
 * WGAN weight clipping (Arjovsky et al.): after each critic update every trainable weight of the net, BatchNorm's
 * γ and β included (as the paper's `p.data.clamp_(-c, c)` over `netD.parameters()`), is clamped to [-c, c].
 * It runs on the all-reduced update, so every replica clips the same values and stays identical.
 * Not a runnable file; tested in clip.test.ts and against PyTorch in test/torch-reference.test.ts.
 */
import { getFlatWeights, setFlatWeights } from './flat';
import type { Net } from './gan';

/** Clamps every trainable weight of `net` to [-c, c] (c > 0, as float32); returns how many values it moved. */
export function clipWeights(net: Net, c: number): number {
  if (!(c > 0) || !Number.isFinite(c)) throw new Error(`clipWeights: c must be a positive finite number, got ${c}`);
  const hi = Math.fround(c);
  const lo = -hi;
  const w = getFlatWeights(net);
  let moved = 0;
  for (let i = 0; i < w.length; i++) {
    const v = w[i];
    if (v > hi) {
      w[i] = hi;
      moved++;
    } else if (v < lo) {
      w[i] = lo;
      moved++;
    }
  }
  if (moved === 0) return 0;
  setFlatWeights(net, w);
  // The clipped copy is what the net now holds: the next Adam step starts from it without a device read.
  net.host = { version: net.version, w };
  return moved;
}
