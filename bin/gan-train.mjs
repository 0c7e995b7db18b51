#!/usr/bin/env node
// The `gan-train` command: runs the apps' TypeScript sources through tsx, so `npx gan-train` works right after
// `npm ci` with no build step. `coordinator` and `worker` are their own apps (apps/coordinator, apps/worker: what
// `gan-train local` starts too); every other command is the CLI app's.
import { register } from 'tsx/esm/api';

register();
const APPS = { coordinator: '../apps/coordinator/src/main.ts', worker: '../apps/worker/src/main.ts' };
await import(APPS[process.argv[2]] ?? '../apps/cli/src/main.ts');
