#!/usr/bin/env node
// The `gan-train` command: runs the CLI app's TypeScript sources through tsx, so `npx gan-train` works right
// after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../apps/cli/src/main.ts');
