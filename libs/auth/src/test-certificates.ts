/**
 * A throwaway certificate authority and certificates for trying mutual TLS on one machine (tests, a first local
 * try): made with the `openssl` command line, which Node cannot replace (it has no certificate builder). Not for
 * production: a real deployment's certificates come from its own CA.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TlsFiles } from './run-credentials';

/** True when the openssl command is available. */
export function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * In `dir`: a CA (`ca.pem`) and, per name, a certificate signed by it for 127.0.0.1 / localhost
 * (`<name>.pem`, `<name>.key`). Returns the TLS files of each name.
 */
export function makeTestCertificates(dir: string, names: string[]): Record<string, TlsFiles> {
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  fs.mkdirSync(dir, { recursive: true });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=gan-train test CA',
    '-keyout', f('ca.key'), '-out', f('ca.pem'));
  fs.writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  const out: Record<string, TlsFiles> = {};
  for (const name of names) {
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2',
      '-extfile', f('san.ext'), '-out', f(`${name}.pem`));
    out[name] = { cert: f(`${name}.pem`), key: f(`${name}.key`), ca: f('ca.pem') };
  }
  return out;
}
