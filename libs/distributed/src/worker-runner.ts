/**
 * `gan-train worker`: config → logger → backend → collective server → Join → heartbeat thread → training loop.
 * The loop is @gan/training's; this file only wires the gRPC ring in as its Reducer and keeps the coordinator
 * informed. Any failure (a dead peer, a diverged replica, a lost coordinator) ends this process non-zero after
 * telling the coordinator why, so no worker outlives its peers.
 */
import * as grpc from '@grpc/grpc-js';
import net from 'node:net';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { fingerprint, type TrainConfig } from '@gan/config';
import type { CoordinatorClient, JoinReply__Output, JoinRequest } from '@gan/proto';
import { createLogger } from '@gan/telemetry';
import { initBackend, threadsFor } from '@gan/backend';
import { defaultRunDir, PeerFailure, train, type Group, type Membership } from '@gan/training';
import { Collective, CollectiveError } from '@gan/collective';
import { call, coordinatorClient, statusName } from './rpc';
import { credentialsFromFlags } from './credentials-from-flags';
import { HeartbeatThread, type HeartbeatEvent } from './heartbeat-thread';
import { exitWhenParentGoes } from './parent-watch';

/** Wraps the collective as one generation's Group; a failed op becomes a PeerFailure (the step is discarded). */
/** `onReduced` counts the payload bytes of each all-reduce (reported to the coordinator with the step). */
export function collectiveGroup(c: Collective, rank: number, worldSize: number, generation: number, onReduced?: (bytes: number) => void): Group {
  const guard = async (op: Promise<unknown>) => {
    try {
      await op;
    } catch (e) {
      if (e instanceof CollectiveError) throw new PeerFailure(`${e.codeName}: ${e.message}`);
      throw e;
    }
  };
  return {
    rank,
    worldSize,
    generation,
    allReduceMean: (buf) => {
      onReduced?.(buf.byteLength);
      return guard(c.allReduce(buf, { op: 'mean' }));
    },
    broadcast: (buf, root) => guard(c.broadcast(buf, root)),
    allGather: async (buf) => {
      try {
        return await c.allGather(buf);
      } catch (e) {
        if (e instanceof CollectiveError) throw new PeerFailure(`${e.codeName}: ${e.message}`);
        throw e;
      }
    },
  };
}

type JoinReply = JoinReply__Output;

/** Where the worker's servers listen: --bind, else the advertised IP itself (one interface), else every interface. */
function bindAddress(bind: unknown, advertise: string): string {
  if (typeof bind === 'string' && bind) return bind;
  if (advertise === 'localhost') return '127.0.0.1';
  return net.isIP(advertise) ? advertise : '0.0.0.0';
}

async function joinWithRetry(client: CoordinatorClient, req: JoinRequest, timeoutMs: number, log: { warn(o: object, m: string): void }): Promise<JoinReply> {
  const start = Date.now();
  let backoff = 200;
  for (;;) {
    try {
      return await call(client, 'Join', req, Math.min(30_000, Math.max(1000, timeoutMs - (Date.now() - start))));
    } catch (e) {
      const err = e as grpc.ServiceError;
      // Refusals are final; an absent coordinator or a long-poll that timed out is retried until the join deadline.
      if (err.code !== grpc.status.UNAVAILABLE && err.code !== grpc.status.DEADLINE_EXCEEDED) {
        throw new Error(`coordinator refused this worker (${statusName(err.code)}): ${err.details}`);
      }
      if (Date.now() - start > timeoutMs) throw new Error(`could not join the coordinator at ${(client as grpc.Client).getChannel().getTarget()} within ${timeoutMs} ms: ${err.details}`);
      if (err.code === grpc.status.UNAVAILABLE) log.warn({ retryInMs: backoff, detail: err.details }, 'coordinator not reachable; retrying');
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 2000);
    }
  }
}

/** What a worker's name may hold: it prefixes the id the coordinator logs, and a hostname fits. */
const WORKER_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export async function runWorker(config: TrainConfig, extra: Record<string, unknown>): Promise<number> {
  exitWhenParentGoes();
  const logFormat = String(extra.logFormat ?? 'auto');
  let logger = createLogger({ role: 'worker', format: logFormat });
  // Whichever worker is rank 0 writes the run under its own --out (a fresh runs/<date>-<time> when not given).
  config = { ...config, out: config.out ?? defaultRunDir() };
  const coordinator = String(extra.coordinator);
  const advertise = String(extra.advertise);
  const joinTimeoutMs = Number(extra.joinTimeoutMs ?? 300_000);
  // --worker-id (GAN_WORKER_ID) names the worker in both sides' logs, stable across restarts (an Indexed Job's index);
  // the pid and random suffix keep each process a new member to the coordinator, which must not mistake a restarted
  // process for the one it replaces (that one's membership ends by its heartbeats, not by a name).
  const name = extra.workerId == null ? os.hostname() : String(extra.workerId);
  if (!WORKER_NAME.test(name)) throw new Error(`--worker-id (GAN_WORKER_ID) must be 1-64 letters, digits, '.', '_' or '-', got ${JSON.stringify(name)}`);
  const workerId = `${name}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const credentials = credentialsFromFlags(extra);
  // `gan-train local` passes each worker its share of the cores; a worker started by hand takes them all.
  await initBackend(config.backend, logger, { threads: threadsFor(config.threads) });

  const bindHost = bindAddress(extra.bind, advertise);
  const collective = await Collective.listen({
    host: bindHost, port: Number(extra.port ?? 0), jobId: credentials.jobId('gan-train'), logger, opTimeoutMs: config.opTimeoutMs, wire: config.wire,
    transport: config.transport, dataPort: Number(extra.dataPort ?? 0), credentials,
  });
  const port = collective.address.slice(collective.address.lastIndexOf(':') + 1);
  const address = `${advertise}:${port}`;
  const client = coordinatorClient(coordinator, credentials);
  const { port: dataPort, path: dataPath, hostId } = collective.dataEndpoint;
  const base = {
    worker_id: workerId, advertise_address: address, data: { port: dataPort, path: dataPath, host_id: hostId },
    config_fingerprint: fingerprint(config), config_json: JSON.stringify(config),
  };
  let group = null as Group | null;
  let peers: string[] = [];
  /** the coordinator's ticket for the current generation: what a restarted coordinator checks before adopting it */
  let ticket: Buffer = Buffer.alloc(0);
  let step = 0;
  let committed = -1;
  /** gradient bytes all-reduced since the last step report */
  let reducedBytes = 0;
  let reformWanted = false;
  let stopRequested = false;
  let reregistering = false;
  let fatal: Error | null = null;

  const reregister = () =>
    call(client, 'Join', {
      ...base, committed_step: committed, generation: group!.generation, rank: group!.rank, world_size: group!.worldSize, peers, still_training: true, ticket,
    }, 10_000, { waitForReady: true });
  const leave = async (failed: boolean, reason: string) => {
    const send = () => call(client, 'Leave', { worker_id: workerId, generation: group?.generation ?? 0, failed, reason, step }, 3000, { waitForReady: true });
    try {
      try {
        await send();
      } catch (e) {
        // A restarted coordinator that has not heard from this worker yet does not know it: register, then leave.
        if ((e as grpc.ServiceError).code !== grpc.status.NOT_FOUND || !group) throw e;
        await reregister();
        await send();
      }
    } catch (e) {
      logger.warn({ err: (e as Error).message }, 'could not tell the coordinator that this worker left');
    }
  };

  const onEvent = (e: HeartbeatEvent) => {
    switch (e.type) {
      case 'reform':
        reformWanted = true;
        return;
      case 'lost':
        if (!group) return; // not joined yet: joinWithRetry says what is wrong
        // Training needs only the peers; keep going and keep trying (a restarted coordinator adopts this group).
        logger.warn({ reason: e.reason }, 'coordinator unreachable; training continues without it');
        return;
      case 'back':
        if (!group) return;
        logger.info({}, 'coordinator reachable again');
        return;
      case 'unknown':
        if (reregistering || !group) return;
        reregistering = true;
        reregister().then(
          () => logger.info({ generation: group?.generation }, 're-registered with a restarted coordinator'),
          (err: grpc.ServiceError) => logger.warn({ err: err.details }, 'a restarted coordinator did not take this worker back'),
        ).finally(() => (reregistering = false));
        return;
      case 'stop':
        if (!e.failed) {
          stopRequested = true;
          return;
        }
        fatal = new Error(`run stopped by the coordinator: ${e.reason}`);
        logger.error({ reason: fatal.message }, 'stopping this worker');
        // Peers may be gone: a collective op in flight would only end at its deadline, so leave now.
        void leave(true, fatal.message).finally(() => process.exit(1));
    }
  };

  // Started before the first Join: booting the thread (its own module graph, compiled on load) takes about a second,
  // several on a loaded machine, and the coordinator's liveness clock starts when the generation forms. Heartbeats
  // of a worker whose Join is held are answered (it counts as joining); before that NOT_FOUND is ignored above.
  const hb = new HeartbeatThread({
    coordinator, workerId, heartbeatMs: config.heartbeatMs, lostAfterMs: Math.max(5000, 5 * config.heartbeatMs), credentials, onEvent,
  });

  const membership: Membership = {
    next: async (committedStep, reason) => {
      committed = committedStep;
      const first = group === null;
      if (!first) logger.warn({ committedStep, reason }, 're-joining the coordinator for a new generation');
      const reply = await joinWithRetry(client, { ...base, committed_step: committedStep, generation: group?.generation ?? 0 }, joinTimeoutMs, logger);
      peers = reply.peers;
      ticket = reply.ticket;
      collective.setGroup({
        rank: reply.rank, worldSize: reply.world_size, peers: reply.peers, generation: reply.generation,
        data: reply.data.map((d) => ({ port: d.port, path: d.path, hostId: d.host_id })), linkNonce: reply.link_nonce,
      });
      group = collectiveGroup(collective, reply.rank, reply.world_size, reply.generation, (b) => (reducedBytes += b));
      reformWanted = false;
      logger = createLogger({ role: 'worker', rank: reply.rank, format: logFormat });
      logger.info({ worker: workerId, worldSize: reply.world_size, generation: reply.generation, peers: reply.peers, jobId: reply.job_id, committedStep }, first ? 'joined' : 'joined a new generation');
      hb.setInterval(reply.heartbeat_ms || config.heartbeatMs);
      hb.setGeneration(reply.generation);
      return group;
    },
    reformRequested: () => reformWanted,
  };

  try {
    const result = await train({
      config,
      logger,
      membership,
      stopRequested: () => stopRequested,
      onStep: (r) => {
        step = r.step;
        committed = r.step;
        hb.setStep(r.step);
        const allreduce_bytes = reducedBytes;
        reducedBytes = 0;
        client.ReportStep({ worker_id: workerId, generation: group?.generation ?? 0, rank: group?.rank ?? 0, ...r, allreduce_bytes }, { deadline: new Date(Date.now() + 5000) }, () => {});
      },
    });
    if (fatal) throw fatal;
    logger.info({ step: result.step, digest: result.digest }, 'worker finished');
    await leave(false, result.stoppedEarly ? 'stopped' : 'finished');
    return 0;
  } catch (e) {
    const msg = (e as Error).message;
    logger.error({ rank: group?.rank ?? -1, step, err: msg }, 'worker failed');
    await leave(true, msg);
    throw e;
  } finally {
    await hb.close();
    client.close();
    await collective.close();
  }
}
