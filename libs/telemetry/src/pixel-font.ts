// A 3×5 pixel font for the few characters plot labels need (digits, minus, point, x, y), so PNG plots can carry
// numbers without a font file or a text-rendering dependency. Tested through scatter-plot.test.ts.

/** Each glyph: five rows of three bits, most significant bit on the left. */
const GLYPHS: Record<string, readonly number[]> = {
  '0': [0b111, 0b101, 0b101, 0b101, 0b111],
  '1': [0b010, 0b110, 0b010, 0b010, 0b111],
  '2': [0b111, 0b001, 0b111, 0b100, 0b111],
  '3': [0b111, 0b001, 0b111, 0b001, 0b111],
  '4': [0b101, 0b101, 0b111, 0b001, 0b001],
  '5': [0b111, 0b100, 0b111, 0b001, 0b111],
  '6': [0b111, 0b100, 0b111, 0b101, 0b111],
  '7': [0b111, 0b001, 0b010, 0b010, 0b010],
  '8': [0b111, 0b101, 0b111, 0b101, 0b111],
  '9': [0b111, 0b101, 0b111, 0b001, 0b111],
  '-': [0b000, 0b000, 0b111, 0b000, 0b000],
  '.': [0b000, 0b000, 0b000, 0b000, 0b010],
  x: [0b000, 0b101, 0b010, 0b101, 0b000],
  y: [0b101, 0b101, 0b011, 0b001, 0b110],
};

export const GLYPH_W = 3;
export const GLYPH_H = 5;

/** Width in px of `text` drawn at `scale` (one blank column between glyphs). */
export function textWidth(text: string, scale: number): number {
  return text.length === 0 ? 0 : (text.length * (GLYPH_W + 1) - 1) * scale;
}

/**
 * Draws `text` with its top-left corner at (x, y), each font pixel a `scale`×`scale` block, through `set` (which
 * clips). Throws on a character the font does not have.
 */
export function drawText(set: (px: number, py: number) => void, x: number, y: number, text: string, scale: number): void {
  let cx = x;
  for (const ch of text) {
    const rows = GLYPHS[ch];
    if (!rows) throw new Error(`drawText: no glyph for '${ch}'`);
    for (let r = 0; r < GLYPH_H; r++) {
      for (let c = 0; c < GLYPH_W; c++) {
        if (!((rows[r] >> (GLYPH_W - 1 - c)) & 1)) continue;
        for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) set(cx + c * scale + dx, y + r * scale + dy);
      }
    }
    cx += (GLYPH_W + 1) * scale;
  }
}

/** A tick value as the font can write it: integers plainly, others with up to two decimals, no trailing zeros. */
export function formatTick(v: number): string {
  const r = Math.round(v * 100) / 100;
  return (Object.is(r, -0) ? 0 : r).toString();
}
