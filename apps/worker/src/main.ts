/**
 * The worker app, what `gan-train worker` runs (bin/gan-train.mjs routes it here, and `gan-train local` starts it):
 *   npx gan-train worker --coordinator HOST:PORT --advertise HOST --token-file FILE [train flags]
 * Config → logger → collective server → join → train; the wiring is in @gan/distributed, the loop in @gan/training.
 */
import { DISTRIBUTED_COMMANDS } from '@gan/config';
import { commandMain, runWorker } from '@gan/distributed';

commandMain({ name: 'worker', ...DISTRIBUTED_COMMANDS.worker, run: runWorker });
