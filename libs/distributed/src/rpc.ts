/**
 * gRPC plumbing of the control plane: loads protos/coordinator.proto (found by @gan/proto; longs as numbers here),
 * wraps async handlers so every rejection becomes a gRPC status with an actionable message, and computes deadlines
 * (every call has one).
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { RunCredentials } from '@gan/auth';
import { protoPath } from '@gan/proto';

let cached: grpc.GrpcObject | null = null;
export function coordinatorPackage(): any {
  if (!cached) {
    const def = protoLoader.loadSync(protoPath('coordinator'), {
      keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true,
    });
    cached = grpc.loadPackageDefinition(def);
  }
  return (cached as any).gan.coordinator.v1;
}

/**
 * Channel options of every client of the coordinator. grpc-js backs off up to 120 s between reconnects by default;
 * a worker that lost a restarted coordinator for a few seconds would then reach the new one only after its
 * heartbeat deadline there had passed. Reconnecting at least every second bounds that delay.
 */
const COORDINATOR_CHANNEL_OPTIONS: grpc.ChannelOptions = Object.freeze({
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 1000,
  'grpc.max_receive_message_length': 1 << 20,
});

/** A client of the coordinator with the run's credentials (token, TLS): the one way to make one. */
export function coordinatorClient(address: string, creds: RunCredentials): grpc.Client {
  return new (coordinatorPackage().Coordinator)(address, creds.grpcChannelCredentials(), { ...COORDINATOR_CHANNEL_OPTIONS, ...creds.grpcClientOptions() });
}

/** An error that carries the gRPC status it should become. */
export class StatusError extends Error {
  constructor(readonly code: grpc.status, message: string) {
    super(message);
  }
}

/** Adapts an async unary handler: resolved values are sent, rejections become statuses (INTERNAL if untyped). */
export function unary<Req, Res>(fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request, call).then(
      (res) => callback(null, res),
      (err: unknown) => {
        const code = err instanceof StatusError ? err.code : grpc.status.INTERNAL;
        callback({ code, details: (err as Error)?.message ?? String(err) } as grpc.ServiceError);
      },
    );
  };
}

export const deadline = (ms: number): Date => new Date(Date.now() + ms);

/**
 * Promise form of a unary client call with a deadline. `waitForReady`: a channel still backing off after the
 * server was away waits (until the deadline) for the reconnect instead of failing at once with the stale error;
 * for calls that must reach a coordinator that has just come back (Leave, re-registering).
 */
export function call<Res>(client: any, method: string, req: object, timeoutMs: number, opts: { waitForReady?: boolean } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    client[method](req, { deadline: deadline(timeoutMs), waitForReady: opts.waitForReady ?? false }, (err: grpc.ServiceError | null, res: Res) => (err ? reject(err) : resolve(res)));
  });
}

/** Status name for messages: 'UNAVAILABLE' rather than 14. */
export const statusName = (code: number): string => grpc.status[code] ?? String(code);
