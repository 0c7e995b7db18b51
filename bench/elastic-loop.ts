/**
 * Recovery soak: runs `gan-train local --workers 4 --min-workers 3` on a tiny DCGAN again and again, SIGKILLs a
 * random rank at a random step, and records whether the run finished, how long the survivors took to form the
 * 3-worker generation, and whether all replicas ended bit-identical. A run still going after 120 s counts as a hang.
 * Run: node --import tsx bench/elastic-loop.ts [--runs 50] [--json]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
const runs = Number(args.includes('--runs') ? args[args.indexOf('--runs') + 1] : 50);
const steps = 60;
const TINY = ['--dataset', 'shapes', '--image-size', '32', '--channels', '1', '--nz', '16', '--ngf', '8', '--ndf', '8',
  '--batch-size', '4', '--backend', 'wasm', '--log-every', '1', '--sample-every', '0', '--op-timeout-ms', '2000',
  '--heartbeat-ms', '300', '--hash-every', '5', '--steps', String(steps)];
const results: { run: number; killRank: number; killStep: number; ok: boolean; hang: boolean; recoveryMs: number | null; identical: boolean; finalStep: number }[] = [];

function lines(s: string): any[] {
  return s.split('\n').filter((l) => l.startsWith('{')).map((l) => { try { return JSON.parse(l); } catch { return {}; } });
}

for (let i = 0; i < runs; i++) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'soak-'));
  const killStep = 3 + Math.floor(Math.random() * 35);
  const killRank = Math.floor(Math.random() * 4);
  const p = spawn(process.execPath, ['bin/gan-train.mjs', 'local', '--workers', '4', '--min-workers', '3', ...TINY, '--out', out], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (d) => (err += d));
  let killedAt = 0;
  const poll = setInterval(() => {
    if (killedAt) return;
    const f = path.join(out, 'metrics.jsonl');
    const last = fs.existsSync(f) ? lines(fs.readFileSync(f, 'utf8')).at(-1)?.step ?? 0 : 0;
    if (last >= killStep) {
      const w = lines(err).find((l) => l.msg === 'joined' && l.rank === killRank);
      if (w) {
        killedAt = Date.now();
        try { process.kill(w.pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
  }, 50);
  let hang = false;
  const code = await new Promise<number | null>((resolve) => {
    const t = setTimeout(() => { hang = true; try { process.kill(-p.pid!, 'SIGKILL'); } catch { /* gone */ } }, 120_000);
    p.on('close', (c) => { clearTimeout(t); resolve(c); });
  });
  clearInterval(poll);
  const ls = lines(err);
  const g3 = ls.find((l) => typeof l.msg === 'string' && l.msg.startsWith('generation formed') && l.worldSize === 3);
  const digests = new Set(ls.filter((l) => l.msg === 'worker finished').map((l) => l.digest));
  const f = path.join(out, 'metrics.jsonl');
  const finalStep = fs.existsSync(f) ? lines(fs.readFileSync(f, 'utf8')).at(-1)?.step ?? 0 : 0;
  const r = {
    run: i + 1, killRank, killStep, ok: code === 0 && finalStep === steps, hang,
    recoveryMs: g3 && killedAt ? Date.parse(g3.time) - killedAt : null, identical: digests.size === 1, finalStep,
  };
  results.push(r);
  console.log(JSON.stringify(r));
  fs.rmSync(out, { recursive: true, force: true });
}
const rec = results.map((r) => r.recoveryMs).filter((x): x is number => x !== null).sort((a, b) => a - b);
console.log(JSON.stringify({
  summary: true, runs, recovered: results.filter((r) => r.ok && r.identical).length, hangs: results.filter((r) => r.hang).length,
  recoveryMs: rec.length ? { min: rec[0], median: rec[Math.floor(rec.length / 2)], max: rec[rec.length - 1] } : null,
}));
