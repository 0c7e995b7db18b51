// The run token on a real gRPC server over 127.0.0.1: calls without it or with a wrong one end UNAUTHENTICATED
// before the handler runs, the right one passes, and refusals are logged once per host.
// Run: node tools/run-tests.mjs libs/auth rpc-auth
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { after, test } from 'node:test';
import { RunCredentials } from './run-credentials';
import { RunSecret } from './run-secret';

const raw = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const SERVICE: grpc.ServiceDefinition = {
  Echo: { path: '/t.T/Echo', requestStream: false, responseStream: false, requestSerialize: raw.serialize, requestDeserialize: raw.deserialize, responseSerialize: raw.serialize, responseDeserialize: raw.deserialize },
};
const Client = grpc.makeGenericClientConstructor(SERVICE, 'T');
const servers: grpc.Server[] = [];
after(() => servers.forEach((s) => s.forceShutdown()));

async function serve(creds: RunCredentials) {
  const warnings: string[] = [];
  let handled = 0;
  const { options, gate } = creds.grpcServerOptions({ warn: (_o, m) => warnings.push(m) }, 'test server', 1024);
  const server = new grpc.Server(options);
  servers.push(server);
  server.addService(SERVICE, { Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => { handled++; cb(null, call.request); } });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', creds.grpcServerCredentials(), (e, p) => (e ? rej(e) : res(p))));
  return { port, warnings, gate, handled: () => handled };
}

function echo(port: number, creds: RunCredentials, body = Buffer.from('hi')): Promise<{ code: number; details: string; body?: Buffer }> {
  const c = new Client(`127.0.0.1:${port}`, creds.grpcChannelCredentials(), creds.grpcClientOptions());
  return new Promise((res) => {
    (c as any).Echo(body, { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null, r?: Buffer) => {
      c.close();
      res(err ? { code: err.code, details: err.details } : { code: 0, details: '', body: r });
    });
  });
}

test('no token and a wrong token are UNAUTHENTICATED before the handler; the right token passes', async () => {
  const secret = RunSecret.fromText('s'.repeat(64), 't');
  const s = await serve(RunCredentials.of(secret));
  const none = await echo(s.port, RunCredentials.insecure());
  assert.equal(none.code, grpc.status.UNAUTHENTICATED);
  assert.equal(none.details, 'missing or wrong run token');
  const wrong = await echo(s.port, RunCredentials.of(RunSecret.fromText('w'.repeat(64), 't')));
  assert.equal(wrong.code, grpc.status.UNAUTHENTICATED);
  assert.equal(s.handled(), 0);
  const ok = await echo(s.port, RunCredentials.of(secret));
  assert.equal(ok.code, 0);
  assert.equal(ok.body!.toString(), 'hi');
  assert.equal(s.handled(), 1);
  assert.equal(s.gate!.refused, 2);
  assert.equal(s.warnings.length, 1, 'one log line for the one refused host');
});

test('the receive cap refuses an oversized message with RESOURCE_EXHAUSTED, before or after the token check', async () => {
  const secret = RunSecret.fromText('s'.repeat(64), 't');
  const s = await serve(RunCredentials.of(secret));
  const big = await echo(s.port, RunCredentials.of(secret), Buffer.alloc(64 * 1024));
  assert.equal(big.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.equal(s.handled(), 0);
});

test('fromOptions: no secret without --insecure, --insecure with a secret, and partial TLS flags are one-line errors', () => {
  assert.throws(() => RunCredentials.fromOptions({}, {}), /^Error: no run secret: pass --token-file/);
  assert.throws(() => RunCredentials.fromOptions({ insecure: true }, { GAN_TOKEN: 'x'.repeat(40) }), /--insecure contradicts the run secret from GAN_TOKEN/);
  assert.throws(() => RunCredentials.fromOptions({ tlsCert: 'a' }, { GAN_TOKEN: 'x'.repeat(40) }), /TLS needs all three/);
  assert.equal(RunCredentials.fromOptions({ insecure: true }, {}).authenticated, false);
  const c = RunCredentials.fromOptions({}, { GAN_TOKEN: 'x'.repeat(40) });
  assert.ok(c.authenticated && !c.tls);
  assert.equal(RunCredentials.fromTransfer(c.transfer()).jobId('none'), c.jobId('none'));
});
