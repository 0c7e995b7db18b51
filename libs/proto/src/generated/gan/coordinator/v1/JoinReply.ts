// Original file: protos/coordinator.proto

import type { DataEndpoint as _gan_coordinator_v1_DataEndpoint, DataEndpoint__Output as _gan_coordinator_v1_DataEndpoint__Output } from '../../../gan/coordinator/v1/DataEndpoint';

export interface JoinReply {
  'job_id'?: (string);
  'generation'?: (number);
  'rank'?: (number);
  'world_size'?: (number);
  'peers'?: (string)[];
  'heartbeat_ms'?: (number);
  'ticket'?: (Buffer | Uint8Array | string);
  'data'?: (_gan_coordinator_v1_DataEndpoint)[];
  'link_nonce'?: (Buffer | Uint8Array | string);
}

export interface JoinReply__Output {
  'job_id': (string);
  'generation': (number);
  'rank': (number);
  'world_size': (number);
  'peers': (string)[];
  'heartbeat_ms': (number);
  'ticket': (Buffer);
  'data': (_gan_coordinator_v1_DataEndpoint__Output)[];
  'link_nonce': (Buffer);
}
