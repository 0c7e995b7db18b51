/**
 * Fréchet distance between two Gaussians fitted to feature vectors, in float64 JS (no TF.js):
 *   d² = ||mu1 - mu2||² + Tr(S1) + Tr(S2) - 2·Tr(sqrtm(S1·S2))
 * (the formula pytorch-fid uses). Applied to our MNIST classifier's penultimate features it is the "classifier
 * Fréchet distance" of `gan-train eval`; it is not FID (no Inception network), so its values are not comparable
 * with published FIDs.
 *
 * Tr sqrtm(S1·S2) is computed without ever forming the non-symmetric product: with A = sqrt(S1) (symmetric PSD),
 * S1·S2 = A·(A·S2·A)·A⁻¹ is similar to the symmetric PSD matrix M = A·S2·A, so both have the same eigenvalues λᵢ ≥ 0
 * and Tr sqrtm(S1·S2) = Σ sqrt(λᵢ(M)). Both square roots come from a cyclic Jacobi eigen-decomposition of a
 * symmetric matrix, which is unconditionally stable and accurate for the 128×128 covariances here, and which,
 * unlike scipy's sqrtm, never produces complex parts or needs the eps·I retry pytorch-fid does on singular
 * products: rounding can only push eigenvalues of a singular PSD matrix slightly negative, and those are clamped to 0.
 *
 * Tests: node tools/run-tests.mjs libs/metrics frechet
 */

/** Mean and covariance of a feature set. */
export interface FeatureStats {
  /** Feature dimension. */
  d: number;
  /** Number of samples the statistics were computed from. */
  n: number;
  /** [d] mean. */
  mu: Float64Array;
  /** [d, d] row-major covariance, unbiased (divides by n - 1, as numpy.cov does). */
  sigma: Float64Array;
}

/**
 * Mean and unbiased covariance of `n` feature vectors of dimension `d`.
 * @param features [n, d] row-major
 * @throws Error when n < 2, d < 1, the length is not n·d or a value is not finite
 */
export function featureStats(features: ArrayLike<number>, n: number, d: number): FeatureStats {
  if (!Number.isInteger(d) || d < 1) throw new Error(`featureStats: feature dimension must be a positive integer, got ${d}`);
  if (!Number.isInteger(n) || n < 2) throw new Error(`featureStats: need at least 2 samples for a covariance, got ${n}`);
  if (features.length !== n * d) throw new Error(`featureStats: expected ${n}×${d} = ${n * d} values, got ${features.length}`);
  const mu = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const v = features[o + j];
      if (!Number.isFinite(v)) throw new Error(`featureStats: feature ${j} of sample ${i} is ${v}`);
      mu[j] += v;
    }
  }
  for (let j = 0; j < d; j++) mu[j] /= n;
  // Accumulate the upper triangle of Σ (x-mu)(x-mu)ᵀ on centred rows (two-pass: no catastrophic cancellation).
  const sigma = new Float64Array(d * d);
  const c = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) c[j] = features[o + j] - mu[j];
    for (let a = 0; a < d; a++) {
      const ca = c[a];
      if (ca === 0) continue; // dead ReLU units are common; skip their rows cheaply
      const row = a * d;
      for (let b = a; b < d; b++) sigma[row + b] += ca * c[b];
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = sigma[a * d + b] / (n - 1);
      sigma[a * d + b] = v;
      sigma[b * d + a] = v;
    }
  }
  return { d, n, mu, sigma };
}

/** Eigenvalues and eigenvectors of a symmetric matrix. */
export interface SymmetricEigen {
  /** [d] eigenvalues (unsorted). */
  values: Float64Array;
  /** [d, d] row-major; column k is the unit eigenvector of values[k]. */
  vectors: Float64Array;
}

/**
 * Cyclic Jacobi eigen-decomposition of a symmetric d×d matrix (only the upper triangle is read; the matrix is
 * symmetrised first). Converges quadratically; stops when the off-diagonal mass is negligible next to the diagonal.
 * @param a [d, d] row-major
 */
export function symmetricEigen(a: ArrayLike<number>, d: number): SymmetricEigen {
  if (a.length !== d * d) throw new Error(`symmetricEigen: expected ${d}×${d} = ${d * d} values, got ${a.length}`);
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    m[i * d + i] = a[i * d + i];
    for (let j = i + 1; j < d; j++) {
      const v = 0.5 * (a[i * d + j] + a[j * d + i]);
      m[i * d + j] = v;
      m[j * d + i] = v;
    }
  }
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let i = 0; i < d * d; i++) if (!Number.isFinite(m[i])) throw new Error(`symmetricEigen: matrix entry ${i} is ${m[i]}`);

  const offNorm = (): number => {
    let s = 0;
    for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) s += m[i * d + j] * m[i * d + j];
    return s;
  };
  let diagNorm = 0;
  for (let i = 0; i < d * d; i++) diagNorm += m[i] * m[i];
  if (diagNorm === 0) return { values: new Float64Array(d), vectors: v };
  // 1e-30 relative on squared norms ≈ 1e-15 on the entries: rounding level for float64.
  const tol = 1e-30 * diagNorm;
  for (let sweep = 0; sweep < 100; sweep++) {
    if (offNorm() <= tol) break;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = m[p * d + q];
        if (apq === 0) continue;
        const app = m[p * d + p];
        const aqq = m[q * d + q];
        // Rotation angle that zeroes m[p][q]: t = tan θ, the smaller root of t² + 2θ't - 1 = 0 (stable form).
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          // Columns p and q of m (then rows, by symmetry); the 2×2 block is set exactly afterwards.
          const mkp = m[k * d + p];
          const mkq = m[k * d + q];
          m[k * d + p] = c * mkp - s * mkq;
          m[k * d + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < d; k++) {
          const mpk = m[p * d + k];
          const mqk = m[q * d + k];
          m[p * d + k] = c * mpk - s * mqk;
          m[q * d + k] = s * mpk + c * mqk;
        }
        m[p * d + p] = app - t * apq;
        m[q * d + q] = aqq + t * apq;
        m[p * d + q] = 0;
        m[q * d + p] = 0;
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p];
          const vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = m[i * d + i];
  return { values, vectors: v };
}

/**
 * Square root of a symmetric positive semi-definite matrix, V·diag(sqrt(max(λ, 0)))·Vᵀ.
 * @param a [d, d] row-major
 */
export function sqrtmPsd(a: ArrayLike<number>, d: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, d);
  const out = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const s = Math.sqrt(Math.max(values[k], 0));
    if (s === 0) continue;
    for (let i = 0; i < d; i++) {
      const vik = vectors[i * d + k] * s;
      if (vik === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j] += vik * vectors[j * d + k];
    }
  }
  return out;
}

/** c = a·b for d×d row-major matrices. */
function matmul(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const c = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k];
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) c[i * d + j] += aik * b[k * d + j];
    }
  }
  return c;
}

/**
 * Tr sqrtm(S1·S2) for symmetric PSD S1, S2, through the similar symmetric matrix sqrt(S1)·S2·sqrt(S1).
 * @param s1 [d, d] row-major
 * @param s2 [d, d] row-major
 */
export function traceSqrtProduct(s1: ArrayLike<number>, s2: ArrayLike<number>, d: number): number {
  const a = sqrtmPsd(s1, d);
  const m = matmul(matmul(a, Float64Array.from(s2), d), a, d);
  const { values } = symmetricEigen(m, d);
  let tr = 0;
  for (const l of values) tr += Math.sqrt(Math.max(l, 0));
  return tr;
}

/**
 * Fréchet distance between N(mu1, s1) and N(mu2, s2): ||mu1-mu2||² + Tr(s1) + Tr(s2) - 2·Tr sqrtm(s1·s2).
 * Clamped at 0 (rounding can make identical statistics come out at -1e-12).
 * @param mu1 [d]
 * @param s1 [d, d] row-major, symmetric PSD
 * @param mu2 [d]
 * @param s2 [d, d] row-major, symmetric PSD
 * @throws Error on mismatched sizes or non-finite entries
 */
export function frechetDistance(mu1: ArrayLike<number>, s1: ArrayLike<number>, mu2: ArrayLike<number>, s2: ArrayLike<number>): number {
  const d = mu1.length;
  if (d < 1) throw new Error('frechetDistance: empty mean vector');
  if (mu2.length !== d) throw new Error(`frechetDistance: means differ in length (${d} vs ${mu2.length})`);
  if (s1.length !== d * d) throw new Error(`frechetDistance: first covariance has ${s1.length} entries, expected ${d}×${d}`);
  if (s2.length !== d * d) throw new Error(`frechetDistance: second covariance has ${s2.length} entries, expected ${d}×${d}`);
  let meanTerm = 0;
  for (let i = 0; i < d; i++) {
    const diff = mu1[i] - mu2[i];
    if (!Number.isFinite(diff)) throw new Error(`frechetDistance: mean entry ${i} is not finite (${mu1[i]}, ${mu2[i]})`);
    meanTerm += diff * diff;
  }
  let tr1 = 0;
  let tr2 = 0;
  for (let i = 0; i < d; i++) {
    tr1 += s1[i * d + i];
    tr2 += s2[i * d + i];
  }
  const value = meanTerm + tr1 + tr2 - 2 * traceSqrtProduct(s1, s2, d);
  return Math.max(value, 0);
}

/** Fréchet distance between two FeatureStats (same dimension). */
export function frechetOfStats(a: FeatureStats, b: FeatureStats): number {
  if (a.d !== b.d) throw new Error(`frechetDistance: feature dimensions differ (${a.d} vs ${b.d})`);
  return frechetDistance(a.mu, a.sigma, b.mu, b.sigma);
}
