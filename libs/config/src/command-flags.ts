/** Command-specific flags of the distributed subcommands (the train flags come from @gan/config). */
import type { FieldSpec } from './fields';

const listen: FieldSpec = { type: 'string', help: 'address the coordinator listens on', default: '127.0.0.1:29500', metavar: 'HOST:PORT' };
const joinGraceMs: FieldSpec = { type: 'int', min: 0, help: 'with --min-workers: how long to wait for the rest once enough have joined', default: 10_000, metavar: 'MS' };
/** The coordinator's HTTP side: Prometheus /metrics and the live dashboard (@gan/distributed coordinator-http.ts). */
const httpHelp = 'serve Prometheus /metrics and a live dashboard on HOST:PORT (port 0 = a free one; behind the run token)';
const joinTimeoutMs: FieldSpec = { type: 'int', min: 1000, help: 'how long the coordinator waits for workers to join', default: 300_000, metavar: 'MS' };

/** The run's credentials (@gan/auth): every process of a run gets the same secret; TLS files are per machine. */
const SECURITY: Record<string, FieldSpec> = {
  tokenFile: {
    type: 'string', nullable: true, metavar: 'FILE',
    help: 'file holding the run secret, the same on every machine (make one with `gan-train token --out FILE`; or set GAN_TOKEN / GAN_TOKEN_FILE)',
  },
  insecure: { type: 'boolean', default: false, help: 'run without a run secret: anyone who reaches a port can stop the run or read gradients' },
  tlsCert: { type: 'string', nullable: true, metavar: 'FILE', help: 'PEM certificate of this process for mutual TLS on every connection (with --tls-key, --tls-ca)' },
  tlsKey: { type: 'string', nullable: true, metavar: 'FILE', help: 'PEM private key of --tls-cert' },
  tlsCa: { type: 'string', nullable: true, metavar: 'FILE', help: 'PEM CA that signed every process\'s certificate' },
};
const LOCAL_SECURITY: Record<string, FieldSpec> = { tlsCert: SECURITY.tlsCert, tlsKey: SECURITY.tlsKey, tlsCa: SECURITY.tlsCa };

/** The values of --log-format (@gan/telemetry's LOG_FORMATS: the two libs may not import each other). */
export const LOG_FORMAT_VALUES = ['auto', 'pretty', 'json'] as const;

/** How a process prints its logs: every command that logs takes these (`gan-train local` gives its children json). */
export const LOG_FLAGS: Record<string, FieldSpec> = {
  logFormat: {
    type: 'enum', values: LOG_FORMAT_VALUES, default: 'auto',
    help: 'log lines on stderr: readable one-liners on a terminal and JSON otherwise (auto), or always pretty or json',
  },
};

export const DISTRIBUTED_FLAGS: Record<'local' | 'coordinator' | 'worker', Record<string, FieldSpec>> = {
  // `local` makes a fresh run secret and hands it to its children through their environment.
  local: {
    joinTimeoutMs, joinGraceMs, ...LOCAL_SECURITY, ...LOG_FLAGS,
    http: { type: 'string', default: '127.0.0.1:0', metavar: 'HOST:PORT', help: `${httpHelp}; 'off' to disable` },
  },
  coordinator: {
    listen, joinTimeoutMs, joinGraceMs, ...SECURITY, ...LOG_FLAGS,
    http: { type: 'string', nullable: true, metavar: 'HOST:PORT', help: `${httpHelp}; default off` },
  },
  worker: {
    joinTimeoutMs,
    ...SECURITY,
    bind: {
      type: 'string', nullable: true, metavar: 'ADDR',
      help: 'address this worker\'s collective and data servers listen on (default: --advertise when it is an IP address, else 0.0.0.0)',
    },
    coordinator: { type: 'string', help: 'the coordinator to join', default: '127.0.0.1:29500', metavar: 'HOST:PORT' },
    advertise: { type: 'string', help: 'host or IP other workers reach this one at', default: '127.0.0.1', metavar: 'HOST' },
    port: { type: 'int', min: 0, max: 65535, help: 'port of this worker\'s collective server (0 = any free port)', default: 0 },
    dataPort: {
      type: 'int', min: 0, max: 65535, default: 0,
      help: 'TCP port of this worker\'s gradient data channel, for firewalls (0 = any free port)',
    },
    // A name, not a rank: ranks are the coordinator's to assign each generation (rank 0 = the newest commit).
    workerId: {
      type: 'string', nullable: true, metavar: 'NAME',
      help: 'stable name of this worker in logs, e.g. its index in a Kubernetes Indexed Job (default: the hostname); not a rank',
    },
    ...LOG_FLAGS,
  },
};

/** Summaries of the distributed commands, for `gan-train --help` (the CLI lists them; apps/coordinator and apps/worker run them). */
export const DISTRIBUTED_COMMANDS: Record<'coordinator' | 'worker', { summary: string; usage: string }> = {
  coordinator: { summary: 'run the control plane of a multi-machine job', usage: 'gan-train coordinator --listen HOST:PORT --workers N --token-file FILE [train options]' },
  worker: { summary: 'run one worker: joins the coordinator, trains its shard', usage: 'gan-train worker --coordinator HOST:PORT --advertise HOST --token-file FILE [train options]' },
};
