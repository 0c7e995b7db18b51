// Original file: protos/coordinator.proto


export interface JoinReply {
  'job_id'?: (string);
  'generation'?: (number);
  'rank'?: (number);
  'world_size'?: (number);
  'peers'?: (string)[];
  'config_json'?: (string);
  'heartbeat_ms'?: (number);
}

export interface JoinReply__Output {
  'job_id': (string);
  'generation': (number);
  'rank': (number);
  'world_size': (number);
  'peers': (string)[];
  'config_json': (string);
  'heartbeat_ms': (number);
}
