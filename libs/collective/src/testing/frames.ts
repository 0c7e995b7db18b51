// Test-side speaker of the collective's TCP data-link protocol (protos/collective.proto, "The bulk data channel":
// [u32 LE body length][u8 FrameType][protobuf body]), written independently of data-link.ts so the tests can play a
// well- or ill-behaved peer: a fake predecessor (a gRPC server answering Probe and Pull + a raw net data server) and
// helpers to build and parse frames. Used by tags.test.ts, data-link.test.ts and secured-links.test.ts.
import * as grpc from '@grpc/grpc-js';
import net from 'node:net';
import {
  loadDefinition, messageCodec, type Chunk, type Chunk__Output, type DataChallenge, type DataChallenge__Output, type DataHello,
  type DataHello__Output, type DataWelcome, type DataWelcome__Output, type OpStatus, type OpStatus__Output, type ProbeReply,
  type PullRequest, type PullRequest__Output,
} from '@gan/proto';
import { encodeChunk, encodeChunkFrame, FRAME, FRAME_PREFIX, type OutChunk } from '../chunk-codec';

const PKG = 'gan.collective.v1';
export const codecs = {
  hello: messageCodec<DataHello, DataHello__Output>('collective', `${PKG}.DataHello`),
  challenge: messageCodec<DataChallenge, DataChallenge__Output>('collective', `${PKG}.DataChallenge`),
  welcome: messageCodec<DataWelcome, DataWelcome__Output>('collective', `${PKG}.DataWelcome`),
  /** the data link's OPEN carries a PullRequest */
  open: messageCodec<PullRequest, PullRequest__Output>('collective', `${PKG}.PullRequest`),
  status: messageCodec<OpStatus, OpStatus__Output>('collective', `${PKG}.OpStatus`),
  chunk: messageCodec<Chunk, Chunk__Output>('collective', `${PKG}.Chunk`),
};
export { FRAME };

export const collectiveService = () => loadDefinition('collective')[`${PKG}.Collective`] as grpc.ServiceDefinition;

/** One frame: prefix (the body's length, or `claimLength` to lie about it) + body. */
export function frame(type: number, body: Uint8Array, claimLength = body.length): Buffer {
  const b = Buffer.alloc(FRAME_PREFIX + body.length);
  b.writeUInt32LE(claimLength, 0);
  b[4] = type;
  b.set(body, FRAME_PREFIX);
  return b;
}

/** A chunk as one CHUNK frame (head + payload joined). */
export function chunkFrame(c: OutChunk): Buffer {
  const { head, payload } = encodeChunkFrame(c, { head: (bytes) => Buffer.alloc(bytes), payload16: (bytes) => Buffer.alloc(bytes) });
  return payload ? Buffer.concat([head, payload]) : head;
}

export const statusFrame = (s: OpStatus) => frame(FRAME.STATUS, codecs.status.encode(s));

/** Calls onFrame for every complete frame arriving on sock (no limits: this is the test's side). */
export function onFrames(sock: net.Socket, onFrame: (type: number, body: Buffer) => void): void {
  let acc = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => {
    acc = Buffer.concat([acc, d]);
    while (acc.length >= FRAME_PREFIX) {
      const len = acc.readUInt32LE(0);
      if (acc.length < FRAME_PREFIX + len) break;
      const type = acc[4];
      const body = acc.subarray(FRAME_PREFIX, FRAME_PREFIX + len);
      acc = acc.subarray(FRAME_PREFIX + len);
      onFrame(type, body);
    }
  });
}

export interface FakePredecessor {
  /** gRPC address (goes into the victim's peers list) */
  address: string;
  /** its data server's port */
  dataPort: number;
  /** its data endpoint, as a group lists it (TCP only) */
  endpoint: { port: number; path: string; hostId: string };
  /** data connections accepted, and the HELLOs seen on them */
  dataConnections: number;
  hellos: DataHello__Output[];
  /** gRPC Pull calls seen */
  grpcPulls: PullRequest__Output[];
  close(): void;
}

export interface FakeOptions {
  /** a successor's HELLO arrived on a data connection: push its streams (OPEN, CHUNKs, STATUS) down `sock` */
  onHello?(sock: net.Socket, hello: DataHello__Output, fake: FakePredecessor): void;
  /** raw access to a fresh data connection, before any frame is read; return true to take it over entirely */
  onDataConnection?(sock: net.Socket): boolean | void;
  /** a gRPC Pull call arrived (default: leave it open, send nothing); write OutChunks, or Buffers sent as they are */
  onGrpcPull?(call: grpc.ServerWritableStream<PullRequest__Output, OutChunk | Buffer>): void;
}

/**
 * A fake rank: a gRPC server answering Probe and Pull (chunks serialized by the real codec), and a raw net data
 * server on 127.0.0.1 that reads HELLO frames (insecure runs: no challenge) and hands each to `onHello`.
 */
export async function fakePredecessor(o: FakeOptions = {}): Promise<FakePredecessor> {
  const sockets = new Set<net.Socket>();
  const dataServer = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    fake.dataConnections++;
    if (o.onDataConnection?.(sock)) return;
    onFrames(sock, (type, body) => {
      if (type !== FRAME.HELLO) return;
      const h = codecs.hello.decode(body);
      fake.hellos.push(h);
      o.onHello?.(sock, h, fake);
    });
  });
  const dataPort = await new Promise<number>((res, rej) => {
    dataServer.once('error', rej);
    dataServer.listen(0, '127.0.0.1', () => res((dataServer.address() as net.AddressInfo).port));
  });
  const svc = collectiveService();
  const server = new grpc.Server();
  // A Buffer written to a Pull call goes out as is (a hand-made, possibly bad, Chunk message).
  const serialize = (c: OutChunk | Buffer) => (Buffer.isBuffer(c) ? c : encodeChunk(c));
  server.addService({ ...svc, Pull: { ...svc.Pull, responseSerialize: serialize } } as grpc.ServiceDefinition, {
    Pull: (call: grpc.ServerWritableStream<PullRequest__Output, OutChunk | Buffer>) => {
      fake.grpcPulls.push(call.request);
      call.on('error', () => {});
      o.onGrpcPull?.(call);
    },
    Probe: (_c: unknown, cb: grpc.sendUnaryData<ProbeReply>) => cb(null, { rank: 0 }),
  });
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  const fake: FakePredecessor = {
    address: `127.0.0.1:${port}`, dataPort, endpoint: { port: dataPort, path: '', hostId: '' },
    dataConnections: 0, hellos: [], grpcPulls: [],
    close() {
      dataServer.close();
      for (const s of sockets) s.destroy();
      server.forceShutdown();
    },
  };
  return fake;
}
