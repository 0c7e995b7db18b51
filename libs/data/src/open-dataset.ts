// openDataset: the one entry point that turns a DatasetSpec into a Dataset, dispatching on spec.name and
// validating the spec first. Tested through every *.test.ts in this folder.
import { openCifar10 } from './cifar10';
import { openImageFolder } from './image-folder';
import { openIdxDataset } from './idx-dataset';
import { createShapesDataset } from './shapes';
import { createToyDataset } from './toy-2d';
import type { Dataset, DatasetSpec } from './types';

const NAMES = ['ring8', 'grid25', 'shapes', 'mnist', 'fashion-mnist', 'kmnist', 'cifar10', 'folder'];

export async function openDataset(spec: DatasetSpec): Promise<Dataset> {
  if (!NAMES.includes(spec.name)) throw new Error(`openDataset: unknown dataset '${spec.name}' (expected one of ${NAMES.join(', ')})`);
  if (!Number.isFinite(spec.seed)) throw new Error(`openDataset: seed must be a finite number, got ${spec.seed}`);
  if (spec.split !== undefined && spec.split !== 'train' && spec.split !== 'test') {
    throw new Error(`openDataset(${spec.name}): split must be 'train' or 'test', got '${spec.split}'`);
  }
  if (spec.name === 'ring8' || spec.name === 'grid25') return createToyDataset({ name: spec.name, seed: spec.seed, length: spec.length });
  if (!Number.isInteger(spec.imageSize) || spec.imageSize < 8 || spec.imageSize > 1024) {
    throw new Error(`openDataset(${spec.name}): imageSize must be an integer in [8, 1024], got ${spec.imageSize}`);
  }
  if (spec.channels !== 1 && spec.channels !== 3) throw new Error(`openDataset(${spec.name}): channels must be 1 or 3, got ${spec.channels}`);
  switch (spec.name) {
    case 'shapes':
      return createShapesDataset({ seed: spec.seed, imageSize: spec.imageSize, channels: spec.channels, length: spec.length });
    case 'mnist':
    case 'fashion-mnist':
    case 'kmnist':
      return openIdxDataset({ ...spec, name: spec.name });
    case 'cifar10':
      return openCifar10(spec);
    case 'folder':
      return openImageFolder(spec);
  }
}
