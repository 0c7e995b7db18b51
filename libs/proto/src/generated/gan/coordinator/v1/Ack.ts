// Original file: /work/main/protos/coordinator.proto


export interface Ack {
}

export interface Ack__Output {
}
