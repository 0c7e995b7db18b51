// The collective's gRPC plane: the server that answers Pull (a successor's stream of one op, as a ServedPull) and
// Probe (liveness and progress, for the stall inspector), and the client side that pulls from a predecessor and probes peers. gRPC's status
// numbers and metadata end here: the ring engine sees CollectiveStatus, and an abort's origin rank travels in
// trailing metadata. The Pull stream's messages are (de)serialized by the raw chunk codec, not by protobufjs.
// grpc-js lets only the client enlarge its HTTP/2 receive window: that is why data flows server -> client.
// Not run directly; tests: node tools/run-tests.mjs libs/collective tags
import * as grpc from '@grpc/grpc-js';
import type { RunCredentials } from '@gan/auth';
import { loadDefinition, type CollectiveClient, type ProbeReply, type ProbeRequest, type ProbeRequest__Output, type PullRequest, type PullRequest__Output } from '@gan/proto';
import { decodeChunk, encodeChunk, type InChunk, type OutChunk } from './chunk-codec';
import type { CollectiveStatus, PeerRef } from './errors';
import type { Logger } from './logger';
import type { PredecessorHandlers, PredecessorLink } from './ring-engine';
import type { ServedPull } from './successor-pulls';
import { fromWireCode, toWireCode } from './wire-status';

/**
 * The generated client, except that Pull's replies come through the raw chunk codec (InChunk, a view of the
 * received bytes) instead of protobufjs.
 */
type PlaneClient = grpc.Client & Pick<CollectiveClient, 'Probe'> & {
  Pull(argument: PullRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<InChunk>;
};

/** What a Probe of a peer came back with: its reply, or why there was none. */
export interface ProbeOutcome {
  peer: PeerRef;
  reply?: ProbeReply;
  err?: CollectiveStatus;
}

export interface GrpcHandlers {
  pull(call: ServedPull): void;
  /** the reply, or the status the probe is refused with */
  probe(req: ProbeRequest__Output): { reply: ProbeReply } | { refused: CollectiveStatus };
}

export interface GrpcPlaneOptions {
  credentials: RunCredentials;
  /** HTTP/2 receive window of the pulling side, bytes */
  flowControlWindow: number;
  /** elements per chunk: the largest message a peer may send us is one chunk and its head */
  chunkElems: number;
}

/** Largest request the collective's gRPC server takes (Pull and Probe requests are tens of bytes). */
const MAX_REQUEST_BYTES = 64 * 1024;
const ORIGIN_RANK = 'gan-origin-rank';
const ORIGIN_ADDR = 'gan-origin-address';

const SERVICE = 'gan.collective.v1.Collective';
let serviceDef: grpc.ServiceDefinition | undefined;
let ClientCtor: grpc.ServiceClientConstructor | undefined;
/** The proto's service with the Pull stream's messages (de)serialized by the raw chunk codec. */
function service(): { def: grpc.ServiceDefinition; Client: grpc.ServiceClientConstructor } {
  if (!serviceDef || !ClientCtor) {
    const loaded = loadDefinition('collective')[SERVICE] as grpc.ServiceDefinition;
    if (!loaded?.Pull || !loaded?.Probe) throw new Error(`${SERVICE} in protos/collective.proto lacks Pull/Probe`);
    serviceDef = {
      ...loaded,
      Pull: { ...loaded.Pull, responseSerialize: encodeChunk, responseDeserialize: decodeChunk },
    } as grpc.ServiceDefinition;
    ClientCtor = grpc.makeGenericClientConstructor(serviceDef, 'Collective');
  }
  return { def: serviceDef, Client: ClientCtor };
}

export class GrpcPlane {
  private server?: grpc.Server;
  private readonly clients = new Map<string, PlaneClient>();

  constructor(private readonly o: GrpcPlaneOptions) {}

  /** Serve Pull and Probe on host:port (0: any free port); resolves to the 'host:port' bound. */
  async listen(host: string, port: number, log: Logger, h: GrpcHandlers): Promise<string> {
    const creds = this.o.credentials;
    const { def } = service();
    const { options } = creds.grpcServerOptions(log, 'collective', MAX_REQUEST_BYTES);
    const server = (this.server = new grpc.Server({ ...options, 'grpc.max_send_message_length': -1 }));
    server.addService(def, {
      Pull: (call: grpc.ServerWritableStream<PullRequest__Output, OutChunk>) => h.pull(servedPull(call)),
      Probe: (call: grpc.ServerUnaryCall<ProbeRequest__Output, ProbeReply>, cb: grpc.sendUnaryData<ProbeReply>) => {
        const a = h.probe(call.request);
        if ('refused' in a) cb({ code: toWireCode(a.refused.code), details: a.refused.details });
        else cb(null, a.reply);
      },
    });
    const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    const bound = await new Promise<number>((res, rej) =>
      server.bindAsync(`${hostPart}:${port}`, creds.grpcServerCredentials(), (e, p) => (e ? rej(new Error(`collective: cannot listen on ${hostPart}:${port}: ${e.message}`)) : res(p))),
    );
    return `${hostPart}:${bound}`;
  }

  /** Open the op's stream from the predecessor at `address` as a Pull call. */
  pull(address: string, req: PullRequest, h: PredecessorHandlers): PredecessorLink {
    const call = this.client(address).Pull(req);
    call.on('data', (c: InChunk) => {
      try {
        h.data(c);
      } catch (e) {
        // A chunk that cannot be applied must fail the op here, not escape grpc-js as an unhandled error.
        call.cancel();
        h.error({ code: 'internal', details: `bad chunk from ${address}: ${(e as Error).message}` });
      }
    });
    call.on('error', (e: grpc.ServiceError) => h.error(fromServiceError(e)));
    call.on('end', h.end);
    return { cancel: () => call.cancel() };
  }

  /** Probe `peer`; never rejects (a failure is the outcome's `err`). */
  probe(peer: PeerRef, req: ProbeRequest, deadlineMs: number): Promise<ProbeOutcome> {
    return new Promise<ProbeOutcome>((res) => {
      this.client(peer.address).Probe(req, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, reply?: ProbeReply) =>
        res(err ? { peer, err: { code: fromWireCode(err.code), details: err.details || err.message } } : { peer, reply }),
      );
    });
  }

  /** Drop every client connection (a later call opens a fresh one). */
  closeClients(): void {
    for (const cl of this.clients.values()) cl.close();
    this.clients.clear();
  }

  /** Stop serving: in-flight calls get `graceMs` to finish (an aborted op's status must still go out), then are cut. */
  shutdown(graceMs: number): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    return new Promise<void>((res) => {
      const t = setTimeout(() => {
        server.forceShutdown();
        res();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(t);
        res();
      });
    });
  }

  forceShutdown(): void {
    this.server?.forceShutdown();
  }

  private client(address: string): PlaneClient {
    let cl = this.clients.get(address);
    if (!cl) {
      const { Client } = service();
      const creds = this.o.credentials;
      // The one cast: grpc-js's generic constructor types its methods loosely; PlaneClient says what service() built.
      const made = new Client(address, creds.grpcChannelCredentials(), {
        ...creds.grpcClientOptions(),
        'grpc-node.flow_control_window': this.o.flowControlWindow,
        // A chunk (the largest reply) and its head; a bigger message from a peer is refused, not buffered.
        'grpc.max_receive_message_length': this.o.chunkElems * 4 + 4096,
        'grpc.max_send_message_length': -1,
        // Each peer gets its own connection even if two Collectives share a process (tests, benches).
        'grpc.use_local_subchannel_pool': 1,
      }) as unknown as PlaneClient;
      cl = made;
      this.clients.set(address, cl);
    }
    return cl;
  }
}

/** A Pull call as a ServedPull: the status (and the origin rank, in trailing metadata) ends the call. */
function servedPull(call: grpc.ServerWritableStream<PullRequest__Output, OutChunk>): ServedPull {
  call.on('error', () => {}); // a failed write surfaces as 'cancelled'
  return {
    request: call.request,
    get cancelled() {
      return call.cancelled;
    },
    write: (ch, cb) => void call.write(ch, cb),
    end: () => call.end(),
    abort: (s) => {
      const metadata = new grpc.Metadata();
      if (s.origin) {
        metadata.set(ORIGIN_RANK, String(s.origin.rank));
        metadata.set(ORIGIN_ADDR, s.origin.address);
      }
      call.emit('error', { code: toWireCode(s.code), details: s.details, metadata });
    },
    onGone: (fn) => void call.on('cancelled', fn),
  };
}

function fromServiceError(err: grpc.ServiceError): CollectiveStatus {
  const oRank = err.metadata?.get(ORIGIN_RANK)[0];
  const oAddr = err.metadata?.get(ORIGIN_ADDR)[0];
  return {
    code: fromWireCode(err.code), details: err.details || err.message,
    ...(oRank !== undefined ? { origin: { rank: Number(oRank), address: String(oAddr ?? '') } } : {}),
  };
}
