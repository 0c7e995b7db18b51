// The data link (data-link.ts: framing, sockets, handshake) as a transport of the ring engine: its DataServer's
// pulls become ServedPulls, DataLink.pull opens an op's predecessor stream, and the STATUS frame's code (gRPC's
// numbering, for compatibility) is mapped to and from CollectiveStatus here. Chunks pass straight through: the
// adapters wrap each op's stream once, never a chunk. Also: serving the data plane, and connecting to a peer's.
// Not run directly; tests: node tools/run-tests.mjs libs/collective data-link
import type { RunCredentials } from '@gan/auth';
import type { PullRequest } from '@gan/proto';
import { DataLink, DataServer, hostId, type LinkOptions, type OutStream } from './data-link';
import type { PeerRef } from './errors';
import type { Logger } from './logger';
import type { PredecessorHandlers, PredecessorLink } from './ring-engine';
import type { ServedPull } from './successor-pulls';
import { fromWireStatus, toWireStatus } from './wire-status';

/** A data-link PULL as a ServedPull. */
function servedPull(out: OutStream): ServedPull {
  return {
    request: out.request,
    get cancelled() {
      return out.cancelled;
    },
    write: (ch, cb) => out.write(ch, cb),
    end: () => out.end(),
    abort: (s) => out.abort(toWireStatus(s)),
    onGone: (fn) => out.onGone(fn),
  };
}

/** Open the op's stream from the predecessor on an open data connection. */
export function pullOver(link: DataLink, req: PullRequest, h: PredecessorHandlers): PredecessorLink {
  return link.pull(req, { data: h.data, end: h.end, error: (s) => h.error(fromWireStatus(s)) });
}

export interface DataPlaneOptions {
  host: string;
  /** TCP port (0: any free port) */
  port: number;
  jobId: string;
  credentials: RunCredentials;
  /** a connection without an accepted HELLO after this long is closed */
  helloTimeoutMs: number;
  /** also serve on an abstract Unix socket (Linux) */
  unixSocket: boolean;
  log: Logger;
  onPull(call: ServedPull): void;
}

/** Serve the data plane: successors' data connections, each PULL handed to `onPull`. */
export function listenData(o: DataPlaneOptions): Promise<DataServer> {
  const auth = {
    jobId: o.jobId, secret: o.credentials.secret, tls: o.credentials.tlsServerOptions(), helloTimeoutMs: o.helloTimeoutMs,
    onRefused: (host: string, why: string) => o.log.warn({ peer: host, why }, 'collective: refused a data connection; further refusals of this host are not logged'),
  };
  return DataServer.listen(o.host, auth, (out) => o.onPull(servedPull(out)), o.unixSocket, o.port);
}

/** Where a peer's data server listens, as its Probe said (port 0 and path '': it has none). */
export interface DataEndpoint {
  port: number;
  /** abstract socket name as '@name' */
  path: string;
  /** the peer's hostId(): its abstract socket is reachable from here only if it equals ours */
  hostId: string;
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
