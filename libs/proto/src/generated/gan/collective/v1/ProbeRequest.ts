// Original file: protos/collective.proto


export interface ProbeRequest {
  'job_id'?: (string);
  'from_rank'?: (number);
}

export interface ProbeRequest__Output {
  'job_id': (string);
  'from_rank': (number);
}
