// CRC-32C (Castagnoli: reflected polynomial 0x82F63B78, initial and final XOR 0xFFFFFFFF), the checksum of
// TFRecord files such as TensorBoard's event files, and TFRecord's mask of it. Node 20's zlib has no CRC-32C (and
// its crc32 is the other polynomial), so this is a byte-at-a-time table: event records are small (a PNG of a few
// hundred KiB at most), so speed does not matter here. Tested by crc32c.test.ts:
// node --import tsx --test libs/telemetry/src/crc32c.test.ts

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/**
 * CRC-32C of `bytes` as an unsigned 32-bit number. Pass a previous result as `crc` to continue it over more bytes
 * (crc32c(a ++ b) === crc32c(b, crc32c(a))).
 */
export function crc32c(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const MASK_DELTA = 0xa282ead8;

/**
 * TFRecord's masked CRC: rotate right by 15, add 0xa282ead8 (mod 2^32). TensorFlow (after LevelDB) stores CRCs
 * masked because the CRC of bytes that themselves contain CRCs is weak.
 */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

/** The inverse of maskCrc. */
export function unmaskCrc(masked: number): number {
  const rot = (masked - MASK_DELTA) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}

/** maskCrc(crc32c(bytes)): what a TFRecord stores after its length and after its data. */
export function maskedCrc32c(bytes: Uint8Array): number {
  return maskCrc(crc32c(bytes));
}
