/**
 * Reads a TF.js model from disk — model.json (a graph model from tensorflowjs_converter, or a layers model) and the
 * weight shards its weightsManifest lists — into the io.ModelArtifacts that @tensorflow/tfjs-converter's
 * loadGraphModel and @tensorflow/tfjs-layers' loadLayersModel take through an IOHandler. tfjs-core's own file://
 * handler lives in @tensorflow/tfjs-node, which this project does not need, so Node reads the files itself.
 * Everything is checked before TF.js sees it, so a broken model is one line naming the file and the problem.
 * Not a runnable file; tests: node tools/run-tests.mjs libs/metrics tfjs-model
 */
import fs from 'node:fs';
import path from 'node:path';
import type { io } from '@tensorflow/tfjs-core';

export type ModelFormat = 'graph-model' | 'layers-model';

export interface ModelFiles {
  /** The model.json read. */
  path: string;
  format: ModelFormat;
  artifacts: io.ModelArtifacts;
}

/** Bytes per element as stored in a shard (quantized weights are stored in their quantized dtype). */
function storedBytes(spec: io.WeightsManifestEntry): number | null {
  const q = spec.quantization?.dtype;
  const dtype: string = q ?? spec.dtype;
  const per: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };
  if (!(dtype in per)) return null; // string tensors have no fixed size
  return per[dtype] * spec.shape.reduce((a, b) => a * b, 1);
}

/**
 * @param model a model.json file, or a folder holding one
 * @throws Error (one line) when the file is missing, not JSON, has no modelTopology / weightsManifest of the
 *   expected form, names a missing weight shard, or its shards hold another number of bytes than the manifest says
 */
export function readModelFiles(model: string): ModelFiles {
  let file = path.resolve(model);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'model.json');
  const fail = (problem: string): never => {
    throw new Error(`features model ${file}: ${problem}`);
  };
  if (!fs.existsSync(file)) fail('does not exist (give a TF.js model.json, or the folder holding it)');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return fail(`is not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return fail('is not a JSON object');
  const topology = json.modelTopology as Record<string, unknown> | undefined;
  if (topology === null || typeof topology !== 'object' || Array.isArray(topology)) fail('has no modelTopology object (is it a TF.js model.json?)');
  let format: ModelFormat;
  if (json.format === 'graph-model' || (json.format === undefined && Array.isArray(topology!.node))) format = 'graph-model';
  else if (json.format === 'layers-model' || (json.format === undefined && ('model_config' in topology! || 'class_name' in topology!))) format = 'layers-model';
  else return fail(`has format ${JSON.stringify(json.format)}; expected 'graph-model' or 'layers-model'`);
  if (format === 'graph-model' && !Array.isArray(topology!.node)) fail('is a graph model without modelTopology.node (a GraphDef as JSON)');
  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest)) return fail('has no weightsManifest array');
  const specs: io.WeightsManifestEntry[] = [];
  const shards: Buffer[] = [];
  const dir = path.dirname(file);
  for (const [g, group] of manifest.entries()) {
    if (!group || !Array.isArray(group.paths) || !Array.isArray(group.weights)) fail(`weightsManifest[${g}] needs 'paths' and 'weights' arrays`);
    for (const w of group.weights) {
      if (!w || typeof w.name !== 'string' || !Array.isArray(w.shape) || !w.shape.every((d: unknown) => Number.isInteger(d) && (d as number) >= 0) || typeof w.dtype !== 'string') {
        fail(`weightsManifest[${g}] has a malformed weight entry ${JSON.stringify(w).slice(0, 80)}`);
      }
      specs.push(w);
    }
    let groupBytes = 0;
    for (const p of group.paths) {
      if (typeof p !== 'string' || p.length === 0) fail(`weightsManifest[${g}] has a bad path ${JSON.stringify(p)}`);
      // Shards live beside model.json (tensorflowjs_converter writes them there); never outside that folder.
      const shard = path.resolve(dir, decodeURIComponent(p));
      if (path.relative(dir, shard).startsWith('..')) fail(`weight file '${p}' is outside the model's folder`);
      if (!fs.existsSync(shard)) fail(`weight file ${shard} (listed in weightsManifest) is missing`);
      const b = fs.readFileSync(shard);
      groupBytes += b.length;
      shards.push(b);
    }
    let expected = 0;
    let known = true;
    for (const w of group.weights as io.WeightsManifestEntry[]) {
      const s = storedBytes(w);
      if (s === null) known = false;
      else expected += s;
    }
    if (known && groupBytes !== expected) fail(`weightsManifest[${g}]'s files hold ${groupBytes} bytes; its weights need ${expected}`);
  }
  const all = Buffer.concat(shards);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  const artifacts: io.ModelArtifacts = {
    modelTopology: topology as object,
    format,
    generatedBy: json.generatedBy as string | undefined,
    convertedBy: json.convertedBy as string | null | undefined,
    weightSpecs: specs,
    weightData,
    signature: json.signature as object | undefined,
    userDefinedMetadata: json.userDefinedMetadata as Record<string, object> | undefined,
    modelInitializer: json.modelInitializer as object | undefined,
    initializerSignature: json.initializerSignature as object | undefined,
    trainingConfig: json.trainingConfig as io.TrainingConfig | undefined,
  };
  return { path: file, format, artifacts };
}

/** An IOHandler that hands already-read artifacts to loadGraphModel / loadLayersModel. */
export function artifactsHandler(files: ModelFiles): io.IOHandler {
  return { load: async () => files.artifacts };
}
