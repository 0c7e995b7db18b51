// Byte-level helpers for the hand-assembled WebAssembly modules of this library (simd-add.ts, simd-wire16.ts):
// LEB128 integers, sections and names as the binary format spells them. No toolchain, so no build step.

/** Unsigned LEB128. */
export function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}

/** A module section: id, byte length, content. */
export const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];

/** A name (ASCII) as length + bytes, for exports. */
export const name = (s: string): number[] => [s.length, ...[...s].map((c) => c.charCodeAt(0))];
