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
export const collectiveCredentials = { server: serverCredentials, channel: (_address: string) => channelCredentials() };
