// Original file: protos/collective.proto

import type { Long } from '@grpc/proto-loader';

export interface OpStatus {
  'seq'?: (number | string | Long);
  'code'?: (number);
  'details'?: (string);
  'origin_rank'?: (number);
  'origin_address'?: (string);
}

export interface OpStatus__Output {
  'seq': (string);
  'code': (number);
  'details': (string);
  'origin_rank': (number);
  'origin_address': (string);
}
