// Original file: protos/coordinator.proto

import type { Long } from '@grpc/proto-loader';

export interface JoinRequest {
  'worker_id'?: (string);
  'advertise_address'?: (string);
  'config_fingerprint'?: (string);
  'config_json'?: (string);
  'committed_step'?: (number | string | Long);
  'generation'?: (number);
  'rank'?: (number);
  'world_size'?: (number);
  'peers'?: (string)[];
  'still_training'?: (boolean);
  'ticket'?: (Buffer | Uint8Array | string);
}

export interface JoinRequest__Output {
  'worker_id': (string);
  'advertise_address': (string);
  'config_fingerprint': (string);
  'config_json': (string);
  'committed_step': (string);
  'generation': (number);
  'rank': (number);
  'world_size': (number);
  'peers': (string)[];
  'still_training': (boolean);
  'ticket': (Buffer);
}
