// The collective's codes as the numbers its two wires carry: a Pull call's gRPC status, and the `code` of the data
// link's STATUS frame, which kept gRPC's numbering so ranks of either transport (and older builds) read each other.
// Only the transports use this; the ring engine never sees a number.
// Not run directly; tests: node tools/run-tests.mjs libs/collective data-link
import { status } from '@grpc/grpc-js';
import type { CollectiveCode } from './errors';

const TO_WIRE: Readonly<Record<CollectiveCode, number>> = {
  ok: status.OK, cancelled: status.CANCELLED, unknown: status.UNKNOWN, 'invalid-argument': status.INVALID_ARGUMENT,
  deadline: status.DEADLINE_EXCEEDED, 'not-found': status.NOT_FOUND, 'already-exists': status.ALREADY_EXISTS,
  'permission-denied': status.PERMISSION_DENIED, 'resource-exhausted': status.RESOURCE_EXHAUSTED, precondition: status.FAILED_PRECONDITION,
  aborted: status.ABORTED, 'out-of-range': status.OUT_OF_RANGE, unimplemented: status.UNIMPLEMENTED, internal: status.INTERNAL,
  unavailable: status.UNAVAILABLE, 'data-loss': status.DATA_LOSS, unauthenticated: status.UNAUTHENTICATED,
};
const FROM_WIRE = new Map<number, CollectiveCode>(Object.entries(TO_WIRE).map(([k, v]) => [v, k as CollectiveCode]));

export const toWireCode = (c: CollectiveCode): number => TO_WIRE[c];
/** A number no gRPC status has (a confused or hostile peer) reads as 'unknown'. */
export const fromWireCode = (n: number): CollectiveCode => FROM_WIRE.get(n) ?? 'unknown';

