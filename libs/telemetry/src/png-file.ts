// Shared PNG output for the image writers: encodes an RGBA buffer with pngjs and writes it atomically
// (temp file + rename) so an eval/viewer reading samples.png while training runs never sees a half-written file.
import fs from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';

/**
 * Writes `rgba` ([height*width*4] bytes) as a PNG. colorType 0 (grey) or 2 (RGB) picks the stored format;
 * the input buffer is always RGBA.
 */
export function writePngAtomic(filePath: string, width: number, height: number, rgba: Buffer, colorType: 0 | 2): void {
  const png = new PNG({ width, height, colorType, inputColorType: 6, inputHasAlpha: true });
  rgba.copy(png.data);
  const bytes = PNG.sync.write(png, { colorType, inputColorType: 6, inputHasAlpha: true });
  const abs = path.resolve(filePath);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  const tmp = `${abs}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, abs);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
