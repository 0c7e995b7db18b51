// Encode/decode one protobuf message of a protos/*.proto file outside any RPC (e.g. the frames of the collective's
// TCP data channel), with the same object shape proto-loader gives RPC handlers (LOAD_OPTIONS: keepCase, longs as
// strings, enums as names, defaults filled in), so the generated `Foo` / `Foo__Output` types describe both.
// Usage: const hello = messageCodec<DataHello, DataHello__Output>('collective', 'gan.collective.v1.DataHello');
import protobuf from 'protobufjs';
import { protoPath, protosDir } from './load';

export interface MessageCodec<In, Out> {
  encode(message: In): Uint8Array;
  /** Throws on bytes that are not a valid encoding of the message. */
  decode(bytes: Uint8Array): Out;
}

const roots = new Map<string, protobuf.Root>();

function root(name: string): protobuf.Root {
  let r = roots.get(name);
  if (!r) {
    r = new protobuf.Root();
    // Imports resolve against protos/, as proto-loader's includeDirs does.
    r.resolvePath = (_origin, target) => (target.startsWith('/') ? target : `${protosDir()}/${target}`);
    r.loadSync(protoPath(name), { keepCase: true });
    r.resolveAll();
    roots.set(name, r);
  }
  return r;
}

export function messageCodec<In extends object, Out>(protoName: string, fullName: string): MessageCodec<In, Out> {
  const type = root(protoName).lookupType(fullName);
  return {
    encode(message: In): Uint8Array {
      // fromObject converts (long strings, enum names) and drops unknown keys; verifying its output could not fail.
      return type.encode(type.fromObject(message as Record<string, unknown>)).finish();
    },
    decode(bytes: Uint8Array): Out {
      return type.toObject(type.decode(bytes), { longs: String, enums: String, defaults: true, oneofs: true }) as Out;
    },
  };
}
