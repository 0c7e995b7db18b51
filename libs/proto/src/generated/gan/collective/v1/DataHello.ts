// Original file: protos/collective.proto

import type { Long } from '@grpc/proto-loader';

export interface DataHello {
  'job_id'?: (string);
  'from_rank'?: (number);
  'generation'?: (number | string | Long);
  'nonce'?: (Buffer | Uint8Array | string);
  'mac'?: (Buffer | Uint8Array | string);
}

export interface DataHello__Output {
  'job_id': (string);
  'from_rank': (number);
  'generation': (string);
  'nonce': (Buffer);
  'mac': (Buffer);
}
