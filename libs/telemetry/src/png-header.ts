// Reads a PNG's size and channel count from its IHDR chunk, without decoding it: what TensorBoard's image summary
// wants next to the PNG bytes (Summary.Image height, width, colorspace). Tested in tensorboard-writer.test.ts.
export interface PngHeader {
  width: number;
  height: number;
  /** 1 grey, 2 grey + alpha, 3 RGB (palette images too), 4 RGBA: TensorBoard's colorspace numbers. */
  channels: 1 | 2 | 3 | 4;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** PNG colour type -> channels. */
const CHANNELS: Record<number, PngHeader['channels']> = { 0: 1, 2: 3, 3: 3, 4: 2, 6: 4 };

/** Throws a one-line error naming `source` when `png` does not start like a PNG file. */
export function readPngHeader(png: Uint8Array, source = 'PNG'): PngHeader {
  const b = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  // signature (8) | IHDR length (4) | "IHDR" (4) | width (4, BE) | height (4, BE) | bit depth (1) | colour type (1)
  if (b.length < 26 || !b.subarray(0, 8).equals(SIGNATURE) || b.toString('latin1', 12, 16) !== 'IHDR') {
    throw new Error(`${source} is not a PNG file (no PNG signature and IHDR chunk at its start)`);
  }
  const channels = CHANNELS[b[25]];
  if (!channels) throw new Error(`${source} has an unknown PNG colour type ${b[25]}`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), channels };
}
