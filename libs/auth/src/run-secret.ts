/**
 * The run secret: one random key shared by the coordinator and every worker of a run, from which every credential
 * of the run is derived (the gRPC bearer token, the data link's HMAC key, the collective's job id, the coordinator's
 * generation tickets). Deriving with HMAC-SHA256 under distinct labels means that what travels on the wire (a bearer
 * token, a MAC) never reveals the secret or another derived key.
 *
 * Where it comes from, in order: `--token-file FILE`, `GAN_TOKEN` (the secret itself), `GAN_TOKEN_FILE` (a file, as
 * an orchestrator mounts a Secret). `gan-train local` generates one per run; `gan-train token` prints a fresh one.
 * Tests: node tools/run-tests.mjs libs/auth run-secret
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';

/** Fewer characters than this cannot hold the 128 bits a secret needs even as hex. */
const MIN_SECRET_CHARS = 32;
const MAX_SECRET_CHARS = 4096;

export class RunSecret {
  private constructor(
    private readonly key: Buffer,
    /** where the secret came from, for messages (never the secret itself) */
    readonly source: string,
    /** a derived key is binary and stays in this process: it is never exported */
    private readonly derived = false,
  ) {}

  /** 256 random bits as 64 hex characters: the text a token file holds. */
  static generateText(): string {
    return randomBytes(32).toString('hex');
  }

  static generate(): RunSecret {
    return RunSecret.fromText(RunSecret.generateText(), 'generated');
  }

  /** A secret from text (a token file's content, an environment variable); surrounding whitespace is ignored. */
  static fromText(text: string, source: string): RunSecret {
    const t = text.trim();
    if (t.length < MIN_SECRET_CHARS) {
      throw new Error(`run secret from ${source} is ${t.length} characters; at least ${MIN_SECRET_CHARS} are needed (make one with \`gan-train token --out FILE\`)`);
    }
    if (t.length > MAX_SECRET_CHARS) throw new Error(`run secret from ${source} is longer than ${MAX_SECRET_CHARS} characters`);
    return new RunSecret(Buffer.from(t, 'utf8'), source);
  }

  static fromFile(file: string): RunSecret {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`cannot read the token file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return RunSecret.fromText(text, `token file ${file}`);
  }

  /**
   * The run's secret from a flag or the environment; undefined when none is given. `--token-file` wins over
   * `GAN_TOKEN`, which wins over `GAN_TOKEN_FILE`.
   */
  static resolve(tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): RunSecret | undefined {
    if (tokenFile) return RunSecret.fromFile(tokenFile);
    if (env.GAN_TOKEN) return RunSecret.fromText(env.GAN_TOKEN, 'GAN_TOKEN');
    if (env.GAN_TOKEN_FILE) return RunSecret.fromFile(env.GAN_TOKEN_FILE);
    return undefined;
  }

  /** The secret as text, for handing to a child process through its environment (never on a command line). */
  exportText(): string {
    if (this.derived) throw new Error('a derived key is not exported; hand over the run secret instead');
    return this.key.toString('utf8');
  }

  /** HMAC-SHA256(secret, label ‖ 0 ‖ part₁ ‖ 0 ‖ part₂ …): a key or MAC bound to its purpose and its fields. */
  mac(label: string, ...parts: (string | number | Uint8Array)[]): Buffer {
    const h = createHmac('sha256', this.key).update(label);
    for (const p of parts) {
      h.update(Buffer.from([0]));
      h.update(typeof p === 'number' ? String(p) : p);
    }
    return h.digest();
  }

  /**
   * A key derived for one purpose and context (a generation's data links), usable wherever the run secret is: what
   * is signed with it cannot be checked with the run secret or with another context's key.
   */
  derive(label: string, ...parts: (string | number | Uint8Array)[]): RunSecret {
    return new RunSecret(this.mac(label, ...parts), `${this.source}, derived`, true);
  }

  /** The bearer token every RPC carries (derived, so a sniffed token does not reveal the data link's key). */
  get rpcToken(): string {
    return this.mac('gan-train/rpc-token/v1').toString('base64url');
  }

  /** The collective's job id: the same on every rank of the run, different between runs with different secrets. */
  get jobId(): string {
    return this.mac('gan-train/job-id/v1').toString('hex').slice(0, 32);
  }

  /** Constant-time check of a MAC computed with mac(label, ...parts). */
  verify(given: Uint8Array | undefined, label: string, ...parts: (string | number | Uint8Array)[]): boolean {
    const want = this.mac(label, ...parts);
    return !!given && given.length === want.length && timingSafeEqual(given, want);
  }
}

/** Constant-time equality of two strings (bearer tokens). */
export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
