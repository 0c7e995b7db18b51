// Regenerates TypeScript types for every protos/*.proto into libs/proto/src/generated/ (committed).
// Usage (from anywhere): node libs/proto/scripts/gen.mjs
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const protosDir = path.join(root, 'protos');
const outDir = path.join(root, 'libs/proto/src/generated');
const protos = fs.readdirSync(protosDir).filter((f) => f.endsWith('.proto')).sort();
if (protos.length === 0) throw new Error(`no .proto files in ${protosDir}`);
const bin = path.join(root, 'node_modules/@grpc/proto-loader/build/bin/proto-loader-gen-types.js');
if (!fs.existsSync(bin)) throw new Error(`proto-loader-gen-types not found at ${bin} (is @grpc/proto-loader installed?)`);
// Files are overwritten, not wiped first, so one person regenerating never deletes another's uncommitted types;
// delete a removed message's file by hand.
fs.mkdirSync(outDir, { recursive: true });
// These options must match LOAD_OPTIONS in libs/proto/src/load.ts so the types describe what loadProto returns.
const args = [bin, '--grpcLib=@grpc/grpc-js', '--keepCase', '--longs=String', '--enums=String', '--defaults',
  // A relative include path keeps this machine's paths out of the generated headers ("Original file: protos/…").
  '--oneofs', '-I', path.relative(root, protosDir), '-O', outDir, ...protos];
const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
if (r.status !== 0) throw new Error(`proto-loader-gen-types failed with status ${r.status}`);
console.log(`generated types for ${protos.join(', ')} into ${path.relative(root, outDir)}`);
