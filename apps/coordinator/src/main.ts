/**
 * The coordinator app, what `gan-train coordinator` runs (bin/gan-train.mjs routes it here):
 *   npx gan-train coordinator --listen HOST:PORT --workers N --token-file FILE [train flags]
 * Config → logger → server → bind; the logic is in @gan/distributed.
 */
import { DISTRIBUTED_COMMANDS } from '@gan/config';
import { commandMain, runCoordinator } from '@gan/distributed';

commandMain({ name: 'coordinator', ...DISTRIBUTED_COMMANDS.coordinator, run: runCoordinator });
