/**
 * The collective operations the training loop needs, as an interface: the single-process trainer uses the local
 * no-op version, a distributed worker passes one backed by the gRPC ring (apps/worker). Keeping it abstract is what
 * lets this library stay free of gRPC.
 */
export interface Reducer {
  readonly rank: number;
  readonly worldSize: number;
  /** In place: every rank ends with the element-wise mean, bit-identical. */
  allReduceMean(buf: Float32Array): Promise<void>;
  /** In place: every rank ends with root's bytes. */
  broadcast(buf: Float32Array, root: number): Promise<void>;
  /** Small buffers only; index = rank. */
  allGather(buf: Float32Array): Promise<Float32Array[]>;
}

/** World of one: every operation is the identity. */
export class LocalReducer implements Reducer {
  readonly rank = 0;
  readonly worldSize = 1;
  async allReduceMean(_buf: Float32Array): Promise<void> {}
  async broadcast(_buf: Float32Array, _root: number): Promise<void> {}
  async allGather(buf: Float32Array): Promise<Float32Array[]> {
    return [buf.slice()];
  }
}

/** A collective op failed because a peer died, hung or was cut off: the step is discarded, not applied. */
export class PeerFailure extends Error {
  override name = 'PeerFailure';
}

/** One generation's group: a reducer plus the generation number it belongs to. */
export interface Group extends Reducer {
  readonly generation: number;
}

/**
 * Elastic membership (the worker's link to its coordinator). The loop calls `next` before its first step and after
 * every failed or interrupted generation, passing the step of its last commit (-1 when it holds no state); the
 * member with the newest commit becomes rank 0 and broadcasts its state to the rest.
 */
export interface Membership {
  next(committedStep: number, reason: string | null): Promise<Group>;
  /** Consulted on rank 0 after each step: a new worker waits to be admitted at the next step boundary. */
  reformRequested(): boolean;
}
