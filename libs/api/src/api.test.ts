// The API refuses what the CLI refuses, before it starts anything: an unknown or mistyped option names itself, an
// unknown command flag lists the known ones. (test/package.test.ts runs the API for real from the installed package.)
// Run: node tools/run-tests.mjs libs/api
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, launchLocal, runWorker, train } from './index';

test('bad options are refused with a message that names them', async () => {
  await assert.rejects(train({ stepz: 3 } as never), (e: Error) => e instanceof ConfigError && /stepz/.test(e.message));
  await assert.rejects(train({ steps: -1 }), (e: Error) => e instanceof ConfigError && /steps/.test(e.message));
  await assert.rejects(train({ model: 'mlp', minWorkers: 3, workers: 2 }), /minWorkers|min-workers/);
});

test('unknown command flags are refused, naming the known ones', async () => {
  await assert.rejects(launchLocal({ workers: 2 }, { bogus: 1 }), /local: unknown flag 'bogus' \(known: .*logFormat/);
  await assert.rejects(runWorker({}, { listen: 'x' }), /worker: unknown flag 'listen'/);
});
