// Closing an append-only log file so that what was written survives a crash: fsync, then close. Shared by the
// metrics.jsonl writer and the TensorBoard events writer. Not a runnable file.
import fs from 'node:fs';

/** fsyncs and closes `fd`; rejects with the first error. */
export async function syncAndClose(fd: number): Promise<void> {
  await new Promise<void>((resolve, reject) => fs.fsync(fd, (e) => (e ? reject(e) : resolve())));
  await new Promise<void>((resolve, reject) => fs.close(fd, (e) => (e ? reject(e) : resolve())));
}
