// Every lib's committed WebAssembly modules (libs/<lib>/src/wasm/generated/*.wasm.ts) are exactly what
// tools/build-wasm.mjs compiles from the .wat sources beside them, so neither can change without the other: after
// editing a .wat, run `node tools/build-wasm.mjs` and commit both. What the kernels compute is tested against JS
// reference loops next to their users (libs/collective simd-*.test.ts, libs/model adam-wasm.test.ts).
// Run: node tools/run-tests.mjs test wasm-sources
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

/** The exports of tools/build-wasm.mjs used here. */
interface BuildWasm {
  watDirs(): string[];
  watSources(dir?: string): string[];
  generatedPathFor(wat: string): string;
  exportNameFor(wat: string): string;
  compileWat(wat: string): Promise<Uint8Array<ArrayBuffer>>;
  problems(dir: string): Promise<string[]>;
}
const ROOT = path.resolve(import.meta.dirname, '..');
// The script is plain JavaScript outside the TypeScript projects (node runs it without tsx), so it is imported
// through a computed specifier, untyped, and described by BuildWasm above.
const build = (await import(pathToFileURL(path.join(ROOT, 'tools/build-wasm.mjs')).href)) as BuildWasm;

test('every .wat compiles to a valid module whose generated module is committed and current, with no orphans', async () => {
  const dirs = build.watDirs();
  assert.ok(dirs.includes('libs/collective/src/wasm') && dirs.includes('libs/model/src/wasm'), `wasm folders found: ${dirs}`);
  for (const dir of dirs) assert.deepEqual(await build.problems(dir), [], dir);
});

test('the bytes each generated module hands out are the compiled .wat', async () => {
  for (const wat of build.watSources()) {
    const mod = (await import(pathToFileURL(path.join(ROOT, build.generatedPathFor(wat))).href)) as Record<string, () => Uint8Array>;
    const bytes = mod[build.exportNameFor(wat)];
    assert.equal(typeof bytes, 'function', `${build.generatedPathFor(wat)} exports ${build.exportNameFor(wat)}()`);
    assert.deepEqual(bytes(), await build.compileWat(wat), wat);
  }
});
