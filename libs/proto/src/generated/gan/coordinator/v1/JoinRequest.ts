// Original file: /work/main/protos/coordinator.proto


export interface JoinRequest {
  'worker_id'?: (string);
  'advertise_address'?: (string);
  'config_fingerprint'?: (string);
  'config_json'?: (string);
}

export interface JoinRequest__Output {
  'worker_id': (string);
  'advertise_address': (string);
  'config_fingerprint': (string);
  'config_json': (string);
}
