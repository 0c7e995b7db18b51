// Append-only metrics log (metrics.jsonl): one JSON object per line, e.g. {"step":120,"d_loss":1.23,...}.
// Appending (never truncating) makes a resumed run continue the same file. readMetrics() parses it back for
// tests, eval and plotting. Tested by metrics-writer.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { syncAndClose } from './close-file';

export type MetricValue = number | string | null;

export class MetricsWriter {
  readonly path: string;
  private fd: number | null;

  /** Opens (creating parent directories) `path` for appending. */
  constructor(filePath: string) {
    if (typeof filePath !== 'string' || filePath.length === 0) {
      throw new Error('MetricsWriter: path must be a non-empty string');
    }
    this.path = filePath;
    fs.mkdirSync(path.dirname(path.resolve(filePath)), { recursive: true });
    this.fd = fs.openSync(filePath, 'a');
    // A previous run killed mid-line leaves a partial last line; start on a fresh line so that only the
    // partial record is lost, not the first record of this run as well.
    const size = fs.fstatSync(this.fd).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      const rfd = fs.openSync(filePath, 'r');
      try {
        fs.readSync(rfd, last, 0, 1, size - 1);
      } finally {
        fs.closeSync(rfd);
      }
      if (last[0] !== 0x0a) fs.writeSync(this.fd, '\n');
    }
  }

  /** Appends one record as a JSON line. Non-finite numbers are written as null (JSON has no NaN). */
  write(record: Record<string, MetricValue>): void {
    if (this.fd === null) throw new Error(`MetricsWriter: write after close (${this.path})`);
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      throw new Error('MetricsWriter.write: record must be a plain object');
    }
    const clean: Record<string, MetricValue> = {};
    for (const [k, v] of Object.entries(record)) {
      if (typeof v === 'number') clean[k] = Number.isFinite(v) ? v : null;
      else if (typeof v === 'string' || v === null) clean[k] = v;
      else throw new Error(`MetricsWriter.write: field '${k}' must be a number, string or null, got ${typeof v}`);
    }
    // One writeSync per line: the line reaches the OS before the training step continues, so a crash loses
    // at most the line being written.
    fs.writeSync(this.fd, JSON.stringify(clean) + '\n');
  }

  /** Flushes to disk and closes; idempotent. */
  async close(): Promise<void> {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    await syncAndClose(fd);
  }
}

/**
 * Reads a metrics.jsonl file into an array of records. Blank lines are skipped; a malformed final line with
 * no trailing newline (a run killed mid-write) is dropped; any other malformed line is an error naming it.
 */
export function readMetrics(filePath: string): Record<string, unknown>[] {
  const text = fs.readFileSync(filePath, 'utf8');
  const lines = text.split('\n');
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      const isTruncatedTail = i === lines.length - 1; // no '\n' after it
      if (isTruncatedTail) continue;
      throw new Error(`readMetrics: ${filePath} line ${i + 1} is not valid JSON`);
    }
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) {
      throw new Error(`readMetrics: ${filePath} line ${i + 1} is not a JSON object`);
    }
    out.push(rec as Record<string, unknown>);
  }
  return out;
}
