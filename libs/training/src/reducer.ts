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
