// Original file: protos/coordinator.proto

import type { Long } from '@grpc/proto-loader';

export interface LeaveRequest {
  'worker_id'?: (string);
  'generation'?: (number);
  'failed'?: (boolean);
  'reason'?: (string);
  'step'?: (number | string | Long);
}

export interface LeaveRequest__Output {
  'worker_id': (string);
  'generation': (number);
  'failed': (boolean);
  'reason': (string);
  'step': (string);
}
