// The committed WebAssembly modules (generated/*.wasm.ts) are exactly what scripts/build-wasm.mjs compiles from the
// .wat sources next to this file, so neither can change without the other: after editing a .wat, run
// `node libs/collective/scripts/build-wasm.mjs` and commit both. What the kernels compute is tested against the JS
// reference loops in simd-add.test.ts and simd-wire16.test.ts.
// Run: node tools/run-tests.mjs libs/collective wasm-sources
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { simdAddWasm } from './generated/simd-add.wasm';
import { simdWire16Wasm } from './generated/simd-wire16.wasm';

/** The exports of scripts/build-wasm.mjs used here. */
interface BuildWasm {
  watSources(): string[];
  generatedPathFor(wat: string): string;
  compileWat(wat: string): Promise<Uint8Array<ArrayBuffer>>;
  renderModule(wat: string, bytes: Uint8Array): string;
  readGenerated(wat: string): string | null;
  orphans(): string[];
}
// The script is plain JavaScript outside this project's TypeScript sources (node runs it without tsx), so it is
// imported through a computed specifier, untyped, and described by BuildWasm above.
const scriptUrl = pathToFileURL(path.resolve(import.meta.dirname, '../../scripts/build-wasm.mjs')).href;
const build = (await import(scriptUrl)) as BuildWasm;

/** What the runtime imports, by source: a .wat added without an entry here fails the test that reads this. */
const IMPORTED: Record<string, () => Uint8Array> = {
  'libs/collective/src/wasm/simd-add.wat': simdAddWasm,
  'libs/collective/src/wasm/simd-wire16.wat': simdWire16Wasm,
};

test('every .wat compiles to a valid module, and its generated module is what build-wasm.mjs writes', async () => {
  const wats = build.watSources();
  assert.ok(wats.length > 0, 'no .wat sources found');
  for (const wat of wats) {
    const bytes = await build.compileWat(wat);
    assert.ok(WebAssembly.validate(bytes), `${wat} compiles to an invalid module`);
    const committed = build.readGenerated(wat);
    assert.ok(committed !== null, `${build.generatedPathFor(wat)} is missing: run node libs/collective/scripts/build-wasm.mjs`);
    assert.equal(committed, build.renderModule(wat, bytes), `${build.generatedPathFor(wat)} is stale: run node libs/collective/scripts/build-wasm.mjs`);
  }
});

test('the bytes the kernels load are the compiled .wat sources', async () => {
  assert.deepEqual(Object.keys(IMPORTED).sort(), build.watSources(), 'each .wat should be imported by the runtime');
  for (const [wat, bytes] of Object.entries(IMPORTED)) {
    assert.deepEqual(bytes(), await build.compileWat(wat), wat);
  }
});

test('no generated module is left without its .wat source', () => {
  assert.deepEqual(build.orphans(), []);
});
