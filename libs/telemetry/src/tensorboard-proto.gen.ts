// Generates tensorboard-proto.generated.ts from protos/tensorboard/*.proto (the subset of TensorFlow's event.proto
// and summary.proto that TensorBoardWriter writes): the protobufjs JSON descriptor, loaded at run time with
// protobuf.Root.fromJSON, and a TypeScript interface per message. Committed, so that nothing reads a .proto at run
// time (a bundled dist/ has no protos/ folder) and so that @gan/telemetry needs neither gRPC nor @gan/proto, which
// it may not import (eslint.config.mjs). @grpc/proto-loader's generator (libs/proto/scripts/gen.mjs) is not used
// for the same reason: its types import @grpc/proto-loader.
// tensorboard-proto.test.ts checks the committed file equals a fresh generation.
// Run from the repo root after editing a protos/tensorboard/*.proto: node --import tsx libs/telemetry/src/tensorboard-proto.gen.ts
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import protobuf from 'protobufjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..', '..');
export const PROTO_DIR = path.join(ROOT, 'protos', 'tensorboard');
export const GENERATED = path.join(HERE, 'tensorboard-proto.generated.ts');

const TS_SCALAR: Record<string, string> = {
  double: 'number', float: 'number', int32: 'number', uint32: 'number', sint32: 'number', fixed32: 'number',
  sfixed32: 'number', bool: 'boolean', string: 'string', bytes: 'Uint8Array',
  // 64-bit integers are read with longs: Number (decodeEvent), exact up to 2^53: steps and sizes stay far below.
  int64: 'number', uint64: 'number', sint64: 'number', fixed64: 'number', sfixed64: 'number',
};

/** tensorflow.Summary.Value -> SummaryValue: the message's name inside the package, without dots. */
function tsName(t: protobuf.Type): string {
  return t.fullName.replace(/^\.tensorflow\./, '').replace(/\./g, '');
}

function messages(ns: protobuf.NamespaceBase): protobuf.Type[] {
  return ns.nestedArray.flatMap((n) => {
    if (n instanceof protobuf.Type) return [n, ...messages(n)];
    if (n instanceof protobuf.Enum) throw new Error(`${n.fullName}: enums are not supported by tensorboard-proto.gen.ts yet`);
    return n instanceof protobuf.Namespace ? messages(n) : [];
  });
}

function iface(t: protobuf.Type): string {
  const oneofNote = t.oneofsArray.length ? "; a oneof's name says which member is set" : '';
  const lines = [`/** ${t.fullName.slice(1)} as decodeEvent returns it (defaults filled in${oneofNote}). */`];
  lines.push(`export interface ${tsName(t)} {`);
  for (const f of t.fieldsArray) {
    const base = f.resolvedType instanceof protobuf.Type ? tsName(f.resolvedType) : TS_SCALAR[f.type];
    if (!base) throw new Error(`${t.fullName}.${f.name}: type ${f.type} is not supported by tensorboard-proto.gen.ts`);
    const type = f.repeated ? `${base}[]` : base;
    // A oneof member is present only when set; every other field is filled in with its default.
    if (f.partOf) lines.push(`  /** oneof ${f.partOf.name} */`);
    lines.push(`  ${f.name}${f.partOf ? '?' : ''}: ${type};`);
  }
  for (const o of t.oneofsArray) {
    lines.push(`  /** Which member of oneof ${o.name} is set. */`);
    lines.push(`  ${o.name}?: ${o.fieldsArray.map((f) => `'${f.name}'`).join(' | ')};`);
  }
  lines.push('}');
  return lines.join('\n');
}

/** The generated module's text (nothing is written). */
export function generateTensorBoardProto(): string {
  const files = fs.readdirSync(PROTO_DIR).filter((f) => f.endsWith('.proto')).sort();
  if (files.length === 0) throw new Error(`no .proto files in ${PROTO_DIR}`);
  const root = new protobuf.Root();
  // keepCase: the field names stay TensorFlow's (wall_time, simple_value), as in the .proto and the repo's other codecs.
  root.loadSync(files.map((f) => path.join(PROTO_DIR, f)), { keepCase: true });
  root.resolveAll();
  const rel = path.relative(ROOT, PROTO_DIR).split(path.sep).join('/');
  return [
    `// GENERATED from ${files.map((f) => `${rel}/${f}`).join(', ')} by libs/telemetry/src/tensorboard-proto.gen.ts. Do not edit.`,
    '// Regenerate: node --import tsx libs/telemetry/src/tensorboard-proto.gen.ts (tensorboard-proto.test.ts checks it).',
    "import type { INamespace } from 'protobufjs';",
    '',
    '/** The messages of package tensorflow, for protobuf.Root.fromJSON. */',
    `export const TENSORBOARD_PROTO: INamespace = ${JSON.stringify(root.toJSON(), null, 2)};`,
    '',
    ...messages(root).map((t) => `${iface(t)}\n`),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const text = generateTensorBoardProto();
  fs.writeFileSync(GENERATED, text);
  console.log(`wrote ${path.relative(process.cwd(), GENERATED)} (${text.length} bytes)`);
}
