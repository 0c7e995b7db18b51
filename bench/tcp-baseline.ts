// Raw TCP ceiling between two Node processes on 127.0.0.1, in the ring's own topology: each process sends `bytes` to
// the other and receives `bytes` at the same time (the traffic of a 2-rank all-reduce), writing on the connection its
// peer opened to it and reading, with `onread` into one reused buffer, on the connection it opened itself; received
// bytes are copied into a destination buffer as the all-reduce would. Prints one JSON line
// {"impl":"tcp","n":2,"bytes","ms","times","read"} (ms = median time for both directions to finish).
// Run: node --import tsx bench/tcp-baseline.ts [--bytes 62000000] [--iters 10] [--warmup 3] [--read onread|data]
// --read data uses the default 'data' events (a fresh Buffer per read) instead of onread, for comparison.
// (An earlier version of this script sent both directions over ONE connection and measured 0.27-0.31 GB/s here;
// two connections, as the ring uses, run at 1.5-1.8 GB/s each way.)
import { spawn } from 'node:child_process';
import net from 'node:net';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const arg = (k: string, d: string) => {
  const i = process.argv.indexOf(`--${k}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : d;
};
const BYTES = Number(arg('bytes', '62000000'));
const ITERS = Number(arg('iters', '10'));
const WARMUP = Number(arg('warmup', '3'));
const READ = arg('read', 'onread');
const CH = 1 << 20;

async function child() {
  const src = Buffer.alloc(BYTES, 1);
  const dst = Buffer.alloc(BYTES);
  let sendSock: net.Socket | undefined;
  const server = net.createServer({ noDelay: true }, (s) => (sendSock = s));
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  process.stdout.write(JSON.stringify({ port: (server.address() as net.AddressInfo).port }) + '\n');
  const peerPort = Number(await new Promise<string>((res) => readline.createInterface({ input: process.stdin }).once('line', res)));

  // One continuous stream: iteration i ends when this side has sent its BYTES and received (i + 1) * BYTES in total.
  let got = 0;
  let want = 0;
  let wake: (() => void) | undefined;
  const onBytes = (b: Uint8Array, n: number) => {
    const at = got % BYTES;
    const k = Math.min(n, BYTES - at);
    dst.set(b.subarray(0, k), at);
    if (k < n) dst.set(b.subarray(k, n), 0);
    got += n;
    if (got >= want && wake) wake();
  };
  const readBuf = Buffer.allocUnsafeSlow(CH);
  const recvSock = net.connect({
    host: '127.0.0.1', port: peerPort, noDelay: true,
    ...(READ === 'onread' ? { onread: { buffer: readBuf, callback: (n: number, b: Uint8Array) => { onBytes(b, n); return true; } } } : {}),
  });
  if (READ !== 'onread') recvSock.on('data', (b: Buffer) => onBytes(b, b.length));
  await new Promise<void>((res) => recvSock.once('connect', () => res()));
  while (!sendSock) await new Promise((r) => setTimeout(r, 5));
  process.stdout.write(JSON.stringify({ ready: true }) + '\n');
  await new Promise<string>((res) => readline.createInterface({ input: process.stdin }).once('line', res));

  const sock = sendSock;
  const send = () => new Promise<void>((res) => {
    let sent = 0;
    const pump = () => {
      while (sent < BYTES) {
        const n = Math.min(CH, BYTES - sent);
        const ok = sock.write(src.subarray(sent, sent + n));
        sent += n;
        if (!ok) return void sock.once('drain', pump);
      }
      res();
    };
    pump();
  });
  const recv = () => new Promise<void>((res) => {
    if (got >= want) return res();
    wake = () => {
      wake = undefined;
      res();
    };
  });
  const times: number[] = [];
  for (let i = 0; i < WARMUP + ITERS; i++) {
    want += BYTES;
    const t0 = performance.now();
    await Promise.all([send(), recv()]);
    if (i >= WARMUP) times.push(performance.now() - t0);
  }
  process.stdout.write(JSON.stringify({ times }) + '\n');
  setTimeout(() => process.exit(0), 300);
}

async function main() {
  if (process.argv[2] === 'child') return child();
  const me = fileURLToPath(import.meta.url);
  const nodeArgs = me.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const procs = [0, 1].map(() => spawn(process.execPath, [...nodeArgs, me, 'child', ...process.argv.slice(2)], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const kill = () => procs.forEach((p) => p.exitCode === null && p.signalCode === null && process.kill(p.pid!, 'SIGKILL'));
  process.on('exit', kill);
  const timer = setTimeout(() => {
    console.error('tcp baseline timed out after 120 s');
    process.exit(1);
  }, 120_000);
  const lines = procs.map((p) => readline.createInterface({ input: p.stdout! })[Symbol.asyncIterator]());
  const next = async (i: number) => {
    const r = await lines[i].next();
    if (r.done) throw new Error(`tcp baseline process ${i} exited early`);
    return JSON.parse(r.value);
  };
  const ports = await Promise.all([next(0), next(1)]);
  procs[0].stdin!.write(`${ports[1].port}\n`);
  procs[1].stdin!.write(`${ports[0].port}\n`);
  await Promise.all([next(0), next(1)]);
  procs.forEach((p) => p.stdin!.write('go\n'));
  const res = await Promise.all([next(0), next(1)]);
  // An iteration ends when the slower process is done.
  const times: number[] = res[0].times.map((t: number, k: number) => Math.max(t, res[1].times[k]));
  const sorted = [...times].sort((x, y) => x - y);
  console.log(JSON.stringify({ impl: 'tcp', n: 2, bytes: BYTES, ms: sorted[sorted.length >> 1], times, read: READ }));
  clearTimeout(timer);
  kill();
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
