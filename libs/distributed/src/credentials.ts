/**
 * Transport security for both planes, in one place: the coordinator's server and client, and the collective's
 * server and peer channels all take their credentials from here. Today: insecure (loopback or a trusted cluster
 * network). Securing a run (TLS, a join token) is a change to this file only.
 */
import * as grpc from '@grpc/grpc-js';

export function serverCredentials(): grpc.ServerCredentials {
  return grpc.ServerCredentials.createInsecure();
}

export function channelCredentials(): grpc.ChannelCredentials {
  return grpc.credentials.createInsecure();
}

/** The same credentials in the shape the collective takes (per-peer channels). */
/**
 * Channel options of every client of the coordinator. grpc-js backs off up to 120 s between reconnects by default;
 * a worker that lost a restarted coordinator for a few seconds would then reach the new one only after its
 * heartbeat deadline there had passed. Reconnecting at least every second bounds that delay.
 */
export const COORDINATOR_CHANNEL_OPTIONS: grpc.ChannelOptions = Object.freeze({
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 1000,
});

export const collectiveCredentials = { server: serverCredentials, channel: (_address: string) => channelCredentials() };
