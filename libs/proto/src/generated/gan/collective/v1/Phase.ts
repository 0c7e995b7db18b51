// Original file: protos/collective.proto

export const Phase = {
  PHASE_UNSPECIFIED: 'PHASE_UNSPECIFIED',
  REDUCE_SCATTER: 'REDUCE_SCATTER',
  GATHER: 'GATHER',
  CHAIN: 'CHAIN',
} as const;

export type Phase =
  | 'PHASE_UNSPECIFIED'
  | 0
  | 'REDUCE_SCATTER'
  | 1
  | 'GATHER'
  | 2
  | 'CHAIN'
  | 3

export type Phase__Output = typeof Phase[keyof typeof Phase]
