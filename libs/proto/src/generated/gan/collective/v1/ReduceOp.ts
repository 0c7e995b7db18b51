// Original file: protos/collective.proto

export const ReduceOp = {
  SUM: 'SUM',
  MEAN: 'MEAN',
} as const;

export type ReduceOp =
  | 'SUM'
  | 0
  | 'MEAN'
  | 1

export type ReduceOp__Output = typeof ReduceOp[keyof typeof ReduceOp]
