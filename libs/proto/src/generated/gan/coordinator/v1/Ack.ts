// Original file: protos/coordinator.proto


export interface Ack {
}

export interface Ack__Output {
}
