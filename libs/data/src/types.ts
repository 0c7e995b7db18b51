// The public types of @gan/data: dataset names, the spec passed to openDataset and the Dataset interface every
// format implements. Not runnable; see index.ts for the full API.

export type DatasetName = 'ring8' | 'grid25' | 'shapes' | 'mnist' | 'fashion-mnist' | 'kmnist' | 'cifar10' | 'folder';

/** pino-compatible subset (object first, message second). */
export interface DataLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface DatasetSpec {
  name: DatasetName;
  /** Data directory (IDX / CIFAR files) or the image folder. */
  root?: string;
  /** Side of the square output images (ignored for 2-D point sets). */
  imageSize: number;
  /** Output channels: 1 = grayscale (ITU-R 601 luma), 3 = RGB. Ignored for point sets. */
  channels: 1 | 3;
  /** Number of samples of a generated set (ring8/grid25 default 100,000, shapes 20,000). */
  length?: number;
  seed: number;
  /** Fetch missing IDX files (MNIST family) or the CIFAR-10 archive from baseUrl into cacheDir. */
  download?: boolean;
  baseUrl?: string;
  /** Let a download use plain http (default: https only; see download.ts). */
  allowHttp?: boolean;
  /** Where downloads (and the folder's decoded-pixel cache) go; defaults to root. */
  cacheDir?: string;
  split?: 'train' | 'test';
  /** Image folder: skip undecodable images with a logger.warn instead of failing. */
  skipBadImages?: boolean;
  logger?: DataLogger;
  /**
   * How 28×28 IDX images reach imageSize: 'bilinear' (default; triangle filter, antialiased when shrinking) or
   * 'pad' (centre them on a -1 background, as many DCGAN MNIST setups do for 28→32; needs imageSize ≥ 28).
   */
  idxResize?: 'bilinear' | 'pad';
}

export interface Dataset {
  name: string;
  kind: 'image' | 'points';
  length: number;
  /** [H, W, C] (NHWC, values in [-1, 1]) for images; [2] for points. */
  sampleShape: number[];
  /** Product of sampleShape. */
  sampleSize: number;
  /** Class labels, when the format has them (length entries). */
  labels?: Int32Array;
  /** 2-D toy sets: the mode centres, [k*2] (x0, y0, x1, y1, ...). */
  modes?: Float32Array;
  /** 2-D toy sets: σ of each Gaussian mode. */
  modeStd?: number;
  /**
   * Writes the samples at `indices` back to back into `out` (out.length ≥ indices.length * sampleSize).
   * Throws a RangeError for an index outside [0, length).
   */
  read(indices: ArrayLike<number>, out: Float32Array): void | Promise<void>;
}
