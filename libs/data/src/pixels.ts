// Pixel plumbing shared by the real image formats: uint8 HWC images → float HWC in [-1, 1] at the requested size
// and channel count. RGB→gray uses ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B); gray→RGB replicates. Resizing
// is a separable triangle ("bilinear") filter with half-pixel centres whose support widens when shrinking (so a
// downscale averages instead of aliasing, like PIL's BILINEAR), or a centred pad. Tested in pixels.test.ts.

export type ResizeMode = 'bilinear' | 'pad';

/** uint8 images stored back to back, HWC. */
export interface U8Images {
  data: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: 1 | 3;
}

interface Taps {
  start: Int32Array;
  count: Int32Array;
  /** weights, maxTaps per output position */
  w: Float32Array;
  maxTaps: number;
}

/** Triangle-filter taps mapping inSize source pixels onto outSize output pixels (weights sum to 1). */
export function resampleTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const support = Math.max(scale, 1);
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const w = new Float32Array(outSize * maxTaps);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support));
    const hi = Math.min(inSize, Math.ceil(center + support));
    let sum = 0;
    let n = 0;
    for (let j = lo; j < hi && n < maxTaps; j++, n++) {
      const t = Math.max(0, 1 - Math.abs((j + 0.5 - center) / support));
      w[i * maxTaps + n] = t;
      sum += t;
    }
    for (let k = 0; k < n; k++) w[i * maxTaps + k] /= sum;
    start[i] = lo;
    count[i] = n;
  }
  return { start, count, w, maxTaps };
}

/**
 * Returns a function that converts one uint8 HWC image (srcH × srcW × srcC, srcC 1 or 3) at src[srcOff..] into
 * out[outOff .. outOff + size*size*channels) as floats in [-1, 1].
 */
export function makeImageConverter(srcH: number, srcW: number, srcC: 1 | 3, size: number, channels: 1 | 3, mode: ResizeMode = 'bilinear') {
  const C = channels;
  // Resample in the cheaper channel count: RGB→gray converts before resizing, gray→RGB replicates after.
  const M = Math.min(srcC, C);
  const plane = new Float32Array(srcH * srcW * M);
  /** src → plane (M channels), values stay 0..255 */
  const toPlane = (src: Uint8Array, off: number) => {
    if (srcC === M) {
      for (let p = 0; p < plane.length; p++) plane[p] = src[off + p];
    } else {
      for (let p = 0; p < plane.length; p++) plane[p] = 0.299 * src[off + 3 * p] + 0.587 * src[off + 3 * p + 1] + 0.114 * src[off + 3 * p + 2];
    }
  };
  const k = 2 / 255;
  /** writes value v (0..255) of pixel p, channel c < M, expanding gray to RGB when needed */
  const expand = C !== M;
  const put = (out: Float32Array, outOff: number, p: number, c: number, v: number) => {
    const f = v * k - 1;
    if (expand) out[outOff + 3 * p] = out[outOff + 3 * p + 1] = out[outOff + 3 * p + 2] = f;
    else out[outOff + p * M + c] = f;
  };
  if (srcH === size && srcW === size) {
    return (src: Uint8Array, srcOff: number, out: Float32Array, outOff: number) => {
      toPlane(src, srcOff);
      for (let p = 0; p < srcH * srcW; p++) for (let c = 0; c < M; c++) put(out, outOff, p, c, plane[p * M + c]);
    };
  }
  if (mode === 'pad') {
    if (srcH > size || srcW > size) throw new Error(`pad resize: a ${srcH}×${srcW} image does not fit in ${size}×${size}; use 'bilinear'`);
    const top = Math.floor((size - srcH) / 2);
    const left = Math.floor((size - srcW) / 2);
    return (src: Uint8Array, srcOff: number, out: Float32Array, outOff: number) => {
      toPlane(src, srcOff);
      out.fill(-1, outOff, outOff + size * size * C);
      for (let y = 0; y < srcH; y++) {
        for (let x = 0; x < srcW; x++) {
          for (let c = 0; c < M; c++) put(out, outOff, (y + top) * size + left + x, c, plane[(y * srcW + x) * M + c]);
        }
      }
    };
  }
  const tx = resampleTaps(srcW, size);
  const ty = resampleTaps(srcH, size);
  const rows = new Float32Array(srcH * size * M); // horizontally resampled
  return (src: Uint8Array, srcOff: number, out: Float32Array, outOff: number) => {
    toPlane(src, srcOff);
    for (let y = 0; y < srcH; y++) {
      for (let x = 0; x < size; x++) {
        const s = tx.start[x], n = tx.count[x], wo = x * tx.maxTaps;
        for (let c = 0; c < M; c++) {
          let acc = 0;
          for (let t = 0; t < n; t++) acc += tx.w[wo + t] * plane[(y * srcW + s + t) * M + c];
          rows[(y * size + x) * M + c] = acc;
        }
      }
    }
    for (let y = 0; y < size; y++) {
      const s = ty.start[y], n = ty.count[y], wo = y * ty.maxTaps;
      for (let x = 0; x < size; x++) {
        for (let c = 0; c < M; c++) {
          let acc = 0;
          for (let t = 0; t < n; t++) acc += ty.w[wo + t] * rows[((s + t) * size + x) * M + c];
          put(out, outOff, y * size + x, c, acc);
        }
      }
    }
  };
}
