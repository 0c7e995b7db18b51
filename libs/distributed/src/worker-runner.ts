/**
 * `gan-train worker`: config → logger → backend → collective server → Join → heartbeat thread → training loop.
 * The loop is @gan/training's; this file only wires the gRPC ring in as its Reducer and keeps the coordinator
 * informed. Any failure (a dead peer, a diverged replica, a lost coordinator) ends this process non-zero after
 * telling the coordinator why, so no worker outlives its peers.
 */
import * as grpc from '@grpc/grpc-js';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { fingerprint, type TrainConfig } from '@gan/config';
import { createLogger } from '@gan/telemetry';
import { initBackend } from '@gan/backend';
import { train, type Reducer } from '@gan/training';
import { Collective } from '@gan/collective';
import { call, coordinatorPackage, statusName } from './rpc';
import { channelCredentials, collectiveCredentials } from './credentials';
import { HeartbeatThread, type HeartbeatEvent } from './heartbeat-thread';
import { exitWhenParentGoes } from './parent-watch';

/** Wraps the collective as the training loop's Reducer. */
export function collectiveReducer(c: Collective, rank: number, worldSize: number): Reducer {
  return {
    rank,
    worldSize,
    allReduceMean: (buf) => c.allReduce(buf, { op: 'mean' }),
    broadcast: (buf, root) => c.broadcast(buf, root),
    allGather: (buf) => c.allGather(buf),
  };
}

interface JoinReply {
  job_id: string;
  generation: number;
  rank: number;
  world_size: number;
  peers: string[];
  config_json: string;
  heartbeat_ms: number;
}

async function joinWithRetry(client: any, req: object, timeoutMs: number, log: { warn(o: object, m: string): void }): Promise<JoinReply> {
  const start = Date.now();
  let backoff = 200;
  for (;;) {
    try {
      return await call<JoinReply>(client, 'Join', req, Math.min(30_000, Math.max(1000, timeoutMs - (Date.now() - start))));
    } catch (e) {
      const err = e as grpc.ServiceError;
      // Refusals are final; an absent coordinator or a long-poll that timed out is retried until the join deadline.
      if (err.code !== grpc.status.UNAVAILABLE && err.code !== grpc.status.DEADLINE_EXCEEDED) {
        throw new Error(`coordinator refused this worker (${statusName(err.code)}): ${err.details}`);
      }
      if (Date.now() - start > timeoutMs) throw new Error(`could not join the coordinator within ${timeoutMs} ms: ${err.details}`);
      if (err.code === grpc.status.UNAVAILABLE) log.warn({ retryInMs: backoff, detail: err.details }, 'coordinator not reachable yet');
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 2000);
    }
  }
}

export async function runWorker(config: TrainConfig, extra: Record<string, unknown>): Promise<number> {
  exitWhenParentGoes();
  let logger = createLogger({ role: 'worker' });
  const coordinator = String(extra.coordinator);
  const advertise = String(extra.advertise);
  const workerId = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  await initBackend(config.backend, logger);

  const bindHost = advertise === '127.0.0.1' || advertise === 'localhost' ? '127.0.0.1' : '0.0.0.0';
  const collective = await Collective.listen({
    host: bindHost, port: Number(extra.port ?? 0), jobId: 'gan-train', logger, opTimeoutMs: config.opTimeoutMs, wire: config.wire,
    credentials: collectiveCredentials,
  });
  const port = collective.address.slice(collective.address.lastIndexOf(':') + 1);
  const address = `${advertise}:${port}`;
  const client = new (coordinatorPackage().Coordinator)(coordinator, channelCredentials());
  let hb: HeartbeatThread | null = null;
  let rank = -1;
  let step = 0;
  let generation = 0;
  const leave = async (failed: boolean, reason: string) => {
    try {
      await call(client, 'Leave', { worker_id: workerId, generation, failed, reason, step }, 3000);
    } catch (e) {
      logger.warn({ err: (e as Error).message }, 'could not tell the coordinator that this worker left');
    }
  };

  try {
    const reply = await joinWithRetry(
      client,
      { worker_id: workerId, advertise_address: address, config_fingerprint: fingerprint(config), config_json: JSON.stringify(config) },
      Number(extra.joinTimeoutMs ?? 300_000),
      logger,
    );
    rank = reply.rank;
    generation = reply.generation;
    logger = createLogger({ role: 'worker', rank });
    logger.info({ worldSize: reply.world_size, generation, peers: reply.peers, jobId: reply.job_id }, 'joined');
    collective.setGroup({ rank, worldSize: reply.world_size, peers: reply.peers, generation });

    let stopRequested = false;
    let fatal: Error | null = null;
    const onEvent = (e: HeartbeatEvent) => {
      if (e.type === 'stop' && !e.failed) {
        stopRequested = true;
        return;
      }
      fatal = new Error(e.type === 'lost' ? e.reason : `run stopped by the coordinator: ${e.reason}`);
      logger.error({ reason: fatal.message }, 'stopping this worker');
      // Peers may be gone: a collective op in flight would only end at its deadline, so leave now.
      void leave(true, fatal.message).finally(() => process.exit(1));
    };
    hb = new HeartbeatThread({
      coordinator, workerId, generation, heartbeatMs: reply.heartbeat_ms || config.heartbeatMs,
      lostAfterMs: Math.max(5000, 5 * config.heartbeatMs), onEvent,
    });

    const result = await train({
      config,
      logger,
      reducer: collectiveReducer(collective, rank, reply.world_size),
      stopRequested: () => stopRequested,
      onStep: (r) => {
        step = r.step;
        hb?.setStep(r.step);
        client.ReportStep({ worker_id: workerId, generation, rank, ...r }, { deadline: new Date(Date.now() + 5000) }, () => {});
      },
    });
    if (fatal) throw fatal;
    logger.info({ step: result.step, digest: result.digest }, 'worker finished');
    await leave(false, result.stoppedEarly ? 'stopped' : 'finished');
    return 0;
  } catch (e) {
    const msg = (e as Error).message;
    logger.error({ rank, step, err: msg }, 'worker failed');
    await leave(true, msg);
    throw e;
  } finally {
    await hb?.close();
    client.close();
    await collective.close();
  }
}
