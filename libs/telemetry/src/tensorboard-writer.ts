// TensorBoardWriter: scalars and PNG images as a TensorBoard event file, in TensorBoard's own format, so that
// `tensorboard --logdir runs/` shows a run without any TensorFlow in the process. One writer makes one file,
// <dir>/events.out.tfevents.<unix seconds>.<hostname> (TensorFlow's naming), whose first record says
// file_version "brain.Event:2"; each record is a tensorflow.Event (protos/tensorboard/) framed as a TFRecord
// (tfrecord.ts). A resumed run opens a new file in the same folder: TensorBoard reads every events file in a folder,
// in name order. Tested by tensorboard-writer.test.ts:
// node --import tsx --test libs/telemetry/src/tensorboard-writer.test.ts   (or node tools/run-tests.mjs libs/telemetry tensorboard)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeEvent, type Event, type SummaryValue } from './tensorboard-event';
import { frameRecord } from './tfrecord';
import { syncAndClose } from './close-file';

/** The file_version TensorBoard expects in the first record of an event file. */
export const EVENT_FILE_VERSION = 'brain.Event:2';

export interface TensorBoardWriterOptions {
  /** The clock, in milliseconds since the epoch (tests pin it); default Date.now. */
  now?: () => number;
  /** The host part of the file name; default os.hostname(). */
  hostname?: string;
}

export class TensorBoardWriter {
  readonly dir: string;
  /** The events file this writer appends to. */
  readonly file: string;
  private fd: number | null;
  private readonly now: () => number;

  /** Creates `dir` if needed and a new events file in it, holding the file_version record. */
  constructor(dir: string, opts: TensorBoardWriterOptions = {}) {
    if (typeof dir !== 'string' || dir.length === 0) throw new Error('TensorBoardWriter: dir must be a non-empty string');
    this.dir = dir;
    this.now = opts.now ?? Date.now;
    fs.mkdirSync(dir, { recursive: true });
    // TensorFlow pads the seconds to 10 digits, so that name order is time order.
    const base = `events.out.tfevents.${String(Math.floor(this.now() / 1000)).padStart(10, '0')}.${opts.hostname ?? os.hostname()}`;
    // 'wx' never appends to another writer's file: a run resumed within the same second gets base.2, base.3, …
    // (after base in name order, so TensorBoard still reads them in the order they were written).
    for (let k = 1; ; k++) {
      const file = path.join(dir, k === 1 ? base : `${base}.${k}`);
      try {
        this.fd = fs.openSync(file, 'wx');
        this.file = file;
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    this.append([{ wall_time: this.wallTime(), step: 0, file_version: EVENT_FILE_VERSION }]);
  }

  /** One scalar (TensorBoard's Scalars dashboard). */
  scalar(tag: string, value: number, step: number): void {
    this.scalars({ [tag]: value }, step);
  }

  /** Several scalars of one step, as one event: `{ 'loss/d': 1.2, 'loss/g': 0.7 }`. */
  scalars(values: Record<string, number>, step: number): void {
    const value: SummaryValue[] = Object.entries(values).map(([tag, v]) => {
      checkTag(tag);
      if (typeof v !== 'number') throw new Error(`TensorBoardWriter.scalars: '${tag}' must be a number, got ${typeof v}`);
      // NaN and ±Inf are kept: a float holds them and TensorBoard draws them, which is what a diverging run needs.
      return { tag, simple_value: v };
    });
    if (value.length > 0) this.append([this.summaryEvent(value, step)]);
  }

  /**
   * One encoded PNG image (TensorBoard's Images dashboard): `png` is the file's bytes; height, width and
   * channels (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA) describe it, as TensorFlow's Summary.Image does.
   */
  image(tag: string, png: Uint8Array, height: number, width: number, channels: number, step: number): void {
    checkTag(tag);
    if (!(png instanceof Uint8Array) || png.length === 0) throw new Error(`TensorBoardWriter.image: '${tag}' needs the PNG's bytes`);
    for (const [name, v] of [['height', height], ['width', width]] as const) {
      if (!Number.isInteger(v) || v <= 0 || v > 0x7fffffff) throw new Error(`TensorBoardWriter.image: ${name} must be a positive integer, got ${v}`);
    }
    if (![1, 2, 3, 4].includes(channels)) throw new Error(`TensorBoardWriter.image: channels must be 1, 2, 3 or 4, got ${channels}`);
    this.append([this.summaryEvent([{ tag, image: { height, width, colorspace: channels, encoded_image_string: png } }], step)]);
  }

  /** Flushes to disk and closes; idempotent. */
  async close(): Promise<void> {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    await syncAndClose(fd);
  }

  private summaryEvent(value: SummaryValue[], step: number): Event {
    if (!Number.isSafeInteger(step) || step < 0) throw new Error(`TensorBoardWriter: step must be a non-negative integer, got ${step}`);
    return { wall_time: this.wallTime(), step, summary: { value } };
  }

  private wallTime(): number {
    return this.now() / 1000;
  }

  // One writeSync per call: a call's records reach the OS together before training goes on, so TensorBoard (which
  // polls the file) sees them at once and a crash loses at most the call in progress.
  private append(events: Event[]): void {
    if (this.fd === null) throw new Error(`TensorBoardWriter: write after close (${this.file})`);
    fs.writeSync(this.fd, Buffer.concat(events.map((e) => frameRecord(encodeEvent(e)))));
  }
}

function checkTag(tag: string): void {
  if (typeof tag !== 'string' || tag.length === 0) throw new Error('TensorBoardWriter: a tag must be a non-empty string');
}
