// Raw TCP ceiling between two Node processes on 127.0.0.1: both send `bytes` to each other at once (the traffic of a
// 2-rank ring all-reduce), from and into reused buffers. Prints one JSON line {"impl":"tcp","n":2,"bytes","ms","times"}.
// Run: node --import tsx bench/tcp-baseline.ts [--bytes 62000000] [--iters 10] [--warmup 3]
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const arg = (k: string, d: number) => {
  const i = process.argv.indexOf(`--${k}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const BYTES = arg('bytes', 62_000_000);
const ITERS = arg('iters', 10);
const WARMUP = arg('warmup', 3);
const CH = 1 << 20;

async function child(role: 'a' | 'b', port: number) {
  const src = Buffer.alloc(CH, 1);
  const dst = Buffer.alloc(BYTES);
  const sock = await new Promise<net.Socket>((res) => {
    if (role === 'a') {
      const srv = net.createServer((s) => res(s)).listen(port, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: (srv.address() as net.AddressInfo).port }) + '\n'));
    } else {
      const s = net.connect(port, '127.0.0.1', () => res(s));
    }
  });
  sock.setNoDelay(true);
  // One continuous stream: iteration i ends when this side has sent its BYTES and received (i + 1) * BYTES in total.
  let got = 0;
  let want = 0;
  let wake: (() => void) | undefined;
  sock.on('data', (b: Buffer) => {
    const at = got % BYTES;
    const n = Math.min(b.length, BYTES - at);
    b.copy(dst, at, 0, n);
    if (n < b.length) b.copy(dst, 0, n);
    got += b.length;
    if (got >= want && wake) wake();
  });
  const send = () => new Promise<void>((res) => {
    let sent = 0;
    const pump = () => {
      while (sent < BYTES) {
        const n = Math.min(CH, BYTES - sent);
        sent += n;
        if (!sock.write(src.subarray(0, n))) return void sock.once('drain', pump);
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
  if (role === 'a') process.stdout.write(JSON.stringify({ times }) + '\n');
  setTimeout(() => process.exit(0), 300);
}

async function main() {
  const role = process.argv[2];
  if (role === 'a' || role === 'b') return child(role, Number(process.argv[3]));
  const me = fileURLToPath(import.meta.url);
  const nodeArgs = me.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const a = spawn(process.execPath, [...nodeArgs, me, 'a', '0', ...process.argv.slice(2)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let b: ReturnType<typeof spawn> | undefined;
  const kill = () => [a, b].forEach((p) => p && p.exitCode === null && process.kill(p.pid!, 'SIGKILL'));
  const timer = setTimeout(() => {
    kill();
    throw new Error('tcp baseline timed out');
  }, 120_000);
  let buf = '';
  for await (const chunk of a.stdout!) {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const msg = JSON.parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      if (msg.port) b = spawn(process.execPath, [...nodeArgs, me, 'b', String(msg.port), ...process.argv.slice(2)], { stdio: 'inherit' });
      if (msg.times) {
        const sorted = [...msg.times].sort((x: number, y: number) => x - y);
        console.log(JSON.stringify({ impl: 'tcp', n: 2, bytes: BYTES, ms: sorted[sorted.length >> 1], times: msg.times }));
        clearTimeout(timer);
        kill();
        return;
      }
    }
  }
}

void main();
