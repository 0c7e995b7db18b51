// Original file: protos/collective.proto

export const FrameType = {
  FRAME_TYPE_UNSPECIFIED: 'FRAME_TYPE_UNSPECIFIED',
  HELLO: 'HELLO',
  OPEN: 'OPEN',
  CHUNK: 'CHUNK',
  STATUS: 'STATUS',
  CHALLENGE: 'CHALLENGE',
  WELCOME: 'WELCOME',
} as const;

export type FrameType =
  | 'FRAME_TYPE_UNSPECIFIED'
  | 0
  | 'HELLO'
  | 1
  | 'OPEN'
  | 2
  | 'CHUNK'
  | 3
  | 'STATUS'
  | 4
  | 'CHALLENGE'
  | 5
  | 'WELCOME'
  | 6

export type FrameType__Output = typeof FrameType[keyof typeof FrameType]
