// One rank of the all-reduce bench (spawned by bench/allreduce.ts): listens, prints its address, reads the group
// from stdin, times `iters` all-reduces after `warmup` (each preceded by a barrier), prints the times as JSON.
// Security (cfg.security): 'insecure' runs without credentials; 'auth' takes the run secret from GAN_TOKEN (set by the
// parent, never on the command line); 'auth+tls' adds this rank's TLS files (cfg.tls: certificate, key, CA paths).
// cfg.host: the address to listen on (default 127.0.0.1), e.g. its emulated host's in bench/link-scaling.ts.
import readline from 'node:readline';
import { RunCredentials, RunSecret, type TlsFiles } from '@gan/auth';
import { Collective, wireRoundTrip, type Transport, type WireFormat } from '@gan/collective';

type Security = 'insecure' | 'auth' | 'auth+tls';

function credentials(security: Security, tlsFiles: TlsFiles | undefined): RunCredentials | undefined {
  const text = process.env.GAN_TOKEN;
  delete process.env.GAN_TOKEN;
  if (security === 'insecure') return undefined;
  if (!text) throw new Error(`security ${security} needs the run secret in GAN_TOKEN`);
  if (security === 'auth+tls' && !tlsFiles) throw new Error('security auth+tls needs cfg.tls');
  return RunCredentials.of(RunSecret.fromText(text, 'GAN_TOKEN'), security === 'auth+tls' ? tlsFiles : undefined);
}

/** The mode the Collective's credentials actually give, reported back so the parent can check it. */
const modeOf = (c: RunCredentials | undefined): Security => (!c?.authenticated ? 'insecure' : c.tls ? 'auth+tls' : 'auth');

async function main() {
  const cfg = JSON.parse(process.argv[2]) as {
    elems: number; wire: WireFormat; warmup: number; iters: number; chunkBytes?: number; transport?: Transport; unixSocket?: boolean; security?: Security; tls?: TlsFiles;
    host?: string;
  };
  const creds = credentials(cfg.security ?? 'insecure', cfg.tls);
  const c = await Collective.listen({
    jobId: creds?.jobId('bench') ?? 'bench', credentials: creds, opTimeoutMs: 30_000, stallWarnMs: 10_000, chunkBytes: cfg.chunkBytes, transport: cfg.transport, unixSocket: cfg.unixSocket, host: cfg.host,
  });
  process.stdout.write(JSON.stringify({ address: c.address, data: c.dataEndpoint, security: modeOf(creds) }) + '\n');
  const rl = readline.createInterface({ input: process.stdin });
  const g = JSON.parse(await new Promise<string>((res) => rl.once('line', res)));
  c.setGroup({ ...g, generation: 1 });
  const n = g.worldSize;
  const buf = new Float32Array(cfg.elems);
  // sum, as gloo's all_reduce does; values grow by n per op, far from overflow in a bench's iterations.
  for (let i = 0; i < buf.length; i++) buf[i] = Math.sin(i * 0.001 + g.rank);
  const times: number[] = [];
  // CPU time of this process per timed op (user, system): shows whether the ring is CPU-bound.
  let cpu = { user: 0, system: 0 };
  for (let i = 0; i < cfg.warmup + cfg.iters; i++) {
    await c.barrier();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await c.allReduce(buf, { op: 'sum', wire: cfg.wire });
    if (i >= cfg.warmup) {
      times.push(performance.now() - t0);
      const d = process.cpuUsage(c0);
      cpu = { user: cpu.user + d.user, system: cpu.system + d.system };
    }
  }
  // Wire error against fp32 on the first 1M elements: one all-reduce of known data, compared with a float64 mean.
  const m = Math.min(cfg.elems, 1 << 20);
  const probe = new Float32Array(m);
  for (let i = 0; i < m; i++) probe[i] = Math.sin(i * 0.37 + g.rank * 1.3) * 2 ** ((i % 9) - 4);
  await c.allReduce(probe, { op: 'mean', wire: cfg.wire });
  let maxAbs = 0;
  let sumSq = 0;
  let refSq = 0;
  for (let i = 0; i < m; i++) {
    let ref = 0;
    for (let r = 0; r < n; r++) ref += Math.fround(Math.sin(i * 0.37 + r * 1.3) * 2 ** ((i % 9) - 4));
    ref /= n;
    const e = probe[i] - ref;
    maxAbs = Math.max(maxAbs, Math.abs(e) / 2 ** ((i % 9) - 4)); // relative to the element's scale
    sumSq += e * e;
    refSq += ref * ref;
  }
  process.stdout.write(JSON.stringify({ times, cpuMsPerOp: { user: cpu.user / 1000 / cfg.iters, system: cpu.system / 1000 / cfg.iters }, err: { maxRel: maxAbs, rmsRel: Math.sqrt(sumSq / Math.max(refSq, 1e-30)), roundTrip1: wireRoundTrip(1 / 3, cfg.wire) - 1 / 3 } }) + '\n');
  await c.close();
  process.exit(0);
}

void main();
