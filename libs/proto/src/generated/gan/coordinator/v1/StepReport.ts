// Original file: protos/coordinator.proto

import type { Long } from '@grpc/proto-loader';

export interface StepReport {
  'worker_id'?: (string);
  'generation'?: (number);
  'rank'?: (number);
  'step'?: (number | string | Long);
  'd_loss'?: (number | string);
  'g_loss'?: (number | string);
  'd_real'?: (number | string);
  'd_fake'?: (number | string);
  'step_ms'?: (number | string);
  'compute_ms'?: (number | string);
  'allreduce_ms'?: (number | string);
  'data_wait_ms'?: (number | string);
  'allreduce_bytes'?: (number | string | Long);
}

export interface StepReport__Output {
  'worker_id': (string);
  'generation': (number);
  'rank': (number);
  'step': (string);
  'd_loss': (number);
  'g_loss': (number);
  'd_real': (number);
  'd_fake': (number);
  'step_ms': (number);
  'compute_ms': (number);
  'allreduce_ms': (number);
  'data_wait_ms': (number);
  'allreduce_bytes': (string);
}
