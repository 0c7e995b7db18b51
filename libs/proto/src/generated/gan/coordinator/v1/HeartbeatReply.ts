// Original file: protos/coordinator.proto


export interface HeartbeatReply {
  'stop'?: (boolean);
  'reason'?: (string);
  'failed'?: (boolean);
  'reform'?: (boolean);
}

export interface HeartbeatReply__Output {
  'stop': (boolean);
  'reason': (string);
  'failed': (boolean);
  'reform': (boolean);
}
