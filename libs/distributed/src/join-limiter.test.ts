// Join admission: the per-host bucket refuses a burst beyond its size, refills at its rate, keeps hosts apart, and
// the cap on held Join calls applies to everyone. A fake clock: no timing in the test.
// Run: node tools/run-tests.mjs libs/distributed join-limiter
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JoinLimiter } from './join-limiter';

test('per-host token bucket and the cap on held Join calls', () => {
  let t = 0;
  const l = new JoinLimiter({ burst: 3, perSecond: 2, maxHosts: 2 }, () => t);
  for (let i = 0; i < 3; i++) assert.equal(l.admit('10.0.0.1:5000', 0, 2), null);
  assert.match(l.admit('10.0.0.1:5001', 0, 2)!, /too many Join calls from this host/);
  assert.equal(l.admit('10.0.0.2:7', 0, 2), null, 'another host has its own bucket');
  t = 500; // half a second at 2/s: one token back
  assert.equal(l.admit('10.0.0.1:5002', 0, 2), null);
  assert.notEqual(l.admit('10.0.0.1:5003', 0, 2), null);
  assert.match(l.admit('10.0.0.3:1', 20, 2)!, /too many workers waiting to join \(20\)/);
  assert.equal(l.refused, 3);
  // ipv6 peers keep their address; only the port is cut
  assert.equal(l.admit('[::1]:4000', 0, 2), null);
});
