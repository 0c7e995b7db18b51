// Encodes and decodes tensorflow.Event, the record of a TensorBoard event file, with protobufjs and the descriptor
// generated from protos/tensorboard/*.proto (tensorboard-proto.generated.ts). Tested by tensorboard-proto.test.ts:
// node --import tsx --test libs/telemetry/src/tensorboard-proto.test.ts
import protobuf from 'protobufjs';
import { TENSORBOARD_PROTO, type Event } from './tensorboard-proto.generated';

export type { Event, Summary, SummaryImage, SummaryValue } from './tensorboard-proto.generated';

let eventType: protobuf.Type | null = null;

// Built on first use: importing @gan/telemetry for its logger should not build protobuf types.
function type(): protobuf.Type {
  return (eventType ??= protobuf.Root.fromJSON(TENSORBOARD_PROTO).lookupType('tensorflow.Event'));
}

/** The protobuf bytes of `event`. */
export function encodeEvent(event: Event): Uint8Array {
  // fromObject converts what encode would not (a number for the int64 step) and drops keys the message lacks (the
  // oneof names of a decoded event).
  return type().encode(type().fromObject(event as unknown as Record<string, unknown>)).finish();
}

/** Decodes one Event; throws protobufjs's error on bytes that are not one. */
export function decodeEvent(bytes: Uint8Array): Event {
  return type().toObject(type().decode(bytes), { longs: Number, defaults: true, oneofs: true }) as unknown as Event;
}
