// The data link (data-link.ts, data-server.ts: framing, sockets, handshake) as a transport of the ring engine: a
// successor's admitted connection yields each op's SuccessorLink, DataLink.stream gives an op its PredecessorLink,
// both speaking the collective's own CollectiveStatus (only the STATUS frame's encoding knows its wire numbering).
// The data link implements the engine's stream interfaces itself, so nothing wraps a stream or a chunk. Also:
// serving the data plane, and connecting to a predecessor's.
// Not run directly; tests: node tools/run-tests.mjs libs/collective data-link
import type { RunSecret, RunCredentials } from '@gan/auth';
import type { PullRequest } from '@gan/proto';
import { DataLink, DataServer, hostId, type LinkOptions, type SuccessorConnection } from './data-link';
import type { PeerRef } from './errors';
import type { Logger } from './logger';
import type { PredecessorHandlers, PredecessorLink, SuccessorLink } from './ring-engine';

/** Where a rank's data server listens (what JoinReply lists for every rank). */
export interface DataEndpoint {
  /** TCP port, on the host of the rank's gRPC address */
  port: number;
  /** abstract Unix socket name as '@name'; '' when there is none */
  path: string;
  /** the rank's hostId(): its abstract socket is reachable from here only if it equals ours */
  hostId: string;
}

/** Push the op `req` describes down the successor's connection. */
export function pushOver(conn: SuccessorConnection, req: PullRequest): SuccessorLink {
  return conn.open(req);
}

/** Receive the op `req` describes from the predecessor's connection. */
export function receiveOver(link: DataLink, req: PullRequest, h: PredecessorHandlers): PredecessorLink {
  return link.stream(req, h);
}

export interface DataPlaneOptions {
  host: string;
  /** TCP port (0: any free port) */
  port: number;
  jobId: string;
  credentials: RunCredentials;
  /** the link key of a generation (see DataServerAuth.keyFor); absent without a run secret */
  keyFor?: (generation: number) => Promise<RunSecret>;
  /** a connection without an accepted HELLO after this long is closed */
  helloTimeoutMs: number;
  /** also serve on an abstract Unix socket (Linux) */
  unixSocket: boolean;
  log: Logger;
  onConnection(conn: SuccessorConnection): void;
}

/** Serve the data plane: successors' data connections, each handed to `onConnection` once admitted. */
export function listenData(o: DataPlaneOptions): Promise<DataServer> {
  const auth = {
    jobId: o.jobId, keyFor: o.keyFor, tls: o.credentials.tlsServerOptions(), helloTimeoutMs: o.helloTimeoutMs,
    onRefused: (host: string, why: string) => o.log.warn({ peer: host, why }, 'collective: refused a data connection; further refusals of this host are not logged'),
  };
  return DataServer.listen(o.host, auth, o.onConnection, o.unixSocket, o.port);
}

/**
 * Connect (and complete the handshake) to `pred`'s data server: its Unix socket when it is on this machine and
 * `unixSocket` allows, else TCP to the host of its gRPC address.
 */
export async function connectData(
  pred: PeerRef, at: DataEndpoint, base: Omit<LinkOptions, 'host' | 'port' | 'path'>, unixSocket: boolean, log: Logger,
): Promise<DataLink> {
  const { port, path, hostId: theirHost } = at;
  if (path && unixSocket && theirHost && theirHost === hostId()) {
    try {
      return await DataLink.connect({ ...base, path: `\0${path.slice(1)}` });
    } catch (e) {
      // Same machine but not the same network namespace, say: TCP still reaches it.
      log.debug({ peer: pred, path, err: (e as Error).message }, 'data channel: Unix socket unreachable, using TCP');
      if (!port) throw e;
    }
  }
  const host = pred.address.slice(0, pred.address.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
  return DataLink.connect({ ...base, host, port });
}
