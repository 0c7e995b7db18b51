// The coordinator's HTTP side in-process: a real CoordinatorServer over real gRPC on 127.0.0.1 gets Joins and step
// reports from fake workers, and its HTTP server is read back: the Prometheus text (parsed: names, labels, values),
// the run token (401 without it, on every path), 404/405, the dashboard's JSON and SSE stream, the sample image.
// Run: node tools/run-tests.mjs libs/distributed coordinator-http
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { RunCredentials, RunSecret } from '@gan/auth';
import { DEFAULT_CONFIG, fingerprint, validateConfig, type TrainConfig } from '@gan/config';
import { CoordinatorHttp, parseHttpAddress } from './coordinator-http';
import { CoordinatorServer } from './coordinator-server';
import { coordinatorClient } from './rpc';

const SECRET = RunSecret.fromText('d00dfeed'.repeat(8), 'test');
const AUTH = RunCredentials.of(SECRET);
const TOKEN = SECRET.rpcToken;
const quiet = { info() {}, warn() {}, error() {} };
const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

function configOf(o: Partial<TrainConfig> = {}): TrainConfig {
  return validateConfig({ ...DEFAULT_CONFIG, workers: 2, heartbeatMs: 60_000, steps: 100, ...o });
}

function rpc(client: grpc.Client, method: string, req: object): Promise<any> {
  return new Promise((resolve, reject) =>
    (client as any)[method](req, { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null, v: unknown) => (err ? reject(err) : resolve(v))));
}

/** A coordinator whose 2 fake workers joined and reported `steps` steps each; its HTTP server on a free port. */
async function setUp(credentials: RunCredentials, o: Partial<TrainConfig> = {}, steps = 3) {
  const config = configOf(o);
  const server = new CoordinatorServer({ config, credentials, listen: '127.0.0.1:0', joinTimeoutMs: 30_000, joinGraceMs: 200, logger: quiet });
  await server.start();
  const web = new CoordinatorHttp({ coordinator: server, credentials, logger: quiet, listen: '127.0.0.1:0' });
  await web.start();
  const client = coordinatorClient(server.address, credentials);
  cleanup.push(() => client.close(), () => server.close(), () => web.close());
  const join = (id: string, port: number) => rpc(client, 'Join', {
    worker_id: id, advertise_address: `127.0.0.1:${port}`, data: { port: port + 1, path: '', host_id: '' },
    config_fingerprint: fingerprint(config), config_json: JSON.stringify(config), committed_step: -1,
  });
  const replies = await Promise.all([join('w0', 7000), join('w1', 7002)]);
  const ids = replies.map((r, i) => ({ id: `w${i}`, rank: r.rank as number }));
  for (let step = 1; step <= steps; step++) {
    for (const { id, rank } of ids) {
      await rpc(client, 'ReportStep', {
        worker_id: id, generation: 1, rank, step, d_loss: 1 + rank + step / 10, g_loss: 2 + step / 10, d_real: 0.5, d_fake: 0.5,
        step_ms: 40 + rank, compute_ms: 30 + rank, allreduce_ms: 8, data_wait_ms: 1.5, allreduce_bytes: 1000 * (rank + 1),
      });
    }
  }
  return { server, web, client, ids, base: web.url.replace(/\/$/, '') };
}

/** Prometheus text → [{name, labels, value}] (comment lines checked for HELP and TYPE). */
function parseMetrics(text: string) {
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  const typed = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const t = /^# TYPE (\S+) (gauge|counter)$/.exec(line);
    if (t) typed.add(t[1]);
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  for (const s of samples) assert.ok(typed.has(s.name), `${s.name} has no # TYPE line`);
  return samples;
}

const get = (url: string, headers: Record<string, string> = {}, method = 'GET') => fetch(url, { headers, method });
const bearer = { authorization: `Bearer ${TOKEN}` };

test('parseHttpAddress: HOST:PORT, :PORT and PORT (127.0.0.1), off, and bad values', () => {
  assert.deepEqual(parseHttpAddress('0.0.0.0:9100'), { host: '0.0.0.0', port: 9100 });
  assert.deepEqual(parseHttpAddress(':0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseHttpAddress('9100'), { host: '127.0.0.1', port: 9100 });
  assert.deepEqual(parseHttpAddress('[::1]:80'), { host: '::1', port: 80 });
  assert.equal(parseHttpAddress('off'), null);
  assert.equal(parseHttpAddress(null), null);
  assert.throws(() => parseHttpAddress('host:port'), /--http must be HOST:PORT/);
  assert.throws(() => parseHttpAddress('127.0.0.1:70000'), /--http must be HOST:PORT/);
});

test('/metrics: per-rank and run metrics in Prometheus text, read back after fake step reports', { timeout: 30_000 }, async () => {
  const { base, ids, client } = await setUp(AUTH);
  const res = await get(`${base}/metrics`, bearer);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const samples = parseMetrics(await res.text());
  for (const s of samples) {
    assert.match(s.name, /^gan_[a-z0-9_]+$/, 'prefixed gan_, snake_case');
    for (const l of Object.keys(s.labels)) assert.match(l, /^[a-z][a-z0-9_]*$/, `label ${l} of ${s.name} is snake_case`);
  }
  assert.equal(samples.filter((s) => s.name.startsWith('process_') || s.name.startsWith('nodejs_')).length, 0, 'a registry of its own, not the default one');
  const value = (name: string, labels: Record<string, string> = {}) => {
    const hit = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    assert.equal(hit.length, 1, `${name} ${JSON.stringify(labels)}: ${hit.length} samples`);
    return hit[0].value;
  };
  for (const { rank } of ids) {
    const r = { rank: String(rank) };
    assert.equal(value('gan_rank_step', r), 3);
    assert.equal(value('gan_rank_compute_seconds', r), (30 + rank) / 1000);
    assert.equal(value('gan_rank_allreduce_seconds', r), 0.008);
    assert.equal(value('gan_rank_data_wait_seconds', r), 0.0015);
    assert.equal(value('gan_rank_step_seconds', r), (40 + rank) / 1000);
    assert.equal(value('gan_rank_g_loss', r), 2.3);
    assert.equal(value('gan_rank_d_loss', r), 1 + rank + 0.3);
    assert.equal(value('gan_rank_allreduce_bytes_total', r), 3 * 1000 * (rank + 1));
    assert.equal(value('gan_rank_up', r), 1);
  }
  assert.equal(value('gan_step'), 3);
  assert.equal(value('gan_total_steps'), 100);
  assert.equal(value('gan_generation'), 1);
  assert.equal(value('gan_membership_size'), 2);
  assert.equal(value('gan_workers_wanted'), 2);
  assert.equal(value('gan_run_state', { state: 'training' }), 1);
  assert.equal(value('gan_run_state', { state: 'failed' }), 0);
  assert.equal(value('gan_worker_failures_total'), 0);
  assert.equal(value('gan_restarts_total'), 0);
  assert.equal(value('gan_worker_joins_total'), 2);

  // A worker that fails: one failure counted, the run failed, the event on the board.
  await rpc(client, 'Leave', { worker_id: ids[1].id, generation: 1, failed: true, reason: 'test crash', step: 3 });
  const after = parseMetrics(await (await get(`${base}/metrics`, bearer)).text());
  assert.equal(after.find((s) => s.name === 'gan_worker_failures_total')!.value, 1);
  assert.equal(after.find((s) => s.name === 'gan_run_state' && s.labels.state === 'failed')!.value, 1);
  const snap = await (await get(`${base}/api/status`, bearer)).json();
  assert.ok(snap.events.some((e: any) => e.kind === 'lost' && e.rank === ids[1].rank && /test crash/.test(e.text)), JSON.stringify(snap.events));
});

test('without the run token every path is 401 (header or ?token=); with it, unknown paths are 404', { timeout: 30_000 }, async () => {
  const { base } = await setUp(AUTH, {}, 1);
  for (const p of ['/', '/metrics', '/events', '/api/status', '/samples/latest.png', '/nope']) {
    assert.equal((await get(base + p)).status, 401, p);
    assert.equal((await get(base + p, { authorization: 'Bearer wrong' })).status, 401, `${p} with a wrong token`);
    assert.equal((await get(`${base}${p}?token=${'x'.repeat(TOKEN.length)}`)).status, 401, `${p} with a wrong ?token=`);
    // The run secret itself is not the token (only the derived bearer token is accepted).
    assert.equal((await get(base + p, { authorization: `Bearer ${SECRET.exportText()}` })).status, 401, `${p} with the raw secret`);
  }
  const refused = await get(`${base}/metrics`);
  assert.equal(refused.headers.get('www-authenticate'), 'Bearer realm="gan-train"');
  assert.doesNotMatch(await refused.text(), /gan_/);
  assert.equal((await get(`${base}/nope`, bearer)).status, 404);
  assert.equal((await get(`${base}/metrics/x?token=${TOKEN}`)).status, 404);
  assert.equal((await get(`${base}/metrics`, bearer, 'POST')).status, 405);
  const page = await get(`${base}/?token=${encodeURIComponent(TOKEN)}`);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<svg id="loss"/);
  // The SVG namespace is a name, not a fetch.
  assert.doesNotMatch(html.replaceAll('"http://www.w3.org/2000/svg"', ''), /<script[^>]+src=|<link[^>]+href=|https?:\/\//, 'self-contained: no external scripts, styles or URLs');
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
});

test('--insecure serves it open; the SSE stream sends snapshots; close() ends streams and the server', { timeout: 30_000 }, async () => {
  const { base, web } = await setUp(RunCredentials.insecure(), {}, 2);
  assert.equal((await get(`${base}/metrics`)).status, 200);
  const status = await (await get(`${base}/api/status`)).json();
  assert.equal(status.status.state, 'training');
  assert.deepEqual(status.losses.map((p: any) => p.step), [1, 2], 'rank 0 losses, one point per step');
  assert.deepEqual(status.events.map((e: any) => e.kind), ['joined', 'joined', 'generation']);
  assert.equal(status.ranks.length, 2);
  assert.equal(status.members.length, 2);
  assert.ok(status.members.every((m: any) => m.health === 'ok'));
  assert.equal(status.sample_step, null, 'no run folder: no sample');
  assert.equal((await get(`${base}/samples/latest.png`)).status, 404);

  const first = await new Promise<{ type: string; data: any; ended: Promise<void> }>((resolve, reject) => {
    http.get(`${base}/events`, (res) => {
      let buf = '';
      const ended = new Promise<void>((r) => res.on('end', () => r()));
      res.on('data', (d) => {
        buf += d;
        const m = /^data: (.*)\n\n/.exec(buf);
        if (m) resolve({ type: res.headers['content-type'] ?? '', data: JSON.parse(m[1]), ended });
      });
    }).on('error', reject);
  });
  assert.equal(first.type, 'text/event-stream');
  assert.equal(first.data.status.step, 2);
  assert.equal(first.data.losses.length, 2);
  await web.close();
  await first.ended;
  await assert.rejects(get(`${base}/metrics`));
});

test('/samples/latest.png serves the newest fake_samples_step_*.png of the run folder', { timeout: 30_000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-http-'));
  cleanup.push(() => fs.rmSync(out, { recursive: true, force: true }));
  const png = (n: number) => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.from(`step ${n}`)]);
  fs.writeFileSync(path.join(out, 'fake_samples_step_000009.png'), png(9));
  fs.writeFileSync(path.join(out, 'fake_samples_step_000010.png'), png(10));
  fs.writeFileSync(path.join(out, 'real_samples.png'), png(0));
  const { base } = await setUp(AUTH, { out }, 1);
  const res = await get(`${base}/samples/latest.png`, bearer);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/png');
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), png(10));
  assert.equal((await (await get(`${base}/api/status`, bearer)).json()).sample_step, 10);
});
