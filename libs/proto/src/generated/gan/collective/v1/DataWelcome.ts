// Original file: protos/collective.proto


export interface DataWelcome {
  'mac'?: (Buffer | Uint8Array | string);
}

export interface DataWelcome__Output {
  'mac': (Buffer);
}
