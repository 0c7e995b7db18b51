// Peer discovery for the data plane: a predecessor's data endpoints (TCP port, abstract Unix socket, host id) come
// from its gRPC Probe and are cached, and so is the open data connection to it, which the ops of a generation share
// (one op at a time). A new generation usually follows a failure, so drop() forgets both: the next op probes again
// (the peer may have restarted with new endpoints) and connects afresh.
// Not run directly; tests: node tools/run-tests.mjs libs/collective data-link
import type { RunCredentials } from '@gan/auth';
import type { ProbeRequest } from '@gan/proto';
import type { DataLink } from './data-link';
import type { PeerRef } from './errors';
import type { ProbeOutcome } from './grpc-transport';
import type { Logger } from './logger';
import { connectData, type DataEndpoint } from './tcp-transport';

export interface PeerDiscoveryOptions {
  jobId: string;
  credentials: RunCredentials;
  /** deadline of the Probe and of the connect + handshake */
  timeoutMs: number;
  /** elements per chunk: a larger CHUNK frame from the peer is refused */
  chunkElems: number;
  unixSocket: boolean;
  log: Logger;
  probe(peer: PeerRef, req: ProbeRequest, deadlineMs: number): Promise<ProbeOutcome>;
}

export class PeerDiscovery {
  /** data connections to predecessors, by gRPC address */
  private readonly links = new Map<string, Promise<DataLink>>();
  /** data endpoints learnt from Probe, by gRPC address */
  private readonly endpoints = new Map<string, DataEndpoint>();

  constructor(private readonly o: PeerDiscoveryOptions) {}

  /**
   * The data connection to `pred`: reused while it lives, opened (Probe for the endpoints, connect, handshake) when
   * not. Resolves to null when the peer has no data port: the op then pulls over gRPC.
   */
  async link(pred: PeerRef, fromRank: number, generation: number): Promise<DataLink | null> {
    const cached = this.links.get(pred.address);
    if (cached) {
      const l = await cached.catch(() => undefined);
      if (l?.alive) return l;
      if (this.links.get(pred.address) === cached) this.links.delete(pred.address);
    }
    let at = this.endpoints.get(pred.address);
    if (at === undefined) {
      const { reply, err } = await this.o.probe(pred, { job_id: this.o.jobId, from_rank: fromRank }, this.o.timeoutMs);
      if (!reply) throw new Error(`probe for its data port failed: ${err?.details ?? 'no reply'}`);
      at = { port: Number(reply.data_port ?? 0), path: String(reply.data_path ?? ''), hostId: String(reply.host_id ?? '') };
      this.endpoints.set(pred.address, at);
    }
    if (!at.port && !at.path) return null;
    const creds = this.o.credentials;
    const base = {
      jobId: this.o.jobId, fromRank, generation, secret: creds.secret, tls: creds.tlsClientOptions(),
      timeoutMs: this.o.timeoutMs, maxChunkBytes: this.o.chunkElems * 4,
    };
    const p = connectData(pred, at, base, this.o.unixSocket, this.o.log).then((l) => {
      this.o.log.info({ peer: pred, via: l.target }, 'collective: data channel to predecessor open');
      return l;
    });
    this.links.set(pred.address, p);
    p.catch(() => {
      if (this.links.get(pred.address) === p) this.links.delete(pred.address);
      this.endpoints.delete(pred.address); // the peer may have restarted on another port
    });
    return p;
  }

  /** Close every data connection and forget every endpoint. */
  drop(): void {
    for (const p of this.links.values()) p.then((l) => l.close('generation over'), () => undefined);
    this.links.clear();
    // A peer restarted on the same gRPC address has new data endpoints: ask again.
    this.endpoints.clear();
  }
}
