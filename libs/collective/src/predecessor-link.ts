// This rank's data connection to its predecessor, one per generation: opened in the background as soon as the
// group is set (the predecessor's endpoint and the generation's link key come with it, from the coordinator's
// JoinReply), shared by the generation's ops, and reopened only if it died (an op given up on closes it).
// Not run directly; tests: node tools/run-tests.mjs libs/collective data-link
import type { RunCredentials, RunSecret } from '@gan/auth';
import type { DataLink } from './data-link';
import type { PeerRef } from './errors';
import type { Logger } from './logger';
import { connectData, type DataEndpoint } from './tcp-transport';

export interface PredecessorLinkOptions {
  jobId: string;
  credentials: RunCredentials;
  /** deadline of the connect + handshake */
  timeoutMs: number;
  /** elements per chunk: a larger CHUNK frame from the peer is refused */
  chunkElems: number;
  unixSocket: boolean;
  log: Logger;
}

/** Whom to connect to, as whom, with which key. */
export interface LinkTarget {
  pred: PeerRef;
  at: DataEndpoint;
  fromRank: number;
  generation: number;
  /** the generation's link key; absent without a run secret */
  key?: RunSecret;
}

export class PredecessorLink {
  private current?: { target: LinkTarget; link: Promise<DataLink> };

  constructor(private readonly o: PredecessorLinkOptions) {}

  /** A new generation: drop the old connection and open this one's in the background. */
  open(target: LinkTarget): void {
    this.drop();
    this.current = { target, link: this.connect(target) };
    this.current.link.catch(() => undefined); // an op that needs it reports the failure
  }

  /** The generation's connection, reopened if it died. */
  async get(): Promise<DataLink> {
    const c = this.current;
    if (!c) throw new Error('no group set');
    const l = await c.link.catch(() => undefined);
    if (l?.alive) return l;
    if (this.current !== c) return this.get();
    const link = this.connect(c.target);
    this.current = { target: c.target, link };
    return link;
  }

  /** Close the connection (a new generation, or the collective closing). */
  drop(): void {
    this.current?.link.then((l) => l.close('generation over'), () => undefined);
    this.current = undefined;
  }

  private connect(t: LinkTarget): Promise<DataLink> {
    const base = {
      jobId: this.o.jobId, fromRank: t.fromRank, generation: t.generation, key: t.key, tls: this.o.credentials.tlsClientOptions(),
      timeoutMs: this.o.timeoutMs, maxChunkBytes: this.o.chunkElems * 4,
    };
    return connectData(t.pred, t.at, base, this.o.unixSocket, this.o.log).then((l) => {
      this.o.log.info({ peer: t.pred, via: l.target, generation: t.generation }, 'collective: data channel to predecessor open');
      return l;
    });
  }
}
