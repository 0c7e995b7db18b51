/**
 * The worker app: `node --import tsx apps/worker/src/main.ts --coordinator HOST:PORT --advertise HOST [train flags]`
 * (the same as `gan-train worker`). Config → logger → collective server → join → train; the wiring is in
 * @gan/distributed, the loop in @gan/training.
 */
import { DISTRIBUTED_FLAGS, parseArgs } from '@gan/config';
import { runWorker } from '@gan/distributed';

const { config, extra } = parseArgs(process.argv.slice(2), { extra: DISTRIBUTED_FLAGS.worker });
runWorker(config, extra).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`worker: error: ${e.message}\n`);
    process.exit(1);
  },
);
