/**
 * gRPC plumbing of the control plane: loads protos/coordinator.proto (found by @gan/proto; longs as numbers here),
 * wraps async handlers so every rejection becomes a gRPC status with an actionable message, and computes deadlines
 * (every call has one).
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { RunCredentials } from '@gan/auth';
import {
  protoPath, type Ack__Output, type CoordinatorClient, type CoordinatorProto, type HeartbeatReply__Output, type HeartbeatRequest,
  type JoinReply__Output, type JoinRequest, type LeaveRequest, type RunStatus__Output, type ShutdownRequest, type StatusRequest,
  type StepReport,
} from '@gan/proto';

type CoordinatorPackage = CoordinatorProto['gan']['coordinator']['v1'];
let cached: CoordinatorPackage | null = null;
export function coordinatorPackage(): CoordinatorPackage {
  if (!cached) {
    const def = protoLoader.loadSync(protoPath('coordinator'), {
      keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true,
    });
    cached = (grpc.loadPackageDefinition(def) as unknown as CoordinatorProto).gan.coordinator.v1;
  }
  return cached;
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
export function coordinatorClient(address: string, creds: RunCredentials): CoordinatorClient {
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

/** Each unary method of the coordinator: [request, reply] as the generated types spell them. */
export interface CoordinatorCalls {
  Join: [JoinRequest, JoinReply__Output];
  Heartbeat: [HeartbeatRequest, HeartbeatReply__Output];
  ReportStep: [StepReport, Ack__Output];
  Leave: [LeaveRequest, Ack__Output];
  GetStatus: [StatusRequest, RunStatus__Output];
  Shutdown: [ShutdownRequest, Ack__Output];
}

type UnaryFn<Req, Res> = (req: Req, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => grpc.ClientUnaryCall;

/**
 * Promise form of a unary client call with a deadline. `waitForReady`: a channel still backing off after the
 * server was away waits (until the deadline) for the reconnect instead of failing at once with the stale error;
 * for calls that must reach a coordinator that has just come back (Leave, re-registering).
 */
export function call<M extends keyof CoordinatorCalls>(
  client: CoordinatorClient, method: M, req: CoordinatorCalls[M][0], timeoutMs: number, opts: { waitForReady?: boolean } = {},
): Promise<CoordinatorCalls[M][1]> {
  // The generated client's overloads cannot be selected through a method-name type parameter: pick the one used.
  const fn = client[method] as unknown as UnaryFn<CoordinatorCalls[M][0], CoordinatorCalls[M][1]>;
  return new Promise((resolve, reject) => {
    fn.call(client, req, { deadline: deadline(timeoutMs), waitForReady: opts.waitForReady ?? false }, (err, res) => (err ? reject(err) : resolve(res!)));
  });
}

/** Status name for messages: 'UNAVAILABLE' rather than 14. */
export const statusName = (code: number): string => grpc.status[code] ?? String(code);
