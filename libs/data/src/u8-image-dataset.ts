// A Dataset over decoded uint8 images held in memory (the IDX, CIFAR-10 and image-folder formats all end here):
// read() converts each requested image to float HWC in [-1, 1] at the output size and channel count.
import { checkRead } from './check-read';
import { makeImageConverter, type ResizeMode, type U8Images } from './pixels';
import type { Dataset } from './types';

export function createU8ImageDataset(name: string, images: U8Images, size: number, channels: 1 | 3, opts: { labels?: Int32Array; resize?: ResizeMode } = {}): Dataset {
  const { height: H, width: W, channels: srcC, count } = images;
  const convert = makeImageConverter(H, W, srcC, size, channels, opts.resize ?? 'bilinear');
  const srcSize = H * W * srcC;
  const sampleSize = size * size * channels;
  return {
    name,
    kind: 'image',
    length: count,
    sampleShape: [size, size, channels],
    sampleSize,
    labels: opts.labels,
    read(indices, out) {
      checkRead(name, count, sampleSize, indices, out);
      for (let j = 0; j < indices.length; j++) convert(images.data, indices[j] * srcSize, out, j * sampleSize);
    },
  };
}
