// Crash-safe file replacement: write to a temp file in the same directory, fsync it, rename it over the final
// name, then fsync the directory so the rename itself is durable. A crash at any point leaves either the old file
// or the complete new one under the final name, plus at most a stray temp file (see isTempFile / TEMP_MARKER).
// Tested by libs/checkpoint/src/checkpoint-manager.test.ts (`node tools/run-tests.mjs libs/checkpoint`).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** Temp files are `.<final name>.tmp-<pid>-<random>`: hidden, and never matching a checkpoint name. */
export const TEMP_MARKER = '.tmp-';

export function tempPathFor(finalPath: string): string {
  const dir = path.dirname(finalPath);
  return path.join(dir, `.${path.basename(finalPath)}${TEMP_MARKER}${process.pid}-${randomBytes(4).toString('hex')}`);
}

export function isTempFile(name: string): boolean {
  return name.startsWith('.') && name.includes(TEMP_MARKER);
}

/** fsync a directory so a rename/unlink in it survives power loss; platforms that cannot (Windows) are skipped. */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw e;
  } finally {
    await handle?.close();
  }
}

/**
 * Writes `chunks` (in order) to `finalPath` atomically. The chunks are views, written without concatenation so
 * a large checkpoint is never copied in memory.
 */
export async function writeFileAtomic(finalPath: string, chunks: readonly Uint8Array[]): Promise<void> {
  const tmp = tempPathFor(finalPath);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(tmp, 'wx', 0o644);
    for (const chunk of chunks) {
      let off = 0;
      while (off < chunk.byteLength) {
        const { bytesWritten } = await handle.write(chunk, off, chunk.byteLength - off);
        off += bytesWritten;
      }
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, finalPath);
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  await fsyncDir(path.dirname(finalPath));
}
