// Original file: protos/coordinator.proto

import type { DataEndpoint as _gan_coordinator_v1_DataEndpoint, DataEndpoint__Output as _gan_coordinator_v1_DataEndpoint__Output } from '../../../gan/coordinator/v1/DataEndpoint';
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
  'data'?: (_gan_coordinator_v1_DataEndpoint | null);
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
  'data': (_gan_coordinator_v1_DataEndpoint__Output | null);
}
