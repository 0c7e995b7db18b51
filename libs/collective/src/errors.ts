// CollectiveError: every failed collective op rejects with one, carrying a gRPC status code and the peer at fault.
import { status } from '@grpc/grpc-js';

export interface PeerRef {
  rank: number;
  address: string;
}

export class CollectiveError extends Error {
  /** gRPC status number (status.UNAVAILABLE, status.DEADLINE_EXCEEDED, ...) */
  readonly code: number;
  /** the peer the failure is attributed to, when there is one */
  readonly peer?: PeerRef;
  constructor(code: number, message: string, peer?: PeerRef) {
    super(message);
    this.name = 'CollectiveError';
    this.code = code;
    this.peer = peer;
  }
  /** e.g. 'UNAVAILABLE' */
  get codeName(): string {
    return status[this.code] ?? String(this.code);
  }
}

export const peerName = (p: PeerRef) => `rank ${p.rank} (${p.address})`;
