// Tests for loadProto: every proto in protos/ loads, and the collective service has the expected RPCs.
// Run: node tools/run-tests.mjs libs/proto
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { loadDefinition, loadProto, protosDir, type CollectiveProto } from './index';

test('every proto in protos/ loads', () => {
  const names = fs.readdirSync(protosDir()).filter((f) => f.endsWith('.proto')).map((f) => f.slice(0, -6));
  assert.ok(names.includes('collective'));
  for (const n of names) assert.ok(Object.keys(loadDefinition(n)).length > 0, n);
});

test('collective service exposes Pull (server stream) and Probe (unary)', () => {
  const svc = loadProto<CollectiveProto>('collective').gan.collective.v1.Collective.service;
  assert.equal(svc.Pull.responseStream, true);
  assert.equal(svc.Pull.requestStream, false);
  assert.equal(svc.Probe.responseStream, false);
  assert.equal(svc.Pull.path, '/gan.collective.v1.Collective/Pull');
});

test('a bad proto name is a clear error', () => {
  assert.throws(() => loadProto('no-such-proto'), /proto no-such-proto not found/);
  assert.throws(() => loadProto('../etc'), /invalid proto name/);
});
