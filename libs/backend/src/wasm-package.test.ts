// wasmNamespace finds tfjs-backend-wasm's exports as Node's import() gives them and as a code-splitting bundler
// does (the CommonJS module as the default export alone); anything else is a one-line error.
// Run: node tools/run-tests.mjs libs/backend wasm-package
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wasmNamespace, wasmPackage } from './wasm-package';

test('the named exports, directly or under default; otherwise one line', async () => {
  const real = await wasmPackage();
  assert.equal(typeof real.setThreadsCount, 'function');
  assert.equal(wasmNamespace(real), real);
  assert.equal(wasmNamespace({ default: real }), real);
  assert.throws(() => wasmNamespace({ default: {} }), /^Error: @tensorflow\/tfjs-backend-wasm has no setWasmPaths export/);
  assert.throws(() => wasmNamespace(null), /no setWasmPaths export/);
});
