// Original file: protos/collective.proto


export interface DataHello {
  'job_id'?: (string);
  'from_rank'?: (number);
}

export interface DataHello__Output {
  'job_id': (string);
  'from_rank': (number);
}
