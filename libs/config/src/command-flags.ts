/** Command-specific flags of the distributed subcommands (the train flags come from @gan/config). */
import type { FieldSpec } from './fields';

const listen: FieldSpec = { type: 'string', help: 'address the coordinator listens on', default: '127.0.0.1:29500', metavar: 'HOST:PORT' };
const joinGraceMs: FieldSpec = { type: 'int', min: 0, help: 'with --min-workers: how long to wait for the rest once enough have joined', default: 10_000, metavar: 'MS' };
const joinTimeoutMs: FieldSpec = { type: 'int', min: 1000, help: 'how long the coordinator waits for workers to join', default: 300_000, metavar: 'MS' };

export const DISTRIBUTED_FLAGS: Record<'local' | 'coordinator' | 'worker', Record<string, FieldSpec>> = {
  local: { joinTimeoutMs, joinGraceMs },
  coordinator: { listen, joinTimeoutMs, joinGraceMs },
  worker: {
    joinTimeoutMs,
    coordinator: { type: 'string', help: 'the coordinator to join', default: '127.0.0.1:29500', metavar: 'HOST:PORT' },
    advertise: { type: 'string', help: 'host or IP other workers reach this one at', default: '127.0.0.1', metavar: 'HOST' },
    port: { type: 'int', min: 0, max: 65535, help: 'port of this worker\'s collective server (0 = any free port)', default: 0 },
    dataPort: {
      type: 'int', min: 0, max: 65535, default: 0,
      help: 'TCP port of this worker\'s gradient data channel, for firewalls (0 = any free port)',
    },
  },
};
