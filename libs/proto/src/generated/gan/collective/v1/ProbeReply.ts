// Original file: protos/collective.proto

import type { Long } from '@grpc/proto-loader';

export interface ProbeReply {
  'job_id'?: (string);
  'generation'?: (number | string | Long);
  'rank'?: (number);
  'seq'?: (number | string | Long);
  'in_op'?: (boolean);
  'chunks_received'?: (number | string | Long);
}

export interface ProbeReply__Output {
  'job_id': (string);
  'generation': (string);
  'rank': (number);
  'seq': (string);
  'in_op': (boolean);
  'chunks_received': (string);
}
