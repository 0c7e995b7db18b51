// TFRecord framing, the container of TensorBoard's event files: each record is
//   uint64 LE length | uint32 LE masked CRC-32C of those 8 length bytes | data | uint32 LE masked CRC-32C of data
// (TensorFlow's tensorflow/core/lib/io/record_writer.cc). frameRecord makes one; readRecords checks and splits a
// whole file. Tested through tensorboard-writer.test.ts: node --import tsx --test libs/telemetry/src/tensorboard-writer.test.ts
import { maskedCrc32c } from './crc32c';

const HEADER = 12;
const FOOTER = 4;

/** One record around `data`, ready to append to a file. */
export function frameRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(HEADER + data.length + FOOTER);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, HEADER);
  out.writeUInt32LE(maskedCrc32c(data), HEADER + data.length);
  return out;
}

/**
 * The data of every record in `bytes` (views into it, no copy), both checksums verified. Throws a one-line error
 * naming `source`, the record and its byte offset when a record is truncated or fails a checksum.
 */
export function readRecords(bytes: Buffer, source: string): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const where = `${source}: record ${i} at byte ${at}`;
    if (bytes.length - at < HEADER) {
      throw new Error(`${where} is truncated: ${bytes.length - at} bytes left, a record header needs ${HEADER}`);
    }
    if (bytes.readUInt32LE(at + 8) !== maskedCrc32c(bytes.subarray(at, at + 8))) {
      throw new Error(`${where} is corrupt: the CRC-32C of its length does not match`);
    }
    // The length passed its checksum, so a length beyond the end means the file stops inside this record.
    const len = bytes.readBigUInt64LE(at);
    const left = bytes.length - at - HEADER - FOOTER;
    if (len > BigInt(left)) throw new Error(`${where} is truncated: it holds ${len} bytes of data, the file has ${Math.max(left, 0)} left`);
    const start = at + HEADER;
    const data = bytes.subarray(start, start + Number(len));
    if (bytes.readUInt32LE(start + data.length) !== maskedCrc32c(data)) {
      throw new Error(`${where} is corrupt: the CRC-32C of its ${data.length} data bytes does not match`);
    }
    out.push(data);
    at = start + data.length + FOOTER;
  }
  return out;
}
