// Original file: protos/collective.proto

export const OpKind = {
  OP_KIND_UNSPECIFIED: 'OP_KIND_UNSPECIFIED',
  ALL_REDUCE: 'ALL_REDUCE',
  BROADCAST: 'BROADCAST',
  ALL_GATHER: 'ALL_GATHER',
  BARRIER: 'BARRIER',
} as const;

export type OpKind =
  | 'OP_KIND_UNSPECIFIED'
  | 0
  | 'ALL_REDUCE'
  | 1
  | 'BROADCAST'
  | 2
  | 'ALL_GATHER'
  | 3
  | 'BARRIER'
  | 4

export type OpKind__Output = typeof OpKind[keyof typeof OpKind]
