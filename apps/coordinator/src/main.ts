/**
 * The coordinator app: `node --import tsx apps/coordinator/src/main.ts --listen HOST:PORT --workers N [train flags]`
 * (the same as `gan-train coordinator`). Config → logger → server → bind; the logic is in @gan/distributed.
 */
import { DISTRIBUTED_FLAGS, parseArgs } from '@gan/config';
import { runCoordinator } from '@gan/distributed';

const { config, extra } = parseArgs(process.argv.slice(2), { extra: DISTRIBUTED_FLAGS.coordinator });
runCoordinator(config, extra).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`coordinator: error: ${e.message}\n`);
    process.exit(1);
  },
);
