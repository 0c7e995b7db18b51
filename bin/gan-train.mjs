#!/usr/bin/env node
// The `gan-train` command. In the repository it runs the apps' TypeScript sources through tsx, so `npx gan-train`
// works right after `npm ci` with no build step; in an installed package (npm pack → npm install -g), where only
// the bundles of tools/build-package.mjs are shipped, it runs those, with no TypeScript at run time.
// `coordinator` and `worker` are their own apps (apps/coordinator, apps/worker: what `gan-train local` starts too);
// every other command is the CLI app's.
import fs from 'node:fs';

const app = { coordinator: 'coordinator', worker: 'worker' }[process.argv[2]] ?? 'cli';
const source = new URL(`../apps/${app}/src/main.ts`, import.meta.url);
if (fs.existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL(`../dist/apps/${app}/main.mjs`, import.meta.url).href);
}
