// Builds what the installable package runs and types: the three apps (cli, coordinator, worker) and the API
// (libs/api) as JavaScript bundles (tools/build.mjs: esbuild, npm packages external), and the API's declarations
// (tsc over every lib, tsconfig.types.json) with the workspace's `@gan/<lib>` specifiers and the extensionless
// relative ones rewritten to relative `.js` paths (what an ESM consumer's TypeScript follows to the `.d.ts`), so that
// an installed package needs neither TypeScript at run time nor the workspace. `npm pack` runs it (prepack);
// bin/gan-train.mjs runs the bundles when the sources are not there (an installed package).
// Usage: node tools/build-package.mjs
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

for (const dir of ['apps/cli', 'apps/coordinator', 'apps/worker', 'libs/api']) run(process.execPath, ['tools/build.mjs', dir]);

const types = path.join(root, 'dist/types');
fs.rmSync(types, { recursive: true, force: true });
run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.types.json']);

/** Every .d.ts under `dir`. */
function declarations(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? declarations(p) : e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/**
 * The specifier an ESM consumer (moduleResolution node16/nodenext) can follow from `file` to `target` (a path
 * without extension): relative, with the `.js` TypeScript maps to the `.d.ts` beside it, or `/index.js` for a folder.
 */
function esmSpecifier(file, target) {
  const dts = fs.existsSync(`${target}.d.ts`) ? `${target}.js` : fs.existsSync(path.join(target, 'index.d.ts')) ? path.join(target, 'index.js') : null;
  if (!dts) return null;
  const rel = path.relative(path.dirname(file), dts).split(path.sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

let rewritten = 0;
for (const file of declarations(types)) {
  const text = fs.readFileSync(file, 'utf8');
  const out = text.replace(/(from |import\()(['"])([^'"]+)\2/g, (whole, lead, q, spec) => {
    const lib = /^@gan\/([a-z-]+)$/.exec(spec);
    const target = lib ? path.join(types, 'libs', lib[1], 'src', 'index') : spec.startsWith('.') && !/\.m?js$/.test(spec) ? path.resolve(path.dirname(file), spec) : null;
    const esm = target && esmSpecifier(file, target);
    if (!esm) {
      if (lib) throw new Error(`${path.relative(root, file)}: no declarations for ${spec}`);
      return whole;
    }
    rewritten++;
    return `${lead}${q}${esm}${q}`;
  });
  if (out !== text) fs.writeFileSync(file, out);
}
const entry = path.join(types, 'libs/api/src/index.d.ts');
if (!fs.existsSync(entry)) throw new Error(`no ${path.relative(root, entry)} after tsc`);
console.log(`package built: dist/apps/{cli,coordinator,worker}/main.mjs, dist/libs/api/index.mjs, ${path.relative(root, entry)} (${rewritten} imports made ESM-relative)`);
