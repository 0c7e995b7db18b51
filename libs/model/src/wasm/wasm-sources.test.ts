// The committed WebAssembly modules (generated/*.wasm.ts) are exactly what tools/build-wasm.mjs compiles from the
// .wat sources next to this file, so neither can change without the other: after editing a .wat, run
// `node tools/build-wasm.mjs` and commit both. What the kernels compute is tested against the JS reference loops
// in ../adam-wasm.test.ts.
// Run: node tools/run-tests.mjs libs/model wasm-sources
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { adamWasm } from './generated/adam.wasm';

/** The exports of tools/build-wasm.mjs used here. */
interface BuildWasm {
  watSources(dir: string): string[];
  compileWat(wat: string): Promise<Uint8Array<ArrayBuffer>>;
  problems(dir: string): Promise<string[]>;
}
// The script is plain JavaScript outside this project's TypeScript sources (node runs it without tsx), so it is
// imported through a computed specifier, untyped, and described by BuildWasm above.
const scriptUrl = pathToFileURL(path.resolve(import.meta.dirname, '../../../../tools/build-wasm.mjs')).href;
const build = (await import(scriptUrl)) as BuildWasm;
const DIR = 'libs/model/src/wasm';

/** What the runtime imports, by source: a .wat added without an entry here fails the test that reads this. */
const IMPORTED: Record<string, () => Uint8Array> = {
  'libs/model/src/wasm/adam.wat': adamWasm,
};

test('every .wat compiles to a valid module whose generated module is committed and current, with no orphans', async () => {
  assert.deepEqual(await build.problems(DIR), []);
});

test('the bytes the kernels load are the compiled .wat sources', async () => {
  assert.deepEqual(Object.keys(IMPORTED).sort(), build.watSources(DIR), 'each .wat should be imported by the runtime');
  for (const [wat, bytes] of Object.entries(IMPORTED)) {
    assert.deepEqual(bytes(), await build.compileWat(wat), wat);
  }
});
