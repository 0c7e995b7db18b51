// Argument checks shared by every Dataset.read implementation. Not runnable on its own.

/** Throws if out cannot hold the samples or an index is out of range. */
export function checkRead(name: string, length: number, sampleSize: number, indices: ArrayLike<number>, out: Float32Array): void {
  if (out.length < indices.length * sampleSize) {
    throw new RangeError(`${name}.read: out has ${out.length} floats, needs ${indices.length} × ${sampleSize} = ${indices.length * sampleSize}`);
  }
  for (let j = 0; j < indices.length; j++) {
    const i = indices[j];
    if (!Number.isInteger(i) || i < 0 || i >= length) {
      throw new RangeError(`${name}.read: index ${i} (position ${j}) is outside [0, ${length})`);
    }
  }
}
