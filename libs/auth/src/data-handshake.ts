/**
 * The data link's mutual challenge-response, keyed by the run secret. The predecessor (server) opens with a random
 * nonce; the successor answers with its own nonce and HMAC(secret, job, generation, rank, both nonces); the server
 * checks it and proves itself back with a MAC under a different label over the same fields. Nonces from both sides
 * make a recorded exchange useless for a later connection, and binding generation and rank means a HELLO cannot be
 * replayed into another ring position. The secret itself never crosses the wire.
 * Tests: node tools/run-tests.mjs libs/auth data-handshake
 */
import { randomBytes } from 'node:crypto';
import type { RunSecret } from './run-secret';

export const NONCE_BYTES = 16;

/** What both MACs cover. */
export interface HelloFields {
  jobId: string;
  generation: number;
  rank: number;
  serverNonce: Uint8Array;
  clientNonce: Uint8Array;
}

const parts = (f: HelloFields) => [f.jobId, f.generation, f.rank, f.serverNonce, f.clientNonce] as const;

export const newNonce = (): Buffer => randomBytes(NONCE_BYTES);

/** The successor's proof (sent in HELLO). */
export const helloMac = (s: RunSecret, f: HelloFields): Buffer => s.mac('gan-train/data-hello/v1', ...parts(f));

export const checkHelloMac = (s: RunSecret, f: HelloFields, mac: Uint8Array | undefined): boolean =>
  f.serverNonce.length === NONCE_BYTES && f.clientNonce.length === NONCE_BYTES && s.verify(mac, 'gan-train/data-hello/v1', ...parts(f));

/** The predecessor's proof (sent in WELCOME). */
export const welcomeMac = (s: RunSecret, f: HelloFields): Buffer => s.mac('gan-train/data-welcome/v1', ...parts(f));

export const checkWelcomeMac = (s: RunSecret, f: HelloFields, mac: Uint8Array | undefined): boolean =>
  s.verify(mac, 'gan-train/data-welcome/v1', ...parts(f));
