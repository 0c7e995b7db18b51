// Original file: protos/collective.proto

export const Wire = {
  FP32: 'FP32',
  FP16: 'FP16',
  BF16: 'BF16',
} as const;

export type Wire =
  | 'FP32'
  | 0
  | 'FP16'
  | 1
  | 'BF16'
  | 2

export type Wire__Output = typeof Wire[keyof typeof Wire]
