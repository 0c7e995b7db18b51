/**
 * `gan-train export --run DIR --format torch [--out FILE]`: a run's newest checkpoint as a PyTorch state_dict in a
 * safetensors file — PyTorch layouts and names for the modules of test/torch/gan_torch.py, so a PyTorch user
 * loads it with one call:
 *     sd, meta = load_safetensors(FILE)            # gan_torch.py; or safetensors.torch.load_file(FILE)
 *     model = GAN.from_config(json.loads(meta['config'])); model.load_state_dict(sd)
 * The metadata carries the model config (`config`, JSON), the `step` and the source checkpoint. Optimizer state is
 * not exported (a PyTorch Adam's state_dict is keyed by parameter index, not name). Not a runnable file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { disposeGan, getFlatBuffers, getFlatWeights, torchStateDict } from '@gan/model';
import { writeSafetensors } from '@gan/checkpoint';
import { loadRun } from './load-run';
import { modelConfigOf } from './run-state';
import type { Log } from './trainer';

export const EXPORT_FORMATS = ['torch'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportResult {
  path: string;
  step: number;
  tensors: number;
  /** The checkpoint that was exported. */
  source: string;
}

/** Where the export goes without --out: beside the run's checkpoints, named after the step. */
function defaultOut(run: string, step: number): string {
  const dir = path.resolve(run);
  const base = path.basename(dir) === 'checkpoints' || path.extname(dir) === '.safetensors' ? path.dirname(dir) : dir;
  return path.join(base, `torch_step_${String(step).padStart(6, '0')}.safetensors`);
}

export async function exportRun(run: string, format: string, logger: Log, opts: { out?: string } = {}): Promise<ExportResult> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new Error(`export: unknown --format '${format}': valid formats are ${EXPORT_FORMATS.join(', ')}`);
  }
  const { st, config, path: source } = await loadRun(run, logger);
  try {
    const { gan } = st;
    const sd = torchStateDict(
      gan,
      { g: getFlatWeights(gan.g), d: getFlatWeights(gan.d), gBuffers: getFlatBuffers(gan.g), dBuffers: getFlatBuffers(gan.d) },
      // Per step G's BatchNorms see one batch (the G phase) and D's three (real, fake, and fake again for G).
      { g: st.step, d: 3 * st.step },
    );
    // --out: a .safetensors file, or a folder that gets the default name.
    const named = opts.out ?? defaultOut(run, st.step);
    const out = path.resolve(named.endsWith('.safetensors') ? named : path.join(named, path.basename(defaultOut(run, st.step))));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    await writeSafetensors(out, sd, {
      format: 'pytorch-state-dict',
      producer: 'gan-train',
      config: JSON.stringify(modelConfigOf(config)),
      step: String(st.step),
      source,
    });
    return { path: out, step: st.step, tensors: sd.length, source };
  } finally {
    disposeGan(st.gan);
  }
}
