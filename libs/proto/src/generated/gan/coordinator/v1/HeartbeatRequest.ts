// Original file: protos/coordinator.proto

import type { Long } from '@grpc/proto-loader';

export interface HeartbeatRequest {
  'worker_id'?: (string);
  'generation'?: (number);
  'step'?: (number | string | Long);
}

export interface HeartbeatRequest__Output {
  'worker_id': (string);
  'generation': (number);
  'step': (string);
}
