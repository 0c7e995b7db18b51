// Public API of @gan/collective: ring all-reduce, broadcast, all-gather and barrier between workers (gRPC control,
// chunks over a TCP data channel or gRPC streams).
// Never imports TF.js; moves Float32Arrays.
export { Collective } from './collective';
export type { AllReduceOptions, GroupSpec, ListenOptions, Logger, Transport } from './collective';
export { CollectiveError, type CollectiveCode, type CollectiveStatus, type PeerRef } from './errors';
export type { WireFormat } from './wire-format';
export { roundTrip as wireRoundTrip } from './wire-format';
