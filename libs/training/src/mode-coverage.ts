/**
 * The VEEGAN evaluation protocol for 2-D mixtures: draw samples from G; a sample is high quality when it lies
 * within 3σ of its nearest mode; a mode is captured when it is the nearest mode of at least one high-quality sample.
 */

export interface ModeCoverage {
  /** Modes captured. */
  modes: number;
  /** Modes in the mixture. */
  of: number;
  /** Share of samples within 3σ of their nearest mode, in [0, 1]. */
  high_quality: number;
}

/**
 * @param samples [n*2] generated points
 * @param modes   [k*2] mode centres
 * @param std     σ of each mixture component
 */
export function modeCoverage(samples: Float32Array, modes: Float32Array, std: number): ModeCoverage {
  const k = modes.length / 2;
  const n = samples.length / 2;
  const hit = new Uint8Array(k);
  let good = 0;
  for (let i = 0; i < n; i++) {
    const x = samples[2 * i];
    const y = samples[2 * i + 1];
    let best = -1;
    let bestD = Infinity;
    for (let m = 0; m < k; m++) {
      const dx = x - modes[2 * m];
      const dy = y - modes[2 * m + 1];
      const d2 = dx * dx + dy * dy;
      if (d2 < bestD) {
        bestD = d2;
        best = m;
      }
    }
    if (Math.sqrt(bestD) <= 3 * std) {
      good++;
      hit[best] = 1;
    }
  }
  return { modes: hit.reduce((a, b) => a + b, 0), of: k, high_quality: n ? good / n : 0 };
}
