// Public API of @gan/collective: ring all-reduce, broadcast, all-gather and barrier over gRPC between workers.
// Never imports TF.js; moves Float32Arrays.
export { Collective, insecureCredentials } from './collective';
export type { AllReduceOptions, CredentialsFactory, GroupSpec, ListenOptions, Logger } from './collective';
export { CollectiveError, type PeerRef } from './errors';
export type { WireFormat } from './wire-format';
export { roundTrip as wireRoundTrip } from './wire-format';
