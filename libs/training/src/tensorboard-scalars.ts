// The TensorBoard tags of a metrics.jsonl row (trainer.ts writes both): grouped the way TensorBoard's Scalars
// dashboard groups tags, by the part before '/' (loss/d and loss/g on one card), with the names GAN papers and
// PyTorch's DCGAN example print (D(x), D(G(z))). Tested in tensorboard-scalars.test.ts:
// node --import tsx --test libs/training/src/tensorboard-scalars.test.ts

/** metrics.jsonl field -> TensorBoard tag. */
export const TENSORBOARD_TAGS: Readonly<Record<string, string>> = {
  d_loss: 'loss/d',
  g_loss: 'loss/g',
  // With hinge and wgan these are the critic's raw mean scores, not probabilities (README, objectives).
  d_real: 'D(x)',
  d_fake: 'D(G(z))',
  step_ms: 'time/step_ms',
  compute_ms: 'time/compute_ms',
  allreduce_ms: 'time/allreduce_ms',
  data_wait_ms: 'time/data_wait_ms',
  other_ms: 'time/other_ms',
  world_size: 'world_size',
  samples_per_s: 'throughput/samples_per_s',
};

/**
 * The scalars of one metrics row under their TensorBoard tags. `step` is the x axis, not a scalar; a numeric
 * field with no tag above keeps its own name, so a field added to the row later still reaches TensorBoard.
 */
export function tensorboardScalars(row: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k === 'step' || typeof v !== 'number') continue;
    out[TENSORBOARD_TAGS[k] ?? k] = v;
  }
  return out;
}
