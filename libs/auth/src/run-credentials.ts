/**
 * The one credentials path of a process: built once from the command line (run secret, optional TLS files) and
 * handed to every server and client of both planes — the coordinator's server and clients, the heartbeat thread,
 * the collective's gRPC server and peer channels, and its data link. Nothing else makes channel credentials.
 *
 * Without a secret a process runs unauthenticated only when asked to (`--insecure`): the coordinator and the workers
 * refuse to start otherwise, because anyone who reaches a port could stop the run, take rank 0 or read gradients.
 * With TLS files, both gRPC planes use mutual TLS (each side presents a certificate signed by `--tls-ca`) and the data
 * link runs over TLS with the same files.
 * Tests: node tools/run-tests.mjs libs/auth run-credentials
 */
import * as grpc from '@grpc/grpc-js';
import fs from 'node:fs';
import type tls from 'node:tls';
import { RunSecret } from './run-secret';
import { TokenGate, tokenClientInterceptor, type RefusalLog } from './rpc-auth';

/** PEM files of mutual TLS: this process's certificate and key, and the CA that signs every party of the run. */
export interface TlsFiles {
  cert: string;
  key: string;
  ca: string;
}

interface TlsMaterial {
  files: TlsFiles;
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

export interface CredentialOptions {
  tokenFile?: string;
  insecure?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
}

/** What a worker thread needs to rebuild the same credentials (structured-clone friendly; the secret as text). */
export interface CredentialsTransfer {
  secret?: string;
  tls?: TlsFiles;
}

function readPem(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read the TLS ${what} file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function loadTls(files: TlsFiles): TlsMaterial {
  return { files, cert: readPem(files.cert, 'certificate'), key: readPem(files.key, 'key'), ca: readPem(files.ca, 'CA') };
}

export class RunCredentials {
  private constructor(
    readonly secret: RunSecret | undefined,
    private readonly tlsMaterial: TlsMaterial | undefined,
  ) {}

  /** No authentication, no encryption: for in-process tests and `--insecure`. */
  static insecure(): RunCredentials {
    return new RunCredentials(undefined, undefined);
  }

  static of(secret: RunSecret | undefined, tlsFiles?: TlsFiles): RunCredentials {
    return new RunCredentials(secret, tlsFiles ? loadTls(tlsFiles) : undefined);
  }

  /**
   * From the command line and the environment. Throws a one-line error when there is no secret and `--insecure` was
   * not given, when `--insecure` is combined with a secret, or when the TLS flags are incomplete.
   */
  static fromOptions(o: CredentialOptions, env: NodeJS.ProcessEnv = process.env): RunCredentials {
    const secret = RunSecret.resolve(o.tokenFile || undefined, env);
    if (secret && o.insecure) throw new Error(`--insecure contradicts the run secret from ${secret.source}; drop one of them`);
    if (!secret && !o.insecure) {
      throw new Error('no run secret: pass --token-file FILE (make one with `gan-train token --out FILE`, the same file on every machine) or set GAN_TOKEN; --insecure runs without authentication');
    }
    const given = [o.tlsCert, o.tlsKey, o.tlsCa].filter(Boolean).length;
    if (given !== 0 && given !== 3) throw new Error('TLS needs all three of --tls-cert, --tls-key and --tls-ca');
    return RunCredentials.of(secret, given === 3 ? { cert: o.tlsCert!, key: o.tlsKey!, ca: o.tlsCa! } : undefined);
  }

  static fromTransfer(t: CredentialsTransfer): RunCredentials {
    return RunCredentials.of(t.secret ? RunSecret.fromText(t.secret, 'the parent thread') : undefined, t.tls);
  }

  transfer(): CredentialsTransfer {
    return { ...(this.secret ? { secret: this.secret.exportText() } : {}), ...(this.tlsMaterial ? { tls: { ...this.tlsMaterial.files } } : {}) };
  }

  get authenticated(): boolean {
    return this.secret !== undefined;
  }

  get tls(): boolean {
    return this.tlsMaterial !== undefined;
  }

  /** One readable line for the startup log. */
  describe(): string {
    const auth = this.secret ? `run token (${this.secret.source})` : 'NO authentication (--insecure)';
    return `${auth}, ${this.tlsMaterial ? 'mutual TLS' : 'no TLS'}`;
  }

  grpcServerCredentials(): grpc.ServerCredentials {
    const t = this.tlsMaterial;
    if (!t) return grpc.ServerCredentials.createInsecure();
    return grpc.ServerCredentials.createSsl(t.ca, [{ private_key: t.key, cert_chain: t.cert }], true);
  }

  grpcChannelCredentials(): grpc.ChannelCredentials {
    const t = this.tlsMaterial;
    return t ? grpc.credentials.createSsl(t.ca, t.key, t.cert) : grpc.credentials.createInsecure();
  }

  /**
   * Options for a gRPC server of this run: the token check as an interceptor (absent without a secret) and a cap on
   * what one message may hold. `gate` counts refusals.
   */
  grpcServerOptions(log: RefusalLog, what: string, maxReceiveBytes: number): { options: grpc.ServerOptions; gate?: TokenGate } {
    const options: grpc.ServerOptions = { 'grpc.max_receive_message_length': maxReceiveBytes };
    if (!this.secret) return { options };
    const gate = new TokenGate(this.secret.rpcToken, log, what);
    return { options: { ...options, interceptors: [gate.interceptor()] }, gate };
  }

  /** Options for a gRPC client of this run (merged into the caller's channel options). */
  grpcClientOptions(): grpc.ClientOptions {
    return this.secret ? { interceptors: [tokenClientInterceptor(this.secret.rpcToken)] } : {};
  }

  /** The collective's job id: derived from the secret, or `fallback` without one. */
  jobId(fallback: string): string {
    return this.secret ? this.secret.jobId : fallback;
  }

  /** Node tls options of the data link's server side; undefined without TLS. */
  tlsServerOptions(): tls.TlsOptions | undefined {
    const t = this.tlsMaterial;
    return t && { cert: t.cert, key: t.key, ca: t.ca, requestCert: true, rejectUnauthorized: true };
  }

  /** Node tls options of the data link's client side; undefined without TLS. */
  tlsClientOptions(): tls.ConnectionOptions | undefined {
    const t = this.tlsMaterial;
    return t && { cert: t.cert, key: t.key, ca: t.ca, rejectUnauthorized: true };
  }
}
