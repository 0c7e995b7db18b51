// Builds one project: bundles its src/index.ts (or src/main.ts for apps) with esbuild into dist/<dir>/, keeping
// npm packages external. Usage: node tools/build.mjs <project-dir>
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const entry = ['src/main.ts', 'src/index.ts'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
if (!entry) throw new Error(`no src/main.ts or src/index.ts in ${dir}`);
/**
 * Worker-thread entries an app starts by file name, bundled beside its main.mjs: a bundle has no TypeScript to hand
 * a thread (libs/distributed heartbeat-thread.ts looks for heartbeat-worker.mjs beside itself).
 */
const THREADS = { 'apps/worker': ['libs/distributed/src/heartbeat-worker.ts'] };
const threads = THREADS[dir.replace(/\/+$/, '')] ?? [];
await build({
  entryPoints: [entry, ...threads].map((f) => ({ in: f, out: path.basename(f, '.ts') })),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  // Workspace libs are bundled in (they resolve to .ts sources); third-party packages stay in node_modules.
  plugins: [{
    name: 'bundle-workspace',
    setup(b) {
      b.onResolve({ filter: /^@gan\// }, (a) => ({ path: path.resolve('libs', a.path.slice(5), 'src/index.ts') }));
    },
  }],
  outdir: path.join('dist', dir),
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
});
