// Original file: protos/collective.proto


export interface DataChallenge {
  'nonce'?: (Buffer | Uint8Array | string);
}

export interface DataChallenge__Output {
  'nonce': (Buffer);
}
