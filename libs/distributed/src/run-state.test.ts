// The coordinator's run state machine: first the table itself (every listed move lands where it says, every unlisted
// (state, event) pair is ignored or throws as UNLISTED says, finished and failed never move), then the same moves
// made by a real CoordinatorServer on 127.0.0.1, driven over gRPC the way workers and `gan-train stop` drive it.
// Run: node tools/run-tests.mjs libs/distributed run-state
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { test } from 'node:test';
import { RunCredentials, RunSecret } from '@gan/auth';
import { DEFAULT_CONFIG, fingerprint, validateConfig, type TrainConfig } from '@gan/config';
import type { CoordinatorClient, JoinReply__Output, JoinRequest, RunStatus__Output } from '@gan/proto';
import { CoordinatorServer } from './coordinator-server';
import { call, coordinatorClient, type CoordinatorCalls } from './rpc';
import {
  IllegalRunTransition, RUN_EVENTS, RUN_STATES, RUN_TRANSITIONS, RunLifecycle, TERMINAL_STATES, UNLISTED,
  type RunEvent, type RunState, type RunTransition,
} from './run-state';

// ---- the table ----------------------------------------------------------------------------------------------------

/** Written out by hand: a change to the table must be a change to this test too. */
const EXPECTED: [RunState, RunEvent, RunState][] = [
  ['waiting', 'generation-formed', 'training'],
  ['waiting', 'adopted', 'training'],
  ['waiting', 'stop-requested', 'failed'],
  ['waiting', 'failed', 'failed'],
  ['training', 'reform-requested', 'reforming'],
  ['training', 'member-lost', 'reforming'],
  ['training', 'stop-requested', 'stopping'],
  ['training', 'failed', 'failed'],
  ['training', 'all-left', 'finished'],
  ['reforming', 'generation-formed', 'training'],
  ['reforming', 'stop-requested', 'failed'],
  ['reforming', 'failed', 'failed'],
  ['stopping', 'failed', 'failed'],
  ['stopping', 'all-left', 'finished'],
];

const listed = (): [RunState, RunEvent, RunState][] =>
  RUN_STATES.flatMap((s) => RUN_EVENTS.flatMap((e): [RunState, RunEvent, RunState][] => {
    const to = RUN_TRANSITIONS[s][e];
    return to ? [[s, e, to]] : [];
  }));

function recorded(initial: RunState): { run: RunLifecycle; seen: RunTransition[] } {
  const seen: RunTransition[] = [];
  return { run: new RunLifecycle(initial, (t) => seen.push(t)), seen };
}

test('the table is the one intended, and names only known states and events', () => {
  assert.deepEqual(Object.keys(RUN_TRANSITIONS).sort(), [...RUN_STATES].sort());
  for (const s of RUN_STATES) {
    for (const e of Object.keys(RUN_TRANSITIONS[s])) assert.ok(RUN_EVENTS.includes(e as RunEvent), `${s}: unknown event ${e}`);
  }
  assert.deepEqual(listed(), EXPECTED);
  assert.deepEqual({ ...UNLISTED }, {
    'generation-formed': 'throw', adopted: 'throw', 'reform-requested': 'ignore', 'member-lost': 'ignore',
    'stop-requested': 'ignore', failed: 'ignore', 'all-left': 'ignore',
  });
});

test('every entry of the table moves the run where the table says, sets the reason and tells the listener', () => {
  for (const [from, event, to] of EXPECTED) {
    const { run, seen } = recorded(from);
    assert.equal(run.can(event), true, `${from} + ${event}`);
    assert.equal(run.fire(event, `because ${event}`), to, `${from} + ${event}`);
    assert.equal(run.state, to);
    assert.equal(run.reason, `because ${event}`);
    assert.deepEqual(seen, [{ from, to, event, reason: `because ${event}` }]);
  }
});

test('a move without a reason keeps the one the run has (a finished run keeps why it was stopped)', () => {
  const run = new RunLifecycle();
  run.fire('generation-formed');
  assert.equal(run.reason, '');
  run.fire('stop-requested', 'operator');
  run.fire('all-left');
  assert.equal(run.state, 'finished');
  assert.equal(run.reason, 'operator');
});

test('every (state, event) pair not in the table is ignored or throws, as UNLISTED says, and changes nothing', () => {
  let pairs = 0;
  for (const state of RUN_STATES) {
    for (const event of RUN_EVENTS) {
      if (RUN_TRANSITIONS[state][event]) continue;
      pairs += 1;
      const { run, seen } = recorded(state);
      assert.equal(run.can(event), false, `${state} + ${event}`);
      if (UNLISTED[event] === 'throw') {
        assert.throws(() => run.fire(event, 'x'), (err: unknown) => err instanceof IllegalRunTransition && err.state === state && err.event === event
          && /'.+' is not allowed while the run is /.test(err.message));
      } else {
        assert.equal(run.fire(event, 'x'), state, `${state} + ${event}`);
      }
      assert.equal(run.state, state, `${state} + ${event}`);
      assert.equal(run.reason, '', `an ignored ${event} set the reason`);
      assert.deepEqual(seen, [], `${state} + ${event} notified a move`);
    }
  }
  assert.equal(pairs, RUN_STATES.length * RUN_EVENTS.length - EXPECTED.length);
});

test('finished and failed are terminal: no entry, and no event moves them or changes their reason', () => {
  assert.deepEqual([...TERMINAL_STATES].sort(), ['failed', 'finished']);
  for (const state of TERMINAL_STATES) {
    assert.deepEqual(RUN_TRANSITIONS[state], {});
    const { run, seen } = recorded(state);
    assert.equal(run.terminal, true);
    for (let round = 0; round < 2; round++) {
      for (const event of RUN_EVENTS) {
        try {
          run.fire(event, 'late');
        } catch (err) {
          assert.ok(err instanceof IllegalRunTransition);
        }
        assert.equal(run.state, state);
      }
    }
    assert.equal(run.reason, '');
    assert.deepEqual(seen, []);
  }
  for (const state of RUN_STATES) assert.equal(new RunLifecycle(state).terminal, TERMINAL_STATES.includes(state));
  // The failure reported is the first one: a later failure does not overwrite it.
  const run = new RunLifecycle('training');
  run.fire('failed', 'first');
  run.fire('failed', 'second');
  run.fire('all-left', 'all workers finished');
  assert.equal(run.state, 'failed');
  assert.equal(run.reason, 'first');
});

test('every state is reachable from waiting and every live state can still end', () => {
  const next = (s: RunState) => Object.values(RUN_TRANSITIONS[s]) as RunState[];
  const reach = (from: RunState): Set<RunState> => {
    const seen = new Set<RunState>([from]);
    const todo = [from];
    while (todo.length) {
      for (const n of next(todo.pop()!)) {
        if (!seen.has(n)) {
          seen.add(n);
          todo.push(n);
        }
      }
    }
    return seen;
  };
  assert.deepEqual([...reach('waiting')].sort(), [...RUN_STATES].sort());
  for (const s of RUN_STATES) {
    assert.ok(TERMINAL_STATES.some((t) => reach(s).has(t)), `${s} can never end`);
  }
});

// ---- a real coordinator -------------------------------------------------------------------------------------------

const SECRET = RunSecret.fromText('5eed'.repeat(16), 'test');
const AUTH = RunCredentials.of(SECRET);
const quiet = { info() {}, warn() {}, error() {} };
const TIMEOUT = { timeout: 30_000 };

function configOf(o: Partial<TrainConfig> = {}): TrainConfig {
  // Heartbeats far apart: no member may be declared dead while a test drives the run by hand.
  return validateConfig({ ...DEFAULT_CONFIG, workers: 2, heartbeatMs: 2000, steps: 1000, ...o });
}

type Result<T> = { code: number; details: string; value?: T };

/** Coordinators and clients of one test; `end` closes them all, whatever the test left held open. */
class Harness {
  private readonly servers: CoordinatorServer[] = [];
  private readonly clients: CoordinatorClient[] = [];

  async coordinator(config: TrainConfig, firstBeatGraceMs?: number): Promise<CoordinatorServer> {
    const s = new CoordinatorServer({ config, credentials: AUTH, listen: '127.0.0.1:0', joinTimeoutMs: 20_000, joinGraceMs: 200, logger: quiet, firstBeatGraceMs });
    this.servers.push(s);
    await s.start();
    return s;
  }

  /** A call that never rejects, so that a held Join left behind by a failing test cannot become an unhandled rejection. */
  rpc<M extends keyof CoordinatorCalls>(s: CoordinatorServer, method: M, req: CoordinatorCalls[M][0], timeoutMs = 10_000): Promise<Result<CoordinatorCalls[M][1]>> {
    const c = coordinatorClient(s.address, AUTH);
    this.clients.push(c);
    return call(c, method, req, timeoutMs).then(
      (value) => ({ code: 0, details: '', value }),
      (err: grpc.ServiceError) => ({ code: err.code, details: err.details }),
    );
  }

  async status(s: CoordinatorServer): Promise<RunStatus__Output> {
    const r = await this.rpc(s, 'GetStatus', {});
    assert.equal(r.code, 0, r.details);
    return r.value!;
  }

  /** Polls GetStatus until `ok` holds (a held Join is in once the coordinator counts it). */
  async until(s: CoordinatorServer, ok: (st: RunStatus__Output) => boolean, what: string): Promise<RunStatus__Output> {
    const end = Date.now() + 10_000;
    for (;;) {
      const st = await this.status(s);
      if (ok(st)) return st;
      if (Date.now() > end) assert.fail(`${what}: still ${JSON.stringify({ state: st.state, joined: st.joined, generation: st.generation })}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async end(): Promise<void> {
    this.clients.forEach((c) => c.close());
    for (const s of this.servers) await s.close();
  }
}

async function withHarness(body: (h: Harness) => Promise<void>): Promise<void> {
  const h = new Harness();
  try {
    await body(h);
  } finally {
    await h.end();
  }
}

const joinReq = (config: TrainConfig, id: string, port: number, extra: Partial<JoinRequest> = {}): JoinRequest => ({
  worker_id: id, advertise_address: `127.0.0.1:${port}`, data: { port: port + 1, path: '', host_id: '' }, config_fingerprint: fingerprint(config), config_json: JSON.stringify(config),
  committed_step: -1, ...extra,
});

/** Every worker of `ids` joins; returns their replies once the generation has formed. */
async function formed(h: Harness, s: CoordinatorServer, config: TrainConfig, ids: string[], port: number): Promise<JoinReply__Output[]> {
  const rs = await Promise.all(ids.map((id, i) => h.rpc(s, 'Join', joinReq(config, id, port + i))));
  for (const r of rs) assert.equal(r.code, 0, r.details);
  return rs.map((r) => r.value!);
}

/** An operator's Shutdown fails the run with `reason`, and the Join held meanwhile is aborted with it. */
async function shutdownFails(h: Harness, s: CoordinatorServer, held: Promise<Result<JoinReply__Output>>, reason: string): Promise<void> {
  assert.equal((await h.rpc(s, 'Shutdown', { reason: 'operator' })).code, 0);
  const st = await h.status(s);
  assert.equal(st.state, 'failed');
  assert.equal(st.reason, reason);
  const j = await held;
  assert.equal(j.code, grpc.status.ABORTED, j.details);
  assert.equal(j.details, reason);
}

test('waiting → training once `workers` have joined', TIMEOUT, () => withHarness(async (h) => {
  const config = configOf();
  const s = await h.coordinator(config);
  assert.equal(s.status().state, 'waiting');
  const first = h.rpc(s, 'Join', joinReq(config, 'w0', 6000));
  const one = await h.until(s, (st) => st.joined === 1, 'first Join held');
  assert.equal(one.state, 'waiting', 'one of two workers must not start training');
  const second = h.rpc(s, 'Join', joinReq(config, 'w1', 6001));
  const [a, b] = await Promise.all([first, second]);
  assert.equal(a.code, 0, a.details);
  assert.equal(b.code, 0, b.details);
  assert.equal(a.value!.generation, 1);
  assert.deepEqual([a.value!.rank, b.value!.rank].sort(), [0, 1]);
  const st = await h.status(s);
  assert.equal(st.state, 'training');
  assert.equal(st.generation, 1);
  assert.equal(st.world_size, 2);
}));

test('training → stopping on Shutdown, → finished once every worker has left', TIMEOUT, () => withHarness(async (h) => {
  const config = configOf();
  const s = await h.coordinator(config);
  await formed(h, s, config, ['w0', 'w1'], 6100);
  assert.equal((await h.rpc(s, 'Shutdown', { reason: 'operator' })).code, 0);
  let st = await h.status(s);
  assert.equal(st.state, 'stopping');
  assert.equal(st.reason, 'operator');
  const hb = await h.rpc(s, 'Heartbeat', { worker_id: 'w0', generation: 1, step: 12 });
  assert.equal(hb.code, 0, hb.details);
  assert.equal(hb.value!.stop, true);
  assert.equal(hb.value!.failed, false);
  // Nobody new joins a run that is stopping.
  const late = await h.rpc(s, 'Join', joinReq(config, 'late', 6199));
  assert.equal(late.code, grpc.status.ABORTED, late.details);
  assert.equal((await h.rpc(s, 'Leave', { worker_id: 'w0', generation: 1, step: 13 })).code, 0);
  assert.equal((await h.status(s)).state, 'stopping', 'one worker is still finishing its step');
  assert.equal((await h.rpc(s, 'Leave', { worker_id: 'w1', generation: 1, step: 13 })).code, 0);
  st = await h.status(s);
  assert.equal(st.state, 'finished');
  assert.equal(st.reason, 'operator');
  assert.deepEqual(await s.done, { failed: false, reason: 'operator' });
  // Terminal: a second Shutdown changes nothing.
  assert.equal((await h.rpc(s, 'Shutdown', { reason: 'again' })).code, 0);
  assert.equal((await h.status(s)).state, 'finished');
}));

test('static run: a failed Leave fails the run at once (training → failed), and it stays failed', TIMEOUT, () => withHarness(async (h) => {
  const config = configOf();
  const s = await h.coordinator(config);
  await formed(h, s, config, ['w0', 'w1'], 6200);
  assert.equal((await h.rpc(s, 'Leave', { worker_id: 'w0', generation: 1, step: 7, failed: true, reason: 'out of memory' })).code, 0);
  const st = await h.status(s);
  assert.equal(st.state, 'failed');
  assert.match(st.reason, /^worker rank \d \(127\.0\.0\.1:620\d\) failed at step 7: out of memory$/);
  const hb = await h.rpc(s, 'Heartbeat', { worker_id: 'w1', generation: 1, step: 7 });
  assert.equal(hb.value!.stop, true);
  assert.equal(hb.value!.failed, true);
  // The survivor leaving cleanly ends the run, still failed and still for the first reason.
  assert.equal((await h.rpc(s, 'Leave', { worker_id: 'w1', generation: 1, step: 7 })).code, 0);
  assert.deepEqual(await s.done, { failed: true, reason: st.reason });
  assert.equal((await h.status(s)).state, 'failed');
}));

test('elastic run: a member\'s re-Join re-forms the generation (training → reforming → training, generation 2)', TIMEOUT, () => withHarness(async (h) => {
  const config = configOf({ workers: 3, minWorkers: 2 });
  const s = await h.coordinator(config);
  assert.equal(s.elastic, true);
  const gen1 = await formed(h, s, config, ['w0', 'w1', 'w2'], 6300);
  assert.equal((await h.status(s)).state, 'training');
  // w0's collective failed: it re-joins and is held until the others have re-joined too.
  const again = (id: string, i: number) => h.rpc(s, 'Join', joinReq(config, id, 6300 + i, { committed_step: 20, generation: 1 }));
  const r0 = again('w0', 0);
  const st = await h.until(s, (x) => x.state !== 'training', 'the re-Join reached the coordinator');
  assert.equal(st.state, 'reforming');
  assert.equal(st.generation, 1);
  const rs = await Promise.all([r0, again('w1', 1), again('w2', 2)]);
  for (const r of rs) {
    assert.equal(r.code, 0, r.details);
    assert.equal(r.value!.generation, 2);
    assert.equal(r.value!.world_size, 3);
    // Every rank's data endpoint, index = rank (each worker's own Join said port = its gRPC port + 1) ...
    assert.deepEqual(r.value!.data.map((d) => d.port), r.value!.peers.map((p) => Number(p.split(':')[1]) + 1));
    // ... and one fresh 16-byte link nonce per generation, the same for every rank of it.
    assert.equal(r.value!.link_nonce.length, 16);
    assert.deepEqual(r.value!.link_nonce, rs[0].value!.link_nonce);
    assert.notDeepEqual(r.value!.link_nonce, gen1[0].link_nonce);
  }
  const after = await h.status(s);
  assert.equal(after.state, 'training');
  assert.equal(after.generation, 2);
  assert.deepEqual(s.history.map((g) => [g.generation, g.worldSize]), [[1, 3], [2, 3]]);
}));

test('Shutdown while waiting fails the run (waiting → failed) and aborts the held Join', TIMEOUT, () => withHarness(async (h) => {
  const config = configOf();
  const s = await h.coordinator(config);
  const held = h.rpc(s, 'Join', joinReq(config, 'w0', 6400));
  await h.until(s, (st) => st.joined === 1, 'first Join held');
  await shutdownFails(h, s, held, 'stopped before training started: operator');
  assert.deepEqual(await s.done, { failed: true, reason: 'stopped before training started: operator' });
  assert.equal((await h.rpc(s, 'Join', joinReq(config, 'w1', 6401))).code, grpc.status.ABORTED, 'a failed run admits nobody');
  assert.equal((await h.status(s)).state, 'failed');
}));

test('elastic run: Shutdown while re-forming fails the run (reforming → failed)', TIMEOUT, () => withHarness(async (h) => {
  const config = configOf({ workers: 3, minWorkers: 2 });
  const s = await h.coordinator(config);
  await formed(h, s, config, ['w0', 'w1', 'w2'], 6500);
  const held = h.rpc(s, 'Join', joinReq(config, 'w0', 6500, { committed_step: 20, generation: 1 }));
  await h.until(s, (x) => x.state === 'reforming', 'the re-Join reached the coordinator');
  await shutdownFails(h, s, held, 'stopped while re-forming: operator');
}));

test('a restarted coordinator adopts its workers\' generation (waiting → training); while stopping only its members register', TIMEOUT, () => withHarness(async (h) => {
  const config = configOf();
  const first = await h.coordinator(config);
  const [a, b] = await formed(h, first, config, ['w0', 'w1'], 6600);
  const byRank = [a, b].sort((x, y) => x.rank - y.rank);
  const again = await h.coordinator(config);
  // What a worker sends a coordinator that came back: its generation as the old one's reply (and ticket) gave it.
  const regAt = (r: JoinReply__Output) => h.rpc(again, 'Join', joinReq(config, `w${r.rank}`, 0, {
    advertise_address: r.peers[r.rank], data: { port: 1, path: '', host_id: '' }, still_training: true, generation: r.generation, rank: r.rank, world_size: r.world_size, peers: r.peers, ticket: r.ticket,
  }));
  const r0 = await regAt(byRank[0]);
  assert.equal(r0.code, 0, r0.details);
  let st = await h.status(again);
  assert.equal(st.state, 'training');
  assert.equal(st.generation, 1);
  assert.equal((await h.rpc(again, 'Shutdown', { reason: 'operator' })).code, 0);
  assert.equal((await h.status(again)).state, 'stopping');
  // rank 1 re-registers late, while stopping: it must be let in, to leave in order ...
  const r1 = await regAt(byRank[1]);
  assert.equal(r1.code, 0, r1.details);
  assert.equal(r1.value!.generation, 1);
  // ... but a newcomer is not.
  const late = await h.rpc(again, 'Join', joinReq(config, 'late', 6699));
  assert.equal(late.code, grpc.status.ABORTED, late.details);
  st = await h.status(again);
  assert.equal(st.state, 'stopping');
  assert.equal(st.reason, 'operator');
}));

test('liveness: a member gets a grace for its first heartbeat, then the heartbeat limit (training → failed)', TIMEOUT, () => withHarness(async (h) => {
  // Heartbeats every 100 ms: a member silent for 3·100 + 1000 ms is dead, unless it has not been heard from yet in
  // this generation (its heartbeat thread is still booting), which gets the 3000 ms grace.
  const config = configOf({ heartbeatMs: 100 });
  const s = await h.coordinator(config, 3000);
  await formed(h, s, config, ['w0', 'w1'], 6700);
  const formedAt = Date.now();
  const beat = (id: string) => h.rpc(s, 'Heartbeat', { worker_id: id, generation: 1, step: '0' });
  // w0 beats throughout; w1 only once, 1.8 s in: past the limit (1.3 s) but within the grace.
  const w0 = setInterval(() => void beat('w0'), 100);
  try {
    await new Promise((r) => setTimeout(r, 1800));
    assert.equal((await h.status(s)).state, 'training', 'a member was declared dead within its first-heartbeat grace');
    assert.equal((await beat('w1')).code, 0);
    // Heard from once: from now on the plain limit applies, long before the grace would have ended.
    const st = await h.until(s, (x) => x.state === 'failed', 'w1 declared dead after its first heartbeat');
    assert.match(st.reason, /worker rank \d \(127\.0\.0\.1:670\d\) missed heartbeats/);
    assert.ok(Date.now() - formedAt < 1800 + 3000, `took ${Date.now() - formedAt} ms: the grace was applied again`);
  } finally {
    clearInterval(w0);
  }
}));

