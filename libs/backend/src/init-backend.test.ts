// Tests for initBackend: the auto order's fallback (with simulated tensorflow/webgpu failures), explicit choices,
// error messages, and real loads of wasm and cpu. Run: node tools/run-tests.mjs libs/backend init-backend
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { backendInfo, initBackend, type BackendLog, type BackendRequest } from './index';
import { gradientsRegistered } from './gradients';
import { wasmConvKernelsRegistered } from './wasm-conv-kernels';
import { wasmReduceKernelsRegistered } from './wasm-reduce-kernels';

function recordingLog(): BackendLog & { lines: { obj: object; msg: string }[] } {
  const lines: { obj: object; msg: string }[] = [];
  return { lines, info: (obj, msg) => lines.push({ obj, msg }), warn: (obj, msg) => lines.push({ obj, msg }) };
}

const failing = (why: string) => async (): Promise<string> => {
  throw new Error(why);
};

test('auto falls back past tensorflow and webgpu to wasm and says why', async () => {
  const log = recordingLog();
  const choice = await initBackend('auto', log, {
    loaders: { tensorflow: failing('Cannot find package @tensorflow/tfjs-node'), webgpu: failing('no WebGPU adapter') },
  });
  assert.equal(choice.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.deepEqual(choice.tried.map((t) => t.name), ['tensorflow', 'webgpu']);
  assert.match(choice.tried[0].error, /tfjs-node/);
  assert.match(choice.reason, /no WebGPU adapter/);
  assert.equal(log.lines.length, 1);
  // One readable line: what runs, how, and why.
  assert.match(log.lines[0].msg, /^backend wasm \((SIMD|no SIMD), 1 thread\); auto, after tensorflow, webgpu did not load$/);
  assert.match((log.lines[0].obj as { reason: string }).reason, /no WebGPU adapter/);
  assert.ok(wasmConvKernelsRegistered(), 'wasm conv gradient kernels are registered');
  assert.ok(wasmReduceKernelsRegistered(), 'wasm float64-accumulating Sum/Mean are registered');
  assert.ok(gradientsRegistered(), 'tfjs-core gradients are registered');
  const info = backendInfo();
  assert.equal(info.name, 'wasm');
  assert.equal(typeof info.threads, 'number');
  assert.equal(typeof info.simd, 'boolean');
});

test("a backend that fails after re-registering tfjs-core's gradients (as importing tfjs-node does) leaves ours on top", async () => {
  await initBackend('wasm');
  const ours = tf.getGradient('LeakyRelu')!.gradFunc;
  const theirs: tf.GradConfig = { kernelName: 'LeakyRelu', inputsToSave: ['x'], gradFunc: (dy) => ({ x: () => dy as tf.Tensor }) };
  const tensorflowThatFails = async (): Promise<string> => {
    tf.registerGradient(theirs);
    throw new Error('The specified module could not be found: tfjs_binding.node');
  };
  const choice = await initBackend('auto', undefined, { loaders: { tensorflow: tensorflowThatFails, webgpu: failing('no GPU') } });
  assert.equal(choice.name, 'wasm');
  assert.equal(tf.getGradient('LeakyRelu')!.gradFunc, ours, "@gan/backend's LeakyRelu gradient is the one registered");
});

test('auto with real loaders picks wasm here (no tfjs-node, no GPU)', async (t) => {
  const choice = await initBackend('auto');
  if (choice.name !== 'wasm') t.diagnostic(`this machine has ${choice.name}; the fallback assertion below still holds`);
  assert.notEqual(choice.name, 'cpu', 'conv models must not default to cpu when wasm loads');
  for (const tr of choice.tried) assert.ok(tr.error.length > 0);
});

test('auto skips a failing wasm only to reach cpu', async () => {
  const choice = await initBackend('auto', undefined, {
    loaders: { tensorflow: failing('x'), webgpu: failing('y'), wasm: failing('z') },
  });
  assert.equal(choice.name, 'cpu');
  assert.deepEqual(choice.tried.map((t) => t.name), ['tensorflow', 'webgpu', 'wasm']);
});

test('explicit cpu works and runs a conv gradient', async () => {
  const choice = await initBackend('cpu');
  assert.equal(choice.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.deepEqual(choice.tried, []);
  const g = tf.tidy(() => tf.grad((f: tf.Tensor) => tf.sum(tf.conv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, f as tf.Tensor4D, 1, 'same')))(tf.ones([2, 2, 1, 1]) as tf.Tensor4D));
  assert.deepEqual(g.shape, [2, 2, 1, 1]);
  g.dispose();
});

test('explicit wasm works', async () => {
  const choice = await initBackend('wasm');
  assert.equal(choice.name, 'wasm');
  assert.equal(backendInfo().name, 'wasm');
});

test('an explicit backend that fails to load throws one line naming it and the cause', async (t) => {
  await assert.rejects(
    initBackend('webgpu', undefined, { loaders: { webgpu: failing('no WebGPU adapter (no GPU)\nstack...') } }),
    (e: Error) => /backend 'webgpu' failed to load: no WebGPU adapter/.test(e.message) && !e.message.includes('\n'),
  );
  // The real loaders: tfjs-node has no usable binding here, so that fails with a clear error, not a hang; webgpu
  // fails the same way unless this machine has an adapter (lavapipe, which .ci/run installs when it can).
  await assert.rejects(initBackend('tensorflow'), /backend 'tensorflow' failed to load: .*tfjs-node/);
  const webgpu = await initBackend('webgpu').then(() => null, (e: Error) => e);
  if (webgpu) assert.match(webgpu.message, /^backend 'webgpu' failed to load: [^\n]+$/);
  else {
    t.diagnostic('webgpu loaded: this machine has a WebGPU adapter');
    // The device gets the adapter's storage-buffer limit, not WebGPU's default 8 that tfjs asks for.
    const device = (tf.backend() as unknown as { device: { limits: { maxStorageBuffersPerShaderStage: number } } }).device;
    const webgpuPackage = (await import('webgpu')) as unknown as { create(flags: string[]): { requestAdapter(): Promise<{ limits: { maxStorageBuffersPerShaderStage: number } } | null> } };
    const adapter = await webgpuPackage.create([]).requestAdapter();
    assert.equal(device.limits.maxStorageBuffersPerShaderStage, adapter?.limits.maxStorageBuffersPerShaderStage);
  }
  await tf.setBackend('wasm');
});

test('an unknown backend name lists the valid ones', async () => {
  await assert.rejects(initBackend('cuda' as BackendRequest), /unknown backend 'cuda': valid names are auto, tensorflow, webgpu, wasm, cpu/);
});
