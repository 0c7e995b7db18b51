// Reads a TensorBoard event file back (tests, tools): every record's two CRC-32Cs are checked (tfrecord.ts) and
// each record is decoded as a tensorflow.Event. A truncated or corrupt file is a one-line error naming the file,
// the record and its byte offset. Tested by tensorboard-writer.test.ts:
// node --import tsx --test libs/telemetry/src/tensorboard-writer.test.ts
import fs from 'node:fs';
import path from 'node:path';
import { decodeEvent, type Event } from './tensorboard-event';
import { readRecords } from './tfrecord';

/** The events of one events file, in file order (the first is the file_version record). */
export function readEvents(file: string): Event[] {
  return readRecords(fs.readFileSync(file), file).map((data, i) => {
    try {
      return decodeEvent(data);
    } catch (e) {
      throw new Error(`${file}: record ${i} is not a tensorflow.Event (${(e as Error).message})`);
    }
  });
}

/** The events files in `dir` (TensorBoard's events.out.tfevents.* naming), sorted as TensorBoard reads them. */
export function eventFilesIn(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.startsWith('events.out.tfevents.')).sort().map((f) => path.join(dir, f));
}
