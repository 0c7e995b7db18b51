// Original file: protos/coordinator.proto


export interface DataEndpoint {
  'port'?: (number);
  'path'?: (string);
  'host_id'?: (string);
}

export interface DataEndpoint__Output {
  'port': (number);
  'path': (string);
  'host_id': (string);
}
