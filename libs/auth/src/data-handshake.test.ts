// The data link's challenge-response: each MAC verifies only with the same secret, label and fields.
// Run: node tools/run-tests.mjs libs/auth data-handshake
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkHelloMac, checkWelcomeMac, helloMac, newNonce, welcomeMac, type HelloFields } from './data-handshake';
import { RunSecret } from './run-secret';

test('HELLO and WELCOME MACs: accepted as made, refused for any other field, nonce, label or secret', () => {
  const s = RunSecret.fromText('k'.repeat(64), 't');
  const other = RunSecret.fromText('j'.repeat(64), 't');
  const f: HelloFields = { jobId: s.jobId, generation: 2, rank: 1, serverNonce: newNonce(), clientNonce: newNonce() };
  const hello = helloMac(s, f);
  assert.ok(checkHelloMac(s, f, hello));
  assert.ok(!checkHelloMac(other, f, hello));
  for (const change of [{ generation: 3 }, { rank: 0 }, { jobId: 'x' }, { serverNonce: newNonce() }, { clientNonce: newNonce() }]) {
    assert.ok(!checkHelloMac(s, { ...f, ...change }, hello), JSON.stringify(Object.keys(change)));
  }
  // A short nonce is refused even with a MAC made over it.
  const short = { ...f, clientNonce: Buffer.alloc(2) };
  assert.ok(!checkHelloMac(s, short, helloMac(s, short)));
  // The two directions use different labels: a HELLO cannot be reflected back as a WELCOME.
  assert.ok(!checkWelcomeMac(s, f, hello));
  assert.ok(checkWelcomeMac(s, f, welcomeMac(s, f)));
});
