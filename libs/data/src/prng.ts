// Small deterministic PRNG and integer hashing used by every generated dataset, the sampler and the batch stream.
// Each sample / epoch gets its own short stream seeded by hashing (seed, index, salt), so any sample can be
// produced without generating the ones before it. Not runnable on its own; tested via prng.test.ts
// (`node tools/run-tests.mjs libs/data prng`).

/** murmur3's 32-bit finaliser: a bijective avalanche mix of one uint32. */
export function mix32(x: number): number {
  x >>>= 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * Hashes a list of numbers (integers; values beyond 32 bits and negatives are folded in by their high part too)
 * to one uint32. Order matters: hashSeed(1, 2) != hashSeed(2, 1).
 */
export function hashSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    if (!Number.isFinite(p)) throw new Error(`hashSeed: not a finite number: ${p}`);
    const v = Math.trunc(p);
    const lo = v >>> 0;
    const hi = Math.floor(v / 4294967296) >>> 0;
    h = mix32(h ^ mix32(lo + 0x632be5ab));
    h = mix32(h ^ mix32(hi + 0x85157af5));
  }
  return h;
}

/** mulberry32: tiny, fast, good enough statistical quality for data shuffling and procedural samples. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** A uniform uint32. */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /**
   * Fills out[0 … count−1] with the next `count` uint32s: the values nextU32 would return one by one, faster (the
   * state stays in a local while the block is made).
   */
  fillU32(out: Uint32Array, count: number = out.length): Uint32Array {
    let s = this.state | 0;
    for (let i = 0; i < count; i++) {
      s = (s + 0x6d2b79f5) | 0;
      let t = Math.imul(s ^ (s >>> 15), s | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      out[i] = t ^ (t >>> 14);
    }
    this.state = s >>> 0;
    return out;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }
  /** Uniform integer in [0, n) (n ≤ 2^32; the tiny modulo bias is irrelevant for n ≪ 2^32). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Standard normal (Box–Muller; uses two uniforms per call so the stream position stays predictable). */
  normal(): number {
    const u1 = 1 - this.next(); // (0, 1], keeps log finite
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}

/** A Fisher–Yates permutation of 0..n-1 drawn from one seed. Deterministic in (n, seed). */
export function permutation(n: number, seed: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  const rng = new Rng(hashSeed(seed, n, 0x5eed));
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}
