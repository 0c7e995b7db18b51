// The collective's failure vocabulary, whatever carried the op: a CollectiveCode (its own, not a transport's), the
// status that ends an op's stream (with the rank the failure started at), and the CollectiveError every failed op
// rejects with. Transports map their wire codes to and from these at their edge (wire-status.ts).
// Not run directly; tests: node tools/run-tests.mjs libs/collective ring-engine

export interface PeerRef {
  rank: number;
  address: string;
}

export type CollectiveCode =
  | 'ok' | 'cancelled' | 'unknown' | 'invalid-argument' | 'deadline' | 'not-found' | 'already-exists'
  | 'permission-denied' | 'resource-exhausted' | 'precondition' | 'aborted' | 'out-of-range' | 'unimplemented'
  | 'internal' | 'unavailable' | 'data-loss' | 'unauthenticated';

/**
 * What codeName says: the names the collective has always logged (they were gRPC's), which other libraries log and
 * match on. One name per code, so nothing a peer sends is renamed on the way round the ring.
 */
export const CODE_NAME: Readonly<Record<CollectiveCode, string>> = {
  ok: 'OK', cancelled: 'CANCELLED', unknown: 'UNKNOWN', 'invalid-argument': 'INVALID_ARGUMENT', deadline: 'DEADLINE_EXCEEDED',
  'not-found': 'NOT_FOUND', 'already-exists': 'ALREADY_EXISTS', 'permission-denied': 'PERMISSION_DENIED',
  'resource-exhausted': 'RESOURCE_EXHAUSTED', precondition: 'FAILED_PRECONDITION', aborted: 'ABORTED', 'out-of-range': 'OUT_OF_RANGE',
  unimplemented: 'UNIMPLEMENTED', internal: 'INTERNAL', unavailable: 'UNAVAILABLE', 'data-loss': 'DATA_LOSS', unauthenticated: 'UNAUTHENTICATED',
};

/** How an op's stream ended. `origin` is the rank the failure started at (absent for 'ok' and for refusals). */
export interface CollectiveStatus {
  code: CollectiveCode;
  details: string;
  origin?: PeerRef;
}

export class CollectiveError extends Error {
  readonly code: CollectiveCode;
  /** the peer the failure is attributed to, when there is one */
  readonly peer?: PeerRef;
  constructor(code: CollectiveCode, message: string, peer?: PeerRef) {
    super(message);
    this.name = 'CollectiveError';
    this.code = code;
    this.peer = peer;
  }
  /** e.g. 'UNAVAILABLE', 'DEADLINE_EXCEEDED' */
  get codeName(): string {
    return CODE_NAME[this.code] ?? String(this.code);
  }
}

export const peerName = (p: PeerRef) => `rank ${p.rank} (${p.address})`;
