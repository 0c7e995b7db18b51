// Builds one project: bundles its src/index.ts (or src/main.ts for apps) with esbuild into dist/<dir>/, keeping
// npm packages external. Usage: node tools/build.mjs <project-dir>
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const entry = ['src/main.ts', 'src/index.ts'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
if (!entry) throw new Error(`no src/main.ts or src/index.ts in ${dir}`);
await build({
  entryPoints: [entry],
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
  outfile: path.join('dist', dir, path.basename(entry).replace(/\.ts$/, '.mjs')),
  logLevel: 'warning',
});
