// Original file: protos/coordinator.proto


export interface StatusRequest {
}

export interface StatusRequest__Output {
}
