// Loads a .proto from the repository's protos/ folder at runtime (through @grpc/proto-loader) and returns the
// grpc-js package object or the raw package definition. Generic over proto files: `loadProto('collective')`.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Must match the flags in scripts/gen.mjs so the generated types describe these objects. */
export const LOAD_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

let cachedDir: string | undefined;

/**
 * The protos/ directory. Found by walking up from this file (works from libs/proto/src and from a bundle in
 * dist/...); GAN_PROTOS_DIR overrides it.
 */
export function protosDir(): string {
  if (cachedDir) return cachedDir;
  const fromEnv = process.env.GAN_PROTOS_DIR;
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) throw new Error(`GAN_PROTOS_DIR=${fromEnv} does not exist`);
    return (cachedDir = fromEnv);
  }
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'protos');
    if (fs.existsSync(path.join(candidate, 'collective.proto')) || fs.existsSync(path.join(candidate, 'coordinator.proto'))) {
      return (cachedDir = candidate);
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('protos/ directory not found above libs/proto; set GAN_PROTOS_DIR');
    dir = up;
  }
}

/** Absolute path of protos/<name>.proto; `name` without extension. */
export function protoPath(name: string): string {
  if (!/^[a-z0-9_-]+$/i.test(name)) throw new Error(`invalid proto name ${JSON.stringify(name)}`);
  const p = path.join(protosDir(), `${name}.proto`);
  if (!fs.existsSync(p)) throw new Error(`proto ${name} not found: ${p} does not exist`);
  return p;
}

const definitions = new Map<string, protoLoader.PackageDefinition>();

/** The proto-loader package definition of protos/<name>.proto (cached): service definitions keyed by full name. */
export function loadDefinition(name: string): protoLoader.PackageDefinition {
  let def = definitions.get(name);
  if (!def) {
    def = protoLoader.loadSync(protoPath(name), { ...LOAD_OPTIONS, includeDirs: [protosDir()] });
    definitions.set(name, def);
  }
  return def;
}

/**
 * The grpc-js package object of protos/<name>.proto. Pass the generated ProtoGrpcType as T for typed clients:
 * `loadProto<CollectiveProto>('collective').gan.collective.v1.Collective`.
 */
export function loadProto<T = grpc.GrpcObject>(name: string): T {
  return grpc.loadPackageDefinition(loadDefinition(name)) as unknown as T;
}
