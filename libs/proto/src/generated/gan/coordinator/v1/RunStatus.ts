// Original file: protos/coordinator.proto

import type { Long } from '@grpc/proto-loader';

export interface RunStatus {
  'job_id'?: (string);
  'state'?: (string);
  'generation'?: (number);
  'world_size'?: (number);
  'joined'?: (number);
  'step'?: (number | string | Long);
  'total_steps'?: (number | string | Long);
  'd_loss'?: (number | string);
  'g_loss'?: (number | string);
  'step_ms'?: (number | string);
  'allreduce_ms'?: (number | string);
  'data_wait_ms'?: (number | string);
  'reason'?: (string);
}

export interface RunStatus__Output {
  'job_id': (string);
  'state': (string);
  'generation': (number);
  'world_size': (number);
  'joined': (number);
  'step': (string);
  'total_steps': (string);
  'd_loss': (number);
  'g_loss': (number);
  'step_ms': (number);
  'allreduce_ms': (number);
  'data_wait_ms': (number);
  'reason': (string);
}
