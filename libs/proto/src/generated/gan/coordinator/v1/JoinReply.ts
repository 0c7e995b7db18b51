// Original file: protos/coordinator.proto


export interface JoinReply {
  'job_id'?: (string);
  'generation'?: (number);
  'rank'?: (number);
  'world_size'?: (number);
  'peers'?: (string)[];
  'heartbeat_ms'?: (number);
  'ticket'?: (Buffer | Uint8Array | string);
}

export interface JoinReply__Output {
  'job_id': (string);
  'generation': (number);
  'rank': (number);
  'world_size': (number);
  'peers': (string)[];
  'heartbeat_ms': (number);
  'ticket': (Buffer);
}
