// Original file: protos/collective.proto

import type { OpKind as _gan_collective_v1_OpKind, OpKind__Output as _gan_collective_v1_OpKind__Output } from '../../../gan/collective/v1/OpKind';
import type { Wire as _gan_collective_v1_Wire, Wire__Output as _gan_collective_v1_Wire__Output } from '../../../gan/collective/v1/Wire';
import type { ReduceOp as _gan_collective_v1_ReduceOp, ReduceOp__Output as _gan_collective_v1_ReduceOp__Output } from '../../../gan/collective/v1/ReduceOp';
import type { Long } from '@grpc/proto-loader';

export interface PullRequest {
  'job_id'?: (string);
  'generation'?: (number | string | Long);
  'seq'?: (number | string | Long);
  'kind'?: (_gan_collective_v1_OpKind);
  'from_rank'?: (number);
  'to_rank'?: (number);
  'world_size'?: (number);
  'length'?: (number | string | Long);
  'wire'?: (_gan_collective_v1_Wire);
  'reduce'?: (_gan_collective_v1_ReduceOp);
  'root'?: (number);
  'chunk_elems'?: (number);
}

export interface PullRequest__Output {
  'job_id': (string);
  'generation': (string);
  'seq': (string);
  'kind': (_gan_collective_v1_OpKind__Output);
  'from_rank': (number);
  'to_rank': (number);
  'world_size': (number);
  'length': (string);
  'wire': (_gan_collective_v1_Wire__Output);
  'reduce': (_gan_collective_v1_ReduceOp__Output);
  'root': (number);
  'chunk_elems': (number);
}
