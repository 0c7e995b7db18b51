/**
 * The run token on gRPC: a client interceptor that puts `authorization: Bearer <token>` on every call, and a server
 * interceptor that ends any call without the right token with UNAUTHENTICATED before its handler runs. The refusal
 * says nothing about the run, and is logged once per peer host so that a scanner cannot flood the log.
 * Tests: node tools/run-tests.mjs libs/auth rpc-auth
 */
import * as grpc from '@grpc/grpc-js';
import { sameText } from './run-secret';

export interface RefusalLog {
  warn(obj: object, msg: string): void;
}

const HEADER = 'authorization';
/** Hosts remembered for logging once; past this many, refusals are counted but no longer logged. */
const MAX_LOGGED_PEERS = 256;

/** Adds the bearer token to every call of a client (pass it in the client's `interceptors` option). */
export function tokenClientInterceptor(token: string): grpc.Interceptor {
  const value = `Bearer ${token}`;
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set(HEADER, value);
        next(metadata, listener);
      },
    });
}

/** Counts refused calls; `refused` is for tests and status. */
export class TokenGate {
  refused = 0;
  private readonly logged = new Set<string>();

  constructor(
    private readonly token: string,
    private readonly log: RefusalLog,
    private readonly what: string,
  ) {}

  /** True when the metadata carries the run's token. */
  check(metadata: grpc.Metadata): boolean {
    const v = metadata.get(HEADER)[0];
    return typeof v === 'string' && v.startsWith('Bearer ') && sameText(v.slice(7), this.token);
  }

  /** Records a refusal; logs it the first time this host is refused. */
  note(peer: string, method: string): void {
    this.refused += 1;
    const host = peer.replace(/:\d+$/, '');
    if (this.logged.has(host) || this.logged.size >= MAX_LOGGED_PEERS) return;
    this.logged.add(host);
    this.log.warn({ peer: host, method }, `${this.what}: refused a call without the run token (UNAUTHENTICATED); further refusals of this host are not logged`);
  }

  /** The server interceptor (pass it in the server's `interceptors` option). */
  interceptor(): grpc.ServerInterceptor {
    return (method, call) =>
      new grpc.ServerInterceptingCall(call, {
        start: (next) => {
          next({
            onReceiveMetadata: (metadata, pass) => {
              if (this.check(metadata)) {
                pass(metadata);
                return;
              }
              this.note(call.getPeer(), method.path);
              call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: 'missing or wrong run token' });
            },
          });
        },
      });
  }
}
