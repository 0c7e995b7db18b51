/**
 * `gan-train coordinator`: config → logger → CoordinatorServer → wait for the run to end. Prints one JSON line
 * `{"event":"listening","address":"HOST:PORT"}` on stdout once bound (the launcher reads it to learn the port).
 * With `--http HOST:PORT` it also serves /metrics and the dashboard (coordinator-http.ts) and prints
 * `{"event":"dashboard","url":"http://HOST:PORT/?token=…"}` on stdout (the URL a browser opens; the launcher logs it).
 * SIGINT/SIGTERM request an orderly stop; exits non-zero when the run failed.
 */
import type { TrainConfig } from '@gan/config';
import { createLogger } from '@gan/telemetry';
import { CoordinatorServer } from './coordinator-server';
import { CoordinatorHttp, parseHttpAddress } from './coordinator-http';
import { credentialsFromFlags } from './credentials-from-flags';
import { exitWhenParentGoes } from './parent-watch';

export async function runCoordinator(config: TrainConfig, extra: Record<string, unknown>): Promise<number> {
  exitWhenParentGoes();
  const logger = createLogger({ role: 'coordinator', format: String(extra.logFormat ?? 'auto') });
  const credentials = credentialsFromFlags(extra);
  if (!credentials.authenticated) logger.warn({}, 'running with --insecure: anyone who reaches this port can stop the run or take it over');
  const server = new CoordinatorServer({
    config, logger, listen: String(extra.listen), joinTimeoutMs: Number(extra.joinTimeoutMs ?? 300_000),
    joinGraceMs: Number(extra.joinGraceMs ?? 10_000), credentials,
  });
  // Checked before anything listens: a bad --http is a one-line error, not a half-started run.
  const web = parseHttpAddress(extra.http) ? new CoordinatorHttp({ coordinator: server, credentials, logger, listen: String(extra.http) }) : null;
  const address = await server.start();
  process.stdout.write(JSON.stringify({ event: 'listening', address }) + '\n');
  if (web) {
    await web.start().catch(async (e) => {
      await server.close();
      throw e;
    });
    process.stdout.write(JSON.stringify({ event: 'dashboard', url: web.browserUrl }) + '\n');
  }
  const onSignal = (sig: string) => server.requestStop(`${sig} received`);
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const r = await server.done;
  logger.info({ failed: r.failed, reason: r.reason }, 'run over');
  await Promise.all([server.close(), web?.close()]);
  return r.failed ? 1 : 0;
}
