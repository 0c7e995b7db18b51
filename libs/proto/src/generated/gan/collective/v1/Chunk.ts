// Original file: protos/collective.proto

import type { Phase as _gan_collective_v1_Phase, Phase__Output as _gan_collective_v1_Phase__Output } from '../../../gan/collective/v1/Phase';
import type { Wire as _gan_collective_v1_Wire, Wire__Output as _gan_collective_v1_Wire__Output } from '../../../gan/collective/v1/Wire';
import type { Long } from '@grpc/proto-loader';

export interface Chunk {
  'job_id'?: (string);
  'generation'?: (number | string | Long);
  'seq'?: (number | string | Long);
  'phase'?: (_gan_collective_v1_Phase);
  'step'?: (number);
  'segment'?: (number);
  'index'?: (number);
  'offset'?: (number | string | Long);
  'count'?: (number);
  'wire'?: (_gan_collective_v1_Wire);
  'pad'?: (Buffer | Uint8Array | string);
  'data'?: (Buffer | Uint8Array | string);
}

export interface Chunk__Output {
  'job_id': (string);
  'generation': (string);
  'seq': (string);
  'phase': (_gan_collective_v1_Phase__Output);
  'step': (number);
  'segment': (number);
  'index': (number);
  'offset': (string);
  'count': (number);
  'wire': (_gan_collective_v1_Wire__Output);
  'pad': (Buffer);
  'data': (Buffer);
}
